//! The controller's runs in process, on a paused clock: each mode, revisions, blocked plans,
//! invalid and suspended sources, and the backoff after failures, over the project's emulator
//! through the WorkMail SDK (`SdkDirectory`), with failures injected in front of it.

use super::context::{Context, Settings};
use super::http::HttpLimits;
use super::reconcile_error::{ReconcileError, RunOutcome, report_of};
use super::run;
use super::schedule::run_loop;
use super::status::{Mode, ReadyReason, RunResult, Trigger};
use super::{Metrics, Source};
use crate::emulator::{Emulator, EmulatorConfig, Seed, SeedOrganization, SeedUser};
use crate::model::attrs::{AttrValue, Attribute};
use crate::model::live::{ListedUser, ObservedUser, OrganizationSummary};
use crate::reconcile::SafetyLimits;
use crate::reconcile::{
    ConnectionFailure, Directory, DirectoryError, Limiter, SdkDirectory, UpdateRequest,
};
use crate::reconcile::{Selection, UnmanagedPolicy};
use crate::redaction::Redaction;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

const ORG: &str = "m-0123456789abcdef0123456789abcdef";

/// alice and bob differ from the seed; carol matches.
const DESIRED: &str = "organization: acme\nusers:\n  alice:\n    display_name: Alice Liddell\n  \
                       bob:\n    job_title: Architect\n  carol:\n    display_name: Carol\n";

/// The emulator's directory, each DescribeUser failing with the service error code set in
/// `failing` while one is: a call that fails before it reaches the service.
#[derive(Debug, Clone)]
struct Failing {
    inner: SdkDirectory,
    failing: Arc<Mutex<Option<&'static str>>>,
}

impl Failing {
    fn fail_with(&self, code: Option<&'static str>) {
        *self.failing.lock().unwrap_or_else(|p| p.into_inner()) = code;
    }
}

impl Directory for Failing {
    async fn list_organizations(&self) -> Result<Vec<OrganizationSummary>, DirectoryError> {
        self.inner.list_organizations().await
    }
    async fn list_users(&self, organization_id: &str) -> Result<Vec<ListedUser>, DirectoryError> {
        self.inner.list_users(organization_id).await
    }
    async fn describe_user(&self, org: &str, user: &str) -> Result<ObservedUser, DirectoryError> {
        let failing = *self.failing.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(code) = failing {
            return Err(DirectoryError::Service { code: code.into(), message: "injected".into() });
        }
        self.inner.describe_user(org, user).await
    }
    crate::reconcile::forward_mailbox_calls!(inner);
    async fn update_user(&self, request: &UpdateRequest) -> Result<(), DirectoryError> {
        self.inner.update_user(request).await
    }
    fn connection_failure(&self) -> Option<&ConnectionFailure> {
        self.inner.connection_failure()
    }
    fn resumed(&self) -> Failing {
        Failing { inner: self.inner.resumed(), failing: Arc::clone(&self.failing) }
    }
}

/// A controller's context over a seeded emulator, and its source directory holding
/// `users.yaml` with [`DESIRED`].
struct Controller {
    emu: Emulator,
    source: tempfile::TempDir,
    ctx: Context<Failing>,
}

impl Controller {
    async fn new(mode: Mode, limits: SafetyLimits) -> Controller {
        let user = |name: &str, attr: Attribute, value: &str| {
            SeedUser::new(name).email(&format!("{name}@acme.example")).attr(attr, value)
        };
        let acme = SeedOrganization::new(ORG, Some("acme"), "acme.example")
            .user(user("alice", Attribute::DisplayName, "Alice L"))
            .user(user("bob", Attribute::JobTitle, "Builder"))
            .user(user("carol", Attribute::DisplayName, "Carol"));
        let seed = Seed::default().organization(acme);
        let emu = Emulator::start(EmulatorConfig { seed, ..EmulatorConfig::default() })
            .await
            .expect("the emulator starts");
        let source = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(source.path().join("users.yaml"), DESIRED).expect("written");
        let settings = Settings {
            source: Source::new(source.path()),
            mode,
            interval: Duration::from_secs(3600),
            limits,
            selection: Selection::default(),
            unmanaged: UnmanagedPolicy::Ignore,
            redaction: Redaction::None,
            audit: None,
            webhook_secret: None,
            width: 4,
            http: HttpLimits::DEFAULT,
        };
        let inner = SdkDirectory::new(emu.sdk_config(), Limiter::new(4, None));
        let directory = Failing { inner, failing: Arc::default() };
        let metrics = Arc::new(Metrics::new());
        let (ctx, _triggers) = Context::new(settings, directory, metrics, CancellationToken::new());
        Controller { emu, source, ctx }
    }

