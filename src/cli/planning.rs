//! The steps plan, apply and demo share: load and select the files, then plan through the
//! engine with a progress bar.

use super::diagnostics::Diagnostics;
use super::global::GlobalArgs;
use super::shared_args::SelectionArgs;
use super::terminal;
use crate::directory::SdkDirectory;
use crate::reconcile::{LoadError, PlannedRun, Reconciler};
use crate::spec::DesiredState;
use std::path::PathBuf;

/// Load the files and keep the selected users. Input errors are printed here (all of them,
/// with file:line:column) and become `Err(())`.
pub fn load_selected(
    global: &GlobalArgs,
    paths: &[PathBuf],
    selection: &SelectionArgs,
) -> miette::Result<Result<DesiredState, ()>> {
    match crate::reconcile::load(paths, &selection.to_selection()) {
        Ok(desired) => Ok(Ok(desired)),
        Err(LoadError::Files(errors)) => {
            eprint!("{}", Diagnostics::new(global).load_errors(&errors));
            Ok(Err(()))
        }
        Err(LoadError::Selection(e)) => Err(miette::miette!("{e}")),
    }
}

/// Observe and diff through the engine, with a progress bar on a terminal.
pub async fn compute_plan(
    global: &GlobalArgs,
    engine: &Reconciler<SdkDirectory>,
    desired: &DesiredState,
) -> PlannedRun {
    let mut progress = terminal::RunProgress::new(global);
    let planned = engine.plan(desired, |event| progress.on(event)).await;
    drop(progress);
    let stats = engine.directory().limiter().stats();
    tracing::info!(
        attempts = stats.attempts,
        throttled = stats.throttled,
        server_errors = stats.server_errors,
        "observed the directory"
    );
    // Values are personal data: only at -vv (debug), never at -v.
    for change in &planned.plan.changes {
        for field in &change.fields {
            tracing::debug!(user = %change.user, field = %field.field, before = %field.before, after = %field.after, "planned change");
        }
    }
    planned
}
