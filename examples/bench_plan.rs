//! Throughput benchmarks of plan and apply against the emulator (issue 7). Each scenario prints
//! a table of figures; see BENCHMARKS.md for the commands and results.
//!
//! ```text
//! cargo run --release --example bench_plan -- plan   [--users 2000 --rps 200 --latency-ms 20] [--mailbox]
//! cargo run --release --example bench_plan -- apply  [--users 2000 --change 0.1]
//! cargo run --release --example bench_plan -- step   [--users 3000 --rps 100 --to 400 --switch-after 5]
//! cargo run --release --example bench_plan -- orgs   [--orgs 100 --users 1000]
//! cargo run --release --example bench_plan -- scale  --endpoint URL [--users 100000]
//! ```
//!
//! Every scenario but `scale` runs the emulator in this process, on loopback, and uses the
//! library the way `plan`/`apply` do: `SdkDirectory` + `Limiter` under the engine's
//! `Reconciler::plan` and `Reconciler::apply`. Calls and throttles are counted by the emulator (its counters and journal).

#[path = "../benches/common/mod.rs"]
mod common;

use clap::{Args, Parser, Subcommand};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};
use workmail_reconcile::apply::SafetyLimits;
use workmail_reconcile::directory::{Directory, Limiter, SdkDirectory};
use workmail_reconcile::emulator::{Emulator, EmulatorConfig, Faults, JournalOutcome};
use workmail_reconcile::model::rate_cap::RateCap;
use workmail_reconcile::plan::Plan;
use workmail_reconcile::reconcile::{ApplyOptions, Reconciler, UnmanagedPolicy};
use workmail_reconcile::spec::{self, DesiredState};

/// The CLI's default `--concurrency` (src/cli/global.rs).
const DEFAULT_CONCURRENCY: usize = 10;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// Plan N users of one organization under a fixed, unknown rate cap.
    Plan(Common),
    /// Plan, then apply, N users of which a fraction changes.
    Apply {
        #[command(flatten)]
        common: Common,
        /// Fraction of users whose display name changes.
        #[arg(long, default_value_t = 0.1)]
        change: f64,
    },
    /// Plan while the cap changes mid-run (up or down).
    Step {
        #[command(flatten)]
        common: Common,
        /// The cap after the switch.
        #[arg(long, default_value_t = 400.0)]
        to: f64,
        /// Seconds after the start of the plan when the cap changes.
        #[arg(long, default_value_t = 5)]
        switch_after: u64,
        /// Also print each run's calls per second.
        #[arg(long)]
        per_second: bool,
    },
    /// Plan many organizations in one run.
    Orgs {
        #[command(flatten)]
        common: Common,
        /// Organizations (each with `--users` users).
        #[arg(long, default_value_t = 100)]
        orgs: usize,
    },
    /// CPU and memory per user of a large plan, against an emulator in another process
    /// (`cargo run --release --example bench_emulator -- --users 100000 --latency-ms 0`).
    Scale {
        /// The emulator's URL (first line `bench_emulator` prints).
        #[arg(long)]
        endpoint: String,
        /// Users per organization to plan (the emulator must have as many).
        #[arg(long, default_value_t = 100_000)]
        users: usize,
        /// Organizations to plan (the emulator must have as many).
        #[arg(long, default_value_t = 1)]
        orgs: usize,
        /// The tool's `--concurrency`.
        #[arg(long, default_value_t = DEFAULT_CONCURRENCY)]
        concurrency: usize,
    },
}

