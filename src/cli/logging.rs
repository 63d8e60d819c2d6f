//! Logs on stderr through `tracing`. Credentials are never logged; attribute values are
//! logged only from `-vv` (debug), redacted as on stdout; the AWS SDK's own logs (but its
//! errors) only from `-vvv`.

use super::global::{GlobalArgs, LogFormat};
use super::terminal;
use crate::model::printable::{json_escaped, printable};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::field::MakeExt;
use tracing_subscriber::fmt::{FormatFields, format};

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
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // Messages and fields carry text of files and of the service: escaped in both formats, so
    // a log line cannot drive the terminal or the log viewer that shows it.
    let installed = match global.log_format {
        LogFormat::Json => builder
            .with_writer(|| EscapedJson(std::io::stderr()))
            .json()
            .flatten_event(true)
            .try_init(),
        LogFormat::Text => builder
            .with_writer(std::io::stderr)
            .fmt_fields(escaped_fields())
            .with_ansi(terminal::stderr_color(global))
            .try_init(),
    };
    // A second init (tests running commands in-process) keeps the first subscriber.
    drop(installed);
}

/// The fields of a text log line as the default format writes them (the message bare, the
/// others `name=value`, string values quoted), every unsafe character escaped.
fn escaped_fields() -> impl for<'writer> FormatFields<'writer> + 'static {
    format::debug_fn(|writer, field, value| {
        let text = format!("{value:?}");
        let text = printable(&text);
        match field.name() {
            "message" => write!(writer, "{text}"),
            name => write!(writer, "{name}={text}"),
        }
    })
    .delimited(" ")
}

/// Stderr for JSON log lines, with the characters serde_json leaves raw (DEL, C1 controls,
/// bidirectional marks) written as `\uXXXX` escapes. The formatter hands over one whole line
/// per write, so a character is never split between two writes.
struct EscapedJson<W>(W);

impl<W: std::io::Write> std::io::Write for EscapedJson<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(json_escaped(&text).as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}
