//! The engine as a library call, without the CLI: plan, guard and apply as separate steps with
//! typed results, progress as events, selection and refusal before any write.

use crate::support::*;
use workmail_reconcile::apply::{Outcome, SafetyLimits, SafetyRefusal};
use workmail_reconcile::directory::{Limiter, SdkDirectory};
use workmail_reconcile::emulator::{Emulator, Seed, UpdateSemantics};
use workmail_reconcile::model::attrs::Attribute::Department;
use workmail_reconcile::reconcile::{
    ApplyOptions, DesiredStateError, Event, Reconciler, RunError, Selection, SelectionError,
};
use workmail_reconcile::spec::DesiredState;

/// `count` users `u0`, `u1`, … whose department is `Old`.
async fn emulator_of(count: usize) -> Emulator {
    let users = (0..count).map(|i| user(&format!("u{i}"), &[(Department, "Old")])).collect();
    emulator(Seed::default().organization(acme(users)), UpdateSemantics::Patch).await
}

/// The first `changed` of `count` users move to department `New`.
fn desired(count: usize, changed: usize) -> DesiredState {
    let users: String = (0..count)
        .map(|i| format!("  u{i}:\n    department: {}\n", if i < changed { "New" } else { "Old" }))
        .collect();
    workmail_reconcile::spec::load_str("acme.yaml", &format!("organization: acme\nusers:\n{users}"))
        .expect("valid desired state")
}

fn engine(emu: &Emulator) -> Reconciler<SdkDirectory> {
    Reconciler::new(SdkDirectory::new(emu.sdk_config(), Limiter::new(4, None)), 8)
}

/// An event without its borrowed outcome, to collect.
fn owned(event: Event<'_>) -> String {
    match event {
        Event::Applied(outcome) => format!("Applied({} {})", outcome.user, outcome.outcome.name()),
        other => format!("{other:?}"),
    }
}

#[tokio::test]
async fn plan_guard_and_apply_are_steps_with_typed_results_and_events() {
    let emu = emulator_of(3).await;
    let engine = engine(&emu);
    let desired = desired(3, 2);
    let mut events = Vec::new();

    let planned = engine.plan(&desired, |e| events.push(owned(e))).await.expect("answers");
    assert_eq!(events, ["Describing { users: 3 }", "Described", "Described", "Described"]);
    let changed: Vec<&str> = planned.plan.changes.iter().map(|c| c.user.as_str()).collect();
    assert_eq!(changed, ["u0", "u1"]);
    assert!(calls(&emu.journal(), "UpdateUser").is_empty(), "planning never writes");

    events.clear();
    let guarded = planned.guard(SafetyLimits::default()).expect("within the limits");
    let report = engine.apply(guarded, &ApplyOptions::default(), |e| events.push(owned(e))).await;
    events.sort();
    assert_eq!(events, ["Applied(u0 updated)", "Applied(u1 updated)", "Applying { users: 2 }"]);
    assert!(report.succeeded());
    assert!(report.users.iter().all(|u| matches!(u.outcome, Outcome::Updated { .. })));
    assert_eq!(report.unchanged_in_plan, 1);
    assert_eq!(calls(&emu.journal(), "UpdateUser").len(), 2);
    assert_eq!(live(&emu, "u1", Department), text("New"));

    let again = engine.plan(&desired, |_| ()).await.expect("answers");
    assert!(!again.plan.has_changes() && again.plan.errors.is_empty());
}

#[tokio::test]
async fn a_refused_run_writes_nothing_and_hands_back_its_plan() {
    let emu = emulator_of(10).await;
    let refused = match engine(&emu)
        .reconcile(&desired(10, 4), SafetyLimits::default(), &ApplyOptions::default(), |_| ())
        .await
    {
        Err(RunError::Refused(refused)) => refused,
        other => panic!("4 of 10 is more than the default share, got {other:?}"),
    };
    assert_eq!(
        refused.refusal,
        SafetyRefusal::Share { organization: format!("acme ({ORG})"), changes: 4, declared: 10 }
    );
    assert_eq!(refused.run.plan.changes.len(), 4);
    assert!(calls(&emu.journal(), "UpdateUser").is_empty());

    let limits = SafetyLimits { max_changes: Some(4), force: false };
    let report = engine(&emu)
        .reconcile(&desired(10, 4), limits, &ApplyOptions::default(), |_| ())
        .await
        .expect("an explicit limit allows it");
    assert_eq!((report.planned.to_update, report.planned.unchanged), (4, 6));
    assert_eq!(report.applied.users.len(), 4);
    assert_eq!(live(&emu, "u3", Department), text("New"));
}

#[test]
fn selection_keeps_users_case_insensitively_and_refuses_a_key_nobody_declares() {
    let files = Files::new();
    let file = files.write(
        "acme.yaml",
        "organization: acme\nusers:\n  Alice: { office: A }\n  bob: { office: B }\n",
    );
    let selection = Selection { targets: vec!["alice".into()], excludes: Vec::new() };
    let desired = workmail_reconcile::reconcile::load(&[&file], &selection).expect("loads");
    let keys: Vec<&str> = desired.organizations[0].users.iter().map(|u| u.key.as_str()).collect();
    assert_eq!(keys, ["Alice"]);

    let selection = Selection { targets: Vec::new(), excludes: vec!["zed".into()] };
    match workmail_reconcile::reconcile::load(&[&file], &selection) {
        Err(DesiredStateError::Selection(e)) => {
            assert_eq!(e, SelectionError { flag: "--exclude", key: "zed".into() });
            assert_eq!(e.to_string(), "--exclude zed: no declared user has this key");
        }
        other => panic!("expected a selection error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_directory_that_stops_answering_ends_the_plan_step_with_its_one_failure() {
    let emu = emulator_of(3).await;
    let engine = engine(&emu);
    emu.stop().await;
    let failure = engine.plan(&desired(3, 1), |_| ()).await.expect_err("nobody answers");
    assert_eq!(engine.connection_failure(), Some(&failure));
    match engine
        .reconcile(&desired(3, 1), SafetyLimits::default(), &ApplyOptions::default(), |_| ())
        .await
    {
        Err(RunError::Stopped { failure: again, applied }) => {
            assert_eq!(again, failure);
            assert!(applied.users.is_empty(), "nothing was applied");
        }
        other => panic!("expected the run to stop, got {other:?}"),
    }
}
