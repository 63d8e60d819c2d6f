//! `workmail-reconcile apply`: plan (or read a saved plan), show it, confirm, check the safety
//! limits, then converge every planned user and report each one.

use super::diagnostics::Diagnostics;
use super::global::GlobalArgs;
use super::plan::{PlanFormat, render_plan};
use super::shared_args::{
    PlanningArgs, SelectionArgs, UnmanagedArgs, open_audit_log, render_options,
};
use super::written_file::{Reads, refuse_an_audit_log_that_is_read};
use super::{Exit, connect, shared_steps, terminal, values};
use crate::reconcile::SavedPlan;
use crate::reconcile::SdkDirectory;
use crate::reconcile::{ApplyOptions, PlannedRun, Reconciler};
use crate::reconcile::{ApplyReport, SafetyLimits};
use crate::redaction::Redaction;
use clap::{Args, ValueEnum};
use miette::IntoDiagnostic;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Desired-state files or directories.
    #[arg(required_unless_present = "plan", conflicts_with = "plan")]
    pub paths: Vec<PathBuf>,
    /// Apply this saved plan (from `plan --out`), whole and nothing else; --target,
    /// --exclude and --unmanaged are refused with it (select when planning).
    #[arg(long, value_name = "PLAN.json")]
    pub plan: Option<PathBuf>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// Refuse (exit 3) when more than N users would change; 0 refuses any change.
    #[arg(long, value_name = "N", value_parser = values::max_changes, allow_negative_numbers = true)]
    pub max_changes: Option<usize>,
    /// Apply whatever the safety limits say.
    #[arg(long)]
    pub force: bool,
    /// Append one JSON line per attempted user to FILE.
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
    #[command(flatten)]
    pub planning: PlanningArgs,
}

/// Ask on the terminal; only `yes` proceeds.
fn confirmed() -> bool {
    eprint!("Do you want to apply these changes? Only 'yes' will be accepted: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).is_ok() && answer.trim() == "yes"
}

/// A saved plan is applied whole, as reviewed: a selection would be a flag accepted and
/// ignored, or a plan applied that nobody reviewed in that form. `--unmanaged` likewise: the
/// saved plan's unmanaged users were looked for when planning, and are not looked for again.
/// Refused before any call.
fn refuse_selection_of_saved_plan(
    selection: &SelectionArgs,
    unmanaged: &UnmanagedArgs,
) -> miette::Result<()> {
    let mut flags = selection.to_selection().as_flags();
    if let Some(choice) = unmanaged.choice {
        let value = choice.to_possible_value().map(|v| v.get_name().to_string());
        flags.push(format!("--unmanaged {}", value.unwrap_or_default()));
    }
    if flags.is_empty() {
        return Ok(());
    }
    Err(miette::miette!(
        help = "select when planning: `plan --target USER --out PLAN.json`, then `apply --plan PLAN.json`",
        "{} cannot be used with --plan: a saved plan is applied whole, as it was reviewed; nothing was applied",
        flags.join(" ")
    ))
}

pub(crate) fn exec(global: &GlobalArgs, args: ApplyArgs) -> miette::Result<Exit> {
    let key = args.planning.redaction.redact_key_file.as_deref();
    let files = [("--plan", args.plan.as_deref()), ("--redact-key-file", key)];
    let reads = Reads::new(&args.paths, "PATH", &files);
    refuse_an_audit_log_that_is_read(args.audit_log.as_deref(), &reads, "nothing was applied")?;
    if args.plan.is_some() {
        refuse_selection_of_saved_plan(&args.planning.selection, &args.planning.unmanaged)?;
    }
    let saved = match &args.plan {
        Some(path) => {
            let text = crate::model::bounded_read::read_text(path, SavedPlan::MAX_FILE_BYTES)
                .map_err(|e| miette::miette!("{}", e.message_for(&path.display().to_string())))?;
            let saved = SavedPlan::from_json(&text)
                .map_err(|e| miette::miette!("{}: {e}", path.display()))?;
            Some(PlannedRun::from_saved(saved.plan))
        }
        None => None,
    };
    let desired = match saved {
        Some(_) => None,
        None => match shared_steps::load_selected(global, &args.paths, &args.planning.selection)? {
            Ok(desired) => Some(desired),
            Err(()) => return Ok(Exit::Error),
        },
    };
    let redaction = args.planning.redaction.redaction()?;
    connect::runtime()?.block_on(async {
        let engine = connect::engine(global, connect::directory(global).await?)
            .with_unmanaged(args.planning.unmanaged.policy());
        let planned = match (saved, desired) {
            (Some(planned), _) => planned,
            (None, Some(desired)) => shared_steps::compute_plan(
                global, &engine, &desired, &redaction,
            )
            .await
            .map_err(|failure| {
                shared_steps::stopped(&failure, "nothing was applied: every user is untouched")
            })?,
            (None, None) => return Ok(Exit::Error),
        };
        run(global, &args, &engine, planned, redaction).await
    })
}

async fn run(
    global: &GlobalArgs,
    args: &ApplyArgs,
    engine: &Reconciler<SdkDirectory>,
    planned: PlannedRun,
    redaction: Redaction,
) -> miette::Result<Exit> {
    let plan = &planned.plan;
    let diagnostics = Diagnostics::new(global);
    let color = terminal::stdout_color(global);
    // `-q` leaves the plan out only when nobody is asked to confirm it: a question about a
    // plan nobody was shown would be no safeguard.
    let brief = global.quiet && args.auto_approve;
    let options = render_options(redaction, color, brief);
    let mut stdout = terminal::stdout(color);
    stdout.write_all(render_plan(plan, PlanFormat::Text, &options).as_bytes()).into_diagnostic()?;
    if !plan.has_changes() {
        if !global.quiet {
            writeln!(stdout, "Nothing to apply.").into_diagnostic()?;
        }
        return Ok(if plan.errors.is_empty() { Exit::Success } else { Exit::Error });
    }
    let limits = SafetyLimits { max_changes: args.max_changes, force: args.force };
    let guarded = match planned.guard(limits) {
        Ok(guarded) => guarded,
        Err(refused) => {
            eprint!("{}", diagnostics.error(&refused.to_string()));
            return Ok(Exit::Refused);
        }
    };
    if !args.auto_approve {
        if !std::io::stdin().is_terminal() {
            eprint!(
                "{}",
                diagnostics.error(
                    "nothing was applied: confirmation needs a terminal; pass --auto-approve to apply without one"
                )
            );
            return Ok(Exit::Error);
        }
        drop(stdout);
        if !confirmed() {
            // The answer to a question on a terminal, not an error report.
            eprintln!("Apply cancelled; nothing was changed.");
            return Ok(Exit::Error);
        }
        stdout = terminal::stdout(color);
    }
    let audit = open_audit_log(args.audit_log.as_deref())?;
    let apply_options = ApplyOptions { audit, redaction: options.redaction.clone() };
    let mut progress = terminal::RunProgress::new(global);
    let report: ApplyReport =
        engine.apply(guarded, &apply_options, |event| progress.on(event)).await;
    drop(progress);
    if !brief {
        writeln!(stdout).into_diagnostic()?;
    }
    stdout
        .write_all(crate::render::apply_report(&report, &options).as_bytes())
        .into_diagnostic()?;
    if let Some(failure) = engine.connection_failure() {
        return Err(shared_steps::stopped(
            failure,
            "apply stopped there: the report above says which users are updated, which are \
             untouched, and which to check with plan",
        ));
    }
    Ok(if report.succeeded() { Exit::Success } else { Exit::Error })
}
