//! What the controller tells the world about itself: the `/status` document, the status page
//! and the readiness probe all read this one value. Only the loop writes it.

use serde::Serialize;
use std::collections::VecDeque;

/// How many runs `history` keeps, newest first.
pub const HISTORY_LENGTH: usize = 10;

/// What a run may do to the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Plan and report; never write.
    Observe,
    /// Apply when the revision differs from the last one applied successfully.
    ApplyOnChange,
    /// Apply on every run.
    SelfHeal,
}

/// Why a run started. A run started by coalesced triggers carries the first explicit one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    /// The first run after start.
    Startup,
    /// The interval elapsed.
    Interval,
    /// The source has a new revision.
    Source,
    /// A signed `POST /trigger`.
    Webhook,
    /// SIGHUP.
    Signal,
    /// The retry after a failed run.
    Retry,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunResult {
    /// Planned, and applied where the mode allows, with no failure.
    Success,
    /// The run did not write (observe, suspended, or a revision already applied) and the plan
    /// has changes.
    Drift,
    /// The plan is over the safety limit; nothing was written.
    Blocked,
    /// The source failed validation; nothing was written.
    Invalid,
    /// An API failure ended the run early, or a user failed or conflicted.
    Failure,
}

/// The reason of the Ready condition, as Flux names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ReadyReason {
    ReconciliationSucceeded,
    DriftDetected,
    UnsafePlan,
    SourceInvalid,
    ReconciliationFailed,
    Suspended,
    /// Before the first run ends.
    Progressing,
}

impl ReadyReason {
    /// Whether the controller counts as ready with this reason.
    pub fn is_ready(self) -> bool {
        matches!(
            self,
            ReadyReason::ReconciliationSucceeded
                | ReadyReason::DriftDetected
                | ReadyReason::Suspended
        )
    }
}

/// The Ready condition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ready {
    /// `reason.is_ready()`.
    pub status: bool,
    pub reason: ReadyReason,
    /// One sentence for people (no attribute values).
    pub message: String,
    /// When the condition last changed, RFC 3339.
    pub since: String,
}

/// The revisions the controller has seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Revisions {
    /// The revision the last run read, valid or not.
    pub attempted: Option<String>,
    /// The last revision a run applied without a failure.
    pub applied: Option<String>,
}

/// The counts of one run: the plan's and the apply's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    pub users: usize,
    pub to_update: usize,
    pub unchanged: usize,
    pub errors: usize,
    pub updated: usize,
    pub conflicts: usize,
    pub failed: usize,
}

/// One finished run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    pub trigger: Trigger,
    /// RFC 3339.
    pub started: String,
    pub duration_seconds: f64,
    pub result: RunResult,
    /// The revision the run read (absent when the source could not be read at all).
    pub revision: Option<String>,
    pub summary: RunSummary,
}

/// One changed field of a drifted user. `before` and `after` are already redacted as the
/// controller's redaction flags ask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldDrift {
    /// The YAML key of the attribute.
    pub field: String,
    pub before: String,
    pub after: String,
}

/// One user whose live attributes differ from the files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserDrift {
    /// The key the files declare it under.
    pub user: String,
    pub user_id: String,
    pub fields: Vec<FieldDrift>,
}

/// The drift of one organization in the last plan, before any apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrganizationDrift {
    pub organization_id: String,
    pub alias: Option<String>,
    /// Users the files declare in this organization.
    pub desired_users: usize,
    pub users: Vec<UserDrift>,
}

/// Everything `/status` and the status page show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    pub mode: Mode,
    /// The source holds the suspend file: runs plan and report but never write.
    pub suspended: bool,
    pub ready: Ready,
    pub revision: Revisions,
    pub last_run: Option<RunRecord>,
    /// The last [`HISTORY_LENGTH`] runs, newest first (`last_run` is the first).
    pub history: VecDeque<RunRecord>,
    /// The drift of the last run that completed a plan, per organization.
    pub drift: Vec<OrganizationDrift>,
}
