//! [`Directory`] over the real aws-sdk-workmail client.

use super::client::{AttemptNotes, Timeouts, tune};
use super::error::ConnectionFailure;
use super::limiter::Limiter;
use super::sdk_error::{FailedCall, classify};
use super::{Directory, DirectoryError, UpdateRequest};
use crate::model::attrs::{AttrValue, Attribute};
use crate::model::live::{
    GroupMember, GroupMembership, GroupSummary, ListedUser, MailboxDetails, MemberKind,
    ObservedUser, OrganizationSummary, Role, UserState,
};
use aws_sdk_workmail::Client;
use aws_sdk_workmail::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_workmail::operation::describe_user::DescribeUserOutput;
use aws_sdk_workmail::operation::list_aliases::ListAliasesOutput;
use aws_sdk_workmail::operation::list_group_members::ListGroupMembersOutput;
use aws_sdk_workmail::operation::list_groups::ListGroupsOutput;
use aws_sdk_workmail::operation::list_groups_for_entity::ListGroupsForEntityOutput;
use aws_sdk_workmail::operation::list_organizations::ListOrganizationsOutput;
use aws_sdk_workmail::operation::list_users::ListUsersOutput;
use aws_sdk_workmail::types::{
    EntityState, Group, GroupIdentifier, Member, MemberType, User, UserRole,
};
use aws_smithy_async::future::pagination_stream::PaginationStream;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use tokio::time::Instant;

/// The page size ListUsers and ListOrganizations allow at most.
const PAGE_SIZE: i32 = 100;

/// Every WorkMail operation [`SdkDirectory`] calls, by its API name: the request counters of a
/// controller start at 0 for each of them.
pub(crate) const OPERATIONS: [&str; 14] = [
    "ListOrganizations",
    "ListUsers",
    "DescribeUser",
    "UpdateUser",
    "ListAliases",
    "ListGroups",
    "ListGroupsForEntity",
    "ListGroupMembers",
    "GetMailboxDetails",
    "CreateAlias",
    "DeleteAlias",
    "AssociateMemberToGroup",
    "DisassociateMemberFromGroup",
    "UpdateMailboxQuota",
];

/// The WorkMail directory behind an aws-sdk-workmail client, every call under one [`Limiter`].
///
/// The first call that fails without a usable answer (see [`DirectoryError::Connection`])
/// stops the directory: every later call, in this clone or any other, returns
/// [`DirectoryError::Halted`] without being sent, so a dead endpoint costs one timeout, not one
/// per user, and nothing is written after it.
#[derive(Debug, Clone)]
pub struct SdkDirectory {
    client: Client,
    limiter: Limiter,
    timeouts: Timeouts,
    notes: AttemptNotes,
    /// Named in errors before any request got as far as resolving the endpoint.
    region: String,
    halted: Arc<OnceLock<ConnectionFailure>>,
}

impl SdkDirectory {
    /// A directory over `config` (from `build_sdk_config` or the emulator), with our
    /// retry, timeout and limiter settings applied on top, and the default timeouts.
    pub fn new(config: aws_sdk_workmail::Config, limiter: Limiter) -> SdkDirectory {
        SdkDirectory::with_timeouts(config, limiter, Timeouts::default())
    }

    /// [`SdkDirectory::new`] with these timeouts.
    pub(crate) fn with_timeouts(
        config: aws_sdk_workmail::Config,
        limiter: Limiter,
        timeouts: Timeouts,
    ) -> SdkDirectory {
        let notes = AttemptNotes::default();
        let region = config.region().map_or_else(|| "unset".to_string(), ToString::to_string);
        SdkDirectory {
            client: Client::from_conf(tune(config, &limiter, timeouts, &notes)),
            limiter,
            timeouts,
            notes,
            region,
            halted: Arc::new(OnceLock::new()),
        }
    }

    /// The limiter shared by every call.
    pub fn limiter(&self) -> &Limiter {
        &self.limiter
    }

