//! What the SDK lacks: a request rate that adapts to the service's unknown limit, an optional
//! requests-per-second cap, and a concurrency bound.
//!
//! # Why a rate controller and not an adaptive concurrency limit
//!
//! WorkMail limits requests per second, not requests in flight. With 20 ms of latency, 200/s
//! needs only ~4 calls in flight, so a concurrency limit is a coarse knob (3 → 4 in flight is
//! +33 %) that oscillates around a rate cap and leaves capacity idle. This module paces the
//! start of every call at a target rate instead, and adapts that rate (CUBIC-like, per RTT):
//!
//! - **Start**: unpaced, bounded only by `max_concurrency` (or paced at `--max-rps`), because
//!   the first throttle tells us more than any guess would.
//! - **Decrease**: a throttled (or 5xx) attempt *sent after the last decrease* cuts the rate.
//!   A throttle means the service's token bucket is empty, and so was it at the previous cut:
//!   in between, the service admitted exactly its limit per second, whatever burst it allows.
//!   So when the previous cut is at least [`MIN_ESTIMATE_SPAN`] back, the new rate is
//!   [`ESTIMATE_MARGIN`] × (successes since then / time since then), and throttles during the
//!   next [`MIN_ESTIMATE_SPAN`] — retries meeting a bucket still empty — cut nothing more.
//!   Otherwise (the first cuts, one round trip apart) the rate is cut to [`BETA`] × itself; the
//!   very first cut, from the unpaced start, to [`FIRST_BETA`] × the answer rate of the last
//!   quarter second. Throttles of attempts sent before a cut say nothing about the new rate.
//! - **Increase**: after a cut the rate follows the cubic `W(t) = w_max·(1 + C·(t − K)³)`:
//!   quickly back towards the rate that was throttled, flat just below it (where the service's
//!   limit most likely is), then faster and faster above it, so a raised limit is found within
//!   seconds. The growth clock runs only while the pacer is what holds calls back: when the
//!   concurrency bound or the caller is the bottleneck, a higher target would be fiction.
//! - **Floor**: never below one call in flight (`1 / srtt`), see `clamp_rate`.
//! - **Retries**: the SDK retries a throttled attempt on its own schedule, past [`Limiter::acquire`];
//!   each throttle therefore reserves one pacing slot, so retries and new calls together keep to
//!   the target rate.
//!
//! Every directory call holds a [`Permit`] for its whole life, SDK retries included. The SDK
//! interceptor in `client.rs` reports each attempt's outcome and when it was sent.

use crate::rate_cap::RateCap;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Multiplicative decrease: the rate after a throttle, as a fraction of the rate before.
const BETA: f64 = 0.8;
/// The first decrease, from the unpaced start: that rate was never checked against anything,
/// and the service's burst allowance usually lets it overshoot the real limit by far.
const FIRST_BETA: f64 = 0.3;
/// Cubic growth constant, relative to `w_max` per second cubed: with [`BETA`] = 0.8 the rate is
/// back at `w_max` after `K = ∛((1 − β)/C)` = 1 s, at 1.2 × after 2 s, 2.6 × after 3 s.
const CUBIC_C: f64 = 0.1;
/// No lower target rate: below this a run of a few users would take forever.
const MIN_RATE: f64 = 0.5;
/// How far back the answer rate that sets the first target is measured.
const FIRST_WINDOW: Duration = Duration::from_millis(250);
/// The limit is estimated from the successes between two cuts at least this far apart; closer
/// cuts (one round trip apart, while the first cuts find the limit) have too few.
const MIN_ESTIMATE_SPAN: Duration = Duration::from_millis(300);
/// After an estimate, the rate goes this far below it: headroom for the retries of the
/// throttled attempts, which an empty bucket would throttle again.
const ESTIMATE_MARGIN: f64 = 0.95;

/// How one attempt ended, as the SDK interceptor saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// Answered, throttling or not: any answer that is not a throttle or a 5xx.
    Success,
    /// Answered with a throttling error.
    Throttled,
    /// Answered with a 5xx: the service is overloaded; treated like a throttle.
    ServerError,
    /// No answer (dropped connection, timeout): counted, no adaptation, since it says nothing
    /// about the rate.
    NoAnswer,
}

