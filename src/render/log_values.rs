//! Planned values in the log: personal data, so only at debug level (`-vv`), never at `-v`,
//! and redacted as on stdout.

use super::redact::{Redaction, display_value};
use crate::plan::Plan;

/// One debug line per changed field of `plan`, its values passed through `redaction`; nothing
/// when debug logs are off.
pub(crate) fn log_planned_values(plan: &Plan, redaction: &Redaction) {
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return;
    }
    for change in &plan.changes {
        for field in &change.fields {
            let before = display_value(&field.before, field.field, redaction);
            let after = display_value(&field.after, field.field, redaction);
            tracing::debug!(user = %change.user, field = %field.field, %before, %after, "planned change");
        }
    }
}
