//! Injected faults: latency, a requests-per-second cap, random throttles, 5xx answers and dropped
//! connections, all drawn from a seedable generator so a test run is repeatable.

use crate::model::rate_cap::RateCap;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// The faults the emulator injects into API requests (never into the control endpoint).
///
/// Rates are probabilities in `[0, 1]`. Serialized with `latency_ms` in milliseconds; every field
/// is optional in JSON and defaults to "no fault".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Added to every API request before it is looked at.
    #[serde(rename = "latency_ms", with = "duration_ms")]
    pub latency: Duration,
    /// Requests per second accepted (token bucket, one second of burst); more are answered with
    /// `ThrottlingException`. `None`: no cap.
    pub max_rps: Option<f64>,
    /// Probability that a request is answered with `ThrottlingException`.
    pub throttle_rate: f64,
    /// Probability that a request is answered with HTTP 500 `InternalFailure` or 503
    /// `ServiceUnavailable` (even odds).
    pub server_error_rate: f64,
    /// Probability that the connection is closed without any answer.
    pub drop_rate: f64,
    /// Of the dropped requests, the fraction dropped after the operation ran (a write is then
    /// applied although the client never hears of it); the rest are dropped before it runs.
    pub drop_after_write_fraction: f64,
    /// Seed of the generator behind every random fault; setting faults reseeds it.
    pub rng_seed: u64,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            latency: Duration::ZERO,
            max_rps: None,
            throttle_rate: 0.0,
            server_error_rate: 0.0,
            drop_rate: 0.0,
            drop_after_write_fraction: 0.5,
            rng_seed: 0,
        }
    }
}

impl Faults {
    /// The longest latency that can be injected: longer than any client timeout worth testing.
    pub(crate) const MAX_LATENCY: Duration = Duration::from_secs(600);

    /// Checks that rates are probabilities, the latency is at most [`Faults::MAX_LATENCY`] and
    /// the cap is within the range `--max-rps` takes ([`RateCap`]).
    pub(crate) fn validate(&self) -> Result<(), String> {
        let rates = [
            ("throttle_rate", self.throttle_rate),
            ("server_error_rate", self.server_error_rate),
            ("drop_rate", self.drop_rate),
            ("drop_after_write_fraction", self.drop_after_write_fraction),
        ];
        for (name, rate) in rates {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0 and 1, got {rate}"));
            }
        }
        if let Some(rps) = self.max_rps {
            RateCap::new(rps).map_err(|e| format!("max_rps {e}"))?;
        }
        if self.latency > Self::MAX_LATENCY {
            return Err(format!(
                "latency_ms must be from 0 to {}, got {}",
                Self::MAX_LATENCY.as_millis(),
                self.latency.as_millis()
            ));
        }
        Ok(())
    }
}

/// Durations as whole milliseconds, the unit people type.
mod duration_ms {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

/// splitmix64: tiny, fast and good enough for fault injection; no dependency.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`, from the top 53 bits.
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A token bucket holding at most one second of requests (at least one token).
#[derive(Debug, Clone)]
struct TokenBucket {
    rate: f64,
    capacity: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    fn new(rate: f64, now: Instant) -> Self {
        let capacity = rate.max(1.0);
        TokenBucket { rate, capacity, tokens: capacity, last: now }
    }

    fn try_take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Where a dropped request loses its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DropPoint {
    /// Before authentication and before the operation runs: nothing happened.
    BeforeOperation,
    /// After the operation ran: a successful write is applied, its answer lost.
    AfterOperation,
}

/// The random decisions for one request, drawn together so that every request consumes the same
/// number of values and a run with the same seed and order of requests repeats exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Draw {
    pub(crate) drop: Option<DropPoint>,
    pub(crate) throttle: bool,
    pub(crate) server_error: Option<u16>,
}

/// The live fault settings with their generator and bucket.
#[derive(Debug)]
pub(crate) struct FaultState {
    faults: Faults,
    rng: SplitMix64,
    bucket: Option<TokenBucket>,
}

impl FaultState {
    pub(crate) fn new(faults: Faults) -> Self {
        let rng = SplitMix64::new(faults.rng_seed);
        let bucket = faults.max_rps.map(|rps| TokenBucket::new(rps, Instant::now()));
        FaultState { faults, rng, bucket }
    }