#[derive(Debug)]
struct State {
    in_flight: usize,
    /// Target start rate; `None` = unpaced (no cap given and no throttle seen yet).
    rate: Option<f64>,
    /// When the next call may start under `rate`.
    next_start: Option<Instant>,
    /// The rate at the last decrease (the cubic's plateau) and the cubic's `K` in seconds.
    w_max: f64,
    k: f64,
    /// Time spent pacer-bound since the last decrease: the cubic's `t`.
    growth: Duration,
    last_update: Instant,
    /// Whether some call had to wait for its start slot since `last_update`.
    pacer_bound: bool,
    last_decrease: Option<Instant>,
    /// Smoothed round trip of answered attempts (send to answer).
    srtt: Option<Duration>,
    /// Whether the last cut was to an estimate of the limit (see [`Limiter::decrease`]).
    estimated: bool,
    /// Successes so far, and at the last decrease.
    successes_total: u64,
    successes_at_decrease: u64,
    /// Answer times of the last [`FIRST_WINDOW`], for the first cut.
    answers: VecDeque<Instant>,
}

impl State {
    fn forget_before(&mut self, now: Instant) {
        while self.answers.front().is_some_and(|&t| now.duration_since(t) > FIRST_WINDOW) {
            self.answers.pop_front();
        }
    }

    /// Events per second in `queue` over the last `window`, or since the first event when the
    /// queue's history is shorter than that.
    fn rate_of(queue: &VecDeque<Instant>, now: Instant, window: Duration) -> Option<f64> {
        let count = queue.iter().rev().take_while(|&&t| now.duration_since(t) <= window).count();
        let oldest = *queue.get(queue.len().checked_sub(count)?)?;
        let span = if queue.len() > count { window } else { now.duration_since(oldest) };
        // Over a few milliseconds a handful of answers would read as an absurd rate.
        Some(count as f64 / span.max(Duration::from_millis(20)).as_secs_f64())
    }

    /// Advance the cubic to `now`.
    fn grow(&mut self, now: Instant, max_rps: Option<f64>) {
        if self.pacer_bound {
            self.growth += now.saturating_duration_since(self.last_update);
        }
        self.pacer_bound = false;
        self.last_update = now;
        if self.last_decrease.is_none() {
            return;
        }
        let t = self.growth.as_secs_f64() - self.k;
        let target = self.w_max * (1.0 + CUBIC_C * t * t * t);
        self.rate = Some(clamp_rate(target, max_rps, self.srtt));
    }

    /// The start time of the next call under the current rate, reserving its slot.
    fn reserve(&mut self, now: Instant) -> Instant {
        let Some(rate) = self.rate else { return now };
        let start = self.next_start.map_or(now, |next| next.max(now));
        let interval = Duration::from_secs_f64(1.0 / rate);
        // Two calls freed at the same instant wait one interval for each other even when the
        // concurrency bound, not the rate, is what limits the run: only a queue of calls
        // waiting for their slots means the rate holds the run back.
        if start > now + 2 * interval {
            self.pacer_bound = true;
        }
        self.next_start = Some(start + interval);
        start
    }
}

/// `rate` within `[floor, max_rps]`, where the floor is one call in flight (`1 / srtt`), and
/// at least [`MIN_RATE`].
///
/// Why one call in flight: a service that throttles at random, whatever the rate (a limit
/// shared with other clients, or the emulator's `throttle_rate`), would otherwise drive the
/// rate down cut after cut, to [`MIN_RATE`]. The concurrency limiter this replaced never went
/// below one call in flight either; below that, the SDK's backoff does the slowing down.
fn clamp_rate(rate: f64, max_rps: Option<f64>, srtt: Option<Duration>) -> f64 {
    let floor = srtt
        .filter(|rtt| !rtt.is_zero())
        .map_or(MIN_RATE, |rtt| (1.0 / rtt.as_secs_f64()).max(MIN_RATE));
    let rate = if rate.is_finite() { rate.max(floor) } else { floor };
    max_rps.map_or(rate, |max| rate.min(max))
}

#[derive(Debug)]
struct Shared {
    max_concurrency: usize,
    max_rps: Option<f64>,
    state: Mutex<State>,
    released: Notify,
    throttled: AtomicU64,
    server_errors: AtomicU64,
    attempts: AtomicU64,
    decreases: AtomicU64,
}

/// Shared by all calls of one run, so several organizations share one budget.
#[derive(Debug, Clone)]
pub struct Limiter {
    shared: Arc<Shared>,
}

/// Counters of what the limiter saw, for reports and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LimiterStats {
    pub attempts: u64,
    pub throttled: u64,
    pub server_errors: u64,
    /// Rate decreases made (one per round trip of throttles at most).
    pub decreases: u64,
    /// The target start rate per second; `None` while unpaced.
    pub current_rate: Option<f64>,
}

