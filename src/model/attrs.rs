//! The 16 attributes that UpdateUser can set, declared once. Parsing, the JSON Schema,
//! validation, the diff, rendering and request building all iterate [`Attribute::ALL`].

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// What kind of value an attribute holds, with its limits from the API model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttrKind {
    /// A free-text `UserAttribute`: at most 256 characters, `""` means empty.
    Text,
    /// `HiddenFromGlobalAddressList`: a boolean, never empty.
    Bool,
    /// `Role`: a [`Role`] name; only the settable ones may be written.
    Role,
    /// `IdentityProviderUserId`: empty, or [`IDP_USER_ID_PATTERN`].
    IdpUserId,
}

/// Maximum length of a `UserAttribute` (service-2.json `UserAttribute.max`).
pub(crate) const TEXT_MAX_CHARS: usize = 256;
/// Maximum length of an `IdentityProviderUserId` (service-2.json).
pub(crate) const IDP_USER_ID_MAX_CHARS: usize = 47;
/// The `IdentityProviderUserId` pattern of the API model.
pub(crate) const IDP_USER_ID_PATTERN: &str =
    "^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$";

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
    /// The names of the roles UpdateUser and CreateUser accept, in the order error messages
    /// list them.
    pub(crate) const SETTABLE_NAMES: [&'static str; 2] = [USER, REMOTE_USER];

    /// The role with this API name; never fails, an unknown name is [`Role::Other`].
    pub(crate) fn parse(name: &str) -> Role {
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
    pub(crate) fn is_settable(&self) -> bool {
        matches!(self, Role::User | Role::RemoteUser)
    }

    /// Whether the API model lists this role (settable or not).
    pub(crate) fn is_known(&self) -> bool {
        !matches!(self, Role::Other(_))
    }

    /// Whether the API lets anyone update a user of this role: not `SYSTEM_USER` or `RESOURCE`,
    /// whose users WorkMail manages itself. Such users are left out of plans and exports.
    pub(crate) fn is_updatable(&self) -> bool {
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

/// One updatable user attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attribute {
    DisplayName,
    FirstName,
    LastName,
    Initials,
    Telephone,
    Street,
    JobTitle,
    City,
    Company,
    ZipCode,
    Department,
    Country,
    Office,
    HiddenFromGlobalAddressList,
    Role,
    IdentityProviderUserId,
}

struct AttrSpec {
    key: &'static str,
    member: &'static str,
    kind: AttrKind,
}

const fn text(key: &'static str, member: &'static str) -> AttrSpec {
    AttrSpec { key, member, kind: AttrKind::Text }
}

/// Indexed by `Attribute as usize`; the order is the order of output and of requests.
const TABLE: [AttrSpec; 16] = [
    text("display_name", "DisplayName"),
    text("first_name", "FirstName"),
    text("last_name", "LastName"),
    text("initials", "Initials"),
    text("telephone", "Telephone"),
    text("street", "Street"),
    text("job_title", "JobTitle"),
    text("city", "City"),
    text("company", "Company"),
    text("zip_code", "ZipCode"),
    text("department", "Department"),
    text("country", "Country"),
    text("office", "Office"),
    AttrSpec {
        key: "hidden_from_global_address_list",
        member: "HiddenFromGlobalAddressList",
        kind: AttrKind::Bool,
    },
    AttrSpec { key: "role", member: "Role", kind: AttrKind::Role },
    AttrSpec {
        key: "identity_provider_user_id",
        member: "IdentityProviderUserId",
        kind: AttrKind::IdpUserId,
    },
];

impl Attribute {
    /// All attributes, in table order.
    pub const ALL: [Attribute; 16] = [
        Attribute::DisplayName,
        Attribute::FirstName,
        Attribute::LastName,
        Attribute::Initials,
        Attribute::Telephone,
        Attribute::Street,
        Attribute::JobTitle,
        Attribute::City,
        Attribute::Company,
        Attribute::ZipCode,
        Attribute::Department,
        Attribute::Country,
        Attribute::Office,
        Attribute::HiddenFromGlobalAddressList,
        Attribute::Role,
        Attribute::IdentityProviderUserId,
    ];

    fn spec(self) -> &'static AttrSpec {
        &TABLE[self as usize]
    }
    /// The desired-state YAML key (`display_name`).
    pub fn key(self) -> &'static str {
        self.spec().key
    }
    /// The API member name (`DisplayName`).
    pub(crate) fn member(self) -> &'static str {
        self.spec().member
    }
    /// The kind of value and its limits.
    pub(crate) fn kind(self) -> AttrKind {
        self.spec().kind
    }
    /// The attribute with this YAML key.
    pub(crate) fn from_key(key: &str) -> Option<Attribute> {
        Attribute::ALL.into_iter().find(|a| a.key() == key)
    }
    /// The value an attribute has when the service reports it absent.
    pub fn empty_value(self) -> AttrValue {
        match self.kind() {
            AttrKind::Bool => AttrValue::Bool(false),
            _ => AttrValue::Text(String::new()),
        }
    }
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// An attribute's value as the API carries it: a string (`""` for empty) or a boolean.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AttrValue {
    Bool(bool),
    Text(String),
}

impl AttrValue {
    /// The string, or `None` for a boolean.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            AttrValue::Text(s) => Some(s),
            AttrValue::Bool(_) => None,
        }
    }
    /// Whether this is the empty string.
    pub fn is_empty_text(&self) -> bool {
        matches!(self, AttrValue::Text(s) if s.is_empty())
    }
}

impl From<&str> for AttrValue {
    fn from(s: &str) -> Self {
        AttrValue::Text(s.to_owned())
    }
}

impl From<String> for AttrValue {
    fn from(s: String) -> Self {
        AttrValue::Text(s)
    }
}

impl From<bool> for AttrValue {
    fn from(b: bool) -> Self {
        AttrValue::Bool(b)
    }
}

impl fmt::Display for AttrValue {
    /// JSON quoting: strings in double quotes with escapes (every character a terminal could
    /// act on among them), booleans bare.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrValue::Bool(b) => write!(f, "{b}"),
            AttrValue::Text(s) => write!(f, "{}", crate::model::printable::quoted(s)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_indexed_by_discriminant_and_keys_round_trip() {
        for (i, a) in Attribute::ALL.into_iter().enumerate() {
            assert_eq!(a as usize, i);
            assert_eq!(Attribute::from_key(a.key()), Some(a));
            assert_eq!(serde_json::to_value(a).unwrap(), serde_json::json!(a.key()));
        }
    }

    #[test]
    fn sixteen_attributes_thirteen_of_them_text() {
        let text = Attribute::ALL.iter().filter(|a| a.kind() == AttrKind::Text).count();
        assert_eq!((Attribute::ALL.len(), text), (16, 13));
    }

    #[test]
    fn roles_round_trip_and_an_unknown_one_is_kept() {
        for role in [Role::User, Role::Resource, Role::SystemUser, Role::RemoteUser] {
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
        let known = [Role::User, Role::Resource, Role::SystemUser, Role::RemoteUser];
        let settable: Vec<&str> =
            known.iter().filter(|r| r.is_settable()).map(Role::as_str).collect();
        assert_eq!(settable, Role::SETTABLE_NAMES);
        let fixed: Vec<&str> =
            known.iter().filter(|r| !r.is_updatable()).map(Role::as_str).collect();
        assert_eq!(fixed, ["RESOURCE", "SYSTEM_USER"]);
    }
}