#[derive(Args, Clone)]
struct Common {
    /// Users (per organization).
    #[arg(long, default_value_t = 2000)]
    users: usize,
    /// The emulator's requests-per-second cap (for `step`: the cap before the switch); 0: none.
    #[arg(long, default_value_t = 200.0)]
    rps: f64,
    /// The emulator's latency per request.
    #[arg(long, default_value_t = 20)]
    latency_ms: u64,
    /// The tool's `--concurrency`.
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY)]
    concurrency: usize,
    /// The tool's `--max-rps` (none by default: the cap is unknown to the tool).
    #[arg(long)]
    max_rps: Option<RateCap>,
    /// Repeat the measurement this many times (a fresh emulator each time).
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    /// Plan as `--unmanaged ignore` does: no ListUsers call (the plan before users in no file
    /// were looked for), to compare with the default in one session.
    #[arg(long)]
    ignore_unmanaged: bool,
    /// Every user also manages `aliases`, `groups` and `mailbox_quota_mb` (live already equal):
    /// one ListAliases, ListGroupsForEntity and GetMailboxDetails per user, ListGroups once.
    #[arg(long)]
    mailbox: bool,
    /// With `--mailbox`, the keys managed (comma-separated): aliases, groups, mailbox_quota_mb.
    #[arg(long, value_delimiter = ',', default_value = "aliases,groups,mailbox_quota_mb")]
    mailbox_keys: Vec<String>,
}

/// Groups of the `--mailbox` seed; user `i` is a member of `team{i % TEAMS}`.
const TEAMS: usize = 20;

/// The seed of [`common::seed`] for one organization, with a mailbox for each user: one
/// alias, a quota, and one of [`TEAMS`] groups.
fn mailbox_seed(users: usize) -> workmail_reconcile::emulator::Seed {
    use workmail_reconcile::emulator::{Seed, SeedGroup, SeedOrganization, SeedUser};
    use workmail_reconcile::model::attrs::Attribute;
    let mut organization = SeedOrganization::new(&common::organization_id(0), None, "org0.example");
    let mut teams: Vec<SeedGroup> =
        (0..TEAMS).map(|t| SeedGroup::new(&format!("team{t}"))).collect();
    for index in 0..users {
        let name = common::user_name(0, index);
        let mut user = SeedUser::new(&name)
            .email(&format!("{name}@org0.example"))
            .alias(&format!("{name}.alias@org0.example"))
            .quota(10_240)
            .attr(Attribute::DisplayName, common::live_display_name(0, index))
            .attr(Attribute::Company, "Acme Corp")
            .attr(Attribute::Country, "Norway");
        for (attr, value) in common::profile(index) {
            user = user.attr(attr, value);
        }
        organization = organization.user(user);
        teams[index % TEAMS] =
            std::mem::replace(&mut teams[index % TEAMS], SeedGroup::new("x")).member(&name);
    }
    for team in teams {
        organization = organization.group(team);
    }
    Seed::default().organization(organization)
}

/// [`common::desired_yaml`] of organization 0 with each user managing its alias, its group and
/// its quota, all as they are live.
fn mailbox_desired_yaml(users: usize, keys: &[String]) -> String {
    let text = common::desired_yaml(0, users, 0.0, None);
    let mut out = String::with_capacity(text.len() * 2);
    let mut in_users = false;
    for line in text.lines() {
        out.push_str(line);
        out.push('\n');
        if line == "users:" {
            in_users = true;
            continue;
        }
        let key = line.strip_prefix("  ").and_then(|k| k.strip_suffix(':'));
        if let Some(name) = key.filter(|k| in_users && !k.starts_with(' '))
            && let Some(index) = name.strip_prefix("o0u").and_then(|i| i.parse::<usize>().ok())
        {
            let lines = [
                ("aliases", format!("    aliases: [{name}.alias@org0.example]\n")),
                ("groups", format!("    groups: [team{}]\n", index % TEAMS)),
                ("mailbox_quota_mb", "    mailbox_quota_mb: 10240\n".to_string()),
            ];
            for (key, line) in lines {
                if keys.iter().any(|k| k == key) {
                    out.push_str(&line);
                }
            }
        }
    }
    out
}

impl Common {
    fn unmanaged(&self) -> UnmanagedPolicy {
        if self.ignore_unmanaged { UnmanagedPolicy::Ignore } else { UnmanagedPolicy::Report }
    }

