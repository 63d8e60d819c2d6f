//! The emulator, driven by the real aws-sdk-workmail client over HTTP.

use aws_sdk_workmail::Client;
use aws_sdk_workmail::config::retry::RetryConfig;
use aws_sdk_workmail::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_workmail::types::{EntityState, ListUsersFilters, UserRole};
use aws_smithy_types::retry::ErrorKind;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use tokio::io::AsyncBufReadExt;
use workmail_reconcile::emulator::{
    Counters, Emulator, Faults, JournalEntry, JournalOutcome, Seed, SeedOrganization, SeedUser,
    UpdateSemantics,
};
use workmail_reconcile::model::attrs::{AttrValue, Attribute};
use workmail_reconcile::model::live::UserState;

use crate::support::{ORG, ORG2, emulator_with, text};

const MISSING_ORG: &str = "m-00000000000000000000000000000000";
const IDP_ID: &str = "12345678-1234-1234-1234-123456789012";

fn seed() -> Seed {
    Seed::default()
        .organization(
            SeedOrganization::new(ORG, Some("acme"), "acme.example")
                .user(
                    SeedUser::new("alice")
                        .email("alice@acme.example")
                        .attr(Attribute::DisplayName, "Alice Liddell")
                        .attr(Attribute::FirstName, "Alice")
                        .attr(Attribute::LastName, "Liddell")
                        .attr(Attribute::Department, "R&D")
                        .attr(Attribute::City, "Oxford")
                        .attr(Attribute::Office, "2.14")
                        .attr(Attribute::HiddenFromGlobalAddressList, true)
                        .attr(Attribute::IdentityProviderUserId, IDP_ID),
                )
                .user(SeedUser::new("bob").state(UserState::Disabled))
                .user(SeedUser::new("carol").email("carol@acme.example").state(UserState::Deleted))
                .user(SeedUser::new("system").email("system@acme.example").role("SYSTEM_USER"))
                .user(SeedUser::new("rita").email("rita@acme.example").role("REMOTE_USER")),
        )
        .organization(SeedOrganization::new(ORG2, Some("globex"), "globex.example"))
}

pub(crate) async fn start_with(seed: Seed, faults: Faults) -> Emulator {
    emulator_with(seed, UpdateSemantics::Patch, faults).await
}

async fn start() -> (Emulator, Client) {
    let emu = start_with(seed(), Faults::default()).await;
    let client = Client::from_conf(emu.sdk_config());
    (emu, client)
}

/// Standard retries, with backoff short enough for tests.
pub(crate) fn retrying_client(emu: &Emulator, attempts: u32) -> Client {
    let retry = RetryConfig::standard()
        .with_max_attempts(attempts)
        .with_initial_backoff(Duration::from_millis(5))
        .with_max_backoff(Duration::from_millis(100));
    Client::from_conf(emu.sdk_config().to_builder().retry_config(retry).build())
}

pub(crate) fn no_retry_client(emu: &Emulator) -> Client {
    Client::from_conf(emu.sdk_config().to_builder().retry_config(RetryConfig::disabled()).build())
}

pub(crate) fn outcomes(journal: &[JournalEntry]) -> Vec<JournalOutcome> {
    journal.iter().map(|e| e.outcome.clone()).collect()
}

// ---------------------------------------------------------------- organizations

#[tokio::test]
async fn emulator_lists_and_describes_organizations() {
    let (_emu, client) = start().await;
    let all = client.list_organizations().send().await.unwrap();
    let ids: Vec<_> =
        all.organization_summaries().iter().map(|o| o.organization_id().unwrap()).collect();
    assert_eq!(ids, [ORG, ORG2]);
    assert_eq!(all.organization_summaries()[0].alias(), Some("acme"));
    assert_eq!(all.organization_summaries()[0].default_mail_domain(), Some("acme.example"));
    assert_eq!(all.organization_summaries()[0].state(), Some("Active"));
    assert_eq!(all.next_token(), None);

    // One per page, through the SDK's paginator.
    let pages: Vec<_> = client
        .list_organizations()
        .max_results(1)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(pages.len(), 2);
    assert!(pages[0].as_ref().unwrap().next_token().is_some());

    let org = client.describe_organization().organization_id(ORG).send().await.unwrap();
    assert_eq!(org.organization_id(), Some(ORG));
    assert_eq!(org.alias(), Some("acme"));
    assert_eq!(org.state(), Some("Active"));
    assert_eq!(org.default_mail_domain(), Some("acme.example"));
    assert_eq!(
        org.arn(),
        Some(format!("arn:aws:workmail:us-east-1:111122223333:organization/{ORG}").as_str())
    );
    assert!(org.completed_date().is_some());

    let err = client.describe_organization().organization_id(MISSING_ORG).send().await.unwrap_err();
    assert!(err.into_service_error().is_organization_not_found_exception());
    let err = client.describe_organization().organization_id("acme").send().await.unwrap_err();
    let err = err.into_service_error();
    assert!(err.is_invalid_parameter_exception(), "{err:?}");
    assert!(err.message().unwrap().contains("at 'organizationId'"), "{err:?}");
}

// ---------------------------------------------------------------- ListUsers