    fn check_halted(&self) -> Result<(), DirectoryError> {
        match self.halted.get() {
            Some(_) => Err(DirectoryError::Halted),
            None => Ok(()),
        }
    }

    /// Send one request under a limiter permit, unless the directory is stopped; a failure
    /// without a usable answer stops it.
    async fn call<T, E>(
        &self,
        operation: &'static str,
        request: impl Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    ) -> Result<T, DirectoryError>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        self.check_halted()?;
        let _permit = self.limiter.acquire().await;
        // The wait for the permit may have outlived the endpoint.
        self.check_halted()?;
        let started = Instant::now();
        request.await.map_err(|err| {
            let fallback = format!("of region {}", self.region);
            let failed = FailedCall {
                operation,
                endpoint: self.notes.endpoint().unwrap_or(&fallback),
                attempt_timeout: self.timeouts.attempt,
                operation_timeout: self.timeouts.operation,
                elapsed: started.elapsed(),
                last_connect_failure: self.notes.connect_failure(),
            };
            let error = classify(err, failed);
            if let DirectoryError::Connection(failure) = &error {
                // Only the first failure is kept: it is what the run reports.
                let _ = self.halted.set(failure.clone());
            }
            error
        })
    }
}

impl SdkDirectory {
    /// The items of each page of a paginated call, converted (an item without what the
    /// conversion needs is skipped), handed to `on_page` page by page. Each page is one call
    /// under its own limiter permit: the paginator sends a request each time it is polled.
    async fn each_page<P: Page, E, I, T>(
        &self,
        operation: &'static str,
        mut pages: PaginationStream<Result<P, SdkError<E, HttpResponse>>>,
        items: impl Fn(&P) -> &[I],
        convert: impl Fn(&I) -> Option<T>,
        mut on_page: impl FnMut(Vec<T>),
    ) -> Result<(), DirectoryError>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        while let Some(page) =
            self.call(operation, async { pages.next().await.transpose() }).await?
        {
            on_page(items(&page).iter().filter_map(&convert).collect());
            // The paginator sends nothing after a page without a token: asking it again would
            // take a permit, a start slot at the rate cap, for no request.
            if page.next_token().is_none_or(str::is_empty) {
                break;
            }
        }
        Ok(())
    }

    /// Every item of every page of a paginated call, converted as in [`Self::each_page`].
    async fn all_pages<P: Page, E, I, T>(
        &self,
        operation: &'static str,
        pages: PaginationStream<Result<P, SdkError<E, HttpResponse>>>,
        items: impl Fn(&P) -> &[I],
        convert: impl Fn(&I) -> Option<T>,
    ) -> Result<Vec<T>, DirectoryError>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let mut all = Vec::new();
        self.each_page(operation, pages, items, convert, |page| all.extend(page)).await?;
        Ok(all)
    }
}

/// A page of a List operation, which says whether another follows.
trait Page {
    fn next_token(&self) -> Option<&str>;
}

macro_rules! page {
    ($($output:ty),*) => {
        $(impl Page for $output {
            fn next_token(&self) -> Option<&str> {
                <$output>::next_token(self)
            }
        })*
    };
}

page!(
    ListOrganizationsOutput,
    ListUsersOutput,
    ListAliasesOutput,
    ListGroupsOutput,
    ListGroupsForEntityOutput,
    ListGroupMembersOutput
);

fn state_of(state: Option<&EntityState>) -> UserState {
    match state {
        Some(EntityState::Disabled) => UserState::Disabled,
        Some(EntityState::Deleted) => UserState::Deleted,
        _ => UserState::Enabled,
    }
}

fn organization_from(
    o: &aws_sdk_workmail::types::OrganizationSummary,
) -> Option<OrganizationSummary> {
    Some(OrganizationSummary {
        id: o.organization_id()?.to_string(),
        alias: o.alias().map(str::to_string),
        state: o.state().map(str::to_string),
        default_mail_domain: o.default_mail_domain().map(str::to_string),
    })
}

