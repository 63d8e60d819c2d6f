//! Parsers for the flag values that have a range or a form. Each accepts one documented range
//! and, when it refuses a value (NaN, infinities, negatives and out-of-range numbers included),
//! says what is allowed; clap turns the refusal into a usage error before any call is made.

use crate::emulator::Faults;
use crate::reconcile::{check_endpoint_url, check_region};
use std::fmt::Display;
use std::str::FromStr;
use std::time::Duration;

/// The most calls in flight `--concurrency` allows.
const MAX_CONCURRENCY: u32 = 256;

/// A whole number from `min` to `max`, in decimal.
fn whole<T>(s: &str, min: T, max: T, unit: &str) -> Result<T, String>
where
    T: FromStr + PartialOrd + Display + Copy,
{
    s.trim()
        .parse::<T>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| format!("must be a whole number{unit} from {min} to {max}, got `{s}`"))
}

/// `--concurrency`: 1 to [`MAX_CONCURRENCY`] calls in flight.
pub(crate) fn concurrency(s: &str) -> Result<u32, String> {
    whole(s, 1, MAX_CONCURRENCY, " of calls")
}

/// `--max-changes`: a number of users; 0 refuses every change.
pub(crate) fn max_changes(s: &str) -> Result<usize, String> {
    whole(s, 0, usize::MAX, " of users")
}

/// `--rng-seed`: any 64-bit unsigned number.
pub(crate) fn rng_seed(s: &str) -> Result<u64, String> {
    whole(s, 0, u64::MAX, "")
}

/// `--latency-ms`: 0 to [`Faults::MAX_LATENCY`] in milliseconds.
pub(crate) fn latency_ms(s: &str) -> Result<u64, String> {
    let max = u64::try_from(Faults::MAX_LATENCY.as_millis()).unwrap_or(u64::MAX);
    whole(s, 0, max, " of milliseconds")
}

/// The fault rates: a probability from 0 to 1.
pub(crate) fn probability(s: &str) -> Result<f64, String> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|p| (0.0..=1.0).contains(p))
        .ok_or_else(|| format!("must be a probability from 0 to 1, got `{s}`"))
}

/// Shortest and longest timeout accepted: below 10 ms nothing can answer, above an hour a hung
/// endpoint would hold a CI job for longer than any job should run.
const TIMEOUT_RANGE: (Duration, Duration) = (Duration::from_millis(10), Duration::from_secs(3600));

/// `--attempt-timeout`, `--operation-timeout`: a humantime duration (`500ms`, `20s`, `2m`)
/// within [`TIMEOUT_RANGE`].
pub(crate) fn timeout(s: &str) -> Result<Duration, String> {
    duration_within(s, TIMEOUT_RANGE, "500ms, 20s or 2m")
}

/// Shortest and longest controller interval: a run a second is the most a directory should
/// take (and what tests and benchmarks use); a day is the longest a drift should go unseen.
const INTERVAL_RANGE: (Duration, Duration) =
    (Duration::from_secs(1), Duration::from_secs(24 * 3600));

/// `controller --interval`: a humantime duration (`30s`, `10m`) within [`INTERVAL_RANGE`].
pub(crate) fn interval(s: &str) -> Result<Duration, String> {
    duration_within(s, INTERVAL_RANGE, "30s, 10m or 1h")
}

/// A humantime duration from `range.0` to `range.1`; the refusal names the range and examples.
fn duration_within(
    s: &str,
    range: (Duration, Duration),
    examples: &str,
) -> Result<Duration, String> {
    let (min, max) = range;
    let allowed = format!(
        "a duration from {} to {}, like {examples}",
        humantime::format_duration(min),
        humantime::format_duration(max)
    );
    let duration = humantime::parse_duration(s)
        .map_err(|e| format!("`{s}` is not a duration ({e}); expected {allowed}"))?;
    if duration < min || duration > max {
        return Err(format!("`{s}` is out of range; expected {allowed}"));
    }
    Ok(duration)
}

/// `--region`: an AWS region name (`us-east-1`).
pub(crate) fn region(s: &str) -> Result<String, String> {
    check_region(s).map(|()| s.to_string())
}

/// `--endpoint-url`: `http(s)://HOST[:PORT][/PATH]`.
pub(crate) fn endpoint_url(s: &str) -> Result<String, String> {
    check_endpoint_url(s).map(|()| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_take_humantime_durations_within_bounds() {
        assert_eq!(timeout("25s"), Ok(Duration::from_secs(25)));
        assert_eq!(timeout("1m 30s"), Ok(Duration::from_secs(90)));
        assert_eq!(timeout("10ms"), Ok(Duration::from_millis(10)));
        assert_eq!(timeout("1h"), Ok(Duration::from_secs(3600)));
        for bad in ["0s", "0", "5ms", "2h", "-5s", "25", "soon", "", "1e3s"] {
            let err = timeout(bad).expect_err(bad);
            assert!(err.contains("expected a duration from 10ms to 1h"), "{bad}: {err}");
        }
    }

    #[test]
    fn intervals_take_humantime_durations_from_a_second_to_a_day() {
        assert_eq!(interval("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(interval("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(interval("24h"), Ok(Duration::from_secs(86_400)));
        for bad in ["0s", "999ms", "25h", "-1m", "10", "often", ""] {
            let err = interval(bad).expect_err(bad);
            assert!(err.contains("expected a duration from 1s to 1day, like 30s"), "{bad}: {err}");
        }
    }

    #[test]
    fn values_accept_their_range_and_name_it_when_refusing() {
        assert_eq!(concurrency("1"), Ok(1));
        assert_eq!(concurrency("256"), Ok(256));
        for bad in ["0", "257", "-1", "1.5", "nan", "", "99999999999999999999"] {
            assert_eq!(
                concurrency(bad),
                Err(format!("must be a whole number of calls from 1 to 256, got `{bad}`"))
            );
        }
        assert_eq!(max_changes("0"), Ok(0));
        assert!(max_changes("-3").unwrap_err().contains("from 0 to"));
        assert_eq!(rng_seed("18446744073709551615"), Ok(u64::MAX));
        assert!(rng_seed("18446744073709551616").is_err());
        assert_eq!(latency_ms("600000"), Ok(600_000));
        assert_eq!(
            latency_ms("600001"),
            Err("must be a whole number of milliseconds from 0 to 600000, got `600001`".into())
        );
        assert_eq!(probability("0"), Ok(0.0));
        assert_eq!(probability("1"), Ok(1.0));
        assert_eq!(probability("0.25"), Ok(0.25));
        for bad in ["-0.1", "1.01", "nan", "inf", "1e300", "half"] {
            assert_eq!(
                probability(bad),
                Err(format!("must be a probability from 0 to 1, got `{bad}`"))
            );
        }
    }
}