#[tokio::test]
async fn emulator_list_users_pages_250_users_in_pages_of_100() {
    let mut org = SeedOrganization::new(ORG, Some("acme"), "acme.example");
    for i in 0..250 {
        org = org
            .user(SeedUser::new(&format!("user{i:03}")).email(&format!("user{i:03}@acme.example")));
    }
    let emu = start_with(Seed::default().organization(org), Faults::default()).await;
    let client = Client::from_conf(emu.sdk_config());

    let mut sizes = Vec::new();
    let mut seen = BTreeSet::new();
    let mut token = None;
    loop {
        let page = client
            .list_users()
            .organization_id(ORG)
            .max_results(100)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        sizes.push(page.users().len());
        for u in page.users() {
            assert!(seen.insert(u.id().unwrap().to_owned()), "duplicate {u:?}");
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(sizes, [100, 100, 50]);
    assert_eq!(seen.len(), 250);

    // Default page size is 100 too, and the SDK paginator gets everything.
    let pages =
        client.list_users().organization_id(ORG).into_paginator().send().collect::<Vec<_>>().await;
    let items: usize = pages.iter().map(|p| p.as_ref().unwrap().users().len()).sum();
    assert_eq!((pages.len(), items), (3, 250));
    let journal = emu.journal();
    assert_eq!(journal.len(), 6);
    assert!(journal.iter().all(|e| e.operation == "ListUsers" && e.outcome == JournalOutcome::Ok));
    assert_eq!(journal[0].input, json!({"OrganizationId": ORG, "MaxResults": 100}));
    assert!(journal[1].input["NextToken"].is_string());

    // A token belongs to its listing: other filters refuse it.
    let first = client.list_users().organization_id(ORG).max_results(1).send().await.unwrap();
    let err = client
        .list_users()
        .organization_id(ORG)
        .filters(ListUsersFilters::builder().username_prefix("user").build())
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_invalid_parameter_exception());
    let err = client.list_users().organization_id(ORG).max_results(101).send().await.unwrap_err();
    assert!(err.into_service_error().is_invalid_parameter_exception());
}

async fn listed_names(client: &Client, filters: ListUsersFilters) -> Vec<String> {
    let mut names: Vec<String> = client
        .list_users()
        .organization_id(ORG)
        .filters(filters)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .flat_map(|page| page.unwrap().users().to_vec())
        .map(|u| u.name().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn emulator_list_users_filters() {
    let (_emu, client) = start().await;
    let all = listed_names(&client, ListUsersFilters::builder().build()).await;
    assert_eq!(all, ["alice", "bob", "carol", "rita", "system"]);
    let f = ListUsersFilters::builder();
    assert_eq!(listed_names(&client, f.clone().username_prefix("R").build()).await, ["rita"]);
    assert_eq!(
        listed_names(&client, f.clone().display_name_prefix("alice l").build()).await,
        ["alice"]
    );
    assert_eq!(listed_names(&client, f.clone().primary_email_prefix("c").build()).await, ["carol"]);
    assert_eq!(
        listed_names(&client, f.clone().state(EntityState::Disabled).build()).await,
        ["bob"]
    );
    assert_eq!(
        listed_names(&client, f.clone().state(EntityState::Deleted).build()).await,
        ["carol"]
    );
    assert_eq!(
        listed_names(&client, f.clone().identity_provider_user_id_prefix("12345678-").build())
            .await,
        ["alice"]
    );
    // Filters combine.
    assert!(
        listed_names(&client, f.username_prefix("a").state(EntityState::Disabled).build())
            .await
            .is_empty()
    );

    let page = client.list_users().organization_id(ORG).send().await.unwrap();
    let alice = page.users().iter().find(|u| u.name() == Some("alice")).unwrap();
    assert_eq!(alice.email(), Some("alice@acme.example"));
    assert_eq!(alice.display_name(), Some("Alice Liddell"));
    assert_eq!(alice.state(), Some(&EntityState::Enabled));
    assert_eq!(alice.user_role(), Some(&UserRole::User));
    assert_eq!(alice.identity_provider_user_id(), Some(IDP_ID));
    assert!(alice.enabled_date().is_some());
    let bob = page.users().iter().find(|u| u.name() == Some("bob")).unwrap();
    assert_eq!((bob.email(), bob.display_name()), (None, None));

    let err = client.list_users().organization_id(MISSING_ORG).send().await.unwrap_err();
    assert!(err.into_service_error().is_organization_not_found_exception());
}

// ---------------------------------------------------------------- DescribeUser

#[tokio::test]
async fn emulator_describe_user_by_id_name_and_email() {
    let (emu, client) = start().await;
    let id = emu.user(ORG, "alice").unwrap().id;
    assert_eq!(id.len(), 36);
    for ident in [id.as_str(), "alice", "alice@acme.example", "ALICE@ACME.EXAMPLE"] {
        let u = client.describe_user().organization_id(ORG).user_id(ident).send().await.unwrap();
        assert_eq!(u.user_id(), Some(id.as_str()), "{ident}");
        assert_eq!(u.name(), Some("alice"));
        assert_eq!(u.email(), Some("alice@acme.example"));
        assert_eq!(u.state(), Some(&EntityState::Enabled));
        assert_eq!(u.user_role(), Some(&UserRole::User));
        assert_eq!(u.display_name(), Some("Alice Liddell"));
        assert_eq!(u.first_name(), Some("Alice"));
        assert_eq!(u.department(), Some("R&D"));
        assert!(u.hidden_from_global_address_list());
        assert_eq!(u.identity_provider_user_id(), Some(IDP_ID));
        // Empty attributes are left out of the answer.
        assert_eq!((u.initials(), u.telephone(), u.company()), (None, None, None));
        assert!(u.enabled_date().is_some() && u.mailbox_provisioned_date().is_some());
    }

    // Raw JSON: empty members absent, the flag always a boolean, timestamps epoch numbers.
    let raw =
        signed_call(&emu, "DescribeUser", &json!({"OrganizationId": ORG, "UserId": "bob"})).await;
    assert_eq!(raw.status, 200);
    let body = raw.json();
    assert_eq!(body["HiddenFromGlobalAddressList"], json!(false));
    assert!(body.get("DisplayName").is_none() && body.get("Email").is_none(), "{body}");
    assert!(body["DisabledDate"].is_number(), "{body}");
    assert_eq!(body["State"], "DISABLED");

    let deleted =
        client.describe_user().organization_id(ORG).user_id("carol").send().await.unwrap();
    assert_eq!(deleted.state(), Some(&EntityState::Deleted));

    let err =
        client.describe_user().organization_id(ORG).user_id("ghost").send().await.unwrap_err();
    assert!(err.into_service_error().is_entity_not_found_exception());
    let err = client
        .describe_user()
        .organization_id(MISSING_ORG)
        .user_id("alice")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_organization_not_found_exception());
    let err =
        client.describe_user().organization_id(ORG).user_id("bad id!").send().await.unwrap_err();
    assert!(err.into_service_error().is_invalid_parameter_exception());
}

// ---------------------------------------------------------------- UpdateUser

/// Every attribute of a user, as the emulator holds it.
fn all_attrs(emu: &Emulator, user: &str) -> BTreeMap<Attribute, AttrValue> {
    let u = emu.user(ORG, user).unwrap();
    Attribute::ALL.into_iter().map(|a| (a, u.get(a))).collect()
}

async fn partial_update(client: &Client) {
    client
        .update_user()
        .organization_id(ORG)
        .user_id("alice@acme.example")
        .display_name("Alice L.")
        .telephone("+1 555 0100")
        .office("")
        .role(UserRole::RemoteUser)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn emulator_update_user_patch_keeps_members_left_out() {
    let (emu, client) = start().await;
    partial_update(&client).await;
    let expected: BTreeMap<Attribute, AttrValue> = Attribute::ALL
        .into_iter()
        .map(|a| {
            let v = match a {
                Attribute::DisplayName => text("Alice L."),
                Attribute::FirstName => text("Alice"),
                Attribute::LastName => text("Liddell"),
                Attribute::Telephone => text("+1 555 0100"),
                Attribute::Department => text("R&D"),
                Attribute::City => text("Oxford"),
                Attribute::HiddenFromGlobalAddressList => AttrValue::Bool(true),
                Attribute::Role => text("REMOTE_USER"),
                Attribute::IdentityProviderUserId => text(IDP_ID),
                other => other.empty_value(),
            };
            (a, v)
        })
        .collect();
    assert_eq!(all_attrs(&emu, "alice"), expected);
    let journal = emu.journal();
    assert_eq!(journal.len(), 1);
    assert_eq!(
        journal[0].input,
        json!({"OrganizationId": ORG, "UserId": "alice@acme.example", "DisplayName": "Alice L.",
               "Telephone": "+1 555 0100", "Office": "", "Role": "REMOTE_USER"})
    );
}

#[tokio::test]
async fn emulator_update_user_replace_clears_members_left_out() {
    let (emu, client) = start().await;
    emu.set_semantics(UpdateSemantics::Replace);
    partial_update(&client).await;
    let expected: BTreeMap<Attribute, AttrValue> = Attribute::ALL
        .into_iter()
        .map(|a| {
            let v = match a {
                Attribute::DisplayName => text("Alice L."),
                Attribute::Telephone => text("+1 555 0100"),
                Attribute::Role => text("REMOTE_USER"),
                other => other.empty_value(),
            };
            (a, v)
        })
        .collect();
    assert_eq!(all_attrs(&emu, "alice"), expected);

    // Role left out stays, in replace mode too; the full dataset sets everything.
    let mut request = client.update_user().organization_id(ORG).user_id("alice");
    for a in Attribute::ALL {
        request = match a {
            Attribute::DisplayName => request.display_name("D"),
            Attribute::FirstName => request.first_name("F"),
            Attribute::LastName => request.last_name("L"),
            Attribute::Initials => request.initials("I"),
            Attribute::Telephone => request.telephone("T"),
            Attribute::Street => request.street("S"),
            Attribute::JobTitle => request.job_title("J"),
            Attribute::City => request.city("C"),
            Attribute::Company => request.company("Co"),
            Attribute::ZipCode => request.zip_code("02134"),
            Attribute::Department => request.department("De"),
            Attribute::Country => request.country("US"),
            Attribute::Office => request.office("O"),
            Attribute::HiddenFromGlobalAddressList => request.hidden_from_global_address_list(true),
            Attribute::IdentityProviderUserId => request.identity_provider_user_id(IDP_ID),
            Attribute::Role => request,
        };
    }
    request.send().await.unwrap();
    let after = all_attrs(&emu, "alice");
    assert_eq!(after[&Attribute::Role], text("REMOTE_USER"));
    assert_eq!(after[&Attribute::ZipCode], text("02134"));
    assert_eq!(after[&Attribute::HiddenFromGlobalAddressList], AttrValue::Bool(true));
    assert!(after.values().all(|v| !v.is_empty_text()), "{after:?}");
    let described =
        client.describe_user().organization_id(ORG).user_id("alice").send().await.unwrap();
    assert_eq!(described.office(), Some("O"));
}

/// Each refused UpdateUser: the SDK reads the error code the emulator answers with, and the
/// journal records it; the message where the service's own wording is the contract.
#[tokio::test]
async fn emulator_update_user_errors_are_typed() {
    let (emu, client) = start().await;
    let update = |user: &str| client.update_user().organization_id(ORG).user_id(user);
    let length_message = "1 validation error detected: Value at 'city' failed to satisfy \
                          constraint: Member must have length less than or equal to 256";
    let cases = [
        ("an unknown user", update("ghost").display_name("x"), "EntityNotFoundException", None),
        (
            "an unknown organization",
            client.update_user().organization_id(MISSING_ORG).user_id("alice"),
            "OrganizationNotFoundException",
            None,
        ),
        ("a DELETED user", update("carol").display_name("x"), "EntityStateException", None),
        (
            "role SYSTEM_USER",
            update("alice").role(UserRole::SystemUser),
            "InvalidParameterException",
            None,
        ),
        (
            "role RESOURCE",
            update("alice").role(UserRole::Resource),
            "InvalidParameterException",
            None,
        ),
        ("a system user", update("system").display_name("x"), "InvalidParameterException", None),
        (
            "257 characters",
            update("alice").city("x".repeat(257)),
            "InvalidParameterException",
            Some(length_message),
        ),
        (
            "an IdP id off the pattern",
            update("alice").identity_provider_user_id("not-a-uuid"),
            "InvalidParameterException",
            None,
        ),
    ];
    let count = cases.len();
    for (case, request, code, message) in cases {
        let err = request.send().await.expect_err(case);
        assert_eq!(err.code(), Some(code), "{case}");
        if let Some(message) = message {
            assert_eq!(err.message(), Some(message), "{case}");
        }
        assert_eq!(
            emu.journal().last().map(|e| e.outcome.clone()),
            Some(JournalOutcome::Error { code: code.into() }),
            "{case}"
        );
    }
    // 256 characters is fine.
    update("alice").city("x".repeat(256)).send().await.unwrap();
    assert_eq!(emu.counters().failed, count as u64);
    assert_eq!(emu.counters().calls["UpdateUser"], count as u64 + 1);
}

// ---------------------------------------------------------------- CreateUser / RegisterToWorkMail

#[tokio::test]
async fn emulator_create_and_register_user() {
    let (emu, client) = start().await;
    let created = client
        .create_user()
        .organization_id(ORG)
        .name("dave")
        .display_name("Dave")
        .first_name("David")
        .password("Secret-password-1")
        .send()
        .await
        .unwrap();
    let id = created.user_id().unwrap().to_owned();
    let dave = client.describe_user().organization_id(ORG).user_id(&id).send().await.unwrap();
    assert_eq!(
        (dave.name(), dave.state(), dave.email()),
        (Some("dave"), Some(&EntityState::Disabled), None)
    );
    assert_eq!(dave.first_name(), Some("David"));

    let err = client
        .create_user()
        .organization_id(ORG)
        .name("dave")
        .display_name("D")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_name_availability_exception());
    let err = client
        .create_user()
        .organization_id(ORG)
        .name("eve")
        .display_name("Eve")
        .role(UserRole::SystemUser)
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_invalid_parameter_exception());

    let register = || client.register_to_work_mail().organization_id(ORG).entity_id("dave");
    let err = register().email("dave@elsewhere.example").send().await.unwrap_err();
    assert!(err.into_service_error().is_mail_domain_not_found_exception());
    let err = register().email("alice@acme.example").send().await.unwrap_err();
    assert!(err.into_service_error().is_email_address_in_use_exception());
    register().email("dave@acme.example").send().await.unwrap();
    let err = register().email("dave@acme.example").send().await.unwrap_err();
    assert!(err.into_service_error().is_entity_already_registered_exception());
    let err = client
        .register_to_work_mail()
        .organization_id(ORG)
        .entity_id("carol")
        .email("carol2@acme.example")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_entity_state_exception());

    let dave = emu.user(ORG, "dave@acme.example").unwrap();
    assert_eq!((dave.state, dave.id.as_str()), (UserState::Enabled, id.as_str()));
    assert!(dave.enabled_date.is_some() && dave.disabled_date.is_none());
    assert_eq!(
        emu.users(ORG).iter().map(|u| u.name.as_str()).collect::<Vec<_>>(),
        ["alice", "bob", "carol", "dave", "rita", "system"]
    );
}