    /// One run, recorded in the status as the loop records it.
    async fn run(&self) -> RunOutcome {
        let outcome = run::reconcile(&self.ctx, Trigger::Signal).await;
        self.ctx.record(report_of(&outcome));
        outcome
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.source.path().join(name), text).expect("written");
    }

    fn updates(&self) -> usize {
        self.emu.journal().iter().filter(|e| e.operation == "UpdateUser").count()
    }

    fn live(&self, user: &str, attr: Attribute) -> String {
        let user = self.emu.user(ORG, user).expect("the user exists");
        user.get(attr).as_text().unwrap_or_default().to_string()
    }

    /// Someone changes alice's display name behind the controller's back.
    fn drift_alice(&self) {
        let edited = self.emu.edit_user(ORG, "alice", |alice| {
            alice.attributes.insert(Attribute::DisplayName, AttrValue::Text("Changed".into()));
        });
        assert!(edited);
    }

    fn applied_revision(&self) -> Option<String> {
        self.ctx.status().revision.applied.clone()
    }
}

/// The result, the Ready reason and the message of a run, whatever its outcome.
fn ending(outcome: &RunOutcome) -> (RunResult, ReadyReason, String) {
    let report = report_of(outcome);
    (report.record.result, report.reason, report.message.clone())
}

fn revision(outcome: &RunOutcome) -> String {
    report_of(outcome).record.revision.clone().expect("a revision")
}

#[tokio::test(start_paused = true)]
async fn observe_plans_and_reports_the_drift_and_never_writes() {
    let ctl = Controller::new(Mode::Observe, SafetyLimits::default()).await;
    for _ in 0..2 {
        let outcome = ctl.run().await;
        let (result, reason, message) = ending(&outcome);
        assert_eq!((result, reason), (RunResult::Drift, ReadyReason::DriftDetected));
        assert_eq!(message, "2 users differ from the files; not corrected: the mode is observe");
    }
    assert_eq!(ctl.updates(), 0);
    assert_eq!(ctl.applied_revision(), None);
    let drifted: Vec<String> =
        ctl.ctx.status().drift[0].users.iter().map(|u| u.user.clone()).collect();
    assert_eq!(drifted, ["alice", "bob"]);
}

#[tokio::test(start_paused = true)]
async fn self_heal_corrects_drift_on_every_run_of_the_same_revision() {
    let ctl = Controller::new(Mode::SelfHeal, SafetyLimits::default()).await;
    let first = ctl.run().await;
    let (result, _, message) = ending(&first);
    assert_eq!(result, RunResult::Success, "{message}");
    assert_eq!(ctl.updates(), 2);
    assert_eq!(ctl.applied_revision(), Some(revision(&first)));
    ctl.drift_alice();
    let second = ctl.run().await;
    assert_eq!(revision(&second), revision(&first), "the files did not change");
    assert_eq!(ending(&second).0, RunResult::Success);
    assert_eq!(ctl.updates(), 3, "alice corrected again");
    assert_eq!(ctl.live("alice", Attribute::DisplayName), "Alice Liddell");
}

