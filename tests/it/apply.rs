//! `apply` against the emulator, every test under both update semantics: final state of every
//! field, idempotency, saved-plan compare-and-swap, safety limits, faults and interruption.

use crate::support::*;
use workmail_reconcile::emulator::{
    Emulator, Faults, JournalOutcome, Seed, SeedUser, UpdateSemantics,
};
use workmail_reconcile::model::attrs::{AttrValue, Attribute, Attribute::*};

const BOTH: [UpdateSemantics; 2] = [UpdateSemantics::Patch, UpdateSemantics::Replace];

const DESIRED: &str = r#"organization: acme
defaults:
  company: Acme Corp
users:
  alice:
    display_name: Alice Liddell
    department: null
    hidden_from_global_address_list: true
  bob:
    job_title: Builder
    role: REMOTE_USER
  carol:
    display_name: Carol
"#;

fn seed() -> Seed {
    Seed::default().organization(acme(vec![
        user(
            "alice",
            &[
                (DisplayName, "Alice L"),
                (Department, "R&D"),
                (Office, "HQ"),
                (Telephone, "+1 555 0100"),
            ],
        ),
        user("bob", &[(DisplayName, "Bob"), (City, "Oslo"), (Company, "Acme Corp")]),
        user("carol", &[(DisplayName, "Carol"), (Company, "Acme Corp"), (Street, "1 Main St")]),
        SeedUser::new("postmaster").email("postmaster@acme.example").role("SYSTEM_USER"),
    ]))
}

/// Every attribute of a user, for exact before/after comparisons.
fn snapshot(emu: &Emulator, name: &str) -> Vec<(Attribute, AttrValue)> {
    Attribute::ALL.iter().map(|&a| (a, live(emu, name, a))).collect()
}

