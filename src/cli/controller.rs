//! `workmail-reconcile controller SOURCE`: run forever, one reconciliation at a time, with the
//! HTTP endpoints on `--listen` (docs/controller.md#the-controller).

use super::global::GlobalArgs;
use super::shared_args::{PlanningArgs, open_audit_log};
use super::written_file::{Reads, refuse_an_audit_log_that_is_read};
use super::{Exit, connect, values};
use crate::controller::{
    Context, HttpLimits, Metrics, Mode, Settings, Source, SourceError, Stopped, WebhookSecret,
    listen_for_signals, serve,
};
use crate::reconcile::AttemptObserver;
use crate::reconcile::SafetyLimits;
use clap::Args;
use miette::{IntoDiagnostic, WrapErr, miette};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Args)]
pub struct ControllerArgs {
    /// The directory of desired-state files, or a symbolic link to it (git-sync's layout: the
    /// link's target is named after the commit).
    #[arg(value_name = "SOURCE")]
    pub source: PathBuf,
    /// What a run may write: observe never writes; apply-on-change applies each new revision
    /// once; self-heal applies on every run.
    #[arg(long, value_enum, default_value_t = Mode::Observe)]
    pub mode: Mode,
    /// Wait between runs, varied at random by ±5 % (1s to 24h, e.g. 30s, 10m).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = values::interval)]
    pub interval: Duration,
    /// Address of the HTTP endpoints; port 0 picks a free port. The first line on stdout is
    /// the URL.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Serve POST /trigger, accepting requests signed with the secret in FILE (the
    /// X-Hub-Signature-256 header of GitHub webhooks).
    #[arg(long, value_name = "FILE")]
    pub webhook_secret_file: Option<PathBuf>,
    /// Block (apply nothing) when more than N users would change; 0 blocks any change. Without
    /// it: more than 30% of an organization declaring at least 10 users.
    #[arg(long, value_name = "N", value_parser = values::max_changes, allow_negative_numbers = true)]
    pub max_changes: Option<usize>,
    /// Append one JSON line per attempted user, with the revision, to FILE.
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
    #[command(flatten)]
    pub planning: PlanningArgs,
}

pub(crate) fn exec(global: &GlobalArgs, args: ControllerArgs) -> miette::Result<Exit> {
    // A source that does not exist yet may be on its way (git-sync clones after start); one
    // that is a file is a mistake.
    let source = Source::new(&args.source);
    if let Err(error @ SourceError::NotADirectory { .. }) = source.resolve() {
        return Err(miette!("{error}"));
    }
    let webhook_secret = match &args.webhook_secret_file {
        Some(path) => Some(WebhookSecret::read_file(path).map_err(|e| miette!("{e}"))?),
        None => None,
    };
    let key = args.planning.redaction.redact_key_file.as_deref();
    let files = [
        ("--webhook-secret-file", args.webhook_secret_file.as_deref()),
        ("--redact-key-file", key),
    ];
    let reads = Reads::new(std::slice::from_ref(&args.source), "SOURCE", &files);
    refuse_an_audit_log_that_is_read(args.audit_log.as_deref(), &reads, "not started")?;
    let audit = open_audit_log(args.audit_log.as_deref())?;
    let settings = Settings {
        source,
        mode: args.mode,
        interval: args.interval,
        limits: SafetyLimits { max_changes: args.max_changes, force: false },
        selection: args.planning.selection.to_selection(),
        unmanaged: args.planning.unmanaged.policy(),
        redaction: args.planning.redaction.redaction()?,
        audit,
        webhook_secret,
        width: connect::width(global),
        http: HttpLimits::DEFAULT,
    };
    let runtime = connect::runtime()?;
    let stopped = runtime.block_on(async {
        let metrics = Arc::new(Metrics::new());
        let observed = Arc::clone(&metrics);
        let observer = AttemptObserver::new(move |operation, answer| {
            observed.api_attempt(operation, answer);
        });
        let limiter = connect::limiter(global).with_observer(observer);
        let directory = connect::directory_with(global, limiter).await?;
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .into_diagnostic()
            .wrap_err_with(|| format!("cannot listen on {}", args.listen))?;
        let address = listener.local_addr().into_diagnostic()?;
        let shutdown = CancellationToken::new();
        let (ctx, triggers) = Context::new(settings, directory, metrics, shutdown);
        let ctx = Arc::new(ctx);
        let force = CancellationToken::new();
        listen_for_signals(Arc::clone(&ctx), force.clone())
            .into_diagnostic()
            .wrap_err("cannot listen for signals")?;
        // The first line is the contract with scripts and tests: flush it right away.
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "http://{address}").into_diagnostic()?;
        stdout.flush().into_diagnostic()?;
        drop(stdout);
        tracing::info!(
            source = %args.source.display(),
            mode = args.mode.as_str(),
            interval = %humantime::format_duration(args.interval),
            "controller listening on http://{address}"
        );
        Ok::<_, miette::Report>(serve(ctx, listener, triggers, force).await)
    })?;
    // A blocking read of the source may still be running after a forced stop: not waited for.
    runtime.shutdown_background();
    Ok(match stopped {
        Stopped::Gracefully => Exit::Success,
        Stopped::DrainTimedOut => {
            tracing::warn!("calls were still in flight after 30s; stopped without them");
            Exit::Success
        }
        Stopped::Forced => Exit::Error,
    })
}
