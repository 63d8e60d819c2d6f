//! From global flags to a directory client and a tokio runtime.

use super::global::GlobalArgs;
use crate::reconcile::Reconciler;
use crate::reconcile::{ClientOptions, Limiter, SdkDirectory, Timeouts, build_sdk_config};

/// The runtime every networked command runs on. One thread: the work is waiting on the
/// service, and a multi-thread runtime spends more CPU waking its threads than it saves
/// (measured in BENCHMARKS.md).
pub(crate) fn runtime() -> miette::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| miette::miette!("cannot start the async runtime: {e}"))
}

/// The limiter the global flags ask for.
pub(crate) fn limiter(global: &GlobalArgs) -> Limiter {
    Limiter::new(global.concurrency as usize, global.max_rps)
}

/// The call time limits the global flags ask for.
pub(crate) fn timeouts(global: &GlobalArgs) -> Timeouts {
    Timeouts::new(global.attempt_timeout, global.operation_timeout)
}

/// A directory over the standard AWS chain, honouring `--region`, `--profile`,
/// `--endpoint-url` and the timeouts.
pub(crate) async fn directory(global: &GlobalArgs) -> miette::Result<SdkDirectory> {
    directory_with(global, limiter(global)).await
}

/// [`directory`] with its calls under `limiter`.
pub(crate) async fn directory_with(
    global: &GlobalArgs,
    limiter: Limiter,
) -> miette::Result<SdkDirectory> {
    let timeouts = timeouts(global);
    let options = ClientOptions {
        region: global.region.clone(),
        profile: global.profile.clone(),
        endpoint_url: global.endpoint_url.clone(),
    };
    let config = build_sdk_config(&options).await.map_err(|e| miette::miette!("{e}"))?;
    Ok(SdkDirectory::with_timeouts(config, limiter, timeouts))
}

/// How many calls to keep spawned at once: enough to fill the limiter, bounded for memory.
pub(crate) fn width(global: &GlobalArgs) -> usize {
    (global.concurrency as usize).saturating_mul(2).max(2)
}

/// The engine over `directory`, as wide as the global flags ask.
pub(crate) fn engine(global: &GlobalArgs, directory: SdkDirectory) -> Reconciler<SdkDirectory> {
    Reconciler::new(directory, width(global))
}
