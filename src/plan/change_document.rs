//! A change as the JSON plan and the saved plan write it: the attributes and the mailbox keys
//! together in `fields` — `{"field", "before", "after"}` for an attribute or the quota (a
//! number), and `"add"`, `"remove"` as well for `aliases` and `groups`.

use super::mailbox::{ALIASES, GROUPS, ListChange, MailboxChange, QUOTA, QuotaChange};
use super::model::{FieldChange, UserChange};
use crate::model::attrs::{AttrValue, Attribute};
use serde::de::Error as _;
use serde::ser::{SerializeSeq, SerializeStruct};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

impl Serialize for UserChange {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut change = serializer.serialize_struct("UserChange", 5)?;
        change.serialize_field("organization_id", &self.organization_id)?;
        change.serialize_field("user", &self.user)?;
        change.serialize_field("user_id", &self.user_id)?;
        change.serialize_field("source", &self.source)?;
        change.serialize_field("fields", &Fields(self))?;
        change.end()
    }
}

/// The `fields` of a change, borrowed: nothing of the plan is copied to write it.
struct Fields<'a>(&'a UserChange);

#[derive(Serialize)]
struct ListEntry<'a> {
    field: &'static str,
    before: &'a [String],
    after: &'a [String],
    add: &'a [String],
    remove: &'a [String],
}

#[derive(Serialize)]
struct QuotaEntry {
    field: &'static str,
    before: u64,
    after: u64,
}

impl<'a> Serialize for Fields<'a> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let change = self.0;
        let mut seq = serializer.serialize_seq(None)?;
        for field in &change.fields {
            seq.serialize_element(field)?;
        }
        if let Some(mailbox) = change.mailbox.as_deref() {
            let list = |field, c: &'a ListChange| ListEntry {
                field,
                before: &c.before,
                after: &c.after,
                add: &c.add,
                remove: &c.remove,
            };
            if let Some(aliases) = &mailbox.aliases {
                seq.serialize_element(&list(ALIASES, aliases))?;
            }
            if let Some(groups) = &mailbox.groups {
                seq.serialize_element(&list(GROUPS, groups))?;
            }
            if let Some(quota) = mailbox.quota {
                seq.serialize_element(&QuotaEntry {
                    field: QUOTA,
                    before: quota.before,
                    after: quota.after,
                })?;
            }
        }
        seq.end()
    }
}

/// A change as read back, before its fields are told apart.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeDocument {
    organization_id: String,
    user: String,
    user_id: String,
    source: String,
    fields: Vec<FieldDocument>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldDocument {
    field: String,
    before: Value,
    after: Value,
    #[serde(default)]
    add: Option<Vec<String>>,
    #[serde(default)]
    remove: Option<Vec<String>>,
}

impl<'de> Deserialize<'de> for UserChange {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<UserChange, D::Error> {
        let document = ChangeDocument::deserialize(deserializer)?;
        let mut fields = Vec::new();
        let mut mailbox = MailboxChange::default();
        for entry in document.fields {
            let key = entry.field.clone();
            let key = key.as_str();
            let twice = || D::Error::custom(format!("field {key} appears twice"));
            match key {
                ALIASES | GROUPS => {
                    let change = list_change(entry).map_err(D::Error::custom)?;
                    let slot =
                        if key == ALIASES { &mut mailbox.aliases } else { &mut mailbox.groups };
                    if slot.replace(change).is_some() {
                        return Err(twice());
                    }
                }
                QUOTA => {
                    if entry.add.is_some() || entry.remove.is_some() {
                        return Err(D::Error::custom("mailbox_quota_mb has no add or remove"));
                    }
                    let number = |v: &Value| {
                        v.as_u64().filter(|n| *n >= 1).ok_or_else(|| {
                            D::Error::custom(format!(
                                "mailbox_quota_mb: `{v}` is not a quota (a whole number of MB, \
                                 at least 1)"
                            ))
                        })
                    };
                    let quota = QuotaChange {
                        before: number(&entry.before)?,
                        after: number(&entry.after)?,
                    };
                    if mailbox.quota.replace(quota).is_some() {
                        return Err(twice());
                    }
                }
                _ => {
                    let field = Attribute::from_key(key)
                        .ok_or_else(|| D::Error::custom(format!("unknown field `{key}`")))?;
                    if entry.add.is_some() || entry.remove.is_some() {
                        return Err(D::Error::custom(format!("{key} has no add or remove")));
                    }
                    let value =
                        |v: Value| serde_json::from_value::<AttrValue>(v).map_err(D::Error::custom);
                    fields.push(FieldChange {
                        field,
                        before: value(entry.before)?,
                        after: value(entry.after)?,
                    });
                }
            }
        }
        Ok(UserChange {
            organization_id: document.organization_id,
            user: document.user,
            user_id: document.user_id,
            source: document.source,
            fields,
            mailbox: mailbox.boxed(),
        })
    }
}

/// A list entry: `before`, `after`, `add` and `remove`, all lists of strings.
fn list_change(entry: FieldDocument) -> Result<ListChange, String> {
    let key = entry.field;
    let strings = |name: &str, v: Value| {
        serde_json::from_value::<Vec<String>>(v)
            .map_err(|_| format!("{key}: `{name}` must be a list of strings"))
    };
    let missing = |name: &str| format!("{key}: `{name}` is missing");
    Ok(ListChange {
        before: strings("before", entry.before)?,
        after: strings("after", entry.after)?,
        add: entry.add.ok_or_else(|| missing("add"))?,
        remove: entry.remove.ok_or_else(|| missing("remove"))?,
    })
}
