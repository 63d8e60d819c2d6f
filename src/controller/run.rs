//! One run of the controller: read the source, plan, decide by mode whether to write, guard,
//! apply, and say what happened. Never panics on input; every run ends with a [`RunConclusion`],
//! and one that does not converge with the [`ReconcileError`] that says why.

use super::context::{Context, RunConclusion};
use super::halting_directory::HaltingDirectory;
use super::reconcile_error::{FailedRun, ReconcileError, RunOutcome, RunStage};
use super::source::{Loaded, Resolved, Source, SourceError};
use super::status::{
    Correction, FieldDrift, Mode, OrganizationDrift, ReadyReason, RunRecord, RunResult, RunSummary,
    Trigger, UserDrift,
};
use crate::reconcile::DesiredState;
use crate::reconcile::Directory;
use crate::reconcile::Plan;
use crate::reconcile::{ApplyOptions, DesiredStateError, Event, Reconciler, Selection};
use crate::reconcile::{ApplyReport, Outcome};
use crate::redaction::{Redaction, display_value};
use crate::render::{MailboxRow, log_planned_values, mailbox_rows};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// What reading the source gave.
struct Read {
    resolved: Resolved,
    suspended: bool,
    loaded: Loaded,
}

/// Resolve SOURCE once, look for the suspend file, and read every file under that directory.
fn read_source(source: &Source, selection: &Selection) -> Result<Read, SourceError> {
    let resolved = source.resolve()?;
    let suspended = resolved.suspended();
    let loaded = resolved.load(selection);
    Ok(Read { resolved, suspended, loaded })
}

/// The start of a report: the run's time, trigger and revision.
struct RunUnderWay {
    trigger: Trigger,
    started: SystemTime,
    clock: Instant,
    revision: Option<String>,
    suspended: bool,
    summary: RunSummary,
    drift: Option<Vec<OrganizationDrift>>,
}

impl RunUnderWay {
    fn end(self, result: RunResult, reason: ReadyReason, message: String) -> RunConclusion {
        RunConclusion {
            record: RunRecord {
                trigger: self.trigger,
                started: humantime::format_rfc3339_millis(self.started).to_string(),
                duration_seconds: self.clock.elapsed().as_secs_f64(),
                result,
                revision: self.revision,
                summary: self.summary,
            },
            reason,
            message,
            suspended: self.suspended,
            drift: self.drift,
            applied: false,
        }
    }

    /// The run ended short because of `error`.
    fn fail(self, error: ReconcileError) -> RunOutcome {
        let report = self.end(error.result(), error.reason(), error.to_string());
        Err(Box::new(FailedRun { error, report }))
    }
}

/// One run, started by `trigger`: its report, or why it did not converge.
pub(crate) async fn reconcile<D>(ctx: &Context<D>, trigger: Trigger) -> RunOutcome
where
    D: Directory + Clone + 'static,
{
    let mut run = RunUnderWay {
        trigger,
        started: SystemTime::now(),
        clock: Instant::now(),
        revision: None,
        suspended: false,
        summary: RunSummary::default(),
        drift: None,
    };
    let (source, selection) = (ctx.settings.source.clone(), ctx.settings.selection.clone());
    // Reading and validating many files is blocking work: off the thread that serves HTTP.
    let read = tokio::task::spawn_blocking(move || read_source(&source, &selection)).await;
    let read = match read {
        Ok(Ok(read)) => read,
        Ok(Err(error)) => return run.fail(ReconcileError::SourceUnreadable(error)),
        Err(join) => return run.fail(ReconcileError::SourceReadAborted(join.to_string())),
    };
    run.revision = Some(read.loaded.revision.clone());
    run.suspended = read.suspended;
    let desired = match read.loaded.desired {
        Ok(desired) => desired,
        Err(error) => {
            return run.fail(ReconcileError::SourceInvalid(invalid_source(&read.resolved, &error)));
        }
    };
    plan_and_apply(ctx, run, &desired).await
}

/// Log every error of an invalid source, one line each, and say what is wrong.
fn invalid_source(resolved: &Resolved, error: &DesiredStateError) -> String {
    match error {
        DesiredStateError::Files(errors) => {
            for e in errors {
                let (line, column) = e.location().map_or((0, 0), |l| (l.line, l.column));
                tracing::error!(
                    file = e.file_name(),
                    line,
                    column,
                    help = e.help_text().unwrap_or_default(),
                    "{}",
                    e.message()
                );
            }
            format!("the source {} is invalid: {errors}", resolved.dir.display())
        }
        DesiredStateError::Selection(e) => {
            tracing::error!(error = %e, "the source does not declare a selected user");
            e.to_string()
        }
    }
}

