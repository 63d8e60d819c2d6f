//! `export --format aliases-csv | groups-csv | m365-bundle` and `--spreadsheet-safe` against the
//! emulator: the rows, who is left out and said so, the calls per operation, usage errors before
//! any call, no file at all when a call fails mid-export, and values that round-trip through the
//! CSV readers of the csv crate and (when installed) Python's standard library.

use crate::export::read_csv;
use crate::support::*;
use std::path::Path;
use workmail_reconcile::emulator::{
    Faults, Seed, SeedGroup, SeedOrganization, SeedUser, UpdateSemantics,
};
use workmail_reconcile::model::attrs::Attribute::*;
use workmail_reconcile::model::live::UserState;

/// A group name with everything the GroupName pattern lets through that CSV must quote.
const TRICKY_GROUP: &str = "Sales, \"EMEA\" Zoë";
/// A display name with a line break, a control character and non-ASCII letters.
const TRICKY_DISPLAY: &str = "Dave \"D\", Ærø\r\nline two\u{1}";

/// acme: users with aliases (one on another of its domains), users the Microsoft 365 template
/// cannot take, and groups — nested, empty, disabled, deleted, with a tricky name.
fn routing_seed() -> Seed {
    let org = SeedOrganization::new(ORG, Some("acme"), "acme.example")
        .mail_domain("acme-corp.example")
        .user(
            user("alice", &[(DisplayName, "Alice Liddell"), (Telephone, "+1 555 0100")])
                .alias("a.liddell@acme.example")
                .alias("alice@acme-corp.example"),
        )
        .user(user("dave", &[(DisplayName, TRICKY_DISPLAY)]).alias("-dash@acme.example"))
        .user(user("erin", &[(DisplayName, "=HYPERLINK(\"http://x\")")]))
        // Left out of the template: no display name; no email (never registered).
        .user(user("noname", &[]).alias("nn@acme.example"))
        .user(SeedUser::new("bob").state(UserState::Disabled).attr(DisplayName, "Bob"))
        .user(SeedUser::new("room").email("room@acme.example").role("RESOURCE"))
        .group(
            SeedGroup::new("engineering")
                .email("eng@acme.example")
                .member("alice")
                .member("dave")
                .member("noname")
                .member("bob"),
        )
        .group(SeedGroup::new(TRICKY_GROUP).email("sales@acme-corp.example").member("dave"))
        .group(SeedGroup::new("all-staff").member("engineering").member("erin"))
        .group(SeedGroup::new("empty"))
        .group(SeedGroup::new("dormant").state(UserState::Disabled).member("room"))
        .group(SeedGroup::new("old").state(UserState::Deleted));
    Seed::default().organization(org)
}

fn rows(table: &[&[&str]]) -> Vec<Vec<String>> {
    table.iter().map(|row| row.iter().map(|c| c.to_string()).collect()).collect()
}

fn count(emu: &workmail_reconcile::emulator::Emulator, operation: &str) -> usize {
    calls(&emu.journal(), operation).len()
}

async fn start() -> (workmail_reconcile::emulator::Emulator, Files) {
    (emulator(routing_seed(), UpdateSemantics::Patch).await, Files::new())
}

fn export_args<'a>(format: &'a str, more: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["export", "--organization", "acme", "--format", format];
    args.extend_from_slice(more);
    args
}

