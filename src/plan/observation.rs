//! What the directory said about the desired state, aligned index for index with it.

use crate::directory::{DirectoryError, ObservedUser};

/// An organization reference resolved to its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedOrganization {
    pub id: String,
    pub alias: Option<String>,
}

/// One organization of [`crate::spec::DesiredState::organizations`], observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedOrganization {
    /// The id, or why the reference could not be resolved.
    pub resolved: Result<ResolvedOrganization, String>,
    /// One entry per declared user, in declaration order (empty when unresolved).
    pub users: Vec<Result<ObservedUser, DirectoryError>>,
}

/// The observation of a whole desired state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observation {
    pub organizations: Vec<ObservedOrganization>,
}