/// Held while a call is in flight.
#[derive(Debug)]
pub struct Permit {
    shared: Arc<Shared>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        lock(&self.shared.state).in_flight -= 1;
        self.shared.released.notify_waiters();
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panic while holding this lock cannot leave the counters inconsistent in a way that
    // matters more than stopping the run, so recover the guard.
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Limiter {
    /// A limiter allowing at most `max_concurrency` calls in flight (at least one) and, with
    /// `max_rps`, at most that many starts per second; the rate adapts below that on throttling.
    pub fn new(max_concurrency: usize, max_rps: Option<RateCap>) -> Limiter {
        let max_concurrency = max_concurrency.max(1);
        let max_rps = max_rps.map(RateCap::get);
        Limiter {
            shared: Arc::new(Shared {
                max_concurrency,
                max_rps,
                state: Mutex::new(State {
                    in_flight: 0,
                    rate: max_rps,
                    next_start: None,
                    w_max: max_rps.unwrap_or(0.0),
                    k: 0.0,
                    growth: Duration::ZERO,
                    last_update: Instant::now(),
                    pacer_bound: false,
                    last_decrease: None,
                    srtt: None,
                    estimated: false,
                    successes_total: 0,
                    successes_at_decrease: 0,
                    answers: VecDeque::new(),
                }),
                released: Notify::new(),
                throttled: AtomicU64::new(0),
                server_errors: AtomicU64::new(0),
                attempts: AtomicU64::new(0),
                decreases: AtomicU64::new(0),
            }),
        }
    }

    /// The configured maximum concurrency.
    pub fn max_concurrency(&self) -> usize {
        self.shared.max_concurrency
    }

    /// Wait for a slot under the concurrency bound, then for this call's start time under the
    /// target rate.
    pub async fn acquire(&self) -> Permit {
        loop {
            let released = self.shared.released.notified();
            {
                let mut state = lock(&self.shared.state);
                if state.in_flight < self.shared.max_concurrency {
                    state.in_flight += 1;
                    break;
                }
            }
            released.await;
        }
        let permit = Permit { shared: Arc::clone(&self.shared) };
        let start = lock(&self.shared.state).reserve(Instant::now());
        if start > Instant::now() {
            tokio::time::sleep_until(start).await;
        }
        permit
    }

    /// One attempt, sent at `sent_at`, ended with `outcome`: count it and adapt the rate.
    pub fn record(&self, outcome: AttemptOutcome, sent_at: Instant) {
        let shared = &self.shared;
        shared.attempts.fetch_add(1, Ordering::Relaxed);
        match outcome {
            AttemptOutcome::Throttled => shared.throttled.fetch_add(1, Ordering::Relaxed),
            AttemptOutcome::ServerError => shared.server_errors.fetch_add(1, Ordering::Relaxed),
            AttemptOutcome::Success | AttemptOutcome::NoAnswer => 0,
        };
        if outcome == AttemptOutcome::NoAnswer {
            return;
        }
        let now = Instant::now();
        let mut state = lock(&shared.state);
        state.forget_before(now);
        state.answers.push_back(now);
        // Throttles are answered as fast as successes; both measure the round trip. (The
        // `on_*` methods report attempts sent "now": no round trip to learn from.)
        let rtt = now.saturating_duration_since(sent_at);
        if !rtt.is_zero() {
            state.srtt = Some(state.srtt.map_or(rtt, |srtt| srtt.mul_f64(0.9) + rtt.mul_f64(0.1)));
        }
        if outcome == AttemptOutcome::Success {
            state.successes_total += 1;
            state.grow(now, shared.max_rps);
            return;
        }
        // The SDK will retry this attempt outside `acquire`: reserve its start slot.
        state.reserve(now);
        // Throttles of attempts sent before the last cut say nothing about the new rate. After a
        // cut to an estimate of the limit, throttles are the retries of the attempts throttled
        // before it meeting a bucket still empty: wait for the next estimate instead.
        let hold = if state.estimated { MIN_ESTIMATE_SPAN } else { Duration::ZERO };
        if state.last_decrease.is_some_and(|at| sent_at < at || now.duration_since(at) < hold) {
            return;
        }
        self.decrease(&mut state, now);
        drop(state);
        shared.decreases.fetch_add(1, Ordering::Relaxed);
    }

    fn decrease(&self, state: &mut State, now: Instant) {
        let max_rps = self.shared.max_rps;
        let (current, beta) = match state.rate {
            Some(rate) => (rate, BETA),
            None => {
                (State::rate_of(&state.answers, now, FIRST_WINDOW).unwrap_or(MIN_RATE), FIRST_BETA)
            }
        };
        let mut new = current * beta;
        let mut plateau = current;
        let mut estimated = false;
        // A throttle means the service's token bucket is empty; so did the previous cut. Between
        // two empty buckets the service admitted exactly its limit per second (less if the bucket
        // overflowed meanwhile, an underestimate the cubic probes away), whatever burst it
        // allows: the one estimate of the limit that the burst does not inflate.
        if let Some(previous) = state.last_decrease
            && now.duration_since(previous) >= MIN_ESTIMATE_SPAN
        {
            let admitted = (state.successes_total - state.successes_at_decrease) as f64
                / now.duration_since(previous).as_secs_f64();
            plateau = current.min(admitted);
            new = plateau * ESTIMATE_MARGIN;
            estimated = true;
        }
        state.estimated = estimated;
        let new = clamp_rate(new, max_rps, state.srtt);
        state.w_max = plateau.max(new);
        state.successes_at_decrease = state.successes_total;
        state.k = ((1.0 - new / state.w_max) / CUBIC_C).cbrt();
        state.growth = Duration::ZERO;
        state.last_update = now;
        state.pacer_bound = false;
        state.last_decrease = Some(now);
        state.rate = Some(new);
    }

    /// What the limiter saw so far.
    pub fn stats(&self) -> LimiterStats {
        let state = lock(&self.shared.state);
        LimiterStats {
            attempts: self.shared.attempts.load(Ordering::Relaxed),
            throttled: self.shared.throttled.load(Ordering::Relaxed),
            server_errors: self.shared.server_errors.load(Ordering::Relaxed),
            decreases: self.shared.decreases.load(Ordering::Relaxed),
            current_rate: state.rate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn cap(per_second: f64) -> RateCap {
        RateCap::new(per_second).expect("a valid cap")
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// `n` successes answered at `per_second`, each sent one latency (20 ms) earlier.
    async fn successes(limiter: &Limiter, n: usize, per_second: f64) {
        for _ in 0..n {
            tokio::time::advance(Duration::from_secs_f64(1.0 / per_second)).await;
            limiter.record(AttemptOutcome::Success, Instant::now() - ms(20));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn first_throttle_cuts_the_answer_rate() {
        let limiter = Limiter::new(16, None);
        assert_eq!(limiter.stats().current_rate, None, "unpaced until something is learnt");
        successes(&limiter, 200, 400.0).await;
        limiter.record(AttemptOutcome::Throttled, Instant::now() - ms(20));
        let rate = limiter.stats().current_rate.unwrap();
        // 100 answers in the last 250 ms (plus the throttle itself) → 404/s, × FIRST_BETA.
        assert!((rate - 404.0 * FIRST_BETA).abs() < 2.0, "{rate}");
        assert_eq!(limiter.stats().decreases, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn the_extreme_caps_pace_without_overflow() {
        // The smallest cap: one start every ten seconds, throttled or not.
        let slow = Limiter::new(1, Some(cap(RateCap::MIN)));
        let t0 = Instant::now();
        drop(slow.acquire().await);
        drop(slow.acquire().await);
        assert_eq!(Instant::now() - t0, Duration::from_secs(10));
        slow.record(AttemptOutcome::Throttled, t0);
        assert_eq!(slow.stats().current_rate, Some(RateCap::MIN));
        // The largest: 10 µs apart (the paused clock's timers round that up to 1 ms).
        let fast = Limiter::new(1, Some(cap(RateCap::MAX)));
        let t1 = Instant::now();
        drop(fast.acquire().await);
        drop(fast.acquire().await);
        assert!(Instant::now() - t1 <= ms(1));
    }

    #[tokio::test(start_paused = true)]
    async fn throttles_sent_before_a_cut_count_once() {
        let limiter = Limiter::new(16, Some(cap(100.0)));
        let before_cut = Instant::now();
        // Answered 50 ms after sending: a floor of 20 calls/s, out of the way.
        tokio::time::advance(ms(50)).await;
        limiter.record(AttemptOutcome::Throttled, before_cut);
        assert_eq!(limiter.stats().current_rate, Some(80.0));
        // Attempts in flight during the cut were sent at the old rate: no second cut.
        for _ in 0..5 {
            limiter.record(AttemptOutcome::Throttled, before_cut);
        }
        assert_eq!(limiter.stats().current_rate, Some(80.0));
        assert_eq!(limiter.stats().decreases, 1);
        // An attempt sent after the cut and still throttled: the new rate is too high as well.
        let after_cut = Instant::now();
        tokio::time::advance(ms(50)).await;
        limiter.record(AttemptOutcome::Throttled, after_cut);
        assert_eq!(limiter.stats().current_rate, Some(64.0));
        assert_eq!(limiter.stats().throttled, 7);
        assert_eq!(limiter.stats().decreases, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn server_errors_cut_and_dropped_connections_do_not() {
        let limiter = Limiter::new(16, Some(cap(100.0)));
        limiter.record(AttemptOutcome::NoAnswer, Instant::now());
        assert_eq!(limiter.stats().current_rate, Some(100.0));
        limiter.record(AttemptOutcome::ServerError, Instant::now());
        assert_eq!(limiter.stats().current_rate, Some(80.0));
        let stats = limiter.stats();
        assert_eq!((stats.attempts, stats.server_errors, stats.throttled), (2, 1, 0));
    }

    /// Keep the pacer busy for `duration`: eight callers waiting for start slots, every call
    /// answered with a success at once. Returns the target rate then.
    async fn paced_successes(limiter: &Limiter, duration: Duration) -> f64 {
        let until = Instant::now() + duration;
        let mut callers = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let limiter = limiter.clone();
            callers.spawn(async move {
                while Instant::now() < until {
                    let permit = limiter.acquire().await;
                    let sent = Instant::now();
                    drop(permit);
                    limiter.record(AttemptOutcome::Success, sent);
                }
            });
        }
        while callers.join_next().await.is_some() {}
        limiter.stats().current_rate.unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_cut_the_rate_returns_to_the_plateau_then_probes_above_it() {
        let limiter = Limiter::new(16, None);
        successes(&limiter, 100, 200.0).await;
        limiter.record(AttemptOutcome::Throttled, Instant::now());
        let cut = limiter.stats().current_rate.unwrap();
        let w_max = cut / FIRST_BETA;
        // K = ∛((1 − 0.3)/0.1) ≈ 1.9 s back to the plateau, then above it.
        let at_1s = paced_successes(&limiter, ms(1000)).await;
        assert!(at_1s > cut && at_1s < w_max, "{cut} → {at_1s} (plateau {w_max})");
        let at_2s = paced_successes(&limiter, ms(1000)).await;
        assert!((at_2s / w_max - 1.0).abs() < 0.02, "{at_2s} ≈ {w_max}");
        let at_5s = paced_successes(&limiter, ms(3000)).await;
        assert!(at_5s > 2.0 * w_max, "probing above a limit that was: {at_5s}");
    }

    #[tokio::test(start_paused = true)]
    async fn the_rate_grows_only_while_the_pacer_holds_calls_back() {
        let limiter = Limiter::new(16, None);
        successes(&limiter, 100, 200.0).await;
        limiter.record(AttemptOutcome::Throttled, Instant::now());
        let cut = limiter.stats().current_rate.unwrap();
        // Ten seconds of calls far slower than the target: the target stays put.
        successes(&limiter, 10, 1.0).await;
        let rate = limiter.stats().current_rate.unwrap();
        assert!((rate - cut).abs() < 1e-9, "{cut} → {rate}");
    }

    #[tokio::test(start_paused = true)]
    async fn random_throttles_never_cut_below_one_call_in_flight() {
        let limiter = Limiter::new(16, None);
        // Answers 10 ms after sending: one call in flight makes 100 calls/s.
        successes(&limiter, 50, 50.0).await;
        for _ in 0..200 {
            let sent = Instant::now();
            tokio::time::advance(ms(10)).await;
            limiter.record(AttemptOutcome::Throttled, sent);
        }
        let rate = limiter.stats().current_rate.unwrap();
        assert!((rate - 100.0).abs() < 5.0, "{rate}");
    }

    #[tokio::test]
    async fn never_more_in_flight_than_the_bound() {
        let limiter = Limiter::new(2, None);
        let a = limiter.acquire().await;
        let _b = limiter.acquire().await;
        let third = tokio::time::timeout(ms(50), limiter.acquire()).await;
        assert!(third.is_err(), "a third permit must wait");
        drop(a);
        let third = tokio::time::timeout(ms(500), limiter.acquire()).await;
        assert!(third.is_ok(), "a released permit lets the next call start");
    }

    #[tokio::test(start_paused = true)]
    async fn rps_cap_spaces_starts() {
        let limiter = Limiter::new(64, Some(cap(10.0)));
        let started = Instant::now();
        for _ in 0..11 {
            drop(limiter.acquire().await);
        }
        // 11 starts at 10/s: the last starts 1 s after the first.
        assert_eq!(started.elapsed().as_millis(), 1000);
        // Successes never raise the rate above the cap.
        paced_successes(&limiter, ms(3000)).await;
        assert_eq!(limiter.stats().current_rate, Some(10.0));
    }

    /// A service admitting `rate` requests per second with one second of burst (the emulator's
    /// and a typical API gateway's token bucket).
    struct Service {
        rate: f64,
        tokens: f64,
        last: Instant,
    }

    impl Service {
        fn admit(&mut self) -> bool {
            let now = Instant::now();
            let refill = now.duration_since(self.last).as_secs_f64() * self.rate;
            self.tokens = (self.tokens + refill).min(self.rate.max(1.0));
            self.last = now;
            let admitted = self.tokens >= 1.0;
            if admitted {
                self.tokens -= 1.0;
            }
            admitted
        }
    }

    /// `calls` calls with 20 ms latency through `limiter` (as `observe` runs them: 32 spawned
    /// at a time, throttles retried after 50 ms), the service's cap changing to
    /// `(at, rate)` on schedule. Returns (wall time, throttles, admitted per second).
    async fn simulate(
        limiter: &Limiter,
        calls: usize,
        schedule: &[(Duration, f64)],
    ) -> (Duration, u64, Vec<usize>) {
        let started = Instant::now();
        let service = Arc::new(Mutex::new(Service {
            rate: schedule[0].1,
            tokens: schedule[0].1,
            last: started,
        }));
        let admitted_at = Arc::new(Mutex::new(Vec::new()));
        let remaining = Arc::new(AtomicUsize::new(calls));
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..32 {
            let (limiter, service, admitted_at, remaining) =
                (limiter.clone(), service.clone(), admitted_at.clone(), remaining.clone());
            let schedule = schedule.to_vec();
            workers.spawn(async move {
                while remaining
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok()
                {
                    let _permit = limiter.acquire().await;
                    loop {
                        let sent = Instant::now();
                        tokio::time::sleep(ms(20)).await;
                        let admitted = {
                            let mut service = service.lock().unwrap();
                            let elapsed = sent.duration_since(started);
                            if let Some(&(_, rate)) =
                                schedule.iter().rev().find(|(at, _)| *at <= elapsed)
                                && rate != service.rate
                            {
                                // A new limit comes with a full bucket, as the emulator's does.
                                *service = Service { rate, tokens: rate, last: Instant::now() };
                            }
                            service.admit()
                        };
                        if admitted {
                            limiter.record(AttemptOutcome::Success, sent);
                            admitted_at
                                .lock()
                                .unwrap()
                                .push(Instant::now().duration_since(started));
                            break;
                        }
                        limiter.record(AttemptOutcome::Throttled, sent);
                        tokio::time::sleep(ms(50)).await;
                    }
                }
            });
        }
        while workers.join_next().await.is_some() {}
        let wall = started.elapsed();
        let mut per_second = vec![0; wall.as_secs() as usize + 1];
        for at in admitted_at.lock().unwrap().iter() {
            per_second[at.as_secs() as usize] += 1;
        }
        (wall, limiter.stats().throttled, per_second)
    }

    #[tokio::test(start_paused = true)]
    async fn converges_under_an_unknown_fixed_cap() {
        // The CLI's default concurrency.
        let limiter = Limiter::new(10, None);
        let (wall, throttled, _) = simulate(&limiter, 2000, &[(Duration::ZERO, 200.0)]).await;
        let efficiency = 10.0 / wall.as_secs_f64();
        assert!(efficiency >= 0.97, "efficiency {efficiency:.3} ({wall:?})");
        assert!(throttled <= 20, "{throttled} throttles for 2000 calls");
    }

    #[tokio::test(start_paused = true)]
    async fn follows_a_raised_cap_within_seconds() {
        let limiter = Limiter::new(10, None);
        let schedule = [(Duration::ZERO, 100.0), (Duration::from_secs(5), 400.0)];
        let (_, _, per_second) = simulate(&limiter, 5000, &schedule).await;
        assert!(per_second[2..5].iter().all(|&n| n >= 90), "{per_second:?}");
        // Within 4 s of the change the run goes at ≥ 90 % of the new cap.
        assert!(per_second[9..12].iter().all(|&n| n >= 360), "{per_second:?}");
    }
}