fn listed_from(u: &User) -> Option<ListedUser> {
    Some(ListedUser {
        user_id: u.id()?.to_string(),
        name: u.name().unwrap_or_default().to_string(),
        email: u.email().map(str::to_string),
        state: state_of(u.state()),
        role: Role::parse(u.user_role().map_or("", UserRole::as_str)),
    })
}

fn group_from(g: &Group) -> Option<GroupSummary> {
    Some(GroupSummary {
        group_id: g.id()?.to_string(),
        name: g.name().unwrap_or_default().to_string(),
        email: g.email().map(str::to_string),
        state: state_of(g.state()),
    })
}

fn membership_from(g: &GroupIdentifier) -> Option<GroupMembership> {
    Some(GroupMembership {
        group_id: g.group_id()?.to_string(),
        name: g.group_name().unwrap_or_default().to_string(),
    })
}

fn member_from(m: &Member) -> Option<GroupMember> {
    Some(GroupMember {
        member_id: m.id()?.to_string(),
        name: m.name().unwrap_or_default().to_string(),
        kind: match m.r#type() {
            Some(MemberType::Group) => MemberKind::Group,
            _ => MemberKind::User,
        },
        state: state_of(m.state()),
    })
}

/// A quota in MB as the API takes it (an `Integer`): larger values are refused by validation
/// before any call, so saturating never changes what is sent in practice.
fn quota_request(quota_mb: u64) -> i32 {
    i32::try_from(quota_mb).unwrap_or(i32::MAX)
}

fn observed_from(output: DescribeUserOutput, requested: &str) -> ObservedUser {
    let text = |value: Option<&str>| AttrValue::Text(value.unwrap_or_default().to_string());
    let attributes = Attribute::ALL
        .into_iter()
        .map(|attr| {
            let value = match attr {
                Attribute::DisplayName => text(output.display_name()),
                Attribute::FirstName => text(output.first_name()),
                Attribute::LastName => text(output.last_name()),
                Attribute::Initials => text(output.initials()),
                Attribute::Telephone => text(output.telephone()),
                Attribute::Street => text(output.street()),
                Attribute::JobTitle => text(output.job_title()),
                Attribute::City => text(output.city()),
                Attribute::Company => text(output.company()),
                Attribute::ZipCode => text(output.zip_code()),
                Attribute::Department => text(output.department()),
                Attribute::Country => text(output.country()),
                Attribute::Office => text(output.office()),
                Attribute::HiddenFromGlobalAddressList => {
                    AttrValue::Bool(output.hidden_from_global_address_list())
                }
                Attribute::Role => text(output.user_role().map(UserRole::as_str)),
                Attribute::IdentityProviderUserId => text(output.identity_provider_user_id()),
            };
            (attr, value)
        })
        .collect();
    ObservedUser {
        user_id: output.user_id().unwrap_or(requested).to_string(),
        name: output.name().unwrap_or_default().to_string(),
        email: output.email().map(str::to_string),
        state: state_of(output.state()),
        attributes,
    }
}

impl Directory for SdkDirectory {
    fn connection_failure(&self) -> Option<&ConnectionFailure> {
        self.halted.get()
    }

    /// A clone that has forgotten the connection failure that stopped this one, if any: the
    /// next run of a long-running controller tries the endpoint again. Client, limiter and
    /// timeouts are shared with this one.
    fn resumed(&self) -> SdkDirectory {
        SdkDirectory { halted: Arc::new(OnceLock::new()), ..self.clone() }
    }

    async fn list_organizations(&self) -> Result<Vec<OrganizationSummary>, DirectoryError> {
        let pages = self.client.list_organizations().max_results(PAGE_SIZE).into_paginator().send();
        let items = ListOrganizationsOutput::organization_summaries;
        self.all_pages("ListOrganizations", pages, items, organization_from).await
    }

