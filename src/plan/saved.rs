//! The saved plan (`plan --out`): docs/output-formats.md#json-format's document plus provenance — tool
//! version and time. Each change's `before` values are what apply compares against.
//! Serialization only; the caller opens the file.

use super::mailbox::{ALIASES, GROUPS, MailboxChange};
use super::model::{
    FORMAT_VERSION, Plan, PlanError, PlannedOrganization, Summary, UnchangedUser, UnmanagedUser,
    UserChange,
};
use crate::model::attrs::{AttrValue, Attribute, Role};
use crate::spec::{
    OrganizationRef, QUOTA_MAX_MB, check_value, is_email_address, is_group_reference,
};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use thiserror::Error;

/// The document as read back. A key this version does not write is refused at every level, as
/// in desired-state files: it could only come from an edit or another tool.
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
    // Shown again by apply, never listed again; absent from plans written before it existed.
    #[serde(default)]
    unmanaged: Option<Vec<UnmanagedUser>>,
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
    unmanaged: Option<&'a [UnmanagedUser]>,
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
pub(crate) enum SavedPlanError {
    #[error("not a workmail-reconcile plan file: {0}")]
    Malformed(String),
    #[error("plan format_version {found} is not supported (this version reads {FORMAT_VERSION})")]
    Version { found: u32 },
    #[error("user `{user}`: {message}")]
    InvalidChange { user: String, message: String },
    #[error("{at}: `{value}` is not {expected}")]
    InvalidOrganization { at: String, value: String, expected: &'static str },
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
    pub(crate) const MAX_FILE_BYTES: usize = 256 * 1024 * 1024;

    /// Pretty JSON for the file.
    pub fn to_json(&self) -> String {
        let mut out = Vec::new();
        // Writing to memory cannot fail, and serde_json writes UTF-8.
        let _ = write_json(&self.plan, &self.tool_version, &self.created_at, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// Parse and check a saved plan: the format version and every change's values.
    pub(crate) fn from_json(text: &str) -> Result<SavedPlan, SavedPlanError> {
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
        check_organizations(&document)?;
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
                unmanaged: document.unmanaged,
            },
            tool_version: document.tool_version,
            created_at: document.created_at,
        })
    }
}