/// Plan through the engine, then write as the mode allows.
async fn plan_and_apply<D>(
    ctx: &Context<D>,
    mut run: RunUnderWay,
    desired: &DesiredState,
) -> RunOutcome
where
    D: Directory + Clone + 'static,
{
    let settings = &ctx.settings;
    let directory = HaltingDirectory::new(ctx.directory.resumed(), ctx.shutdown.clone());
    let engine =
        Reconciler::new(directory.clone(), settings.width).with_unmanaged(settings.unmanaged);
    let planned = match engine.plan(desired, |_| {}).await {
        Ok(planned) => planned,
        Err(failure) => {
            return run.fail(ReconcileError::Connection { failure, stage: RunStage::Planning });
        }
    };
    let plan = &planned.plan;
    log_planned_values(plan, &settings.redaction);
    record_plan(&mut run, plan, &settings.redaction);
    ctx.metrics.organizations_known(run.drift.as_deref().unwrap_or_default());
    let revision = run.revision.clone().unwrap_or_default();
    let applied_before = ctx.status().revision.applied.clone();
    let writes = !run.suspended && may_write(settings.mode, &revision, applied_before.as_deref());
    if ctx.shutdown.is_cancelled() {
        return run.fail(ReconcileError::StoppedBySignal);
    }
    if !writes || !plan.has_changes() {
        if !plan.errors.is_empty() {
            let transient_call_failure = directory.saw_transient_failure();
            return run.fail(plan_errors(plan, transient_call_failure));
        }
        return Ok(unwritten(run, plan, settings.mode, writes, applied_before.is_some()));
    }
    let guarded = match planned.guard(settings.limits) {
        Ok(guarded) => guarded,
        Err(refused) => return run.fail(ReconcileError::Blocked(refused.refusal)),
    };
    let audit = settings.audit.as_ref().map(|log| Arc::new(log.for_revision(&revision)));
    let options = ApplyOptions { audit, redaction: settings.redaction.clone() };
    let report = engine
        .apply(guarded, &options, |event| {
            if let Event::Applied(user) = event {
                ctx.metrics.user_attempted(user);
            }
        })
        .await;
    count_outcomes(&mut run.summary, &report);
    record_corrections(&mut run, &report);
    if let Some(failure) = engine.connection_failure() {
        let failure = failure.clone();
        return run.fail(ReconcileError::Connection { failure, stage: RunStage::Applying });
    }
    applied(run, &report, &revision, directory.saw_transient_failure())
}

/// Whether `mode` writes a run of `revision`, the suspend file aside.
fn may_write(mode: Mode, revision: &str, applied_before: Option<&str>) -> bool {
    match mode {
        Mode::Observe => false,
        Mode::ApplyOnChange => applied_before != Some(revision),
        Mode::SelfHeal => true,
    }
}

/// The plan's counts and drift, recorded on the run before anything is applied.
fn record_plan(run: &mut RunUnderWay, plan: &Plan, redaction: &Redaction) {
    let summary = plan.summary();
    run.summary = RunSummary {
        users: summary.users,
        to_update: summary.to_update,
        unchanged: summary.unchanged,
        errors: summary.errors,
        ..RunSummary::default()
    };
    run.drift = Some(drift_of(plan, redaction));
}

/// How a run that applied ended: a success when every user converged, else the counts of
/// those that did not.
fn applied(
    run: RunUnderWay,
    report: &ApplyReport,
    revision: &str,
    transient_call_failure: bool,
) -> RunOutcome {
    if !report.succeeded() {
        let RunSummary { updated, conflicts, failed, errors, .. } = run.summary;
        let not_attempted =
            report.users.iter().filter(|u| u.outcome == Outcome::NotAttempted).count();
        return run.fail(ReconcileError::UsersNotConverged {
            updated,
            conflicts,
            failed,
            errors,
            not_attempted,
            transient_call_failure,
        });
    }
    let message = format!("applied revision {revision}: {} users updated", run.summary.updated);
    let mut report = run.end(RunResult::Success, ReadyReason::ReconciliationSucceeded, message);
    report.applied = true;
    Ok(report)
}

/// A run that did not write: because of the mode, the suspend file, a revision already
/// applied, or a plan with nothing to change (which, when writing was allowed, counts as
/// the revision applied).
fn unwritten(
    run: RunUnderWay,
    plan: &Plan,
    mode: Mode,
    writes: bool,
    applied: bool,
) -> RunConclusion {
    let suspended = run.suspended;
    let changes = plan.changes.len();
    if plan.has_changes() {
        let why = if suspended {
            "the source holds the suspend file"
        } else if mode == Mode::Observe {
            "the mode is observe"
        } else if applied {
            "this revision was applied already (apply-on-change corrects drift on a new revision)"
        } else {
            "the mode does not write"
        };
        let reason = if suspended { ReadyReason::Suspended } else { ReadyReason::DriftDetected };
        let message = format!("{changes} users differ from the files; not corrected: {why}");
        return run.end(RunResult::Drift, reason, message);
    }
    let (reason, message) = if suspended {
        (ReadyReason::Suspended, "no drift; writing is suspended by the suspend file".to_string())
    } else {
        (ReadyReason::ReconciliationSucceeded, "no drift".to_string())
    };
    let mut report = run.end(RunResult::Success, reason, message);
    report.applied = writes;
    report
}

