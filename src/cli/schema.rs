//! `workmail-reconcile schema`: print the JSON Schema of the desired-state format.

use super::Exit;
use miette::IntoDiagnostic;
use std::io::Write;

/// Print the schema as pretty JSON with a trailing newline (the committed file's form).
pub fn exec() -> miette::Result<Exit> {
    let text = serde_json::to_string_pretty(&crate::spec::json_schema()).into_diagnostic()?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").into_diagnostic()?;
    Ok(Exit::Success)
}
