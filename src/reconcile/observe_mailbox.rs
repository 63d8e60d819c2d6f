//! Reading and comparing the mailbox keys a user manages: ListAliases, ListGroupsForEntity and
//! GetMailboxDetails, each only for a key the user declares, and ListGroups once per
//! organization, only when some user of it declares `groups`.

use crate::directory::{Directory, DirectoryError};
use crate::model::live::{GroupSummary, ObservedUser, UserState};
use crate::plan::MailboxChange;
use crate::plan::mailbox::{alias_change, group_change, quota_change};
use crate::spec::DesiredMailbox;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// An organization's groups, listed by the first user that needs them and shared by the rest.
pub(crate) type GroupsOnce = Arc<OnceCell<Result<Arc<[GroupSummary]>, String>>>;

/// The organization's groups: ListGroups (every page) the first time, the same answer after.
pub(crate) async fn organization_groups<D: Directory>(
    directory: &D,
    organization_id: &str,
    groups: &GroupsOnce,
) -> Result<Arc<[GroupSummary]>, String> {
    groups
        .get_or_init(|| async {
            directory
                .list_groups(organization_id)
                .await
                .map(Arc::from)
                .map_err(|e| format!("cannot list the organization's groups (ListGroups): {e}"))
        })
        .await
        .clone()
}

/// Why a read of a mailbox key failed, as the plan says it.
fn read_failed(operation: &str, live: &ObservedUser, error: DirectoryError) -> String {
    match error {
        DirectoryError::UserNotFound if live.state == UserState::Disabled => format!(
            "{operation}: user is DISABLED and has no mailbox, so its aliases, groups and quota \
             cannot be managed"
        ),
        other => format!("{operation} failed: {other}"),
    }
}

/// Compare the mailbox keys of `desired` with the live user: `Err` with the plan's message
/// when a read fails or the declaration cannot be planned (an unknown group, the primary
/// address as an alias).
pub(crate) async fn compare_mailbox<D: Directory>(
    directory: &D,
    organization_id: &str,
    desired: &DesiredMailbox,
    live: &ObservedUser,
    groups: &GroupsOnce,
) -> Result<Option<Box<MailboxChange>>, String> {
    let user_id = live.user_id.as_str();
    let aliases = async {
        let Some(declared) = &desired.aliases else { return Ok(None) };
        let answered = directory
            .list_aliases(organization_id, user_id)
            .await
            .map_err(|e| read_failed("ListAliases", live, e))?;
        alias_change(live.email.as_deref(), answered, declared)
    };
    let group_changes = async {
        let Some(declared) = &desired.groups else { return Ok(None) };
        let (listed, member_of) = tokio::join!(
            organization_groups(directory, organization_id, groups),
            directory.list_groups_for_entity(organization_id, user_id)
        );
        let member_of = member_of.map_err(|e| read_failed("ListGroupsForEntity", live, e))?;
        group_change(&listed?, member_of, declared)
    };
    let quota = async {
        let Some(declared) = desired.quota_mb else { return Ok::<_, String>(None) };
        let details = directory
            .mailbox_details(organization_id, user_id)
            .await
            .map_err(|e| read_failed("GetMailboxDetails", live, e))?;
        Ok(quota_change(details.quota_mb, declared))
    };
    // One after the other: a user's reads then reach the limiter one at a time, as its
    // DescribeUser did, instead of in bursts of three that overshoot a rate cap when the
    // limiter probes it.
    let change = MailboxChange {
        aliases: aliases.await?,
        groups: group_changes.await?,
        quota: quota.await?,
    };
    Ok(change.boxed())
}
