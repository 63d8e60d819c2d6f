//! Planned values in the log: personal data, so only at debug level (`-vv`), never at `-v`,
//! and redacted as on stdout.

use super::mailbox::mailbox_rows;
use crate::model::attrs::{AttrValue, Attribute};
use crate::plan::Plan;
use crate::redaction::{Redaction, redact_value};

/// A value as a log field: text as a string (quoted in text logs), a boolean as a boolean, a
/// redaction marker as displayed (bare in text logs). JSON logs so carry the value itself, not
/// its quoted display.
enum Logged<'a> {
    Text(&'a str),
    Bool(bool),
    Marker(String),
}

impl Logged<'_> {
    fn of<'a>(value: &'a AttrValue, field: Attribute, redaction: &Redaction) -> Logged<'a> {
        if redaction.covers(field) {
            let marker = match redact_value(value, field, redaction) {
                AttrValue::Text(marker) => marker,
                AttrValue::Bool(flag) => flag.to_string(),
            };
            return Logged::Marker(marker);
        }
        match value {
            AttrValue::Text(text) => Logged::Text(text),
            AttrValue::Bool(flag) => Logged::Bool(*flag),
        }
    }
}

/// `$body` with `$name` bound to `$value` as a `tracing` field value of its own type.
macro_rules! as_field {
    ($value:expr, |$name:ident| $body:expr) => {
        match $value {
            Logged::Text($name) => $body,
            Logged::Bool($name) => $body,
            Logged::Marker(marker) => {
                let $name = tracing::field::display(marker);
                $body
            }
        }
    };
}

/// One debug line per changed field of `plan`, its values passed through `redaction`; nothing
/// when debug logs are off.
pub(crate) fn log_planned_values(plan: &Plan, redaction: &Redaction) {
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return;
    }
    for change in &plan.changes {
        for field in &change.fields {
            let before = Logged::of(&field.before, field.field, redaction);
            let after = Logged::of(&field.after, field.field, redaction);
            as_field!(before, |before| as_field!(after, |after| tracing::debug!(
                user = %change.user, field = %field.field, before, after, "planned change"
            )));
        }
        for row in mailbox_rows(change.mailbox.as_deref(), redaction) {
            let planned = row.plain();
            tracing::debug!(user = %change.user, field = row.key(), planned, "planned change");
        }
    }
}
