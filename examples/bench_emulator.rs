//! The WorkMail emulator as a separate process, seeded with a synthetic directory, for
//! benchmarks that must not share a process with it (CPU and memory of the tool alone, the boto3
//! baseline). Prints its URL on the first line, then serves until killed.
//!
//! ```text
//! cargo run --release --example bench_emulator -- --orgs 1 --users 2000 --max-rps 200 --latency-ms 20
//! ```
//!
//! Faults can be changed while it runs through `PUT /_emulator/faults`; counters are at
//! `GET /_emulator/counters`.

#[path = "../benches/common/mod.rs"]
mod common;

use clap::Parser;
use std::io::Write;
use std::time::Duration;
use workmail_reconcile::emulator::{Emulator, EmulatorConfig, Faults};

#[derive(Parser)]
struct Args {
    /// Organizations (ids `m-000…0`, `m-000…1`, …).
    #[arg(long, default_value_t = 1)]
    orgs: usize,
    /// Users per organization (names `o0u000000`, …).
    #[arg(long, default_value_t = 2000)]
    users: usize,
    /// The emulator's requests-per-second cap.
    #[arg(long)]
    max_rps: Option<f64>,
    /// Latency added to every request.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: std::net::SocketAddr,
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    // One worker thread: the emulator should not take both cores from the process measured.
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    runtime.block_on(async {
        let faults = Faults {
            latency: Duration::from_millis(args.latency_ms),
            max_rps: args.max_rps,
            ..Faults::default()
        };
        let emulator = Emulator::start(EmulatorConfig {
            seed: common::seed(args.orgs, args.users),
            faults,
            listen: args.listen,
            ..EmulatorConfig::default()
        })
        .await?;
        let mut out = std::io::stdout();
        writeln!(out, "{}", emulator.url())?;
        out.flush()?;
        // Serve until killed.
        std::future::pending::<()>().await;
        Ok(())
    })
}
