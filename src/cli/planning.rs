//! The steps plan and apply share: load and select the files, observe, diff.

use super::connect;
use super::diagnostics::Diagnostics;
use super::global::GlobalArgs;
use super::shared_args::SelectionArgs;
use super::terminal;
use crate::directory::{ConnectionFailure, SdkDirectory};
use crate::observe::observe;
use crate::plan::{Plan, diff};
use crate::render::{Redaction, display_value};
use crate::spec::DesiredState;
use std::path::PathBuf;

/// Load the files and keep the selected users. Input errors are printed here (all of them,
/// with file:line:column) and become `Err(())`.
pub fn load_selected(
    global: &GlobalArgs,
    paths: &[PathBuf],
    selection: &SelectionArgs,
) -> miette::Result<Result<DesiredState, ()>> {
    let desired = match crate::spec::load(paths) {
        Ok(desired) => desired,
        Err(errors) => {
            eprint!("{}", Diagnostics::new(global).load_errors(&errors));
            return Ok(Err(()));
        }
    };
    selection.select(desired).map(Ok).map_err(|e| miette::miette!("{e}"))
}

/// Observe and diff, with a progress bar on a terminal. A connection failure stops the run
/// and is the error: a plan of users that could not be read would be one error per user.
pub async fn compute_plan(
    global: &GlobalArgs,
    directory: &SdkDirectory,
    desired: &DesiredState,
    redaction: &Redaction,
) -> Result<Plan, ConnectionFailure> {
    let bar = terminal::progress(global, desired.user_count(), "describing users");
    let observation = observe(directory, desired, connect::width(global), || bar.inc(1)).await;
    bar.finish_and_clear();
    if let Some(failure) = directory.connection_failure() {
        return Err(failure.clone());
    }
    let stats = directory.limiter().stats();
    tracing::info!(
        attempts = stats.attempts,
        throttled = stats.throttled,
        server_errors = stats.server_errors,
        "observed the directory"
    );
    let plan = diff(desired, observation);
    // Values are personal data: only at -vv (debug), never at -v, and redacted as on stdout.
    if tracing::enabled!(tracing::Level::DEBUG) {
        for change in &plan.changes {
            for field in &change.fields {
                let before = display_value(&field.before, field.field, redaction);
                let after = display_value(&field.after, field.field, redaction);
                tracing::debug!(user = %change.user, field = %field.field, %before, %after, "planned change");
            }
        }
    }
    Ok(plan)
}

/// The one error a run stopped by a connection failure ends with: the failure, and what the
/// stop means for the directory (`nothing was planned`).
pub fn stopped(failure: &ConnectionFailure, consequence: &str) -> miette::Report {
    miette::miette!("{failure}; {consequence}")
}
