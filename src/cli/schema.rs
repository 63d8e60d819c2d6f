//! `workmail-reconcile schema`: print the JSON Schema of the desired-state format.

use super::Exit;
use miette::IntoDiagnostic;
use std::io::Write;

/// Print the schema exactly as the committed `schema/workmail-users.schema.json` holds it, so
/// redirecting the output over that file changes no byte.
pub(crate) fn exec() -> miette::Result<Exit> {
    let mut out = std::io::stdout().lock();
    out.write_all(crate::reconcile::json_schema_text().as_bytes()).into_diagnostic()?;
    out.flush().into_diagnostic()?;
    Ok(Exit::Success)
}
