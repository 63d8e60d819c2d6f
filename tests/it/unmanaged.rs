//! Users in no file against the emulator: which live users are unmanaged (DELETED users and the
//! SYSTEM_USER and RESOURCE roles never are, DISABLED users are), how each format shows them,
//! `--unmanaged report|ignore|error`, `--target` and `--exclude`, several organizations, saved
//! plans, and adopting them with `export --skip-declared` — with the journal showing every
//! ListUsers page sent, and none when none should be.

use crate::support::*;
use workmail_reconcile::directory::{
    ConnectionFailure, Directory, DirectoryError, Limiter, SdkDirectory, UpdateRequest,
};
use workmail_reconcile::emulator::{Emulator, Seed, SeedOrganization, SeedUser, UpdateSemantics};
use workmail_reconcile::model::attrs::Attribute::*;
use workmail_reconcile::model::live::{ListedUser, ObservedUser, OrganizationSummary, UserState};
use workmail_reconcile::reconcile::{Reconciler, UnmanagedPolicy};

/// acme: alice and bob (declared), dan and eve (in no file; eve DISABLED and never registered),
/// and three users that can never be managed.
fn seed() -> Seed {
    Seed::default().organization(acme(vec![
        user("alice", &[(DisplayName, "Alice L")]),
        user("bob", &[(DisplayName, "Bob Builder")]),
        user("dan", &[(DisplayName, "Dan")]),
        SeedUser::new("eve").state(UserState::Disabled),
        SeedUser::new("postmaster").email("postmaster@acme.example").role("SYSTEM_USER"),
        SeedUser::new("room").email("room@acme.example").role("RESOURCE"),
        SeedUser::new("gone").email("gone@acme.example").state(UserState::Deleted),
    ]))
}

const DESIRED: &str = "organization: acme
users:
  alice:
    display_name: Alice Liddell
  bob@acme.example:
    display_name: Bob Builder
";

fn id(emu: &Emulator, name: &str) -> String {
    emu.user(ORG, name).unwrap_or_else(|| panic!("user {name} exists")).id
}

/// `stdout` with every seeded user id of acme replaced by `<id of NAME>`.
fn named(emu: &Emulator, text: &str) -> String {
    emu.users(ORG)
        .iter()
        .fold(text.to_string(), |t, u| t.replace(&u.id, &format!("<id of {}>", u.name)))
}

/// `plan acme.yaml ARGS` of `desired` as `acme.yaml`: it exits 0; its stdout.
async fn plan_acme(emu: &Emulator, desired: &str, args: &[&str]) -> String {
    let files = Files::new();
    files.write("acme.yaml", desired);
    let mut line = vec!["plan", "acme.yaml"];
    line.extend_from_slice(args);
    let out = run(emu, files.path(), &line).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out)
}

