//! `workmail-reconcile validate PATH...`: parse and check desired-state files offline.

use super::diagnostics::Diagnostics;
use super::{Exit, GlobalArgs};
use crate::model::wording::plural;
use crate::reconcile;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Desired-state files or directories (read recursively: *.yaml, *.yml in any case).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// Load and check the files: no AWS call, no credentials. Valid: a summary line on stdout and
/// [`Exit::Success`]. Invalid: every error on stderr, a count line, and [`Exit::Error`].
pub(crate) fn exec(global: &GlobalArgs, args: ValidateArgs) -> miette::Result<Exit> {
    match reconcile::validate(&args.paths) {
        Ok(state) => {
            if !global.quiet {
                println!(
                    "Valid: {}, {}, {}.",
                    plural(state.files.len(), "file", "files"),
                    plural(state.organizations.len(), "organization", "organizations"),
                    plural(state.user_count(), "user", "users"),
                );
            }
            Ok(Exit::Success)
        }
        Err(errors) => {
            eprint!("{}", Diagnostics::new(global).load_errors(&errors));
            Ok(Exit::Error)
        }
    }
}