/// Log every error of `plan`, one line each; the error says how many and the first:
/// `2 plan errors, the first: ghost (users/acme.yaml:30): user not found`.
fn plan_errors(plan: &Plan, transient_call_failure: bool) -> ReconcileError {
    let first = plan.errors.first().map_or_else(String::new, |e| {
        let who = e.user.as_deref().unwrap_or(&e.organization_id);
        format!(", the first: {who} ({}): {}", e.source, e.message)
    });
    for error in &plan.errors {
        let who = error.user.as_deref().unwrap_or(&error.organization_id);
        tracing::error!(user = who, source = %error.source, "{}", error.message);
    }
    ReconcileError::PlanErrors { count: plan.errors.len(), first, transient_call_failure }
}

/// The apply's counts.
fn count_outcomes(summary: &mut RunSummary, report: &ApplyReport) {
    for user in &report.users {
        match user.outcome {
            Outcome::Updated { .. } => summary.updated += 1,
            Outcome::Conflict { .. } => summary.conflicts += 1,
            Outcome::Failed { .. } => summary.failed += 1,
            Outcome::Unchanged | Outcome::NotAttempted => {}
        }
    }
}

/// What the apply did with each drifted user, so that the drift says which users still differ.
fn record_corrections(run: &mut RunUnderWay, report: &ApplyReport) {
    let Some(organizations) = run.drift.as_mut() else { return };
    let outcomes: HashMap<(&str, &str), Correction> = report
        .users
        .iter()
        .map(|u| ((u.organization_id.as_str(), u.user_id.as_str()), correction(&u.outcome)))
        .collect();
    for organization in organizations.iter_mut() {
        let id = organization.organization_id.as_str();
        for user in &mut organization.users {
            user.outcome = outcomes.get(&(id, user.user_id.as_str())).copied();
        }
        organization.recount();
    }
}

fn correction(outcome: &Outcome) -> Correction {
    match outcome {
        Outcome::Updated { .. } => Correction::Updated,
        Outcome::Unchanged => Correction::Unchanged,
        Outcome::Conflict { .. } => Correction::Conflict,
        Outcome::Failed { .. } => Correction::Failed,
        Outcome::NotAttempted => Correction::NotAttempted,
    }
}

/// The drift of `plan` per organization, values through `redaction`.
fn drift_of(plan: &Plan, redaction: &Redaction) -> Vec<OrganizationDrift> {
    // Users in no file were looked for in every organization of the plan, or in none.
    let empty = |organization_id: &str, alias: Option<String>| OrganizationDrift {
        organization_id: organization_id.to_string(),
        alias,
        desired_users: 0,
        unmanaged: plan.unmanaged.as_ref().map(|_| Vec::new()),
        users_still_differing: 0,
        users: Vec::new(),
    };
    let mut organizations: Vec<OrganizationDrift> =
        plan.organizations.iter().map(|o| empty(&o.id, o.alias.clone())).collect();
    let index_of = |organizations: &mut Vec<OrganizationDrift>, id: &str| {
        organizations.iter().position(|o| o.organization_id == id).unwrap_or_else(|| {
            organizations.push(empty(id, None));
            organizations.len() - 1
        })
    };
    for change in &plan.changes {
        let i = index_of(&mut organizations, &change.organization_id);
        organizations[i].desired_users += 1;
        let mailbox = mailbox_rows(change.mailbox.as_deref(), redaction).into_iter().map(|row| {
            let field = row.key().to_string();
            match row {
                // What leaves in `before`, what joins in `after`, as the markdown format shows.
                MailboxRow::List { add, remove, .. } => {
                    let signed = |sign: &str, values: Vec<String>| {
                        values.iter().map(|v| format!("{sign} {v}")).collect::<Vec<_>>().join(", ")
                    };
                    FieldDrift { field, before: signed("-", remove), after: signed("+", add) }
                }
                MailboxRow::Quota { before, after } => FieldDrift { field, before, after },
            }
        });
        let fields = change
            .fields
            .iter()
            .map(|f| FieldDrift {
                field: f.field.key().to_string(),
                before: display_value(&f.before, f.field, redaction),
                after: display_value(&f.after, f.field, redaction),
            })
            .chain(mailbox)
            .collect();
        let user = change.user.clone();
        let user_id = change.user_id.clone();
        organizations[i].users.push(UserDrift { user, user_id, fields, outcome: None });
    }
    for unchanged in &plan.unchanged {
        let i = index_of(&mut organizations, &unchanged.organization_id);
        organizations[i].desired_users += 1;
    }
    for error in plan.declared_user_errors() {
        let i = index_of(&mut organizations, &error.organization_id);
        organizations[i].desired_users += 1;
    }
    for user in plan.unmanaged.iter().flatten() {
        let i = index_of(&mut organizations, &user.organization_id);
        organizations[i].unmanaged.get_or_insert_default().push(user.user.clone());
    }
    for organization in &mut organizations {
        organization.recount();
    }
    organizations
}
