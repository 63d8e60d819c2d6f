//! Why a run of the controller did not converge, one variant per way it can end short: the
//! message of each is the sentence the status, the metrics' Ready condition and the run's log
//! line carry, and [`error_policy`](super::error_policy) decides the retry by the variant.

use super::context::RunConclusion;
use super::source::SourceError;
use super::status::{ReadyReason, RunResult};
use crate::reconcile::ConnectionFailure;
use crate::reconcile::SafetyRefusal;
use thiserror::Error;

/// How far a run got when the endpoint failed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunStage {
    /// Reading the live state: nothing was planned or written.
    Planning,
    /// Writing: the users after the failure were not attempted.
    Applying,
}

impl RunStage {
    /// What the failure at this stage left undone.
    fn consequence(self) -> &'static str {
        match self {
            RunStage::Planning => "nothing was planned or applied",
            RunStage::Applying => "the users after it were not attempted",
        }
    }
}

/// Why a run ended without converging.
#[derive(Debug, Clone, PartialEq, Error)]
pub(crate) enum ReconcileError {
    /// SOURCE could not be resolved or listed (missing, not a directory, unreadable).
    #[error("{0}; nothing was applied")]
    SourceUnreadable(SourceError),
    /// The task reading the source ended without an answer (it panicked or was cancelled).
    #[error("reading the source failed: {0}; nothing was applied")]
    SourceReadAborted(String),
    /// The files failed validation, or a selected user is declared nowhere; every error was
    /// logged, one line each.
    #[error("{0}; nothing was applied")]
    SourceInvalid(String),
    /// The plan is over the safety limits; the controller has no `--force`.
    #[error(
        "{0}. The controller has no --force: run `workmail-reconcile apply --force` once if the \
         change is intended, and the next run finds nothing to do"
    )]
    Blocked(SafetyRefusal),
    /// The first stop signal came while planning: nothing was written.
    #[error("stopped by a signal after planning; nothing was applied")]
    StoppedBySignal,
    /// A call got no usable answer (unreachable endpoint, refused credentials, …), which
    /// stopped the run at `stage`.
    #[error("{failure}; {}", stage.consequence())]
    Connection { failure: ConnectionFailure, stage: RunStage },
    /// The plan has errors (users or organizations not found, failed reads) and nothing else
    /// was written, or writing was not allowed.
    #[error("{count} plan errors{first}")]
    PlanErrors {
        count: usize,
        /// `, the first: USER (FILE:LINE): MESSAGE`, or empty.
        first: String,
        /// Whether a call of the run failed in a way that may pass by itself.
        transient_call_failure: bool,
    },
    /// The apply ran and some users did not converge: conflicts, failed writes, plan errors,
    /// users not attempted.
    #[error(
        "{updated} updated, {conflicts} conflicts, {failed} failed, {errors} plan errors, \
         {not_attempted} not attempted"
    )]
    UsersNotConverged {
        updated: usize,
        conflicts: usize,
        failed: usize,
        errors: usize,
        not_attempted: usize,
        /// Whether a call of the run failed in a way that may pass by itself.
        transient_call_failure: bool,
    },
}

impl ReconcileError {
    /// The run's result in the status and the metrics.
    pub(crate) fn result(&self) -> RunResult {
        match self {
            ReconcileError::SourceUnreadable(_)
            | ReconcileError::SourceReadAborted(_)
            | ReconcileError::SourceInvalid(_) => RunResult::Invalid,
            ReconcileError::Blocked(_) => RunResult::Blocked,
            ReconcileError::StoppedBySignal
            | ReconcileError::Connection { .. }
            | ReconcileError::PlanErrors { .. }
            | ReconcileError::UsersNotConverged { .. } => RunResult::Failure,
        }
    }

    /// The reason of the Ready condition after the run.
    pub(crate) fn reason(&self) -> ReadyReason {
        match self.result() {
            RunResult::Invalid => ReadyReason::SourceInvalid,
            RunResult::Blocked => ReadyReason::UnsafePlan,
            RunResult::Success | RunResult::Drift | RunResult::Failure => {
                ReadyReason::ReconciliationFailed
            }
        }
    }
}

/// A run that ended short: why, and the report of what it did.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FailedRun {
    pub error: ReconcileError,
    pub report: RunConclusion,
}

/// What one run gave: its report, or why it did not converge with its report (boxed: a
/// report is large, and an error holds one).
pub(crate) type RunOutcome = Result<RunConclusion, Box<FailedRun>>;

/// The report of a run, whatever its outcome.
pub(crate) fn report_of(outcome: &RunOutcome) -> &RunConclusion {
    match outcome {
        Ok(report) => report,
        Err(failed) => &failed.report,
    }
}
