//! The mailbox keys (`aliases`, `groups`, `mailbox_quota_mb`) in `validate` and `plan` against
//! the emulator: offline errors, the diff, the calls made (from the journal).

use crate::support::*;

/// Every offline error of the mailbox keys, all in one run, each at its file:line:column, and
/// no call to the directory.
#[tokio::test(flavor = "multi_thread")]
async fn mailbox_offline_errors_are_all_reported_in_one_run_before_any_call() {
    let emu = emulator(workmail_reconcile::emulator::Seed::default(), Default::default()).await;
    let files = Files::new();
    files.write(
        "a.yaml",
        "organization: acme\n\
         defaults:\n  \
           aliases: [x@acme.example]\n\
         users:\n  \
           alice@acme.example:\n    \
             aliases: [a.l@acme.example, not-an-address, A.L@acme.example, alice@ACME.example]\n    \
             groups: [engineering, Engineering]\n    \
             mailbox_quota_mb: 0\n  \
           bob:\n    \
             aliases: b@acme.example\n    \
             groups: [[x]]\n    \
             mailbox_quota_mb: \"10240\"\n    \
             display_name: [a]\n  \
           carol:\n    \
             aliases: [shared@acme.example]\n    \
             mailbox_quota_mb: -5\n",
    );
    files.write(
        "b.yaml",
        "organization: ACME\nusers:\n  dave:\n    aliases:\n      - Shared@acme.example\n",
    );
    for command in ["validate", "plan"] {
        let out = run(&emu, files.path(), &[command, "a.yaml", "b.yaml"]).await;
        assert_eq!(out.status.code(), Some(1), "{command}");
        let err = stderr(&out);
        let words = unwrapped(&err);
        for expected in [
            "a.yaml:3:12]",  // non-empty aliases in defaults
            "a.yaml:6:33]",  // not an address
            "a.yaml:6:49]",  // the same alias twice
            "a.yaml:6:67]",  // the user's own key
            "a.yaml:7:27]",  // a group twice
            "a.yaml:8:23]",  // quota 0
            "a.yaml:10:14]", // a string where a list belongs
            "a.yaml:11:14]", // a list where a string belongs
            "a.yaml:12:23]", // a quoted quota
            "a.yaml:13:19]", // a list where a string belongs (attribute)
            "a.yaml:16:23]", // negative quota
            "b.yaml:5:9]",   // one alias for two users
        ] {
            assert!(err.contains(expected), "{command}: {expected} missing:\n{err}");
        }
        assert!(words.contains("isalsodeclaredforuser`carol`ata.yaml:15:15"), "{err}");
        assert!(err.contains("error: 12 errors in 2 files"), "{err}");
    }
    assert!(emu.journal().is_empty(), "no call before the files are valid");
}

use workmail_reconcile::emulator::{
    Emulator, EmulatorConfig, Faults, Seed, SeedGroup, SeedOrganization, SeedUser, UpdateSemantics,
};

/// acme with a second mail domain, groups, and users with aliases and quotas.
pub(crate) fn mailbox_seed() -> Seed {
    let org = SeedOrganization::new(ORG, Some("acme"), "acme.example")
        .mail_domain("acme-corp.example")
        .user(
            SeedUser::new("alice")
                .email("alice@acme.example")
                .alias("a.l@acme.example")
                .alias("old@acme.example")
                .quota(10_240),
        )
        .user(SeedUser::new("bob").email("bob@acme.example").alias("bobby@acme.example"))
        .user(SeedUser::new("carol").email("carol@acme.example").quota(10_240))
        .user(SeedUser::new("dave").email("dave@acme.example"))
        .group(SeedGroup::new("engineering").email("eng@acme.example").member("dave"))
        .group(SeedGroup::new("sales").member("alice"))
        .group(SeedGroup::new("all-staff").email("all@acme.example"));
    Seed::default().organization(org)
}

