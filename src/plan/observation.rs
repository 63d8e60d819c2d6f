//! What the directory said about the desired state, aligned index for index with it.

use super::diff::field_changes;
use super::model::FieldChange;
use crate::attrs::{AttrValue, Attribute};
use crate::directory::{DirectoryError, ObservedUser, UserState};
use crate::spec::DesiredUser;
use std::collections::BTreeMap;

/// An organization reference resolved to its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedOrganization {
    pub id: String,
    pub alias: Option<String>,
}

/// One declared user as observed, reduced against its declaration as soon as it is read: what
/// the plan shows of it, and nothing else. Keeping every live value of 100,000 users until the
/// diff would cost more memory than the whole desired state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserObservation {
    pub user_id: String,
    pub state: UserState,
    /// The live role (`SYSTEM_USER` and `RESOURCE` cannot be updated).
    pub role: String,
    /// The managed fields whose live value differs from the declared one, in table order.
    pub changes: Vec<FieldChange>,
    /// The live value of every managed field, kept only when there are changes (it goes into
    /// the saved plan).
    pub observed: BTreeMap<Attribute, AttrValue>,
}

impl UserObservation {
    /// Compare `live` with what `desired` declares.
    pub fn new(desired: &DesiredUser, live: &ObservedUser) -> UserObservation {
        let changes = field_changes(desired, live);
        let observed = if changes.is_empty() {
            BTreeMap::new()
        } else {
            desired.fields.keys().map(|field| (field, live.get(field))).collect()
        };
        UserObservation {
            user_id: live.user_id.clone(),
            state: live.state,
            role: live.role().to_string(),
            changes,
            observed,
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
