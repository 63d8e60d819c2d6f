//! Applying a plan, user by user, concurrently under the directory's limiter.

use super::audit::AuditLog;
use super::dataset::full_dataset;
use super::mailbox_steps::{
    PartStep, StepError, apply_aliases, apply_groups, apply_quota, live_quota,
};
use super::outcome::{ApplyReport, FieldConflict, Outcome, UserOutcome};
use crate::directory::{Directory, DirectoryError, run_bounded};
use crate::model::live::UserState;
use crate::plan::mailbox::{ALIASES, GROUPS, QUOTA};
use crate::plan::{FieldChange, Plan, UserChange};
use crate::redaction::Redaction;
use std::sync::Arc;

/// Apply one planned user: fresh DescribeUser (and GetMailboxDetails when the quota is
/// planned), compare-and-swap check of every planned field and the quota against the plan's
/// `before`, then, in order, one UpdateUser with the full dataset, the aliases, the groups and
/// the quota, each preceded by its own read. The first write that fails ends the user's apply.
/// Failure reasons pass through `redaction`: a service may quote a value it refused.
async fn apply_change<D: Directory>(
    directory: &D,
    change: &UserChange,
    redaction: &Redaction,
) -> Outcome {
    let (organization_id, user_id) = (&change.organization_id, &change.user_id);
    let fresh = match directory.describe_user(organization_id, user_id).await {
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
            conflicts.push(FieldConflict { field: field.field.key() });
        }
    }
    let mailbox = change.mailbox.as_deref();
    let planned_quota = mailbox.and_then(|m| m.quota);
    // Every planned value is checked before the first write: a conflict skips the whole user.
    let mut quota_read = None;
    if let Some(quota) = planned_quota {
        match live_quota(directory, organization_id, user_id).await {
            Ok(live) if live != quota.before && live != quota.after => {
                conflicts.push(FieldConflict { field: QUOTA })
            }
            Ok(live) => quota_read = Some(live),
            Err(StepError::Halted) => return Outcome::NotAttempted,
            Err(StepError::Failed(reason)) => {
                return Outcome::Failed {
                    reason: format!("fresh read {reason}; the user is untouched"),
                };
            }
        }
    }
    if !conflicts.is_empty() {
        return Outcome::Conflict { fields: conflicts };
    }
    let mut done: Vec<&'static str> = Vec::new();
    if !needed.is_empty() {
        if let Err(outcome) = update_user(directory, change, &fresh, redaction).await {
            return outcome;
        }
        done.extend(needed.iter().map(|f| f.field.key()));
    }
    let mut part = PartStep::default();
    let step = async {
        if let Some(aliases) = mailbox.and_then(|m| m.aliases.as_ref())
            && apply_aliases(directory, organization_id, user_id, aliases, redaction, &mut part)
                .await?
        {
            done.push(ALIASES);
        }
        if let Some(groups) = mailbox.and_then(|m| m.groups.as_ref())
            && apply_groups(directory, organization_id, user_id, groups, &mut part).await?
        {
            done.push(GROUPS);
        }
        if let Some(quota) = planned_quota {
            // The read before the first write serves unless something was written since.
            let live = match quota_read {
                Some(live) if done.is_empty() => live,
                _ => live_quota(directory, organization_id, user_id).await?,
            };
            if apply_quota(directory, organization_id, user_id, quota, live, redaction).await? {
                done.push(QUOTA);
            }
        }
        Ok::<(), StepError>(())
    };
    match step.await {
        Ok(()) if done.is_empty() => Outcome::Unchanged,
        Ok(()) => Outcome::Updated { fields: done },
        Err(StepError::Halted) if done.is_empty() && part.written().is_none() => {
            Outcome::NotAttempted
        }
        Err(error) => {
            let reason = match error {
                StepError::Halted => "the run stopped after a connection failure".to_string(),
                StepError::Failed(reason) => reason,
            };
            // Whole keys written, then the writes of the step cut short.
            let partly = part.written();
            let written: Vec<&str> = done.iter().copied().chain(partly.as_deref()).collect();
            let progress = if written.is_empty() {
                String::new()
            } else {
                format!("; already done: {}", written.join(", "))
            };
            Outcome::Failed { reason: format!("{reason}{progress}; the rest is not attempted") }
        }
    }
}