/// Write `plan` as a saved plan (pretty JSON and a final newline) to `writer`, streaming: nothing
/// of the plan is copied.
pub(crate) fn write_json<W: std::io::Write>(
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
        unmanaged: plan.unmanaged.as_deref(),
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

/// What an organization reference in a saved plan must be, by the rule the files follow.
#[derive(Clone, Copy)]
enum OrganizationRule {
    /// A resolved organization: its id.
    Id,
    /// As written in a file when it could not be resolved: an id or an alias.
    Reference,
    Alias,
}

impl OrganizationRule {
    fn check(self, value: &str, at: impl FnOnce() -> String) -> Result<(), SavedPlanError> {
        let (holds, expected) = match self {
            OrganizationRule::Id => (
                OrganizationRef::is_id(value),
                "an organization id (`m-` and 32 lowercase hex digits)",
            ),
            OrganizationRule::Reference => (
                OrganizationRef::parse(value).is_ok(),
                "an organization id (`m-` and 32 lowercase hex digits) or alias",
            ),
            OrganizationRule::Alias => (OrganizationRef::is_alias(value), "an organization alias"),
        };
        if holds {
            return Ok(());
        }
        Err(SavedPlanError::InvalidOrganization { at: at(), value: value.into(), expected })
    }
}

/// Every organization id and alias of the plan, each by its [`OrganizationRule`].
fn check_organizations(document: &Document) -> Result<(), SavedPlanError> {
    use OrganizationRule::{Alias, Id, Reference};
    for (i, change) in document.changes.iter().enumerate() {
        Id.check(&change.organization_id, || format!("changes[{i}].organization_id"))?;
    }
    for (i, user) in document.unchanged.iter().enumerate() {
        Id.check(&user.organization_id, || format!("unchanged[{i}].organization_id"))?;
    }
    for (i, organization) in document.organizations.iter().enumerate() {
        Reference.check(&organization.id, || format!("organizations[{i}].id"))?;
        if let Some(alias) = &organization.alias {
            Alias.check(alias, || format!("organizations[{i}].alias"))?;
        }
    }
    for (i, error) in document.errors.iter().enumerate() {
        Reference.check(&error.organization_id, || format!("errors[{i}].organization_id"))?;
    }
    Ok(())
}

/// A hand-edited plan must still be something apply could have planned: every `after` a value
/// a desired-state file may declare, every `before` a value the directory could have reported
/// for a user the plan may change.
fn check_change(change: &UserChange) -> Result<(), SavedPlanError> {
    let invalid =
        |message: String| SavedPlanError::InvalidChange { user: change.user.clone(), message };
    if change.fields.is_empty() && change.mailbox.is_none() {
        return Err(invalid("a change without fields".into()));
    }
    if let Some(mailbox) = change.mailbox.as_deref() {
        check_mailbox(mailbox).map_err(invalid)?;
    }
    let mut seen = Vec::new();
    for field in &change.fields {
        if seen.contains(&field.field) {
            return Err(invalid(format!("field {} appears twice", field.field)));
        }
        seen.push(field.field);
        check_value(field.field, &field.after)
            .map_err(|e| invalid(format!("`after` value: {e}")))?;
        check_before(field.field, &field.before)
            .map_err(|e| invalid(format!("`before` value: {e}")))?;
    }
    Ok(())
}

/// The mailbox keys of a hand-edited plan: addresses that are addresses, group names that
/// can name a group, a quota in range, and adds and removes that the lists imply.
fn check_mailbox(mailbox: &MailboxChange) -> Result<(), String> {
    let lists = [(ALIASES, &mailbox.aliases), (GROUPS, &mailbox.groups)];
    for (key, change) in lists {
        let Some(change) = change else { continue };
        let valid: fn(&str) -> bool =
            if key == ALIASES { is_email_address } else { is_group_reference };
        let mut all =
            change.before.iter().chain(&change.after).chain(&change.add).chain(&change.remove);
        if let Some(bad) = all.find(|v| !valid(v)) {
            return Err(format!("{key}: `{bad}` is not valid there"));
        }
        let within = |part: &[String], whole: &[String]| {
            part.iter().all(|p| whole.iter().any(|w| w.eq_ignore_ascii_case(p)))
        };
        if !within(&change.add, &change.after) || !within(&change.remove, &change.before) {
            return Err(format!(
                "{key}: `add` must be within `after` and `remove` within `before`"
            ));
        }
        if change.add.is_empty() && change.remove.is_empty() {
            return Err(format!("{key}: nothing to add or remove"));
        }
    }
    if let Some(quota) = mailbox.quota
        && (quota.after > QUOTA_MAX_MB || quota.before == quota.after)
    {
        return Err(format!(
            "mailbox_quota_mb: {} -> {} is not a change apply can make",
            quota.before, quota.after
        ));
    }
    Ok(())
}

/// A live value: the rules of a declared one, but any role of a user the API lets anyone
/// update (a role this version does not know included), since it was read, not chosen.
fn check_before(attr: Attribute, value: &AttrValue) -> Result<(), String> {
    match (attr, value) {
        (Attribute::Role, AttrValue::Text(name)) if !Role::parse(name).is_updatable() => {
            Err(format!(
                "a user of role {name} is never changed: the API does not let anyone update it"
            ))
        }
        (Attribute::Role, AttrValue::Text(_)) => Ok(()),
        _ => check_value(attr, value).map_err(|e| e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::FieldChange;

    /// An unchanged user of the sample's organization.
    fn unchanged(user: &str, user_id: &str, source: &str) -> UnchangedUser {
        UnchangedUser {
            organization_id: "m-0123456789abcdef0123456789abcdef".into(),
            user: user.into(),
            user_id: user_id.into(),
            source: source.into(),
        }
    }

    fn sample() -> SavedPlan {
        let change = UserChange {
            mailbox: None,
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
    fn mailbox_changes_round_trip_and_edited_ones_are_checked() {
        use crate::plan::{ListChange, MailboxChange, QuotaChange};
        let mut saved = sample();
        let list = |before: &[&str], after: &[&str], add: &[&str], remove: &[&str]| ListChange {
            before: before.iter().map(|s| s.to_string()).collect(),
            after: after.iter().map(|s| s.to_string()).collect(),
            add: add.iter().map(|s| s.to_string()).collect(),
            remove: remove.iter().map(|s| s.to_string()).collect(),
        };
        saved.plan.changes[0].mailbox = Some(Box::new(MailboxChange {
            aliases: Some(list(
                &["old@acme.example"],
                &["new@acme.example"],
                &["new@acme.example"],
                &["old@acme.example"],
            )),
            groups: Some(list(&[], &["engineering"], &["engineering"], &[])),
            quota: Some(QuotaChange { before: 10_240, after: 51_200 }),
        }));
        let json = saved.to_json();
        assert_eq!(SavedPlan::from_json(&json), Ok(saved.clone()));
        // Only mailbox keys: still a change.
        saved.plan.changes[0].fields.clear();
        assert_eq!(SavedPlan::from_json(&saved.to_json()), Ok(saved));
        for (from, to) in [
            ("\"new@acme.example\"", "\"not an address\""),
            ("51200", "0"),
            ("\"engineering\"", "[1]"),
        ] {
            let edited = json.replacen(from, to, 1);
            assert!(SavedPlan::from_json(&edited).is_err(), "{to} accepted");
        }
    }

    #[test]
    fn round_trips() {
        let saved = sample();
        assert_eq!(SavedPlan::from_json(&saved.to_json()), Ok(saved));
    }

    #[test]
    fn keeps_the_users_in_no_file_and_reads_plans_written_without_them() {
        let mut saved = sample();
        saved.plan.unmanaged = Some(vec![UnmanagedUser {
            organization_id: "m-0123456789abcdef0123456789abcdef".into(),
            user: "dan".into(),
            user_id: "u-9".into(),
            email: None,
            state: crate::model::live::UserState::Disabled,
        }]);
        let json = saved.to_json();
        let document: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        assert_eq!(document["summary"]["unmanaged"], 1);
        assert_eq!(document["unmanaged"][0]["state"], "DISABLED");
        assert_eq!(SavedPlan::from_json(&json), Ok(saved.clone()));

        // Without the keys, the users in no file read as not looked for.
        let mut older = document;
        let object = older.as_object_mut().expect("object");
        object.remove("unmanaged");
        object["summary"].as_object_mut().expect("summary").remove("unmanaged");
        saved.plan.unmanaged = None;
        assert_eq!(SavedPlan::from_json(&older.to_string()), Ok(saved));
    }

    #[test]
    fn refuses_unknown_keys_at_every_level() {
        let mut saved = sample();
        saved.plan.unchanged.push(unchanged("bob", "u-2", "acme.yaml:9"));
        saved.plan.organizations.push(PlannedOrganization {
            id: "m-0123456789abcdef0123456789abcdef".into(),
            alias: None,
        });
        let document: serde_json::Value = serde_json::from_str(&saved.to_json()).expect("JSON");
        for pointer in [
            "",
            "/organizations/0",
            "/changes/0",
            "/changes/0/fields/0",
            "/unchanged/0",
            "/summary",
        ] {
            let mut edited = document.clone();
            let object =
                edited.pointer_mut(pointer).and_then(|v| v.as_object_mut()).expect(pointer);
            object.insert("observed".into(), serde_json::json!({"city": "Oslo"}));
            match SavedPlan::from_json(&edited.to_string()) {
                Err(SavedPlanError::Malformed(message)) => {
                    assert!(message.starts_with("unknown field `observed`"), "{pointer}: {message}")
                }
                other => panic!("{pointer}: {other:?}"),
            }
        }
        assert_eq!(SavedPlan::from_json(&saved.to_json()), Ok(saved));
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
        saved.plan.unchanged.push(unchanged("ALICE", "u-2", "acme.yaml:9"));
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
    fn holds_every_value_to_the_rules_of_the_files() {
        let edited = |edit: &dyn Fn(&mut serde_json::Value)| {
            let mut document: serde_json::Value =
                serde_json::from_str(&sample().to_json()).expect("JSON");
            edit(&mut document);
            SavedPlan::from_json(&document.to_string()).map(|_| ()).map_err(|e| e.to_string())
        };
        let field = |name: &str, before: &str, after: &str| serde_json::json!([{"field": name, "before": before, "after": after}]);
        let idp = "a1b2c3d4-e5f6-7890-abcd-ef1234567890";
        let cases: [(serde_json::Value, Result<(), &str>); 8] = [
            (field("identity_provider_user_id", "", idp), Ok(())),
            (field("role", "GUEST_USER", "USER"), Ok(())),
            (
                field("identity_provider_user_id", "", "x"),
                Err(
                    "`after` value: `identity_provider_user_id` `x` is not an identity provider user id",
                ),
            ),
            (
                field("identity_provider_user_id", "x", idp),
                Err(
                    "`before` value: `identity_provider_user_id` `x` is not an identity provider user id",
                ),
            ),
            (field("role", "USER", "ADMIN"), Err("`after` value: unknown role `ADMIN`")),
            (field("role", "USER", ""), Err("`after` value: unknown role ``")),
            (
                field("role", "SYSTEM_USER", "USER"),
                Err(
                    "`before` value: a user of role SYSTEM_USER is never changed: the API does not let anyone update it",
                ),
            ),
            (
                field("city", "", &"x".repeat(257)),
                Err("`after` value: `city` is 257 characters long; at most 256 are allowed"),
            ),
        ];
        for (fields, expected) in cases {
            let result = edited(&|d| d["changes"][0]["fields"] = fields.clone());
            assert_eq!(result, expected.map_err(|e| format!("user `alice`: {e}")), "{fields}");
        }
    }

    #[test]
    fn holds_organizations_to_the_rules_of_the_files() {
        let mut saved = sample();
        saved.plan.organizations.push(PlannedOrganization {
            id: "m-0123456789abcdef0123456789abcdef".into(),
            alias: Some("acme".into()),
        });
        saved.plan.errors.push(PlanError {
            organization_id: "other-org".into(),
            user: None,
            source: "other.yaml:1".into(),
            message: "organization not found".into(),
        });
        let json = saved.to_json();
        assert_eq!(SavedPlan::from_json(&json), Ok(saved));
        for (from, to, expected) in [
            (
                "\"organization_id\": \"m-0123456789abcdef0123456789abcdef\"",
                "\"organization_id\": \"acme\"",
                "changes[0].organization_id: `acme` is not an organization id (`m-` and 32 \
                 lowercase hex digits)",
            ),
            (
                "\"alias\": \"acme\"",
                "\"alias\": \"d-acme\"",
                "organizations[0].alias: `d-acme` is not an organization alias",
            ),
            (
                "\"other-org\"",
                "\"other org\"",
                "errors[0].organization_id: `other org` is not an organization id (`m-` and 32 \
                 lowercase hex digits) or alias",
            ),
        ] {
            let edited = json.replacen(from, to, 1);
            assert_ne!(edited, json);
            assert_eq!(
                SavedPlan::from_json(&edited).map_err(|e| e.to_string()),
                Err(expected.into())
            );
        }
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
