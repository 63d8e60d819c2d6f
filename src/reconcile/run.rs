//! The values a run passes from step to step: a plan to be guarded, a plan the safety limits
//! allow, and the report of a whole run.

use crate::apply::{ApplyReport, SafetyLimits, SafetyRefusal, check_safety};
use crate::directory::ConnectionFailure;
use crate::plan::{Plan, Summary};
use thiserror::Error;

/// A plan, computed (or read from a saved plan) and not yet checked against the safety limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRun {
    pub plan: Plan,
}

impl PlannedRun {
    /// A plan saved earlier and reviewed as it is: applied whole, after the same guard.
    pub(crate) fn from_saved(plan: Plan) -> PlannedRun {
        PlannedRun { plan }
    }

    /// The safety step: the plan may be applied only if it stays within `limits`.
    pub fn guard(self, limits: SafetyLimits) -> Result<GuardedRun, Refused> {
        match check_safety(&self.plan, limits) {
            Ok(()) => Ok(GuardedRun { plan: self.plan }),
            Err(refusal) => Err(Refused { refusal, run: Box::new(self) }),
        }
    }
}

/// A plan the safety limits allow; only this can be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardedRun {
    plan: Plan,
}

impl GuardedRun {
    pub(super) fn into_plan(self) -> Plan {
        self.plan
    }
}

/// A run the safety limits refused; nothing was written. The plan comes back for reporting.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{refusal}")]
pub struct Refused {
    pub refusal: SafetyRefusal,
    pub run: Box<PlannedRun>,
}

/// One whole run: what was planned, and what applying it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunReport {
    /// The plan's counts.
    pub planned: Summary,
    /// Every attempted user's outcome, and the plan's own errors.
    pub applied: ApplyReport,
}

/// Why a whole run ([`super::Reconciler::reconcile`]) did not finish as planned.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RunError {
    /// The safety limits refused the plan; nothing was written.
    #[error(transparent)]
    Refused(#[from] Refused),
    /// The directory stopped answering: while planning (`applied` is empty, nothing was
    /// written) or while applying (`applied` says which users were reached).
    #[error("{failure}")]
    Stopped { failure: ConnectionFailure, applied: ApplyReport },
}

impl From<ConnectionFailure> for RunError {
    fn from(failure: ConnectionFailure) -> RunError {
        RunError::Stopped { failure, applied: ApplyReport::default() }
    }
}