    fn faults(&self) -> Faults {
        Faults {
            latency: Duration::from_millis(self.latency_ms),
            max_rps: (self.rps > 0.0).then_some(self.rps),
            ..Faults::default()
        }
    }

    /// The ideal wall time for `calls` calls: at the cap, or at `concurrency` in flight.
    fn ideal(&self, calls: usize) -> Duration {
        if self.rps > 0.0 {
            Duration::from_secs_f64(calls as f64 / self.rps)
        } else {
            let latency = Duration::from_millis(self.latency_ms).as_secs_f64();
            Duration::from_secs_f64(calls as f64 * latency / self.concurrency as f64)
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
    // The CLI's runtime (src/cli/connect.rs): one thread.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    println!("# {}", common::machine());
    runtime.block_on(async {
        match cli.scenario {
            Scenario::Plan(common) => {
                header(&[
                    "run",
                    "users",
                    "calls",
                    "throttled",
                    "throttled %",
                    "wall s",
                    "ideal s",
                    "efficiency",
                ]);
                for run in 1..=common.repeat {
                    plan_once(run, &common).await?;
                }
                Ok(())
            }
            Scenario::Apply { common, change } => {
                header(&[
                    "run",
                    "phase",
                    "calls",
                    "throttled",
                    "throttled %",
                    "wall s",
                    "ideal s",
                    "efficiency",
                ]);
                for run in 1..=common.repeat {
                    apply_once(run, &common, change).await?;
                }
                Ok(())
            }
            Scenario::Step { common, to, switch_after, per_second } => {
                header(&[
                    "run",
                    "cap /s",
                    "users",
                    "calls",
                    "throttled",
                    "throttled %",
                    "throttled after the switch",
                    "wall s",
                    "ideal s",
                    "efficiency",
                    "90 % of the new cap after s",
                ]);
                let step = Step { to, switch_after, per_second };
                for run in 1..=common.repeat {
                    step.run(run, &common).await?;
                }
                Ok(())
            }
            Scenario::Orgs { common, orgs } => {
                header(&[
                    "run",
                    "orgs",
                    "users",
                    "calls",
                    "throttled",
                    "wall s",
                    "ideal s",
                    "efficiency",
                ]);
                for run in 1..=common.repeat {
                    orgs_once(run, &common, orgs).await?;
                }
                Ok(())
            }
            Scenario::Scale { endpoint, users, orgs, concurrency } => {
                scale(&endpoint, orgs, users, concurrency).await
            }
        }
    })
}

fn header(columns: &[&str]) {
    println!("| {} |", columns.join(" | "));
    println!("|{}", "---:|".repeat(columns.len()));
}

fn row(cells: &[String]) {
    println!("| {} |", cells.join(" | "));
}

/// The emulator runs on a runtime of its own (one worker thread), as it would in another
/// process: the tool's runtime has one thread, and sharing it would bill the emulator's work
/// to the tool.
async fn start(common: &Common, orgs: usize) -> std::io::Result<Emulator> {
    static EMULATOR_RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> =
        std::sync::OnceLock::new();
    let runtime = EMULATOR_RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("the emulator's runtime starts")
    });
    let seed = if common.mailbox && orgs == 1 {
        mailbox_seed(common.users)
    } else {
        common::seed(orgs, common.users)
    };
    let config = EmulatorConfig { seed, faults: common.faults(), ..EmulatorConfig::default() };
    runtime.spawn(Emulator::start(config)).await.map_err(std::io::Error::other)?
}

fn desired(
    orgs: usize,
    users: usize,
    change: f64,
) -> Result<DesiredState, Box<dyn std::error::Error>> {
    if orgs == 1 {
        return Ok(spec::load_str("bench.yaml", &common::desired_yaml(0, users, change, None))?);
    }
    let dir = tempfile::tempdir()?;
    for org in 0..orgs {
        let text = common::desired_yaml(org, users, change, None);
        std::fs::write(dir.path().join(format!("org{org:03}.yaml")), text)?;
    }
    Ok(spec::load(&[dir.path()])?)
}

