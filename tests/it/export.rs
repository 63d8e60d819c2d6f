//! `export` against the emulator: tricky values survive the round trip (export → validate →
//! plan is empty), unmanageable users are left out and listed, output is stable.

use crate::support::*;
use proptest::prelude::*;
use workmail_reconcile::attrs::{AttrValue, Attribute::*};
use workmail_reconcile::directory::{Limiter, SdkDirectory};
use workmail_reconcile::emulator::{Seed, SeedUser, UpdateSemantics};
use workmail_reconcile::live::UserState;

const TRICKY: [&str; 22] = [
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
    let yaml = std::fs::read_to_string(files.path().join("acme.yaml")).expect("exported file");
    assert!(yaml.contains("#   gone: DELETED users cannot be managed"), "{yaml}");
    assert!(yaml.contains("#   postmaster: role SYSTEM_USER cannot be updated"), "{yaml}");
    assert!(yaml.contains("#   room: role RESOURCE cannot be updated"), "{yaml}");
    assert!(yaml.contains("  sleeper:\n"), "DISABLED users are exported: {yaml}");

    let journal = emu.journal();
    assert_eq!(calls(&journal, "ListUsers").len(), 2, "150 users: two pages of 100");
    assert_eq!(calls(&journal, "DescribeUser").len(), 22 + 120 + 4, "one per manageable user");

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
            let exported = workmail_reconcile::export::export(&directory, "acme", 8, || ()).await.expect("export");
            let yaml = workmail_reconcile::export::to_yaml(&exported, "schema.json");
            let desired = workmail_reconcile::spec::load_str("export.yaml", &yaml)
                .unwrap_or_else(|e| panic!("export must load: {e:?}\n{yaml}"));
            let engine = workmail_reconcile::reconcile::Reconciler::new(directory.clone(), 8);
            let plan = engine.plan(&desired, |_| ()).await.plan;
            assert!(plan.changes.is_empty() && plan.errors.is_empty(), "{plan:?}\n{yaml}");
            for (i, v) in values.iter().enumerate() {
                assert_eq!(emu.user(ORG, &format!("p{i}")).expect("user").get(Street), AttrValue::Text(v.clone()));
            }
        });
    }
}
