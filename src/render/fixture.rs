//! The representative plan every renderer is snapshotted with.

use crate::model::attrs::{AttrValue, Attribute};
use crate::model::live::UserState;
use crate::plan::{
    FieldChange, Plan, PlanError, PlannedOrganization, UnchangedUser, UnmanagedUser, UserChange,
};
use crate::redaction::Redaction;
use crate::render::RenderOptions;
use serde::Deserialize;
use std::collections::BTreeSet;

pub(crate) const ORG_ACME: &str = "m-0123456789abcdef0123456789abcdef";
pub(crate) const ORG_PLAIN: &str = "m-fedcba9876543210fedcba9876543210";
pub(crate) const ORG_QUIET: &str = "m-00000000000000000000000000000042";

pub(crate) fn text(s: &str) -> AttrValue {
    AttrValue::Text(s.to_owned())
}

pub(crate) fn field(field: Attribute, before: AttrValue, after: AttrValue) -> FieldChange {
    FieldChange { field, before, after }
}

pub(crate) fn change(
    org: &str,
    user: &str,
    user_id: &str,
    line: u32,
    fields: Vec<FieldChange>,
) -> UserChange {
    UserChange {
        mailbox: None,
        organization_id: org.to_owned(),
        user: user.to_owned(),
        user_id: user_id.to_owned(),
        source: format!("users/{org}.yaml:{line}"),
        fields,
    }
}

/// The plan's parts as `fixture.json` holds them: two organizations with changes (one with an
/// alias, one without), one with none, one that could not be resolved; updates, clears, a
/// boolean, a role change, a value that would break a markdown table, a user error and an
/// organization error; users in no file in the first organization (one of them disabled,
/// without email) and in the one without changes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanParts {
    organizations: Vec<PlannedOrganization>,
    changes: Vec<UserChange>,
    unchanged: Vec<UnchangedUser>,
    errors: Vec<PlanError>,
    unmanaged: Vec<UnmanagedUser>,
}

/// A live user in no file.
pub(crate) fn unmanaged(
    org: &str,
    user: &str,
    email: Option<&str>,
    state: UserState,
) -> UnmanagedUser {
    UnmanagedUser {
        organization_id: org.to_owned(),
        user: user.to_owned(),
        user_id: format!("u-{user}"),
        email: email.map(str::to_owned),
        state,
    }
}

/// The representative plan, read from `fixture.json`: data kept as data.
pub(crate) fn plan() -> Plan {
    let parts: PlanParts =
        serde_json::from_str(include_str!("fixture.json")).expect("fixture.json holds a plan");
    Plan {
        organizations: parts.organizations,
        changes: parts.changes,
        unchanged: parts.unchanged,
        errors: parts.errors,
        unmanaged: Some(parts.unmanaged),
    }
}

/// Every raw `before`/`after` string of the fixture that a redaction of `fields` must hide.
pub(crate) fn raw_values(plan: &Plan, redacted: impl Fn(Attribute) -> bool) -> Vec<String> {
    plan.changes
        .iter()
        .flat_map(|c| &c.fields)
        .filter(|f| redacted(f.field))
        .flat_map(|f| [&f.before, &f.after])
        .filter_map(|v| v.as_text())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Render options with `redaction`, the rest default.
fn options(redaction: Redaction) -> RenderOptions {
    RenderOptions { redaction, ..RenderOptions::default() }
}

/// Every value redacted with [`key`].
pub(crate) fn all_redacted() -> RenderOptions {
    options(Redaction::All(key()))
}

/// What every renderer is snapshotted with, by snapshot name: the plan as is, with telephone
/// numbers redacted, and with every value redacted.
pub(crate) fn snapshot_cases() -> [(&'static str, RenderOptions); 3] {
    [
        ("plan", RenderOptions::default()),
        (
            "redacts_telephone",
            options(Redaction::fields(BTreeSet::from([Attribute::Telephone]), key())),
        ),
        ("redacts_all", all_redacted()),
    ]
}

/// A fixed redaction key, so that snapshots of redacted output stay put.
pub(crate) fn key() -> crate::redaction::RedactionKey {
    crate::redaction::RedactionKey::fixed(b"a fixed key for render snapshots")
}
