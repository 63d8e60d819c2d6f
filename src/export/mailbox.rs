//! The mailbox keys of an exported user — `aliases`, `groups`, `mailbox_quota_mb` — read with one
//! ListAliases, one ListGroupsForEntity and one GetMailboxDetails per user, each only when the
//! export asks for its key. Only an `ENABLED` user has a mailbox: a `DISABLED` one gets no
//! aliases and no quota without a call (it may still belong to groups).

use super::{ExportError, ExportedUser};
use crate::directory::Directory;
use crate::model::live::UserState;

/// Which mailbox keys an export reads: each costs one call per user that has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MailboxReads {
    pub aliases: bool,
    pub groups: bool,
    pub quota: bool,
}

impl MailboxReads {
    /// Attributes only: no call beyond DescribeUser.
    pub const NONE: MailboxReads = MailboxReads { aliases: false, groups: false, quota: false };
    /// Every mailbox key, for a desired-state file that plans clean.
    pub const ALL: MailboxReads = MailboxReads { aliases: true, groups: true, quota: true };
    /// The aliases only, for the routing CSVs.
    pub const ALIASES: MailboxReads = MailboxReads { aliases: true, groups: false, quota: false };

    fn any(self) -> bool {
        self.aliases || self.groups || self.quota
    }
}

/// What was read of a user's mailbox; a key that was not read is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExportedMailbox {
    /// Every address besides the primary one, sorted ignoring case, each once; empty for a user
    /// without a mailbox.
    pub aliases: Option<Vec<String>>,
    /// The names of the groups the user is a direct member of, sorted ignoring case.
    pub groups: Option<Vec<String>>,
    /// The quota in MB; `None` also for a user without a mailbox.
    pub quota_mb: Option<u64>,
}

/// `values` sorted by lower case (then as given, for a stable order), each once ignoring case.
fn sorted_ignoring_case(mut values: Vec<String>) -> Vec<String> {
    values.sort_by_cached_key(|v| (v.to_lowercase(), v.clone()));
    values.dedup_by(|a, b| a.to_lowercase() == b.to_lowercase());
    values
}

/// The aliases of a ListAliases answer: the primary address left out whether or not the answer
/// lists it (services differ), sorted and without repeats.
pub(super) fn aliases_besides_primary(listed: Vec<String>, primary: Option<&str>) -> Vec<String> {
    let primary = primary.map(str::to_lowercase);
    let aliases =
        listed.into_iter().filter(|a| primary.as_deref() != Some(a.to_lowercase().as_str()));
    sorted_ignoring_case(aliases.collect())
}

/// Read the mailbox keys `reads` asks for of `user`, one call per key at most.
pub(super) async fn read_mailbox<D: Directory>(
    directory: &D,
    organization_id: &str,
    user: &ExportedUser,
    reads: MailboxReads,
) -> Result<ExportedMailbox, ExportError> {
    let mut mailbox = ExportedMailbox::default();
    if !reads.any() {
        return Ok(mailbox);
    }
    let failed = |operation: &'static str| {
        let user = user.name.clone();
        move |error| ExportError::Mailbox { operation, user, error }
    };
    let has_mailbox = user.state == UserState::Enabled;
    if reads.aliases {
        mailbox.aliases = Some(if has_mailbox {
            let listed = directory
                .list_aliases(organization_id, &user.user_id)
                .await
                .map_err(failed("ListAliases"))?;
            aliases_besides_primary(listed, user.email.as_deref())
        } else {
            Vec::new()
        });
    }
    if reads.groups {
        let memberships = directory
            .list_groups_for_entity(organization_id, &user.user_id)
            .await
            .map_err(failed("ListGroupsForEntity"))?;
        mailbox.groups =
            Some(sorted_ignoring_case(memberships.into_iter().map(|g| g.name).collect()));
    }
    if reads.quota && has_mailbox {
        let details = directory
            .mailbox_details(organization_id, &user.user_id)
            .await
            .map_err(failed("GetMailboxDetails"))?;
        mailbox.quota_mb = Some(details.quota_mb);
    }
    Ok(mailbox)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn the_primary_is_never_an_alias_whether_listed_or_not() {
        let primary = Some("Alice@acme.example");
        let with = strings(&["b@acme.example", "alice@ACME.example", "A@acme.example"]);
        let without = strings(&["b@acme.example", "A@acme.example"]);
        let expected = strings(&["A@acme.example", "b@acme.example"]);
        assert_eq!(aliases_besides_primary(with, primary), expected);
        assert_eq!(aliases_besides_primary(without, primary), expected);
    }

    #[test]
    fn aliases_sort_ignoring_case_and_repeats_go() {
        let listed = strings(&["z@x.io", "B@x.io", "b@X.io", "a@x.io"]);
        assert_eq!(aliases_besides_primary(listed, None), strings(&["a@x.io", "B@x.io", "z@x.io"]));
    }
}
