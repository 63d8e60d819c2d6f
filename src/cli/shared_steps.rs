//! The steps plan, apply and demo share: load and select the files, then plan through the
//! engine with a progress bar.

use super::diagnostics::Diagnostics;
use super::global::GlobalArgs;
use super::shared_args::SelectionArgs;
use super::terminal;
use crate::reconcile::DesiredState;
use crate::reconcile::{ConnectionFailure, SdkDirectory};
use crate::reconcile::{DesiredStateError, PlannedRun, Reconciler};
use crate::redaction::Redaction;
use crate::render::log_planned_values;
use std::path::PathBuf;

/// Load the files and keep the selected users. Input errors are printed here (all of them,
/// with file:line:column) and become `Err(())`.
pub(crate) fn load_selected(
    global: &GlobalArgs,
    paths: &[PathBuf],
    selection: &SelectionArgs,
) -> miette::Result<Result<DesiredState, ()>> {
    match crate::reconcile::load(paths, &selection.to_selection()) {
        Ok(desired) => Ok(Ok(desired)),
        Err(DesiredStateError::Files(errors)) => {
            eprint!("{}", Diagnostics::new(global).load_errors(&errors));
            Ok(Err(()))
        }
        Err(DesiredStateError::Selection(e)) => Err(miette::miette!("{e}")),
    }
}

/// Observe and diff through the engine, with a progress bar on a terminal. A connection
/// failure stops the run and is the error: a plan of users that could not be read would be one
/// error per user.
pub(crate) async fn compute_plan(
    global: &GlobalArgs,
    engine: &Reconciler<SdkDirectory>,
    desired: &DesiredState,
    redaction: &Redaction,
) -> Result<PlannedRun, ConnectionFailure> {
    let mut progress = terminal::RunProgress::new(global);
    let planned = engine.plan(desired, |event| progress.on(event)).await;
    drop(progress);
    let planned = planned?;
    let stats = engine.directory().limiter().stats();
    tracing::info!(
        attempts = stats.attempts,
        throttled = stats.throttled,
        server_errors = stats.server_errors,
        "observed the directory"
    );
    log_planned_values(&planned.plan, redaction);
    Ok(planned)
}

/// The one error a run stopped by a connection failure ends with: the failure, and what the
/// stop means for the directory (`nothing was planned`).
pub(crate) fn stopped(failure: &ConnectionFailure, consequence: &str) -> miette::Report {
    miette::miette!("{failure}; {consequence}")
}
