//! When to run again after a failed run: soon for a failure that may pass by itself (the
//! service throttled, an endpoint was unreachable, a user changed live between the plan and
//! its write), not before the interval for one that needs a person (credentials refused, an
//! organization or a user that does not exist).

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

/// How long to wait after the `consecutive`-th failure in a row (1 for the first) of class
/// `class`: 5 s, 10 s, 20 s… for transient failures, never longer than `interval`; the
/// interval for terminal ones. A run that does not fail resets the count.
pub(crate) fn error_policy(class: FailureClass, consecutive: u32, interval: Duration) -> Duration {
    match class {
        FailureClass::Terminal => interval,
        FailureClass::Transient => {
            let doublings = consecutive.saturating_sub(1).min(31);
            FIRST_RETRY.saturating_mul(1u32 << doublings).min(interval)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_failures_back_off_from_five_seconds_doubling_up_to_the_interval() {
        let interval = Duration::from_secs(60);
        let waits: Vec<u64> =
            (1..=6).map(|n| error_policy(FailureClass::Transient, n, interval).as_secs()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 60, 60]);
        // Never past the interval, however many failures, without overflowing.
        assert_eq!(error_policy(FailureClass::Transient, u32::MAX, interval), interval);
        // An interval shorter than the first retry caps it too.
        let short = Duration::from_secs(2);
        assert_eq!(error_policy(FailureClass::Transient, 1, short), short);
    }

    #[test]
    fn terminal_failures_wait_for_the_interval() {
        let interval = Duration::from_secs(600);
        assert_eq!(error_policy(FailureClass::Terminal, 1, interval), interval);
        assert_eq!(error_policy(FailureClass::Terminal, 7, interval), interval);
    }
}
