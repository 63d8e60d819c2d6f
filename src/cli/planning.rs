//! The steps plan and apply share: load and select the files, observe, diff.

use super::connect;
use super::diagnostics::Diagnostics;
use super::global::GlobalArgs;
use super::shared_args::SelectionArgs;
use super::terminal;
use crate::directory::SdkDirectory;
use crate::observe::observe;
use crate::plan::{Plan, diff};
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

/// Observe and diff, with a progress bar on a terminal.
pub async fn compute_plan(
    global: &GlobalArgs,
    directory: &SdkDirectory,
    desired: &DesiredState,
) -> Plan {
    let bar = terminal::progress(global, desired.user_count(), "describing users");
    let observation = observe(directory, desired, connect::width(global), || bar.inc(1)).await;
    bar.finish_and_clear();
    let stats = directory.limiter().stats();
    tracing::info!(
        attempts = stats.attempts,
        throttled = stats.throttled,
        server_errors = stats.server_errors,
        "observed the directory"
    );
    let plan = diff(desired, observation);
    // Values are personal data: only at -vv (debug), never at -v.
    for change in &plan.changes {
        for field in &change.fields {
            tracing::debug!(user = %change.user, field = %field.field, before = %field.before, after = %field.after, "planned change");
        }
    }
    plan
}