fn directory(emu: &Emulator, common: &Common) -> SdkDirectory {
    SdkDirectory::new(emu.sdk_config(), Limiter::new(common.concurrency, common.max_rps))
}

/// The width the CLI uses (`2 × --concurrency`).
fn width(common: &Common) -> usize {
    common.concurrency * 2
}

/// The engine's plan step, as `plan` runs it.
async fn plan_of(
    directory: &SdkDirectory,
    desired: &DesiredState,
    width: usize,
    unmanaged: UnmanagedPolicy,
) -> Result<Plan, Box<dyn std::error::Error>> {
    let engine = Reconciler::new(directory.clone(), width).with_unmanaged(unmanaged);
    let planned = engine.plan(desired, |_| ()).await;
    Ok(planned.map_err(|failure| failure.to_string())?.plan)
}

fn efficiency(ideal: Duration, wall: Duration) -> String {
    format!("{:.3}", ideal.as_secs_f64() / wall.as_secs_f64())
}

fn percent(part: u64, whole: u64) -> String {
    format!("{:.2}", 100.0 * part as f64 / whole.max(1) as f64)
}

async fn plan_once(run: usize, common: &Common) -> Result<(), Box<dyn std::error::Error>> {
    let emu = start(common, 1).await?;
    let desired = if common.mailbox {
        spec::load_str("bench.yaml", &mailbox_desired_yaml(common.users, &common.mailbox_keys))?
    } else {
        desired(1, common.users, 0.0)?
    };
    let directory = directory(&emu, common);
    // The emulator's bucket starts full; so would a real service's after a quiet minute.
    let started = Instant::now();
    let plan = plan_of(&directory, &desired, width(common), common.unmanaged()).await?;
    let wall = started.elapsed();
    assert_eq!(plan.unchanged.len(), common.users, "every user planned, none lost");
    let looked = plan.unmanaged.as_ref().map(Vec::len);
    assert_eq!(looked, (!common.ignore_unmanaged).then_some(0), "every live user is declared");
    let counters = emu.counters();
    let calls: u64 = counters.calls.values().sum();
    // Per user one DescribeUser, and with --mailbox one read per key, each answered exactly
    // once (a throttled call is retried: the answered ones are what the plan needs); ListGroups
    // and ListUsers pages besides.
    let per_user = if common.mailbox { 1 + common.mailbox_keys.len() } else { 1 };
    if common.mailbox {
        let mut answered = std::collections::BTreeMap::<String, usize>::new();
        let mut throttled = std::collections::BTreeMap::<String, usize>::new();
        for entry in emu.journal() {
            if entry.outcome == JournalOutcome::Ok {
                *answered.entry(entry.operation).or_default() += 1;
            } else if entry.outcome == JournalOutcome::Throttled {
                *throttled.entry(entry.operation).or_default() += 1;
            }
        }
        eprintln!("throttled calls by operation: {throttled:?}");
        let reads = [
            ("aliases", "ListAliases"),
            ("groups", "ListGroupsForEntity"),
            ("mailbox_quota_mb", "GetMailboxDetails"),
        ];
        let managed = reads.iter().filter(|(key, _)| common.mailbox_keys.iter().any(|k| k == key));
        for operation in std::iter::once("DescribeUser").chain(managed.map(|(_, op)| *op)) {
            assert_eq!(answered.get(operation), Some(&common.users), "{operation}: {answered:?}");
        }
        eprintln!("answered calls by operation: {answered:?}");
    }
    let ideal = common.ideal(common.users * per_user);
    row(&[
        run.to_string(),
        common.users.to_string(),
        calls.to_string(),
        counters.throttled.to_string(),
        percent(counters.throttled, calls),
        format!("{:.2}", wall.as_secs_f64()),
        format!("{:.2}", ideal.as_secs_f64()),
        efficiency(ideal, wall),
    ]);
    Ok(())
}

