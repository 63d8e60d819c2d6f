//! `export --format m365-bundle` (and the YAML export with its mailbox keys) against an
//! organization of 10,000 users and 500 groups on the emulator, behind a request cap: the calls
//! per operation, the wall time and the tool's peak memory. The emulator runs in this process
//! (one tokio worker); the tool is the release binary, run as a child so that its peak RSS is
//! its own.
//!
//! ```text
//! cargo build --release && cargo run --release --example bench_export -- --users 10000 --groups 500 --max-rps 200 --latency-ms 20
//! ```

#[path = "../benches/common/mod.rs"]
mod common;

use clap::Parser;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use workmail_reconcile::emulator::{
    Emulator, EmulatorConfig, Faults, Seed, SeedGroup, SeedOrganization, SeedUser,
};
use workmail_reconcile::model::attrs::Attribute;

#[derive(Parser)]
struct Args {
    /// Users of the organization, each with one alias (every other user with two).
    #[arg(long, default_value_t = 10_000)]
    users: usize,
    /// Groups, each with `users / groups` member users; every tenth also holds the next group.
    #[arg(long, default_value_t = 500)]
    groups: usize,
    /// The emulator's requests-per-second cap.
    #[arg(long, default_value_t = 200.0)]
    max_rps: f64,
    /// Latency added to every request.
    #[arg(long, default_value_t = 20)]
    latency_ms: u64,
    /// The binary to measure.
    #[arg(long, default_value = "target/release/workmail-reconcile")]
    binary: PathBuf,
    /// Exports to run, in order: `bundle`, `yaml`, `bundle-known-cap` (with `--max-rps`).
    #[arg(long, value_delimiter = ',', default_value = "bundle,yaml")]
    runs: Vec<String>,
}

fn seed(users: usize, groups: usize) -> Seed {
    let domain = "org0.example";
    let mut organization = SeedOrganization::new(&common::organization_id(0), None, domain)
        .mail_domain("org0-corp.example");
    for index in 0..users {
        let name = common::user_name(0, index);
        let mut user = SeedUser::new(&name)
            .email(&format!("{name}@{domain}"))
            .attr(Attribute::DisplayName, common::live_display_name(0, index))
            .alias(&format!("{name}.alias@{domain}"));
        if index % 2 == 0 {
            user = user.alias(&format!("{name}@org0-corp.example"));
        }
        for (attr, value) in common::profile(index) {
            user = user.attr(attr, value);
        }
        organization = organization.user(user);
    }
    let per_group = users / groups.max(1);
    for g in 0..groups {
        let mut group = SeedGroup::new(&format!("group{g:04}"));
        for index in g * per_group..(g + 1) * per_group {
            group = group.member(&common::user_name(0, index));
        }
        if g % 10 == 0 && g + 1 < groups {
            group = group.member(&format!("group{:04}", g + 1));
        }
        organization = organization.group(group);
    }
    Seed::default().organization(organization)
}

/// Run the tool to completion: wall time, peak RSS in KiB (`wait4`), exit code.
fn measure(binary: &PathBuf, url: &str, args: &[&str]) -> (Duration, i64, i32) {
    let start = Instant::now();
    // Reaped by wait4 below, which also gives its peak memory.
    #[allow(clippy::zombie_processes)]
    let child = std::process::Command::new(binary)
        .args(["--endpoint-url", url])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the release binary runs (cargo build --release first)");
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pid is our child's, and both pointers are to live locals.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert!(pid > 0, "wait4 failed");
    (start.elapsed(), usage.ru_maxrss, libc::WEXITSTATUS(status))
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let emulator = runtime.block_on(Emulator::start(EmulatorConfig {
        seed: seed(args.users, args.groups),
        faults: Faults {
            max_rps: Some(args.max_rps),
            latency: Duration::from_millis(args.latency_ms),
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    }))?;
    let url = emulator.url();
    let org = common::organization_id(0);
    let out = std::env::temp_dir().join(format!("bench-export-{}", std::process::id()));
    println!(
        "{} users, {} groups, emulator cap {}/s, {} ms latency; {}",
        args.users,
        args.groups,
        args.max_rps,
        args.latency_ms,
        common::machine()
    );
    let rps = args.max_rps.to_string();
    for run in &args.runs {
        let dir = out.join(run);
        let dir_text = dir.to_string_lossy().into_owned();
        let yaml = dir.join("org.yaml").to_string_lossy().into_owned();
        std::fs::create_dir_all(&dir)?;
        let mut tool: Vec<&str> = match run.as_str() {
            "yaml" => vec!["export", "--organization", &org, "--out", &yaml],
            _ => vec![
                "export",
                "--organization",
                &org,
                "--format",
                "m365-bundle",
                "--force",
                "--email-domain",
                "contoso.com",
                "--out-dir",
                &dir_text,
            ],
        };
        if run == "bundle-known-cap" {
            tool.splice(0..0, ["--max-rps", rps.as_str()]);
        }
        // Let the cap's one-second burst refill between runs.
        std::thread::sleep(Duration::from_secs(2));
        emulator.clear_journal();
        let (wall, rss_kib, code) = measure(&args.binary, &url, &tool);
        let counters = emulator.counters();
        let total: u64 = counters.calls.values().sum();
        println!(
            "\n{run}: exit {code}, {:.2} s wall, {total} calls ({:.0}/s), {} throttled, peak RSS {:.0} MiB ({rss_kib} KB)",
            wall.as_secs_f64(),
            total as f64 / wall.as_secs_f64(),
            counters.throttled,
            rss_kib as f64 / 1024.0,
        );
        for (operation, calls) in &counters.calls {
            println!("  {operation:<22} {calls:>7}");
        }
    }
    let _ = std::fs::remove_dir_all(&out);
    runtime.block_on(emulator.stop());
    Ok(())
}
