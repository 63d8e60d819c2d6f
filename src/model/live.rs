//! What the live directory holds, as plain values every layer may use: users as described and
//! listed, their state, organizations. No I/O: the directory client fills them, the plan and
//! the export read them, the emulator stores its users' state with them.

use crate::model::attr_map::AttrMap;
use crate::model::attrs::{AttrValue, Attribute};
use serde::{Deserialize, Serialize};

/// A user's role: declared with the attributes (a desired-state file may set it), and a
/// live value every layer reads.
pub(crate) use crate::model::attrs::Role;

/// A user's state (`EntityState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserState {
    Enabled,
    Disabled,
    Deleted,
}

impl UserState {
    /// The API's name of the state (`ENABLED`, `DISABLED`, `DELETED`).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            UserState::Enabled => "ENABLED",
            UserState::Disabled => "DISABLED",
            UserState::Deleted => "DELETED",
        }
    }
}

/// A user as DescribeUser reports it, every updatable attribute filled in
/// (absent → `""`, or `false` for the boolean).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedUser {
    pub user_id: String,
    pub name: String,
    pub email: Option<String>,
    pub state: UserState,
    /// All 16 attributes; `Role` holds the live role, which may be `SYSTEM_USER` or `RESOURCE`.
    pub attributes: AttrMap<AttrValue>,
}

impl ObservedUser {
    /// The live value of `attr` (empty when not reported).
    pub(crate) fn get(&self, attr: Attribute) -> AttrValue {
        self.attributes.get(&attr).cloned().unwrap_or_else(|| attr.empty_value())
    }
    /// The live role.
    pub(crate) fn role(&self) -> Role {
        Role::parse(
            self.attributes.get(&Attribute::Role).and_then(AttrValue::as_text).unwrap_or(""),
        )
    }
}

/// An organization as ListOrganizations reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationSummary {
    pub id: String,
    pub alias: Option<String>,
    pub state: Option<String>,
    /// The domain of new addresses (`DefaultMailDomain`), when the listing says.
    pub default_mail_domain: Option<String>,
}

/// One entry of ListUsers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedUser {
    pub user_id: String,
    pub name: String,
    /// The primary email address; `None` for a user never registered to WorkMail.
    pub email: Option<String>,
    pub state: UserState,
    pub role: Role,
}

impl ListedUser {
    /// Why this user is beyond management, or `None` when it can be managed: `DELETED` users,
    /// and the `SYSTEM_USER` and `RESOURCE` roles, which the API cannot update. Export leaves
    /// them out and the plan does not count them as unmanaged.
    pub(crate) fn left_out_reason(&self) -> Option<String> {
        if self.state == UserState::Deleted {
            Some("DELETED users cannot be managed".to_string())
        } else if !self.role.is_updatable() {
            Some(format!("role {} cannot be updated through the API", self.role.as_str()))
        } else {
            None
        }
    }
}

/// One group of an organization, as ListGroups reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSummary {
    pub group_id: String,
    pub name: String,
    /// The group's primary address; `None` for a group never registered to WorkMail.
    pub email: Option<String>,
    pub state: UserState,
}

/// Whether a group member is a user or a group (`MemberType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberKind {
    User,
    Group,
}

/// One member of a group, as ListGroupMembers reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMember {
    pub member_id: String,
    pub name: String,
    pub kind: MemberKind,
    pub state: UserState,
}

/// A group an entity belongs to, as ListGroupsForEntity reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMembership {
    pub group_id: String,
    pub name: String,
}

/// A mailbox as GetMailboxDetails reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxDetails {
    /// The quota, in MB.
    pub quota_mb: u64,
    /// What the mailbox holds now, in bytes.
    pub size_bytes: u64,
}

/// An organization reference resolved against the live directory: its id, and its alias when
/// the directory told us one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResolvedOrganization {
    pub id: String,
    pub alias: Option<String>,
}