#[tokio::test(flavor = "multi_thread")]
async fn aliases_csv_writes_one_row_per_alias_of_the_users_m365_csv_writes() {
    for include_primary in [true, false] {
        let (emu, files) = start().await;
        emu.set_list_aliases_include_primary(include_primary);
        let out = run(&emu, files.path(), &export_args("aliases-csv", &["--out", "a.csv"])).await;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let bytes = std::fs::read(files.path().join("a.csv")).expect("file");
        assert!(bytes.starts_with(b"User Name,Alias\r\n"));
        assert_eq!(
            read_csv(&bytes),
            rows(&[
                &["User Name", "Alias"],
                &["alice@acme.example", "a.liddell@acme.example"],
                &["alice@acme.example", "alice@acme-corp.example"],
                &["dave@acme.example", "-dash@acme.example"],
            ]),
            "the primary is never an alias (include primary: {include_primary})"
        );
        let err = stderr(&out);
        assert!(err.contains("left out: bob: no email address"), "{err}");
        assert!(err.contains("left out: noname: no display name"), "{err}");
        assert!(err.contains("left out: room: role RESOURCE"), "{err}");
        assert!(err.contains("Exported 3 aliases of 3 users of m-"), "{err}");
        // One ListAliases per user with a mailbox (alice, dave, erin, noname); no group call.
        assert_eq!(count(&emu, "ListAliases"), 4);
        assert_eq!(count(&emu, "DescribeUser"), 5);
        assert_eq!(count(&emu, "ListGroups") + count(&emu, "ListGroupMembers"), 0);
        assert_eq!(count(&emu, "ListGroupsForEntity") + count(&emu, "GetMailboxDetails"), 0);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn email_domain_rewrites_user_names_and_default_domain_addresses_only() {
    let (emu, files) = start().await;
    let args = export_args("aliases-csv", &["--email-domain", "contoso.com"]);
    let out = run(&emu, files.path(), &args).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        read_csv(&out.stdout),
        rows(&[
            &["User Name", "Alias"],
            &["alice@contoso.com", "a.liddell@contoso.com"],
            &["alice@contoso.com", "alice@acme-corp.example"],
            &["dave@contoso.com", "-dash@contoso.com"],
        ])
    );
    assert_eq!(count(&emu, "ListOrganizations"), 2, "one to resolve acme, one for its domain");

    let args = export_args("groups-csv", &["--email-domain", "contoso.com"]);
    let out = run(&emu, files.path(), &args).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let written = read_csv(&out.stdout);
    assert!(
        written.contains(&rows(&[&["engineering", "eng@contoso.com", "alice@contoso.com"]])[0])
    );
    assert!(
        written
            .contains(&rows(&[&[TRICKY_GROUP, "sales@acme-corp.example", "dave@contoso.com"]])[0]),
        "{written:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn groups_csv_writes_a_row_per_member_user_and_names_what_it_leaves_out() {
    let (emu, files) = start().await;
    let out = run(&emu, files.path(), &export_args("groups-csv", &["--out", "g.csv"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let bytes = std::fs::read(files.path().join("g.csv")).expect("file");
    assert_eq!(
        read_csv(&bytes),
        rows(&[
            &["Group Name", "Group Email", "Member"],
            &["all-staff", "all-staff@acme.example", "erin@acme.example"],
            &["dormant", "", ""],
            &["empty", "empty@acme.example", ""],
            &["engineering", "eng@acme.example", "alice@acme.example"],
            &["engineering", "eng@acme.example", "dave@acme.example"],
            &[TRICKY_GROUP, "sales@acme-corp.example", "dave@acme.example"],
        ])
    );
    let err = stderr(&out);
    for line in [
        "left out: member engineering of group all-staff: a group",
        "left out: member bob of group engineering: not in the users' CSV: no email address",
        "left out: member noname of group engineering: not in the users' CSV: no display name",
        "left out: member room of group dormant: not exported: role RESOURCE",
    ] {
        assert!(err.contains(line), "{line}\n{err}");
    }
    assert!(!err.contains("group old"), "DELETED groups are left out silently: {err}");
    assert!(err.contains("Exported 5 groups with 4 members of m-"), "{err}");
    // One ListGroups pass; one ListGroupMembers per group that is not DELETED.
    assert_eq!(count(&emu, "ListGroups"), 1);
    assert_eq!(count(&emu, "ListGroupMembers"), 5);
    assert_eq!(count(&emu, "ListAliases"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn bundle_writes_four_files_and_replaces_them_only_with_force() {
    let (emu, files) = start().await;
    let args = export_args("m365-bundle", &["--out-dir", "out/bundle"]);
    let out = run(&emu, files.path(), &args).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let dir = files.path().join("out/bundle");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("created")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["README.txt", "aliases.csv", "groups.csv", "users.csv"]);
    let single = |format: &str| {
        let files = &files;
        let emu = &emu;
        let format = format.to_string();
        async move { run(emu, files.path(), &export_args(&format, &[])).await.stdout }
    };
    assert_eq!(std::fs::read(dir.join("users.csv")).expect("users"), single("m365-csv").await);
    assert_eq!(
        std::fs::read(dir.join("aliases.csv")).expect("aliases"),
        single("aliases-csv").await
    );
    assert_eq!(std::fs::read(dir.join("groups.csv")).expect("groups"), single("groups-csv").await);
    let readme = std::fs::read_to_string(dir.join("README.txt")).expect("readme");
    for tool in [
        "Add multiple users",
        "Set-Mailbox",
        "New-DistributionGroup",
        "Add-DistributionGroupMember",
    ] {
        assert!(readme.contains(tool), "{tool}: {readme}");
    }
    assert!(
        stderr(&out).contains("Exported 3 users, 3 aliases and 5 groups with 4 members"),
        "{}",
        stderr(&out)
    );

    // Again: refused before any call, the files as they were.
    std::fs::write(dir.join("users.csv"), "mine").expect("edit");
    emu.clear_journal();
    let again = run(&emu, files.path(), &args).await;
    assert_eq!(again.status.code(), Some(1));
    assert!(unwrapped(&stderr(&again)).contains("pass--force"), "{}", stderr(&again));
    assert!(emu.journal().is_empty(), "no call");
    assert_eq!(std::fs::read_to_string(dir.join("users.csv")).expect("kept"), "mine");
    let mut forced = args.clone();
    forced.push("--force");
    let out = run(&emu, files.path(), &forced).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read(dir.join("users.csv")).expect("users"), single("m365-csv").await);
    assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 4, "no temporary file left");
}

#[tokio::test(flavor = "multi_thread")]
async fn spreadsheet_safe_quotes_formula_cells_and_says_how_many() {
    let (emu, files) = start().await;
    // Without it, values are exact: the telephone reaches Microsoft 365 as it is.
    let exact = run(&emu, files.path(), &export_args("m365-csv", &[])).await;
    let alice = read_csv(&exact.stdout).into_iter().find(|r| r[0] == "alice@acme.example");
    assert_eq!(alice.expect("alice")[7], "+1 555 0100");
    assert!(!stderr(&exact).contains("spreadsheet-safe"));

    let safe = run(&emu, files.path(), &export_args("m365-csv", &["--spreadsheet-safe"])).await;
    assert_eq!(safe.status.code(), Some(0), "{}", stderr(&safe));
    let written = read_csv(&safe.stdout);
    let cell = |user: &str, column: usize| {
        written.iter().find(|r| r[0] == user).unwrap_or_else(|| panic!("{user}"))[column].clone()
    };
    assert_eq!(cell("alice@acme.example", 7), "'+1 555 0100");
    assert_eq!(cell("erin@acme.example", 3), "'=HYPERLINK(\"http://x\")");
    assert!(
        stderr(&safe).contains("--spreadsheet-safe prefixed ' to 2 cells."),
        "{}",
        stderr(&safe)
    );

    let aliases =
        run(&emu, files.path(), &export_args("aliases-csv", &["--spreadsheet-safe"])).await;
    assert!(
        read_csv(&aliases.stdout)
            .contains(&vec!["dave@acme.example".into(), "'-dash@acme.example".into()])
    );
    assert!(stderr(&aliases).contains("prefixed ' to 1 cell."), "{}", stderr(&aliases));

    for format in ["csv", "groups-csv"] {
        let out = run(&emu, files.path(), &export_args(format, &["--spreadsheet-safe"])).await;
        assert_eq!(out.status.code(), Some(0), "{format}: {}", stderr(&out));
        assert!(stderr(&out).contains("--spreadsheet-safe prefixed"), "{format}");
    }
    let args = export_args("m365-bundle", &["--out-dir", "b", "--spreadsheet-safe"]);
    let bundle = run(&emu, files.path(), &args).await;
    assert!(stderr(&bundle).contains("prefixed ' to 3 cells."), "{}", stderr(&bundle));
    let readme = files.read("b/README.txt");
    assert!(readme.contains("Written with --spreadsheet-safe: 3 cells"), "{readme}");
}

#[tokio::test(flavor = "multi_thread")]
async fn routing_formats_refuse_bad_input_before_any_call() {
    let (emu, files) = start().await;
    files.write("a-file", "x");
    files.write("full/users.csv", "x");
    files.write("dirs/groups.csv/inside", "x");
    let cases: [(&[&str], &str); 14] = [
        (&["--format", "m365-bundle", "--out-dir", ""], "a value is required for '--out-dir"),
        (&["--format", "aliases-csv", "--out", ""], "a value is required for '--out"),
        (&["--format", "m365-bundle", "--out-dir", "a-file"], "it is a file, not a directory"),
        (&["--format", "m365-bundle", "--out-dir", "a-file/sub"], "a-file is not a directory"),
        (&["--format", "m365-bundle", "--out", "x.csv"], "give a directory with --out-dir DIR"),
        (&["--format", "m365-bundle"], "--format m365-bundle needs --out-dir DIR"),
        (
            &["--format", "aliases-csv", "--out-dir", "d"],
            "--out-dir applies to --format m365-bundle only",
        ),
        (&["--format", "m365-bundle", "--out-dir", "full"], "holds users.csv already"),
        (
            &["--format", "m365-bundle", "--out-dir", "dirs", "--force"],
            "groups.csv in it is a directory",
        ),
        (&["--format", "groups-csv", "--force"], "--force applies to --format m365-bundle only"),
        (&["--spreadsheet-safe"], "--spreadsheet-safe applies to --format csv, m365-csv"),
        (
            &["--format", "csv", "--attributes-only"],
            "--attributes-only applies to --format yaml only",
        ),
        (
            &["--format", "groups-csv", "--skip-declared", "a-file"],
            "--skip-declared applies to the user formats only",
        ),
        (
            &["--format", "csv", "--email-domain", "contoso.com"],
            "--email-domain applies to --format m365-csv",
        ),
    ];
    for (flags, message) in cases {
        let mut args = vec!["export", "--organization", "acme"];
        args.extend_from_slice(flags);
        let out = run(&emu, files.path(), &args).await;
        assert_eq!(out.status.code(), Some(1), "{flags:?}");
        assert!(
            unwrapped(&stderr(&out)).contains(&unwrapped(message)),
            "{flags:?}: {}",
            stderr(&out)
        );
        assert!(emu.journal().is_empty(), "{flags:?}: no API call");
    }
    assert!(!files.path().join("d").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_organization_writes_nothing() {
    let (emu, files) = start().await;
    for format in ["aliases-csv", "groups-csv"] {
        let args = ["export", "--organization", "nosuch", "--format", format, "--out", "x.csv"];
        let out = run(&emu, files.path(), &args).await;
        assert_eq!(out.status.code(), Some(1), "{format}");
        assert!(stderr(&out).contains("organization alias `nosuch` not found"), "{}", stderr(&out));
    }
    let args = ["export", "--organization", "nosuch", "--format", "m365-bundle", "--out-dir", "b"];
    let out = run(&emu, files.path(), &args).await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read_dir(files.path()).expect("dir").count(), 0, "no file, no directory");
}

/// Start `args` with every answer 300 ms late, and once `operation` has been answered, make
/// every call that arrives later fail (after the client's retries): the export stops mid-way,
/// exit 1. A later phase of calls always waits for an answer to the phase after `operation`,
/// so it fails however long this test takes to notice.
async fn fail_after(
    emu: &workmail_reconcile::emulator::Emulator,
    dir: &Path,
    args: &[&str],
    operation: &str,
) -> std::process::Output {
    emu.set_faults(Faults { latency: std::time::Duration::from_millis(300), ..Faults::default() });
    // A failing call gives up after one second of retries, not the default 90.
    let mut cmd = command(&emu.url(), dir, &[&["--operation-timeout", "1s"], args].concat());
    let running = tokio::task::spawn_blocking(move || cmd.output().expect("binary runs"));
    emu.journal_until(|journal| journal.iter().any(|e| e.operation == operation)).await;
    emu.set_faults(Faults { server_error_rate: 1.0, ..Faults::default() });
    let out = running.await.expect("join");
    assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
    assert!(unwrapped(&stderr(&out)).contains("nothingwas"), "{}", stderr(&out));
    assert!(
        calls(&emu.journal(), operation).len() < emu.journal().len(),
        "calls after {operation} were made, and failed"
    );
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_failing_mid_export_leaves_no_file() {
    let (emu, files) = start().await;
    files.write("kept.csv", "before");
    fail_after(
        &emu,
        files.path(),
        &export_args("aliases-csv", &["--out", "kept.csv"]),
        "ListUsers",
    )
    .await;
    assert_eq!(files.read("kept.csv"), "before", "an existing file is left as it was");
    fail_after(&emu, files.path(), &export_args("groups-csv", &["--out", "g.csv"]), "ListUsers")
        .await;
    let args = export_args("m365-bundle", &["--out-dir", "bundle"]);
    fail_after(&emu, files.path(), &args, "DescribeUser").await;
    let mut left: Vec<String> = std::fs::read_dir(files.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["kept.csv"], "no partial file, no bundle directory");
}

/// Python's csv module reading `file`: its rows as JSON, or `None` without python3.
fn python_rows(file: &Path) -> Option<Vec<Vec<String>>> {
    let script = "import csv, json, sys\n\
        with open(sys.argv[1], newline='', encoding='utf-8') as f:\n    \
        print(json.dumps(list(csv.reader(f))))";
    let out =
        std::process::Command::new("python3").arg("-c").arg(script).arg(file).output().ok()?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    Some(serde_json::from_slice(&out.stdout).expect("JSON rows"))
}

#[tokio::test(flavor = "multi_thread")]
async fn tricky_values_round_trip_through_csv_readers() {
    let (emu, files) = start().await;
    let args = export_args("m365-bundle", &["--out-dir", "b"]);
    let out = run(&emu, files.path(), &args).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let users = read_csv(&std::fs::read(files.path().join("b/users.csv")).expect("users"));
    let dave = users.iter().find(|r| r[0] == "dave@acme.example").expect("dave");
    assert_eq!(dave[3], TRICKY_DISPLAY);
    let groups = read_csv(&std::fs::read(files.path().join("b/groups.csv")).expect("groups"));
    assert!(groups.iter().any(|r| r[0] == TRICKY_GROUP));
    for name in ["users.csv", "aliases.csv", "groups.csv"] {
        let path = files.path().join("b").join(name);
        let ours = read_csv(&std::fs::read(&path).expect("file"));
        if let Some(theirs) = python_rows(&path) {
            assert_eq!(theirs, ours, "{name}: Python's csv reads the same cells");
        }
    }
}
