//! `workmail-reconcile emulator`: run the in-memory WorkMail server until interrupted.

use super::{Exit, GlobalArgs, values};
use crate::emulator::{Emulator, EmulatorConfig, Faults, Seed, UpdateSemantics};
use crate::model::rate_cap::RateCap;
use clap::{Args, ValueEnum};
use miette::{IntoDiagnostic, WrapErr, miette};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// `--update-semantics`: how the emulator's UpdateUser treats an attribute member left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum UpdateSemanticsArg {
    /// A member left out is unchanged.
    #[default]
    Patch,
    /// A member left out is cleared (text → empty, hidden → false, IdP id → empty); a left-out
    /// `Role` is unchanged, since a role cannot be cleared.
    Replace,
}

impl From<UpdateSemanticsArg> for UpdateSemantics {
    fn from(arg: UpdateSemanticsArg) -> UpdateSemantics {
        match arg {
            UpdateSemanticsArg::Patch => UpdateSemantics::Patch,
            UpdateSemanticsArg::Replace => UpdateSemantics::Replace,
        }
    }
}

/// Flags of `emulator`. The requests-per-second cap is the global `--max-rps`.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Seed YAML: organizations and users to start with (docs/emulator.md#emulator-seed-file).
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,
    /// Whether UpdateUser clears the attributes a request leaves out.
    #[arg(long, value_enum, default_value_t)]
    pub update_semantics: UpdateSemanticsArg,
    /// The one accepted key pair.
    #[arg(long, value_name = "AKID:SECRET", default_value = "test:test", value_parser = key_pair)]
    pub credentials: KeyPair,
    /// Milliseconds added to every request, from 0 to 600000.
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = values::latency_ms, allow_negative_numbers = true)]
    pub latency_ms: u64,
    /// Probability (0 to 1) of a random ThrottlingException.
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = values::probability, allow_negative_numbers = true)]
    pub throttle_rate: f64,
    /// Probability (0 to 1) of a random 500/503.
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = values::probability, allow_negative_numbers = true)]
    pub server_error_rate: f64,
    /// Probability (0 to 1) that a connection is dropped without an answer.
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = values::probability, allow_negative_numbers = true)]
    pub drop_rate: f64,
    /// Whether ListAliases lists the primary address among the aliases (WorkMail endpoints
    /// differ): true or false.
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    pub list_aliases_include_primary: bool,
    /// Seed of the fault generator, for repeatable runs (0 to 2^64-1).
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = values::rng_seed, allow_negative_numbers = true)]
    pub rng_seed: u64,
}

/// The access key id and secret the emulator accepts (`--credentials AKID:SECRET`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPair {
    pub access_key_id: String,
    pub secret_access_key: String,
}

fn key_pair(s: &str) -> Result<KeyPair, String> {
    s.split_once(':')
        .filter(|(k, s)| !k.is_empty() && !s.is_empty())
        .map(|(k, s)| KeyPair { access_key_id: k.to_owned(), secret_access_key: s.to_owned() })
        .ok_or_else(|| "must be AKID:SECRET, both non-empty".to_string())
}

/// Starts the emulator, prints its URL as the first line of stdout and serves until Ctrl-C or
/// SIGTERM.
pub(crate) fn exec(global: &GlobalArgs, args: EmulatorArgs) -> miette::Result<Exit> {
    let KeyPair { access_key_id, secret_access_key } = args.credentials;
    let seed = match &args.seed {
        Some(path) => Seed::from_file(path).map_err(|e| miette!("invalid seed: {e}"))?,
        None => Seed::default(),
    };
    let faults = Faults {
        latency: Duration::from_millis(args.latency_ms),
        max_rps: global.max_rps.map(RateCap::get),
        throttle_rate: args.throttle_rate,
        server_error_rate: args.server_error_rate,
        drop_rate: args.drop_rate,
        rng_seed: args.rng_seed,
        ..Faults::default()
    };
    faults.validate().map_err(|e| miette!("invalid fault settings: {e}"))?;
    let config = EmulatorConfig {
        seed,
        semantics: args.update_semantics.into(),
        faults,
        list_aliases_include_primary: args.list_aliases_include_primary,
        access_key_id,
        secret_access_key,
        listen: args.listen,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .into_diagnostic()
        .wrap_err("cannot start the async runtime")?;
    runtime.block_on(async {
        let emulator = Emulator::start(config)
            .await
            .into_diagnostic()
            .wrap_err_with(|| format!("cannot start the emulator on {}", args.listen))?;
        // The first line is the contract with scripts and tests: flush it right away.
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{}", emulator.url()).into_diagnostic()?;
        stdout.flush().into_diagnostic()?;
        drop(stdout);
        if !global.quiet {
            eprintln!(
                "WorkMail emulator listening on {} (control: {}/_emulator/journal); Ctrl-C to stop",
                emulator.url(),
                emulator.url()
            );
        }
        shutdown_signal().await;
        emulator.stop().await;
        Ok(Exit::Success)
    })
}

/// Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => ctrl_c.await,
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await;
}