async fn apply_once(
    run: usize,
    common: &Common,
    change: f64,
) -> Result<(), Box<dyn std::error::Error>> {
    let emu = start(common, 1).await?;
    let desired = desired(1, common.users, change)?;
    let directory = directory(&emu, common);
    let started = Instant::now();
    let engine = Reconciler::new(directory, width(common)).with_unmanaged(common.unmanaged());
    let planned_run = engine.plan(&desired, |_| ()).await.map_err(|f| f.to_string())?;
    let plan_wall = started.elapsed();
    let planned = emu.counters();
    let changed = planned_run.plan.changes.len();
    let started = Instant::now();
    let guarded = planned_run.guard(SafetyLimits { max_changes: None, force: true })?;
    let report = engine.apply(guarded, &ApplyOptions::default(), |_| ()).await;
    let apply_wall = started.elapsed();
    let total = emu.counters();
    let updated = report
        .users
        .iter()
        .filter(|u| matches!(u.outcome, workmail_reconcile::apply::Outcome::Updated { .. }))
        .count();
    assert_eq!(updated, changed, "every changed user updated");
    let plan_calls: u64 = planned.calls.values().sum();
    let all_calls: u64 = total.calls.values().sum();
    let apply_calls = all_calls - plan_calls;
    let apply_throttled = total.throttled - planned.throttled;
    let plan_ideal = common.ideal(common.users);
    let apply_ideal = common.ideal(2 * changed);
    let both_ideal = common.ideal(common.users + 2 * changed);
    for (phase, calls, throttled, wall, ideal) in [
        (
            format!("plan ({} users)", common.users),
            plan_calls,
            planned.throttled,
            plan_wall,
            plan_ideal,
        ),
        (
            format!("apply ({changed} changed)"),
            apply_calls,
            apply_throttled,
            apply_wall,
            apply_ideal,
        ),
        (
            "plan + apply".to_string(),
            all_calls,
            total.throttled,
            plan_wall + apply_wall,
            both_ideal,
        ),
    ] {
        row(&[
            run.to_string(),
            phase,
            calls.to_string(),
            throttled.to_string(),
            percent(throttled, calls),
            format!("{:.2}", wall.as_secs_f64()),
            format!("{:.2}", ideal.as_secs_f64()),
            efficiency(ideal, wall),
        ]);
    }
    Ok(())
}

/// The `step` scenario: the cap switches from `--rps` to `to` after `switch_after` seconds.
struct Step {
    to: f64,
    switch_after: u64,
    per_second: bool,
}

impl Step {
    /// The shortest run: at the first cap until the switch, then the remaining calls at the new
    /// cap (no burst counted).
    fn ideal(&self, common: &Common) -> Duration {
        let switch = self.switch_after as f64;
        let before = common.rps * switch;
        let users = common.users as f64;
        if users <= before {
            Duration::from_secs_f64(users / common.rps)
        } else {
            Duration::from_secs_f64(switch + (users - before) / self.to)
        }
    }

