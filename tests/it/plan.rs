//! `plan` against the emulator: per-field plans, error entries, exit codes, selection, and —
//! from the journal — that plan never writes and describes each declared user exactly once.
//! Users in no file: tests/it/unmanaged.rs.

use crate::support::*;
use workmail_reconcile::emulator::{Faults, Seed, SeedUser, UpdateSemantics};
use workmail_reconcile::model::attrs::Attribute::*;
use workmail_reconcile::model::live::UserState;

const DESIRED: &str = r#"organization: acme
defaults:
  company: Acme Corp
users:
  alice:
    display_name: Alice Liddell
    department: null
    hidden_from_global_address_list: true
  bob@acme.example:
    display_name: Bob Builder
  carol:
    role: REMOTE_USER
  ghost:
    display_name: Nobody
"#;

fn seed() -> Seed {
    Seed::default().organization(acme(vec![
        user(
            "alice",
            &[
                (DisplayName, "Alice L"),
                (Department, "R&D"),
                (Office, "HQ"),
                (Company, "Acme Corp"),
            ],
        ),
        user("bob", &[(DisplayName, "Bob Builder"), (Company, "Acme Corp")]),
        user("carol", &[(Company, "Acme Inc")]),
        SeedUser::new("zed").email("zed@acme.example").state(UserState::Deleted),
    ]))
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_shows_every_changed_field_and_error_entries() {
    let (emu, files) = with_acme_file(seed(), UpdateSemantics::Patch, DESIRED).await;
    let out = run(&emu, files.path(), &["plan", "acme.yaml"]).await;
    assert_eq!(out.status.code(), Some(1), "an error entry exits 1: {}", stderr(&out));
    insta::assert_snapshot!(stdout(&out));

    // Plan never writes, describes each declared user once, and lists organizations once.
    let journal = emu.journal();
    assert!(calls(&journal, "UpdateUser").is_empty());
    assert_eq!(calls(&journal, "DescribeUser").len(), 4);
    assert_eq!(calls(&journal, "ListOrganizations").len(), 1);
    // One page of users, to find those in no file (none here: zed is DELETED).
    assert_eq!(calls(&journal, "ListUsers").len(), 1);
    assert_eq!(journal.len(), 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn json_plan_has_the_documented_keys() {
    let (emu, files) = with_acme_file(seed(), UpdateSemantics::Patch, DESIRED).await;
    let out = run(&emu, files.path(), &["plan", "--format", "json", "acme.yaml"]).await;
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(doc["format_version"], 1);
    assert_eq!(
        doc["summary"],
        serde_json::json!({"users": 4, "to_update": 2, "unchanged": 1, "errors": 1, "unmanaged": 0})
    );
    let alice = &doc["changes"][0];
    assert_eq!(alice["user"], "alice");
    assert_eq!(alice["source"], "acme.yaml:5");
    assert_eq!(
        alice["fields"],
        serde_json::json!([
            {"field": "display_name", "before": "Alice L", "after": "Alice Liddell"},
            {"field": "department", "before": "R&D", "after": ""},
            {"field": "hidden_from_global_address_list", "before": false, "after": true},
        ])
    );
    assert_eq!(doc["errors"][0]["user"], "ghost");
    assert_eq!(doc["errors"][0]["message"], "user not found");
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_codes_follow_the_reference() {
    let emu = emulator(seed(), UpdateSemantics::Patch).await;
    let files = Files::new();
    files
        .write("clean.yaml", "organization: acme\nusers:\n  bob:\n    display_name: Bob Builder\n");
    files.write("dirty.yaml", "organization: acme\nusers:\n  bob:\n    display_name: Robert\n");
    files.write("bad.yaml", "organization: acme\nusers:\n  bob:\n    DisplayName: Robert\n");
    let code = |args: &'static [&'static str]| {
        let emu = &emu;
        let files = &files;
        async move { run(emu, files.path(), args).await.status.code() }
    };
    assert_eq!(code(&["plan", "clean.yaml"]).await, Some(0));
    assert_eq!(code(&["plan", "--detailed-exitcode", "clean.yaml"]).await, Some(0));
    assert_eq!(code(&["plan", "dirty.yaml"]).await, Some(0));
    assert_eq!(code(&["plan", "--detailed-exitcode", "dirty.yaml"]).await, Some(2));
    emu.clear_journal();
    assert_eq!(code(&["plan", "--detailed-exitcode", "bad.yaml"]).await, Some(1));
    assert!(emu.journal().is_empty(), "bad input is found before any API call");
}

#[tokio::test(flavor = "multi_thread")]
async fn target_and_exclude_limit_what_is_described() {
    let (emu, files) = with_acme_file(seed(), UpdateSemantics::Patch, DESIRED).await;
    let out = run(
        &emu,
        files.path(),
        &["plan", "--target", "alice", "--target", "bob@acme.example", "acme.yaml"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let described: Vec<String> = calls(&emu.journal(), "DescribeUser")
        .iter()
        .map(|e| e.input["UserId"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(described.len(), 2);
    assert!(
        described.contains(&"alice".to_string())
            && described.contains(&"bob@acme.example".to_string())
    );

    emu.clear_journal();
    let out = run(&emu, files.path(), &["plan", "--exclude", "ghost", "acme.yaml"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(calls(&emu.journal(), "DescribeUser").len(), 3);

    emu.clear_journal();
    let out = run(&emu, files.path(), &["plan", "--target", "nobody", "acme.yaml"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--target nobody: no declared user has this key"),
        "{}",
        stderr(&out)
    );
    assert!(emu.journal().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn two_keys_for_one_user_and_deleted_users_are_errors() {
    let emu = emulator(seed(), UpdateSemantics::Patch).await;
    let files = Files::new();
    files.write(
        "acme.yaml",
        "organization: acme\nusers:\n  alice:\n    office: A\n  alice@acme.example:\n    office: B\n  zed: {}\n  bob: {}\n",
    );
    let out = run(&emu, files.path(), &["plan", "--format", "json", "acme.yaml"]).await;
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let errors = doc["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 3, "{doc:#}");
    let message = |user: &str| {
        errors
            .iter()
            .find(|e| e["user"] == user)
            .map(|e| e["message"].as_str().unwrap_or("").to_string())
    };
    assert!(message("alice").expect("alice").contains("`alice@acme.example` at acme.yaml:5"));
    assert!(message("alice@acme.example").expect("email").contains("`alice` at acme.yaml:3"));
    assert!(message("zed").expect("zed").contains("DELETED"));
    assert_eq!(doc["summary"]["unchanged"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_alias_is_an_error_entry_and_other_organizations_are_planned() {
    let (emu, files) = with_acme_file(
        seed(),
        UpdateSemantics::Patch,
        "organization: acme\nusers:\n  bob:\n    display_name: Robert\n",
    )
    .await;
    files.write("nope.yaml", "organization: nope\nusers:\n  x: {}\n");
    let out = run(&emu, files.path(), &["plan", "."]).await;
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("organization alias `nope` not found"), "{text}");
    assert!(text.contains("display_name"), "{text}");
    assert_eq!(calls(&emu.journal(), "ListOrganizations").len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn throttled_plans_still_describe_every_user_once() {
    let users: Vec<SeedUser> =
        (0..60).map(|i| user(&format!("user{i:02}"), &[(Office, "A")])).collect();
    let faults =
        Faults { throttle_rate: 0.2, server_error_rate: 0.05, rng_seed: 7, ..Faults::default() };
    let emu =
        emulator_with(Seed::default().organization(acme(users)), UpdateSemantics::Patch, faults)
            .await;
    let files = Files::new();
    let body: String = (0..60).map(|i| format!("  user{i:02}:\n    office: B\n")).collect();
    files.write("acme.yaml", &format!("organization: {ORG}\nusers:\n{body}"));
    let out = run(&emu, files.path(), &["plan", "--format", "json", "acme.yaml"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["summary"]["to_update"], 60);
    let journal = emu.journal();
    assert_eq!(ok_calls(&journal, "DescribeUser").len(), 60, "one successful describe per user");
    assert!(calls(&journal, "DescribeUser").len() > 60, "some were throttled and retried");
    assert!(calls(&journal, "UpdateUser").is_empty());
    assert!(calls(&journal, "ListOrganizations").is_empty(), "an id needs no ListOrganizations");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_throttled_call_is_retried_in_its_own_pacing_slot() {
    let faults = Faults { throttle_rate: 1.0, ..Faults::default() };
    let emu = emulator_with(
        Seed::default().organization(acme(vec![user("alice", &[(Office, "A")])])),
        UpdateSemantics::Patch,
        faults,
    )
    .await;
    let files = Files::new();
    files.write("acme.yaml", &format!("organization: {ORG}\nusers:\n  alice:\n    office: B\n"));
    let out = run(&emu, files.path(), &["--max-rps", "10", "plan", "acme.yaml"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let journal = emu.journal();
    let attempts = calls(&journal, "DescribeUser");
    assert_eq!(attempts.len(), 12, "every attempt the SDK makes, then the user fails");
    // At 10 calls per second each retry waits for a pacing slot of its own, 100 ms after the
    // attempt before it; the SDK's own backoff would start with 0–50 ms.
    for pair in attempts.windows(2) {
        let gap = pair[1].at.duration_since(pair[0].at).expect("journal in order");
        assert!(gap >= std::time::Duration::from_millis(95), "{gap:?} between attempts");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn saved_plan_is_private_and_complete() {
    let emu = emulator(seed(), UpdateSemantics::Patch).await;
    let files = Files::new();
    files.write(
        "acme.yaml",
        "organization: acme\nusers:\n  alice:\n    office: Lab\n    city: null\n  bob: {}\n",
    );
    let out =
        run(&emu, files.path(), &["plan", "--out", "plan.json", "--redact-all", "acme.yaml"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stdout(&out).contains("Lab"), "stdout is redacted");
    let path = files.path().join("plan.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("plan file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("JSON");
    assert_eq!(doc["tool_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["changes"][0]["fields"][0]["after"], "Lab", "the saved plan is not redacted");
    // What apply compares against is each field's `before`; nothing else of the live user is kept.
    assert_eq!(doc["changes"][0]["fields"][0]["before"], "HQ");
    assert_eq!(doc["changes"][0].get("observed"), None);
    assert_eq!(doc["unchanged"][0]["user"], "bob");
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_and_values_stay_out_of_logs() {
    const SECRET: &str = "wJalrXUtnFEMIK7MDENGbPxRfiCYdistinctSECRET";
    let emu = workmail_reconcile::emulator::Emulator::start(
        workmail_reconcile::emulator::EmulatorConfig {
            seed: seed(),
            secret_access_key: SECRET.into(),
            ..Default::default()
        },
    )
    .await
    .expect("emulator");
    let files = Files::new();
    files.write("acme.yaml", "organization: acme\nusers:\n  alice:\n    office: Secret Lab 42\n");
    for verbosity in ["-v", "-vv", "-vvv"] {
        let mut cmd = command(
            &emu.url(),
            files.path(),
            &[verbosity, "--log-format", "json", "plan", "acme.yaml"],
        );
        cmd.env("AWS_SECRET_ACCESS_KEY", SECRET);
        let out =
            tokio::task::spawn_blocking(move || cmd.output().expect("runs")).await.expect("join");
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let logs = stderr(&out);
        assert!(!logs.is_empty(), "{verbosity} logs something");
        assert!(!logs.contains(SECRET), "{verbosity}: the secret key is never logged");
        assert!(!logs.contains("Signature="), "{verbosity}: request signatures are never logged");
        if verbosity == "-vv" {
            assert!(logs.contains("Secret Lab 42"), "-vv asks for values in the debug log");
        }
        if verbosity == "-v" {
            assert!(!logs.contains("Secret Lab 42"), "values are not logged below -vv");
            assert!(
                logs.lines().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()),
                "--log-format json writes JSON lines"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_endpoint_comes_from_the_flag_or_the_standard_variables() {
    let (emu, files) =
        with_acme_file(seed(), UpdateSemantics::Patch, "organization: acme\nusers:\n  bob: {}\n")
            .await;
    let mut service_variable = command("", files.path(), &["plan", "acme.yaml"]);
    service_variable.env_remove("AWS_ENDPOINT_URL").env("AWS_ENDPOINT_URL_WORKMAIL", emu.url());
    let mut flag = command("", files.path(), &["--endpoint-url", &emu.url(), "plan", "acme.yaml"]);
    flag.env_remove("AWS_ENDPOINT_URL");
    for mut cmd in [service_variable, flag] {
        let out =
            tokio::task::spawn_blocking(move || cmd.output().expect("runs")).await.expect("join");
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    assert_eq!(calls(&emu.journal(), "DescribeUser").len(), 2);
}
