//! The loop that owns time: one run at a time, then a wait for the interval (varied by ±5 %),
//! the retry after a failure, a trigger, or shutdown, whichever comes first. Triggers that
//! arrive during a run are coalesced into exactly one more run after it.

use super::error_policy::{FailureClass, classify, counts_as_failure, error_policy};
use super::reconcile_error::{ReconcileError, RunOutcome};
use super::status::Trigger;
use std::future::Future;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// How far a wait for the interval is varied at random, either way: runs of several
/// controllers started together drift apart instead of hitting the service at once.
const JITTER: f64 = 0.05;

/// The interval varied by `factor` (in `1 ± JITTER`).
fn jittered(interval: Duration, factor: f64) -> Duration {
    interval.mul_f64(factor.clamp(1.0 - JITTER, 1.0 + JITTER))
}

/// A random factor in `1 ± JITTER`, from the operating system's random source (1 if it fails).
pub(crate) fn random_jitter() -> f64 {
    let mut bytes = [0u8; 8];
    match getrandom::fill(&mut bytes) {
        // 53 random bits as a fraction in [0, 1).
        Ok(()) => {
            let unit = (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64;
            1.0 - JITTER + 2.0 * JITTER * unit
        }
        Err(_) => 1.0,
    }
}

/// What the loop needs to know of a run's outcome.
pub(crate) trait Verdict {
    /// Why the run did not converge, when it did not.
    fn error(&self) -> Option<&ReconcileError>;
}

impl Verdict for RunOutcome {
    fn error(&self) -> Option<&ReconcileError> {
        self.as_ref().err().map(|failed| &failed.error)
    }
}

/// `first`, and every trigger already queued, as the one trigger of the next run: the first
/// explicit one (a new revision, a webhook, a signal) wins over the schedule's own.
fn coalesce(first: Trigger, queued: &mut mpsc::Receiver<Trigger>) -> Trigger {
    let mut trigger = first;
    while let Ok(next) = queued.try_recv() {
        if matches!(trigger, Trigger::Interval | Trigger::Retry) && next.is_explicit() {
            trigger = next;
        }
    }
    trigger
}

/// The next wait and what starts the run after it, given the error of the run just ended and
/// the count of failures in a row it leaves: a transient failure is retried after
/// [`error_policy`]'s wait; anything else waits for the interval, varied by `jitter`.
fn next_wait(
    error: Option<&ReconcileError>,
    failures: u32,
    interval: Duration,
    jitter: f64,
) -> (Duration, Trigger) {
    match error {
        Some(error) if classify(error) == FailureClass::Transient => {
            (error_policy(error, failures, interval), Trigger::Retry)
        }
        Some(_) | None => (jittered(interval, jitter), Trigger::Interval),
    }
}

/// Run until `shutdown`: the first run at once (`startup`), each later one after its wait or
/// at the first trigger. `reconcile` does one run; `scheduled` hears of each finished run with
/// the wait decided after it (for the run's log line). A run under way is never interrupted
/// here: it stops its own calls on shutdown.
pub(crate) async fn run_loop<V, Fut>(
    interval: Duration,
    triggers: &mut mpsc::Receiver<Trigger>,
    shutdown: &CancellationToken,
    mut jitter: impl FnMut() -> f64,
    mut reconcile: impl FnMut(Trigger) -> Fut,
    mut scheduled: impl FnMut(V, Duration),
) where
    V: Verdict,
    Fut: Future<Output = V>,
{
    let mut trigger = Trigger::Startup;
    let mut failures: u32 = 0;
    loop {
        let run_trigger = coalesce(trigger, triggers);
        let verdict = reconcile(run_trigger).await;
        let error = verdict.error();
        failures =
            if error.is_some_and(counts_as_failure) { failures.saturating_add(1) } else { 0 };
        let (wait, after_wait) = next_wait(error, failures, interval, jitter());
        scheduled(verdict, wait);
        if shutdown.is_cancelled() {
            return;
        }
        tokio::select! {
            biased;
            () = shutdown.cancelled() => return,
            Some(next) = triggers.recv() => trigger = next,
            () = tokio::time::sleep(wait) => trigger = after_wait,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tokio::time::Instant;

    use crate::controller::error_policy::tests::{credentials_refused, endpoint_unreachable};

    /// A verdict of a run in a test: fails with the error given.
    struct Fake(Option<ReconcileError>);

    impl Verdict for Fake {
        fn error(&self) -> Option<&ReconcileError> {
            self.0.as_ref()
        }
    }

    /// A failure of the class given.
    fn failing(class: FailureClass) -> Option<ReconcileError> {
        Some(match class {
            FailureClass::Transient => endpoint_unreachable(),
            FailureClass::Terminal => credentials_refused(),
        })
    }

    /// Each run of a test: when it started (from the test's start), and its trigger.
    type Runs = Arc<Mutex<Vec<(Duration, Trigger)>>>;

    /// Run the loop under the paused clock with `outcomes` for the first runs (then success),
    /// each run taking `run_time`, until `runs` runs happened; `send` may queue triggers.
    async fn drive(
        outcomes: Vec<Option<ReconcileError>>,
        run_time: Duration,
        runs: usize,
        interval: Duration,
        send: impl FnOnce(mpsc::Sender<Trigger>) + Send + 'static,
    ) -> Vec<(Duration, Trigger)> {
        let start = Instant::now();
        let seen: Runs = Arc::default();
        let (tx, mut rx) = mpsc::channel(16);
        let shutdown = CancellationToken::new();
        send(tx.clone());
        let outcomes = Arc::new(Mutex::new(outcomes.into_iter()));
        let stop = shutdown.clone();
        let seen_by_loop = Arc::clone(&seen);
        run_loop(
            interval,
            &mut rx,
            &shutdown,
            || 1.0,
            |trigger| {
                let seen = Arc::clone(&seen_by_loop);
                let outcome = outcomes.lock().expect("lock").next().flatten();
                let stop = stop.clone();
                async move {
                    let count = {
                        let mut seen = seen.lock().expect("lock");
                        seen.push((start.elapsed(), trigger));
                        seen.len()
                    };
                    tokio::time::sleep(run_time).await;
                    if count == runs {
                        stop.cancel();
                    }
                    Fake(outcome)
                }
            },
            |_, _| {},
        )
        .await;
        drop(tx);
        std::mem::take(&mut *seen.lock().expect("lock"))
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[tokio::test(start_paused = true)]
    async fn runs_follow_the_interval_without_failures() {
        let runs = drive(vec![], Duration::ZERO, 3, secs(60), |_| {}).await;
        assert_eq!(
            runs,
            [
                (secs(0), Trigger::Startup),
                (secs(60), Trigger::Interval),
                (secs(120), Trigger::Interval)
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn transient_failures_back_off_doubling_and_a_success_resets_the_backoff() {
        use FailureClass::Transient;
        let outcomes = vec![
            failing(Transient),
            failing(Transient),
            failing(Transient),
            None,
            failing(Transient),
        ];
        let runs = drive(outcomes, Duration::ZERO, 7, secs(600), |_| {}).await;
        let starts: Vec<(u64, Trigger)> = runs.iter().map(|(t, k)| (t.as_secs(), *k)).collect();
        assert_eq!(
            starts,
            [
                (0, Trigger::Startup),
                (5, Trigger::Retry),
                (15, Trigger::Retry),
                (35, Trigger::Retry),
                // The success waits the interval; the next failure backs off from 5 s again.
                (635, Trigger::Interval),
                (640, Trigger::Retry),
                (1240, Trigger::Interval),
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_backoff_never_exceeds_the_interval_and_terminal_failures_wait_for_it() {
        use FailureClass::{Terminal, Transient};
        let outcomes = vec![
            failing(Transient),
            failing(Transient),
            failing(Transient),
            failing(Terminal),
            None,
        ];
        let runs = drive(outcomes, Duration::ZERO, 5, secs(12), |_| {}).await;
        let starts: Vec<u64> = runs.iter().map(|(t, _)| t.as_secs()).collect();
        assert_eq!(starts, [0, 5, 15, 27, 39]);
    }

    #[tokio::test(start_paused = true)]
    async fn triggers_during_a_run_make_exactly_one_more_run_with_the_first_explicit_trigger() {
        let runs = drive(vec![], secs(10), 3, secs(600), |tx| {
            tokio::spawn(async move {
                // During the first run (0 s to 10 s): three triggers.
                tokio::time::sleep(secs(2)).await;
                for trigger in [Trigger::Webhook, Trigger::Signal, Trigger::Source] {
                    tx.send(trigger).await.expect("queued");
                }
            });
        })
        .await;
        assert_eq!(
            runs,
            [
                (secs(0), Trigger::Startup),
                (secs(10), Trigger::Webhook),
                (secs(620), Trigger::Interval)
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_trigger_during_the_wait_runs_at_once() {
        let runs = drive(vec![], Duration::ZERO, 3, secs(600), |tx| {
            tokio::spawn(async move {
                tokio::time::sleep(secs(30)).await;
                tx.send(Trigger::Signal).await.expect("queued");
            });
        })
        .await;
        assert_eq!(
            runs,
            [
                (secs(0), Trigger::Startup),
                (secs(30), Trigger::Signal),
                (secs(630), Trigger::Interval)
            ]
        );
    }

    #[test]
    fn coalesced_schedule_triggers_give_way_to_an_explicit_one() {
        let (tx, mut rx) = mpsc::channel(8);
        for t in [Trigger::Retry, Trigger::Source, Trigger::Webhook] {
            tx.try_send(t).expect("queued");
        }
        assert_eq!(coalesce(Trigger::Interval, &mut rx), Trigger::Source);
        assert!(rx.try_recv().is_err(), "every queued trigger is taken into the run");
        tx.try_send(Trigger::Signal).expect("queued");
        assert_eq!(coalesce(Trigger::Startup, &mut rx), Trigger::Startup);
    }

    #[test]
    fn jitter_stays_within_five_percent() {
        let interval = secs(600);
        for _ in 0..1000 {
            let wait = jittered(interval, random_jitter());
            assert!(wait >= secs(570) && wait <= secs(630), "{wait:?}");
        }
        assert_eq!(jittered(interval, 2.0), secs(630));
    }
}
