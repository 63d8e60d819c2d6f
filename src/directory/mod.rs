//! The WorkMail operations the tool uses, as a small trait, and its aws-sdk-workmail
//! implementation with retries, timeouts, a request rate that adapts to throttling, a concurrency
//! bound and an optional requests-per-second cap.

mod client;
mod concurrency;
mod endpoint;
mod error;
mod forward;
mod limiter;
mod observer;
mod sdk;
mod sdk_error;

pub(crate) use client::{ClientOptions, Timeouts, build_sdk_config};
pub(crate) use concurrency::run_bounded;
pub(crate) use endpoint::{check_endpoint_url, check_region};
pub(crate) use error::ConnectionFailureKind;
pub use error::{ConnectionFailure, DirectoryError};
pub use limiter::Limiter;
pub(crate) use observer::{AttemptAnswer, AttemptObserver};
pub(crate) use sdk::OPERATIONS;
pub use sdk::SdkDirectory;

use crate::model::attrs::{AttrValue, Attribute};
use crate::model::live::{
    GroupMember, GroupMembership, GroupSummary, ListedUser, MailboxDetails, ObservedUser,
    OrganizationSummary,
};
use std::collections::BTreeMap;
use std::future::Future;

/// An UpdateUser request: the user and the members to send. Members absent from `attributes`
/// are left out of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateRequest {
    pub organization_id: String,
    pub user_id: String,
    pub attributes: BTreeMap<Attribute, AttrValue>,
}

/// The directory operations plan, apply and export need.
pub trait Directory: Send + Sync {
    /// Every organization of the account (all pages).
    fn list_organizations(
        &self,
    ) -> impl Future<Output = Result<Vec<OrganizationSummary>, DirectoryError>> + Send;
    /// Every user of an organization (all pages).
    fn list_users(
        &self,
        organization_id: &str,
    ) -> impl Future<Output = Result<Vec<ListedUser>, DirectoryError>> + Send;
    /// Every user of an organization, one page (of at most 100) at a time: `on_page` gets each
    /// page as it arrives, so a caller that keeps few users of each page never holds them all.
    /// Without an override, the whole listing is one page.
    fn list_users_pages(
        &self,
        organization_id: &str,
        mut on_page: impl FnMut(Vec<ListedUser>) + Send,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send {
        async move {
            on_page(self.list_users(organization_id).await?);
            Ok(())
        }
    }
    /// One user, by user id, user name or email address.
    fn describe_user(
        &self,
        organization_id: &str,
        user: &str,
    ) -> impl Future<Output = Result<ObservedUser, DirectoryError>> + Send;
    /// Send one UpdateUser.
    fn update_user(
        &self,
        request: &UpdateRequest,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;
    /// The addresses of an entity, as ListAliases answers it (all pages): some
    /// endpoints list the primary address among the aliases and some do not.
    fn list_aliases(
        &self,
        organization_id: &str,
        entity_id: &str,
    ) -> impl Future<Output = Result<Vec<String>, DirectoryError>> + Send;
    /// Every group of an organization (all pages).
    fn list_groups(
        &self,
        organization_id: &str,
    ) -> impl Future<Output = Result<Vec<GroupSummary>, DirectoryError>> + Send;
    /// The groups an entity belongs to directly (all pages).
    fn list_groups_for_entity(
        &self,
        organization_id: &str,
        entity_id: &str,
    ) -> impl Future<Output = Result<Vec<GroupMembership>, DirectoryError>> + Send;
    /// The direct members of a group (all pages).
    fn list_group_members(
        &self,
        organization_id: &str,
        group_id: &str,
    ) -> impl Future<Output = Result<Vec<GroupMember>, DirectoryError>> + Send;
    /// A user's mailbox quota and size.
    fn mailbox_details(
        &self,
        organization_id: &str,
        user_id: &str,
    ) -> impl Future<Output = Result<MailboxDetails, DirectoryError>> + Send;
    /// Add an address to an entity (CreateAlias).
    fn create_alias(
        &self,
        organization_id: &str,
        entity_id: &str,
        alias: &str,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;
    /// Remove an address from an entity (DeleteAlias).
    fn delete_alias(
        &self,
        organization_id: &str,
        entity_id: &str,
        alias: &str,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;
    /// Make a user or group a member of a group (AssociateMemberToGroup).
    fn associate_member_to_group(
        &self,
        organization_id: &str,
        group_id: &str,
        member_id: &str,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;
    /// Take a member out of a group (DisassociateMemberFromGroup).
    fn disassociate_member_from_group(
        &self,
        organization_id: &str,
        group_id: &str,
        member_id: &str,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;
    /// Set a user's mailbox quota, in MB (UpdateMailboxQuota).
    fn update_mailbox_quota(
        &self,
        organization_id: &str,
        user_id: &str,
        quota_mb: u64,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;
    /// The connection failure that stopped this directory, if one did: every call after it
    /// fails at once, so a run ends early with this one cause instead of one error per user.
    fn connection_failure(&self) -> Option<&ConnectionFailure> {
        None
    }
    /// A handle for the next run of a long-running caller: it has forgotten the connection
    /// failure that stopped this one, if any, so the endpoint is tried again, and shares
    /// everything else. Without an override, a clone.
    fn resumed(&self) -> Self
    where
        Self: Sized + Clone,
    {
        self.clone()
    }
}
