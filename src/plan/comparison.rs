//! The diff's input: every declared user compared with its live self as soon as it was read,
//! aligned index for index with the desired state.

use super::diff::field_changes;
use super::mailbox::MailboxChange;
use super::model::FieldChange;
use crate::model::live::{ObservedUser, ResolvedOrganization, Role, UserState};
use crate::spec::DesiredUser;
use thiserror::Error;

/// One declared user compared with what the directory reported: what the plan shows of it, and
/// nothing else. Keeping every live value of 100,000 users until the diff would cost more memory
/// than the whole desired state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ComparedUser {
    pub user_id: String,
    pub state: UserState,
    /// The live role when it is one the API refuses to update (`SYSTEM_USER`, `RESOURCE`).
    pub unmanageable_role: Option<Role>,
    /// The managed fields whose live value differs from the declared one, in table order.
    pub changes: Vec<FieldChange>,
    /// The managed mailbox keys that differ, if any.
    pub mailbox: Option<Box<MailboxChange>>,
}

impl ComparedUser {
    /// Compare `live` with what `desired` declares.
    pub(crate) fn new(desired: &DesiredUser, live: &ObservedUser) -> ComparedUser {
        let role = live.role();
        ComparedUser {
            user_id: live.user_id.clone(),
            state: live.state,
            unmanageable_role: (!role.is_updatable()).then_some(role),
            changes: field_changes(desired, live),
            mailbox: None,
        }
    }
}

/// Why a declared user could not be read, as far as the plan cares.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub(crate) enum ReadError {
    /// The organization does not exist; every user of it fails alike, so the plan says it once.
    #[error("organization not found")]
    OrganizationNotFound,
    /// Any other failure, as the directory described it.
    #[error("{0}")]
    Failed(String),
}

/// One organization of [`crate::spec::DesiredState::organizations`], compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ComparedOrganization {
    /// The id, or why the reference could not be resolved.
    pub resolved: Result<ResolvedOrganization, String>,
    /// One entry per declared user, in declaration order (empty when unresolved).
    pub users: Vec<Result<ComparedUser, ReadError>>,
}

/// A whole desired state compared with the live directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Comparison {
    pub organizations: Vec<ComparedOrganization>,
}
