//! The groups of an organization with their direct members, for `--format groups-csv`: one
//! ListGroups pass (every page), then one ListGroupMembers pass per group that is not `DELETED`,
//! at most `width` groups at a time under the shared rate.

use super::ExportError;
use crate::directory::{Directory, DirectoryError, run_bounded};
use crate::model::live::{GroupMember, UserState};

/// One group and its direct members (users and groups), members sorted by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedGroup {
    pub group_id: String,
    pub name: String,
    /// The primary address; `None` for a group never registered to WorkMail.
    pub email: Option<String>,
    pub members: Vec<GroupMember>,
}

/// Every group of the organization but the `DELETED` ones, sorted by name ignoring case. A
/// group deleted between the listing and the read of its members is left out as well.
pub(crate) async fn read_groups<D: Directory + Clone + 'static>(
    directory: &D,
    organization_id: &str,
    width: usize,
) -> Result<Vec<ExportedGroup>, ExportError> {
    let listed = directory.list_groups(organization_id).await.map_err(ExportError::Groups)?;
    let live: Vec<_> = listed.into_iter().filter(|g| g.state != UserState::Deleted).collect();
    let read = run_bounded(
        live,
        width,
        |group| {
            let directory = directory.clone();
            let organization_id = organization_id.to_string();
            async move {
                match directory.list_group_members(&organization_id, &group.group_id).await {
                    Ok(mut members) => {
                        members.sort_by_cached_key(|m| (m.name.to_lowercase(), m.name.clone()));
                        Ok(Some(ExportedGroup {
                            group_id: group.group_id,
                            name: group.name,
                            email: group.email,
                            members,
                        }))
                    }
                    // Deleted since it was listed: no longer a group to move.
                    Err(DirectoryError::UserNotFound | DirectoryError::EntityState(_)) => Ok(None),
                    Err(error) => Err(ExportError::Members { group: group.name, error }),
                }
            }
        },
        |_| {},
    )
    .await;
    let mut groups: Vec<ExportedGroup> =
        read.into_iter().filter_map(Result::transpose).collect::<Result<_, _>>()?;
    groups.sort_by_cached_key(|g| (g.name.to_lowercase(), g.name.clone()));
    Ok(groups)
}
