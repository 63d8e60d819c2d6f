//! Command-line definitions and one small file per command; argument plumbing only.

mod apply;
mod command_line;
pub mod completions;
mod connect;
mod controller;
mod demo;
mod diagnostics;
mod emulator;
mod export;
mod export_bundle;
mod global;
mod logging;
pub mod man;
mod plan;
mod schema;
mod shared_args;
mod shared_steps;
mod staged_file;
pub(crate) mod terminal;
mod validate;
mod values;
mod written_file;

pub use command_line::parse;
pub(crate) use global::GlobalArgs;

use clap::{Parser, Subcommand};

/// Process exit codes (docs/commands.md#exit-codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Success (with `--detailed-exitcode`: and no changes).
    Success = 0,
    /// Bad input, API failure, or a user that could not be applied.
    Error = 1,
    /// The plan succeeded and has changes (only with `--detailed-exitcode`).
    Changes = 2,
    /// apply refused by a safety limit; nothing changed.
    Refused = 3,
}

/// Keep Amazon WorkMail user attributes equal to YAML files kept in git.
#[derive(Debug, Parser)]
#[command(name = "workmail-reconcile", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and check desired-state files offline (no AWS call, no credentials).
    Validate(validate::ValidateArgs),
    /// Show which fields of which users differ from the live directory; never writes.
    Plan(plan::PlanArgs),
    /// Make the live directory equal to the files (or to a saved plan).
    Apply(apply::ApplyArgs),
    /// Write a live organization as a desired-state file that plans clean, or as CSV.
    Export(export::ExportArgs),
    /// Run plan, apply and plan again against the built-in emulator (no AWS needed).
    Demo,
    /// Print the JSON Schema of the desired-state format.
    Schema,
    /// Keep the directory reconciled with a source directory, forever, with HTTP probes,
    /// metrics and a webhook; prints its URL first.
    Controller(controller::ControllerArgs),
    /// Run the in-memory WorkMail API emulator until interrupted; prints its URL first.
    Emulator(emulator::EmulatorArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(completions::CompletionsArgs),
    /// Print the man page in roff (`man plan` for a subcommand's page, `--out-dir` for all).
    Man(man::ManArgs),
}

/// Run a parsed command line. A fatal error is printed on stderr, in the form `--log-format`
/// and `--color` ask for, and becomes [`Exit::Error`].
pub fn run(cli: Cli) -> Exit {
    // A controller runs unattended: its one line per run is logged by default.
    logging::init(&cli.global, matches!(cli.command, Command::Controller(_)));
    let global = &cli.global;
    let result = match cli.command {
        Command::Plan(args) => plan::exec(global, args),
        Command::Apply(args) => apply::exec(global, args),
        Command::Validate(args) => validate::exec(global, args),
        Command::Export(args) => export::exec(global, args),
        Command::Demo => demo::exec(global),
        Command::Schema => schema::exec(),
        Command::Controller(args) => controller::exec(global, args),
        Command::Emulator(args) => emulator::exec(global, args),
        Command::Completions(args) => completions::exec(&args),
        Command::Man(args) => man::exec(&args),
    };
    result.unwrap_or_else(|report| {
        eprint!("{}", diagnostics::Diagnostics::new(global).fatal(&report));
        Exit::Error
    })
}
