//! The saved plan (`plan --out`): docs/reference.md#json-format's document plus provenance — tool
//! version and time. Each change's `before` values are what apply compares against.
//! Serialization only; the caller opens the file.

use super::model::{Plan, PlanError, PlannedOrganization, Summary, UnchangedUser, UserChange};
use crate::attrs::{AttrKind, AttrValue, Attribute, Role};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use thiserror::Error;

/// The only format this version reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// The document as read back. Any other key of a user entry, such as the observed value of
/// every managed field (`observed`), is ignored: apply needs only each change's `before`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    // Checked before (format_version) or recomputed from the plan (summary); parsed so the
    // document's shape is checked whole.
    #[allow(dead_code)]
    format_version: u32,
    tool_version: String,
    created_at: String,
    organizations: Vec<PlannedOrganization>,
    changes: Vec<UserChange>,
    unchanged: Vec<UnchangedUser>,
    errors: Vec<PlanError>,
    #[allow(dead_code)]
    summary: Summary,
}

/// The document as written, borrowing everything from the plan.
#[derive(Serialize)]
struct DocumentRef<'a> {
    format_version: u32,
    tool_version: &'a str,
    created_at: &'a str,
    organizations: &'a [PlannedOrganization],
    changes: &'a [UserChange],
    unchanged: &'a [UnchangedUser],
    errors: &'a [PlanError],
    summary: Summary,
}

/// A plan as saved to disk, with its provenance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedPlan {
    pub plan: Plan,
    /// The version of workmail-reconcile that wrote it.
    pub tool_version: String,
    /// RFC 3339, UTC.
    pub created_at: String,
}

/// A saved plan that cannot be applied.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SavedPlanError {
    #[error("not a workmail-reconcile plan file: {0}")]
    Malformed(String),
    #[error("plan format_version {found} is not supported (this version reads {FORMAT_VERSION})")]
    Version { found: u32 },
    #[error("user `{user}`: {message}")]
    InvalidChange { user: String, message: String },
    #[error(
        "user `{user}` is listed twice in organization {organization}, at {first} and at \
         {second} ({same}); a saved plan lists each user once, so this one was edited or \
         damaged: plan again"
    )]
    DuplicateUser {
        user: String,
        organization: String,
        first: String,
        second: String,
        same: String,
    },
}

impl SavedPlan {
    /// Largest saved plan read: a plan of 100,000 users with a dozen attributes changing each
    /// is about 150 MB; a larger file is not a plan this tool wrote.
    pub const MAX_FILE_BYTES: usize = 256 * 1024 * 1024;

    /// Pretty JSON for the file.
    pub fn to_json(&self) -> String {
        let mut out = Vec::new();
        // Writing to memory cannot fail, and serde_json writes UTF-8.
        let _ = write_json(&self.plan, &self.tool_version, &self.created_at, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// Parse and check a saved plan: the format version and every change's values.
    pub fn from_json(text: &str) -> Result<SavedPlan, SavedPlanError> {
        let version: serde_json::Value =
            serde_json::from_str(text).map_err(|e| SavedPlanError::Malformed(e.to_string()))?;
        match version.get("format_version").and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(FORMAT_VERSION) => {}
            Some(v) => {
                return Err(SavedPlanError::Version { found: v.try_into().unwrap_or(u32::MAX) });
            }
            None => return Err(SavedPlanError::Malformed("no format_version".into())),
        }
        let document: Document = serde_json::from_value(version)
            .map_err(|e| SavedPlanError::Malformed(e.to_string()))?;
        let changes = document
            .changes
            .into_iter()
            .map(|change| check_change(&change).map(|()| change))
            .collect::<Result<Vec<_>, _>>()?;
        check_each_user_once(&changes, &document.unchanged)?;
        Ok(SavedPlan {
            plan: Plan {
                organizations: document.organizations,
                changes,
                unchanged: document.unchanged,
                errors: document.errors,
            },
            tool_version: document.tool_version,
            created_at: document.created_at,
        })
    }
}

/// Write `plan` as a saved plan (pretty JSON and a final newline) to `writer`, streaming: nothing
/// of the plan is copied.
pub fn write_json<W: std::io::Write>(
    plan: &Plan,
    tool_version: &str,
    created_at: &str,
    mut writer: W,
) -> std::io::Result<()> {
    let document = DocumentRef {
        format_version: FORMAT_VERSION,
        tool_version,
        created_at,
        organizations: &plan.organizations,
        changes: &plan.changes,
        unchanged: &plan.unchanged,
        errors: &plan.errors,
        summary: plan.summary(),
    };
    serde_json::to_writer_pretty(&mut writer, &document)?;
    writer.write_all(b"\n")?;
    writer.flush()
}

/// Where a user is listed in the document, as a JSON path (`changes[0]`, 0-based).
#[derive(Clone, Copy)]
enum Listed {
    Change(usize),
    Unchanged(usize),
}

impl std::fmt::Display for Listed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Listed::Change(i) => write!(f, "changes[{i}]"),
            Listed::Unchanged(i) => write!(f, "unchanged[{i}]"),
        }
    }
}

