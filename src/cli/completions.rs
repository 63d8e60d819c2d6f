//! `workmail-reconcile completions SHELL`: print a shell completion script generated from the
//! clap definitions, so it can never disagree with the flags the binary accepts.

use super::{Cli, Exit};
use clap::{Args, CommandFactory};
use clap_complete::Shell;
use miette::IntoDiagnostic;
use std::io::Write;

/// The name completions are registered for: the installed binary's name.
pub const BIN_NAME: &str = "workmail-reconcile";

/// Flags of `completions`.
#[derive(Debug, Clone, Args)]
#[command(after_help = "Install, for example:\n  \
    bash:       workmail-reconcile completions bash > ~/.local/share/bash-completion/completions/workmail-reconcile\n  \
    zsh:        workmail-reconcile completions zsh > \"${fpath[1]}/_workmail-reconcile\"\n  \
    fish:       workmail-reconcile completions fish > ~/.config/fish/completions/workmail-reconcile.fish\n  \
    powershell: workmail-reconcile completions powershell >> $PROFILE")]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The completion script for `shell`, for every subcommand and flag of [`Cli`].
pub fn completion_script(shell: Shell) -> Vec<u8> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), BIN_NAME, &mut script);
    script
}

/// Print the completion script for `args.shell` on stdout.
pub fn exec(args: &CompletionsArgs) -> miette::Result<Exit> {
    let mut out = std::io::stdout().lock();
    out.write_all(&completion_script(args.shell)).into_diagnostic()?;
    out.flush().into_diagnostic()?;
    Ok(Exit::Success)
}
