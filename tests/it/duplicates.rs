//! One user declared twice, however the files spell it; one file named twice; one user listed
//! twice in a saved plan; selection flags with a saved plan. Each through the real binary
//! against the emulator, with the journal showing what was (not) sent.

use crate::support::*;
use workmail_reconcile::emulator::{Emulator, Seed, UpdateSemantics};
use workmail_reconcile::model::attrs::Attribute::*;

fn seed() -> Seed {
    Seed::default().organization(acme(vec![
        user("alice", &[(Office, "Old")]),
        user("bob", &[(Office, "Old")]),
        user("carol", &[(Office, "Old")]),
    ]))
}

/// The emulator's user id of `name`.
fn id_of(emu: &Emulator, name: &str) -> String {
    emu.user(ORG, name).unwrap_or_else(|| panic!("user {name} exists")).id
}

/// The `UserId`s of every UpdateUser the emulator received.
fn updated_ids(emu: &Emulator) -> Vec<String> {
    calls(&emu.journal(), "UpdateUser")
        .iter()
        .map(|e| e.input["UserId"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Replace the user ids in `text` by `<id of NAME>`, so that expected output reads plainly.
fn named_ids(emu: &Emulator, text: &str) -> String {
    ["alice", "bob", "carol"]
        .iter()
        .fold(text.to_string(), |t, name| t.replace(&id_of(emu, name), &format!("<id of {name}>")))
}

/// Every spelling of one user that the files can disagree on: organization alias, alias in
/// another case, organization id; user name, email, user id; in one file and across files; two
/// and three places. Each case: the plan's text, exit 1, and no write. A user declared twice is
/// never also reported as in no file; the users no spelling declares are.
#[tokio::test(flavor = "multi_thread")]
async fn plan_reports_every_declaration_of_a_user_declared_under_several_spellings() {
    let emu = emulator(seed(), UpdateSemantics::Patch).await;
    let bob_id = id_of(&emu, "bob");
    // (case, files as (name, text), the expected plan)
    type Case = (&'static str, Vec<(&'static str, String)>, &'static str);
    let cases: Vec<Case> = vec![
        (
            "alias vs id, same key",
            vec![
                ("a.yaml", "organization: acme\nusers:\n  bob:\n    office: A\n".into()),
                ("b.yaml", format!("organization: {ORG}\nusers:\n  bob:\n    office: B\n")),
            ],
            "Organization acme (m-0123456789abcdef0123456789abcdef)
  ! bob (a.yaml:3): resolves to user <id of bob>, the same user as `bob` of organization `m-0123456789abcdef0123456789abcdef` at b.yaml:3
  ! bob (b.yaml:3): resolves to user <id of bob>, the same user as `bob` of organization `acme` at a.yaml:3
  ? 2 users in no file: alice, carol
Plan: 0 to update, 0 unchanged, 2 errors.
",
        ),
        (
            "id vs alias in other case, name vs email",
            vec![
                ("a.yaml", format!("organization: {ORG}\nusers:\n  bob:\n    office: A\n")),
                (
                    "b.yaml",
                    "organization: ACME\nusers:\n  bob@acme.example:\n    office: B\n".into(),
                ),
            ],
            "Organization acme (m-0123456789abcdef0123456789abcdef)
  ! bob (a.yaml:3): resolves to user <id of bob>, the same user as `bob@acme.example` of organization `ACME` at b.yaml:3
  ! bob@acme.example (b.yaml:3): resolves to user <id of bob>, the same user as `bob` of organization `m-0123456789abcdef0123456789abcdef` at a.yaml:3
  ? 2 users in no file: alice, carol
Plan: 0 to update, 0 unchanged, 2 errors.
",
        ),
        (
            "name, email and user id in one file; the other users still planned",
            vec![(
                "a.yaml",
                format!(
                    "organization: acme\nusers:\n  alice:\n    office: New\n  bob:\n    office: A\n  \
                     BOB@acme.example:\n    office: B\n  {bob_id}:\n    office: C\n"
                ),
            )],
            "Organization acme (m-0123456789abcdef0123456789abcdef)
  ~ alice (<id of alice>)
      office  \"Old\" -> \"New\"
  ! bob (a.yaml:5): resolves to user <id of bob>, the same user as `BOB@acme.example` at a.yaml:7, `<id of bob>` at a.yaml:9
  ! BOB@acme.example (a.yaml:7): resolves to user <id of bob>, the same user as `bob` at a.yaml:5, `<id of bob>` at a.yaml:9
  ! <id of bob> (a.yaml:9): resolves to user <id of bob>, the same user as `bob` at a.yaml:5, `BOB@acme.example` at a.yaml:7
  ? 1 user in no file: carol
Plan: 1 to update, 0 unchanged, 3 errors.
",
        ),
        (
            "three files, three spellings of each",
            vec![
                ("a.yaml", "organization: acme\nusers:\n  Bob:\n    office: A\n".into()),
                (
                    "b.yaml",
                    format!("organization: {ORG}\nusers:\n  bob@ACME.example:\n    office: B\n"),
                ),
                (
                    "c.yaml",
                    format!("organization: Acme\nusers:\n  carol: {{}}\n  {bob_id}:\n    office: C\n"),
                ),
            ],
            "Organization acme (m-0123456789abcdef0123456789abcdef)
  ! Bob (a.yaml:3): resolves to user <id of bob>, the same user as `<id of bob>` at c.yaml:4, `bob@ACME.example` of organization `m-0123456789abcdef0123456789abcdef` at b.yaml:3
  ! <id of bob> (c.yaml:4): resolves to user <id of bob>, the same user as `Bob` at a.yaml:3, `bob@ACME.example` of organization `m-0123456789abcdef0123456789abcdef` at b.yaml:3
  ! bob@ACME.example (b.yaml:3): resolves to user <id of bob>, the same user as `Bob` of organization `acme` at a.yaml:3, `<id of bob>` of organization `acme` at c.yaml:4
  ? 1 user in no file: alice
Plan: 0 to update, 1 unchanged, 3 errors.
",
        ),
    ];
    for (case, written, expected) in cases {
        let files = Files::new();
        for (name, text) in &written {
            files.write(name, text);
        }
        emu.clear_journal();
        let mut args = vec!["plan"];
        args.extend(written.iter().map(|(name, _)| *name));
        let out = run(&emu, files.path(), &args).await;
        assert_eq!(out.status.code(), Some(1), "{case}: {}", stderr(&out));
        assert_eq!(named_ids(&emu, &stdout(&out)), expected, "{case}");
        assert!(updated_ids(&emu).is_empty(), "{case}: plan never writes");
    }
}

/// The JSON plan carries each declaration's own place; the message names the others.
#[tokio::test(flavor = "multi_thread")]
async fn json_plan_names_both_places_of_a_duplicate() {
    let emu = emulator(seed(), UpdateSemantics::Patch).await;
    let files = Files::new();
    files.write("a.yaml", "organization: acme\nusers:\n  bob:\n    office: A\n");
    files.write("b.yaml", &format!("organization: {ORG}\nusers:\n  bob:\n    office: B\n"));
    let args = ["plan", "--format", "json", "--out", "plan.json", "a.yaml", "b.yaml"];
    let out = run(&emu, files.path(), &args).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let bob = id_of(&emu, "bob");
    let places: Vec<(&str, &str)> = doc["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (e["source"].as_str().unwrap_or_default(), e["message"].as_str().unwrap_or_default())
        })
        .collect();
    let from_a = format!(
        "resolves to user {bob}, the same user as `bob` of organization `{ORG}` at b.yaml:3"
    );
    let from_b = format!(
        "resolves to user {bob}, the same user as `bob` of organization `acme` at a.yaml:3"
    );
    assert_eq!(places, [("a.yaml:3", from_a.as_str()), ("b.yaml:3", from_b.as_str())]);
    assert_eq!(doc["changes"], serde_json::json!([]));
    let saved = files.read("plan.json");
    let saved: serde_json::Value = serde_json::from_str(&saved).expect("JSON");
    assert_eq!(
        saved["organizations"],
        serde_json::json!([{"id": ORG, "alias": "acme"}]),
        "one organization, listed once"
    );

    // Its two error entries for `bob` are what the planner writes, not a user listed twice:
    // the saved plan is read, and applying it writes nothing.
    emu.clear_journal();
    let out = run(&emu, files.path(), &["apply", "--plan", "plan.json", "--auto-approve"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).ends_with("Plan: 0 to update, 0 unchanged, 2 errors.\nNothing to apply.\n")
    );
    assert!(emu.journal().is_empty());
}

/// apply writes nothing for a user declared twice, still applies the others, and exits 1; a
/// second run does the same instead of flipping the value back.
#[tokio::test(flavor = "multi_thread")]
async fn apply_writes_nothing_for_a_user_declared_twice_and_applies_the_others() {
    let emu = emulator(seed(), UpdateSemantics::Replace).await;
    let files = Files::new();
    files.write(
        "a.yaml",
        "organization: acme\nusers:\n  alice:\n    office: New\n  bob:\n    office: A\n",
    );
    files.write(
        "b.yaml",
        &format!("organization: {ORG}\nusers:\n  bob@acme.example:\n    office: B\n"),
    );
    let bob = "  bob (a.yaml:5) not applied: resolves to user <id of bob>, the same user as \
               `bob@acme.example` of organization `m-0123456789abcdef0123456789abcdef` at b.yaml:3\n";
    let out = run(&emu, files.path(), &["apply", "--auto-approve", "a.yaml", "b.yaml"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = named_ids(&emu, &stdout(&out));
    assert!(report.contains("  alice (<id of alice>) updated: office\n"), "{report}");
    assert!(report.contains(bob), "{report}");
    assert_eq!(updated_ids(&emu), [id_of(&emu, "alice")], "no UpdateUser for bob");
    assert_eq!(live(&emu, "bob", Office), text("Old"));

    // Every later run says the same and writes nothing: no value flips back and forth.
    emu.clear_journal();
    let out = run(&emu, files.path(), &["apply", "--auto-approve", "a.yaml", "b.yaml"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let plan = named_ids(&emu, &stdout(&out));
    assert!(plan.contains("  ! bob (a.yaml:5): resolves to user <id of bob>"), "{plan}");
    assert!(
        plan.ends_with("Plan: 0 to update, 1 unchanged, 2 errors.\nNothing to apply.\n"),
        "{plan}"
    );
    assert!(updated_ids(&emu).is_empty());
    assert_eq!(live(&emu, "bob", Office), text("Old"));
    assert_eq!(live(&emu, "alice", Office), text("New"));
}

/// `acme` and `ACME` are one organization without asking the directory: `validate` finds the
/// duplicate offline, and `plan` refuses it before any call.
#[tokio::test(flavor = "multi_thread")]
async fn an_alias_in_another_case_is_the_same_organization_offline() {
    let emu = emulator(seed(), UpdateSemantics::Patch).await;
    let files = Files::new();
    files.write("a.yaml", "organization: acme\nusers:\n  bob:\n    office: A\n");
    files.write("b.yaml", "organization: ACME\nusers:\n  carol: {}\n  Bob:\n    office: B\n");
    let out = run(&emu, files.path(), &["validate", "a.yaml", "b.yaml"]).await;
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(stderr(&out));
    let out = run(&emu, files.path(), &["plan", "a.yaml", "b.yaml"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("user `Bob` is declared twice in organization `ACME`"));
    assert!(emu.journal().is_empty(), "found before any call");
}

/// A file named twice — the same path, `./` before it, a directory and a file in it, a symlink
/// to it — is read once and is never a duplicate of itself.
#[tokio::test(flavor = "multi_thread")]
async fn a_file_named_twice_is_read_once() {
    let emu = emulator(seed(), UpdateSemantics::Patch).await;
    let files = Files::new();
    files.write("users/a.yaml", "organization: acme\nusers:\n  bob:\n    office: New\n");
    files.write("users/b.yaml", "organization: acme\nusers:\n  carol: {}\n");
    const ONE: &str = "Valid: 1 file, 1 organization, 1 user.\n";
    const BOTH: &str = "Valid: 2 files, 1 organization, 2 users.\n";
    let mut cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["users/a.yaml", "users/a.yaml"], ONE),
        (vec!["users/a.yaml", "./users/a.yaml", "users/../users/a.yaml"], ONE),
        (vec!["users", "users/a.yaml"], BOTH),
        (vec!["users/b.yaml", "users", "users/"], BOTH),
    ];
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("a.yaml", files.path().join("users/link.yaml"))
            .expect("symlink");
        std::os::unix::fs::symlink("users", files.path().join("again")).expect("symlink");
        cases.push((vec!["users"], BOTH));
        cases.push((vec!["users/a.yaml", "again/link.yaml"], ONE));
        cases.push((vec!["users/a.yaml", "again/link.yaml", "again"], BOTH));
    }
    for (paths, expected) in cases {
        let mut args = vec!["validate"];
        args.extend(&paths);
        let out = run(&emu, files.path(), &args).await;
        assert_eq!(
            (out.status.code(), stdout(&out).as_str(), stderr(&out).as_str()),
            (Some(0), expected, ""),
            "{paths:?}"
        );
    }
    let out = run(&emu, files.path(), &["plan", "users/a.yaml", "users", "./users/a.yaml"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let journal = emu.journal();
    let mut described: Vec<&str> = calls(&journal, "DescribeUser")
        .iter()
        .map(|e| e.input["UserId"].as_str().unwrap_or_default())
        .collect();
    described.sort_unstable();
    assert_eq!(described, ["bob", "carol"], "each user described once");
}

/// Write a plan of `a.yaml` to `plan.json` and return it as JSON for editing.
async fn saved_plan(emu: &Emulator, files: &Files) -> serde_json::Value {
    let out = run(emu, files.path(), &["plan", "--out", "plan.json", "a.yaml"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = files.read("plan.json");
    serde_json::from_str(&text).expect("JSON")
}

/// A saved plan listing one user twice is refused whole before any call: the same entry
/// copied, the same user id under another key, the same key in another case, one user both
/// changed and unchanged.
#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_listing_a_user_twice_is_refused_before_any_call() {
    let emu = emulator(seed(), UpdateSemantics::Patch).await;
    let files = Files::new();
    files.write(
        "a.yaml",
        "organization: acme\nusers:\n  alice:\n    office: New\n  bob:\n    office: New\n  carol:\n    office: Old\n",
    );
    let plan = saved_plan(&emu, &files).await;
    let bob = id_of(&emu, "bob");
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut plan = plan.clone();
        f(&mut plan);
        plan
    };
    let cases = [
        (
            "the same change twice",
            edit(&|p| {
                let bob = p["changes"][1].clone();
                p["changes"].as_array_mut().expect("changes").push(bob);
            }),
            format!(
                "user `bob` is listed twice in organization {ORG}, at changes[1] (a.yaml:5) and at changes[2] (a.yaml:5) (same user id {bob})"
            ),
        ),
        (
            "the same user id under another key",
            edit(&|p| {
                let mut bob = p["changes"][1].clone();
                bob["user"] = "bob@acme.example".into();
                bob["source"] = "b.yaml:3".into();
                p["changes"].as_array_mut().expect("changes").insert(0, bob);
            }),
            format!(
                "user `bob` is listed twice in organization {ORG}, at changes[0] (b.yaml:3) and at changes[2] (a.yaml:5) (same user id {bob})"
            ),
        ),
        (
            "the same key in another case",
            edit(&|p| {
                let mut bob = p["changes"][1].clone();
                bob["user"] = "BOB".into();
                bob["user_id"] = "00000000-0000-0000-0000-000000000000".into();
                p["changes"].as_array_mut().expect("changes").push(bob);
            }),
            format!(
                "user `BOB` is listed twice in organization {ORG}, at changes[1] (a.yaml:5) and at changes[2] (a.yaml:5) (same key, compared case-insensitively)"
            ),
        ),
        (
            "changed and unchanged",
            edit(&|p| {
                let mut bob = p["changes"][1].clone();
                bob.as_object_mut().expect("object").remove("fields");
                p["unchanged"].as_array_mut().expect("unchanged").push(bob);
            }),
            format!(
                "user `bob` is listed twice in organization {ORG}, at changes[1] (a.yaml:5) and at unchanged[1] (a.yaml:5) (same user id {bob})"
            ),
        ),
    ];
    for (case, plan, expected) in cases {
        std::fs::write(files.path().join("edited.json"), plan.to_string()).expect("write");
        emu.clear_journal();
        let out =
            run(&emu, files.path(), &["apply", "--plan", "edited.json", "--auto-approve"]).await;
        assert_eq!(out.status.code(), Some(1), "{case}");
        let expected = format!(
            "edited.json: {expected}; a saved plan lists each user once, so this one was edited \
             or damaged: plan again"
        );
        assert!(
            unwrapped(&stderr(&out)).contains(&unwrapped(&expected)),
            "{case}: {}",
            stderr(&out)
        );
        assert!(emu.journal().is_empty(), "{case}: nothing sent");
    }
    // The plan as written applies.
    let out = run(&emu, files.path(), &["apply", "--plan", "plan.json", "--auto-approve"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(updated_ids(&emu).len(), 2);
}

/// `apply --plan` refuses `--target`/`--exclude` before any call; every other flag of apply
/// takes effect on a saved plan (safety limits, `--force`, redaction).
#[tokio::test(flavor = "multi_thread")]
async fn apply_of_a_saved_plan_accepts_no_flag_it_would_ignore() {
    let emu = emulator(seed(), UpdateSemantics::Patch).await;
    let files = Files::new();
    files.write(
        "a.yaml",
        "organization: acme\nusers:\n  alice:\n    office: Secret-A\n  bob:\n    office: Secret-B\n",
    );
    saved_plan(&emu, &files).await;
    for selection in [
        vec!["--target", "alice"],
        vec!["--exclude", "bob"],
        vec!["--target", "alice", "--exclude", "bob"],
    ] {
        emu.clear_journal();
        let mut args = vec!["apply", "--plan", "plan.json", "--auto-approve"];
        args.extend(&selection);
        let out = run(&emu, files.path(), &args).await;
        assert_eq!(out.status.code(), Some(1), "{selection:?}");
        let expected = format!(
            "{} cannot be used with --plan: a saved plan is applied whole, as it was reviewed; \
             nothing was applied help: select when planning: `plan --target USER --out \
             PLAN.json`, then `apply --plan PLAN.json`",
            selection.join(" ")
        );
        assert!(unwrapped(&stderr(&out)).contains(&unwrapped(&expected)), "{}", stderr(&out));
        assert!(stdout(&out).is_empty());
        assert!(emu.journal().is_empty(), "{selection:?}: refused before any call");
    }

    emu.clear_journal();
    let args = [
        "apply",
        "--plan",
        "plan.json",
        "--auto-approve",
        "--max-changes",
        "1",
        "--redact",
        "office",
    ];
    let out = run(&emu, files.path(), &args).await;
    assert_eq!(out.status.code(), Some(3), "--max-changes applies to a saved plan");
    assert!(
        stderr(&out).contains("2 users would change, more than --max-changes 1"),
        "{}",
        stderr(&out)
    );
    assert!(!stdout(&out).contains("Secret"), "--redact applies to a saved plan: {}", stdout(&out));
    assert!(stdout(&out).contains("(redacted"), "{}", stdout(&out));
    assert!(updated_ids(&emu).is_empty());

    let args = ["apply", "--plan", "plan.json", "--auto-approve", "--max-changes", "1", "--force"];
    let out = run(&emu, files.path(), &args).await;
    assert_eq!(out.status.code(), Some(0), "--force applies to a saved plan: {}", stderr(&out));
    assert_eq!(updated_ids(&emu).len(), 2);
}