/// One user listed twice — in `changes` or `unchanged`, by the same user id or the same key
/// (keys compare case-insensitively) within one organization — would be applied twice, the
/// second write undoing the first. The planner never writes such a plan.
fn check_each_user_once(
    changes: &[UserChange],
    unchanged: &[UnchangedUser],
) -> Result<(), SavedPlanError> {
    let listed = changes
        .iter()
        .enumerate()
        .map(|(i, c)| (Listed::Change(i), &c.organization_id, &c.user, &c.user_id, &c.source))
        .chain(unchanged.iter().enumerate().map(|(i, u)| {
            (Listed::Unchanged(i), &u.organization_id, &u.user, &u.user_id, &u.source)
        }));
    let mut by_id: HashMap<(&str, &str), (Listed, &str)> = HashMap::new();
    let mut by_key: HashMap<(&str, Cow<'_, str>), (Listed, &str)> = HashMap::new();
    for (at, organization, user, user_id, source) in listed {
        let twice =
            |(first, first_source): (Listed, &str), same: String| SavedPlanError::DuplicateUser {
                user: user.clone(),
                organization: organization.clone(),
                first: format!("{first} ({first_source})"),
                second: format!("{at} ({source})"),
                same,
            };
        match by_id.entry((organization, user_id)) {
            Entry::Occupied(first) => {
                return Err(twice(*first.get(), format!("same user id {user_id}")));
            }
            Entry::Vacant(entry) => entry.insert((at, source)),
        };
        match by_key.entry((organization, fold_key(user))) {
            Entry::Occupied(first) => {
                return Err(twice(*first.get(), "same key, compared case-insensitively".into()));
            }
            Entry::Vacant(entry) => entry.insert((at, source)),
        };
    }
    Ok(())
}

/// A user key as compared: case-folded, copied only when it has something to fold.
fn fold_key(key: &str) -> Cow<'_, str> {
    if key.chars().any(char::is_uppercase) {
        Cow::Owned(key.to_lowercase())
    } else {
        Cow::Borrowed(key)
    }
}