/// The MaxResults and whether a NextToken was sent, per ListUsers call.
fn list_users_pages(emu: &Emulator) -> Vec<(serde_json::Value, bool)> {
    calls(&emu.journal(), "ListUsers")
        .iter()
        .map(|e| (e.input["MaxResults"].clone(), e.input.get("NextToken").is_some()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_lists_users_in_no_file_after_their_organization_in_text() {
    let emu = emulator(seed(), UpdateSemantics::Patch).await;
    let files = Files::new();
    files.write("acme.yaml", DESIRED);
    let out = run(&emu, files.path(), &["plan", "acme.yaml"]).await;
    assert_eq!(out.status.code(), Some(0), "report is not an error: {}", stderr(&out));
    assert_eq!(
        named(&emu, &stdout(&out)),
        "Organization acme (m-0123456789abcdef0123456789abcdef)
  ~ alice (<id of alice>)
      display_name  \"Alice L\" -> \"Alice Liddell\"
  ? 2 users in no file: dan, eve
Plan: 1 to update, 1 unchanged, 0 errors.
"
    );
    // One page of 100; nothing written.
    assert_eq!(list_users_pages(&emu), [(serde_json::json!(100), false)]);
    assert!(calls(&emu.journal(), "UpdateUser").is_empty());

    // A plan without changes still says who is in no file.
    let none = Files::new();
    none.write("acme.yaml", "organization: acme\nusers:\n  bob: {}\n  eve: {}\n  dan: {}\n");
    let out = run(&emu, none.path(), &["plan", "acme.yaml", "--detailed-exitcode"]).await;
    assert_eq!(out.status.code(), Some(0), "users in no file are no change: {}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "Organization acme (m-0123456789abcdef0123456789abcdef)
  (no changes)
  ? 1 user in no file: alice
Plan: 0 to update, 3 unchanged, 0 errors.
"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn json_and_markdown_list_every_user_in_no_file() {
    let emu = emulator(seed(), UpdateSemantics::Patch).await;
    let files = Files::new();
    files.write("acme.yaml", DESIRED);
    let out = run(&emu, files.path(), &["plan", "acme.yaml", "--format", "json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        doc["unmanaged"],
        serde_json::json!([
            {"organization_id": ORG, "user": "dan", "user_id": id(&emu, "dan"),
             "email": "dan@acme.example", "state": "ENABLED"},
            {"organization_id": ORG, "user": "eve", "user_id": id(&emu, "eve"),
             "email": null, "state": "DISABLED"},
        ])
    );
    assert_eq!(
        doc["summary"],
        serde_json::json!({"users": 2, "to_update": 1, "unchanged": 1, "errors": 0, "unmanaged": 2})
    );
    let keys: Vec<&String> = doc.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["format_version", "changes", "errors", "unmanaged", "summary"]);

    let out = run(&emu, files.path(), &["plan", "acme.yaml", "--format", "markdown"]).await;
    let markdown = named(&emu, &stdout(&out));
    let expected = "? 2 users in no file: <code>dan</code>, <code>eve</code>

<details><summary>2 users in no file</summary>

| user | user id | email | state |
|---|---|---|---|
| <code>dan</code> | <code><id of dan></code> | <code>dan@acme.example</code> | ENABLED |
| <code>eve</code> | <code><id of eve></code> |  | DISABLED |

</details>
";
    assert!(markdown.ends_with(expected), "{markdown}");
}

/// 250 live users: three ListUsers pages of at most 100, and the text names ten.
#[tokio::test(flavor = "multi_thread")]
async fn more_than_two_pages_are_all_read() {
    let users = (0..250).map(|i| user(&format!("user{i:03}"), &[])).collect();
    let emu = emulator(Seed::default().organization(acme(users)), UpdateSemantics::Patch).await;
    let desired = "organization: acme\nusers:\n  user000: {}\n  user249: {}\n";
    assert_eq!(
        plan_acme(&emu, desired, &[]).await,
        "Organization acme (m-0123456789abcdef0123456789abcdef)
  (no changes)
  ? 248 users in no file: user001, user002, user003, user004, user005, user006, user007, \
         user008, user009, user010 and 238 more
Plan: 0 to update, 2 unchanged, 0 errors.
"
    );
    let hundred = serde_json::json!(100);
    assert_eq!(
        list_users_pages(&emu),
        [(hundred.clone(), false), (hundred.clone(), true), (hundred, true)]
    );
    let json = plan_acme(&emu, desired, &["--format", "json"]).await;
    let doc: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(doc["summary"]["unmanaged"], 248);
    assert_eq!(doc["unmanaged"].as_array().map(Vec::len), Some(248));
}

#[tokio::test(flavor = "multi_thread")]
async fn ignore_and_target_make_no_list_users_call() {
    let emu = emulator(seed(), UpdateSemantics::Patch).await;
    let files = Files::new();
    files.write("acme.yaml", DESIRED);
    for args in [
        vec!["plan", "acme.yaml", "--unmanaged", "ignore", "--format", "json"],
        vec!["plan", "acme.yaml", "--target", "alice", "--format", "json"],
        vec!["plan", "acme.yaml", "--target", "alice", "--unmanaged", "error", "--format", "json"],
    ] {
        emu.clear_journal();
        let out = run(&emu, files.path(), &args).await;
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(doc["unmanaged"], serde_json::Value::Null, "{args:?}: not looked for");
        assert_eq!(doc["summary"]["unmanaged"], serde_json::Value::Null, "{args:?}");
        assert!(list_users_pages(&emu).is_empty(), "{args:?}: no ListUsers");
        assert!(!calls(&emu.journal(), "DescribeUser").is_empty(), "{args:?}: still planned");
    }
    let out = run(&emu, files.path(), &["plan", "acme.yaml", "--unmanaged", "ignore"]).await;
    assert!(!stdout(&out).contains("in no file"), "{}", stdout(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn error_makes_each_user_in_no_file_an_error_entry_and_apply_applies_the_rest() {
    let emu = emulator(seed(), UpdateSemantics::Patch).await;
    let files = Files::new();
    files.write("acme.yaml", DESIRED);
    let out = run(&emu, files.path(), &["plan", "acme.yaml", "--unmanaged", "error"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        named(&emu, &stdout(&out)),
        "Organization acme (m-0123456789abcdef0123456789abcdef)
  ~ alice (<id of alice>)
      display_name  \"Alice L\" -> \"Alice Liddell\"
  ! dan (acme.yaml:1): user <id of dan> (dan@acme.example) is in no file
  ! eve (acme.yaml:1): user <id of eve> is in no file
  ? 2 users in no file: dan, eve
Plan: 1 to update, 1 unchanged, 2 errors.
"
    );
    let json =
        run(&emu, files.path(), &["plan", "acme.yaml", "--unmanaged", "error", "--format", "json"])
            .await;
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(
        doc["summary"],
        serde_json::json!({"users": 2, "to_update": 1, "unchanged": 1, "errors": 2, "unmanaged": 2}),
        "users counts declared users only"
    );

    // As with any error entry: the declared changes are applied, the exit code is 1.
    let out =
        run(&emu, files.path(), &["apply", "acme.yaml", "--unmanaged", "error", "--auto-approve"])
            .await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        named(&emu, &stdout(&out)).ends_with(
            "  alice (<id of alice>) updated: display_name
  dan (acme.yaml:1) not applied: user <id of dan> (dan@acme.example) is in no file
  eve (acme.yaml:1) not applied: user <id of eve> is in no file
Apply: 1 updated, 1 unchanged, 0 conflicts, 0 failed, 2 errors.
"
        ),
        "{}",
        stdout(&out)
    );
    assert_eq!(live(&emu, "alice", DisplayName), text("Alice Liddell"));
    assert_eq!(calls(&emu.journal(), "UpdateUser").len(), 1, "users in no file are never written");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_excluded_user_is_declared_whichever_spelling_its_file_uses() {
    let emu = emulator(seed(), UpdateSemantics::Patch).await;
    let files = Files::new();
    files.write("a.yaml", &format!("organization: {ORG}\nusers:\n  alice: {{}}\n  eve: {{}}\n"));
    // Every user of this file is excluded: its organization (the same one, by alias) is planned
    // once, and the excluded users are still declared.
    files.write("b.yaml", "organization: ACME\nusers:\n  dan: {}\n");
    let out = run(&emu, files.path(), &["plan", "a.yaml", "b.yaml", "--exclude", "dan"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "Organization acme (m-0123456789abcdef0123456789abcdef)
  (no changes)
  ? 1 user in no file: bob
Plan: 0 to update, 2 unchanged, 0 errors.
"
    );
    let out = run(&emu, files.path(), &["plan", "a.yaml", "b.yaml", "--exclude", "eve"]).await;
    assert!(stdout(&out).contains("  ? 1 user in no file: bob\n"), "{}", stdout(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn each_organization_lists_its_own_users_however_the_files_name_it() {
    let globex = SeedOrganization::new(ORG2, Some("globex"), "globex.example")
        .user(SeedUser::new("hank").email("hank@globex.example"))
        .user(SeedUser::new("homer").email("homer@globex.example"));
    let emu = emulator(seed().organization(globex), UpdateSemantics::Patch).await;
    let files = Files::new();
    // acme by alias in one file and by id in another; globex by alias.
    files.write("a.yaml", "organization: Acme\nusers:\n  alice: {}\n");
    files.write("b.yaml", &format!("organization: {ORG}\nusers:\n  BOB@ACME.EXAMPLE: {{}}\n"));
    files.write("g.yaml", "organization: globex\nusers:\n  hank: {}\n");
    let out = run(&emu, files.path(), &["plan", "a.yaml", "b.yaml", "g.yaml"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "Organization acme (m-0123456789abcdef0123456789abcdef)
  (no changes)
  ? 2 users in no file: dan, eve

Organization globex (m-fedcba9876543210fedcba9876543210)
  (no changes)
  ? 1 user in no file: homer
Plan: 0 to update, 3 unchanged, 0 errors.
"
    );
    let journal = emu.journal();
    let listed: Vec<&str> = calls(&journal, "ListUsers")
        .iter()
        .map(|e| e.input["OrganizationId"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(listed.len(), 2, "each organization listed once: {listed:?}");
    assert!(listed.contains(&ORG) && listed.contains(&ORG2), "{listed:?}");
    assert_eq!(calls(&journal, "ListOrganizations").len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_keeps_its_users_in_no_file_and_apply_does_not_list_again() {
    let emu = emulator(seed(), UpdateSemantics::Patch).await;
    let files = Files::new();
    files.write("acme.yaml", DESIRED);
    let out = run(&emu, files.path(), &["plan", "acme.yaml", "--out", "plan.json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let saved: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(files.path().join("plan.json")).expect("plan"),
    )
    .expect("JSON");
    assert_eq!(saved["unmanaged"][0]["user"], "dan");
    assert_eq!(saved["summary"]["unmanaged"], 2);

    let refused =
        run(&emu, files.path(), &["apply", "--plan", "plan.json", "--unmanaged", "ignore"]).await;
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("--unmanaged ignore cannot be used with --plan"),
        "{}",
        stderr(&refused)
    );

    emu.clear_journal();
    let out = run(&emu, files.path(), &["apply", "--plan", "plan.json", "--auto-approve"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("  ? 2 users in no file: dan, eve\n"), "{}", stdout(&out));
    assert!(list_users_pages(&emu).is_empty(), "the saved plan's list is shown, not made again");
}

/// `export --skip-declared` writes exactly the users the plan lists as in no file; the plan of
/// the files and the written file is then clean, in every export format's choice of users.
#[tokio::test(flavor = "multi_thread")]
async fn export_skip_declared_adopts_the_users_in_no_file_in_one_file() {
    let emu = emulator(seed(), UpdateSemantics::Patch).await;
    let files = Files::new();
    files.write(
        "users/acme.yaml",
        "organization: acme\nusers:\n  alice:\n    display_name: Alice L\n  bob@acme.example: {}\n",
    );
    let out = run(
        &emu,
        files.path(),
        &["export", "--organization", ORG, "--skip-declared", "users", "--out", "adopted.yaml"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).ends_with(&format!(
            "Exported 2 users of {ORG} (3 left out, 2 declared in the files).\n"
        )),
        "{}",
        stderr(&out)
    );
    let yaml = std::fs::read_to_string(files.path().join("adopted.yaml")).expect("written");
    assert_eq!(
        yaml,
        format!(
            "# Exported by workmail-reconcile from organization {ORG}.
# Left out, because they cannot be managed:
#   gone: DELETED users cannot be managed
#   postmaster: role SYSTEM_USER cannot be updated through the API
#   room: role RESOURCE cannot be updated through the API
# Left out, because the files given to --skip-declared declare them: 2 users.
organization: {ORG}
users:
  dan:
    display_name: Dan
    hidden_from_global_address_list: false
    role: USER
    aliases: []
    groups: []
    mailbox_quota_mb: 51200
  # DISABLED: not registered to WorkMail; attributes are still managed
  eve:
    hidden_from_global_address_list: false
    role: USER
    aliases: []
    groups: []
"
        )
    );
    // Only dan and eve were described: every declared key named a listed user.
    let described: Vec<String> = calls(&emu.journal(), "DescribeUser")
        .iter()
        .map(|e| e.input["UserId"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(described.len(), 2, "{described:?}");

    std::fs::rename(files.path().join("adopted.yaml"), files.path().join("users/adopted.yaml"))
        .expect("move");
    let plan = run(&emu, files.path(), &["plan", "users", "--format", "json"]).await;
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let doc: serde_json::Value = serde_json::from_slice(&plan.stdout).expect("JSON");
    assert_eq!(
        doc["summary"],
        serde_json::json!({"users": 4, "to_update": 0, "unchanged": 4, "errors": 0, "unmanaged": 0})
    );

    // The CSV formats choose the same users; nobody is left once all are declared.
    for format in ["csv", "m365-csv"] {
        let out = run(
            &emu,
            files.path(),
            &[
                "export",
                "--organization",
                "acme",
                "--format",
                format,
                "--skip-declared",
                "users/acme.yaml",
            ],
        )
        .await;
        assert_eq!(out.status.code(), Some(0), "{format}: {}", stderr(&out));
        let written = stdout(&out);
        let first_cells: Vec<&str> =
            written.lines().skip(1).map(|row| row.split(',').next().unwrap_or_default()).collect();
        match format {
            "csv" => assert_eq!(first_cells, [id(&emu, "dan"), id(&emu, "eve")], "{format}"),
            // The template needs an email and a display name: eve has neither.
            _ => assert_eq!(first_cells, ["dan@acme.example"], "{format}"),
        }
        let all = run(
            &emu,
            files.path(),
            &["export", "--organization", "acme", "--format", format, "--skip-declared", "users"],
        )
        .await;
        assert_eq!(stdout(&all).lines().count(), 1, "{format}: the header only");
    }
}

/// A directory that answers DescribeUser of some keys with a failure, or as if the key were
/// another user's (a key only DescribeUser resolves, such as an alias address), and passes
/// every other call to the real client.
#[derive(Clone)]
struct Tampered {
    inner: SdkDirectory,
    failing: &'static [&'static str],
    aliases: &'static [(&'static str, &'static str)],
    list_fails: bool,
}

impl Directory for Tampered {
    async fn list_organizations(&self) -> Result<Vec<OrganizationSummary>, DirectoryError> {
        self.inner.list_organizations().await
    }
    async fn list_users(&self, organization_id: &str) -> Result<Vec<ListedUser>, DirectoryError> {
        self.inner.list_users(organization_id).await
    }
    async fn list_users_pages(
        &self,
        organization_id: &str,
        on_page: impl FnMut(Vec<ListedUser>) + Send,
    ) -> Result<(), DirectoryError> {
        if self.list_fails {
            return Err(DirectoryError::Service {
                code: "ServiceUnavailable".into(),
                message: "try again later".into(),
            });
        }
        self.inner.list_users_pages(organization_id, on_page).await
    }
    async fn describe_user(&self, org: &str, user: &str) -> Result<ObservedUser, DirectoryError> {
        if self.failing.contains(&user) {
            return Err(DirectoryError::Service {
                code: "InternalFailure".into(),
                message: "try again later".into(),
            });
        }
        let user = self.aliases.iter().find(|(alias, _)| *alias == user).map_or(user, |(_, to)| to);
        self.inner.describe_user(org, user).await
    }
    async fn update_user(&self, request: &UpdateRequest) -> Result<(), DirectoryError> {
        self.inner.update_user(request).await
    }

    workmail_reconcile::forward_mailbox_calls!(inner);
    fn connection_failure(&self) -> Option<&ConnectionFailure> {
        self.inner.connection_failure()
    }
}

fn tampered(emu: &Emulator) -> Tampered {
    Tampered {
        inner: SdkDirectory::new(emu.sdk_config(), Limiter::new(4, None)),
        failing: &[],
        aliases: &[],
        list_fails: false,
    }
}

/// A declared user whose DescribeUser failed is an error entry, never also a user in no file;
/// a user declared by a key only DescribeUser resolves is declared too.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_or_aliased_describe_never_makes_a_declared_user_unmanaged() {
    let emu = emulator(seed(), UpdateSemantics::Patch).await;
    let desired = workmail_reconcile::spec::load_str(
        "acme.yaml",
        "organization: acme\nusers:\n  alice: {}\n  BOB@acme.example: {}\n  daniel@acme.example: {}\n",
    )
    .expect("valid");
    let directory = Tampered {
        failing: &["alice", "BOB@acme.example"],
        aliases: &[("daniel@acme.example", "dan")],
        ..tampered(&emu)
    };
    let plan = Reconciler::new(directory, 8).plan(&desired, |_| ()).await.expect("answers").plan;
    let errors: Vec<(Option<&str>, &str)> =
        plan.errors.iter().map(|e| (e.user.as_deref(), e.message.as_str())).collect();
    assert_eq!(
        errors,
        [
            (Some("alice"), "InternalFailure: try again later"),
            (Some("BOB@acme.example"), "InternalFailure: try again later")
        ]
    );
    let unmanaged: Vec<&str> = plan.unmanaged.iter().flatten().map(|u| u.user.as_str()).collect();
    assert_eq!(unmanaged, ["eve"], "alice and bob failed, dan answered for daniel@: all declared");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_listing_is_an_organization_error_and_the_plan_goes_on() {
    let emu = emulator(seed(), UpdateSemantics::Patch).await;
    let desired = workmail_reconcile::spec::load_str("acme.yaml", DESIRED).expect("valid");
    let directory = Tampered { list_fails: true, ..tampered(&emu) };
    for policy in [UnmanagedPolicy::Report, UnmanagedPolicy::Error] {
        let engine = Reconciler::new(directory.clone(), 8).with_unmanaged(policy);
        let plan = engine.plan(&desired, |_| ()).await.expect("answers").plan;
        assert_eq!(plan.changes.len(), 1, "{policy:?}: the plan goes on");
        let errors: Vec<(Option<&str>, &str, &str)> = plan
            .errors
            .iter()
            .map(|e| (e.user.as_deref(), e.source.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(
            errors,
            [(
                None,
                "acme.yaml:1",
                "cannot look for users in no file: ListUsers failed: ServiceUnavailable: try again later"
            )],
            "{policy:?}"
        );
        assert_eq!(plan.unmanaged, Some(Vec::new()), "{policy:?}");
    }
}

/// The files of `--skip-declared` are checked before any call, as plan checks them.
#[tokio::test(flavor = "multi_thread")]
async fn export_skip_declared_refuses_invalid_files_before_any_call() {
    let emu = emulator(seed(), UpdateSemantics::Patch).await;
    let files = Files::new();
    files.write("users/acme.yaml", "organization: acme\nusers:\n  alice:\n    DisplayName: A\n");
    let out =
        run(&emu, files.path(), &["export", "--organization", "acme", "--skip-declared", "users"])
            .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("users/acme.yaml:4:5"), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert!(emu.journal().is_empty(), "no call");
}

/// An organization declared with `users: {}` is planned: every manageable live user is in no
/// file — the first step of adopting an organization — and nothing is described or written.
#[tokio::test(flavor = "multi_thread")]
async fn an_organization_declared_with_no_user_lists_all_its_users() {
    let emu = emulator(seed(), UpdateSemantics::Patch).await;
    let desired = "organization: acme\nusers: {}\n";
    assert_eq!(
        plan_acme(&emu, desired, &[]).await,
        "Organization acme (m-0123456789abcdef0123456789abcdef)
  (no changes)
  ? 4 users in no file: alice, bob, dan, eve
Plan: 0 to update, 0 unchanged, 0 errors.
"
    );
    assert_eq!(list_users_pages(&emu), [(serde_json::json!(100), false)]);
    assert!(calls(&emu.journal(), "DescribeUser").is_empty());
    // With --unmanaged ignore there is nothing to ask the directory at all.
    emu.clear_journal();
    plan_acme(&emu, desired, &["--unmanaged", "ignore"]).await;
    assert!(calls(&emu.journal(), "ListUsers").is_empty());
}

/// Users in no file are not declared users, even as the error entries of `--unmanaged error`:
/// 10 of 10 declared users changing is over the default share (30 % of the declared users)
/// whether the plan is applied at once or saved and applied, and the refusal counts 10.
#[tokio::test(flavor = "multi_thread")]
async fn users_in_no_file_never_count_as_declared_for_the_safety_limit() {
    let (seed, desired) = declared_and_in_no_file(10, 30);
    let emu = emulator(seed, UpdateSemantics::Patch).await;
    let files = Files::new();
    files.write("acme.yaml", &desired);
    let refusal = "refusing to apply: 10 of the 10 users declared for organization acme \
                   (m-0123456789abcdef0123456789abcdef) would change, more than 30%";
    for unmanaged in ["report", "error"] {
        let line = ["apply", "acme.yaml", "--auto-approve", "--unmanaged", unmanaged];
        let out = run(&emu, files.path(), &line).await;
        assert_eq!(out.status.code(), Some(3), "{unmanaged}: {}", stdout(&out));
        assert!(stderr(&out).contains(refusal), "{unmanaged}: {}", stderr(&out));
    }
    let line = ["plan", "acme.yaml", "--unmanaged", "error", "--out", "plan.json"];
    let out = run(&emu, files.path(), &line).await;
    assert_eq!(out.status.code(), Some(1), "30 error entries: {}", stderr(&out));
    assert!(stdout(&out).ends_with("Plan: 10 to update, 0 unchanged, 30 errors.\n"));
    let saved: serde_json::Value =
        serde_json::from_str(&files.read("plan.json")).expect("the saved plan");
    assert_eq!(saved["summary"]["users"], 10);
    let out = run(&emu, files.path(), &["apply", "--plan", "plan.json", "--auto-approve"]).await;
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    assert!(stderr(&out).contains(refusal), "{}", stderr(&out));
    assert!(calls(&emu.journal(), "UpdateUser").is_empty(), "nothing was changed");
    // The limit still lets through what it should: --max-changes replaces the share.
    let line =
        ["apply", "acme.yaml", "--auto-approve", "--unmanaged", "error", "--max-changes", "10"];
    let out = run(&emu, files.path(), &line).await;
    assert_eq!(out.status.code(), Some(1), "applied, with the 30 error entries");
    assert_eq!(ok_calls(&emu.journal(), "UpdateUser").len(), 10);
}
