//! What the live directory holds, as plain values every layer may use: users as described and
//! listed, their state, organizations. No I/O: the directory client fills them, the plan and
//! the export read them, the emulator stores its users' state with them.

use crate::attr_map::AttrMap;
use crate::attrs::{AttrValue, Attribute};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

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
    pub fn as_str(self) -> &'static str {
        match self {
            UserState::Enabled => "ENABLED",
            UserState::Disabled => "DISABLED",
            UserState::Deleted => "DELETED",
        }
    }
}

/// A user's role (`UserRole`). A value this version does not know is kept as
/// [`Role::Other`], so a directory that grows a new role still reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Role {
    User,
    Resource,
    SystemUser,
    RemoteUser,
    /// Any other value, as the service sent it (`""` when it sent none).
    Other(String),
}

impl Role {
    /// The roles UpdateUser and CreateUser accept, in the order error messages list them.
    pub const SETTABLE: [Role; 2] = [Role::User, Role::RemoteUser];
    /// The API names of [`Role::SETTABLE`].
    pub const SETTABLE_NAMES: [&'static str; 2] = [USER, REMOTE_USER];
    /// Every role the API model lists.
    pub const KNOWN: [Role; 4] = [Role::User, Role::Resource, Role::SystemUser, Role::RemoteUser];

    /// The role with this API name; never fails, an unknown name is [`Role::Other`].
    pub fn parse(name: &str) -> Role {
        match name {
            USER => Role::User,
            RESOURCE => Role::Resource,
            SYSTEM_USER => Role::SystemUser,
            REMOTE_USER => Role::RemoteUser,
            other => Role::Other(other.to_string()),
        }
    }

    /// The API's name of the role (`USER`, `RESOURCE`, `SYSTEM_USER`, `REMOTE_USER`).
    pub fn as_str(&self) -> &str {
        match self {
            Role::User => USER,
            Role::Resource => RESOURCE,
            Role::SystemUser => SYSTEM_USER,
            Role::RemoteUser => REMOTE_USER,
            Role::Other(name) => name,
        }
    }

    /// Whether a request may assign this role: `USER` and `REMOTE_USER` only.
    pub fn is_settable(&self) -> bool {
        matches!(self, Role::User | Role::RemoteUser)
    }

    /// Whether the API model lists this role (settable or not).
    pub fn is_known(&self) -> bool {
        !matches!(self, Role::Other(_))
    }

    /// Whether the API lets anyone update a user of this role: not `SYSTEM_USER` or `RESOURCE`,
    /// whose users WorkMail manages itself. Such users are left out of plans and exports.
    pub fn is_updatable(&self) -> bool {
        !matches!(self, Role::SystemUser | Role::Resource)
    }
}

const USER: &str = "USER";
const RESOURCE: &str = "RESOURCE";
const SYSTEM_USER: &str = "SYSTEM_USER";
const REMOTE_USER: &str = "REMOTE_USER";

impl From<&str> for Role {
    fn from(name: &str) -> Role {
        Role::parse(name)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Role {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Role {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Role, D::Error> {
        String::deserialize(deserializer).map(|name| Role::parse(&name))
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
    pub fn get(&self, attr: Attribute) -> AttrValue {
        self.attributes.get(&attr).cloned().unwrap_or_else(|| attr.empty_value())
    }
    /// The live role.
    pub fn role(&self) -> Role {
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
}

/// One entry of ListUsers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedUser {
    pub user_id: String,
    pub name: String,
    pub state: UserState,
    pub role: Role,
}

/// An organization reference resolved against the live directory: its id, and its alias when
/// the directory told us one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedOrganization {
    pub id: String,
    pub alias: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_an_unknown_one_is_kept() {
        for role in Role::KNOWN {
            assert_eq!(Role::parse(role.as_str()), role);
            assert_eq!(serde_json::to_value(&role).unwrap(), serde_json::json!(role.as_str()));
        }
        let future = Role::parse("GUEST_USER");
        assert_eq!(future, Role::Other("GUEST_USER".into()));
        assert_eq!(future.as_str(), "GUEST_USER");
        assert!(!future.is_known() && !future.is_settable() && future.is_updatable());
        assert_eq!(serde_json::from_str::<Role>("\"REMOTE_USER\"").unwrap(), Role::RemoteUser);
    }

    #[test]
    fn which_roles_may_be_set_and_updated() {
        let settable: Vec<&str> =
            Role::KNOWN.iter().filter(|r| r.is_settable()).map(Role::as_str).collect();
        assert_eq!(settable, Role::SETTABLE_NAMES);
        assert_eq!(Role::SETTABLE.map(|r| r.is_settable()), [true, true]);
        let fixed: Vec<&str> =
            Role::KNOWN.iter().filter(|r| !r.is_updatable()).map(Role::as_str).collect();
        assert_eq!(fixed, ["RESOURCE", "SYSTEM_USER"]);
    }
}
