//! The emulator's whole mailbox — mail domains, aliases, groups with members, mailbox quota —
//! driven by the real aws-sdk-workmail client over HTTP.

use aws_sdk_workmail::Client;
use aws_sdk_workmail::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_workmail::types::{
    EntityState, ListGroupsFilters, ListGroupsForEntityFilters, MemberType,
};
use std::collections::BTreeSet;
use workmail_reconcile::emulator::{
    DEFAULT_MAILBOX_QUOTA_MB, Emulator, EmulatorConfig, Faults, JournalOutcome, Seed, SeedGroup,
    SeedOrganization, SeedUser,
};
use workmail_reconcile::model::live::UserState;

use crate::emulator::{no_retry_client, outcomes, raw_http, start_with};
use crate::support::ORG;

/// An id of the right shape that names no one.
const NOBODY: &str = "00000000-0000-0000-0000-000000000000";

fn acme() -> SeedOrganization {
    SeedOrganization::new(ORG, Some("acme"), "acme.example")
        .mail_domain("acme-corp.example")
        .user(
            SeedUser::new("alice")
                .email("alice@acme.example")
                .alias("alice@acme-corp.example")
                .alias("a.liddell@acme.example")
                .quota(10_240),
        )
        .user(SeedUser::new("bob").state(UserState::Disabled))
        .user(SeedUser::new("carol").email("carol@acme.example").state(UserState::Deleted))
        .user(SeedUser::new("dave"))
        .group(
            SeedGroup::new("engineering")
                .email("eng@acme.example")
                .alias("dev@acme.example")
                .member("alice")
                .member("dave"),
        )
        .group(SeedGroup::new("sales").member("dave"))
        .group(SeedGroup::new("all-staff").member("engineering").member("sales"))
        .group(SeedGroup::new("dormant").state(UserState::Disabled))
        .group(SeedGroup::new("old").state(UserState::Deleted))
}

async fn start() -> (Emulator, Client) {
    let emu = start_with(Seed::default().organization(acme()), Faults::default()).await;
    let client = no_retry_client(&emu);
    (emu, client)
}

/// The id of a user or group.
pub(crate) fn id(emu: &Emulator, name: &str) -> String {
    emu.user(ORG, name)
        .map(|u| u.id)
        .or_else(|| emu.group(ORG, name).map(|g| g.id))
        .unwrap_or_else(|| panic!("no {name}"))
}

/// Whether a call's connection was closed without an answer.
fn dropped<T, E, R>(result: &Result<T, SdkError<E, R>>) -> bool {
    matches!(result, Err(SdkError::DispatchFailure(_)))
}

/// The error code of a failed call, as the SDK parsed it.
fn code<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    result: Result<T, SdkError<E, R>>,
) -> String {
    let err = result.expect_err("an error answer");
    err.code().unwrap_or_else(|| panic!("no code: {err:?}")).to_owned()
}

