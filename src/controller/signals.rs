//! Signals: SIGHUP asks for a run now; the first SIGTERM or SIGINT begins a graceful stop (no
//! new run, no new directory call, the calls in flight finish); a second one stops at once.

use super::context::Context;
use super::status::Trigger;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// How long the calls in flight may take to finish after the first stop signal.
pub(crate) const DRAIN_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Listen for signals until the process ends: SIGHUP triggers a run; the first SIGTERM or
/// SIGINT cancels `ctx.shutdown`, the second cancels `force`. The handlers are installed
/// before this returns, so no signal sent after it is lost.
pub(crate) fn listen(ctx: Arc<Context>, force: CancellationToken) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangup = signal(SignalKind::hangup())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        tokio::spawn(async move {
            loop {
                let name = tokio::select! {
                    Some(()) = hangup.recv() => {
                        tracing::info!("SIGHUP: a run starts now");
                        ctx.trigger(Trigger::Signal);
                        continue;
                    }
                    Some(()) = terminate.recv() => "SIGTERM",
                    Some(()) = interrupt.recv() => "SIGINT",
                    else => return,
                };
                if stop(&ctx, &force, name) {
                    return;
                }
            }
        });
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if stop(&ctx, &force, "Ctrl-C") {
                return;
            }
        }
    });
    Ok(())
}

/// One stop signal: the first begins the graceful stop, the second forces it. Returns whether
/// there is nothing left to listen for.
fn stop(ctx: &Context, force: &CancellationToken, name: &str) -> bool {
    if ctx.shutdown.is_cancelled() {
        tracing::warn!("{name} again: stopping at once, calls in flight are abandoned");
        force.cancel();
        return true;
    }
    ctx.shutdown.cancel();
    // Logged once no call can start any more: what a reader of the log sees is what happened.
    tracing::info!(
        "{name}: stopping; no new user is started, calls in flight finish (at most {}s); \
         send it again to stop at once",
        DRAIN_LIMIT.as_secs()
    );
    false
}