/// An emulator of [`mailbox_seed`] whose ListAliases lists the primary address or not.
pub(crate) async fn mailbox_emulator(include_primary: bool, faults: Faults) -> Emulator {
    Emulator::start(EmulatorConfig {
        seed: mailbox_seed(),
        semantics: UpdateSemantics::Patch,
        faults,
        list_aliases_include_primary: include_primary,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts")
}

pub(crate) const MAILBOX_FILE: &str = "organization: acme
users:
  alice:
    display_name: Alice Liddell
    aliases: [A.L@acme.example, new@acme-corp.example]
    groups: [eng@acme.example, all-staff]
    mailbox_quota_mb: 51200
  bob:
    display_name: Bob
  carol:
    mailbox_quota_mb: 10240
  dave:
    groups: [enginering]
";

#[tokio::test(flavor = "multi_thread")]
async fn mailbox_plan_shows_one_line_per_key_and_reads_only_the_managed_keys() {
    for include_primary in [true, false] {
        let emu = mailbox_emulator(include_primary, Faults::default()).await;
        let files = Files::new();
        files.write("acme.yaml", MAILBOX_FILE);
        let out = run(&emu, files.path(), &["plan", "--unmanaged", "ignore", "acme.yaml"]).await;
        assert_eq!(out.status.code(), Some(1), "dave's unknown group is an error entry");
        insta::assert_snapshot!("mailbox_plan_text", stdout(&out));

        let journal = emu.journal();
        assert_eq!(calls(&journal, "DescribeUser").len(), 4);
        // bob manages none of the keys: no mailbox read for him.
        assert_eq!(calls(&journal, "ListAliases").len(), 1, "alice only");
        assert_eq!(calls(&journal, "ListGroupsForEntity").len(), 2, "alice and dave");
        assert_eq!(calls(&journal, "GetMailboxDetails").len(), 2, "alice and carol");
        assert_eq!(calls(&journal, "ListGroups").len(), 1, "once for the organization");
        assert_eq!(journal.len(), 4 + 1 + 2 + 2 + 1 + 1, "and ListOrganizations");
        let bob = emu.user(ORG, "bob").expect("bob").id;
        assert!(
            journal
                .iter()
                .all(|e| e.operation == "DescribeUser" || !e.input.to_string().contains(&bob))
        );

        for format in ["json", "markdown"] {
            let args = ["plan", "--unmanaged", "ignore", "--format", format, "acme.yaml"];
            let out = run(&emu, files.path(), &args).await;
            insta::assert_snapshot!(format!("mailbox_plan_{format}"), stdout(&out));
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mailbox_plan_makes_no_mailbox_call_for_users_that_manage_no_key() {
    let emu = mailbox_emulator(true, Faults::default()).await;
    let files = Files::new();
    files.write(
        "acme.yaml",
        "organization: acme\nusers:\n  alice:\n    display_name: A\n  bob: {}\n",
    );
    let out = run(&emu, files.path(), &["plan", "--unmanaged", "ignore", "acme.yaml"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let journal = emu.journal();
    let operations: Vec<&str> = journal.iter().map(|e| e.operation.as_str()).collect();
    assert!(
        operations.iter().all(|o| ["ListOrganizations", "DescribeUser"].contains(o)),
        "{operations:?}"
    );
}

#[test]
fn mailbox_demo_shows_one_alias_one_group_and_one_quota_change() {
    let out = command("http://127.0.0.1:9", &repo_root(), &["demo"]).output().expect("demo runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for line in [
        "aliases       + a.liddell@acme.example",
        "groups     + engineering",
        "mailbox_quota_mb                 51200 -> 20480",
    ] {
        assert_eq!(text.matches(line).count(), 1, "{line}:\n{text}");
    }
    assert!(text.contains("Plan: 0 to update"), "the second plan is clean:\n{text}");
    // The closing count names every operation the demo called, the mailbox ones too.
    let line = text.lines().find(|l| l.starts_with("Calls made: ")).expect("the calls line");
    let counted = line["Calls made: ".len()..].split(". ").next().expect("the counts");
    let calls: Vec<&str> =
        counted.split(", ").filter_map(|count| count.split(' ').nth(1)).collect();
    for operation in [
        "DescribeUser",
        "UpdateUser",
        "ListAliases",
        "CreateAlias",
        "ListGroups",
        "ListGroupsForEntity",
        "AssociateMemberToGroup",
        "GetMailboxDetails",
        "UpdateMailboxQuota",
    ] {
        assert!(calls.contains(&operation), "{operation}: {line}");
    }
}

/// A listing of one page takes one start slot at a rate cap, not two: asking the paginator for
/// the page after the last one sends nothing and must not wait for a slot (it made a plan of
/// users managing aliases and groups run at two thirds of the cap).
#[tokio::test(flavor = "multi_thread")]
async fn mailbox_reads_of_one_page_take_one_start_slot_each() {
    use workmail_reconcile::directory::{Directory, Limiter, SdkDirectory};
    let emu = mailbox_emulator(true, Faults::default()).await;
    let cap: workmail_reconcile::model::rate_cap::RateCap = "5".parse().expect("cap");
    let directory = SdkDirectory::new(emu.sdk_config(), Limiter::new(4, Some(cap)));
    let alice = emu.user(ORG, "alice").expect("alice").id;
    let started = std::time::Instant::now();
    for _ in 0..3 {
        directory.list_aliases(ORG, &alice).await.expect("aliases");
    }
    // Three slots at 5/s: 0, 0.2 and 0.4 s; six (one wasted after each page) would end at 1 s.
    let elapsed = started.elapsed();
    assert!(elapsed < std::time::Duration::from_millis(800), "{elapsed:?}");
    assert_eq!(emu.journal().len(), 3);
}
