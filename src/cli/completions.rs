//! `workmail-reconcile completions SHELL`: print a shell completion script generated from the
//! clap definitions, so it can never disagree with the flags the binary accepts.

use super::{Cli, Exit};
use clap::{Args, CommandFactory};
use clap_complete::Shell;
use miette::IntoDiagnostic;
use std::io::Write;

/// The name completions are registered for: the installed binary's name.
const BIN_NAME: &str = "workmail-reconcile";

/// Where each shell looks for completions, as commands that work on a fresh account (the
/// directories are created first). A test runs the bash, zsh and fish lines.
pub const INSTALL_HELP: &str = "Install, for example:
  bash:       mkdir -p ~/.local/share/bash-completion/completions && workmail-reconcile completions bash > ~/.local/share/bash-completion/completions/workmail-reconcile
  zsh:        mkdir -p ~/.zfunc && workmail-reconcile completions zsh > ~/.zfunc/_workmail-reconcile
              and in ~/.zshrc, before compinit: fpath=(~/.zfunc $fpath)
  fish:       mkdir -p ~/.config/fish/completions && workmail-reconcile completions fish > ~/.config/fish/completions/workmail-reconcile.fish
  powershell: add to $PROFILE: workmail-reconcile completions powershell | Out-String | Invoke-Expression
  elvish:     add to ~/.config/elvish/rc.elv: eval (workmail-reconcile completions elvish | slurp)";

/// Flags of `completions`.
#[derive(Debug, Clone, Args)]
#[command(after_help = INSTALL_HELP)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The completion script for `shell`, for every subcommand and flag of [`Cli`].
pub fn completion_script(shell: Shell) -> Vec<u8> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), BIN_NAME, &mut script);
    if shell == Shell::Bash {
        return bash_arms_as_the_walk_names_them(&String::from_utf8_lossy(&script)).into_bytes();
    }
    script
}

/// clap_complete's bash script names a subcommand's state two ways when the binary's name has a
/// hyphen: the walk over the typed words reaches `workmail__reconcile__subcmd__plan`, while the
/// arms that complete a subcommand's flags are labelled `workmail__subcmd__reconcile__subcmd__plan`,
/// so no flag of a subcommand would ever complete. Labelling the arms as the walk names them
/// fixes that, and changes nothing once clap_complete agrees with itself.
fn bash_arms_as_the_walk_names_them(script: &str) -> String {
    let walk = BIN_NAME.replace('-', "__");
    let arm = BIN_NAME.replace('-', "__subcmd__");
    script.replace(&format!("{arm}__subcmd__"), &format!("{walk}__subcmd__"))
}

/// Print the completion script for `args.shell` on stdout.
pub(crate) fn exec(args: &CompletionsArgs) -> miette::Result<Exit> {
    let mut out = std::io::stdout().lock();
    out.write_all(&completion_script(args.shell)).into_diagnostic()?;
    out.flush().into_diagnostic()?;
    Ok(Exit::Success)
}