#[tokio::test]
async fn emulator_edit_user_is_seen_by_the_api_and_not_journaled() {
    let (emu, client) = start().await;
    assert!(emu.edit_user(ORG, "alice", |u| {
        u.attributes.insert(Attribute::Office, text("9.99"));
        u.attributes.insert(Attribute::City, text(""));
    }));
    assert!(!emu.edit_user(ORG, "ghost", |_| {}));
    let u = client.describe_user().organization_id(ORG).user_id("alice").send().await.unwrap();
    assert_eq!((u.office(), u.city()), (Some("9.99"), None));
    assert_eq!(emu.journal().len(), 1);
}

// ---------------------------------------------------------------- signatures and protocol

#[tokio::test]
async fn emulator_rejects_wrong_secret_unknown_key_and_wrong_service() {
    let (emu, _client) = start().await;
    let creds = |akid: &str, secret: &str| {
        aws_sdk_workmail::config::Credentials::new(akid, secret, None, None, "test")
    };
    for (akid, secret, code) in [
        ("test", "wrong", "InvalidSignatureException"),
        ("AKIDUNKNOWN", "test", "UnrecognizedClientException"),
    ] {
        let conf = emu.sdk_config().to_builder().credentials_provider(creds(akid, secret)).build();
        let err = Client::from_conf(conf).list_organizations().send().await.unwrap_err();
        assert_eq!(err.code(), Some(code));
        assert_eq!(err.raw_response().unwrap().status().as_u16(), 403);
    }
    let raw = signed_call_as(&emu, "ListOrganizations", &json!({}), "ses", "test").await;
    assert_eq!(raw.status, 403);
    assert_eq!(raw.json()["__type"], "InvalidSignatureException");
    assert!(raw.json()["Message"].as_str().unwrap().contains("'workmail'"));
    // Any region is accepted.
    let conf = emu
        .sdk_config()
        .to_builder()
        .region(aws_sdk_workmail::config::Region::new("eu-west-1"))
        .build();
    let org =
        Client::from_conf(conf).describe_organization().organization_id(ORG).send().await.unwrap();
    assert!(org.arn().unwrap().starts_with("arn:aws:workmail:eu-west-1:"));
    assert_eq!(
        outcomes(&emu.journal()),
        [
            JournalOutcome::SignatureRejected,
            JournalOutcome::SignatureRejected,
            JournalOutcome::SignatureRejected,
            JournalOutcome::Ok
        ]
    );
    let unsigned =
        raw_http(&emu, "POST", "/", &[("x-amz-target", "WorkMailService.ListOrganizations")], "{}")
            .await;
    assert_eq!(unsigned.status, 403);
    assert_eq!(unsigned.json()["__type"], "MissingAuthenticationTokenException");
}

