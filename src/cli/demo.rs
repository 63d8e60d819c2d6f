//! `workmail-reconcile demo`: the whole loop — plan, apply, plan again — against the built-in
//! emulator. No AWS account, credentials or network; nothing is written outside a temporary
//! directory, which is removed afterwards.

use super::global::GlobalArgs;
use super::plan::{PlanFormat, render_plan};
use super::{Exit, connect, shared_steps, terminal};
use crate::emulator::{Emulator, EmulatorConfig, Seed};
use crate::reconcile::OPERATIONS;
use crate::reconcile::SafetyLimits;
use crate::reconcile::SdkDirectory;
use crate::reconcile::{ApplyOptions, Selection};
use crate::redaction::Redaction;
use crate::render::RenderOptions;
use miette::IntoDiagnostic;
use std::io::Write;

/// The live directory the demo starts from: drifted from the files below.
const DEMO_SEED: &str = r#"organizations:
  - id: m-0123456789abcdef0123456789abcdef
    alias: acme
    default_mail_domain: acme.example
    users:
      - { name: alice, email: alice@acme.example, display_name: Alice L, job_title: Engineer, department: R&D, office: HQ }
      - { name: bob, email: bob@acme.example, display_name: Bob Builder, job_title: Builder, company: Acme Corp, aliases: [b.builder@acme.example], mailbox_quota_mb: 10240 }
      - { name: carol, email: carol@acme.example, display_name: Carol, telephone: "+1 555 0199", company: Acme Inc }
      - { name: dave, email: dave@acme.example, display_name: Dave, company: Acme Corp }
      - { name: erin, email: erin@acme.example, display_name: Erin, company: Acme Corp, role: USER }
      - { name: postmaster, email: postmaster@acme.example, role: SYSTEM_USER }
    groups:
      - { name: engineering, members: [alice, dave] }
"#;

/// The desired state the demo reconciles to.
const DEMO_DESIRED: &str = r#"# The desired state, as a team would keep it in git.
organization: acme
defaults:
  company: Acme Corp              # every user of this file, unless it sets its own
users:
  alice:
    display_name: Alice Liddell
    job_title: Staff Engineer
    department: null              # managed and must be empty: clears it
    aliases: [a.liddell@acme.example]   # every address besides the primary one
  bob:
    display_name: Bob Builder     # already right: nothing to do
  carol:
    telephone: "+1 555 0100"
    groups: [engineering]         # exactly these groups: joins engineering
  dave:
    hidden_from_global_address_list: true
    mailbox_quota_mb: 20480
  erin:
    role: REMOTE_USER
"#;

/// The closing hint: the example files on the emulator, as the README's quickstart runs them,
/// each command complete (the emulator's keys included) so that it runs as printed.
const NEXT: &str =
    "Next, in a clone of the repository, the example files on the emulator. In one terminal:
  workmail-reconcile emulator --seed examples/emulator-seed.yaml --listen 127.0.0.1:4566
and in a second one (the emulator accepts the keys test/test):
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_ENDPOINT_URL=http://127.0.0.1:4566
  workmail-reconcile plan examples/users
