//! The CPU floor of the aws-sdk-workmail call path: N DescribeUser calls with nothing of ours
//! around them (no limiter, no retries tuned, no interceptor), `--concurrency` at a time, on a
//! current-thread runtime. What `bench_plan -- scale` spends above this is ours to cut.
//!
//! ```text
//! cargo run --release --example bench_emulator -- --orgs 1 --users 100000 &
//! cargo run --release --example bench_sdk_floor -- --endpoint URL [--calls 100000]
//! ```

#[path = "../benches/common/mod.rs"]
mod common;

use clap::Parser;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Parser)]
struct Args {
    /// The emulator's URL (first line `bench_emulator` prints).
    #[arg(long)]
    endpoint: String,
    /// DescribeUser calls to make (of users `o0u000000`, … of organization 0).
    #[arg(long, default_value_t = 100_000)]
    calls: usize,
    /// Calls in flight at once.
    #[arg(long, default_value_t = 10)]
    concurrency: usize,
    /// Run on a multi-thread runtime instead.
    #[arg(long)]
    multi_thread: bool,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let runtime = if args.multi_thread {
        tokio::runtime::Builder::new_multi_thread().enable_all().build()?
    } else {
        tokio::runtime::Builder::new_current_thread().enable_all().build()?
    };
    runtime.block_on(async {
        let mut config = common::sdk_config_for(&args.endpoint).to_builder();
        if std::env::var("NO_STALL").is_ok() {
            config = config.stalled_stream_protection(
                aws_sdk_workmail::config::StalledStreamProtectionConfig::disabled(),
            );
        }
        let client = aws_sdk_workmail::Client::from_conf(config.build());
        let organization = common::organization_id(0);
        let (cpu0, t0) = (common::process_cpu(), std::time::Instant::now());
        // `concurrency` workers take the next call number until all are made.
        let next = Arc::new(AtomicUsize::new(0));
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..args.concurrency {
            let (client, organization, next) = (client.clone(), organization.clone(), next.clone());
            let calls = args.calls;
            workers.spawn(async move {
                let mut failed = 0usize;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= calls {
                        return failed;
                    }
                    let result = client
                        .describe_user()
                        .organization_id(&organization)
                        .user_id(common::user_name(0, i % 100_000))
                        .send()
                        .await;
                    failed += usize::from(result.is_err());
                }
            });
        }
        let mut failures = 0;
        while let Some(failed) = workers.join_next().await {
            failures += failed?;
        }
        let (cpu, wall) = (common::process_cpu() - cpu0, t0.elapsed());
        println!("# {}", common::machine());
        println!(
            "{} DescribeUser calls ({} failed), concurrency {}, {} runtime: {:.2} s wall, {:.2} s \
             CPU, {:.1} µs CPU per call",
            args.calls,
            failures,
            args.concurrency,
            if args.multi_thread { "multi-thread" } else { "current-thread" },
            wall.as_secs_f64(),
            cpu.as_secs_f64(),
            cpu.as_secs_f64() * 1e6 / args.calls as f64
        );
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}
