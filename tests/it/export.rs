//! `export` against the emulator: tricky values survive the round trip (export → validate →
//! plan is empty; export → CSV → read back is equal), unmanageable users are left out and
//! listed, output is stable, the YAML modeline is right for where the file is written.

use crate::support::*;
use proptest::prelude::*;
use workmail_reconcile::directory::{Limiter, SdkDirectory};
use workmail_reconcile::emulator::{EmulatedUser, Seed, SeedUser, UpdateSemantics};
use workmail_reconcile::model::attrs::{AttrValue, Attribute, Attribute::*};
use workmail_reconcile::model::live::UserState;
use workmail_reconcile::spec::OrganizationRef;

const TRICKY: [&str; 28] = [
    "NO",
    "on",
    "yes",
    "~",
    "null",
    "true",
    "02134",
    "007",
    "+47 22 00 00 00",
    "  leading",
    "trailing  ",
    "say \"hi\" and 'bye'",
    "key: value",
    "a # not a comment",
    "line one\nline two",
    "Zoë Ångström 東京",
    "R&D",
    "- dash",
    "[brackets]",
    "{braces}",
    "*star",
    "tab\tin",
    "crlf\r\nline",
    "Liddell, Alice",
    "=1+2",
    "@SUM(A1)",
    "-2+3",
    "\"quoted\"",
];

fn tricky_seed() -> Seed {
    let mut users: Vec<SeedUser> = TRICKY
        .iter()
        .enumerate()
        .map(|(i, value)| {
            user(&format!("t{i:02}"), &[(DisplayName, value), (Office, value), (ZipCode, value)])
        })
        .collect();
    // More users than one ListUsers page.
    users.extend((0..120).map(|i| user(&format!("bulk{i:03}"), &[(City, "Oslo")])));
    users.push(user("remote", &[(DisplayName, "Remote")]).role("REMOTE_USER"));
    users.push(user("hidden", &[]).attr(HiddenFromGlobalAddressList, true));
    users.push(
        user("linked", &[])
            .attr(IdentityProviderUserId, "0123456789-01234567-89ab-cdef-0123-456789abcdef"),
    );
    users.push(SeedUser::new("postmaster").email("postmaster@acme.example").role("SYSTEM_USER"));
    users.push(SeedUser::new("room").email("room@acme.example").role("RESOURCE"));
    users.push(SeedUser::new("gone").email("gone@acme.example").state(UserState::Deleted));
    users.push(SeedUser::new("sleeper").state(UserState::Disabled).attr(JobTitle, "On leave"));
    Seed::default().organization(acme(users))
}