For your own files, write a seed with your users (docs/emulator.md#emulator-seed-file) and pass it
to --seed instead.";

fn step(out: &mut impl Write, title: &str, explanation: &str) -> miette::Result<()> {
    writeln!(out, "\n== {title}\n{explanation}\n").into_diagnostic()
}

pub(crate) fn exec(global: &GlobalArgs) -> miette::Result<Exit> {
    let temp = std::env::temp_dir().join(format!("workmail-reconcile-demo-{}", std::process::id()));
    std::fs::create_dir_all(&temp).into_diagnostic()?;
    let file = temp.join("acme.yaml");
    std::fs::write(&file, DEMO_DESIRED).into_diagnostic()?;
    let result = run(global, &file);
    let _ = std::fs::remove_dir_all(&temp);
    result
}

fn run(global: &GlobalArgs, file: &std::path::Path) -> miette::Result<Exit> {
    let seed = Seed::from_yaml(DEMO_SEED).map_err(|e| miette::miette!("demo seed: {e}"))?;
    let desired = crate::reconcile::load(&[file], &Selection::default())
        .map_err(|e| miette::miette!("demo files: {e}"))?;
    let color = terminal::stdout_color(global);
    let options = RenderOptions { color, ..RenderOptions::default() };
    let mut out = terminal::stdout(color);
    connect::runtime()?.block_on(async {
        let emulator = Emulator::start(EmulatorConfig { seed, ..EmulatorConfig::default() })
            .await
            .into_diagnostic()?;
        let directory = SdkDirectory::with_timeouts(
            emulator.sdk_config(),
            connect::limiter(global),
            connect::timeouts(global),
        );
        let engine = connect::engine(global, directory);
        writeln!(
            out,
            "workmail-reconcile demo: a WorkMail emulator is running at {} with organization `acme`:\nthe 5 users the file below declares, 4 of them drifted from it, and postmaster (role SYSTEM_USER),\nwhich no file can manage, so no plan lists it. Everything below uses the real AWS SDK against it.",
            emulator.url()
        )
        .into_diagnostic()?;
        step(&mut out, "1. The files", &format!("{} declares who should look how:", file.display()))?;
        write!(out, "{DEMO_DESIRED}").into_diagnostic()?;

        step(&mut out, "2. plan", "One DescribeUser per declared user, and one read per mailbox key it manages (aliases, groups,\nquota); only managed fields are compared. Nothing is written.")?;
        let planned = shared_steps::compute_plan(global, &engine, &desired, &Redaction::None)
            .await
            .map_err(|failure| shared_steps::stopped(&failure, "the demo stopped"))?;
        write!(out, "{}", render_plan(&planned.plan, PlanFormat::Text, &options)).into_diagnostic()?;

        step(
            &mut out,
            "3. apply --auto-approve",
            "Per changed user: a fresh read, a compare-and-swap check against the plan, then one UpdateUser\ncarrying the full dataset, so unmanaged fields (alice's office) keep their values; then the\naliases, groups and quota, each read again right before it is written.",
        )?;
        let guarded =
            planned.guard(SafetyLimits::default()).map_err(|e| miette::miette!("{e}"))?;
        let report = engine.apply(guarded, &ApplyOptions::default(), |_| ()).await;
        write!(out, "{}", crate::render::apply_report(&report, &options)).into_diagnostic()?;

        step(&mut out, "4. plan again", "The directory now equals the files: nothing is left to do, and apply would send nothing.")?;
        let again = shared_steps::compute_plan(global, &engine, &desired, &Redaction::None)
            .await
            .map_err(|failure| shared_steps::stopped(&failure, "the demo stopped"))?
            .plan;
        write!(out, "{}", render_plan(&again, PlanFormat::Text, &options)).into_diagnostic()?;

        // Every operation the demo called, in the order of the tool's list of operations.
        let counters = emulator.counters();
        let calls: Vec<String> = OPERATIONS
            .iter()
            .filter_map(|operation| {
                let count = counters.calls.get(*operation).copied().unwrap_or(0);
                let why = if *operation == "ListUsers" { " (users in no file)" } else { "" };
                (count > 0).then(|| format!("{count} {operation}{why}"))
            })
            .collect();
        let alice_office = emulator
            .user("m-0123456789abcdef0123456789abcdef", "alice")
            .map(|u| u.get(crate::model::attrs::Attribute::Office).to_string())
            .unwrap_or_default();
        writeln!(
            out,
            "\nCalls made: {}. alice's unmanaged office is still {alice_office}.\n{NEXT}",
            calls.join(", ")
        )
        .into_diagnostic()?;
        emulator.stop().await;
        let converged = report.succeeded() && !again.has_changes() && again.errors.is_empty();
        Ok(if converged { Exit::Success } else { Exit::Error })
    })
}
