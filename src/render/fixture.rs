//! The representative plan every renderer is snapshotted with.

use crate::attrs::{AttrValue, Attribute};
use crate::live::UserState;
use crate::plan::{
    FieldChange, Plan, PlanError, PlannedOrganization, UnchangedUser, UnmanagedUser, UserChange,
};

pub const ORG_ACME: &str = "m-0123456789abcdef0123456789abcdef";
pub const ORG_PLAIN: &str = "m-fedcba9876543210fedcba9876543210";
pub const ORG_QUIET: &str = "m-00000000000000000000000000000042";

pub fn text(s: &str) -> AttrValue {
    AttrValue::Text(s.to_owned())
}

pub fn field(field: Attribute, before: AttrValue, after: AttrValue) -> FieldChange {
    FieldChange { field, before, after }
}

pub fn change(
    org: &str,
    user: &str,
    user_id: &str,
    line: u32,
    fields: Vec<FieldChange>,
) -> UserChange {
    UserChange {
        organization_id: org.to_owned(),
        user: user.to_owned(),
        user_id: user_id.to_owned(),
        source: format!("users/{org}.yaml:{line}"),
        fields,
    }
}

fn unchanged(org: &str, user: &str, user_id: &str) -> UnchangedUser {
    UnchangedUser {
        organization_id: org.to_owned(),
        user: user.to_owned(),
        user_id: user_id.to_owned(),
        source: format!("users/{org}.yaml:1"),
    }
}

/// A live user in no file.
pub fn unmanaged(org: &str, user: &str, email: Option<&str>, state: UserState) -> UnmanagedUser {
    UnmanagedUser {
        organization_id: org.to_owned(),
        user: user.to_owned(),
        user_id: format!("u-{user}"),
        email: email.map(str::to_owned),
        state,
    }
}

/// Two organizations with changes (one with an alias, one without), one with none, one that
/// could not be resolved; updates, clears, a boolean, a role change, a value that would break
/// a markdown table, a user error and an organization error; users in no file in the first
/// organization (one of them disabled, without email) and in the one without changes.
pub fn plan() -> Plan {
    use Attribute::*;
    Plan {
        organizations: vec![
            PlannedOrganization { id: ORG_ACME.into(), alias: Some("acme".into()) },
            PlannedOrganization { id: ORG_PLAIN.into(), alias: None },
            PlannedOrganization { id: ORG_QUIET.into(), alias: Some("quiet".into()) },
            PlannedOrganization { id: "nope".into(), alias: None },
        ],
        changes: vec![
            change(
                ORG_ACME,
                "alice",
                "u-953f0c1e-7c2a-4d5b-9e8f-0a1b2c3d4e5f",
                7,
                vec![
                    field(DisplayName, text("Alice L"), text("Alice Liddell")),
                    field(Telephone, text("+1 555 0100"), text("+1 555 0199")),
                    field(Department, text("R&D"), text("")),
                ],
            ),
            change(
                ORG_ACME,
                "bob@acme.example",
                "u-0b0b0b0b-1111-2222-3333-444444444444",
                18,
                vec![
                    field(JobTitle, text("Builder\nof `things`"), text("Lead | Builder <b>")),
                    field(
                        HiddenFromGlobalAddressList,
                        AttrValue::Bool(false),
                        AttrValue::Bool(true),
                    ),
                    field(Role, text("USER"), text("REMOTE_USER")),
                ],
            ),
            change(
                ORG_PLAIN,
                "erin",
                "u-e1e1e1e1-0000-0000-0000-000000000001",
                3,
                vec![
                    field(FirstName, text(""), text("Erin")),
                    field(Telephone, text(""), text("+44 20 7946 0000")),
                ],
            ),
        ],
        unchanged: vec![
            unchanged(ORG_ACME, "carol", "u-c0c0c0c0-0000-0000-0000-000000000003"),
            unchanged(ORG_ACME, "dave", "u-d0d0d0d0-0000-0000-0000-000000000004"),
            unchanged(ORG_PLAIN, "frank", "u-f0f0f0f0-0000-0000-0000-000000000006"),
            unchanged(ORG_QUIET, "grace", "u-90909090-0000-0000-0000-000000000007"),
        ],
        errors: vec![
            PlanError {
                organization_id: ORG_ACME.into(),
                user: Some("ghost".into()),
                source: format!("users/{ORG_ACME}.yaml:30"),
                message: "user not found".into(),
            },
            PlanError {
                organization_id: "nope".into(),
                user: None,
                source: "users/nope.yaml:1".into(),
                message: "organization \"nope\" not found".into(),
            },
        ],
        unmanaged: Some(vec![
            unmanaged(ORG_ACME, "dan", Some("dan@acme.example"), UserState::Enabled),
            unmanaged(ORG_ACME, "eve", None, UserState::Disabled),
            unmanaged(ORG_QUIET, "heidi", Some("heidi@quiet.example"), UserState::Enabled),
        ]),
    }
}

/// Every raw `before`/`after` string of the fixture that a redaction of `fields` must hide.
pub fn raw_values(plan: &Plan, redacted: impl Fn(Attribute) -> bool) -> Vec<String> {
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

/// A fixed redaction key, so that snapshots of redacted output stay put.
pub fn key() -> crate::render::RedactionKey {
    crate::render::RedactionKey::fixed(b"a fixed key for render snapshots")
}