#[tokio::test(flavor = "multi_thread")]
async fn export_round_trips_tricky_values_and_plans_clean() {
    let emu = emulator(tricky_seed(), UpdateSemantics::Patch).await;
    let files = Files::new();
    let out =
        run(&emu, files.path(), &["export", "--organization", "acme", "--out", "acme.yaml"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let yaml = files.read("acme.yaml");
    assert!(yaml.contains("#   gone: DELETED users cannot be managed"), "{yaml}");
    assert!(yaml.contains("#   postmaster: role SYSTEM_USER cannot be updated"), "{yaml}");
    assert!(yaml.contains("#   room: role RESOURCE cannot be updated"), "{yaml}");
    assert!(yaml.contains("  sleeper:\n"), "DISABLED users are exported: {yaml}");

    let journal = emu.journal();
    assert_eq!(calls(&journal, "ListUsers").len(), 2, "150 users: two pages of 100");
    assert_eq!(
        calls(&journal, "DescribeUser").len(),
        TRICKY.len() + 120 + 4,
        "one per manageable user"
    );

    let validate = run(&emu, files.path(), &["validate", "acme.yaml"]).await;
    assert_eq!(validate.status.code(), Some(0), "{}", stderr(&validate));
    let plan = run(&emu, files.path(), &["plan", "--detailed-exitcode", "acme.yaml"]).await;
    assert_eq!(plan.status.code(), Some(0), "{}\n{}", stdout(&plan), stderr(&plan));

    let again = run(&emu, files.path(), &["export", "--organization", ORG]).await;
    let by_id = stdout(&again);
    assert_eq!(
        by_id.replace(&format!("organization: {ORG}"), "organization: acme"),
        yaml,
        "stable bytes"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn any_attribute_string_survives_export_then_plan(values in proptest::collection::vec("\\PC{0,40}|[ -~\n\t]{0,40}", 1..6)) {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async {
            let users: Vec<SeedUser> = values
                .iter()
                .enumerate()
                .map(|(i, v)| user(&format!("p{i}"), &[(Street, v.as_str()), (Initials, v.as_str())]))
                .collect();
            let emu = emulator(Seed::default().organization(acme(users)), UpdateSemantics::Patch).await;
            let directory = SdkDirectory::new(emu.sdk_config(), Limiter::new(4, None));
            let exported = workmail_reconcile::export::export(&directory, &OrganizationRef::parse("acme").expect("alias"), None, 8, || ()).await.expect("export");
            let yaml = workmail_reconcile::export::to_yaml(&exported, Some("schema.json"));
            let desired = workmail_reconcile::spec::load_str("export.yaml", &yaml)
                .unwrap_or_else(|e| panic!("export must load: {e:?}\n{yaml}"));
            let engine = workmail_reconcile::reconcile::Reconciler::new(directory.clone(), 8);
            let plan = engine.plan(&desired, |_| ()).await.expect("the emulator answers").plan;
            assert!(plan.changes.is_empty() && plan.errors.is_empty(), "{plan:?}\n{yaml}");
            assert_eq!(plan.unmanaged, Some(Vec::new()), "every user exported is declared");
            for (i, v) in values.iter().enumerate() {
                assert_eq!(emu.user(ORG, &format!("p{i}")).expect("user").get(Street), AttrValue::Text(v.clone()));
            }
            let mut csv = Vec::new();
            workmail_reconcile::export::write_csv(&exported, &mut csv).expect("CSV");
            assert_eq!(read_csv(&csv), expected_csv(&emu), "{}", String::from_utf8_lossy(&csv));
        });
    }
}

/// The header row of `export --format csv`.
const CSV_HEADER: &str = "user_id,name,email,state,role,display_name,first_name,last_name,\
    initials,telephone,street,job_title,city,company,zip_code,department,country,office,\
    hidden_from_global_address_list,identity_provider_user_id";

/// The header row of `export --format m365-csv`: the Microsoft 365 template's headings.
const M365_HEADER: &str = "User Name,First Name,Last Name,Display Name,Job Title,Department,\
    Office Number,Office Phone,Mobile Phone,Fax,Alternate email address,Address,City,\
    State or Province,ZIP or Postal Code,Country or Region";

/// Every row of a CSV, the header included, read back with the csv crate.
pub(crate) fn read_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes)
        .records()
        .map(|record| record.expect("an RFC 4180 record").iter().map(str::to_string).collect())
        .collect()
}

fn is_exported(user: &EmulatedUser) -> bool {
    user.state != UserState::Deleted && !matches!(user.role.as_str(), "SYSTEM_USER" | "RESOURCE")
}

/// What `export --format csv` must read back as: the emulator's manageable users by name,
/// every value exactly as the emulator holds it.
fn expected_csv(emu: &workmail_reconcile::emulator::Emulator) -> Vec<Vec<String>> {
    let mut rows = vec![CSV_HEADER.split(',').map(str::to_string).collect::<Vec<_>>()];
    for user in emu.users(ORG).into_iter().filter(is_exported) {
        let mut row = vec![
            user.id.clone(),
            user.name.clone(),
            user.email.clone().unwrap_or_default(),
            format!("{:?}", user.state).to_uppercase(),
            user.role.to_string(),
        ];
        row.extend(Attribute::ALL.into_iter().filter(|a| *a != Role).map(|a| match user.get(a) {
            AttrValue::Text(s) => s,
            AttrValue::Bool(b) => b.to_string(),
        }));
        rows.push(row);
    }
    rows
}

/// Line ends made visible, so that a snapshot shows CRLF record ends and CRs inside values.
fn visible_cr(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8").replace('\r', "\\r")
}

