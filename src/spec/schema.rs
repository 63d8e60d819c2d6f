//! The JSON Schema of the file format, generated from Rust types that mirror it.
//!
//! The attributes object is built by iterating [`Attribute::ALL`], so a new attribute in the
//! table shows up in the schema without another list of names to keep in step.

use super::mailbox::{EMAIL_MAX_CHARS, EMAIL_PATTERN, GROUP_NAME_MAX_CHARS, QUOTA_MAX_MB};
use super::model::ORG_ALIAS_MAX_CHARS;
use super::validate::USER_KEY_MAX_CHARS;
use crate::model::attrs::{
    AttrKind, Attribute, IDP_USER_ID_MAX_CHARS, IDP_USER_ID_PATTERN, Role, TEXT_MAX_CHARS,
};
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value, json};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// A desired-state file, only used for its schema; loading goes through the raw
/// tree so that every error can be reported with its position.
#[allow(dead_code)]
#[derive(JsonSchema)]
#[schemars(
    title = "workmail-reconcile desired state",
    description = "WorkMail user attributes in git; see docs/file-format.md#desired-state-files.",
    deny_unknown_fields
)]
struct DesiredStateFile {
    /// The organization id (`m-` and 32 hex digits) or its alias.
    organization: OrganizationName,
    /// Attributes every user of this file gets unless the user sets its own (null included).
    #[serde(default)]
    defaults: Option<DefaultAttributes>,
    /// Users by key: user name, primary email address, or WorkMail user id. `{}` declares a
    /// user without managing any attribute.
    #[schemars(extend("propertyNames" = {
        "type": "string",
        "minLength": 1,
        "maxLength": USER_KEY_MAX_CHARS,
        "pattern": "^[a-zA-Z0-9._%+@-]+$"
    }))]
    users: BTreeMap<String, Attributes>,
}

/// An organization id or alias.
struct OrganizationName;

impl JsonSchema for OrganizationName {
    fn schema_name() -> Cow<'static, str> {
        "OrganizationName".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let schema = json!({
            "description": "An organization id (m- and 32 lowercase hex digits) or an alias.",
            "type": "string",
            "anyOf": [
                { "pattern": "^m-[0-9a-f]{32}$" },
                {
                    "minLength": 1,
                    "maxLength": ORG_ALIAS_MAX_CHARS,
                    "pattern": "^[0-9a-zA-Z]+(-[0-9a-zA-Z]+)*$",
                    // The API's `(?!d-)` lookahead, written without lookahead for portability.
                    "not": { "pattern": "^d-" }
                }
            ]
        });
        to_schema(schema)
    }
}

/// The managed attributes of a user (or of `defaults`): the 16 keys of the attribute table.
struct Attributes;

impl JsonSchema for Attributes {
    fn schema_name() -> Cow<'static, str> {
        "Attributes".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        to_schema(attributes_schema(false))
    }
}

/// The attributes of `defaults`: those of a user, but `aliases` can only be empty there.
struct DefaultAttributes;

impl JsonSchema for DefaultAttributes {
    fn schema_name() -> Cow<'static, str> {
        "DefaultAttributes".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        to_schema(attributes_schema(true))
    }
}

fn attributes_schema(defaults: bool) -> Value {
    let mut properties: Map<String, Value> =
        Attribute::ALL.iter().map(|a| (a.key().to_string(), attribute_schema(*a))).collect();
    let mut aliases = json!({
        "description": "ListAliases / CreateAlias / DeleteAlias: every address of the mailbox \
                        besides the primary one, compared ignoring case. [] means none.",
        "type": "array",
        "uniqueItems": true,
        "items": {
            "type": "string",
            "minLength": 1,
            "maxLength": EMAIL_MAX_CHARS,
            "pattern": EMAIL_PATTERN
        }
    });
    if defaults {
        aliases["maxItems"] = json!(0);
        aliases["description"] = json!(
            "In defaults only [] (no user has an alias): one address cannot belong to every user."
        );
    }
    properties.insert("aliases".into(), aliases);
    properties.insert(
        "groups".into(),
        json!({
            "description": "ListGroupsForEntity / AssociateMemberToGroup / \
                            DisassociateMemberFromGroup: names or primary addresses of existing \
                            groups, compared ignoring case. [] means none.",
            "type": "array",
            "uniqueItems": true,
            "items": {
                "type": "string",
                "minLength": 1,
                "maxLength": GROUP_NAME_MAX_CHARS,
                "pattern": "^[\\u0020-\\u00FF]+$"
            }
        }),
    );
    properties.insert(
        "mailbox_quota_mb".into(),
        json!({
            "description": "GetMailboxDetails / UpdateMailboxQuota: the mailbox quota in MB.",
            "type": "integer",
            "minimum": 1,
            "maximum": QUOTA_MAX_MB
        }),
    );
    json!({
        "description": "Managed attributes. A key left out is unmanaged; null or \"\" \
                        means the value must be empty.",
        "type": "object",
        "properties": properties,
        "additionalProperties": false
    })
}

