//! When to run again after a failed run: soon for a failure that may pass by itself (the
//! service throttled, an endpoint was unreachable, a user changed live between the plan and
//! its write), not before the interval for one that needs a person (credentials refused, an
//! organization or a user that does not exist, an invalid source, a plan over the limits).

use super::call_failure::connection_class;
use super::reconcile_error::ReconcileError;
use std::time::Duration;

/// The first retry after a transient failure; each further consecutive failure doubles it.
const FIRST_RETRY: Duration = Duration::from_secs(5);

/// What kind of failure ended a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailureClass {
    /// May pass by itself: retried sooner than the interval.
    Transient,
    /// Will fail the same way until a person acts: waits for the interval (or a trigger).
    Terminal,
}

/// Whether `error` may pass by itself.
pub(crate) fn classify(error: &ReconcileError) -> FailureClass {
    let transient_if = |transient: bool| {
        if transient { FailureClass::Transient } else { FailureClass::Terminal }
    };
    match error {
        ReconcileError::SourceUnreadable(_)
        | ReconcileError::SourceReadAborted(_)
        | ReconcileError::SourceInvalid(_)
        | ReconcileError::Blocked(_)
        | ReconcileError::StoppedBySignal => FailureClass::Terminal,
        ReconcileError::Connection { failure, .. } => connection_class(&failure.kind),
        ReconcileError::PlanErrors { transient_call_failure, .. } => {
            transient_if(*transient_call_failure)
        }
        // The next plan sees the live value a conflict met.
        ReconcileError::UsersNotConverged { conflicts, transient_call_failure, .. } => {
            transient_if(*conflicts > 0 || *transient_call_failure)
        }
    }
}

/// Whether `error` counts as a failure for the backoff: an invalid source and a blocked plan
/// are not failures of the run; they wait for a new revision or the interval, and reset the
/// count as a success does.
pub(crate) fn counts_as_failure(error: &ReconcileError) -> bool {
    error.result() == super::status::RunResult::Failure
}

/// How long to wait after `error`, the `consecutive`-th failure in a row (1 for the first):
/// 5 s, 10 s, 20 s… for transient failures, never longer than `interval`; the interval for
/// terminal ones. A run that does not fail resets the count.
pub(crate) fn error_policy(
    error: &ReconcileError,
    consecutive: u32,
    interval: Duration,
) -> Duration {
    match classify(error) {
        FailureClass::Terminal => interval,
        FailureClass::Transient => {
            let doublings = consecutive.saturating_sub(1).min(31);
            FIRST_RETRY.saturating_mul(1u32 << doublings).min(interval)
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::controller::reconcile_error::RunStage;
    use crate::reconcile::SafetyRefusal;
    use crate::reconcile::{ConnectionFailure, ConnectionFailureKind};

    /// A run stopped by a call that got no answer: transient.
    pub(crate) fn endpoint_unreachable() -> ReconcileError {
        connection(ConnectionFailureKind::Unreachable("connection refused".into()))
    }

    /// A run stopped by refused credentials: terminal.
    pub(crate) fn credentials_refused() -> ReconcileError {
        connection(ConnectionFailureKind::Credentials("InvalidClientTokenId".into()))
    }

    fn connection(kind: ConnectionFailureKind) -> ReconcileError {
        let failure = ConnectionFailure {
            operation: "ListUsers",
            endpoint: "http://127.0.0.1:9".into(),
            kind,
        };
        ReconcileError::Connection { failure, stage: RunStage::Planning }
    }

    fn plan_errors(transient_call_failure: bool) -> ReconcileError {
        ReconcileError::PlanErrors { count: 1, first: String::new(), transient_call_failure }
    }

    fn not_converged(conflicts: usize, transient_call_failure: bool) -> ReconcileError {
        ReconcileError::UsersNotConverged {
            updated: 0,
            conflicts,
            failed: 1 - conflicts.min(1),
            errors: 0,
            not_attempted: 0,
            transient_call_failure,
        }
    }

    #[test]
    fn transient_failures_back_off_from_five_seconds_doubling_up_to_the_interval() {
        let interval = Duration::from_secs(60);
        let error = endpoint_unreachable();
        let waits: Vec<u64> =
            (1..=6).map(|n| error_policy(&error, n, interval).as_secs()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 60, 60]);
        // Never past the interval, however many failures, without overflowing.
        assert_eq!(error_policy(&error, u32::MAX, interval), interval);
        // An interval shorter than the first retry caps it too.
        let short = Duration::from_secs(2);
        assert_eq!(error_policy(&error, 1, short), short);
    }

    #[test]
    fn terminal_failures_wait_for_the_interval() {
        let interval = Duration::from_secs(600);
        assert_eq!(error_policy(&credentials_refused(), 1, interval), interval);
        assert_eq!(error_policy(&credentials_refused(), 7, interval), interval);
    }

    #[test]
    fn errors_are_classified_by_what_happened() {
        let refusal = SafetyRefusal::MaxChanges { changes: 3, max: 1 };
        for transient in [
            endpoint_unreachable(),
            plan_errors(true),
            not_converged(1, false),
            not_converged(0, true),
        ] {
            assert_eq!(classify(&transient), FailureClass::Transient, "{transient}");
            assert!(counts_as_failure(&transient), "{transient}");
        }
        for terminal in [
            credentials_refused(),
            plan_errors(false),
            not_converged(0, false),
            ReconcileError::StoppedBySignal,
        ] {
            assert_eq!(classify(&terminal), FailureClass::Terminal, "{terminal}");
            assert!(counts_as_failure(&terminal), "{terminal}");
        }
        // Not failures of the run: they wait for the interval and reset the backoff.
        for not_a_failure in [
            ReconcileError::SourceInvalid("the source is invalid".into()),
            ReconcileError::SourceReadAborted("panicked".into()),
            ReconcileError::Blocked(refusal),
        ] {
            assert_eq!(classify(&not_a_failure), FailureClass::Terminal, "{not_a_failure}");
            assert!(!counts_as_failure(&not_a_failure), "{not_a_failure}");
        }
    }
}
