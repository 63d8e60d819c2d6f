//! Applying a plan, user by user, concurrently under the directory's limiter.

use super::audit::AuditLog;
use super::dataset::full_dataset;
use super::outcome::{ApplyReport, FieldConflict, Outcome, UserOutcome};
use crate::directory::{Directory, UserState, run_bounded};
use crate::plan::{FieldChange, Plan, UserChange};
use std::sync::Arc;

/// Apply one planned user: fresh DescribeUser, compare-and-swap check of every planned field
/// against the plan's `before`, then one UpdateUser with the full dataset.
pub async fn apply_change<D: Directory>(directory: &D, change: &UserChange) -> Outcome {
    let fresh = match directory.describe_user(&change.organization_id, &change.user_id).await {
        Ok(fresh) => fresh,
        Err(e) => return Outcome::Failed { reason: format!("fresh read failed: {e}") },
    };
    if fresh.state == UserState::Deleted {
        return Outcome::Failed { reason: "user was DELETED since the plan".into() };
    }
    let mut needed: Vec<&FieldChange> = Vec::new();
    let mut conflicts = Vec::new();
    for field in &change.fields {
        let live = fresh.get(field.field);
        if live == field.after {
            continue;
        }
        if live == field.before {
            needed.push(field);
        } else {
            conflicts.push(FieldConflict { field: field.field });
        }
    }
    if !conflicts.is_empty() {
        return Outcome::Conflict { fields: conflicts };
    }
    if needed.is_empty() {
        return Outcome::Unchanged;
    }
    let request = full_dataset(&change.organization_id, &fresh, &change.fields);
    match directory.update_user(&request).await {
        Ok(()) => Outcome::Updated { fields: needed.iter().map(|f| f.field).collect() },
        Err(e) => Outcome::Failed { reason: format!("UpdateUser failed: {e}") },
    }
}

/// Apply every change of `plan`; one failing user never stops the others. `on_user` is called
/// as each user finishes (progress). The audit log, if any, gets one line per attempted user.
pub async fn apply_plan<D: Directory + Clone + 'static>(
    directory: &D,
    plan: &Plan,
    width: usize,
    audit: Option<Arc<AuditLog>>,
    mut on_user: impl FnMut(&UserOutcome),
) -> ApplyReport {
    let users = run_bounded(
        plan.changes.clone(),
        width,
        |change| {
            let directory = directory.clone();
            let audit = audit.clone();
            async move {
                let outcome = apply_change(&directory, &change).await;
                let result = UserOutcome {
                    organization_id: change.organization_id,
                    user: change.user,
                    user_id: change.user_id,
                    source: change.source,
                    outcome,
                };
                if let Some(audit) = audit
                    && let Err(e) = audit.record(&result)
                {
                    tracing::error!(error = %e, user = %result.user, "could not write the audit log");
                }
                result
            }
        },
        |outcome| on_user(outcome),
    )
    .await;
    ApplyReport { users, unchanged_in_plan: plan.unchanged.len(), plan_errors: plan.errors.clone() }
}
