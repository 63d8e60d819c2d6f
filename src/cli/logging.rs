//! Logs on stderr through `tracing`. Credentials are never logged; attribute values are
//! logged only from `-vv` (debug), redacted as on stdout; the AWS SDK's own logs (but its
//! errors) only from `-vvv`.

use super::global::{GlobalArgs, LogFormat};
use super::terminal;
use tracing_subscriber::EnvFilter;

/// Install the subscriber once. `RUST_LOG` overrides the level chosen by `-v`/`-q`. JSON lines
/// carry the message and fields at the top level, as the error diagnostics do
/// (`{"timestamp":…,"level":…,"message":…,"target":…}`).
///
/// `info_by_default`: a long-running command logs at info level without `-v` (values still
/// only at `-vv`).
pub(crate) fn init(global: &GlobalArgs, info_by_default: bool) {
    let ours = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) if info_by_default => "info",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    // The SDK's own warnings end in a `Debug` dump of the error, and the run's one error
    // sentence says the same in words: below -vvv, only its errors.
    let sdk = if global.verbose >= 3 { "debug" } else { "error" };
    let directives =
        format!("warn,workmail_reconcile={ours},aws_config={sdk},aws_smithy_runtime={sdk}");
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(directives));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let installed = match global.log_format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.with_ansi(terminal::stderr_color(global)).try_init(),
    };
    // A second init (tests running commands in-process) keeps the first subscriber.
    drop(installed);
}