#[tokio::test(start_paused = true)]
async fn apply_on_change_applies_a_revision_once_and_a_new_revision_again() {
    let ctl = Controller::new(Mode::ApplyOnChange, SafetyLimits::default()).await;
    let first = ctl.run().await;
    assert_eq!(ending(&first).0, RunResult::Success);
    assert_eq!(ctl.updates(), 2);
    assert_eq!(ctl.applied_revision(), Some(revision(&first)));

    // The same revision again: the drift is reported, not corrected.
    ctl.drift_alice();
    let same = ctl.run().await;
    assert_eq!(revision(&same), revision(&first));
    let (result, reason, message) = ending(&same);
    assert_eq!((result, reason), (RunResult::Drift, ReadyReason::DriftDetected));
    assert!(
        message.ends_with(
            "this revision was applied already (apply-on-change corrects drift on a new revision)"
        ),
        "{message}"
    );
    assert_eq!(ctl.updates(), 2);
    assert_eq!(ctl.live("alice", Attribute::DisplayName), "Changed");

    // A new revision: applied, the drift corrected with it.
    ctl.write("users.yaml", &DESIRED.replace("Architect", "Chief Architect"));
    let new = ctl.run().await;
    assert_ne!(revision(&new), revision(&first));
    assert_eq!(ending(&new).0, RunResult::Success);
    assert_eq!(ctl.applied_revision(), Some(revision(&new)));
    assert_eq!(ctl.updates(), 4);
    assert_eq!(ctl.live("alice", Attribute::DisplayName), "Alice Liddell");
    assert_eq!(ctl.live("bob", Attribute::JobTitle), "Chief Architect");
}

#[tokio::test(start_paused = true)]
async fn a_plan_over_the_safety_limit_is_blocked_and_writes_nothing() {
    let limits = SafetyLimits { max_changes: Some(1), force: false };
    let ctl = Controller::new(Mode::SelfHeal, limits).await;
    let outcome = ctl.run().await;
    let Err(failed) = &outcome else { panic!("blocked: {outcome:?}") };
    assert!(matches!(failed.error, ReconcileError::Blocked(_)), "{:?}", failed.error);
    let (result, reason, message) = ending(&outcome);
    assert_eq!((result, reason), (RunResult::Blocked, ReadyReason::UnsafePlan));
    assert!(message.starts_with("refusing to apply: 2 users would change"), "{message}");
    assert_eq!(ctl.updates(), 0);
    assert_eq!(ctl.applied_revision(), None);
}

#[tokio::test(start_paused = true)]
async fn an_invalid_source_makes_no_call_and_keeps_the_revision_applied_before() {
    let ctl = Controller::new(Mode::ApplyOnChange, SafetyLimits::default()).await;
    let good = ctl.run().await;
    assert_eq!(ending(&good).0, RunResult::Success);
    let calls = ctl.emu.journal().len();
    ctl.write("users.yaml", "organization: acme\nusers:\n  alice:\n    salary: 3\n");
    let invalid = ctl.run().await;
    let Err(failed) = &invalid else { panic!("invalid: {invalid:?}") };
    assert!(matches!(failed.error, ReconcileError::SourceInvalid(_)), "{:?}", failed.error);
    let (result, reason, _) = ending(&invalid);
    assert_eq!((result, reason), (RunResult::Invalid, ReadyReason::SourceInvalid));
    assert_eq!(ctl.emu.journal().len(), calls, "no call");
    let status = ctl.ctx.status();
    assert_eq!(status.revision.applied, Some(revision(&good)));
    assert_eq!(status.revision.attempted, Some(revision(&invalid)));
}

#[tokio::test(start_paused = true)]
async fn the_suspend_file_stops_writing_but_not_planning() {
    let ctl = Controller::new(Mode::SelfHeal, SafetyLimits::default()).await;
    ctl.write(".workmail-reconcile-suspend", "");
    let suspended = ctl.run().await;
    let (result, reason, message) = ending(&suspended);
    assert_eq!((result, reason), (RunResult::Drift, ReadyReason::Suspended));
    assert!(message.ends_with("not corrected: the source holds the suspend file"), "{message}");
    assert!(ctl.ctx.status().suspended);
    assert_eq!(ctl.updates(), 0);
    std::fs::remove_file(ctl.source.path().join(".workmail-reconcile-suspend")).expect("resumed");
    assert_eq!(ending(&ctl.run().await).0, RunResult::Success);
    assert_eq!(ctl.updates(), 2);
}

