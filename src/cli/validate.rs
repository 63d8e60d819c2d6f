//! `workmail-reconcile validate PATH...` (placeholder until the spec loader lands).

use super::{Exit, GlobalArgs};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Desired-state files or directories.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

pub fn exec(_global: &GlobalArgs, _args: ValidateArgs) -> miette::Result<Exit> {
    Err(miette::miette!("validate is not built yet"))
}
