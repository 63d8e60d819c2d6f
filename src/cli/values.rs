//! Parsers for the numeric flag values. Each accepts one documented range and, when it refuses
//! a value (NaN, infinities, negatives and out-of-range numbers included), says what is allowed;
//! clap turns the refusal into a usage error before any call is made.

use crate::emulator::Faults;
use std::fmt::Display;
use std::str::FromStr;

/// The most calls in flight `--concurrency` allows.
pub const MAX_CONCURRENCY: u32 = 256;

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
pub fn concurrency(s: &str) -> Result<u32, String> {
    whole(s, 1, MAX_CONCURRENCY, " of calls")
}

/// `--max-changes`: a number of users; 0 refuses every change.
pub fn max_changes(s: &str) -> Result<usize, String> {
    whole(s, 0, usize::MAX, " of users")
}

/// `--rng-seed`: any 64-bit unsigned number.
pub fn rng_seed(s: &str) -> Result<u64, String> {
    whole(s, 0, u64::MAX, "")
}

/// `--latency-ms`: 0 to [`Faults::MAX_LATENCY`] in milliseconds.
pub fn latency_ms(s: &str) -> Result<u64, String> {
    let max = u64::try_from(Faults::MAX_LATENCY.as_millis()).unwrap_or(u64::MAX);
    whole(s, 0, max, " of milliseconds")
}

/// The fault rates: a probability from 0 to 1.
pub fn probability(s: &str) -> Result<f64, String> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|p| (0.0..=1.0).contains(p))
        .ok_or_else(|| format!("must be a probability from 0 to 1, got `{s}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

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
