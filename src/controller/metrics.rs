//! The Prometheus metrics of `GET /metrics`: every family registered once at start, updated by
//! the loop after each run, by the directory's attempt observer, and (the request rate limit)
//! when scraped.
//!
//! Shaped so that queries read true: every counter series whose labels are known at start
//! exists from start at 0 (each run result and trigger, each outcome of each WorkMail operation
//! the tool calls; per organization once a plan has named it), so that `increase()` sees the
//! first event; a value that would mean "never" (the last success, the rate limit while there
//! is none) has no series instead of a 0; and the Ready condition has Flux's three-valued shape.

use super::optional_gauge::OptionalGauge;
use super::process_metrics::ProcessMetrics;
use super::status::{Mode, OrganizationDrift, Ready, ReadyReason, RunRecord, RunResult, Trigger};
use crate::reconcile::{AttemptAnswer, OPERATIONS};
use crate::reconcile::{Outcome, UserOutcome};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::time::{SystemTime, UNIX_EPOCH};

/// The `Content-Type` of the Prometheus text format served.
pub(crate) const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The prefix of every metric but the process' own.
const PREFIX: &str = "workmail_reconcile";

/// Upper bounds of the run duration buckets, in seconds: a small directory plans in well
/// under a second, 100,000 users take minutes.
const DURATION_BUCKETS: [f64; 12] =
    [0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0];

/// The `result` values of `user_updates_total`.
const UPDATE_RESULTS: [&str; 3] = ["updated", "conflict", "failed"];

/// The `status` values of the condition metric, as Kubernetes conditions spell them.
const CONDITION_STATUSES: [&str; 3] = ["True", "False", "Unknown"];

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
struct ConditionLabels {
    r#type: &'static str,
    status: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InfoLabels {
    mode: &'static str,
    revision: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabel {
    version: &'static str,
}

/// An organization by id, and by alias for people (`""` when the service knows none).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OrganizationLabels {
    organization: String,
    organization_alias: String,
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

/// Every metric of the controller, and the registry that serves them.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    runs: Family<RunLabels, Counter>,
    run_duration: Family<ResultLabel, Histogram, fn() -> Histogram>,
    last_success: OptionalGauge,
    condition: Family<ConditionLabels, Gauge>,
    ready: Gauge,
    suspended: Gauge,
    info: Family<InfoLabels, Gauge>,
    build_info: Family<VersionLabel, Gauge>,
    drift_users: Family<OrganizationLabels, Gauge>,
    desired_users: Family<OrganizationLabels, Gauge>,
    unmanaged_users: Family<OrganizationLabels, Gauge>,
    user_updates: Family<UpdateLabels, Counter>,
    api_requests: Family<RequestLabels, Counter>,
    request_rate_limit: OptionalGauge,
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

/// Unix time now, in seconds.
fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64()
}

impl Metrics {
    /// Every family, registered under the `workmail_reconcile_` prefix (the process' own
    /// metrics without it), with the series known at start at 0 and the Ready condition
    /// `Unknown`.
    pub(crate) fn new() -> Metrics {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(ProcessMetrics::new(unix_now())));
        let metrics = Metrics {
            registry: Registry::default(),
            runs: Family::default(),
            run_duration: Family::new_with_constructor(duration_histogram),
            last_success: OptionalGauge::default(),
            condition: Family::default(),
            ready: Gauge::default(),
            suspended: Gauge::default(),
            info: Family::default(),
            build_info: Family::default(),
            drift_users: Family::default(),
            desired_users: Family::default(),
            unmanaged_users: Family::default(),
            user_updates: Family::default(),
            api_requests: Family::default(),
            request_rate_limit: OptionalGauge::default(),
        };
        let prefixed = registry.sub_registry_with_prefix(PREFIX);
        // Counters get their `_total` suffix, and every help text its final period, from the
        // registry.
        register_families!(prefixed, metrics,
            runs: "runs", "Runs finished, by result and by what started them";
            run_duration: "run_duration_seconds", "How long runs took, by result";
            last_success: "last_success_timestamp_seconds",
                "Unix time at which the last run with result success or drift ended (no series \
                 before one)";
            condition: "condition",
                "The Ready condition: 1 for its status now (Unknown until the first run ends), \
                 0 for the others";
            ready: "ready", "1 when the Ready condition is true, else 0";
            suspended: "suspended", "1 when the source holds the suspend file, else 0";
            info: "info",
                "Always 1: the mode, and the revision applied last (else the one attempted last)";
            build_info: "build_info", "Always 1: the version of workmail-reconcile running";
            drift_users: "drift_users",
                "Users that still differ from the files after the last run that planned, per \
                 organization";
            desired_users: "desired_users",
                "Users the files declare, per organization, in the last plan";
            unmanaged_users: "unmanaged_users",
                "Live users no file declares, per organization, in the last plan (absent when \
                 not looked for: --unmanaged ignore, --target)";
            user_updates: "user_updates", "Users attempted by applies, per organization and outcome";
            api_requests: "api_requests",
                "WorkMail API attempts (retries included), per operation and outcome";
            request_rate_limit: "request_rate_limit_per_second",
                "The adaptive limit on WorkMail API calls per second now (no series while calls \
                 are not limited)";
        );
        for result in RunResult::ALL {
            let result = result.as_str();
            let _ = metrics.run_duration.get_or_create(&ResultLabel { result });
            for trigger in Trigger::ALL {
                let _ =
                    metrics.runs.get_or_create(&RunLabels { result, trigger: trigger.as_str() });
            }
        }
        for operation in OPERATIONS {
            for answer in AttemptAnswer::ALL {
                let labels =
                    RequestLabels { operation: operation.to_string(), outcome: answer.as_str() };
                let _ = metrics.api_requests.get_or_create(&labels);
            }
        }
        let version = VersionLabel { version: env!("CARGO_PKG_VERSION") };
        metrics.build_info.get_or_create(&version).set(1);
        metrics.set_condition_status("Unknown");
        Metrics { registry, ..metrics }
    }

