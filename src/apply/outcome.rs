//! What happened to each user of an apply.

use crate::attrs::Attribute;
use crate::plan::PlanError;
use serde::Serialize;

/// A planned field whose live value is now neither the plan's `before` nor its `after`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldConflict {
    pub field: Attribute,
}

/// The result for one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// UpdateUser succeeded; these fields changed.
    Updated { fields: Vec<Attribute> },
    /// Every planned field was already at its planned value: nothing sent.
    Unchanged,
    /// A planned field changed live since the plan; the user was skipped.
    Conflict { fields: Vec<FieldConflict> },
    /// The fresh read or the update failed after retries; the user is untouched or, if the
    /// answer to an update was lost, correct (the full dataset makes the retry harmless).
    Failed { reason: String },
}

impl Outcome {
    /// The lower-case name used in the report and the audit log.
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Updated { .. } => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::Conflict { .. } => "conflict",
            Outcome::Failed { .. } => "failed",
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
    fn count(&self, name: &str) -> usize {
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

    /// Every attempted user, one line each, then the summary line.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for user in &self.users {
            let detail = match &user.outcome {
                Outcome::Updated { fields } => {
                    let names: Vec<&str> = fields.iter().map(|f| f.key()).collect();
                    format!("updated: {}", names.join(", "))
                }
                Outcome::Unchanged => "unchanged: already as planned".to_string(),
                Outcome::Conflict { fields } => {
                    let names: Vec<&str> = fields.iter().map(|f| f.field.key()).collect();
                    format!(
                        "conflict: {} changed live since the plan; skipped, plan again",
                        names.join(", ")
                    )
                }
                Outcome::Failed { reason } => format!("failed: {reason}"),
            };
            out.push_str(&format!("  {} ({}) {detail}\n", user.user, user.user_id));
        }
        for error in &self.plan_errors {
            let who = error.user.as_deref().unwrap_or(&error.organization_id);
            out.push_str(&format!("  {who} not applied: {}\n", error.message));
        }
        out.push_str(&self.summary_line());
        out.push('\n');
        out
    }

    /// `Apply: 3 updated, 40 unchanged, 1 conflict, 0 failed, 1 error.`
    pub fn summary_line(&self) -> String {
        let plural = |n: usize, word: &str| {
            if n == 1 { format!("{n} {word}") } else { format!("{n} {word}s") }
        };
        format!(
            "Apply: {} updated, {} unchanged, {}, {} failed, {}.",
            self.count("updated"),
            self.count("unchanged") + self.unchanged_in_plan,
            plural(self.count("conflict"), "conflict"),
            self.count("failed"),
            plural(self.plan_errors.len(), "error"),
        )
    }
}
