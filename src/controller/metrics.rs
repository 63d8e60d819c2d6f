//! The Prometheus metrics of `GET /metrics`: every family registered once at start, updated by
//! the loop after each run, by the directory's attempt observer, and (the request rate) when
//! scraped.

use super::status::{Mode, OrganizationDrift, RunRecord, RunResult};
use crate::apply::{Outcome, UserOutcome};
use crate::directory::AttemptAnswer;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::time::{SystemTime, UNIX_EPOCH};

/// The `Content-Type` of the Prometheus text format served.
pub(crate) const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Upper bounds of the run duration buckets, in seconds: a small directory plans in well
/// under a second, 100,000 users take minutes.
const DURATION_BUCKETS: [f64; 12] =
    [0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0];

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    result: &'static str,
    trigger: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InfoLabels {
    mode: &'static str,
    revision: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OrganizationLabel {
    organization: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpdateLabels {
    organization: String,
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    operation: String,
    outcome: &'static str,
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// Every metric of the controller, and the registry that serves them.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    runs: Family<RunLabels, Counter>,
    run_duration: Family<ResultLabel, Histogram, fn() -> Histogram>,
    last_success: FloatGauge,
    ready: Gauge,
    suspended: Gauge,
    info: Family<InfoLabels, Gauge>,
    drift_users: Family<OrganizationLabel, Gauge>,
    desired_users: Family<OrganizationLabel, Gauge>,
    unmanaged_users: Family<OrganizationLabel, Gauge>,
    user_updates: Family<UpdateLabels, Counter>,
    api_requests: Family<RequestLabels, Counter>,
    request_rate: FloatGauge,
}

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// Register each family of `metrics` once, by field: its name and help text.
macro_rules! register_families {
    ($registry:ident, $metrics:ident, $($field:ident: $name:literal, $help:literal;)*) => {
        $($registry.register($name, $help, $metrics.$field.clone());)*
    };
}

impl Metrics {
    /// Every family, registered under the `workmail_reconcile_` prefix.
    pub(crate) fn new() -> Metrics {
        let mut registry = Registry::with_prefix("workmail_reconcile");
        let metrics = Metrics {
            registry: Registry::default(),
            runs: Family::default(),
            run_duration: Family::new_with_constructor(duration_histogram),
            last_success: FloatGauge::default(),
            ready: Gauge::default(),
            suspended: Gauge::default(),
            info: Family::default(),
            drift_users: Family::default(),
            desired_users: Family::default(),
            unmanaged_users: Family::default(),
            user_updates: Family::default(),
            api_requests: Family::default(),
            request_rate: FloatGauge::default(),
        };
        // Counters get their `_total` suffix, and every help text its final period, from the
        // registry.
        register_families!(registry, metrics,
            runs: "runs", "Runs finished, by result and by what started them";
            run_duration: "run_duration_seconds", "How long runs took, by result";
            last_success: "last_success_timestamp_seconds",
                "Unix time at which the last run with result success or drift ended";
            ready: "ready", "1 when the Ready condition is true, else 0";
            suspended: "suspended", "1 when the source holds the suspend file, else 0";
            info: "info",
                "Always 1: the mode, and the revision applied last (else the one attempted last)";
            drift_users: "drift_users",
                "Users with changes in the last plan, before any apply, per organization";
            desired_users: "desired_users",
                "Users the files declare, per organization, in the last plan";
            unmanaged_users: "unmanaged_users",
                "Live users no file declares, per organization, in the last plan (absent when \
                 not looked for: --unmanaged ignore, --target)";
            user_updates: "user_updates", "Users attempted by applies, per organization and outcome";
            api_requests: "api_requests",
                "WorkMail API attempts (retries included), per operation and outcome";
            request_rate: "request_rate",
                "The adaptive request rate now, calls per second (0 while no rate is set)";
        );
        Metrics { registry, ..metrics }
    }

    /// A finished run: its counter, its duration, and the time of the last success.
    pub(crate) fn record_run(&self, run: &RunRecord) {
        let result = run.result.as_str();
        self.runs.get_or_create(&RunLabels { result, trigger: run.trigger.as_str() }).inc();
        self.run_duration.get_or_create(&ResultLabel { result }).observe(run.duration_seconds);
        if matches!(run.result, RunResult::Success | RunResult::Drift) {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
            self.last_success.set(now.as_secs_f64());
        }
    }

    /// The Ready condition's status and whether writing is suspended.
    pub(crate) fn set_condition(&self, ready: bool, suspended: bool) {
        self.ready.set(i64::from(ready));
        self.suspended.set(i64::from(suspended));
    }

    /// The info metric: one series, for the mode and `revision`.
    pub(crate) fn set_info(&self, mode: Mode, revision: Option<&str>) {
        let labels = InfoLabels { mode: mode.as_str(), revision: revision.unwrap_or("").into() };
        if self.info.get(&labels).is_none() {
            self.info.clear();
            self.info.get_or_create(&labels).set(1);
        }
    }

    /// The drift of the last plan: series of organizations no longer planned go away.
    pub(crate) fn set_drift(&self, organizations: &[OrganizationDrift]) {
        self.drift_users.clear();
        self.desired_users.clear();
        self.unmanaged_users.clear();
        for organization in organizations {
            let labels = OrganizationLabel { organization: organization.organization_id.clone() };
            self.drift_users.get_or_create(&labels).set(count(organization.users.len()));
            self.desired_users.get_or_create(&labels).set(count(organization.desired_users));
            if let Some(unmanaged) = &organization.unmanaged {
                self.unmanaged_users.get_or_create(&labels).set(count(unmanaged.len()));
            }
        }
    }

    /// One user attempted by an apply; users found already as planned are not counted.
    pub(crate) fn user_attempted(&self, user: &UserOutcome) {
        let result = match user.outcome {
            Outcome::Updated { .. } => "updated",
            Outcome::Conflict { .. } => "conflict",
            Outcome::Failed { .. } => "failed",
            Outcome::Unchanged | Outcome::NotAttempted => return,
        };
        let organization = user.organization_id.clone();
        self.user_updates.get_or_create(&UpdateLabels { organization, result }).inc();
    }

    /// One API attempt.
    pub(crate) fn api_attempt(&self, operation: &str, answer: AttemptAnswer) {
        let labels = RequestLabels { operation: operation.to_string(), outcome: answer.as_str() };
        self.api_requests.get_or_create(&labels).inc();
    }

    /// Everything in the Prometheus text format, with the request rate as it is now (`None`
    /// while the limiter sets no rate).
    pub(crate) fn encode(&self, request_rate: Option<f64>) -> String {
        self.request_rate.set(request_rate.unwrap_or(0.0));
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry);
        text
    }
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