fn expect(
    before: &[(Attribute, AttrValue)],
    changed: &[(Attribute, AttrValue)],
) -> Vec<(Attribute, AttrValue)> {
    before
        .iter()
        .map(|(a, v)| changed.iter().find(|(c, _)| c == a).cloned().unwrap_or((*a, v.clone())))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_converges_every_field_and_leaves_unmanaged_fields_alone() {
    for semantics in BOTH {
        let emu = emulator(seed(), semantics).await;
        let before: Vec<_> =
            ["alice", "bob", "carol", "postmaster"].iter().map(|n| snapshot(&emu, n)).collect();
        let files = Files::new();
        files.write("acme.yaml", DESIRED);
        let out = run(&emu, files.path(), &["apply", "--auto-approve", "acme.yaml"]).await;
        assert_eq!(out.status.code(), Some(0), "{semantics:?}: {}\n{}", stdout(&out), stderr(&out));
        assert!(
            stdout(&out)
                .contains("Apply: 2 updated, 1 unchanged, 0 conflicts, 0 failed, 0 errors."),
            "{}",
            stdout(&out)
        );

        assert_eq!(
            snapshot(&emu, "alice"),
            expect(
                &before[0],
                &[
                    (DisplayName, text("Alice Liddell")),
                    (Department, text("")),
                    (HiddenFromGlobalAddressList, AttrValue::Bool(true)),
                    (Company, text("Acme Corp")),
                ]
            ),
            "{semantics:?}"
        );
        assert_eq!(
            snapshot(&emu, "bob"),
            expect(&before[1], &[(JobTitle, text("Builder")), (Role, text("REMOTE_USER"))]),
            "{semantics:?}"
        );
        assert_eq!(snapshot(&emu, "carol"), before[2], "{semantics:?}");
        assert_eq!(snapshot(&emu, "postmaster"), before[3], "{semantics:?}");

        let journal = emu.journal();
        let updates = calls(&journal, "UpdateUser");
        assert_eq!(updates.len(), 2, "{semantics:?}");
        for update in &updates {
            assert_ne!(update.input["Role"], "SYSTEM_USER");
            // The full dataset: every updatable member but an unchanged role.
            assert!(update.input.get("Office").is_some() && update.input.get("Street").is_some());
        }
        // N describes for the plan + one fresh read per changed user + one update per changed user.
        assert_eq!(calls(&journal, "DescribeUser").len(), 3 + 2);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_twice_changes_nothing_the_second_time() {
    for semantics in BOTH {
        let (emu, files) = with_acme_file(seed(), semantics, DESIRED).await;
        let first = run(&emu, files.path(), &["apply", "--auto-approve", "acme.yaml"]).await;
        assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
        emu.clear_journal();
        let second = run(&emu, files.path(), &["apply", "--auto-approve", "acme.yaml"]).await;
        assert_eq!(second.status.code(), Some(0));
        assert!(stdout(&second).contains("Nothing to apply."), "{}", stdout(&second));
        assert!(calls(&emu.journal(), "UpdateUser").is_empty(), "{semantics:?}");
        let plan = run(&emu, files.path(), &["plan", "--detailed-exitcode", "acme.yaml"]).await;
        assert_eq!(plan.status.code(), Some(0), "{}", stdout(&plan));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn saved_plan_is_compare_and_swap() {
    for semantics in BOTH {
        let (emu, files) = with_acme_file(seed(), semantics, DESIRED).await;
        let planned = run(&emu, files.path(), &["plan", "--out", "plan.json", "acme.yaml"]).await;
        assert_eq!(planned.status.code(), Some(0), "{}", stderr(&planned));

        // After the plan: alice's managed display name changes live; bob's unmanaged city too.
        assert!(emu.edit_user(ORG, "alice", |u| {
            u.attributes.insert(DisplayName, text("Alice (edited)"));
        }));
        assert!(emu.edit_user(ORG, "bob", |u| {
            u.attributes.insert(City, text("Bergen"));
        }));
        emu.clear_journal();
        let out =
            run(&emu, files.path(), &["apply", "--plan", "plan.json", "--auto-approve"]).await;
        assert_eq!(out.status.code(), Some(1), "a conflict exits 1: {}", stdout(&out));
        let report = stdout(&out);
        assert!(report.contains("conflict: display_name changed live since the plan"), "{report}");
        assert_eq!(
            live(&emu, "alice", DisplayName),
            text("Alice (edited)"),
            "{semantics:?}: not overwritten"
        );
        assert_eq!(
            live(&emu, "alice", Department),
            text("R&D"),
            "a conflicting user is skipped whole"
        );
        assert_eq!(live(&emu, "bob", JobTitle), text("Builder"), "other users are applied");
        assert_eq!(
            live(&emu, "bob", City),
            text("Bergen"),
            "{semantics:?}: concurrent unmanaged edit survives"
        );
        let journal = emu.journal();
        assert_eq!(calls(&journal, "UpdateUser").len(), 1);
        assert!(calls(&journal, "ListOrganizations").is_empty(), "a saved plan is not re-planned");
    }
}

/// A saved plan edited by hand is held to the rules of the files: a value `validate` would
/// refuse is refused before any call, wherever in the plan it is.
#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_carrying_a_value_validate_would_refuse_is_refused_before_any_call() {
    let (emu, files) = with_acme_file(seed(), UpdateSemantics::Patch, DESIRED).await;
    let planned = run(&emu, files.path(), &["plan", "--out", "plan.json", "acme.yaml"]).await;
    assert_eq!(planned.status.code(), Some(0), "{}", stderr(&planned));
    let plan: serde_json::Value =
        serde_json::from_str(&files.read("plan.json")).expect("a JSON plan");
    // changes[1] is bob: job_title, then role USER -> REMOTE_USER.
    assert_eq!(plan["changes"][1]["fields"][1]["field"], "role", "{plan:#}");
    let cases: [(&str, &str, serde_json::Value, &str); 5] = [
        (
            "an IdP id off the pattern",
            "/changes/1/fields/1",
            serde_json::json!({"field": "identity_provider_user_id", "before": "", "after": "not-a-uuid"}),
            "user `bob`: `after` value: `identity_provider_user_id` `not-a-uuid` is not an identity provider user id",
        ),
        (
            "a role that cannot be set",
            "/changes/1/fields/1/after",
            "SYSTEM_USER".into(),
            "user `bob`: `after` value: role `SYSTEM_USER` cannot be set: WorkMail only lets UpdateUser set USER or REMOTE_USER",
        ),
        (
            "an unknown role",
            "/changes/1/fields/1/after",
            "ADMIN".into(),
            "user `bob`: `after` value: unknown role `ADMIN`",
        ),
        (
            "a before role no plan changes",
            "/changes/1/fields/1/before",
            "RESOURCE".into(),
            "user `bob`: `before` value: a user of role RESOURCE is never changed",
        ),
        (
            "an organization id that is none",
            "/changes/1/organization_id",
            "acme".into(),
            "changes[1].organization_id: `acme` is not an organization id",
        ),
    ];
    for (case, pointer, value, expected) in cases {
        let mut edited = plan.clone();
        *edited.pointer_mut(pointer).expect(pointer) = value;
        files.write("edited.json", &edited.to_string());
        emu.clear_journal();
        let out =
            run(&emu, files.path(), &["apply", "--plan", "edited.json", "--auto-approve"]).await;
        assert_eq!(out.status.code(), Some(1), "{case}");
        assert!(
            unwrapped(&stderr(&out)).contains(&unwrapped(expected)),
            "{case}: {}",
            stderr(&out)
        );
        assert!(emu.journal().is_empty(), "{case}: nothing sent");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_terminal_or_approval_nothing_is_written() {
    let (emu, files) = with_acme_file(seed(), UpdateSemantics::Patch, DESIRED).await;
    let out = run(&emu, files.path(), &["apply", "acme.yaml"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("pass --auto-approve"), "{}", stderr(&out));
    assert!(calls(&emu.journal(), "UpdateUser").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn safety_limits_refuse_before_any_write() {
    let users: Vec<SeedUser> =
        (0..12).map(|i| user(&format!("u{i:02}"), &[(Office, "A")])).collect();
    let emu = emulator(Seed::default().organization(acme(users)), UpdateSemantics::Patch).await;
    let files = Files::new();
    let body: String = (0..12)
        .map(|i| format!("  u{i:02}:\n    office: {}\n", if i < 5 { "B" } else { "A" }))
        .collect();
    files.write("acme.yaml", &format!("organization: acme\nusers:\n{body}"));

    let out = run(&emu, files.path(), &["apply", "--auto-approve", "acme.yaml"]).await;
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("5 of the 12 users declared for organization acme"),
        "{}",
        stderr(&out)
    );
    let out =
        run(&emu, files.path(), &["apply", "--auto-approve", "--max-changes", "4", "acme.yaml"])
            .await;
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("5 users would change, more than --max-changes 4"),
        "{}",
        stderr(&out)
    );
    assert!(calls(&emu.journal(), "UpdateUser").is_empty());

    let out =
        run(&emu, files.path(), &["apply", "--auto-approve", "--max-changes", "5", "acme.yaml"])
            .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(calls(&emu.journal(), "UpdateUser").len(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn force_overrides_the_share_limit_and_the_audit_log_records_each_user() {
    let users: Vec<SeedUser> =
        (0..10).map(|i| user(&format!("u{i:02}"), &[(Office, "A")])).collect();
    let emu = emulator(Seed::default().organization(acme(users)), UpdateSemantics::Replace).await;
    let files = Files::new();
    let body: String = (0..10).map(|i| format!("  u{i:02}:\n    office: B\n")).collect();
    files.write("acme.yaml", &format!("organization: acme\nusers:\n{body}"));
    let out = run(
        &emu,
        files.path(),
        &["apply", "--auto-approve", "--force", "--audit-log", "audit.jsonl", "acme.yaml"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let log = files.read("audit.jsonl");
    let lines: Vec<serde_json::Value> =
        log.lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect();
    assert_eq!(lines.len(), 10);
    for line in &lines {
        assert_eq!(line["outcome"], "updated");
        assert_eq!(line["fields"], serde_json::json!(["office"]));
        assert_eq!(line["organization_id"], ORG);
        assert!(!line.to_string().contains("\"B\""), "values are personal data and stay out");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_of_300_users_survives_throttles_errors_and_dropped_connections() {
    for semantics in BOTH {
        let users: Vec<SeedUser> = (0..300)
            .map(|i| user(&format!("user{i:03}"), &[(Office, "Old"), (City, "Keep")]))
            .collect();
        let faults = Faults {
            throttle_rate: 0.10,
            server_error_rate: 0.05,
            drop_rate: 0.03,
            rng_seed: 42,
            ..Faults::default()
        };
        let emu = emulator_with(Seed::default().organization(acme(users)), semantics, faults).await;
        let files = Files::new();
        let body: String =
            (0..300).map(|i| format!("  user{i:03}:\n    office: New {i}\n")).collect();
        files.write("acme.yaml", &format!("organization: acme\nusers:\n{body}"));
        let out =
            run(&emu, files.path(), &["apply", "--auto-approve", "--force", "acme.yaml"]).await;
        assert_eq!(out.status.code(), Some(0), "{semantics:?}: {}\n{}", stdout(&out), stderr(&out));
        for i in 0..300 {
            let name = format!("user{i:03}");
            assert_eq!(
                live(&emu, &name, Office),
                text(&format!("New {i}")),
                "{semantics:?} {name}"
            );
            assert_eq!(live(&emu, &name, City), text("Keep"), "{semantics:?} {name}");
        }
        let journal = emu.journal();
        assert!(journal.iter().any(|e| e.outcome == JournalOutcome::Throttled));
        assert!(journal.iter().any(|e| matches!(e.outcome, JournalOutcome::Dropped { .. })));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_apply_killed_midway_converges_on_the_next_run() {
    let users: Vec<SeedUser> =
        (0..40).map(|i| user(&format!("user{i:02}"), &[(Office, "Old")])).collect();
    let faults = Faults { latency: std::time::Duration::from_millis(40), ..Faults::default() };
    let emu =
        emulator_with(Seed::default().organization(acme(users)), UpdateSemantics::Replace, faults)
            .await;
    let files = Files::new();
    let body: String = (0..40).map(|i| format!("  user{i:02}:\n    office: New\n")).collect();
    files.write("acme.yaml", &format!("organization: acme\nusers:\n{body}"));

    let mut child = command(
        &emu.url(),
        files.path(),
        &["--concurrency", "2", "apply", "--auto-approve", "--force", "acme.yaml"],
    )
    .stdout(std::process::Stdio::null())
    .spawn()
    .expect("spawn");
    // Wait until some, but not all, updates happened, then SIGKILL.
    let five_updates = emu.journal_until(|journal| calls(journal, "UpdateUser").len() >= 5);
    tokio::time::timeout(std::time::Duration::from_secs(60), five_updates)
        .await
        .expect("apply made progress");
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let updated = emu.users(ORG).iter().filter(|u| u.get(Office) == text("New")).count();
    assert!((1..40).contains(&updated), "killed midway: {updated} of 40 updated");
    for u in emu.users(ORG) {
        assert!(
            u.get(Office) == text("New") || u.get(Office) == text("Old"),
            "each user is untouched or correct"
        );
    }

    let out = run(&emu, files.path(), &["apply", "--auto-approve", "--force", "acme.yaml"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(emu.users(ORG).iter().all(|u| u.get(Office) == text("New")));
}

#[tokio::test(flavor = "multi_thread")]
async fn two_organizations_are_planned_and_applied_in_one_run() {
    use workmail_reconcile::emulator::SeedOrganization;
    let globex = SeedOrganization::new(ORG2, Some("globex"), "globex.example")
        .user(SeedUser::new("hank").email("hank@globex.example").attr(Office, "Old"));
    let (emu, files) = with_acme_file(
        seed().organization(globex),
        UpdateSemantics::Replace,
        "organization: acme\nusers:\n  carol:\n    office: New\n",
    )
    .await;
    files.write(
        "globex/hank.yaml",
        &format!("organization: {ORG2}\nusers:\n  hank:\n    office: New\n"),
    );
    let out = run(&emu, files.path(), &["apply", "--auto-approve", "."]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("Organization acme (m-0123456789abcdef0123456789abcdef)"), "{text}");
    assert!(text.contains("Organization globex (m-fedcba9876543210fedcba9876543210)"), "{text}");
    assert_eq!(live(&emu, "carol", Office), text_value("New"));
    assert_eq!(emu.user(ORG2, "hank").expect("hank").get(Office), text_value("New"));
    assert_eq!(emu.user(ORG2, "hank").expect("hank").get(Street), text_value(""));
    assert_eq!(calls(&emu.journal(), "ListOrganizations").len(), 1, "aliases resolved once");
}

fn text_value(s: &str) -> AttrValue {
    AttrValue::Text(s.to_string())
}

/// The confirmation prompt apply shows on a terminal.
const PROMPT: &str = "Only 'yes' will be accepted: ";

/// Run apply on a pseudo-terminal (util-linux `script`, part of every Debian base system) and
/// answer the confirmation prompt with `answer` once the terminal shows it.
async fn apply_on_a_terminal(emu: &Emulator, files: &Files, answer: &str) -> std::process::Output {
    use std::io::{Read, Write};
    use std::sync::mpsc::RecvTimeoutError;
    use std::time::{Duration, Instant};
    let binary = assert_cmd::cargo::cargo_bin("workmail-reconcile");
    let line = format!("{} apply acme.yaml", binary.display());
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"])
        .current_dir(files.path())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", emu.url())
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let answer = format!("{answer}\n");
    tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().expect("script(1) runs");
        // script(1) copies the terminal (apply's stdout and stderr) to its stdout; a thread
        // forwards it in chunks so that waiting for the prompt can time out.
        let mut terminal = child.stdout.take().expect("stdout");
        let (send, chunks) = std::sync::mpsc::channel::<Vec<u8>>();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = terminal.read(&mut buf) {
                if send.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        let mut errors = child.stderr.take().expect("stderr");
        let errors = std::thread::spawn(move || {
            let mut buf = Vec::new();
            errors.read_to_end(&mut buf).map(|_| buf)
        });
        let mut shown = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !String::from_utf8_lossy(&shown).contains(PROMPT) {
            match chunks.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(chunk) => shown.extend(chunk),
                Err(cause) => {
                    let _ = child.kill();
                    let why = match cause {
                        RecvTimeoutError::Timeout => "no prompt within 60 s",
                        RecvTimeoutError::Disconnected => "apply ended without a prompt",
                    };
                    panic!("{why}; the terminal showed:\n{}", String::from_utf8_lossy(&shown));
                }
            }
        }
        child.stdin.take().expect("stdin").write_all(answer.as_bytes()).expect("answer");
        shown.extend(chunks.iter().flatten());
        let status = child.wait().expect("finishes");
        let stderr = errors.join().expect("stderr reader").expect("stderr");
        std::process::Output { status, stdout: shown, stderr }
    })
    .await
    .expect("join")
}

#[tokio::test(flavor = "multi_thread")]
async fn on_a_terminal_only_yes_proceeds() {
    let (emu, files) = with_acme_file(seed(), UpdateSemantics::Patch, DESIRED).await;
    let out = apply_on_a_terminal(&emu, &files, "y").await;
    assert!(stdout(&out).contains("Only 'yes' will be accepted"), "{}", stdout(&out));
    assert!(stdout(&out).contains("Apply cancelled; nothing was changed."), "{}", stdout(&out));
    assert!(calls(&emu.journal(), "UpdateUser").is_empty());

    let out = apply_on_a_terminal(&emu, &files, "yes").await;
    assert!(stdout(&out).contains("Apply: 2 updated"), "{}", stdout(&out));
    assert_eq!(calls(&emu.journal(), "UpdateUser").len(), 2);
}