/// Requests the service refuses before any operation runs, each with its status and code.
#[tokio::test]
async fn emulator_protocol_errors() {
    let (emu, _client) = start().await;
    let cases = [
        (
            "an unknown operation",
            "WorkMailService.DeleteUser",
            "{}".to_string(),
            "UnknownOperationException",
        ),
        (
            "a body that is not JSON",
            "WorkMailService.ListOrganizations",
            "{not json".into(),
            "SerializationException",
        ),
        (
            "a member of the wrong type",
            "WorkMailService.ListUsers",
            json!({"OrganizationId": ORG, "MaxResults": "10"}).to_string(),
            "SerializationException",
        ),
        (
            "a required member missing",
            "WorkMailService.DescribeUser",
            json!({"OrganizationId": ORG}).to_string(),
            "InvalidParameterException",
        ),
    ];
    for (case, target, body, code) in &cases {
        let answer = signed_raw(&emu, target, body, "workmail", "test").await;
        assert_eq!((answer.status, answer.json()["__type"].as_str()), (400, Some(*code)), "{case}");
        assert!(answer.header("x-amzn-requestid").is_some(), "{case}");
    }
    let missing = signed_call(&emu, "DescribeUser", &json!({"OrganizationId": ORG})).await;
    assert_eq!(
        missing.json()["Message"],
        "1 validation error detected: Value null at 'userId' failed to satisfy constraint: Member must not be null"
    );
    // The journal keeps what was sent, a body that is not JSON as its text.
    let journal = emu.journal();
    assert_eq!(journal[0].operation, "DeleteUser");
    assert_eq!(journal[1].input, json!("{not json"));
    let codes: Vec<JournalOutcome> = cases
        .iter()
        .map(|(_, _, _, code)| JournalOutcome::Error { code: code.to_string() })
        .collect();
    assert_eq!(outcomes(&journal[..cases.len()]), codes);
}

