//! The 16 attributes that UpdateUser can set, declared once. Parsing, the JSON Schema,
//! validation, the diff, rendering and request building all iterate [`Attribute::ALL`].

use serde::{Deserialize, Serialize};
use std::fmt;

/// What kind of value an attribute holds, with its limits from the API model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrKind {
    /// A free-text `UserAttribute`: at most 256 characters, `""` means empty.
    Text,
    /// `HiddenFromGlobalAddressList`: a boolean, never empty.
    Bool,
    /// `Role`: a [`crate::live::Role`] name; only the settable ones may be written.
    Role,
    /// `IdentityProviderUserId`: empty, or [`IDP_USER_ID_PATTERN`].
    IdpUserId,
}

/// Maximum length of a `UserAttribute` (service-2.json `UserAttribute.max`).
pub const TEXT_MAX_CHARS: usize = 256;
/// Maximum length of an `IdentityProviderUserId` (service-2.json).
pub const IDP_USER_ID_MAX_CHARS: usize = 47;
/// The `IdentityProviderUserId` pattern of the API model.
pub const IDP_USER_ID_PATTERN: &str =
    "^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$";

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
    /// Personal data: kept out of logs below `-vv`. (`--redact-all` hides every value, this or not.)
    sensitive: bool,
}

const fn text(key: &'static str, member: &'static str) -> AttrSpec {
    AttrSpec { key, member, kind: AttrKind::Text, sensitive: true }
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
        sensitive: false,
    },
    AttrSpec { key: "role", member: "Role", kind: AttrKind::Role, sensitive: false },
    AttrSpec {
        key: "identity_provider_user_id",
        member: "IdentityProviderUserId",
        kind: AttrKind::IdpUserId,
        sensitive: true,
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
    pub fn member(self) -> &'static str {
        self.spec().member
    }
    /// The kind of value and its limits.
    pub fn kind(self) -> AttrKind {
        self.spec().kind
    }
    /// Whether the value is personal data.
    pub fn is_sensitive(self) -> bool {
        self.spec().sensitive
    }
    /// The attribute with this YAML key.
    pub fn from_key(key: &str) -> Option<Attribute> {
        Attribute::ALL.into_iter().find(|a| a.key() == key)
    }
    /// The attribute with this API member name.
    pub fn from_member(member: &str) -> Option<Attribute> {
        Attribute::ALL.into_iter().find(|a| a.member() == member)
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
    /// JSON-like quoting: strings in double quotes with escapes, booleans bare.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrValue::Bool(b) => write!(f, "{b}"),
            AttrValue::Text(s) => write!(f, "{}", serde_json::Value::String(s.clone())),
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
            assert_eq!(Attribute::from_member(a.member()), Some(a));
            assert_eq!(serde_json::to_value(a).unwrap(), serde_json::json!(a.key()));
        }
    }

    #[test]
    fn sixteen_attributes_thirteen_of_them_text() {
        let text = Attribute::ALL.iter().filter(|a| a.kind() == AttrKind::Text).count();
        assert_eq!((Attribute::ALL.len(), text), (16, 13));
    }
}