/// Each run of the loop: when it started (from the loop's start), its trigger and result.
type Started = Vec<(u64, Trigger, RunResult)>;

/// Run the loop of `ctl` until `runs` runs ended; after the run numbered `n` (from 1),
/// `after(n, ctl)` may change what the next runs meet.
async fn run_loop_of(ctl: &Controller, runs: usize, after: impl Fn(usize, &Controller)) -> Started {
    let start = Instant::now();
    let (triggers_in, mut triggers) = tokio::sync::mpsc::channel(16);
    let shutdown = CancellationToken::new();
    let triggered = Arc::new(Mutex::new(Vec::new()));
    let mut started = Started::new();
    run_loop(
        ctl.ctx.settings.interval,
        &mut triggers,
        &shutdown,
        || 1.0,
        |trigger| {
            triggered.lock().expect("lock").push((start.elapsed().as_secs(), trigger));
            run::reconcile(&ctl.ctx, trigger)
        },
        |outcome: RunOutcome, _wait| {
            ctl.ctx.record(report_of(&outcome));
            let (at, trigger) = triggered.lock().expect("lock")[started.len()];
            started.push((at, trigger, report_of(&outcome).record.result));
            if started.len() == runs {
                shutdown.cancel();
            }
            after(started.len(), ctl);
        },
    )
    .await;
    drop(triggers_in);
    started
}

#[tokio::test(start_paused = true)]
async fn failed_runs_are_retried_after_5_then_10_seconds_and_a_success_resets_the_backoff() {
    let ctl = Controller::new(Mode::SelfHeal, SafetyLimits::default()).await;
    ctl.ctx.directory.fail_with(Some("ServiceUnavailable"));
    let started = run_loop_of(&ctl, 5, |run, ctl| match run {
        2 => ctl.ctx.directory.fail_with(None),
        3 => {
            ctl.ctx.directory.fail_with(Some("ServiceUnavailable"));
            ctl.drift_alice();
        }
        _ => {}
    })
    .await;
    use {RunResult::*, Trigger::*};
    assert_eq!(
        started,
        [
            (0, Startup, Failure),
            (5, Retry, Failure),
            (15, Retry, Success),
            // The success waits for the interval; the next failure backs off from 5 s again.
            (3615, Interval, Failure),
            (3620, Retry, Failure),
        ]
    );
    assert_eq!(ctl.updates(), 2, "only the successful run wrote");
}

#[tokio::test(start_paused = true)]
async fn a_failure_that_needs_a_person_waits_for_the_interval() {
    let ctl = Controller::new(Mode::SelfHeal, SafetyLimits::default()).await;
    ctl.ctx.directory.fail_with(Some("AccessDeniedException"));
    let started = run_loop_of(&ctl, 3, |_, _| {}).await;
    use {RunResult::*, Trigger::*};
    assert_eq!(
        started,
        [(0, Startup, Failure), (3600, Interval, Failure), (7200, Interval, Failure)]
    );
    assert_eq!(ctl.updates(), 0);
}

#[tokio::test(start_paused = true)]
async fn blocked_plans_and_invalid_sources_wait_for_the_interval_without_backing_off() {
    let limits = SafetyLimits { max_changes: Some(1), force: false };
    let ctl = Controller::new(Mode::SelfHeal, limits).await;
    let started = run_loop_of(&ctl, 4, |run, ctl| {
        if run == 2 {
            ctl.write("users.yaml", "organization: acme\nusers:\n  alice:\n    salary: 3\n");
        }
    })
    .await;
    use {RunResult::*, Trigger::*};
    assert_eq!(
        started,
        [
            (0, Startup, Blocked),
            (3600, Interval, Blocked),
            (7200, Interval, Invalid),
            (10800, Interval, Invalid),
        ]
    );
    assert_eq!(ctl.updates(), 0);
}