// ---------------------------------------------------------------- faults

#[tokio::test]
async fn emulator_max_rps_throttles_and_the_sdk_retries() {
    let (emu, _client) = start().await;
    emu.set_faults(Faults { max_rps: Some(5.0), ..Faults::default() });
    let client = retrying_client(&emu, 30);
    let started = Instant::now();
    for _ in 0..8 {
        client.describe_user().organization_id(ORG).user_id("alice").send().await.unwrap();
    }
    // 5 of burst, then one per 200 ms.
    assert!(started.elapsed() >= Duration::from_millis(500), "{:?}", started.elapsed());
    let journal = emu.journal();
    let ok = journal.iter().filter(|e| e.outcome == JournalOutcome::Ok).count();
    let throttled = journal.iter().filter(|e| e.outcome == JournalOutcome::Throttled).count();
    assert_eq!(ok, 8);
    assert!(throttled > 0);
    assert_eq!(journal.len(), ok + throttled);
    assert_eq!(journal.last().unwrap().outcome, JournalOutcome::Ok);
    let counters = emu.counters();
    assert_eq!(counters.throttled, throttled as u64);
    assert_eq!(counters.calls["DescribeUser"], journal.len() as u64);
}

async fn run_with_random_faults(faults: Faults) -> (Vec<JournalOutcome>, Counters) {
    let emu = start_with(seed(), faults).await;
    let client = retrying_client(&emu, 20);
    for _ in 0..10 {
        client.describe_user().organization_id(ORG).user_id("alice").send().await.unwrap();
    }
    (outcomes(&emu.journal()), emu.counters())
}

