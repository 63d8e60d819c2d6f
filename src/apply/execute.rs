//! Applying a plan, user by user, concurrently under the directory's limiter.

use super::audit::AuditLog;
use super::dataset::full_dataset;
use super::outcome::{ApplyReport, FieldConflict, Outcome, UserOutcome};
use crate::directory::{Directory, DirectoryError, run_bounded};
use crate::model::live::UserState;
use crate::plan::{FieldChange, Plan, UserChange};
use crate::redaction::Redaction;
use std::sync::Arc;

/// Apply one planned user: fresh DescribeUser, compare-and-swap check of every planned field
/// against the plan's `before`, then one UpdateUser with the full dataset. Failure reasons pass
/// through `redaction`: a service may quote a value it refused.
async fn apply_change<D: Directory>(
    directory: &D,
    change: &UserChange,
    redaction: &Redaction,
) -> Outcome {
    let fresh = match directory.describe_user(&change.organization_id, &change.user_id).await {
        Ok(fresh) => fresh,
        Err(DirectoryError::Halted) => return Outcome::NotAttempted,
        Err(e) => {
            return Outcome::Failed {
                reason: format!("fresh read failed: {e}; the user is untouched"),
            };
        }
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
    let error = match directory.update_user(&request).await {
        Ok(()) => return updated,
        // Stopped between the read and the write: nothing was sent.
        Err(DirectoryError::Halted) => return Outcome::NotAttempted,
        Err(e) => redaction.scrub(&e.to_string(), request.attributes.iter().map(|(a, v)| (*a, v))),
    };
    match verify(directory, change).await {
        // The write happened but its answer was lost (after the SDK's retries).
        Some(true) => updated,
        Some(false) => {
            Outcome::Failed { reason: format!("UpdateUser failed: {error}; the user is untouched") }
        }
        // The full dataset is one request: it was applied whole or not at all.
        None => Outcome::Failed {
            reason: format!(
                "UpdateUser failed: {error}; the user is untouched or updated as planned (its \
                 state could not be read back), run plan to see which"
            ),
        },
    }
}

/// After a failed UpdateUser, read the user once more so the report can say which it is:
/// `Some(true)` every planned field is at its planned value, `Some(false)` it is not.
async fn verify<D: Directory>(directory: &D, change: &UserChange) -> Option<bool> {
    let live = directory.describe_user(&change.organization_id, &change.user_id).await.ok()?;
    Some(change.fields.iter().all(|f| live.get(f.field) == f.after))
}

/// Apply every change of `plan`, consumed; one failing user never stops the others, but a directory that
/// stops (a connection failure) leaves the users after it [`Outcome::NotAttempted`]. `on_user`
/// is called as each user finishes (progress). The audit log, if any, gets one line per
/// attempted user.
pub(crate) async fn apply_plan<D: Directory + Clone + 'static>(
    directory: &D,
    plan: Plan,
    width: usize,
    audit: Option<Arc<AuditLog>>,
    redaction: &Redaction,
    mut on_user: impl FnMut(&UserOutcome),
) -> ApplyReport {
    let users = run_bounded(
        plan.changes,
        width,
        |change| {
            let directory = directory.clone();
            let audit = audit.clone();
            let redaction = redaction.clone();
            async move {
                let outcome = apply_change(&directory, &change, &redaction).await;
                let result = UserOutcome {
                    organization_id: change.organization_id,
                    user: change.user,
                    user_id: change.user_id,
                    source: change.source,
                    outcome,
                };
                if let Some(audit) = audit
                    && result.outcome != Outcome::NotAttempted
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
    use crate::directory::{ConnectionFailure, ConnectionFailureKind, UpdateRequest};
    use crate::model::attr_map::AttrMap;
    use crate::model::attrs::{AttrValue, Attribute};
    use crate::model::live::{ListedUser, ObservedUser, OrganizationSummary};
    use std::sync::Mutex;

    /// A directory whose UpdateUser always fails with `update_error`, after applying the
    /// request or not; once it has failed, DescribeUser fails too unless `reads_after_update`.
    struct FailingWrites {
        user: Mutex<ObservedUser>,
        applies: bool,
        update_error: DirectoryError,
        reads_after_update: bool,
        updates: Mutex<u32>,
    }

    impl Directory for FailingWrites {
        async fn list_organizations(&self) -> Result<Vec<OrganizationSummary>, DirectoryError> {
            Ok(Vec::new())
        }
        async fn list_users(&self, _: &str) -> Result<Vec<ListedUser>, DirectoryError> {
            Ok(Vec::new())
        }
        async fn describe_user(&self, _: &str, _: &str) -> Result<ObservedUser, DirectoryError> {
            if *self.updates.lock().expect("lock") > 0 && !self.reads_after_update {
                return Err(DirectoryError::Halted);
            }
            Ok(self.user.lock().expect("lock").clone())
        }
        async fn update_user(&self, request: &UpdateRequest) -> Result<(), DirectoryError> {
            *self.updates.lock().expect("lock") += 1;
            if self.applies {
                let mut user = self.user.lock().expect("lock");
                user.attributes.extend(request.attributes.clone());
            }
            Err(self.update_error.clone())
        }
    }

    fn lost_answer() -> DirectoryError {
        DirectoryError::Connection(ConnectionFailure {
            operation: "UpdateUser",
            endpoint: "http://127.0.0.1:9".into(),
            kind: ConnectionFailureKind::Unreachable("connection reset by the endpoint".into()),
        })
    }

    fn setup(applies: bool, update_error: DirectoryError) -> (FailingWrites, UserChange) {
        let user = ObservedUser {
            user_id: "u-1".into(),
            name: "alice".into(),
            email: None,
            state: UserState::Enabled,
            attributes: AttrMap::from([
                (Attribute::Office, AttrValue::Text("Old".into())),
                (Attribute::Telephone, AttrValue::Text("+1 555 0100".into())),
            ]),
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
        let directory = FailingWrites {
            user: Mutex::new(user),
            applies,
            update_error,
            reads_after_update: true,
            updates: Mutex::new(0),
        };
        (directory, change)
    }

    #[tokio::test]
    async fn a_lost_answer_is_read_back_and_reported_as_what_happened() {
        let (directory, change) = setup(true, lost_answer());
        assert_eq!(
            apply_change(&directory, &change, &Redaction::None).await,
            Outcome::Updated { fields: vec![Attribute::Office] }
        );
        let (directory, change) = setup(false, lost_answer());
        assert_eq!(
            apply_change(&directory, &change, &Redaction::None).await,
            Outcome::Failed {
                reason: "UpdateUser failed: cannot reach the WorkMail endpoint \
                         http://127.0.0.1:9 (UpdateUser): connection reset by the endpoint; \
                         the user is untouched"
                    .into()
            }
        );
    }

    #[tokio::test]
    async fn a_write_that_cannot_be_read_back_is_untouched_or_correct() {
        let (mut directory, change) = setup(false, lost_answer());
        directory.reads_after_update = false;
        let Outcome::Failed { reason } = apply_change(&directory, &change, &Redaction::None).await
        else {
            panic!("a failed write without a read-back is a failure")
        };
        assert!(reason.ends_with("the user is untouched or updated as planned (its state could not be read back), run plan to see which"), "{reason}");
    }

    #[tokio::test]
    async fn a_stopped_directory_leaves_the_user_not_attempted() {
        // Stopped between the fresh read and the write: nothing is sent, nothing to verify.
        let (directory, change) = setup(false, DirectoryError::Halted);
        assert_eq!(
            apply_change(&directory, &change, &Redaction::None).await,
            Outcome::NotAttempted
        );
    }

    #[tokio::test]
    async fn a_refusal_quoting_a_redacted_value_is_scrubbed() {
        // The request carries the live telephone (unmanaged here): a validation message that
        // quotes it must not print it when telephone is redacted.
        let refusal = DirectoryError::InvalidParameter(
            "1 validation error detected: Value '+1 555 0100' at 'telephone' failed".into(),
        );
        let (directory, change) = setup(false, refusal);
        let redaction = Redaction::Fields(
            std::collections::BTreeSet::from([Attribute::Telephone]),
            crate::redaction::RedactionKey::random().expect("key"),
        );
        let Outcome::Failed { reason } = apply_change(&directory, &change, &redaction).await else {
            panic!("a refused write is a failure")
        };
        assert!(!reason.contains("555"), "{reason}");
        assert!(reason.contains("Value '(redacted hmac:"), "{reason}");
    }
}
