//! The mailbox keys of a user (docs/file-format.md#aliases-groups-and-quota): `aliases`,
//! `groups` and `mailbox_quota_mb`. Each is managed only when present, like an attribute.

use regex_lite::Regex;
use std::sync::LazyLock;

/// The YAML keys, in the order plans show them.
pub(crate) const MAILBOX_KEYS: [&str; 3] = ["aliases", "groups", "mailbox_quota_mb"];

/// Longest address (`EmailAddress` in the API model).
pub(crate) const EMAIL_MAX_CHARS: usize = 254;
/// Longest group name (`GroupName` in the API model).
pub(crate) const GROUP_NAME_MAX_CHARS: usize = 256;
/// Largest quota the API's `MailboxQuota` (a 32-bit integer) carries.
pub(crate) const QUOTA_MAX_MB: u64 = i32::MAX as u64;

/// The API model's `EmailAddress` pattern, anchored (the service matches the whole value).
pub(crate) const EMAIL_PATTERN: &str = r"^[a-zA-Z0-9._%+-]{1,64}@[a-zA-Z0-9.-]+\.[a-zA-Z-]{2,}$";

static EMAIL: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(EMAIL_PATTERN).ok());

/// Whether `s` is an address the API accepts as an alias: [`EMAIL_PATTERN`], at most
/// [`EMAIL_MAX_CHARS`] characters.
pub(crate) fn is_email_address(s: &str) -> bool {
    s.len() <= EMAIL_MAX_CHARS && EMAIL.as_ref().is_some_and(|re| re.is_match(s))
}

/// Whether `s` may name a group: a `GroupName` (1 to 256 characters from U+0020 to U+00FF),
/// which every group address also is.
pub(crate) fn is_group_reference(s: &str) -> bool {
    let len = s.chars().count();
    (1..=GROUP_NAME_MAX_CHARS).contains(&len)
        && s.chars().all(|c| ('\u{20}'..='\u{ff}').contains(&c))
}

/// One declared alias and where it is written (the file is the user's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredAlias {
    pub address: String,
    pub line: usize,
    pub column: usize,
}

/// The mailbox keys a user (or `defaults`) declares; `None` is unmanaged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DesiredMailbox {
    /// Every address besides the primary one, each once (ignoring case).
    pub aliases: Option<Vec<DesiredAlias>>,
    /// Names or primary addresses of groups, each once (ignoring case).
    pub groups: Option<Vec<String>>,
    /// The quota in MB, at least 1.
    pub quota_mb: Option<u64>,
}

impl DesiredMailbox {
    /// Whether no key is managed.
    pub(crate) fn is_empty(&self) -> bool {
        self.aliases.is_none() && self.groups.is_none() && self.quota_mb.is_none()
    }

    /// `self` over `defaults`: each key the user declares replaces the default one (lists are
    /// not merged). `None` when neither manages a key, so a user costs one pointer.
    pub(crate) fn over(
        own: Option<Box<DesiredMailbox>>,
        defaults: &DesiredMailbox,
    ) -> Option<Box<DesiredMailbox>> {
        if defaults.is_empty() {
            return own;
        }
        let own = own.map(|b| *b).unwrap_or_default();
        Some(Box::new(DesiredMailbox {
            aliases: own.aliases.or_else(|| defaults.aliases.clone()),
            groups: own.groups.or_else(|| defaults.groups.clone()),
            quota_mb: own.quota_mb.or(defaults.quota_mb),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_follow_the_api_pattern() {
        for ok in ["a@b.co", "a.liddell+x@acme-corp.example", "A_%-@x.y.ZZ"] {
            assert!(is_email_address(ok), "{ok}");
        }
        let long_local = format!("{}@acme.example", "a".repeat(65));
        let long = format!("a@{}.example", "b".repeat(250));
        for bad in ["alice", "a@b", "a@b.c", "a b@c.de", "a@@b.co", "@b.co", "a@b.c0", "é@b.co"] {
            assert!(!is_email_address(bad), "{bad}");
        }
        assert!(!is_email_address(&long_local));
        assert!(!is_email_address(&long));
    }

    #[test]
    fn group_references() {
        assert!(is_group_reference("all staff"));
        assert!(is_group_reference("équipe"));
        assert!(!is_group_reference(""));
        assert!(!is_group_reference("a\tb"));
        assert!(!is_group_reference(&"g".repeat(257)));
    }
}