#[tokio::test]
async fn emulator_random_throttles_are_retried_and_repeatable() {
    let faults = Faults { throttle_rate: 0.5, rng_seed: 42, ..Faults::default() };
    let (first, counters) = run_with_random_faults(faults.clone()).await;
    let (second, _) = run_with_random_faults(faults).await;
    assert_eq!(first, second, "same seed, same faults");
    assert_eq!(first.iter().filter(|o| **o == JournalOutcome::Ok).count(), 10);
    assert!(counters.throttled > 0);
    assert!(first.iter().all(|o| matches!(o, JournalOutcome::Ok | JournalOutcome::Throttled)));
}

#[tokio::test]
async fn emulator_server_errors_are_retried() {
    let faults = Faults { server_error_rate: 0.5, rng_seed: 7, ..Faults::default() };
    let (outcomes, counters) = run_with_random_faults(faults).await;
    assert_eq!(outcomes.iter().filter(|o| **o == JournalOutcome::Ok).count(), 10);
    let statuses: BTreeSet<u16> = outcomes
        .iter()
        .filter_map(|o| match o {
            JournalOutcome::ServerError { status } => Some(*status),
            _ => None,
        })
        .collect();
    assert!(
        !statuses.is_empty() && statuses.is_subset(&BTreeSet::from([500, 503])),
        "{statuses:?}"
    );
    assert_eq!(counters.failed as usize, outcomes.len() - 10);
}

#[tokio::test]
async fn emulator_latency_is_added_to_every_request() {
    let (emu, client) = start().await;
    emu.set_faults(Faults { latency: Duration::from_millis(150), ..Faults::default() });
    let started = Instant::now();
    client.list_organizations().send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn emulator_dropped_connection_is_a_retryable_dispatch_failure() {
    let (emu, _client) = start().await;
    emu.set_faults(Faults { drop_rate: 1.0, drop_after_write_fraction: 0.0, ..Faults::default() });
    let err = no_retry_client(&emu)
        .describe_user()
        .organization_id(ORG)
        .user_id("alice")
        .send()
        .await
        .unwrap_err();
    let SdkError::DispatchFailure(failure) = &err else {
        panic!("expected a dispatch failure: {err:?}")
    };
    assert!(
        failure.is_io() || failure.as_other() == Some(ErrorKind::TransientError),
        "{failure:?}"
    );
    assert_eq!(outcomes(&emu.journal()), [JournalOutcome::Dropped { applied: false }]);

    // With retries, a run with drops completes and each drop is followed by a retry.
    emu.clear_journal();
    emu.set_faults(Faults {
        drop_rate: 0.4,
        drop_after_write_fraction: 0.0,
        rng_seed: 3,
        ..Faults::default()
    });
    let client = retrying_client(&emu, 20);
    for _ in 0..10 {
        client.describe_user().organization_id(ORG).user_id("alice").send().await.unwrap();
    }
    let journal = outcomes(&emu.journal());
    assert_eq!(journal.iter().filter(|o| **o == JournalOutcome::Ok).count(), 10);
    assert!(emu.counters().dropped > 0);
    assert!(
        journal
            .windows(2)
            .any(|w| w == [JournalOutcome::Dropped { applied: false }, JournalOutcome::Ok])
    );
    assert_eq!(journal.last(), Some(&JournalOutcome::Ok));
}

#[tokio::test]
async fn emulator_drop_after_write_leaves_the_write_applied() {
    let (emu, _client) = start().await;
    emu.set_faults(Faults { drop_rate: 1.0, drop_after_write_fraction: 1.0, ..Faults::default() });
    let err = no_retry_client(&emu)
        .update_user()
        .organization_id(ORG)
        .user_id("alice")
        .display_name("Written")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, SdkError::DispatchFailure(_)), "{err:?}");
    assert_eq!(emu.user(ORG, "alice").unwrap().get(Attribute::DisplayName), text("Written"));
    assert_eq!(outcomes(&emu.journal()), [JournalOutcome::Dropped { applied: true }]);

    // A failed write that is dropped afterwards did not apply anything.
    emu.clear_journal();
    let _ = no_retry_client(&emu).update_user().organization_id(ORG).user_id("ghost").send().await;
    assert_eq!(outcomes(&emu.journal()), [JournalOutcome::Dropped { applied: false }]);

    // Retried after the lost answer, the same update is harmless.
    emu.clear_journal();
    emu.set_faults(Faults {
        drop_rate: 0.5,
        drop_after_write_fraction: 1.0,
        rng_seed: 1,
        ..Faults::default()
    });
    let client = retrying_client(&emu, 20);
    for i in 0..6 {
        client
            .update_user()
            .organization_id(ORG)
            .user_id("alice")
            .display_name(format!("v{i}"))
            .send()
            .await
            .unwrap();
    }
    assert_eq!(emu.user(ORG, "alice").unwrap().get(Attribute::DisplayName), text("v5"));
    assert!(outcomes(&emu.journal()).contains(&JournalOutcome::Dropped { applied: true }));
}

