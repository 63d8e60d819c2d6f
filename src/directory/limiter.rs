//! What the SDK lacks: a concurrency limit that adapts to throttling (additive increase,
//! multiplicative decrease) and an optional requests-per-second cap.
//!
//! Every directory call holds a [`Permit`] for its whole life, SDK retries included. The SDK
//! interceptor in `client.rs` reports each attempt's outcome here, so a throttled attempt halves
//! the limit even when the SDK's retry then succeeds.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Halve at most once per this window, so one burst of throttles counts once.
const DECREASE_COOLDOWN: Duration = Duration::from_millis(250);

#[derive(Debug)]
struct State {
    /// The current limit; fractional so that additive increase can be +1 per window of successes.
    limit: f64,
    in_flight: usize,
    last_decrease: Option<Instant>,
    /// When the next request may start under the rps cap.
    next_start: Option<Instant>,
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
    pub decreases: u64,
    pub current_limit: f64,
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
    /// A limiter starting at `max_concurrency` calls in flight, optionally capped at `max_rps`.
    pub fn new(max_concurrency: usize, max_rps: Option<f64>) -> Limiter {
        let max_concurrency = max_concurrency.max(1);
        Limiter {
            shared: Arc::new(Shared {
                max_concurrency,
                max_rps: max_rps.filter(|r| *r > 0.0),
                state: Mutex::new(State {
                    limit: max_concurrency as f64,
                    in_flight: 0,
                    last_decrease: None,
                    next_start: None,
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

    /// Wait for a slot under the current limit and, with a cap, for the next start time.
    pub async fn acquire(&self) -> Permit {
        loop {
            let released = self.shared.released.notified();
            {
                let mut state = lock(&self.shared.state);
                if (state.in_flight as f64) < state.limit.floor().max(1.0) {
                    state.in_flight += 1;
                    break;
                }
            }
            released.await;
        }
        let permit = Permit { shared: Arc::clone(&self.shared) };
        if let Some(rps) = self.shared.max_rps {
            let start = {
                let mut state = lock(&self.shared.state);
                let now = Instant::now();
                let start = state.next_start.map_or(now, |next| next.max(now));
                state.next_start = Some(start + Duration::from_secs_f64(1.0 / rps));
                start
            };
            tokio::time::sleep_until(start).await;
        }
        permit
    }

    /// An attempt was answered normally: grow the limit by about one per window of successes.
    pub fn on_success(&self) {
        self.shared.attempts.fetch_add(1, Ordering::Relaxed);
        let mut state = lock(&self.shared.state);
        let max = self.shared.max_concurrency as f64;
        state.limit = (state.limit + 1.0 / state.limit.max(1.0)).min(max);
        drop(state);
        self.shared.released.notify_waiters();
    }

    /// An attempt was throttled (or the service was overloaded): halve the limit, once per
    /// cooldown window.
    pub fn on_throttle(&self, server_error: bool) {
        self.shared.attempts.fetch_add(1, Ordering::Relaxed);
        let counter =
            if server_error { &self.shared.server_errors } else { &self.shared.throttled };
        counter.fetch_add(1, Ordering::Relaxed);
        let mut state = lock(&self.shared.state);
        let now = Instant::now();
        if state.last_decrease.is_none_or(|at| now.duration_since(at) >= DECREASE_COOLDOWN) {
            state.limit = (state.limit / 2.0).max(1.0);
            state.last_decrease = Some(now);
            self.shared.decreases.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// An attempt ended without an answer (connection dropped, timeout): counted, no adaptation.
    pub fn on_no_answer(&self) {
        self.shared.attempts.fetch_add(1, Ordering::Relaxed);
    }

    /// What the limiter saw so far.
    pub fn stats(&self) -> LimiterStats {
        LimiterStats {
            attempts: self.shared.attempts.load(Ordering::Relaxed),
            throttled: self.shared.throttled.load(Ordering::Relaxed),
            server_errors: self.shared.server_errors.load(Ordering::Relaxed),
            decreases: self.shared.decreases.load(Ordering::Relaxed),
            current_limit: lock(&self.shared.state).limit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn throttle_halves_and_successes_recover() {
        let limiter = Limiter::new(16, None);
        limiter.on_throttle(false);
        assert_eq!(limiter.stats().current_limit, 8.0);
        // A second throttle inside the cooldown window does not halve again.
        limiter.on_throttle(false);
        assert_eq!(limiter.stats().current_limit, 8.0);
        for _ in 0..200 {
            limiter.on_success();
        }
        assert_eq!(limiter.stats().current_limit, 16.0);
        assert_eq!(limiter.stats().throttled, 2);
        assert_eq!(limiter.stats().decreases, 1);
    }

    #[tokio::test]
    async fn never_more_in_flight_than_the_limit() {
        let limiter = Limiter::new(2, None);
        let a = limiter.acquire().await;
        let _b = limiter.acquire().await;
        let third = tokio::time::timeout(Duration::from_millis(50), limiter.acquire()).await;
        assert!(third.is_err(), "a third permit must wait");
        drop(a);
        let third = tokio::time::timeout(Duration::from_millis(500), limiter.acquire()).await;
        assert!(third.is_ok(), "a released permit lets the next call start");
    }

    #[tokio::test(start_paused = true)]
    async fn rps_cap_spaces_starts() {
        let limiter = Limiter::new(64, Some(10.0));
        let started = tokio::time::Instant::now();
        for _ in 0..11 {
            drop(limiter.acquire().await);
        }
        // 11 starts at 10/s: the last starts 1 s after the first.
        assert_eq!(started.elapsed().as_millis(), 1000);
    }
}