    /// A finished run: its counter, its duration, and the time of the last success.
    pub(crate) fn record_run(&self, run: &RunRecord) {
        let result = run.result.as_str();
        self.runs.get_or_create(&RunLabels { result, trigger: run.trigger.as_str() }).inc();
        self.run_duration.get_or_create(&ResultLabel { result }).observe(run.duration_seconds);
        if matches!(run.result, RunResult::Success | RunResult::Drift) {
            self.last_success.set(Some(unix_now()));
        }
    }

    /// The Ready condition and whether writing is suspended.
    pub(crate) fn set_condition(&self, ready: &Ready, suspended: bool) {
        let status = match ready.reason {
            ReadyReason::Progressing => "Unknown",
            _ if ready.status => "True",
            _ => "False",
        };
        self.set_condition_status(status);
        self.ready.set(i64::from(ready.status));
        self.suspended.set(i64::from(suspended));
    }

    /// The condition's series: `status` at 1, the other two at 0.
    fn set_condition_status(&self, status: &'static str) {
        for each in CONDITION_STATUSES {
            let labels = ConditionLabels { r#type: "Ready", status: each };
            self.condition.get_or_create(&labels).set(i64::from(each == status));
        }
    }

    /// The info metric: one series, for the mode and `revision`.
    pub(crate) fn set_info(&self, mode: Mode, revision: Option<&str>) {
        let labels = InfoLabels { mode: mode.as_str(), revision: revision.unwrap_or("").into() };
        if self.info.get(&labels).is_none() {
            self.info.clear();
            self.info.get_or_create(&labels).set(1);
        }
    }

    /// The organizations a plan named: their update counters start at 0 before anything is
    /// applied to them, so that the first update shows in `increase()`.
    pub(crate) fn organizations_known(&self, organizations: &[OrganizationDrift]) {
        for organization in organizations {
            for result in UPDATE_RESULTS {
                let organization = organization.organization_id.clone();
                let _ = self.user_updates.get_or_create(&UpdateLabels { organization, result });
            }
        }
    }

    /// The drift after the last run that planned: series of organizations no longer planned
    /// go away.
    pub(crate) fn set_drift(&self, organizations: &[OrganizationDrift]) {
        self.organizations_known(organizations);
        self.drift_users.clear();
        self.desired_users.clear();
        self.unmanaged_users.clear();
        for organization in organizations {
            let labels = OrganizationLabels {
                organization: organization.organization_id.clone(),
                organization_alias: organization.alias.clone().unwrap_or_default(),
            };
            let still_differing = count(organization.users_still_differing);
            self.drift_users.get_or_create(&labels).set(still_differing);
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

    /// Everything in the Prometheus text format, with the request rate limit as it is now
    /// (`None` while the limiter sets no rate: no series).
    pub(crate) fn encode(&self, request_rate_limit: Option<f64>) -> String {
        self.request_rate_limit.set(request_rate_limit);
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry);
        text
    }
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::status::{Correction, FieldDrift, RunSummary, UserDrift};

    fn lines(text: &str, prefix: &str) -> Vec<String> {
        text.lines().filter(|l| l.starts_with(prefix)).map(str::to_string).collect()
    }

    fn run(result: RunResult) -> RunRecord {
        RunRecord {
            trigger: Trigger::Startup,
            started: "2026-01-01T00:00:00Z".into(),
            duration_seconds: 0.3,
            result,
            revision: Some("r1".into()),
            summary: RunSummary::default(),
        }
    }

    fn ready(reason: ReadyReason, status: bool) -> Ready {
        Ready { status, reason, message: String::new(), since: String::new() }
    }

    #[test]
    fn at_start_every_known_counter_is_0_and_never_has_no_series() {
        let text = Metrics::new().encode(None);
        let runs = lines(&text, "workmail_reconcile_runs_total{");
        assert_eq!(runs.len(), 5 * 6, "{text}");
        assert!(runs.iter().all(|l| l.ends_with(" 0")), "{runs:?}");
        assert!(runs.contains(
            &"workmail_reconcile_runs_total{result=\"invalid\",trigger=\"startup\"} 0".into()
        ));
        assert_eq!(lines(&text, "workmail_reconcile_run_duration_seconds_count{").len(), 5);
        let requests = lines(&text, "workmail_reconcile_api_requests_total{");
        assert_eq!(requests.len(), 14 * 3, "{text}");
        assert!(requests.contains(
            &"workmail_reconcile_api_requests_total{operation=\"UpdateUser\",outcome=\"throttled\"} 0"
                .into()
        ));
        for line in [
            "workmail_reconcile_condition{type=\"Ready\",status=\"True\"} 0",
            "workmail_reconcile_condition{type=\"Ready\",status=\"False\"} 0",
            "workmail_reconcile_condition{type=\"Ready\",status=\"Unknown\"} 1",
            "workmail_reconcile_ready 0",
            &format!(
                "workmail_reconcile_build_info{{version=\"{}\"}} 1",
                env!("CARGO_PKG_VERSION")
            ),
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        assert!(text.contains("\nprocess_start_time_seconds "), "{text}");
        for absent in [
            "workmail_reconcile_last_success_timestamp_seconds",
            "workmail_reconcile_request_rate_limit_per_second",
            "workmail_reconcile_user_updates_total",
            "workmail_reconcile_drift_users",
        ] {
            assert!(!text.contains(absent), "{absent} in\n{text}");
        }
    }

    #[test]
    fn the_last_success_and_the_rate_limit_appear_with_a_value() {
        let metrics = Metrics::new();
        metrics.record_run(&run(RunResult::Failure));
        metrics.set_condition(&ready(ReadyReason::ReconciliationFailed, false), false);
        let text = metrics.encode(None);
        assert!(!text.contains("last_success"), "{text}");
        assert!(text.contains("workmail_reconcile_condition{type=\"Ready\",status=\"False\"} 1\n"));
        assert!(
            text.contains("workmail_reconcile_condition{type=\"Ready\",status=\"Unknown\"} 0\n")
        );
        metrics.record_run(&run(RunResult::Drift));
        metrics.set_condition(&ready(ReadyReason::DriftDetected, true), true);
        let text = metrics.encode(Some(4.8));
        let success: f64 = lines(&text, "workmail_reconcile_last_success_timestamp_seconds ")[0]
            .rsplit(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .expect("a value");
        assert!((unix_now() - success).abs() < 60.0, "{success}");
        for line in [
            "workmail_reconcile_request_rate_limit_per_second 4.8",
            "workmail_reconcile_condition{type=\"Ready\",status=\"True\"} 1",
            "workmail_reconcile_condition{type=\"Ready\",status=\"False\"} 0",
            "workmail_reconcile_ready 1",
            "workmail_reconcile_suspended 1",
            "workmail_reconcile_runs_total{result=\"failure\",trigger=\"startup\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        assert!(!metrics.encode(None).contains("request_rate_limit"));
    }

    #[test]
    fn drift_counts_what_still_differs_with_the_alias_and_updates_start_at_0() {
        let user = |name: &str, outcome| UserDrift {
            user: name.into(),
            user_id: format!("id-{name}"),
            fields: vec![FieldDrift {
                field: "city".into(),
                before: "A".into(),
                after: "B".into(),
            }],
            outcome,
        };
        let mut acme = OrganizationDrift {
            organization_id: "m-1".into(),
            alias: Some("acme".into()),
            desired_users: 3,
            unmanaged: None,
            users_still_differing: 0,
            users: vec![
                user("alice", Some(Correction::Updated)),
                user("bob", Some(Correction::Failed)),
            ],
        };
        acme.recount();
        let metrics = Metrics::new();
        metrics.organizations_known(std::slice::from_ref(&acme));
        let text = metrics.encode(None);
        for result in ["updated", "conflict", "failed"] {
            let line = format!(
                "workmail_reconcile_user_updates_total{{organization=\"m-1\",result=\"{result}\"}} 0"
            );
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        metrics.set_drift(&[acme]);
        let text = metrics.encode(None);
        assert!(text.contains(
            "workmail_reconcile_drift_users{organization=\"m-1\",organization_alias=\"acme\"} 1\n"
        ));
        assert!(text.contains(
            "workmail_reconcile_desired_users{organization=\"m-1\",organization_alias=\"acme\"} 3\n"
        ));
        assert!(!text.contains("unmanaged_users"), "not looked for: {text}");
    }
}
