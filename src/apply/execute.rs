//! Applying a plan, user by user, concurrently under the directory's limiter.

use super::audit::AuditLog;
use super::dataset::full_dataset;
use super::outcome::{ApplyReport, FieldConflict, Outcome, UserOutcome};
use crate::directory::{Directory, run_bounded};
use crate::live::UserState;
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
    let updated = Outcome::Updated { fields: needed.iter().map(|f| f.field).collect() };
    match directory.update_user(&request).await {
        Ok(()) => updated,
        Err(e) => match verify(directory, change).await {
            // The write happened but its answer was lost (after the SDK's retries).
            Some(true) => updated,
            Some(false) => {
                Outcome::Failed { reason: format!("UpdateUser failed: {e}; the user is untouched") }
            }
            None => Outcome::Failed {
                reason: format!(
                    "UpdateUser failed: {e}; its state could not be read back, run plan to check"
                ),
            },
        },
    }
}

/// After a failed UpdateUser, read the user once more so the report can say which it is:
/// `Some(true)` every planned field is at its planned value, `Some(false)` it is not.
async fn verify<D: Directory>(directory: &D, change: &UserChange) -> Option<bool> {
    let live = directory.describe_user(&change.organization_id, &change.user_id).await.ok()?;
    Some(change.fields.iter().all(|f| live.get(f.field) == f.after))
}

/// Apply every change of `plan`, consumed; one failing user never stops the others. `on_user` is called
/// as each user finishes (progress). The audit log, if any, gets one line per attempted user.
pub async fn apply_plan<D: Directory + Clone + 'static>(
    directory: &D,
    plan: Plan,
    width: usize,
    audit: Option<Arc<AuditLog>>,
    mut on_user: impl FnMut(&UserOutcome),
) -> ApplyReport {
    let users = run_bounded(
        plan.changes,
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
    ApplyReport { users, unchanged_in_plan: plan.unchanged.len(), plan_errors: plan.errors }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attr_map::AttrMap;
    use crate::attrs::{AttrValue, Attribute};
    use crate::directory::{DirectoryError, UpdateRequest};
    use crate::live::{ListedUser, ObservedUser, OrganizationSummary};
    use std::sync::Mutex;

    /// A directory whose UpdateUser always loses its answer, after applying it or not.
    struct LostAnswers {
        user: Mutex<ObservedUser>,
        applies: bool,
    }

    impl Directory for LostAnswers {
        async fn list_organizations(&self) -> Result<Vec<OrganizationSummary>, DirectoryError> {
            Ok(Vec::new())
        }
        async fn list_users(&self, _: &str) -> Result<Vec<ListedUser>, DirectoryError> {
            Ok(Vec::new())
        }
        async fn describe_user(&self, _: &str, _: &str) -> Result<ObservedUser, DirectoryError> {
            Ok(self.user.lock().expect("lock").clone())
        }
        async fn update_user(&self, request: &UpdateRequest) -> Result<(), DirectoryError> {
            if self.applies {
                let mut user = self.user.lock().expect("lock");
                user.attributes.extend(request.attributes.clone());
            }
            Err(DirectoryError::Transport("connection closed before the answer".into()))
        }
    }

    fn setup(applies: bool) -> (LostAnswers, UserChange) {
        let user = ObservedUser {
            user_id: "u-1".into(),
            name: "alice".into(),
            email: None,
            state: UserState::Enabled,
            attributes: AttrMap::from([(Attribute::Office, AttrValue::Text("Old".into()))]),
        };
        let change = UserChange {
            organization_id: "m-1".into(),
            user: "alice".into(),
            user_id: "u-1".into(),
            source: "f.yaml:3".into(),
            fields: vec![FieldChange {
                field: Attribute::Office,
                before: AttrValue::Text("Old".into()),
                after: AttrValue::Text("New".into()),
            }],
        };
        (LostAnswers { user: Mutex::new(user), applies }, change)
    }

    #[tokio::test]
    async fn a_lost_answer_is_read_back_and_reported_as_what_happened() {
        let (directory, change) = setup(true);
        assert_eq!(
            apply_change(&directory, &change).await,
            Outcome::Updated { fields: vec![Attribute::Office] }
        );
        let (directory, change) = setup(false);
        assert_eq!(
            apply_change(&directory, &change).await,
            Outcome::Failed {
                reason:
                    "UpdateUser failed: connection closed before the answer; the user is untouched"
                        .into()
            }
        );
    }
}
