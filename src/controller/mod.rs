//! The long-running form of scheduled drift correction: one reconciliation at a time, forever,
//! over the [`reconcile`](crate::reconcile) engine, with revisions of a source directory, modes,
//! timers, triggers, signals, and HTTP endpoints for probes, metrics and people
//! (docs/controller.md#the-controller).
//!
//! `run::reconcile` does one run over any [`Directory`](crate::reconcile::Directory),
//! ending short with a `ReconcileError`, and `error_policy` decides by that error how soon
//! the next run is; `schedule::run_loop` owns time; `serve` puts the loop, the source watcher and
//! the HTTP server together under one shutdown token.

mod call_failure;
mod context;
mod error_policy;
mod halting_directory;
mod http;
mod metrics;
mod optional_gauge;
mod process_metrics;
mod reconcile_error;
mod run;
mod run_log;
#[cfg(test)]
mod run_tests;
mod schedule;
mod signals;
mod source;
mod status;
mod status_page;
mod webhook;

pub(crate) use context::{Context, Settings};
pub(crate) use http::{HttpLimits, router};
pub(crate) use metrics::Metrics;
use reconcile_error::{RunOutcome, report_of};
pub(crate) use schedule::run_loop;
pub(crate) use signals::{DRAIN_LIMIT, listen as listen_for_signals};
pub(crate) use source::{Source, SourceError};
pub(crate) use status::{
    Correction, HISTORY_LENGTH, Mode, OrganizationDrift, ReadyReason, RunRecord, RunResult, Status,
    Trigger, UserDrift,
};
#[cfg(test)]
pub(crate) use status::{FieldDrift, Ready, Revisions, RunSummary};
pub use webhook::WebhookSecret;

use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// How often the source is looked at for a new revision: a new one is noticed within this
/// time, and looking costs a link read or a directory listing.
const WATCH_PERIOD: Duration = Duration::from_secs(2);

/// How the controller stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stopped {
    /// After the first stop signal, with every call in flight finished.
    Gracefully,
    /// After the first stop signal, with calls still in flight after [`DRAIN_LIMIT`].
    DrainTimedOut,
    /// At a second stop signal.
    Forced,
}

/// Serve the endpoints on `listener`, watch the source, and run the loop until
/// `ctx.shutdown` (and the run under way) ends it, or `force` cuts it short.
pub(crate) async fn serve(
    ctx: Arc<Context>,
    listener: TcpListener,
    mut triggers: mpsc::Receiver<Trigger>,
    force: CancellationToken,
) -> Stopped {
    let router = router(Arc::clone(&ctx));
    let server = tokio::spawn(http::serve(listener, router, ctx.settings.http));
    let watcher = tokio::spawn(watch_source(Arc::clone(&ctx)));
    let interval = ctx.settings.interval;
    let looped = async {
        run_loop(
            interval,
            &mut triggers,
            &ctx.shutdown,
            schedule::random_jitter,
            |trigger| run::reconcile(&ctx, trigger),
            |outcome: RunOutcome, wait| {
                let report = report_of(&outcome);
                ctx.record(report);
                run_log::log_run(report, wait);
            },
        )
        .await;
        ctx.loop_ended();
    };
    let drain_limit = async {
        ctx.shutdown.cancelled().await;
        tokio::time::sleep(DRAIN_LIMIT).await;
    };
    let stopped = tokio::select! {
        () = looped => Stopped::Gracefully,
        () = drain_limit => Stopped::DrainTimedOut,
        () = force.cancelled() => Stopped::Forced,
    };
    watcher.abort();
    server.abort();
    stopped
}

/// Look at the source every [`WATCH_PERIOD`] and trigger a run when it holds a new revision.
async fn watch_source(ctx: Arc<Context>) {
    let mut watcher = source::Watcher::new(ctx.settings.source.clone());
    let mut tick = tokio::time::interval(WATCH_PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = ctx.shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        // Listing and hashing files is blocking work.
        let looked = tokio::task::spawn_blocking(move || {
            let changed = watcher.changed();
            (watcher, changed)
        })
        .await;
        let Ok((returned, changed)) = looked else { return };
        watcher = returned;
        if changed {
            tracing::info!(source = %ctx.settings.source.path().display(), "the source has a new revision");
            ctx.trigger(Trigger::Source);
        }
    }
}