/// Every error the emulator answered is one the API model lists for that operation (or a
/// protocol-level error any operation may get).
fn assert_errors_are_modeled(emu: &Emulator) {
    let path = crate::support::repo_root().join("tests/data/workmail-api/service-2.json");
    let model: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut seen = 0;
    for entry in emu.journal() {
        let JournalOutcome::Error { code } = &entry.outcome else { continue };
        if ["ThrottlingException", "SerializationException"].contains(&code.as_str()) {
            continue;
        }
        let modeled = model["operations"][&entry.operation]["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("no operation {}", entry.operation))
            .iter()
            .any(|e| e["shape"] == code.as_str());
        assert!(modeled, "{} answered {code}, which the model does not list", entry.operation);
        seen += 1;
    }
    assert!(seen > 0, "no error was answered");
}

async fn aliases(client: &Client, entity_id: &str) -> Vec<String> {
    let out = client.list_aliases().organization_id(ORG).entity_id(entity_id).send().await.unwrap();
    assert_eq!(out.next_token(), None);
    out.aliases().to_vec()
}

// ---------------------------------------------------------------- mail domains

#[tokio::test]
async fn emulator_list_mail_domains_flags_the_default_and_pages() {
    let (_emu, client) = start().await;
    let out = client.list_mail_domains().organization_id(ORG).send().await.unwrap();
    let domains: Vec<(&str, bool)> =
        out.mail_domains().iter().map(|d| (d.domain_name().unwrap(), d.default_domain())).collect();
    assert_eq!(domains, [("acme-corp.example", false), ("acme.example", true)]);
    let pages: Vec<_> = client
        .list_mail_domains()
        .organization_id(ORG)
        .max_results(1)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(pages.len(), 2);
    let second = pages[1].as_ref().unwrap();
    assert_eq!(second.mail_domains()[0].domain_name(), Some("acme.example"));
    assert_eq!(
        code(client.list_mail_domains().organization_id(ORG).max_results(101).send().await),
        "InvalidParameterException"
    );
}

// ---------------------------------------------------------------- ListAliases

#[tokio::test]
async fn emulator_list_aliases_lists_the_primary_address_or_not() {
    let (emu, client) = start().await;
    let (alice, dave, eng) = (id(&emu, "alice"), id(&emu, "dave"), id(&emu, "engineering"));
    // The default: the primary address is listed among the aliases.
    assert!(emu.list_aliases_include_primary());
    assert_eq!(
        aliases(&client, &alice).await,
        ["a.liddell@acme.example", "alice@acme-corp.example", "alice@acme.example"]
    );
    assert_eq!(aliases(&client, &dave).await, ["dave@acme.example"]);
    assert_eq!(aliases(&client, &eng).await, ["dev@acme.example", "eng@acme.example"]);

    // The other behaviour, switched on the handle...
    emu.set_list_aliases_include_primary(false);
    assert_eq!(
        aliases(&client, &alice).await,
        ["a.liddell@acme.example", "alice@acme-corp.example"]
    );
    assert_eq!(aliases(&client, &dave).await, [] as [&str; 0]);
    assert_eq!(aliases(&client, &eng).await, ["dev@acme.example"]);

    // ...on the control endpoint...
    let put = raw_http(&emu, "PUT", "/_emulator/list-aliases-include-primary", &[], "true").await;
    assert_eq!(put.status, 200);
    assert_eq!(aliases(&client, &dave).await, ["dave@acme.example"]);
    let got = raw_http(&emu, "GET", "/_emulator/list-aliases-include-primary", &[], "").await;
    assert_eq!(got.json(), serde_json::json!(true));
    let bad = raw_http(&emu, "PUT", "/_emulator/list-aliases-include-primary", &[], "yes").await;
    assert_eq!(bad.status, 400);

    // ...and in the configuration.
    let other = Emulator::start(EmulatorConfig {
        seed: Seed::default().organization(acme()),
        list_aliases_include_primary: false,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    assert_eq!(aliases(&no_retry_client(&other), &dave).await, [] as [&str; 0]);
}

#[tokio::test]
async fn emulator_list_aliases_takes_an_id_and_refuses_deleted_entities() {
    let (emu, client) = start().await;
    let list = |entity: String| {
        let client = client.clone();
        async move { client.list_aliases().organization_id(ORG).entity_id(entity).send().await }
    };
    // EntityId is a WorkMailIdentifier: at least 12 characters, and an id.
    assert_eq!(code(list("alice".into()).await), "InvalidParameterException");
    assert_eq!(code(list("alice@acme.example".into()).await), "EntityNotFoundException");
    assert_eq!(code(list(NOBODY.into()).await), "EntityNotFoundException");
    let err = list(id(&emu, "carol")).await.unwrap_err().into_service_error();
    assert!(err.is_entity_state_exception(), "{err:?}");
    // A DISABLED user has no address and no alias.
    assert_eq!(aliases(&client, &id(&emu, "bob")).await, [] as [&str; 0]);
    assert_errors_are_modeled(&emu);
}

#[tokio::test]
async fn emulator_list_aliases_pages_with_max_results_1_to_100() {
    let user =
        (0..100).fold(SeedUser::new("many"), |u, i| u.alias(&format!("m{i:03}@acme.example")));
    let emu = start_with(
        Seed::default()
            .organization(SeedOrganization::new(ORG, Some("acme"), "acme.example").user(user)),
        Faults::default(),
    )
    .await;
    let client = no_retry_client(&emu);
    let many = id(&emu, "many");
    let all = |max: i32| {
        let (client, many) = (client.clone(), many.clone());
        async move {
            client
                .list_aliases()
                .organization_id(ORG)
                .entity_id(many)
                .max_results(max)
                .into_paginator()
                .send()
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .map(|page| page.unwrap().aliases().to_vec())
                .collect::<Vec<_>>()
        }
    };
    // 100 aliases and the primary address.
    let pages = all(100).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [100, 1]);
    let flat: Vec<String> = pages.concat();
    assert_eq!(flat.iter().collect::<BTreeSet<_>>().len(), 101);
    assert_eq!(flat.last().map(String::as_str), Some("many@acme.example"));
    let pages = all(1).await;
    assert_eq!(pages.len(), 101);
    assert_eq!(pages.concat(), flat);
    let too_many =
        client.list_aliases().organization_id(ORG).entity_id(&many).max_results(101).send().await;
    let err = too_many.unwrap_err().into_service_error();
    assert!(err.is_invalid_parameter_exception(), "{err:?}");
    assert!(
        err.message().unwrap().contains("Member must have value less than or equal to 100"),
        "{err:?}"
    );
    let zero =
        client.list_aliases().organization_id(ORG).entity_id(&many).max_results(0).send().await;
    assert_eq!(code(zero), "InvalidParameterException");
    let foreign =
        client.list_aliases().organization_id(ORG).entity_id(&many).next_token("bm9wZQ==").send();
    assert_eq!(code(foreign.await), "InvalidParameterException");
    assert_errors_are_modeled(&emu);
}

// ---------------------------------------------------------------- CreateAlias / DeleteAlias

#[tokio::test]
async fn emulator_create_and_delete_alias() {
    let (emu, client) = start().await;
    let dave = id(&emu, "dave");
    let create = |entity: &str, alias: &str| {
        client.create_alias().organization_id(ORG).entity_id(entity).alias(alias).send()
    };
    let delete = |entity: &str, alias: &str| {
        client.delete_alias().organization_id(ORG).entity_id(entity).alias(alias).send()
    };
    create(&dave, "d.lister@acme-corp.example").await.unwrap();
    assert_eq!(emu.aliases(ORG, "dave"), ["d.lister@acme-corp.example"]);
    // Addresses ignore case: another case of the same address is in use.
    assert_eq!(
        code(create(&dave, "D.Lister@ACME-corp.example").await),
        "EmailAddressInUseException"
    );
    delete(&dave, "D.LISTER@acme-corp.example").await.unwrap();
    assert_eq!(emu.aliases(ORG, "dave"), [] as [&str; 0]);
    // Deleting an alias the user does not have is nothing to do.
    delete(&dave, "d.lister@acme-corp.example").await.unwrap();
    delete(&dave, "a.liddell@acme.example").await.unwrap();
    assert_eq!(emu.aliases(ORG, "alice"), ["a.liddell@acme.example", "alice@acme-corp.example"]);
    // A group takes aliases too.
    let eng = id(&emu, "engineering");
    create(&eng, "developers@acme.example").await.unwrap();
    assert_eq!(emu.aliases(ORG, "engineering"), ["dev@acme.example", "developers@acme.example"]);
    let journal: Vec<(String, JournalOutcome)> =
        emu.journal().into_iter().map(|e| (e.operation, e.outcome)).collect();
    let in_use = JournalOutcome::Error { code: "EmailAddressInUseException".into() };
    let expected = [
        ("CreateAlias", JournalOutcome::Ok),
        ("CreateAlias", in_use),
        ("DeleteAlias", JournalOutcome::Ok),
        ("DeleteAlias", JournalOutcome::Ok),
        ("DeleteAlias", JournalOutcome::Ok),
        ("CreateAlias", JournalOutcome::Ok),
    ]
    .map(|(op, outcome)| (op.to_owned(), outcome));
    assert_eq!(journal, expected);
}

#[tokio::test]
async fn emulator_create_alias_errors_are_the_apis() {
    let (emu, client) = start().await;
    let dave = id(&emu, "dave");
    let create = |entity: &str, alias: &str| {
        client.create_alias().organization_id(ORG).entity_id(entity).alias(alias).send()
    };
    let err = create(&dave, "dave@elsewhere.example").await.unwrap_err().into_service_error();
    assert!(err.is_mail_domain_not_found_exception(), "{err:?}");
    for used in [
        "dave@acme.example",      // its own primary address
        "alice@acme.example",     // another user's primary address
        "a.liddell@acme.example", // another user's alias
        "eng@acme.example",       // a group's address
        "dev@acme.example",       // a group's alias
        "carol@acme.example",     // a DELETED user's address
    ] {
        let err = create(&dave, used).await.unwrap_err().into_service_error();
        assert!(err.is_email_address_in_use_exception(), "{used}: {err:?}");
    }
    assert_eq!(code(create(NOBODY, "x@acme.example").await), "EntityNotFoundException");
    assert_eq!(code(create(&id(&emu, "carol"), "x@acme.example").await), "EntityStateException");
    assert_eq!(code(create(&id(&emu, "bob"), "x@acme.example").await), "EntityStateException");
    assert_eq!(code(create(&dave, "not an address").await), "InvalidParameterException");
    assert_eq!(code(create("dave", "x@acme.example").await), "InvalidParameterException");

    // 100 aliases per user or group; the 101st is refused.
    for i in 0..100 {
        create(&dave, &format!("d{i}@acme.example")).await.unwrap();
    }
    let err = create(&dave, "d100@acme.example").await.unwrap_err().into_service_error();
    assert!(err.is_limit_exceeded_exception(), "{err:?}");
    // An address in use is reported before the limit (a retry after a lost answer says so).
    assert_eq!(code(create(&dave, "d99@acme.example").await), "EmailAddressInUseException");
    assert_eq!(emu.aliases(ORG, "dave").len(), 100);

    let delete = |entity: &str, alias: &str| {
        client.delete_alias().organization_id(ORG).entity_id(entity).alias(alias).send()
    };
    let err = delete(&dave, "dave@acme.example").await.unwrap_err().into_service_error();
    assert!(err.is_invalid_parameter_exception(), "the primary address: {err:?}");
    assert_eq!(code(delete(NOBODY, "x@acme.example").await), "EntityNotFoundException");
    assert_eq!(code(delete(&id(&emu, "carol"), "x@acme.example").await), "EntityStateException");
    assert_errors_are_modeled(&emu);
}

// ---------------------------------------------------------------- faults on the new writes

#[tokio::test]
async fn emulator_lost_answer_after_create_alias_leaves_it_created() {
    let (emu, client) = start().await;
    let dave = id(&emu, "dave");
    emu.set_faults(Faults { drop_rate: 1.0, drop_after_write_fraction: 1.0, ..Faults::default() });
    let create = || {
        client
            .create_alias()
            .organization_id(ORG)
            .entity_id(&dave)
            .alias("d.lister@acme.example")
            .send()
    };
    let err = create().await.unwrap_err();
    assert!(matches!(err, SdkError::DispatchFailure(_)), "{err:?}");
    assert_eq!(emu.aliases(ORG, "dave"), ["d.lister@acme.example"], "applied although unanswered");
    assert_eq!(outcomes(&emu.journal()), [JournalOutcome::Dropped { applied: true }]);
    // The retry finds the address taken: by the very alias the lost answer was about.
    emu.set_faults(Faults::default());
    let err = create().await.unwrap_err().into_service_error();
    assert!(err.is_email_address_in_use_exception(), "{err:?}");
}

#[tokio::test]
async fn emulator_lost_answers_after_the_other_writes() {
    let (emu, client) = start().await;
    let (dave, alice) = (id(&emu, "dave"), id(&emu, "alice"));
    let delete_alias = || {
        let alias = client.delete_alias().organization_id(ORG).entity_id(&alice);
        alias.alias("a.liddell@acme.example").send()
    };
    let join = || {
        let group = client.associate_member_to_group().organization_id(ORG).group_id("sales");
        group.member_id("alice").send()
    };
    let leave = || {
        let group =
            client.disassociate_member_from_group().organization_id(ORG).group_id("engineering");
        group.member_id("dave").send()
    };
    let quota = || {
        let quota = client.update_mailbox_quota().organization_id(ORG).user_id(&dave);
        quota.mailbox_quota(2048).send()
    };
    let create_group = || client.create_group().organization_id(ORG).name("support").send();
    emu.set_faults(Faults { drop_rate: 1.0, drop_after_write_fraction: 1.0, ..Faults::default() });
    let r = delete_alias().await;
    assert!(dropped(&r), "{r:?}");
    let r = join().await;
    assert!(dropped(&r), "{r:?}");
    let r = leave().await;
    assert!(dropped(&r), "{r:?}");
    let r = quota().await;
    assert!(dropped(&r), "{r:?}");
    let r = create_group().await;
    assert!(dropped(&r), "{r:?}");
    // A read dropped after it ran changed nothing.
    let r = client.get_mailbox_details().organization_id(ORG).user_id(&dave).send().await;
    assert!(dropped(&r), "{r:?}");
    let applied: Vec<(String, JournalOutcome)> =
        emu.journal().into_iter().map(|e| (e.operation, e.outcome)).collect();
    let expect = |op: &str, applied: bool| (op.to_owned(), JournalOutcome::Dropped { applied });
    assert_eq!(
        applied,
        [
            expect("DeleteAlias", true),
            expect("AssociateMemberToGroup", true),
            expect("DisassociateMemberFromGroup", true),
            expect("UpdateMailboxQuota", true),
            expect("CreateGroup", true),
            expect("GetMailboxDetails", false),
        ]
    );
    // Every write happened.
    assert_eq!(emu.aliases(ORG, "alice"), ["alice@acme-corp.example"]);
    assert_eq!(emu.groups_of(ORG, "alice"), ["engineering", "sales"]);
    assert_eq!(emu.members_of(ORG, "engineering"), ["alice"]);
    assert_eq!(emu.mailbox_quota(ORG, "dave"), Some(2048));
    assert!(emu.group(ORG, "support").is_some());
    // Retried: set-like writes answer as if new; the others say what is already so.
    emu.set_faults(Faults::default());
    delete_alias().await.unwrap();
    join().await.unwrap();
    quota().await.unwrap();
    assert_eq!(code(leave().await), "EntityNotFoundException");
    assert_eq!(code(create_group().await), "NameAvailabilityException");
    assert_errors_are_modeled(&emu);
}

#[tokio::test]
async fn emulator_throttles_and_server_errors_refuse_the_new_writes_unapplied() {
    let (emu, client) = start().await;
    let dave = id(&emu, "dave");
    emu.set_faults(Faults { throttle_rate: 1.0, ..Faults::default() });
    let r = client
        .create_alias()
        .organization_id(ORG)
        .entity_id(&dave)
        .alias("x@acme.example")
        .send()
        .await;
    assert_eq!(code(r), "ThrottlingException");
    emu.set_faults(Faults { server_error_rate: 1.0, rng_seed: 7, ..Faults::default() });
    let r = client
        .update_mailbox_quota()
        .organization_id(ORG)
        .user_id(&dave)
        .mailbox_quota(1)
        .send()
        .await;
    assert!(matches!(r, Err(SdkError::ServiceError(_))), "{r:?}");
    let r = client
        .associate_member_to_group()
        .organization_id(ORG)
        .group_id("sales")
        .member_id("alice")
        .send()
        .await;
    assert!(r.is_err());
    assert_eq!(emu.aliases(ORG, "dave"), [] as [&str; 0]);
    assert_eq!(emu.mailbox_quota(ORG, "dave"), Some(DEFAULT_MAILBOX_QUOTA_MB));
    assert_eq!(emu.groups_of(ORG, "alice"), ["engineering"]);
    let journal = outcomes(&emu.journal());
    assert_eq!(journal[0], JournalOutcome::Throttled);
    assert!(
        journal[1..].iter().all(|o| matches!(o, JournalOutcome::ServerError { .. })),
        "{journal:?}"
    );
    // The rate cap counts the new operations like any other.
    emu.clear_journal();
    emu.set_faults(Faults { max_rps: Some(1.0), ..Faults::default() });
    let mut throttled = 0;
    for _ in 0..3 {
        let r = client.get_mailbox_details().organization_id(ORG).user_id(&dave).send().await;
        throttled += usize::from(r.is_err());
    }
    assert!(throttled >= 1, "a cap of 1 request per second throttles 3 quick calls");
    assert_eq!(emu.counters().throttled, throttled as u64);
}

// ---------------------------------------------------------------- groups

async fn group_names(client: &Client, filters: Option<ListGroupsFilters>) -> BTreeSet<String> {
    let out = client.list_groups().organization_id(ORG).set_filters(filters).send().await.unwrap();
    out.groups().iter().map(|g| g.name().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn emulator_list_and_describe_groups() {
    let (emu, client) = start().await;
    let all = group_names(&client, None).await;
    assert_eq!(
        all,
        ["all-staff", "dormant", "engineering", "old", "sales"].map(String::from).into()
    );
    let filter = |f: ListGroupsFilters| group_names(&client, Some(f));
    let by_state = filter(ListGroupsFilters::builder().state(EntityState::Deleted).build()).await;
    assert_eq!(by_state, ["old".to_owned()].into());
    let by_name = filter(ListGroupsFilters::builder().name_prefix("ENG").build()).await;
    assert_eq!(by_name, ["engineering".to_owned()].into());
    let by_email = filter(ListGroupsFilters::builder().primary_email_prefix("all-").build()).await;
    assert_eq!(by_email, ["all-staff".to_owned()].into());

    let listed = client.list_groups().organization_id(ORG).send().await.unwrap();
    let eng = listed.groups().iter().find(|g| g.name() == Some("engineering")).unwrap();
    assert_eq!((eng.email(), eng.state()), (Some("eng@acme.example"), Some(&EntityState::Enabled)));
    assert!(eng.enabled_date().is_some());
    let dormant = listed.groups().iter().find(|g| g.name() == Some("dormant")).unwrap();
    assert_eq!((dormant.email(), dormant.state()), (None, Some(&EntityState::Disabled)));

    // Pages of one, through the SDK's paginator, and the range of MaxResults.
    let pages: Vec<_> = client
        .list_groups()
        .organization_id(ORG)
        .max_results(1)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(pages.len(), 5);
    let paged: BTreeSet<String> = pages
        .iter()
        .flat_map(|p| p.as_ref().unwrap().groups().iter().map(|g| g.name().unwrap().to_owned()))
        .collect();
    assert_eq!(paged, all);
    assert_eq!(group_names(&client, None).await.len(), 5);
    let max = client.list_groups().organization_id(ORG).max_results(100).send().await.unwrap();
    assert_eq!((max.groups().len(), max.next_token()), (5, None));
    assert_eq!(
        code(client.list_groups().organization_id(ORG).max_results(101).send().await),
        "InvalidParameterException"
    );

    // DescribeGroup by id, name (any case) or address.
    for ident in [id(&emu, "engineering"), "Engineering".into(), "ENG@acme.example".into()] {
        let g = client.describe_group().organization_id(ORG).group_id(ident).send().await.unwrap();
        assert_eq!(g.group_id(), Some(id(&emu, "engineering").as_str()));
        assert_eq!((g.name(), g.email()), (Some("engineering"), Some("eng@acme.example")));
        assert_eq!(g.state(), Some(&EntityState::Enabled));
        assert!(!g.hidden_from_global_address_list());
    }
    let describe =
        |ident: &str| client.describe_group().organization_id(ORG).group_id(ident).send();
    assert_eq!(code(describe("alice").await), "EntityNotFoundException", "a user is no group");
    assert_eq!(code(describe("dev@acme.example").await), "EntityNotFoundException", "an alias");
    assert_eq!(code(describe("nobody").await), "EntityNotFoundException");
    let old = describe("old").await.unwrap();
    assert_eq!(old.state(), Some(&EntityState::Deleted));
    assert_errors_are_modeled(&emu);
}

#[tokio::test]
async fn emulator_list_group_members_and_groups_for_entity() {
    let (emu, client) = start().await;
    let members = |group: &str| {
        let client = client.clone();
        let group = group.to_owned();
        async move {
            let out =
                client.list_group_members().organization_id(ORG).group_id(group).send().await?;
            Ok::<_, SdkError<_, _>>(
                out.members()
                    .iter()
                    .map(|m| (m.name().unwrap().to_owned(), m.r#type().unwrap().clone()))
                    .collect::<BTreeSet<_>>(),
            )
        }
    };
    assert_eq!(
        members("engineering").await.unwrap(),
        [("alice".into(), MemberType::User), ("dave".into(), MemberType::User)].into()
    );
    assert_eq!(
        members("all-staff@acme.example").await.unwrap(),
        [("engineering".into(), MemberType::Group), ("sales".into(), MemberType::Group)].into()
    );
    assert_eq!(members("dormant").await.unwrap(), BTreeSet::new());
    assert_eq!(code(members("old").await), "EntityStateException");
    assert_eq!(code(members("alice").await), "EntityNotFoundException");

    let groups_for = |entity: &str, prefix: Option<&str>| {
        let client = client.clone();
        let entity = entity.to_owned();
        let filters =
            prefix.map(|p| ListGroupsForEntityFilters::builder().group_name_prefix(p).build());
        async move {
            let out = client
                .list_groups_for_entity()
                .organization_id(ORG)
                .entity_id(entity)
                .set_filters(filters)
                .send()
                .await?;
            Ok::<_, SdkError<_, _>>(
                out.groups().iter().map(|g| g.group_name().unwrap().to_owned()).collect::<Vec<_>>(),
            )
        }
    };
    assert_eq!(groups_for("alice", None).await.unwrap(), ["engineering"]);
    assert_eq!(groups_for("alice@acme.example", None).await.unwrap(), ["engineering"]);
    assert_eq!(groups_for(&id(&emu, "alice"), None).await.unwrap(), ["engineering"]);
    let mut daves = groups_for("dave", None).await.unwrap();
    daves.sort();
    assert_eq!(daves, ["engineering", "sales"]);
    assert_eq!(groups_for("dave", Some("SAL")).await.unwrap(), ["sales"]);
    assert_eq!(groups_for("engineering", None).await.unwrap(), ["all-staff"], "groups nest");
    assert_eq!(groups_for("bob", None).await.unwrap(), [] as [&str; 0]);
    assert_eq!(code(groups_for("carol", None).await), "EntityStateException");
    assert_eq!(code(groups_for("nobody", None).await), "EntityNotFoundException");
    assert_eq!(code(groups_for("a.liddell@acme.example", None).await), "EntityNotFoundException");
    assert_errors_are_modeled(&emu);
}

#[tokio::test]
async fn emulator_list_group_members_pages_250_members() {
    let org = (0..250).fold(
        SeedOrganization::new(ORG, Some("acme"), "acme.example")
            .group((0..250).fold(SeedGroup::new("everyone"), |g, i| g.member(&format!("u{i:03}")))),
        |o, i| o.user(SeedUser::new(&format!("u{i:03}"))),
    );
    let emu = start_with(Seed::default().organization(org), Faults::default()).await;
    let client = no_retry_client(&emu);
    let pages: Vec<_> = client
        .list_group_members()
        .organization_id(ORG)
        .group_id("everyone")
        .max_results(100)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    let sizes: Vec<usize> = pages.iter().map(|p| p.as_ref().unwrap().members().len()).collect();
    assert_eq!(sizes, [100, 100, 50]);
    let names: BTreeSet<String> = pages
        .iter()
        .flat_map(|p| p.as_ref().unwrap().members().iter().map(|m| m.name().unwrap().to_owned()))
        .collect();
    assert_eq!(names.len(), 250);
    // Without MaxResults, 100 at a time; a token stays good while members change.
    let first =
        client.list_group_members().organization_id(ORG).group_id("everyone").send().await.unwrap();
    assert_eq!(first.members().len(), 100);
    let last_seen = first.members()[99].id().unwrap().to_owned();
    emu.edit_group(ORG, "everyone", |g| {
        g.members.remove(&last_seen);
    });
    let second = client
        .list_group_members()
        .organization_id(ORG)
        .group_id("everyone")
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(second.members().len(), 100);
    assert!(second.members()[0].id().unwrap() > last_seen.as_str());
    // Each page size from 1 to 100 is accepted; 0 and 101 are not.
    let one = client
        .list_group_members()
        .organization_id(ORG)
        .group_id("everyone")
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(one.members().len(), 1);
    for bad in [0, 101] {
        let r = client
            .list_group_members()
            .organization_id(ORG)
            .group_id("everyone")
            .max_results(bad)
            .send()
            .await;
        assert_eq!(code(r), "InvalidParameterException");
    }
    let r = client
        .list_groups_for_entity()
        .organization_id(ORG)
        .entity_id("u001")
        .max_results(101)
        .send()
        .await;
    assert_eq!(code(r), "InvalidParameterException");
}

#[tokio::test]
async fn emulator_associate_and_disassociate_members() {
    let (emu, client) = start().await;
    let associate = |group: &str, member: &str| {
        client
            .associate_member_to_group()
            .organization_id(ORG)
            .group_id(group)
            .member_id(member)
            .send()
    };
    let disassociate = |group: &str, member: &str| {
        client
            .disassociate_member_from_group()
            .organization_id(ORG)
            .group_id(group)
            .member_id(member)
            .send()
    };
    // By name, address or id; a DISABLED user can be a member; a group can be.
    associate("sales", "alice@acme.example").await.unwrap();
    associate(&id(&emu, "sales"), "bob").await.unwrap();
    associate("eng@acme.example", "dormant").await.unwrap();
    assert_eq!(emu.members_of(ORG, "sales"), ["alice", "bob", "dave"]);
    assert_eq!(emu.groups_of(ORG, "dormant"), ["engineering"]);
    // A member already there: nothing to do.
    associate("sales", "alice").await.unwrap();
    assert_eq!(emu.members_of(ORG, "sales"), ["alice", "bob", "dave"]);

    assert_eq!(code(associate("nobody", "alice").await), "EntityNotFoundException");
    assert_eq!(code(associate("sales", "nobody").await), "EntityNotFoundException");
    assert_eq!(code(associate("alice", "dave").await), "EntityNotFoundException", "not a group");
    assert_eq!(code(associate("sales", "carol").await), "EntityStateException");
    assert_eq!(code(associate("old", "alice").await), "EntityStateException");
    assert_eq!(code(associate("sales", "sales").await), "InvalidParameterException");
    assert_eq!(code(associate("sales", "not valid!").await), "InvalidParameterException");

    disassociate("sales", "bob").await.unwrap();
    assert_eq!(emu.members_of(ORG, "sales"), ["alice", "dave"]);
    let err = disassociate("sales", "bob").await.unwrap_err().into_service_error();
    assert!(err.is_entity_not_found_exception(), "not a member: {err:?}");
    assert_eq!(code(disassociate("old", "alice").await), "EntityStateException");
    assert_eq!(code(disassociate("sales", "carol").await), "EntityStateException");
    assert_errors_are_modeled(&emu);
}

#[tokio::test]
async fn emulator_create_and_register_a_group() {
    let (emu, client) = start().await;
    let created = client
        .create_group()
        .organization_id(ORG)
        .name("support")
        .hidden_from_global_address_list(true)
        .send()
        .await
        .unwrap();
    let group_id = created.group_id().unwrap().to_owned();
    let g = client.describe_group().organization_id(ORG).group_id(&group_id).send().await.unwrap();
    assert_eq!((g.state(), g.email()), (Some(&EntityState::Disabled), None));
    assert!(g.hidden_from_global_address_list());
    // Names are one namespace for users and groups.
    for taken in ["support", "Alice", "engineering"] {
        let r = client.create_group().organization_id(ORG).name(taken).send().await;
        let err = r.unwrap_err().into_service_error();
        assert!(err.is_name_availability_exception(), "{taken}: {err:?}");
    }
    // GroupName is U+0020 to U+00FF.
    client.create_group().organization_id(ORG).name("Café Team ÿ").send().await.unwrap();
    let r = client.create_group().organization_id(ORG).name("Ā-team").send().await;
    assert_eq!(code(r), "InvalidParameterException");
    let r = client
        .create_user()
        .organization_id(ORG)
        .name("support")
        .display_name("S")
        .password("Passw0rd!x")
        .send()
        .await;
    assert_eq!(code(r), "NameAvailabilityException");

    let register = |email: &str| {
        client.register_to_work_mail().organization_id(ORG).entity_id("support").email(email).send()
    };
    assert_eq!(code(register("a.liddell@acme.example").await), "EmailAddressInUseException");
    assert_eq!(code(register("support@elsewhere.example").await), "MailDomainNotFoundException");
    register("support@acme-corp.example").await.unwrap();
    assert_eq!(
        code(register("support@acme-corp.example").await),
        "EntityAlreadyRegisteredException"
    );
    let g = client
        .describe_group()
        .organization_id(ORG)
        .group_id("support@acme-corp.example")
        .send()
        .await
        .unwrap();
    assert_eq!(g.state(), Some(&EntityState::Enabled));
    client
        .create_alias()
        .organization_id(ORG)
        .entity_id(&group_id)
        .alias("help@acme.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        aliases(&client, &group_id).await,
        ["help@acme.example", "support@acme-corp.example"]
    );
    let r = client
        .register_to_work_mail()
        .organization_id(ORG)
        .entity_id("old")
        .email("old@acme.example")
        .send()
        .await;
    assert_eq!(code(r), "EntityStateException");
    assert_errors_are_modeled(&emu);
}

// ---------------------------------------------------------------- mailbox quota

#[tokio::test]
async fn emulator_mailbox_details_and_quota() {
    let (emu, client) = start().await;
    let details =
        |user: &str| client.get_mailbox_details().organization_id(ORG).user_id(user).send();
    let alice = details("alice").await.unwrap();
    assert_eq!((alice.mailbox_quota(), alice.mailbox_size()), (Some(10_240), 0.0));
    let dave = details("dave@acme.example").await.unwrap();
    assert_eq!(dave.mailbox_quota(), Some(51_200), "WorkMail's default quota");
    // Only a registered user has a mailbox.
    for without in ["bob", "carol", "engineering", "nobody"] {
        assert_eq!(code(details(without).await), "EntityNotFoundException", "{without}");
    }

    let update = |user: &str, mb: i32| {
        client.update_mailbox_quota().organization_id(ORG).user_id(user).mailbox_quota(mb).send()
    };
    update(&id(&emu, "dave"), 2048).await.unwrap();
    assert_eq!(details("dave").await.unwrap().mailbox_quota(), Some(2048));
    update("dave", 51_200).await.unwrap();
    update("dave", 1).await.unwrap();
    assert_eq!(emu.mailbox_quota(ORG, "dave"), Some(1));
    for bad in [0, -5, 51_201, i32::MAX] {
        assert_eq!(code(update("dave", bad).await), "InvalidParameterException", "{bad}");
    }
    assert_eq!(emu.mailbox_quota(ORG, "dave"), Some(1));
    assert_eq!(code(update("bob", 100).await), "EntityStateException");
    assert_eq!(code(update("carol", 100).await), "EntityStateException");
    assert_eq!(code(update("nobody", 100).await), "EntityNotFoundException");

    // Registering a user gives it a mailbox with the default quota.
    client
        .register_to_work_mail()
        .organization_id(ORG)
        .entity_id("bob")
        .email("bob@acme.example")
        .send()
        .await
        .unwrap();
    assert_eq!(details("bob").await.unwrap().mailbox_quota(), Some(51_200));
    assert_errors_are_modeled(&emu);
}

// ---------------------------------------------------------------- state, helpers, seeds

#[tokio::test]
async fn emulator_state_shows_domains_aliases_groups_and_quota() {
    let (emu, _client) = start().await;
    let state = raw_http(&emu, "GET", "/_emulator/state", &[], "").await.json();
    assert_eq!(state["list_aliases_include_primary"], true);
    let org = &state["organizations"][0];
    assert_eq!(org["mail_domains"], serde_json::json!(["acme-corp.example", "acme.example"]));
    let user = |name: &str| {
        org["users"].as_array().unwrap().iter().find(|u| u["name"] == name).unwrap().clone()
    };
    let alice = user("alice");
    assert_eq!(
        alice["aliases"],
        serde_json::json!(["a.liddell@acme.example", "alice@acme-corp.example"])
    );
    assert_eq!(alice["mailbox_quota_mb"], 10_240);
    assert_eq!(alice["groups"], serde_json::json!(["engineering"]));
    assert_eq!(user("bob")["mailbox_quota_mb"], serde_json::Value::Null, "no mailbox");
    let eng =
        org["groups"].as_array().unwrap().iter().find(|g| g["name"] == "engineering").unwrap();
    assert_eq!(eng["email"], "eng@acme.example");
    assert_eq!(eng["aliases"], serde_json::json!(["dev@acme.example"]));
    assert_eq!(eng["members"].as_array().unwrap().len(), 2);
    assert_eq!(eng["groups"], serde_json::json!(["all-staff"]));
}

#[tokio::test]
async fn emulator_outside_edits_of_aliases_groups_and_quota_are_seen_and_not_journaled() {
    let (emu, client) = start().await;
    let dave = id(&emu, "dave");
    assert!(emu.edit_user(ORG, "dave", |u| {
        u.aliases =
            vec!["Z@acme.example".into(), "dave@acme.example".into(), "a@acme.example".into()];
        u.mailbox_quota_mb = 300;
    }));
    // Sorted, and the primary address is never an alias.
    assert_eq!(emu.aliases(ORG, "dave"), ["a@acme.example", "Z@acme.example"]);
    assert_eq!(
        aliases(&client, &dave).await,
        ["a@acme.example", "dave@acme.example", "Z@acme.example"]
    );
    let r = client
        .create_alias()
        .organization_id(ORG)
        .entity_id(id(&emu, "alice"))
        .alias("z@ACME.example")
        .send()
        .await;
    assert_eq!(code(r), "EmailAddressInUseException", "the edit's alias is indexed");
    let quota =
        client.get_mailbox_details().organization_id(ORG).user_id("dave").send().await.unwrap();
    assert_eq!(quota.mailbox_quota(), Some(300));
    let alice_id = id(&emu, "alice");
    assert!(emu.edit_group(ORG, "sales", |g| {
        g.members.insert(alice_id.clone());
        g.aliases.push("deals@acme.example".into());
    }));
    assert_eq!(emu.groups_of(ORG, "alice"), ["engineering", "sales"]);
    assert_eq!(emu.aliases(ORG, "sales@acme.example"), ["deals@acme.example"]);
    assert!(!emu.edit_group(ORG, "alice", |_| {}), "alice is no group");
    assert!(emu.journal().iter().all(|e| !e.operation.starts_with("Edit")));
    assert_eq!(emu.journal().len(), 3, "only the API calls");
}

#[test]
fn emulator_mailbox_seed_yaml_parses_and_errors_name_line_and_column() {
    let yaml = "organizations:
  - alias: acme
    default_mail_domain: acme.example
    mail_domains: [acme-corp.example]
    users:
      - name: alice
        aliases: [a.liddell@acme.example, alice@acme-corp.example]
        mailbox_quota_mb: 10240
    groups:
      - name: engineering
        email: eng@acme.example
        hidden_from_global_address_list: true
        members: [alice]
";
    let seed = Seed::from_yaml(yaml).unwrap();
    let acme = &seed.organizations[0];
    assert_eq!(acme.mail_domains, ["acme-corp.example"]);
    assert_eq!(acme.users[0].aliases, ["a.liddell@acme.example", "alice@acme-corp.example"]);
    assert_eq!(acme.users[0].mailbox_quota_mb, Some(10_240));
    assert_eq!(
        acme.groups[0],
        SeedGroup {
            hidden_from_global_address_list: true,
            ..SeedGroup::new("engineering").email("eng@acme.example").member("alice")
        }
    );
    let at = |yaml: String| {
        let err = Seed::from_yaml(&yaml).unwrap_err();
        (err.line, err.column, err.to_string())
    };
    // A string where a list belongs.
    let (line, column, message) = at(yaml.replace("members: [alice]", "members: alice"));
    assert_eq!((line, column), (Some(13), Some(18)), "{message}");
    // A quota that is no whole number.
    let (line, _, message) = at(yaml.replace("10240", "-1"));
    assert_eq!(line, Some(8), "{message}");
    let (line, _, message) = at(yaml.replace("10240", "lots"));
    assert_eq!(line, Some(8), "{message}");
    // An unknown group key names itself and where it is.
    let (line, _, message) = at(yaml.replace("        members:", "        member:"));
    assert_eq!(line, Some(13), "{message}");
    assert!(message.contains("unknown field `member`"), "{message}");
    // A list where a string belongs.
    let (line, _, message) =
        at(yaml.replace("email: eng@acme.example", "email: [eng@acme.example]"));
    assert_eq!(line, Some(11), "{message}");
    // The rules of the directory name their place.
    let err = Seed::from_yaml(&yaml.replace("alice@acme-corp.example", "alice@globex.example"))
        .unwrap_err();
    assert!(
        err.message.starts_with("organizations[0].users[0] (alice): aliases[1] alice@globex.example is not in a mail domain"),
        "{err}"
    );
}

#[test]
fn emulator_example_seed_has_groups_aliases_and_quotas() {
    let path = crate::support::repo_root().join("examples/emulator-seed.yaml");
    let seed = Seed::from_yaml(&std::fs::read_to_string(path).unwrap()).unwrap();
    let orgs = &seed.organizations;
    assert!(orgs.iter().any(|o| !o.groups.is_empty() && !o.mail_domains.is_empty()));
    assert!(orgs.iter().flat_map(|o| &o.users).any(|u| !u.aliases.is_empty()));
    assert!(orgs.iter().flat_map(|o| &o.users).any(|u| u.mailbox_quota_mb.is_some()));
}
