//! The observe step: describe every declared user of the resolved organizations concurrently,
//! comparing each with its declaration as soon as it is read.
//! Calls: one DescribeUser per declared user, then one read per mailbox key it manages
//! (ListAliases, ListGroupsForEntity, GetMailboxDetails), and ListGroups once per organization
//! when some user of it manages `groups`.

use super::observe_mailbox::{GroupsOnce, compare_mailbox};
use crate::directory::{Directory, DirectoryError, run_bounded};
use crate::model::live::{ResolvedOrganization, UserState};
use crate::plan::{ComparedOrganization, ComparedUser, Comparison, ReadError};
use crate::spec::DesiredState;
use std::sync::Arc;

/// What the plan needs to know of a failed DescribeUser.
fn read_error(error: DirectoryError) -> ReadError {
    match error {
        DirectoryError::OrganizationNotFound => ReadError::OrganizationNotFound,
        other => ReadError::Failed(other.to_string()),
    }
}

/// Describe every declared user of every resolved organization, under the directory's limiter,
/// at most `width` calls spawned at once. `resolved[i]` is the resolution of
/// `desired.organizations[i]`. `on_user` is called once per described user.
pub(crate) async fn observe<D: Directory + Clone + 'static>(
    directory: &D,
    desired: &DesiredState,
    resolved: Vec<Result<ResolvedOrganization, String>>,
    width: usize,
    mut on_user: impl FnMut(),
) -> Comparison {
    let mut jobs = Vec::new();
    for (org_index, (organization, resolution)) in
        desired.organizations.iter().zip(&resolved).enumerate()
    {
        if let Ok(resolved) = resolution {
            let organization_id: Arc<str> = Arc::from(resolved.id.as_str());
            let groups = GroupsOnce::default();
            for user in &organization.users {
                jobs.push((org_index, Arc::clone(&organization_id), user, Arc::clone(&groups)));
            }
        }
    }
    let placement: Vec<usize> = jobs.iter().map(|(org_index, ..)| *org_index).collect();
    let results = run_bounded(
        jobs,
        width,
        |(_, organization_id, user, groups)| {
            let directory = directory.clone();
            // Cloned only while its call runs (`width` users at a time).
            let user = user.clone();
            async move {
                // Reduced at once to what the plan shows, so that memory holds the changes of
                // 100,000 users, not their every live value.
                let live = directory.describe_user(&organization_id, &user.key).await;
                let live = live.map_err(read_error)?;
                let mut compared = ComparedUser::new(&user, &live);
                // A DELETED user is an error entry whatever it manages: nothing more to read.
                if let Some(desired) = &user.mailbox
                    && live.state != UserState::Deleted
                {
                    compared.mailbox =
                        compare_mailbox(&directory, &organization_id, desired, &live, &groups)
                            .await
                            .map_err(ReadError::Failed)?;
                }
                Ok(compared)
            }
        },
        |_| on_user(),
    )
    .await;
    let mut organizations: Vec<ComparedOrganization> = resolved
        .into_iter()
        .map(|resolved| ComparedOrganization { resolved, users: Vec::new() })
        .collect();
    for (org_index, result) in placement.into_iter().zip(results) {
        organizations[org_index].users.push(result);
    }
    Comparison { organizations }
}