    async fn list_users(&self, organization_id: &str) -> Result<Vec<ListedUser>, DirectoryError> {
        let mut users = Vec::new();
        self.list_users_pages(organization_id, |page| users.extend(page)).await?;
        Ok(users)
    }

    async fn list_users_pages(
        &self,
        organization_id: &str,
        on_page: impl FnMut(Vec<ListedUser>) + Send,
    ) -> Result<(), DirectoryError> {
        let pages = self
            .client
            .list_users()
            .organization_id(organization_id)
            .max_results(PAGE_SIZE)
            .into_paginator()
            .send();
        self.each_page("ListUsers", pages, ListUsersOutput::users, listed_from, on_page).await
    }

    async fn describe_user(
        &self,
        organization_id: &str,
        user: &str,
    ) -> Result<ObservedUser, DirectoryError> {
        let request =
            self.client.describe_user().organization_id(organization_id).user_id(user).send();
        let output = self.call("DescribeUser", request).await?;
        Ok(observed_from(output, user))
    }

    async fn update_user(&self, request: &UpdateRequest) -> Result<(), DirectoryError> {
        let mut call = self
            .client
            .update_user()
            .organization_id(&request.organization_id)
            .user_id(&request.user_id);
        for (attr, value) in &request.attributes {
            let text = value.as_text().map(str::to_string);
            call = match attr {
                Attribute::DisplayName => call.set_display_name(text),
                Attribute::FirstName => call.set_first_name(text),
                Attribute::LastName => call.set_last_name(text),
                Attribute::Initials => call.set_initials(text),
                Attribute::Telephone => call.set_telephone(text),
                Attribute::Street => call.set_street(text),
                Attribute::JobTitle => call.set_job_title(text),
                Attribute::City => call.set_city(text),
                Attribute::Company => call.set_company(text),
                Attribute::ZipCode => call.set_zip_code(text),
                Attribute::Department => call.set_department(text),
                Attribute::Country => call.set_country(text),
                Attribute::Office => call.set_office(text),
                Attribute::HiddenFromGlobalAddressList => {
                    call.set_hidden_from_global_address_list(match value {
                        AttrValue::Bool(b) => Some(*b),
                        AttrValue::Text(_) => None,
                    })
                }
                Attribute::Role => call.set_role(text.map(|r| UserRole::from(r.as_str()))),
                Attribute::IdentityProviderUserId => call.set_identity_provider_user_id(text),
            };
        }
        self.call("UpdateUser", call.send()).await.map(|_| ())
    }

    async fn list_aliases(
        &self,
        organization_id: &str,
        entity_id: &str,
    ) -> Result<Vec<String>, DirectoryError> {
        let pages = self
            .client
            .list_aliases()
            .organization_id(organization_id)
            .entity_id(entity_id)
            .max_results(PAGE_SIZE)
            .into_paginator()
            .send();
        let alias = |a: &String| Some(a.clone());
        self.all_pages("ListAliases", pages, ListAliasesOutput::aliases, alias).await
    }

    async fn list_groups(
        &self,
        organization_id: &str,
    ) -> Result<Vec<GroupSummary>, DirectoryError> {
        let pages = self
            .client
            .list_groups()
            .organization_id(organization_id)
            .max_results(PAGE_SIZE)
            .into_paginator()
            .send();
        self.all_pages("ListGroups", pages, ListGroupsOutput::groups, group_from).await
    }

    async fn list_groups_for_entity(
        &self,
        organization_id: &str,
        entity_id: &str,
    ) -> Result<Vec<GroupMembership>, DirectoryError> {
        let pages = self
            .client
            .list_groups_for_entity()
            .organization_id(organization_id)
            .entity_id(entity_id)
            .max_results(PAGE_SIZE)
            .into_paginator()
            .send();
        let items = ListGroupsForEntityOutput::groups;
        self.all_pages("ListGroupsForEntity", pages, items, membership_from).await
    }