/// The user keys of a YAML export: the users every format must hold.
fn yaml_user_names(yaml: &str) -> Vec<String> {
    let desired = workmail_reconcile::spec::load_str("export.yaml", yaml).expect("loads");
    desired.organizations[0].users.iter().map(|u| u.key.clone()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn export_csv_round_trips_every_value_of_the_same_users_as_yaml() {
    let emu = emulator(tricky_seed(), UpdateSemantics::Patch).await;
    let files = Files::new();
    let args = ["export", "--organization", "acme", "--format", "csv", "--out", "acme.csv"];
    let out = run(&emu, files.path(), &args).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let bytes = std::fs::read(files.path().join("acme.csv")).expect("CSV file");
    assert!(bytes.starts_with(format!("{CSV_HEADER}\r\n").as_bytes()), "{}", visible_cr(&bytes));
    let rows = read_csv(&bytes);
    assert_eq!(rows, expected_csv(&emu));
    assert_eq!(rows.len(), 1 + TRICKY.len() + 120 + 4);
    let sleeper = rows.iter().find(|r| r[1] == "sleeper").expect("the DISABLED user");
    assert_eq!(sleeper[2..5], ["", "DISABLED", "USER"], "no email, state DISABLED");
    let text = String::from_utf8(bytes).expect("UTF-8");
    assert!(text.contains(",\"crlf\r\nline\","), "a CRLF inside a value is quoted as is");
    assert!(text.contains(",\"Liddell, Alice\","), "a comma is quoted");
    assert!(text.contains(",\"\"\"quoted\"\"\","), "quotes are doubled");
    assert!(text.contains(",=1+2,"), "values are written unaltered, formulas included");
    assert_eq!(
        stderr(&out),
        format!(
            "left out: gone: DELETED users cannot be managed\n\
             left out: postmaster: role SYSTEM_USER cannot be updated through the API\n\
             left out: room: role RESOURCE cannot be updated through the API\n\
             Exported {} users of {ORG} (3 left out).\n",
            rows.len() - 1
        )
    );

    let yaml = run(&emu, files.path(), &["export", "--organization", "acme"]).await;
    let names: Vec<String> = rows[1..].iter().map(|r| r[1].clone()).collect();
    assert_eq!(names, yaml_user_names(&stdout(&yaml)), "the same users as the YAML export");
}

fn m365_seed() -> Seed {
    let alice = user(
        "alice",
        &[
            (DisplayName, "Liddell, Alice \"Al\""),
            (FirstName, "Alice"),
            (LastName, "Liddell"),
            (Initials, "AL"),
            (JobTitle, "=HYPERLINK(\"x\")"),
            (Department, "R&D"),
            (Office, "007"),
            (Telephone, "+1 555 0100"),
            (Street, "1 Main St\r\nFloor 2"),
            (City, "Zürich"),
            (Company, "Acme"),
            (ZipCode, "02134"),
            (Country, "NO"),
        ],
    );
    Seed::default().organization(acme(vec![
        alice,
        user("bob", &[(DisplayName, "~")]),
        SeedUser::new("carol")
            .email("carol@acme.example")
            .state(UserState::Disabled)
            .attr(DisplayName, "Carol (on leave)"),
        SeedUser::new("dan").state(UserState::Disabled).attr(DisplayName, "Dan, never registered"),
        user("erin", &[(JobTitle, "Intern")]),
        SeedUser::new("frank").state(UserState::Disabled),
        SeedUser::new("postmaster")
            .email("postmaster@acme.example")
            .role("SYSTEM_USER")
            .attr(DisplayName, "Postmaster"),
    ]))
}

#[tokio::test(flavor = "multi_thread")]
async fn export_m365_csv_fills_the_template_and_reports_who_it_cannot_take() {
    let emu = emulator(m365_seed(), UpdateSemantics::Patch).await;
    let files = Files::new();
    let args = [
        "export",
        "--organization",
        "acme",
        "--format",
        "m365-csv",
        "--email-domain",
        "contoso.onmicrosoft.com",
        "--out",
        "m365.csv",
    ];
    let out = run(&emu, files.path(), &args).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let suffix = "; the Microsoft 365 template requires User Name and Display Name";
    assert_eq!(
        stderr(&out),
        format!(
            "left out: dan: no email address{suffix}\n\
             left out: erin: no display name{suffix}\n\
             left out: frank: no email address and no display name{suffix}\n\
             left out: postmaster: role SYSTEM_USER cannot be updated through the API\n\
             Exported 3 users of {ORG} (4 left out).\n"
        )
    );
    let bytes = std::fs::read(files.path().join("m365.csv")).expect("CSV file");
    assert!(bytes.starts_with(format!("{M365_HEADER}\r\n").as_bytes()), "{}", visible_cr(&bytes));
    let rows = read_csv(&bytes);
    assert_eq!(
        rows[1],
        [
            "alice@contoso.onmicrosoft.com",
            "Alice",
            "Liddell",
            "Liddell, Alice \"Al\"",
            "=HYPERLINK(\"x\")",
            "R&D",
            "007",
            "+1 555 0100",
            "",
            "",
            "",
            "1 Main St\r\nFloor 2",
            "Zürich",
            "",
            "02134",
            "NO",
        ],
        "every mapped value read back unchanged"
    );
    insta::assert_snapshot!(visible_cr(&bytes));

    // Without --email-domain, User Name is the WorkMail address; nothing else differs.
    let plain =
        run(&emu, files.path(), &["export", "--organization", "acme", "--format", "m365-csv"])
            .await;
    assert_eq!(plain.status.code(), Some(0), "{}", stderr(&plain));
    let plain_rows = read_csv(&plain.stdout);
    let user_names: Vec<&str> = plain_rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(user_names, ["alice@acme.example", "bob@acme.example", "carol@acme.example"]);
    let rest = |rows: &[Vec<String>]| rows.iter().map(|r| r[1..].to_vec()).collect::<Vec<_>>();
    assert_eq!(rest(&plain_rows), rest(&rows));
}

#[tokio::test(flavor = "multi_thread")]
async fn export_csv_of_a_small_organization() {
    let emu = emulator(m365_seed(), UpdateSemantics::Patch).await;
    let files = Files::new();
    let out = run(&emu, files.path(), &["export", "--organization", ORG, "--format", "csv"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(read_csv(&out.stdout), expected_csv(&emu));
    insta::assert_snapshot!(visible_cr(&out.stdout));
}

/// An organization with one user, `solo`, who has an email address and no display name.
async fn solo_emulator() -> workmail_reconcile::emulator::Emulator {
    emulator(Seed::default().organization(acme(vec![user("solo", &[])])), UpdateSemantics::Patch)
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn export_counts_one_user_in_the_singular() {
    let emu = solo_emulator().await;
    let files = Files::new();
    for format in ["yaml", "csv", "m365-csv"] {
        let args = ["export", "--organization", "acme", "--format", format];
        let out = run(&emu, files.path(), &args).await;
        let left_out = if format == "m365-csv" {
            "left out: solo: no display name; the Microsoft 365 template requires User Name and Display Name\n"
        } else {
            ""
        };
        let (written, skipped) = if format == "m365-csv" { ("0 users", 1) } else { ("1 user", 0) };
        assert_eq!(
            stderr(&out),
            format!("{left_out}Exported {written} of {ORG} ({skipped} left out).\n"),
            "{format}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn export_yaml_modeline_points_at_the_repository_schema_from_where_the_file_is_written() {
    let emu = solo_emulator().await;
    let repo = Files::new();
    repo.write(".git/HEAD", "ref: refs/heads/main\n");
    repo.write("schema/workmail-users.schema.json", "{}");
    std::fs::create_dir_all(repo.path().join("users/team")).expect("mkdir");
    for (out, schema) in [
        ("acme.yaml", "schema/workmail-users.schema.json"),
        ("users/acme.yaml", "../schema/workmail-users.schema.json"),
        ("users/team/../team/acme.yaml", "../../schema/workmail-users.schema.json"),
    ] {
        let export =
            run(&emu, repo.path(), &["export", "--organization", "acme", "--out", out]).await;
        assert_eq!(export.status.code(), Some(0), "{}", stderr(&export));
        let yaml = std::fs::read_to_string(repo.path().join(out)).expect("exported");
        assert_eq!(
            yaml.lines().next(),
            Some(format!("# yaml-language-server: $schema={schema}").as_str()),
            "{out}"
        );
        let written_in = repo.path().join(out).parent().expect("dir").to_path_buf();
        assert!(written_in.join(schema).is_file(), "{out}: {schema} resolves");
        assert_eq!(stderr(&export), format!("Exported 1 user of {ORG} (0 left out).\n"));
    }

    // Given explicitly, the reference is written as given, to a file or to stdout.
    let url = "https://example.com/workmail-users.schema.json";
    let given =
        run(&emu, repo.path(), &["export", "--organization", "acme", "--schema-path", url]).await;
    assert!(stdout(&given).starts_with(&format!("# yaml-language-server: $schema={url}\n")));

    // stdout may end up anywhere: no modeline unless given.
    let piped = run(&emu, repo.path(), &["export", "--organization", "acme"]).await;
    assert!(stdout(&piped).starts_with("# Exported by workmail-reconcile"), "{}", stdout(&piped));

    // A repository without the schema: no modeline, and a note saying why. The schema of an
    // enclosing directory outside the repository is not used.
    let outer = Files::new();
    outer.write("schema/workmail-users.schema.json", "{}");
    outer.write("repo/.git/HEAD", "ref: refs/heads/main\n");
    let out =
        run(&emu, outer.path(), &["export", "--organization", "acme", "--out", "repo/acme.yaml"])
            .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let yaml = std::fs::read_to_string(outer.path().join("repo/acme.yaml")).expect("exported");
    assert!(yaml.starts_with("# Exported by workmail-reconcile"), "{yaml}");
    assert!(
        stderr(&out).starts_with("note: found no schema/workmail-users.schema.json in ")
            && stderr(&out).contains("so the file has no yaml-language-server modeline"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn export_refuses_bad_flags_before_any_call() {
    let emu = solo_emulator().await;
    let files = Files::new();
    // Bad values of --email-domain are refused by the argument parser, the rest by the command:
    // exit code 1 either way, and no call.
    let cases: [(&[&str], &str); 6] = [
        (
            &["--format", "m365-csv", "--email-domain", "@contoso.com"],
            "write it without the @ (`contoso.com`)",
        ),
        (
            &["--format", "m365-csv", "--email-domain", "contoso"],
            "`contoso` is not a domain name: it has a single label",
        ),
        (
            &["--format", "csv", "--email-domain", "contoso.com"],
            "--email-domain applies to --format m365-csv, aliases-csv",
        ),
        (
            &["--format", "csv", "--schema-path", "s.json"],
            "--schema-path applies to --format yaml only",
        ),
        (
            &["--out", "missing/acme.yaml"],
            "cannot write missing/acme.yaml: its directory missing: ",
        ),
        (&["--out", "."], "cannot write .: it is a directory; give a file name"),
    ];
    for (flags, message) in cases {
        let mut args = vec!["export", "--organization", "acme"];
        args.extend_from_slice(flags);
        let out = run(&emu, files.path(), &args).await;
        assert_eq!(out.status.code(), Some(1), "{flags:?}");
        assert!(stderr(&out).contains(message), "{flags:?}: {}", stderr(&out));
        assert!(emu.journal().is_empty(), "{flags:?}: no API call");
    }
}

/// `--organization` follows the rule of a file's `organization`: a malformed one is refused
/// before any call, saying what is allowed.
#[tokio::test]
async fn export_refuses_a_malformed_organization_before_any_call() {
    let emu = solo_emulator().await;
    let files = Files::new();
    for bad in ["d-acme", "acme--labs", "acme_labs"] {
        let out = run(&emu, files.path(), &["export", "--organization", bad]).await;
        assert_eq!(out.status.code(), Some(1), "{bad}");
        let expected = format!(
            "`{bad}` is neither an organization id nor a valid organization alias: an id is `m-` \
             followed by 32 lowercase hex digits"
        );
        assert!(stderr(&out).contains(&expected), "{bad}: {}", stderr(&out));
        assert!(emu.journal().is_empty(), "{bad}: no API call");
    }
}
