//! `apply` of the mailbox keys against the emulator: the order of the writes and their reads,
//! failures that end one user only, lost answers after writes, saved plans, the safety count,
//! redaction and idempotence (from the journal and the emulator's state).

use crate::mailbox_plan::mailbox_emulator;
use crate::support::*;
use workmail_reconcile::emulator::{Faults, JournalEntry, JournalOutcome};

const FILE: &str = "organization: acme
users:
  alice:
    display_name: Alice Liddell
    aliases: [A.L@acme.example, new@acme-corp.example]
    groups: [eng@acme.example, all-staff]
    mailbox_quota_mb: 51200
  bob:
    aliases: []
  carol:
    mailbox_quota_mb: 20480
";

/// The operations of the journal that name `id` in their input, in order.
fn operations_on(journal: &[JournalEntry], id: &str) -> Vec<String> {
    journal
        .iter()
        .filter(|e| e.input.to_string().contains(id))
        .map(|e| e.operation.clone())
        .collect()
}

/// Every write operation apply may send.
pub(crate) const WRITES: [&str; 6] = [
    "UpdateUser",
    "CreateAlias",
    "DeleteAlias",
    "AssociateMemberToGroup",
    "DisassociateMemberFromGroup",
    "UpdateMailboxQuota",
];

fn assert_no_write(emu: &workmail_reconcile::emulator::Emulator) {
    let journal = emu.journal();
    let written: Vec<&str> =
        journal.iter().map(|e| e.operation.as_str()).filter(|o| WRITES.contains(o)).collect();
    assert!(written.is_empty(), "{written:?}");
}

fn assert_converged(emu: &workmail_reconcile::emulator::Emulator) {
    assert_eq!(emu.aliases(ORG, "alice"), ["a.l@acme.example", "new@acme-corp.example"]);
    assert_eq!(emu.groups_of(ORG, "alice"), ["all-staff", "engineering"]);
    assert_eq!(emu.mailbox_quota(ORG, "alice"), Some(51_200));
    assert!(emu.aliases(ORG, "bob").is_empty());
    assert_eq!(emu.mailbox_quota(ORG, "carol"), Some(20_480));
}

