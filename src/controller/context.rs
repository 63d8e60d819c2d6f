//! What the loop and the HTTP handlers share: the settings, the directory client, the metrics
//! and the status. Only the loop writes the status.

use super::http::HttpLimits;
use super::metrics::Metrics;
use super::source::Source;
use super::status::{Mode, RunRecord, Status, Trigger};
use super::webhook::WebhookSecret;
use crate::controller::status::{OrganizationDrift, ReadyReason};
use crate::reconcile::{AuditLog, SafetyLimits};
use crate::reconcile::{Directory, SdkDirectory};
use crate::reconcile::{Selection, UnmanagedPolicy};
use crate::redaction::Redaction;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// How many triggers may wait for the loop; more are coalesced anyway, so extra ones are
/// dropped.
const TRIGGER_QUEUE: usize = 16;

/// What the controller was started with.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub source: Source,
    pub mode: Mode,
    /// The wait between runs, before jitter.
    pub interval: Duration,
    /// `--max-changes`, else the default share rule; never forced.
    pub limits: SafetyLimits,
    pub selection: Selection,
    /// Whether live users no file declares are listed, and whether they are errors.
    pub unmanaged: UnmanagedPolicy,
    /// How attribute values appear in the status, the logs and the audit log.
    pub redaction: Redaction,
    pub audit: Option<Arc<AuditLog>>,
    /// `POST /trigger` is served only with a secret.
    pub webhook_secret: Option<WebhookSecret>,
    /// How many directory calls a run keeps spawned at once.
    pub width: usize,
    /// How long the endpoints' clients may take, and how many are served at once.
    pub http: HttpLimits,
}

/// How one run concluded: what it did, for the status, the metrics, the log line and the retry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RunConclusion {
    pub record: RunRecord,
    /// The Ready condition after this run.
    pub reason: ReadyReason,
    /// One sentence for people, without attribute values.
    pub message: String,
    /// Whether the source held the suspend file.
    pub suspended: bool,
    /// The drift of the plan, when the run got as far as a plan.
    pub drift: Option<Vec<OrganizationDrift>>,
    /// Whether this run applied its revision without a failure.
    pub applied: bool,
}

/// Shared by the loop and the HTTP handlers. The binary's directory is the WorkMail API
/// ([`SdkDirectory`]); tests run the same logic over any [`Directory`].
#[derive(Debug)]
pub(crate) struct Context<D = SdkDirectory> {
    pub settings: Settings,
    /// The directory of every run; each run takes a [`Directory::resumed`] handle.
    pub directory: D,
    pub metrics: Arc<Metrics>,
    /// Cancelled by the first SIGTERM or SIGINT: no new run, no new directory call.
    pub shutdown: CancellationToken,
    status: RwLock<Status>,
    triggers: mpsc::Sender<Trigger>,
    /// A run has completed a plan: `/readyz` answers 200 from then on.
    planned: AtomicBool,
    /// The loop is running: `/healthz` answers 200 while it is.
    alive: AtomicBool,
}

/// Now, RFC 3339 to the millisecond.
fn rfc3339_now() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

impl<D: Directory> Context<D> {
    /// A context and the receiving end of its trigger queue, which the loop owns.
    pub(crate) fn new(
        settings: Settings,
        directory: D,
        metrics: Arc<Metrics>,
        shutdown: CancellationToken,
    ) -> (Context<D>, mpsc::Receiver<Trigger>) {
        let (triggers, receiver) = mpsc::channel(TRIGGER_QUEUE);
        let status = Status::starting(settings.mode, &rfc3339_now());
        metrics.set_info(settings.mode, None);
        metrics.set_condition(&status.ready, false);
        let context = Context {
            settings,
            directory,
            metrics,
            shutdown,
            status: RwLock::new(status),
            triggers,
            planned: AtomicBool::new(false),
            alive: AtomicBool::new(true),
        };
        (context, receiver)
    }

    /// Ask for a run now. A run already queued takes this one in.
    pub(crate) fn trigger(&self, trigger: Trigger) {
        // Full means runs are already queued: this one is coalesced into them.
        let _ = self.triggers.try_send(trigger);
    }

    /// The status as it is now.
    pub(crate) fn status(&self) -> RwLockReadGuard<'_, Status> {
        self.status.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a run has completed a plan.
    pub(crate) fn is_ready(&self) -> bool {
        self.planned.load(Ordering::Relaxed)
    }

    /// Whether the loop is running.
    pub(crate) fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Relaxed)
    }

    /// The loop has ended.
    pub(crate) fn loop_ended(&self) {
        self.alive.store(false, Ordering::Relaxed);
    }

    /// Record a finished run in the status and the metrics. Called by the loop only.
    pub(crate) fn record(&self, report: &RunConclusion) {
        let mut status = self.status.write().unwrap_or_else(|p| p.into_inner());
        status.record(report.record.clone(), report.reason, report.message.clone(), &rfc3339_now());
        status.suspended = report.suspended;
        if report.applied {
            status.revision.applied.clone_from(&report.record.revision);
        }
        if let Some(drift) = &report.drift {
            status.drift.clone_from(drift);
            self.metrics.set_drift(drift);
            self.planned.store(true, Ordering::Relaxed);
        }
        let revision = status.revision.applied.as_deref().or(status.revision.attempted.as_deref());
        self.metrics.set_info(status.mode, revision);
        self.metrics.set_condition(&status.ready, status.suspended);
        self.metrics.record_run(&report.record);
    }
}
