//! `workmail-reconcile validate PATH...`: parse and check desired-state files offline.

use super::{Exit, GlobalArgs};
use crate::spec::{self, LoadErrors};
use clap::Args;
use miette::{GraphicalReportHandler, GraphicalTheme};
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
pub fn exec(global: &GlobalArgs, args: ValidateArgs) -> miette::Result<Exit> {
    match spec::load(&args.paths) {
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
            eprint!("{}", render_errors(&errors, super::terminal::stderr_color(global)));
            Ok(Exit::Error)
        }
    }
}

/// Every error as its own miette report, then `error: N errors in M files`.
pub fn render_errors(errors: &LoadErrors, color: bool) -> String {
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    // A fixed width and no hyperlinks keep output identical across terminals and CI logs.
    let handler = GraphicalReportHandler::new_themed(theme).with_width(110).with_links(false);
    let mut out = String::new();
    for error in errors {
        let mut report = String::new();
        if handler.render_report(&mut report, error).is_err() {
            // Rendering into a String cannot fail in practice; fall back to the bare message.
            report = format!("  × {error}\n");
        }
        out.push_str(&report);
        out.push('\n');
    }
    out.push_str(&format!("error: {errors}\n"));
    out
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
