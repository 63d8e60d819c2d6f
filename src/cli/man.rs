//! `workmail-reconcile man [COMMAND]`: print a man page in roff, generated from the clap
//! definitions with clap_mangen; `--out-dir DIR` writes one page per command instead.

use super::{Cli, Exit};
use clap::{Args, CommandFactory};
use miette::{IntoDiagnostic, miette};
use std::io::Write;
use std::path::PathBuf;

/// Flags of `man`.
#[derive(Debug, Clone, Args)]
pub struct ManArgs {
    /// The subcommand whose page to print (`plan` → workmail-reconcile-plan(1)); default: the
    /// main page, workmail-reconcile(1).
    #[arg(value_name = "COMMAND", conflicts_with = "out_dir")]
    pub command: Option<String>,
    /// Write every page (workmail-reconcile.1, workmail-reconcile-plan.1, …) into this directory.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// The clap command with the binary name set on it and on every subcommand, as `clap_mangen`
/// names pages and synopses after it (`workmail-reconcile-plan`).
fn built_command() -> clap::Command {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    command
}

/// The roff page of `subcommand` (or of the main command when `None`); an unknown or hidden
/// subcommand is an error listing the documented ones.
pub fn man_page(subcommand: Option<&str>) -> Result<Vec<u8>, String> {
    let command = built_command();
    let page = match subcommand {
        None => command,
        Some(name) => command
            .get_subcommands()
            .find(|s| s.get_name() == name && !s.is_hide_set())
            .cloned()
            .ok_or_else(|| {
                let known: Vec<&str> = command
                    .get_subcommands()
                    .filter(|s| !s.is_hide_set())
                    .map(clap::Command::get_name)
                    .collect();
                format!("no man page for `{name}`; expected one of: {}", known.join(", "))
            })?,
    };
    let is_main = subcommand.is_none();
    let man = clap_mangen::Man::new(page).manual("workmail-reconcile manual");
    let mut roff = Vec::new();
    let io = |e: std::io::Error| e.to_string();
    if !is_main {
        man.render(&mut roff).map_err(io)?;
        return Ok(roff);
    }
    // The main page, read first, also states the exit codes (docs/commands.md#exit-codes),
    // which scripts and CI jobs depend on and clap knows nothing about.
    man.render_title(&mut roff).map_err(io)?;
    man.render_name_section(&mut roff).map_err(io)?;
    man.render_synopsis_section(&mut roff).map_err(io)?;
    man.render_description_section(&mut roff).map_err(io)?;
    man.render_options_section(&mut roff).map_err(io)?;
    man.render_subcommands_section(&mut roff).map_err(io)?;
    roff.extend_from_slice(EXIT_STATUS.as_bytes());
    man.render_version_section(&mut roff).map_err(io)?;
    Ok(roff)
}

/// The EXIT STATUS section of the main page, in roff.
const EXIT_STATUS: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
Success; with \fB\-\-detailed\-exitcode\fR: success and no changes.
.TP
\fB1\fR
Error: bad input, an API failure, a plan with error entries, or a user that could not be applied.
.TP
\fB2\fR
The plan succeeded and there are changes (only with \fB\-\-detailed\-exitcode\fR).
.TP
\fB3\fR
apply refused by a safety limit (\fB\-\-max\-changes\fR, or more than 30% of at least 10 declared users); nothing changed.
"#;

/// Print one page on stdout, or write all of them into `--out-dir`.
pub(crate) fn exec(args: &ManArgs) -> miette::Result<Exit> {
    if let Some(dir) = &args.out_dir {
        std::fs::create_dir_all(dir).into_diagnostic()?;
        clap_mangen::generate_to(Cli::command(), dir)
            .map_err(|e| miette!("cannot write man pages into {}: {e}", dir.display()))?;
        return Ok(Exit::Success);
    }
    let page = man_page(args.command.as_deref()).map_err(|e| miette!("{e}"))?;
    let mut out = std::io::stdout().lock();
    out.write_all(&page).into_diagnostic()?;
    out.flush().into_diagnostic()?;
    Ok(Exit::Success)
}