// ---------------------------------------------------------------- control endpoint

#[tokio::test]
async fn emulator_control_endpoint_serves_journal_counters_state_and_faults() {
    let (emu, client) = start().await;
    client.describe_user().organization_id(ORG).user_id("alice").send().await.unwrap();
    let _ = client.describe_user().organization_id(ORG).user_id("ghost").send().await;

    let journal: Vec<JournalEntry> =
        raw_http(&emu, "GET", "/_emulator/journal", &[], "").await.decode();
    // `at` travels as fractional epoch seconds: equal to well under a millisecond.
    let local = emu.journal();
    assert_eq!(journal.len(), local.len());
    for (remote, local) in journal.iter().zip(&local) {
        assert_eq!(
            (&remote.operation, &remote.input, &remote.outcome),
            (&local.operation, &local.input, &local.outcome)
        );
        let delta = remote.at.duration_since(local.at).unwrap_or_else(|e| e.duration());
        assert!(delta < Duration::from_millis(1), "{delta:?}");
    }
    assert_eq!(
        journal[1].outcome,
        JournalOutcome::Error { code: "EntityNotFoundException".into() }
    );
    let counters: Counters = raw_http(&emu, "GET", "/_emulator/counters", &[], "").await.decode();
    assert_eq!(
        counters,
        Counters {
            calls: BTreeMap::from([("DescribeUser".into(), 2)]),
            throttled: 0,
            failed: 1,
            dropped: 0
        }
    );

    let state = raw_http(&emu, "GET", "/_emulator/state", &[], "").await.json();
    assert_eq!(state["semantics"], "patch");
    assert_eq!(state["organizations"][0]["id"], ORG);
    let names: BTreeSet<&str> = state["organizations"][0]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert!(names.contains("alice"));

    let put = raw_http(
        &emu,
        "PUT",
        "/_emulator/faults",
        &[("content-type", "application/json")],
        r#"{"latency_ms": 5, "throttle_rate": 0.25}"#,
    )
    .await;
    assert_eq!(put.status, 200);
    assert_eq!(
        emu.faults(),
        Faults { latency: Duration::from_millis(5), throttle_rate: 0.25, ..Faults::default() }
    );
    let bad = raw_http(&emu, "PUT", "/_emulator/faults", &[], r#"{"drop_rate": 2}"#).await;
    assert_eq!(bad.status, 400);
    let put = raw_http(&emu, "PUT", "/_emulator/semantics", &[], r#""replace""#).await;
    assert_eq!(put.status, 200);
    let cleared = raw_http(&emu, "DELETE", "/_emulator/journal", &[], "").await;
    assert_eq!(cleared.status, 204);
    assert!(emu.journal().is_empty());
}

// ---------------------------------------------------------------- seeds

#[test]
fn emulator_seed_yaml_parses_and_reports_errors_with_their_line() {
    let seed = Seed::from_yaml(
        "organizations:\n  - id: m-0123456789abcdef0123456789abcdef\n    alias: acme\n    default_mail_domain: acme.example\n    users:\n      - name: alice\n        email: alice@acme.example\n        state: ENABLED\n        role: USER\n        display_name: Alice Liddell\n",
    )
    .unwrap();
    assert_eq!(
        seed.organizations[0].users[0].attributes[&Attribute::DisplayName],
        text("Alice Liddell")
    );
    let err = Seed::from_yaml("organizations:\n  - alias: acme\n    default_mail_domain: acme.example\n    users:\n      - name: alice\n        state: ACTIVE\n").unwrap_err();
    assert_eq!(err.line, Some(6), "{err}");
    assert!(err.to_string().starts_with("line 6, column"), "{err}");
    let err = Seed::from_yaml("organizations:\n  - alias: acme\n    default_mail_domain: acme.example\n    users:\n      - name: alice\n      - name: alice\n").unwrap_err();
    assert!(err.message.contains("used twice"), "{err}");
}

#[tokio::test]
async fn emulator_seeded_org_without_id_gets_a_stable_one() {
    let seed = Seed::from_yaml("organizations:\n  - alias: acme\n    default_mail_domain: acme.example\n    users:\n      - name: alice\n").unwrap();
    let a = start_with(seed.clone(), Faults::default()).await;
    let b = start_with(seed, Faults::default()).await;
    let id = a.organization_id("acme").unwrap();
    assert_eq!(Some(id.clone()), b.organization_id("acme"));
    assert_eq!(a.user(&id, "alice").unwrap().id, b.user(&id, "alice").unwrap().id);
    let client = Client::from_conf(a.sdk_config());
    let listed = client.list_organizations().send().await.unwrap();
    assert_eq!(listed.organization_summaries()[0].organization_id(), Some(id.as_str()));
}

// ---------------------------------------------------------------- the binary

#[tokio::test]
async fn emulator_binary_prints_its_url_and_serves_the_sdk() {
    let dir = tempfile::tempdir().unwrap();
    let seed_path = dir.path().join("seed.yaml");
    std::fs::write(
        &seed_path,
        format!("organizations:\n  - id: {ORG}\n    alias: acme\n    default_mail_domain: acme.example\n    users:\n      - name: alice\n        email: alice@acme.example\n        display_name: Alice\n"),
    )
    .unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_workmail-reconcile"))
        .args(["emulator", "--listen", "127.0.0.1:0", "--list-aliases-include-primary", "false"])
        .arg("--seed")
        .arg(&seed_path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    tokio::time::timeout(
        Duration::from_secs(30),
        tokio::io::BufReader::new(stdout).read_line(&mut line),
    )
    .await
    .expect("the URL within 30 s")
    .unwrap();
    let url = line.trim();
    assert!(url.starts_with("http://127.0.0.1:"), "{url:?}");
    let conf = aws_sdk_workmail::Config::builder()
        .behavior_version(aws_sdk_workmail::config::BehaviorVersion::latest())
        .region(aws_sdk_workmail::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_workmail::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .endpoint_url(url)
        .build();
    let client = Client::from_conf(conf);
    let user = client.describe_user().organization_id(ORG).user_id("alice").send().await.unwrap();
    assert_eq!(user.display_name(), Some("Alice"));
    // `--list-aliases-include-primary false`: the primary address is not among the aliases.
    let aliases = client
        .list_aliases()
        .organization_id(ORG)
        .entity_id(user.user_id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(aliases.aliases(), [] as [String; 0]);
    child.kill().await.unwrap();
}

// ---------------------------------------------------------------- raw HTTP helpers

pub(crate) type RawResponse = crate::http_client::Response;

/// One request to the emulator on a fresh connection.
pub(crate) async fn raw_http(
    emu: &Emulator,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> RawResponse {
    let url = emu.url();
    crate::http_client::request(
        crate::http_client::address(&url),
        method,
        path,
        headers,
        body.as_bytes(),
    )
    .await
}

async fn signed_call(emu: &Emulator, operation: &str, input: &Value) -> RawResponse {
    signed_call_as(emu, operation, input, "workmail", "test").await
}

async fn signed_call_as(
    emu: &Emulator,
    operation: &str,
    input: &Value,
    service: &str,
    secret: &str,
) -> RawResponse {
    signed_raw(emu, &format!("WorkMailService.{operation}"), &input.to_string(), service, secret)
        .await
}

/// A request signed with aws-sigv4 directly, to control the service in the credential scope.
async fn signed_raw(
    emu: &Emulator,
    target: &str,
    body: &str,
    service: &str,
    secret: &str,
) -> RawResponse {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use aws_sigv4::sign::v4;
    let host = emu.url().trim_start_matches("http://").to_owned();
    let identity =
        aws_credential_types::Credentials::new("test", secret, None, None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name(service)
        .time(std::time::SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let headers = [
        ("host", host.as_str()),
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", target),
    ];
    let signable = SignableRequest::new(
        "POST",
        format!("http://{host}/"),
        headers.iter().copied(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut all: Vec<(String, String)> =
        headers[1..].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    for (k, v) in instructions.headers() {
        all.push((k.to_owned(), v.to_owned()));
    }
    let refs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    raw_http(emu, "POST", "/", &refs, body).await
}

#[tokio::test]
async fn emulator_stop_closes_the_port() {
    let (emu, client) = start().await;
    client.list_organizations().send().await.unwrap();
    let addr = emu.local_addr();
    emu.stop().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

/// `src/emulator/model.json` is an extract of the vendored API model; it must not drift from it.
#[test]
fn emulator_model_extract_matches_the_api_model() {
    let full_path = crate::support::repo_root().join("tests/data/workmail-api/service-2.json");
    let full = std::fs::read_to_string(&full_path)
        .unwrap_or_else(|e| panic!("the vendored API model {}: {e}", full_path.display()));
    let full: Value = serde_json::from_str(&full).unwrap();
    let extract: Value = serde_json::from_str(
        &std::fs::read_to_string(crate::support::repo_root().join("src/emulator/model.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(extract["metadata"], full["metadata"]);
    for (name, op) in extract["operations"].as_object().unwrap() {
        assert_eq!(op["input"], full["operations"][name]["input"]["shape"], "{name}");
        assert_eq!(op["output"], full["operations"][name]["output"]["shape"], "{name}");
    }
    /// A shape without documentation, the way the extract stores it.
    fn undocumented(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "documentation" | "exception" | "error"))
                    .map(|(k, v)| (k.clone(), undocumented(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    for (name, shape) in extract["shapes"].as_object().unwrap() {
        assert_eq!(shape, &undocumented(&full["shapes"][name]), "shape {name}");
    }
}
