//! The loaded, validated desired state: what the files declare, with where they declare it.

use super::fields::DesiredFields;
use super::mailbox::DesiredMailbox;
use std::fmt;
use std::sync::Arc;

/// Where something was declared: a file and a 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceLocation {
    /// The path as the user gave it (joined with the directory walked); shared by every user of
    /// the file.
    pub file: Arc<str>,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for SourceLocation {
    /// `file:line`, the form plans show.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// A managed attribute's desired value, as validation builds it ([`DesiredFields`] stores it
/// packed). An unmanaged attribute is simply absent from [`DesiredUser::fields`], so the three
/// states — absent, empty, value — stay distinct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DesiredValue {
    /// `null` or `""`: the live value must be empty.
    Empty,
    /// A non-empty string (text, role, IdP id).
    Text(String),
    /// `hidden_from_global_address_list`.
    Bool(bool),
}

/// How a file names its organization.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OrganizationRef {
    /// `m-` followed by 32 hex digits.
    Id(String),
    /// An alias, resolved through ListOrganizations.
    Alias(String),
}

/// Longest organization alias (`OrganizationName` in the API model).
pub(crate) const ORG_ALIAS_MAX_CHARS: usize = 62;

/// A string that names no organization: neither an id nor a valid alias.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is neither an organization id nor a valid organization alias")]
pub struct InvalidOrganization(pub String);

impl InvalidOrganization {
    /// What an organization reference may be.
    pub(crate) fn allowed() -> String {
        format!(
            "an id is `m-` followed by 32 lowercase hex digits; an alias has 1 to \
             {ORG_ALIAS_MAX_CHARS} letters and digits in groups joined by single `-`, and does \
             not start with `d-`"
        )
    }
}

impl OrganizationRef {
    /// A reference from a file or flag: an organization id, else a valid alias.
    pub fn parse(s: &str) -> Result<OrganizationRef, InvalidOrganization> {
        if OrganizationRef::is_id(s) {
            Ok(OrganizationRef::Id(s.to_string()))
        } else if OrganizationRef::is_alias(s) {
            Ok(OrganizationRef::Alias(s.to_string()))
        } else {
            Err(InvalidOrganization(s.to_string()))
        }
    }
    /// Whether `s` is an organization id: `^m-[0-9a-f]{32}$`.
    pub(crate) fn is_id(s: &str) -> bool {
        s.len() == 34
            && s.starts_with("m-")
            && s[2..].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }
    /// Whether `s` is a valid alias (`OrganizationName`): 1 to 62 characters,
    /// `^(?!d-)([\da-zA-Z]+)([-][\da-zA-Z]+)*$`.
    pub(crate) fn is_alias(s: &str) -> bool {
        !s.is_empty()
            && s.len() <= ORG_ALIAS_MAX_CHARS
            && !s.starts_with("d-")
            && s.split('-')
                .all(|group| !group.is_empty() && group.bytes().all(|b| b.is_ascii_alphanumeric()))
    }
    /// What two references must share to name one organization without asking the directory:
    /// an alias case-folded (aliases resolve case-insensitively), an id as written. An alias and
    /// the id of the same organization differ here; only resolution relates them.
    pub(crate) fn offline_identity(&self) -> String {
        match self {
            OrganizationRef::Id(id) => id.clone(),
            OrganizationRef::Alias(alias) => alias.to_ascii_lowercase(),
        }
    }
    /// The string as written.
    pub(crate) fn as_str(&self) -> &str {
        match self {
            OrganizationRef::Id(s) | OrganizationRef::Alias(s) => s,
        }
    }
}

impl fmt::Display for OrganizationRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One declared user, `defaults` already merged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredUser {
    /// The key as written: a user name, an email address or a user id.
    pub key: String,
    /// Where the key is written.
    pub source: SourceLocation,
    /// The managed attributes; an attribute not here is unmanaged.
    pub fields: DesiredFields,
    /// The managed mailbox keys (aliases, groups, quota); `None` when it manages none.
    pub mailbox: Option<Box<DesiredMailbox>>,
}

/// All users that the files declare for one organization (files may share an organization).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredOrganization {
    pub reference: OrganizationRef,
    /// Where the organization is first named.
    pub source: SourceLocation,
    /// In file order, then declaration order.
    pub users: Vec<DesiredUser>,
}

/// Everything the given paths declare, grouped by organization in order of first appearance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DesiredState {
    /// The files read, in the order read.
    pub files: Vec<String>,
    pub organizations: Vec<DesiredOrganization>,
    /// The users a selection (`--exclude`) left out of `organizations`, grouped the same way.
    /// They are still declared: a live user among them is never reported as unmanaged.
    pub excluded: Vec<DesiredOrganization>,
    /// Whether a selection (`--target`) narrowed `organizations` to some users. The rest of
    /// the directory is then out of view, and unmanaged users are not looked for.
    pub targeted: bool,
}

impl DesiredState {
    /// Number of declared users over all organizations.
    pub(crate) fn user_count(&self) -> usize {
        self.organizations.iter().map(|o| o.users.len()).sum()
    }
}