fn attribute_schema(attr: Attribute) -> Value {
    let description = format!("UpdateUser member {}.", attr.member());
    match attr.kind() {
        AttrKind::Text => json!({
            "description": format!("{description} null or \"\" means empty."),
            "type": ["string", "null"],
            "maxLength": TEXT_MAX_CHARS
        }),
        AttrKind::Bool => json!({
            "description": format!("{description} true hides the user from the address book."),
            "type": "boolean"
        }),
        AttrKind::Role => json!({
            "description": format!("{description} SYSTEM_USER and RESOURCE cannot be set."),
            "type": "string",
            "enum": Role::SETTABLE_NAMES
        }),
        AttrKind::IdpUserId => {
            let inner = IDP_USER_ID_PATTERN.trim_start_matches('^').trim_end_matches('$');
            json!({
                "description": format!("{description} null or \"\" means empty."),
                "type": ["string", "null"],
                "maxLength": IDP_USER_ID_MAX_CHARS,
                "pattern": format!("^({inner})?$")
            })
        }
    }
}

fn to_schema(value: Value) -> Schema {
    match value {
        Value::Object(map) => Schema::from(map),
        // Every caller passes an object literal.
        _ => Schema::default(),
    }
}

/// The schema as JSON, draft-07 (what yaml-language-server and most editors understand), with
/// the keys of every object in sorted order.
pub(crate) fn json_schema() -> Value {
    let generator = SchemaSettings::draft07().into_generator();
    sorted_keys(generator.into_root_schema_for::<DesiredStateFile>().to_value())
}

/// The schema as the committed `schema/workmail-users.schema.json` holds it: pretty JSON, keys
/// sorted at every level, a trailing newline. Sorting makes the text independent of the order
/// schemars emits keys in and of serde_json's `preserve_order` feature, so
/// `schema > schema/workmail-users.schema.json` reproduces the committed file byte for byte.
pub(crate) fn json_schema_text() -> String {
    format!("{:#}\n", json_schema())
}

/// `value` with the keys of every object, at any depth, in byte order.
fn sorted_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted_keys(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted_keys).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_schema_lists_every_attribute_and_the_mailbox_keys() {
        let schema = json_schema();
        let attrs = &schema["definitions"]["Attributes"];
        assert_eq!(attrs["additionalProperties"], json!(false));
        let keys: Vec<&String> =
            attrs["properties"].as_object().map(|m| m.keys().collect()).unwrap_or_default();
        assert_eq!(keys.len(), 16 + 3);
        for a in Attribute::ALL {
            assert!(attrs["properties"].get(a.key()).is_some(), "{a} missing");
        }
        assert_eq!(attrs["properties"]["mailbox_quota_mb"]["minimum"], json!(1));
        assert_eq!(attrs["properties"]["aliases"]["items"]["maxLength"], json!(254));
        let defaults = &schema["definitions"]["DefaultAttributes"];
        assert_eq!(defaults["properties"]["aliases"]["maxItems"], json!(0));
        assert!(attrs["properties"]["aliases"].get("maxItems").is_none());
        assert_eq!(attrs["properties"]["role"]["enum"], json!(["USER", "REMOTE_USER"]));
        assert_eq!(
            attrs["properties"]["hidden_from_global_address_list"]["type"],
            json!("boolean")
        );
        assert_eq!(attrs["properties"]["city"]["maxLength"], json!(256));
    }

    #[test]
    fn schema_text_sorts_keys_at_every_level_and_ends_with_a_newline() {
        let text = json_schema_text();
        assert!(text.starts_with("{\n  \"$schema\": \"http://json-schema.org/draft-07/schema#\",\n  \"additionalProperties\": false,\n"), "{text}");
        assert!(text.ends_with("\n}\n"), "{text}");
        let attrs = &json_schema()["definitions"]["Attributes"]["properties"];
        let keys: Vec<&String> = attrs.as_object().map(|m| m.keys().collect()).unwrap_or_default();
        let mut expected = keys.clone();
        expected.sort();
        assert_eq!(keys, expected);
        assert_eq!(keys.first().map(|k| k.as_str()), Some("aliases"));
    }

    #[test]
    fn sorted_keys_reorders_nested_objects_and_objects_in_arrays() {
        let value = json!({"b": {"z": 1, "a": [{"y": 2, "x": 3}]}, "a": null});
        assert_eq!(
            format!("{}", sorted_keys(value)),
            r#"{"a":null,"b":{"a":[{"x":3,"y":2}],"z":1}}"#
        );
    }

    #[test]
    fn file_schema_requires_organization_and_users_and_denies_other_keys() {
        let schema = json_schema();
        assert_eq!(schema["additionalProperties"], json!(false));
        let required = schema["required"].as_array().cloned().unwrap_or_default();
        assert!(required.contains(&json!("organization")));
        assert!(required.contains(&json!("users")));
        assert!(!required.contains(&json!("defaults")));
    }
}