/// One UpdateUser with the full dataset; after a failed one, a read tells whether it happened.
/// `Err` with the user's outcome when it did not.
async fn update_user<D: Directory>(
    directory: &D,
    change: &UserChange,
    fresh: &crate::model::live::ObservedUser,
    redaction: &Redaction,
) -> Result<(), Outcome> {
    let request = full_dataset(&change.organization_id, fresh, &change.fields);
    let error = match directory.update_user(&request).await {
        Ok(()) => return Ok(()),
        // Stopped between the read and the write: nothing was sent.
        Err(DirectoryError::Halted) => return Err(Outcome::NotAttempted),
        Err(e) => redaction.scrub(&e.to_string(), request.attributes.iter().map(|(a, v)| (*a, v))),
    };
    match verify(directory, change).await {
        // The write happened but its answer was lost (after the SDK's retries).
        Some(true) => Ok(()),
        Some(false) => Err(Outcome::Failed {
            reason: format!("UpdateUser failed: {error}; the user is untouched"),
        }),
        // The full dataset is one request: it was applied whole or not at all.
        None => Err(Outcome::Failed {
            reason: format!(
                "UpdateUser failed: {error}; the user is untouched or updated as planned (its \
                 state could not be read back), run plan to see which"
            ),
        }),
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
    use crate::model::live::{
        GroupMember, GroupMembership, GroupSummary, ListedUser, MailboxDetails, ObservedUser,
        OrganizationSummary,
    };
    use std::sync::Mutex;

    /// A directory whose UpdateUser always fails with `update_error`, after applying the
    /// request or not; once it has failed, DescribeUser fails too unless `reads_after_update`.
    struct FailingWrites {
        user: Mutex<ObservedUser>,
        applies: bool,
        update_error: DirectoryError,
        reads_after_update: bool,
        updates: Mutex<u32>,
        /// The user's aliases; CreateAlias adds to them until `alias_writes_before_halt` are
        /// made, then the directory stops (a connection failure elsewhere).
        aliases: Mutex<Vec<String>>,
        alias_writes_before_halt: usize,
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
        async fn list_aliases(&self, _: &str, _: &str) -> Result<Vec<String>, DirectoryError> {
            Ok(self.aliases.lock().expect("lock").clone())
        }
        async fn list_groups(&self, _: &str) -> Result<Vec<GroupSummary>, DirectoryError> {
            Ok(Vec::new())
        }
        async fn list_groups_for_entity(
            &self,
            _: &str,
            _: &str,
        ) -> Result<Vec<GroupMembership>, DirectoryError> {
            Ok(Vec::new())
        }
        async fn list_group_members(
            &self,
            _: &str,
            _: &str,
        ) -> Result<Vec<GroupMember>, DirectoryError> {
            Ok(Vec::new())
        }
        async fn mailbox_details(
            &self,
            _: &str,
            _: &str,
        ) -> Result<MailboxDetails, DirectoryError> {
            Ok(MailboxDetails { quota_mb: 1, size_bytes: 0 })
        }
        async fn create_alias(&self, _: &str, _: &str, alias: &str) -> Result<(), DirectoryError> {
            let mut aliases = self.aliases.lock().expect("lock");
            if aliases.len() >= self.alias_writes_before_halt {
                return Err(DirectoryError::Halted);
            }
            aliases.push(alias.to_string());
            Ok(())
        }
        // The attribute and alias tests make none of these.
        async fn delete_alias(&self, _: &str, _: &str, _: &str) -> Result<(), DirectoryError> {
            Ok(())
        }
        async fn associate_member_to_group(
            &self,
            _: &str,
            _: &str,
            _: &str,
        ) -> Result<(), DirectoryError> {
            Ok(())
        }
        async fn disassociate_member_from_group(
            &self,
            _: &str,
            _: &str,
            _: &str,
        ) -> Result<(), DirectoryError> {
            Ok(())
        }
        async fn update_mailbox_quota(
            &self,
            _: &str,
            _: &str,
            _: u64,
        ) -> Result<(), DirectoryError> {
            Ok(())
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
            mailbox: None,
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
            aliases: Mutex::new(Vec::new()),
            alias_writes_before_halt: usize::MAX,
        };
        (directory, change)
    }

    #[tokio::test]
    async fn a_lost_answer_is_read_back_and_reported_as_what_happened() {
        let (directory, change) = setup(true, lost_answer());
        assert_eq!(
            apply_change(&directory, &change, &Redaction::None).await,
            Outcome::Updated { fields: vec!["office"] }
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
    async fn a_stop_after_some_alias_writes_says_what_was_written() {
        // Only aliases change: one CreateAlias is made, then the directory stops. The user is
        // not untouched, and the report must not say so.
        let (mut directory, mut change) = setup(false, DirectoryError::Halted);
        directory.alias_writes_before_halt = 1;
        change.fields.clear();
        let add: Vec<String> =
            ["a@x.example", "b@x.example", "c@x.example"].map(String::from).into();
        change.mailbox = Some(Box::new(crate::plan::MailboxChange {
            aliases: Some(crate::plan::ListChange {
                before: Vec::new(),
                after: add.clone(),
                add,
                remove: Vec::new(),
            }),
            groups: None,
            quota: None,
        }));
        assert_eq!(
            apply_change(&directory, &change, &Redaction::None).await,
            Outcome::Failed {
                reason: "the run stopped after a connection failure; already done: 1 of the 3 \
                         alias writes; the rest is not attempted"
                    .into()
            }
        );
        // Stopped before the first: untouched.
        directory.aliases.lock().expect("lock").clear();
        directory.alias_writes_before_halt = 0;
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
        let redaction = Redaction::fields(
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
