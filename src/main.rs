//! The `workmail-reconcile` binary: parse flags, run the command, map the outcome to an exit code.

use clap::Parser;
use std::process::ExitCode;
use workmail_reconcile::cli::{self, Cli};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli::run(cli) {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(cli::Exit::Error as u8)
        }
    }
}
