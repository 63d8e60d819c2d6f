//! The plan: a value computed once, then printed, saved and applied.

use crate::attrs::{AttrValue, Attribute};
use serde::{Deserialize, Serialize};

/// The `format_version` of the JSON plan document and of the saved plan (which is that document
/// with provenance added): bumped only on an incompatible change of their keys, together.
pub const FORMAT_VERSION: u32 = 1;

/// One field that differs: live `before`, desired `after` (API values, `""` for empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldChange {
    pub field: Attribute,
    pub before: AttrValue,
    pub after: AttrValue,
}

/// A user with at least one field to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    pub organization_id: String,
    /// The key as declared.
    pub user: String,
    pub user_id: String,
    /// `file:line` of the declaration.
    pub source: String,
    pub fields: Vec<FieldChange>,
}

/// A declared user whose managed fields already match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnchangedUser {
    pub organization_id: String,
    pub user: String,
    pub user_id: String,
    pub source: String,
}

/// A user (or a whole organization, `user: None`) that could not be planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanError {
    /// The organization id, or the reference as written when it could not be resolved.
    pub organization_id: String,
    pub user: Option<String>,
    pub source: String,
    pub message: String,
}

/// An organization the plan covers, for grouping output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedOrganization {
    /// The id, or the reference as written when it could not be resolved.
    pub id: String,
    pub alias: Option<String>,
}

/// Counts for the summary line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub users: usize,
    pub to_update: usize,
    pub unchanged: usize,
    pub errors: usize,
}

/// Per-user, per-field differences between the files and the live directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// In the order of the files.
    pub organizations: Vec<PlannedOrganization>,
    pub changes: Vec<UserChange>,
    pub unchanged: Vec<UnchangedUser>,
    pub errors: Vec<PlanError>,
}

impl Plan {
    /// The summary counts. `users` counts declared users, each once.
    pub fn summary(&self) -> Summary {
        let user_errors = self.errors.iter().filter(|e| e.user.is_some()).count();
        Summary {
            users: self.changes.len() + self.unchanged.len() + user_errors,
            to_update: self.changes.len(),
            unchanged: self.unchanged.len(),
            errors: self.errors.len(),
        }
    }
    /// Whether anything would change.
    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }
    /// The alias of an organization, if known.
    pub fn alias_of(&self, organization_id: &str) -> Option<&str> {
        self.organizations.iter().find(|o| o.id == organization_id).and_then(|o| o.alias.as_deref())
    }
}