    async fn run(&self, run: usize, common: &Common) -> Result<(), Box<dyn std::error::Error>> {
        let emu = Arc::new(start(common, 1).await?);
        let desired = desired(1, common.users, 0.0)?;
        let directory = directory(&emu, common);
        let started = Instant::now();
        let started_at = SystemTime::now();
        let done = Arc::new(AtomicBool::new(false));
        // Switch the cap, and sample the limiter's target rate every second.
        let sampler = {
            let emu = Arc::clone(&emu);
            let limiter = directory.limiter().clone();
            let done = Arc::clone(&done);
            let mut faults = common.faults();
            faults.max_rps = Some(self.to);
            let switch_after = self.switch_after;
            tokio::spawn(async move {
                let mut targets = Vec::new();
                let mut tick = tokio::time::interval_at(
                    tokio::time::Instant::now() + Duration::from_secs(1),
                    Duration::from_secs(1),
                );
                let mut second = 0;
                while !done.load(Ordering::Relaxed) {
                    tick.tick().await;
                    second += 1;
                    targets.push(limiter.stats().current_rate);
                    if second == switch_after {
                        emu.set_faults(faults.clone());
                    }
                }
                targets
            })
        };
        let plan = plan_of(&directory, &desired, width(common), common.unmanaged()).await?;
        let wall = started.elapsed();
        done.store(true, Ordering::Relaxed);
        let targets = sampler.await?;
        assert_eq!(plan.unchanged.len(), common.users);
        // Arrival times (seconds from the start) of the admitted and the throttled calls.
        let (mut admitted, mut throttled) = (Vec::new(), Vec::new());
        for entry in emu.journal() {
            let at = entry.at.duration_since(started_at).unwrap_or_default().as_secs_f64();
            match entry.outcome {
                JournalOutcome::Throttled => throttled.push(at),
                _ => admitted.push(at),
            }
        }
        let switch = self.switch_after as f64;
        let ideal = self.ideal(common);
        row(&[
            run.to_string(),
            format!("{} → {}", common.rps, self.to),
            common.users.to_string(),
            (admitted.len() + throttled.len()).to_string(),
            throttled.len().to_string(),
            percent(throttled.len() as u64, (admitted.len() + throttled.len()) as u64),
            throttled.iter().filter(|&&at| at >= switch).count().to_string(),
            format!("{:.2}", wall.as_secs_f64()),
            format!("{:.2}", ideal.as_secs_f64()),
            efficiency(ideal, wall),
            if self.to > common.rps {
                reached(&admitted, switch, 0.9 * self.to)
                    .map_or("never".to_string(), |after| format!("{after:.2}"))
            } else {
                "–".to_string()
            },
        ]);
        if self.per_second {
            self.print_per_second(common, wall, &admitted, &throttled, &targets);
        }
        Ok(())
    }

    fn print_per_second(
        &self,
        common: &Common,
        wall: Duration,
        admitted: &[f64],
        throttled: &[f64],
        targets: &[Option<f64>],
    ) {
        let seconds = wall.as_secs() as usize + 1;
        let count = |ats: &[f64], second: usize| {
            ats.iter().filter(|&&at| at as usize == second).count().to_string()
        };
        println!();
        header(&["second", "cap /s", "admitted /s", "throttled", "target rate at end of second"]);
        for second in 0..seconds {
            let cap = if (second as u64) < self.switch_after { common.rps } else { self.to };
            let target = targets.get(second).copied().flatten();
            row(&[
                format!("{second}–{}", second + 1),
                format!("{cap}"),
                count(admitted, second),
                count(throttled, second),
                target.map_or("unpaced".to_string(), |t| format!("{t:.0}")),
            ]);
        }
        println!();
    }
}

/// Seconds from `switch` until the first quarter second in which calls were admitted at
/// `rate` per second or more (arrival times in seconds from the start).
fn reached(admitted: &[f64], switch: f64, rate: f64) -> Option<f64> {
    const WINDOW: f64 = 0.25;
    let last = admitted.iter().copied().fold(0.0, f64::max);
    let mut from = switch;
    while from + WINDOW <= last {
        let count = admitted.iter().filter(|&&at| from <= at && at < from + WINDOW).count();
        if count as f64 >= rate * WINDOW {
            return Some(from + WINDOW - switch);
        }
        from += 0.01;
    }
    None
}

