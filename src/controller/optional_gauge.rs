//! A gauge that is absent until it has a value: a metric whose 0 would read as a real value
//! ("the last success was in 1970", "the rate limit is 0 calls per second") has no series at
//! all instead, so that alerts and panels see "never" as absence.

use prometheus_client::encoding::{EncodeMetric, MetricEncoder};
use prometheus_client::metrics::{MetricType, TypedMetric};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The bits that stand for "no value": a NaN payload no arithmetic produces.
const UNSET: u64 = 0x7ff8_dead_beef_0001;

/// A float gauge with no series (and no `# HELP` or `# TYPE` line) until [`OptionalGauge::set`].
/// Clones share the value, as the client's own metrics do.
#[derive(Debug, Clone)]
pub(crate) struct OptionalGauge {
    bits: Arc<AtomicU64>,
}

impl Default for OptionalGauge {
    fn default() -> Self {
        OptionalGauge { bits: Arc::new(AtomicU64::new(UNSET)) }
    }
}

impl OptionalGauge {
    /// Give the gauge `value`, or take its series away (`None`). A NaN counts as no value.
    pub(crate) fn set(&self, value: Option<f64>) {
        let bits = value.filter(|v| !v.is_nan()).map_or(UNSET, f64::to_bits);
        self.bits.store(bits, Ordering::Relaxed);
    }

    /// The value, `None` while there is none.
    pub(crate) fn get(&self) -> Option<f64> {
        let bits = self.bits.load(Ordering::Relaxed);
        (bits != UNSET).then(|| f64::from_bits(bits))
    }
}

impl TypedMetric for OptionalGauge {
    const TYPE: MetricType = MetricType::Gauge;
}

impl EncodeMetric for OptionalGauge {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        match self.get() {
            Some(value) => encoder.encode_gauge(&value),
            None => Ok(()),
        }
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }

    fn is_empty(&self) -> bool {
        self.get().is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::registry::Registry;

    fn text(registry: &Registry) -> String {
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, registry).unwrap();
        text
    }

    #[test]
    fn absent_until_set_and_absent_again_when_unset() {
        let gauge = OptionalGauge::default();
        let mut registry = Registry::default();
        registry.register("last_seconds", "When", gauge.clone());
        assert_eq!(text(&registry), "");
        gauge.set(Some(0.0));
        assert_eq!(
            text(&registry),
            "# HELP last_seconds When.\n# TYPE last_seconds gauge\nlast_seconds 0.0\n"
        );
        gauge.set(Some(1.5e9));
        assert!(text(&registry).contains("last_seconds 1500000000.0\n"), "{}", text(&registry));
        gauge.set(Some(f64::NAN));
        assert_eq!((gauge.get(), text(&registry)), (None, String::new()));
        gauge.set(Some(4.8));
        gauge.set(None);
        assert_eq!(text(&registry), "");
    }
}
