//! The directory's calls for aliases, groups and quota, through `SdkDirectory` and the real
//! aws-sdk-workmail client against the emulator: every page read, both ListAliases behaviours,
//! the API's errors classified.

use workmail_reconcile::directory::{Directory, DirectoryError, Limiter, SdkDirectory};
use workmail_reconcile::emulator::{
    Emulator, Faults, JournalOutcome, Seed, SeedGroup, SeedOrganization, SeedUser,
};
use workmail_reconcile::model::live::{MemberKind, UserState};

use crate::emulator::start_with;
use crate::emulator_mailbox::id;
use crate::support::ORG;

/// 150 groups (two pages of ListGroups), alice in 120 of them (two pages of ListGroupsForEntity).
fn seed() -> Seed {
    let mut org = SeedOrganization::new(ORG, Some("acme"), "acme.example")
        .mail_domain("acme-corp.example")
        .user(
            SeedUser::new("alice")
                .email("alice@acme.example")
                .alias("alice@acme-corp.example")
                .alias("a.liddell@acme.example")
                .quota(10_240),
        )
        .user(SeedUser::new("bob").email("bob@acme.example"))
        .user(SeedUser::new("gone").email("gone@acme.example").state(UserState::Deleted));
    for n in 0..150 {
        let mut group =
            SeedGroup::new(&format!("team-{n:03}")).email(&format!("t{n}@acme.example"));
        if n < 120 {
            group = group.member("alice");
        }
        org = org.group(group);
    }
    org = org.group(SeedGroup::new("parents").member("team-000").member("bob"));
    Seed::default().organization(org)
}

async fn start() -> (Emulator, SdkDirectory) {
    let emu = start_with(seed(), Faults::default()).await;
    let directory = SdkDirectory::new(emu.sdk_config(), Limiter::new(4, None));
    (emu, directory)
}

fn calls(emu: &Emulator, operation: &str) -> usize {
    emu.journal().iter().filter(|e| e.operation == operation).count()
}

#[tokio::test]
async fn list_aliases_answers_as_the_endpoint_does_with_or_without_the_primary() {
    let (emu, directory) = start().await;
    let alice = id(&emu, "alice");
    emu.set_list_aliases_include_primary(true);
    let mut with = directory.list_aliases(ORG, &alice).await.unwrap();
    with.sort();
    assert_eq!(with, ["a.liddell@acme.example", "alice@acme-corp.example", "alice@acme.example"]);
    emu.set_list_aliases_include_primary(false);
    let mut without = directory.list_aliases(ORG, &alice).await.unwrap();
    without.sort();
    assert_eq!(without, ["a.liddell@acme.example", "alice@acme-corp.example"]);
}

#[tokio::test]
async fn group_listings_read_every_page() {
    let (emu, directory) = start().await;
    let groups = directory.list_groups(ORG).await.unwrap();
    assert_eq!(groups.len(), 151);
    assert_eq!(calls(&emu, "ListGroups"), 2, "two pages of at most 100");
    let team = groups.iter().find(|g| g.name == "team-007").unwrap();
    assert_eq!(team.email.as_deref(), Some("t7@acme.example"));
    assert_eq!(team.state, UserState::Enabled);

    let of_alice = directory.list_groups_for_entity(ORG, &id(&emu, "alice")).await.unwrap();
    assert_eq!(of_alice.len(), 120);
    assert_eq!(calls(&emu, "ListGroupsForEntity"), 2);
    assert!(of_alice.iter().any(|g| g.name == "team-119" && g.group_id == id(&emu, "team-119")));

    let members = directory.list_group_members(ORG, &id(&emu, "parents")).await.unwrap();
    let mut kinds: Vec<_> = members.iter().map(|m| (m.name.as_str(), m.kind)).collect();
    kinds.sort_by_key(|(name, _)| *name);
    assert_eq!(kinds, [("bob", MemberKind::User), ("team-000", MemberKind::Group)]);
}

#[tokio::test]
async fn writes_change_the_directory_and_reads_see_them() {
    let (emu, directory) = start().await;
    let (alice, bob) = (id(&emu, "alice"), id(&emu, "bob"));
    directory.create_alias(ORG, &bob, "robert@acme-corp.example").await.unwrap();
    directory.delete_alias(ORG, &alice, "a.liddell@acme.example").await.unwrap();
    assert_eq!(emu.aliases(ORG, "bob"), ["robert@acme-corp.example"]);
    assert_eq!(emu.aliases(ORG, "alice"), ["alice@acme-corp.example"]);

    let parents = id(&emu, "parents");
    directory.associate_member_to_group(ORG, &parents, &alice).await.unwrap();
    directory.disassociate_member_from_group(ORG, &parents, &bob).await.unwrap();
    let mut members = emu.members_of(ORG, "parents");
    members.sort();
    assert_eq!(members, ["alice", "team-000"]);

    assert_eq!(directory.mailbox_details(ORG, &alice).await.unwrap().quota_mb, 10_240);
    directory.update_mailbox_quota(ORG, &alice, 51_200).await.unwrap();
    assert_eq!(directory.mailbox_details(ORG, &alice).await.unwrap().quota_mb, 51_200);
    assert_eq!(emu.mailbox_quota(ORG, "alice"), Some(51_200));
}

