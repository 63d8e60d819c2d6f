//! The JSON format (docs/output-formats.md#json-format): the stable plan document, `format_version` 1.

use super::RenderOptions;
use crate::model::attrs::AttrValue;
use crate::plan::mailbox::{ALIASES, GROUPS, QUOTA};
use crate::plan::{FORMAT_VERSION, FieldChange, Plan, PlanError, UnmanagedUser, UserChange};
use crate::plan::{ListChange, MailboxChange};
use crate::redaction::{MailboxValues, redact_value};
use serde_json::{Value, json};

/// Renders `plan` (docs/output-formats.md#json-format): `format_version`, `changes` (in plan order, with
/// `field`, `before`, `after` per field), `errors` (`user` null for an organization-level
/// error), `unmanaged` (null when not looked for) and `summary`. Values are API values (`""` for empty, booleans as JSON booleans);
/// redacted values become `"(redacted hmac:xxxxxxxx)"` strings.
pub(crate) fn json(plan: &Plan, options: &RenderOptions) -> Value {
    let summary = plan.summary();
    json!({
        "format_version": FORMAT_VERSION,
        "changes": plan.changes.iter().map(|c| change(c, options)).collect::<Vec<_>>(),
        "errors": plan.errors.iter().map(error).collect::<Vec<_>>(),
        "unmanaged": plan.unmanaged.as_ref().map(|u| u.iter().map(unmanaged).collect::<Vec<_>>()),
        "summary": {
            "users": summary.users,
            "to_update": summary.to_update,
            "unchanged": summary.unchanged,
            "errors": summary.errors,
            "unmanaged": summary.unmanaged,
        },
    })
}

fn change(change: &UserChange, options: &RenderOptions) -> Value {
    json!({
        "organization_id": change.organization_id,
        "user": change.user,
        "user_id": change.user_id,
        "source": change.source,
        "fields": change
            .fields
            .iter()
            .map(|f| field(f, options))
            .chain(mailbox_fields(change.mailbox.as_deref(), options))
            .collect::<Vec<_>>(),
    })
}

/// The mailbox keys that differ, after the attributes: lists with `before`, `after` (sorted by
/// lower-case value), `add` and `remove`; the quota with numbers (a redacted quota is its
/// marker string).
fn mailbox_fields(change: Option<&MailboxChange>, options: &RenderOptions) -> Vec<Value> {
    let Some(change) = change else { return Vec::new() };
    let redaction = &options.redaction;
    let list = |key: &str, values: Option<MailboxValues>, c: &ListChange| {
        let shown = |list: &[String]| -> Vec<String> {
            list.iter()
                .map(|v| match values {
                    Some(values) => redaction.mailbox_value(values, v),
                    None => v.clone(),
                })
                .collect()
        };
        json!({
            "field": key,
            "before": shown(&c.before),
            "after": shown(&c.after),
            "add": shown(&c.add),
            "remove": shown(&c.remove),
        })
    };
    let mut fields = Vec::new();
    if let Some(aliases) = &change.aliases {
        fields.push(list(ALIASES, Some(MailboxValues::Aliases), aliases));
    }
    if let Some(groups) = &change.groups {
        fields.push(list(GROUPS, None, groups));
    }
    if let Some(quota) = change.quota {
        let value = |mb: u64| {
            if redaction.covers_mailbox(MailboxValues::Quota) {
                Value::String(redaction.mailbox_value(MailboxValues::Quota, &mb.to_string()))
            } else {
                Value::from(mb)
            }
        };
        fields.push(
            json!({"field": QUOTA, "before": value(quota.before), "after": value(quota.after)}),
        );
    }
    fields
}

fn field(field: &FieldChange, options: &RenderOptions) -> Value {
    // Built by hand rather than by serializing AttrValue so the document's shape is written
    // down here, not implied by serde attributes elsewhere.
    let value = |v| match redact_value(v, field.field, &options.redaction) {
        AttrValue::Bool(b) => Value::Bool(b),
        AttrValue::Text(s) => Value::String(s),
    };
    json!({
        "field": field.field.key(),
        "before": value(&field.before),
        "after": value(&field.after),
    })
}

fn error(error: &PlanError) -> Value {
    json!({
        "organization_id": error.organization_id,
        "user": error.user,
        "source": error.source,
        "message": error.message,
    })
}

fn unmanaged(user: &UnmanagedUser) -> Value {
    json!({
        "organization_id": user.organization_id,
        "user": user.user,
        "user_id": user.user_id,
        "email": user.email,
        "state": user.state.as_str(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::fixture;

    #[test]
    fn render_json_snapshots() {
        for (case, options) in fixture::snapshot_cases() {
            insta::assert_json_snapshot!(
                format!("render_json_{case}"),
                json(&fixture::plan(), &options)
            );
        }
    }

    #[test]
    fn render_json_has_exactly_the_spec_keys() {
        let doc = json(&fixture::plan(), &RenderOptions::default());
        let keys = |v: &Value| -> Vec<String> {
            let mut keys: Vec<String> =
                v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
            keys.sort();
            keys
        };
        assert_eq!(keys(&doc), ["changes", "errors", "format_version", "summary", "unmanaged"]);
        assert_eq!(doc["format_version"], 1);
        assert_eq!(
            keys(&doc["changes"][0]),
            ["fields", "organization_id", "source", "user", "user_id"]
        );
        assert_eq!(keys(&doc["changes"][0]["fields"][0]), ["after", "before", "field"]);
        assert_eq!(keys(&doc["errors"][0]), ["message", "organization_id", "source", "user"]);
        assert_eq!(
            keys(&doc["unmanaged"][0]),
            ["email", "organization_id", "state", "user", "user_id"]
        );
        assert_eq!(
            keys(&doc["summary"]),
            ["errors", "to_update", "unchanged", "unmanaged", "users"]
        );
        assert_eq!(doc["errors"][1]["user"], Value::Null);
        assert_eq!(doc["changes"][1]["fields"][1]["after"], Value::Bool(true));
    }

    #[test]
    fn render_json_redacted_output_contains_no_raw_value() {
        let plan = fixture::plan();
        let rendered = json(&plan, &fixture::all_redacted()).to_string();
        for raw in fixture::raw_values(&plan, |_| true) {
            let encoded = Value::String(raw.clone()).to_string();
            assert!(!rendered.contains(&encoded), "{raw:?} leaked:\n{rendered}");
        }
    }
}
