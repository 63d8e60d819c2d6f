//! What happened to each user of an apply, as values; `render::apply_report` prints them.

use crate::plan::PlanError;
use serde::Serialize;

/// A planned field whose live value is now neither the plan's `before` nor its `after`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldConflict {
    /// The key as files write it: an attribute or `mailbox_quota_mb`.
    pub field: &'static str,
}

/// The result for one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The writes succeeded; these keys (attributes, then mailbox keys) changed.
    Updated { fields: Vec<&'static str> },
    /// Every planned field was already at its planned value: nothing sent.
    Unchanged,
    /// A planned field changed live since the plan; the user was skipped.
    Conflict { fields: Vec<FieldConflict> },
    /// The fresh read or the update failed after retries; the user is untouched or, if the
    /// answer to an update was lost, correct (the full dataset makes the retry harmless).
    Failed { reason: String },
    /// Nothing was sent for this user: an earlier call found the endpoint unusable and the
    /// run stopped. The user is untouched.
    NotAttempted,
}

impl Outcome {
    /// The lower-case name used in the report and the audit log.
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Updated { .. } => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::Conflict { .. } => "conflict",
            Outcome::Failed { .. } => "failed",
            Outcome::NotAttempted => "not attempted",
        }
    }
}

/// One attempted user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserOutcome {
    pub organization_id: String,
    pub user: String,
    pub user_id: String,
    pub source: String,
    pub outcome: Outcome,
}

/// The whole apply: every planned user's outcome, plus the plan's own errors (never applied).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    pub users: Vec<UserOutcome>,
    /// Users already unchanged in the plan (not attempted).
    pub unchanged_in_plan: usize,
    pub plan_errors: Vec<PlanError>,
}

impl ApplyReport {
    /// How many users had the outcome of this [`Outcome::name`].
    pub(crate) fn count(&self, name: &str) -> usize {
        self.users.iter().filter(|u| u.outcome.name() == name).count()
    }

    /// Whether every user is now as declared.
    pub fn succeeded(&self) -> bool {
        self.plan_errors.is_empty()
            && self
                .users
                .iter()
                .all(|u| matches!(u.outcome, Outcome::Updated { .. } | Outcome::Unchanged))
    }
}
