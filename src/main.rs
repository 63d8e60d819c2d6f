//! The `workmail-reconcile` binary: parse flags, run the command, map the outcome to an exit code.

use std::process::ExitCode;
use workmail_reconcile::cli;

fn main() -> ExitCode {
    let exit = match cli::parse(std::env::args_os()) {
        Ok(cli) => cli::run(cli),
        Err(exit) => exit,
    };
    ExitCode::from(exit as u8)
}