    pub(crate) fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Replaces the settings; reseeds the generator and refills the bucket.
    pub(crate) fn set(&mut self, faults: Faults) {
        *self = FaultState::new(faults);
    }

    pub(crate) fn draw(&mut self) -> Draw {
        let [drop_u, after_u, throttle_u, error_u, status_u] =
            std::array::from_fn(|_| self.rng.next_f64());
        let f = &self.faults;
        let point = if after_u < f.drop_after_write_fraction {
            DropPoint::AfterOperation
        } else {
            DropPoint::BeforeOperation
        };
        let drop = (drop_u < f.drop_rate).then_some(point);
        let server_error =
            (error_u < f.server_error_rate).then_some(if status_u < 0.5 { 500 } else { 503 });
        Draw { drop, throttle: throttle_u < f.throttle_rate, server_error }
    }

    /// Whether the requests-per-second cap lets one more request through now.
    pub(crate) fn admit(&mut self, now: Instant) -> bool {
        self.bucket.as_mut().is_none_or(|b| b.try_take(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_is_repeatable_and_uniformish() {
        let mut a = SplitMix64::new(7);
        let mut b = SplitMix64::new(7);
        let xs: Vec<f64> = (0..1000).map(|_| a.next_f64()).collect();
        let ys: Vec<f64> = (0..1000).map(|_| b.next_f64()).collect();
        assert_eq!(xs, ys);
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((mean - 0.5).abs() < 0.05, "mean {mean}");
    }

    #[test]
    fn bucket_caps_then_refills() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(2.0, t0);
        assert!(bucket.try_take(t0));
        assert!(bucket.try_take(t0));
        assert!(!bucket.try_take(t0));
        assert!(bucket.try_take(t0 + Duration::from_millis(500)));
        assert!(!bucket.try_take(t0 + Duration::from_millis(500)));
    }

    #[test]
    fn faults_json_uses_milliseconds_and_defaults() {
        let f: Faults = serde_json::from_str(r#"{"latency_ms": 250, "drop_rate": 0.1}"#).unwrap();
        assert_eq!(f.latency, Duration::from_millis(250));
        assert_eq!(f.drop_rate, 0.1);
        assert_eq!(f.drop_after_write_fraction, 0.5);
        assert!(serde_json::from_str::<Faults>(r#"{"latency": 1}"#).is_err());
        assert!(Faults { throttle_rate: 1.5, ..Faults::default() }.validate().is_err());
        assert!(Faults { max_rps: Some(0.0), ..Faults::default() }.validate().is_err());
    }

    #[test]
    fn faults_validate_refuses_every_out_of_range_value() {
        let bad = [
            Faults { max_rps: Some(1e-300), ..Faults::default() },
            Faults { max_rps: Some(f64::INFINITY), ..Faults::default() },
            Faults { max_rps: Some(f64::NAN), ..Faults::default() },
            Faults { max_rps: Some(100_001.0), ..Faults::default() },
            Faults { throttle_rate: f64::NAN, ..Faults::default() },
            Faults { drop_rate: -0.5, ..Faults::default() },
            Faults { server_error_rate: f64::INFINITY, ..Faults::default() },
            Faults { latency: Faults::MAX_LATENCY + Duration::from_millis(1), ..Faults::default() },
        ];
        for faults in bad {
            assert!(faults.validate().is_err(), "{faults:?}");
        }
        let edge = Faults {
            max_rps: Some(0.1),
            latency: Faults::MAX_LATENCY,
            drop_rate: 1.0,
            ..Faults::default()
        };
        assert_eq!(edge.validate(), Ok(()));
    }

    #[test]
    fn no_faults_never_fire() {
        let mut state = FaultState::new(Faults::default());
        for _ in 0..100 {
            assert_eq!(state.draw(), Draw { drop: None, throttle: false, server_error: None });
            assert!(state.admit(Instant::now()));
        }
    }
}
