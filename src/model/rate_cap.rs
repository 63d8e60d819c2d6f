//! A requests-per-second cap (`--max-rps`), valid by construction: a plain value shared by the
//! directory client's limiter, the command line and the emulator's fault settings.

use std::fmt;
use std::str::FromStr;

/// Requests per second at most: a finite number from `RateCap::MIN` to `RateCap::MAX`.
///
/// The limiter paces calls at `1 / rate` seconds apart; the bounds keep that interval between
/// 10 µs and 10 s, so no cap can stall a run for ages or overflow a clock.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct RateCap(f64);

impl RateCap {
    /// The smallest cap: one call every ten seconds.
    pub(crate) const MIN: f64 = 0.1;
    /// The largest cap: far above any WorkMail quota.
    pub(crate) const MAX: f64 = 100_000.0;

    /// `per_second` as a cap, or what is allowed when it is out of range (NaN and infinities
    /// included).
    pub(crate) fn new(per_second: f64) -> Result<RateCap, String> {
        if (Self::MIN..=Self::MAX).contains(&per_second) {
            Ok(RateCap(per_second))
        } else {
            // Debug keeps `1e-300` short where Display would write 300 zeros.
            Err(Self::allowed(&format!("{per_second:?}")))
        }
    }

    /// What is allowed, and what was given instead.
    fn allowed(given: &str) -> String {
        format!(
            "must be a number of requests per second from {} to {}, got {given}",
            Self::MIN,
            Self::MAX
        )
    }

    /// Requests per second.
    pub(crate) fn get(self) -> f64 {
        self.0
    }
}

impl FromStr for RateCap {
    type Err = String;

    fn from_str(s: &str) -> Result<RateCap, String> {
        // Refusals quote the value as typed.
        let refused = || Self::allowed(&format!("`{s}`"));
        let per_second: f64 = s.trim().parse().map_err(|_| refused())?;
        RateCap::new(per_second).map_err(|_| refused())
    }
}

impl fmt::Display for RateCap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_cap_accepts_the_documented_range_only() {
        for ok in ["0.1", "1", "2.5", "100000", "1e5", " 7 "] {
            assert!(ok.parse::<RateCap>().is_ok(), "{ok}");
        }
        for bad in [
            "0",
            "0.09",
            "-5",
            "1e-300",
            "100000.01",
            "1e308",
            "nan",
            "NaN",
            "inf",
            "-inf",
            "",
            "ten",
        ] {
            let err = bad.parse::<RateCap>().unwrap_err();
            assert!(
                err.starts_with("must be a number of requests per second from 0.1 to 100000"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn rate_cap_new_writes_the_refused_number_briefly() {
        assert_eq!(
            RateCap::new(1e-300),
            Err("must be a number of requests per second from 0.1 to 100000, got 1e-300".into())
        );
        assert!(RateCap::new(f64::NAN).unwrap_err().ends_with("got NaN"));
    }
}