#[tokio::test]
async fn the_apis_refusals_arrive_as_directory_errors() {
    let (emu, directory) = start().await;
    let bob = id(&emu, "bob");
    let service_code = |error: DirectoryError| match error {
        DirectoryError::Service { code, .. } => code,
        other => panic!("not a service error: {other:?}"),
    };
    let in_use = directory.create_alias(ORG, &bob, "a.liddell@acme.example").await.unwrap_err();
    assert_eq!(service_code(in_use), "EmailAddressInUseException");
    let foreign = directory.create_alias(ORG, &bob, "bob@elsewhere.example").await.unwrap_err();
    assert_eq!(service_code(foreign), "MailDomainNotFoundException");
    let nobody = "00000000-0000-0000-0000-000000000000";
    assert_eq!(directory.list_aliases(ORG, nobody).await, Err(DirectoryError::UserNotFound));
    let gone = id(&emu, "gone");
    assert!(matches!(
        directory.update_mailbox_quota(ORG, &gone, 100).await,
        Err(DirectoryError::EntityState(_))
    ));
    // Nothing was changed by the refused writes.
    assert_eq!(emu.aliases(ORG, "bob"), Vec::<String>::new());
    assert!(emu.aliases(ORG, "alice").contains(&"a.liddell@acme.example".to_string()));
}

/// A throttled answer to each new operation slows the limiter down as one to DescribeUser does:
/// the interceptor knows every operation's error type. (Missing, a plan of users managing all
/// three keys had 5 % of its calls throttled at a rate cap instead of 0.4 %.)
#[tokio::test]
async fn a_throttle_of_every_mailbox_operation_reaches_the_limiter() {
    let emu = start_with(seed(), Faults::default()).await;
    let limiter = Limiter::new(4, None);
    let directory = SdkDirectory::new(emu.sdk_config(), limiter.clone());
    let (alice, bob, parents) = (id(&emu, "alice"), id(&emu, "bob"), id(&emu, "parents"));
    let throttle_all = Faults { throttle_rate: 1.0, ..Faults::default() };
    let throttled = |operation: &str| {
        emu.journal()
            .iter()
            .filter(|e| e.operation == operation && e.outcome == JournalOutcome::Throttled)
            .count()
    };
    // Each call meets one throttle (or more, if its retry comes before the faults are lifted),
    // then is answered.
    macro_rules! throttled_once {
        ($operation:literal, $call:expr) => {{
            emu.set_faults(throttle_all.clone());
            let call = $call;
            tokio::pin!(call);
            let result = loop {
                tokio::select! {
                    result = &mut call => break result,
                    _ = tokio::time::sleep(std::time::Duration::from_millis(2)) => {
                        if throttled($operation) > 0 {
                            emu.set_faults(Faults::default());
                        }
                    }
                }
            };
            assert!(result.is_ok(), "{}: {result:?}", $operation);
            assert!(throttled($operation) > 0, "{} was throttled", $operation);
        }};
    }
    throttled_once!("ListAliases", directory.list_aliases(ORG, &alice));
    throttled_once!("ListGroups", directory.list_groups(ORG));
    throttled_once!("ListGroupsForEntity", directory.list_groups_for_entity(ORG, &alice));
    throttled_once!("ListGroupMembers", directory.list_group_members(ORG, &parents));
    throttled_once!("GetMailboxDetails", directory.mailbox_details(ORG, &alice));
    throttled_once!("CreateAlias", directory.create_alias(ORG, &bob, "rob@acme.example"));
    throttled_once!("DeleteAlias", directory.delete_alias(ORG, &bob, "rob@acme.example"));
    throttled_once!(
        "AssociateMemberToGroup",
        directory.associate_member_to_group(ORG, &parents, &alice)
    );
    throttled_once!(
        "DisassociateMemberFromGroup",
        directory.disassociate_member_from_group(ORG, &parents, &alice)
    );
    throttled_once!("UpdateMailboxQuota", directory.update_mailbox_quota(ORG, &alice, 20_480));
    let journaled = emu.journal().iter().filter(|e| e.outcome == JournalOutcome::Throttled).count();
    assert_eq!(limiter.stats().throttled, journaled as u64, "every throttle counted as one");
}