    async fn list_group_members(
        &self,
        organization_id: &str,
        group_id: &str,
    ) -> Result<Vec<GroupMember>, DirectoryError> {
        let pages = self
            .client
            .list_group_members()
            .organization_id(organization_id)
            .group_id(group_id)
            .max_results(PAGE_SIZE)
            .into_paginator()
            .send();
        let items = ListGroupMembersOutput::members;
        self.all_pages("ListGroupMembers", pages, items, member_from).await
    }

    async fn mailbox_details(
        &self,
        organization_id: &str,
        user_id: &str,
    ) -> Result<MailboxDetails, DirectoryError> {
        let request = self
            .client
            .get_mailbox_details()
            .organization_id(organization_id)
            .user_id(user_id)
            .send();
        let output = self.call("GetMailboxDetails", request).await?;
        Ok(MailboxDetails {
            quota_mb: output.mailbox_quota().map_or(0, |q| u64::try_from(q).unwrap_or(0)),
            // A size in bytes is a whole number sent as a Double; anything else is clamped.
            size_bytes: output.mailbox_size().max(0.0) as u64,
        })
    }

    async fn create_alias(
        &self,
        organization_id: &str,
        entity_id: &str,
        alias: &str,
    ) -> Result<(), DirectoryError> {
        let request = self
            .client
            .create_alias()
            .organization_id(organization_id)
            .entity_id(entity_id)
            .alias(alias)
            .send();
        self.call("CreateAlias", request).await.map(|_| ())
    }

    async fn delete_alias(
        &self,
        organization_id: &str,
        entity_id: &str,
        alias: &str,
    ) -> Result<(), DirectoryError> {
        let request = self
            .client
            .delete_alias()
            .organization_id(organization_id)
            .entity_id(entity_id)
            .alias(alias)
            .send();
        self.call("DeleteAlias", request).await.map(|_| ())
    }

    async fn associate_member_to_group(
        &self,
        organization_id: &str,
        group_id: &str,
        member_id: &str,
    ) -> Result<(), DirectoryError> {
        let request = self
            .client
            .associate_member_to_group()
            .organization_id(organization_id)
            .group_id(group_id)
            .member_id(member_id)
            .send();
        self.call("AssociateMemberToGroup", request).await.map(|_| ())
    }

    async fn disassociate_member_from_group(
        &self,
        organization_id: &str,
        group_id: &str,
        member_id: &str,
    ) -> Result<(), DirectoryError> {
        let request = self
            .client
            .disassociate_member_from_group()
            .organization_id(organization_id)
            .group_id(group_id)
            .member_id(member_id)
            .send();
        self.call("DisassociateMemberFromGroup", request).await.map(|_| ())
    }

    async fn update_mailbox_quota(
        &self,
        organization_id: &str,
        user_id: &str,
        quota_mb: u64,
    ) -> Result<(), DirectoryError> {
        let request = self
            .client
            .update_mailbox_quota()
            .organization_id(organization_id)
            .user_id(user_id)
            .mailbox_quota(quota_request(quota_mb))
            .send();
        self.call("UpdateMailboxQuota", request).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::OPERATIONS;
    use std::collections::BTreeSet;

    /// The operation names this file passes to `call` and `each_page`.
    fn called_operations(source: &str) -> BTreeSet<&str> {
        ["self.call(\"", "self.each_page(\"", "self.all_pages(\""]
            .iter()
            .flat_map(|call| source.split(call).skip(1))
            .filter_map(|rest| rest.split('"').next())
            .collect()
    }

    #[test]
    fn operations_lists_every_operation_called() {
        let called = called_operations(include_str!("sdk.rs"));
        assert_eq!(called, OPERATIONS.into_iter().collect());
        let made_up = "self.call(\"A\", x); self.each_page(\"B\", p); self.call(operation, r)";
        assert_eq!(called_operations(made_up), BTreeSet::from(["A", "B"]));
    }
}