/// A hand-edited plan must still be something apply could have planned.
fn check_change(change: &UserChange) -> Result<(), SavedPlanError> {
    let invalid =
        |message: String| SavedPlanError::InvalidChange { user: change.user.clone(), message };
    if change.fields.is_empty() {
        return Err(invalid("a change without fields".into()));
    }
    let mut seen = Vec::new();
    for field in &change.fields {
        if seen.contains(&field.field) {
            return Err(invalid(format!("field {} appears twice", field.field)));
        }
        seen.push(field.field);
        for value in [&field.before, &field.after] {
            let fits = match (field.field.kind(), value) {
                (AttrKind::Bool, AttrValue::Bool(_)) => true,
                (AttrKind::Bool, AttrValue::Text(_)) | (_, AttrValue::Bool(_)) => false,
                (_, AttrValue::Text(s)) => s.chars().count() <= crate::attrs::TEXT_MAX_CHARS,
            };
            if !fits {
                return Err(invalid(format!(
                    "field {} has a value of the wrong type",
                    field.field
                )));
            }
        }
        if field.field == Attribute::Role
            && !Role::parse(field.after.as_text().unwrap_or_default()).is_settable()
        {
            return Err(invalid(format!("role {} cannot be set", field.after)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::FieldChange;

    fn sample() -> SavedPlan {
        let change = UserChange {
            organization_id: "m-0123456789abcdef0123456789abcdef".into(),
            user: "alice".into(),
            user_id: "u-1".into(),
            source: "acme.yaml:7".into(),
            fields: vec![FieldChange {
                field: Attribute::HiddenFromGlobalAddressList,
                before: AttrValue::Bool(false),
                after: AttrValue::Bool(true),
            }],
        };
        SavedPlan {
            plan: Plan { changes: vec![change], ..Plan::default() },
            tool_version: "0.1.0".into(),
            created_at: "2026-11-29T16:00:00Z".into(),
        }
    }

    #[test]
    fn round_trips() {
        let saved = sample();
        assert_eq!(SavedPlan::from_json(&saved.to_json()), Ok(saved));
    }

    /// Users are written without observed values; a file that has them for every user is read
    /// as if it had none.
    #[test]
    fn observed_values_in_user_entries_are_ignored() {
        let mut saved = sample();
        saved.plan.unchanged.push(UnchangedUser {
            organization_id: "m-0123456789abcdef0123456789abcdef".into(),
            user: "bob".into(),
            user_id: "u-2".into(),
            source: "acme.yaml:9".into(),
        });
        let json = saved.to_json();
        let document: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        assert_eq!(document["unchanged"][0].get("observed"), None);
        assert_eq!(document["changes"][0].get("observed"), None);
        let older = json
            .replace(
                "\"source\": \"acme.yaml:9\"",
                "\"source\": \"acme.yaml:9\", \"observed\": {\"city\": \"Oslo\"}",
            )
            .replace(
                "\"source\": \"acme.yaml:7\"",
                "\"source\": \"acme.yaml:7\", \"observed\": {\"hidden_from_global_address_list\": false}",
            );
        assert_ne!(older, json);
        assert_eq!(SavedPlan::from_json(&older), Ok(saved));
    }

    #[test]
    fn refuses_a_user_listed_twice_by_id_or_by_key() {
        let mut saved = sample();
        let mut again = saved.plan.changes[0].clone();
        again.user = "alice@acme.example".into();
        again.source = "other.yaml:3".into();
        saved.plan.changes.push(again);
        assert_eq!(
            SavedPlan::from_json(&saved.to_json()).map_err(|e| e.to_string()),
            Err("user `alice@acme.example` is listed twice in organization \
                 m-0123456789abcdef0123456789abcdef, at changes[0] (acme.yaml:7) and at \
                 changes[1] (other.yaml:3) (same user id u-1); a saved plan lists each user \
                 once, so this one was edited or damaged: plan again"
                .into())
        );

        let mut saved = sample();
        saved.plan.unchanged.push(UnchangedUser {
            organization_id: "m-0123456789abcdef0123456789abcdef".into(),
            user: "ALICE".into(),
            user_id: "u-2".into(),
            source: "acme.yaml:9".into(),
        });
        assert!(matches!(
            SavedPlan::from_json(&saved.to_json()),
            Err(SavedPlanError::DuplicateUser { first, second, .. })
                if first == "changes[0] (acme.yaml:7)" && second == "unchanged[0] (acme.yaml:9)"
        ));

        // The same key and id in another organization is another user.
        let mut saved = sample();
        let mut other = saved.plan.changes[0].clone();
        other.organization_id = "m-fedcba9876543210fedcba9876543210".into();
        saved.plan.changes.push(other);
        assert_eq!(SavedPlan::from_json(&saved.to_json()), Ok(saved));
    }

    #[test]
    fn refuses_other_versions_and_wrong_types() {
        let text = sample().to_json().replace("\"format_version\": 1", "\"format_version\": 2");
        assert_eq!(SavedPlan::from_json(&text), Err(SavedPlanError::Version { found: 2 }));
        let text = sample().to_json().replace("\"after\": true", "\"after\": \"yes\"");
        assert!(matches!(SavedPlan::from_json(&text), Err(SavedPlanError::InvalidChange { .. })));
        assert!(matches!(SavedPlan::from_json("[]"), Err(SavedPlanError::Malformed(_))));
    }
}