async fn orgs_once(
    run: usize,
    common: &Common,
    orgs: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let emu = start(common, orgs).await?;
    let desired = desired(orgs, common.users, 0.0)?;
    let directory = directory(&emu, common);
    let started = Instant::now();
    let plan = plan_of(&directory, &desired, width(common), common.unmanaged()).await?;
    let wall = started.elapsed();
    let users = orgs * common.users;
    assert_eq!(plan.unchanged.len(), users);
    let counters = emu.counters();
    let calls: u64 = counters.calls.values().sum();
    let ideal = common.ideal(users);
    row(&[
        run.to_string(),
        orgs.to_string(),
        users.to_string(),
        calls.to_string(),
        counters.throttled.to_string(),
        format!("{:.2}", wall.as_secs_f64()),
        format!("{:.2}", ideal.as_secs_f64()),
        efficiency(ideal, wall),
    ]);
    Ok(())
}

async fn scale(
    endpoint: &str,
    orgs: usize,
    users: usize,
    concurrency: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let directory =
        SdkDirectory::new(common::sdk_config_for(endpoint), Limiter::new(concurrency, None));
    // Setup, not measured: the emulator looks users up by id in O(1) but by name in O(users),
    // so the files name users by id, as they may (docs/file-format.md#user-keys).
    let mut texts = Vec::new();
    for org in 0..orgs {
        let mut listed = directory.list_users(&common::organization_id(org)).await?;
        listed.sort_by(|a, b| a.name.cmp(&b.name));
        let ids: Vec<String> = listed.into_iter().take(users).map(|u| u.user_id).collect();
        assert_eq!(ids.len(), users, "the emulator has fewer users than --users");
        texts.push(common::desired_yaml(org, users, 0.0, Some(&ids)));
    }
    let total_users = orgs * users;

    let rss0 = common::peak_rss_mib();
    let cpu0 = common::process_cpu();
    let t0 = Instant::now();
    // One file per organization, parsed and merged as `spec::load` does with a directory.
    let dir = tempfile::tempdir()?;
    for (org, text) in texts.iter().enumerate() {
        std::fs::write(dir.path().join(format!("org{org:03}.yaml")), text)?;
    }
    drop(texts);
    let desired = spec::load(&[dir.path()])?;
    let (cpu1, t1) = (common::process_cpu(), Instant::now());
    let rss1 = common::peak_rss_mib();
    let plan = plan_of(&directory, &desired, concurrency * 2, UnmanagedPolicy::Report).await?;
    let (cpu2, t2) = (common::process_cpu(), Instant::now());
    let rss2 = common::peak_rss_mib();
    let json = workmail_reconcile::plan::SavedPlan {
        plan,
        tool_version: "bench".into(),
        created_at: "1970-01-01T00:00:00Z".into(),
    }
    .to_json();
    let (cpu3, t3) = (common::process_cpu(), Instant::now());
    assert!(json.len() > total_users * 100);

    let per_user = |cpu: Duration| format!("{:.1}", cpu.as_secs_f64() * 1e6 / total_users as f64);
    println!(
        "{total_users} users in {orgs} organization(s), concurrency {concurrency}, emulator in \
         another process"
    );
    let rss3 = common::peak_rss_mib();
    header(&["phase", "wall s", "CPU s", "CPU µs / user", "peak RSS after, MiB"]);
    for (phase, wall, cpu, rss) in [
        ("load YAML (spec::load, one file per organization)", t1 - t0, cpu1 - cpu0, rss1),
        ("observe + diff (DescribeUser × N, Reconciler::plan)", t2 - t1, cpu2 - cpu1, rss2),
        ("saved-plan JSON", t3 - t2, cpu3 - cpu2, rss3),
        ("total", t3 - t0, cpu3 - cpu0, rss3),
    ] {
        row(&[
            phase.to_string(),
            format!("{:.2}", wall.as_secs_f64()),
            format!("{:.2}", cpu.as_secs_f64()),
            per_user(cpu),
            format!("{rss:.0}"),
        ]);
    }
    println!("peak RSS (VmHWM) before loading: {rss0:.1} MiB (setup: ListUsers, the YAML text)");
    Ok(())
}
