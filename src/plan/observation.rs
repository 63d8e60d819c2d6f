//! What the directory said about the desired state, aligned index for index with it.

use super::diff::field_changes;
use super::model::FieldChange;
use crate::directory::{DirectoryError, ObservedUser, UserState};
use crate::spec::DesiredUser;

/// An organization reference resolved to its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedOrganization {
    pub id: String,
    pub alias: Option<String>,
}

/// Roles the API refuses to update.
const UNMANAGEABLE_ROLES: [&str; 2] = ["SYSTEM_USER", "RESOURCE"];

/// One declared user as observed, reduced against its declaration as soon as it is read: what
/// the plan shows of it, and nothing else. Keeping every live value of 100,000 users until the
/// diff would cost more memory than the whole desired state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserObservation {
    pub user_id: String,
    pub state: UserState,
    /// The live role when it is one the API refuses to update (`SYSTEM_USER`, `RESOURCE`).
    pub unmanageable_role: Option<String>,
    /// The managed fields whose live value differs from the declared one, in table order.
    pub changes: Vec<FieldChange>,
}

impl UserObservation {
    /// Compare `live` with what `desired` declares.
    pub fn new(desired: &DesiredUser, live: &ObservedUser) -> UserObservation {
        UserObservation {
            user_id: live.user_id.clone(),
            state: live.state,
            unmanageable_role: UNMANAGEABLE_ROLES
                .contains(&live.role())
                .then(|| live.role().to_string()),
            changes: field_changes(desired, live),
        }
    }
}

/// One organization of [`crate::spec::DesiredState::organizations`], observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedOrganization {
    /// The id, or why the reference could not be resolved.
    pub resolved: Result<ResolvedOrganization, String>,
    /// One entry per declared user, in declaration order (empty when unresolved).
    pub users: Vec<Result<UserObservation, DirectoryError>>,
}

/// The observation of a whole desired state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observation {
    pub organizations: Vec<ObservedOrganization>,
}