#[tokio::test(flavor = "multi_thread")]
async fn mailbox_apply_writes_in_order_each_after_its_read_and_converges() {
    for include_primary in [true, false] {
        let emu = mailbox_emulator(include_primary, Faults::default()).await;
        let files = Files::new();
        files.write("acme.yaml", FILE);
        let out = run(
            &emu,
            files.path(),
            &["apply", "--auto-approve", "--force", "--audit-log", "audit.jsonl", "acme.yaml"],
        )
        .await;
        assert_eq!(out.status.code(), Some(0), "{}\n{}", stdout(&out), stderr(&out));
        let audit = files.read("audit.jsonl");
        assert!(
            audit.contains(r#""fields":["display_name","aliases","groups","mailbox_quota_mb"]"#),
            "{audit}"
        );
        assert!(!audit.contains("acme-corp.example") && !audit.contains("51200"), "{audit}");
        assert!(
            stdout(&out).contains("alice (")
                && stdout(&out)
                    .contains("updated: display_name, aliases, groups, mailbox_quota_mb"),
            "{}",
            stdout(&out)
        );
        assert_converged(&emu);

        let journal = emu.journal();
        let alice = emu.user(ORG, "alice").expect("alice").id;
        let applied: Vec<String> =
            operations_on(&journal, &alice).into_iter().skip_while(|o| o != "UpdateUser").collect();
        assert_eq!(
            applied,
            [
                "UpdateUser",
                "ListAliases",
                "CreateAlias",
                "DeleteAlias",
                "ListGroupsForEntity",
                "AssociateMemberToGroup",
                "AssociateMemberToGroup",
                "DisassociateMemberFromGroup",
                "GetMailboxDetails",
                "UpdateMailboxQuota",
            ],
            "{include_primary}"
        );
        // The quota was read before the first write too (compare-and-swap), and again after.
        let before_update: Vec<String> =
            operations_on(&journal, &alice).into_iter().take_while(|o| o != "UpdateUser").collect();
        assert!(
            before_update.ends_with(&["DescribeUser".into(), "GetMailboxDetails".into()]),
            "{before_update:?}"
        );

        // Idempotent: the next plan is clean, with no write.
        emu.clear_journal();
        let again = run(&emu, files.path(), &["plan", "--detailed-exitcode", "acme.yaml"]).await;
        assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
        let apply_again = run(&emu, files.path(), &["apply", "--auto-approve", "acme.yaml"]).await;
        assert_eq!(apply_again.status.code(), Some(0));
        assert_no_write(&emu);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mailbox_apply_failed_write_ends_that_user_only_with_the_services_reason() {
    let emu = mailbox_emulator(true, Faults::default()).await;
    let files = Files::new();
    // bob's primary address is taken for alice; carol's alias is on a domain acme does not
    // have; dave goes on.
    files.write(
        "acme.yaml",
        "organization: acme
users:
  alice:
    aliases: [bob@acme.example, a.l@acme.example]
    mailbox_quota_mb: 20480
  carol:
    aliases: [carol@elsewhere.example]
  dave:
    mailbox_quota_mb: 1024
",
    );
    let out = run(&emu, files.path(), &["apply", "--auto-approve", "--force", "acme.yaml"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains("CreateAlias bob@acme.example failed: EmailAddressInUseException"),
        "{text}"
    );
    assert!(
        text.contains("CreateAlias carol@elsewhere.example failed: MailDomainNotFoundException"),
        "{text}"
    );
    assert!(text.contains("Apply: 1 updated, 0 unchanged, 0 conflicts, 2 failed"), "{text}");
    // alice's first failed write ended her apply: old alias kept, quota not written.
    assert_eq!(emu.aliases(ORG, "alice"), ["a.l@acme.example", "old@acme.example"]);
    assert_eq!(emu.mailbox_quota(ORG, "alice"), Some(10_240));
    assert!(calls(&emu.journal(), "DeleteAlias").is_empty());
    assert_eq!(emu.mailbox_quota(ORG, "dave"), Some(1_024));
}

/// Whether the journal holds `operation` performed with its answer lost, then the same
/// operation answered with `code` (the retry meeting its own write).
fn retried_into(journal: &[JournalEntry], operation: &str, code: &str) -> bool {
    let same: Vec<&JournalEntry> = journal.iter().filter(|e| e.operation == operation).collect();
    same.windows(2).any(|w| {
        w[0].outcome == JournalOutcome::Dropped { applied: true }
            && w[1].input == w[0].input
            && w[1].outcome == JournalOutcome::Error { code: code.into() }
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn mailbox_apply_retry_meeting_in_use_or_not_found_after_a_lost_answer_is_success() {
    // Generator seeds are tried until a CreateAlias and a DisassociateMemberFromGroup each lost
    // their answer after being performed and their retry met EmailAddressInUseException /
    // EntityNotFoundException; every run must still succeed and converge.
    let (mut in_use, mut not_found) = (false, false);
    for seed in 0..60 {
        let faults = Faults {
            drop_rate: 0.5,
            drop_after_write_fraction: 1.0,
            rng_seed: seed,
            ..Faults::default()
        };
        let emu = mailbox_emulator(true, faults).await;
        let files = Files::new();
        files.write("acme.yaml", FILE);
        let out = run(
            &emu,
            files.path(),
            &["--concurrency", "1", "apply", "--auto-approve", "--force", "acme.yaml"],
        )
        .await;
        assert_eq!(out.status.code(), Some(0), "seed {seed}: {}\n{}", stdout(&out), stderr(&out));
        assert_converged(&emu);
        let journal = emu.journal();
        in_use |= retried_into(&journal, "CreateAlias", "EmailAddressInUseException");
        not_found |=
            retried_into(&journal, "DisassociateMemberFromGroup", "EntityNotFoundException");
        if in_use && not_found {
            return;
        }
    }
    panic!(
        "no seed made the retries meet their own writes: in use {in_use}, not found {not_found}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn mailbox_saved_plan_applies_only_what_is_still_needed_and_a_moved_quota_is_a_conflict() {
    let emu = mailbox_emulator(false, Faults::default()).await;
    let files = Files::new();
    files.write("acme.yaml", FILE);
    let out = run(&emu, files.path(), &["plan", "--out", "plan.json", "acme.yaml"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let saved: serde_json::Value = serde_json::from_str(&files.read("plan.json")).expect("json");
    let alice = &saved["changes"][0]["fields"];
    assert_eq!(alice[1]["field"], "aliases");
    assert_eq!(alice[1]["add"], serde_json::json!(["new@acme-corp.example"]));
    assert_eq!(alice[2]["field"], "groups");
    assert_eq!(
        alice[3],
        serde_json::json!({"field": "mailbox_quota_mb", "before": 10240, "after": 51200})
    );

    // Since the plan: someone added alice's new alias already, and moved carol's quota.
    let client = crate::emulator::no_retry_client(&emu);
    let alice_id = emu.user(ORG, "alice").expect("alice").id;
    let carol_id = emu.user(ORG, "carol").expect("carol").id;
    client
        .create_alias()
        .organization_id(ORG)
        .entity_id(&alice_id)
        .alias("NEW@acme-corp.example")
        .send()
        .await
        .expect("alias");
    client
        .update_mailbox_quota()
        .organization_id(ORG)
        .user_id(&carol_id)
        .mailbox_quota(30_000)
        .send()
        .await
        .expect("quota");
    emu.clear_journal();

    let out = run(&emu, files.path(), &["apply", "--plan", "plan.json", "--auto-approve"]).await;
    assert_eq!(out.status.code(), Some(1), "carol's conflict exits 1: {}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("conflict: mailbox_quota_mb changed live since the plan"), "{text}");
    let journal = emu.journal();
    assert!(calls(&journal, "CreateAlias").is_empty(), "the planned add is there already");
    assert_eq!(calls(&journal, "DeleteAlias").len(), 2, "alice's old one, bob's");
    assert!(operations_on(&journal, &carol_id).iter().all(|o| o != "UpdateMailboxQuota"));
    assert_eq!(emu.mailbox_quota(ORG, "carol"), Some(30_000));
    assert_eq!(emu.aliases(ORG, "alice"), ["a.l@acme.example", "NEW@acme-corp.example"]);
    assert_eq!(emu.mailbox_quota(ORG, "alice"), Some(51_200));
    assert!(emu.aliases(ORG, "bob").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn mailbox_changes_count_each_user_once_toward_the_safety_limit() {
    let emu = mailbox_emulator(true, Faults::default()).await;
    let files = Files::new();
    files.write("acme.yaml", FILE);
    let out = run(&emu, files.path(), &["plan", "--format", "json", "acme.yaml"]).await;
    let plan: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(plan["summary"]["to_update"], 3, "alice (four keys), bob, carol: once each");
    let out =
        run(&emu, files.path(), &["apply", "--auto-approve", "--max-changes", "2", "acme.yaml"])
            .await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(unwrapped(&stderr(&out)).contains("3users"), "{}", stderr(&out));
    assert_no_write(&emu);
    let out =
        run(&emu, files.path(), &["apply", "--auto-approve", "--max-changes", "3", "acme.yaml"])
            .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn mailbox_redact_hides_aliases_and_quota_but_shows_group_names() {
    let emu = mailbox_emulator(true, Faults::default()).await;
    let files = Files::new();
    files.write("acme.yaml", FILE);
    for format in ["text", "json", "markdown"] {
        let out = run(
            &emu,
            files.path(),
            &["plan", "--format", format, "--redact", "aliases,mailbox_quota_mb", "acme.yaml"],
        )
        .await;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let shown = stdout(&out);
        for secret in ["new@acme-corp", "old@acme", "a.l@acme", "10240", "51200", "20480", "bobby@"]
        {
            assert!(!shown.to_lowercase().contains(secret), "{format}: {secret} leaked:\n{shown}");
        }
        assert!(shown.contains("engineering") && shown.contains("all-staff"), "{format}: {shown}");
        assert!(shown.contains("(redacted hmac:"), "{format}: {shown}");
    }
    let out = run(&emu, files.path(), &["plan", "--redact", "groups", "acme.yaml"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("group names are identifiers"), "{}", stderr(&out));
}

/// More aliases than the service allows: the writes stop at its LimitExceededException, and
/// the report says how many of the step's writes were made before it (the user is not as it
/// was, nor as planned).
#[tokio::test(flavor = "multi_thread")]
async fn mailbox_apply_cut_short_by_the_alias_limit_says_how_far_it_got() {
    let emu = mailbox_emulator(true, Faults::default()).await;
    let files = Files::new();
    let aliases: Vec<String> = (0..102).map(|i| format!("c{i}@acme.example")).collect();
    files.write(
        "acme.yaml",
        &format!("organization: acme\nusers:\n  carol:\n    aliases: [{}]\n", aliases.join(", ")),
    );
    let out = run(&emu, files.path(), &["apply", "--auto-approve", "acme.yaml"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let made = emu.aliases(ORG, "carol").len();
    assert!(made > 0 && made < 102, "{made}");
    let text = stdout(&out);
    assert!(text.contains("LimitExceededException"), "{text}");
    // A quota is not a throttle: the refused CreateAlias is sent once, not retried.
    let refused = emu
        .journal()
        .iter()
        .filter(|e| e.operation == "CreateAlias" && e.outcome != JournalOutcome::Ok)
        .count();
    assert_eq!(refused, 1, "LimitExceededException retried");
    assert!(
        text.contains(&format!("already done: {made} of the 102 alias writes; the rest is not")),
        "{text}"
    );
}
