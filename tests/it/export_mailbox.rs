//! The YAML export's mailbox keys — `aliases`, `groups`, `mailbox_quota_mb` — against the
//! emulator: every exported user gets them (the primary address never among the aliases,
//! whichever way the service lists it), one call per key and user, none with
//! `--attributes-only`, and the file plans clean.

use crate::support::*;
use workmail_reconcile::emulator::{Seed, SeedGroup, SeedOrganization, SeedUser, UpdateSemantics};
use workmail_reconcile::model::attrs::Attribute::*;
use workmail_reconcile::model::live::UserState;

fn mailbox_seed() -> Seed {
    let org = SeedOrganization::new(ORG, Some("acme"), "acme.example")
        .mail_domain("acme-corp.example")
        .user(
            user("alice", &[(DisplayName, "Alice")])
                .alias("alice@acme-corp.example")
                .alias("A.Liddell@acme.example")
                .quota(10_240),
        )
        .user(user("dave", &[]))
        .user(SeedUser::new("bob").state(UserState::Disabled))
        .user(SeedUser::new("room").email("room@acme.example").role("RESOURCE"))
        .group(SeedGroup::new("engineering").member("alice").member("dave").member("bob"))
        .group(SeedGroup::new("Sales, EMEA").email("sales@acme.example").member("alice"))
        .group(SeedGroup::new("all-staff").member("engineering"));
    Seed::default().organization(org)
}

const ALICE: &str = "  alice:
    display_name: Alice
    hidden_from_global_address_list: false
    role: USER
    aliases:
      - A.Liddell@acme.example
      - alice@acme-corp.example
    groups:
      - engineering
      - Sales, EMEA
    mailbox_quota_mb: 10240
";

const BOB: &str = "  bob:
    hidden_from_global_address_list: false
    role: USER
    aliases: []
    groups:
      - engineering
";

const DAVE: &str = "  dave:
    hidden_from_global_address_list: false
    role: USER
    aliases: []
    groups:
      - engineering
    mailbox_quota_mb: 51200
";

#[tokio::test(flavor = "multi_thread")]
async fn yaml_export_writes_aliases_groups_and_quota_for_every_user() {
    for include_primary in [true, false] {
        let emu = emulator(mailbox_seed(), UpdateSemantics::Patch).await;
        emu.set_list_aliases_include_primary(include_primary);
        let files = Files::new();
        let out = run(&emu, files.path(), &["export", "--organization", "acme"]).await;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let yaml = stdout(&out);
        for user in [ALICE, BOB, DAVE] {
            assert!(yaml.contains(user), "include primary {include_primary}:\n{user}\nin\n{yaml}");
        }
        assert!(!yaml.contains("alice@acme.example"), "the primary is no alias: {yaml}");
        let journal = emu.journal();
        // bob has no mailbox: no ListAliases and no GetMailboxDetails for him.
        assert_eq!(calls(&journal, "ListAliases").len(), 2);
        assert_eq!(calls(&journal, "ListGroupsForEntity").len(), 3);
        assert_eq!(calls(&journal, "GetMailboxDetails").len(), 2);
        assert_eq!(calls(&journal, "ListGroups").len(), 0);
        assert!(ok_calls(&journal, "ListAliases").len() == 2, "every call answered normally");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn attributes_only_leaves_the_mailbox_keys_and_their_calls_out() {
    let emu = emulator(mailbox_seed(), UpdateSemantics::Patch).await;
    let files = Files::new();
    let args = ["export", "--organization", "acme", "--attributes-only"];
    let out = run(&emu, files.path(), &args).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let yaml = stdout(&out);
    for key in ["aliases", "groups", "mailbox_quota_mb"] {
        assert!(!yaml.contains(key), "{key}: {yaml}");
    }
    let journal = emu.journal();
    for operation in ["ListAliases", "ListGroupsForEntity", "GetMailboxDetails", "ListGroups"] {
        assert_eq!(calls(&journal, operation).len(), 0, "{operation}");
    }
    assert_eq!(calls(&journal, "DescribeUser").len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn skip_declared_reads_the_mailbox_of_undeclared_users_only() {
    let emu = emulator(mailbox_seed(), UpdateSemantics::Patch).await;
    let files = Files::new();
    files.write("users/acme.yaml", "organization: acme\nusers:\n  alice: {}\n");
    let args = ["export", "--organization", "acme", "--skip-declared", "users"];
    let out = run(&emu, files.path(), &args).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let yaml = stdout(&out);
    assert!(yaml.contains(DAVE) && yaml.contains(BOB), "{yaml}");
    assert!(!yaml.contains("alice"), "{yaml}");
    let journal = emu.journal();
    assert_eq!(calls(&journal, "ListAliases").len(), 1, "dave only");
    assert_eq!(calls(&journal, "ListGroupsForEntity").len(), 2, "dave and bob");
}

/// Export, then plan the file: nothing to update, whichever way ListAliases answers.
#[tokio::test(flavor = "multi_thread")]
async fn export_then_plan_is_clean_with_the_mailbox_keys() {
    for include_primary in [true, false] {
        let emu = emulator(mailbox_seed(), UpdateSemantics::Patch).await;
        emu.set_list_aliases_include_primary(include_primary);
        let files = Files::new();
        let args = ["export", "--organization", "acme", "--out", "acme.yaml"];
        let out = run(&emu, files.path(), &args).await;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let validate = run(&emu, files.path(), &["validate", "acme.yaml"]).await;
        assert_eq!(validate.status.code(), Some(0), "{}", stderr(&validate));
        let plan = run(&emu, files.path(), &["plan", "--detailed-exitcode", "acme.yaml"]).await;
        assert_eq!(
            plan.status.code(),
            Some(0),
            "0 to update:\n{}\n{}\n{}",
            stdout(&plan),
            stderr(&plan),
            files.read("acme.yaml")
        );
    }
}
