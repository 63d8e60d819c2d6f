//! The plan: a value computed once, then printed, saved and applied.

use super::mailbox::MailboxChange;
use crate::model::attrs::{AttrValue, Attribute};
use crate::model::live::UserState;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The `format_version` of the JSON plan document and of the saved plan (which is that document
/// with provenance added): bumped only on an incompatible change of their keys, together.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// One field that differs: live `before`, desired `after` (API values, `""` for empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldChange {
    pub field: Attribute,
    pub before: AttrValue,
    pub after: AttrValue,
}

/// A user with at least one field to change.
/// Written and read by hand (change_document.rs): `fields` holds the mailbox keys too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserChange {
    pub organization_id: String,
    /// The key as declared.
    pub user: String,
    pub user_id: String,
    /// `file:line` of the declaration.
    pub source: String,
    /// The attributes that differ (UpdateUser), in table order.
    pub fields: Vec<FieldChange>,
    /// The aliases, groups and quota that differ; `None` when none does.
    pub mailbox: Option<Box<MailboxChange>>,
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

/// A live user of a planned organization whom no file declares (docs/reconciliation.md#unmanaged-users).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmanagedUser {
    pub organization_id: String,
    /// The user name.
    pub user: String,
    pub user_id: String,
    /// The primary email address; `None` for a user never registered to WorkMail.
    pub email: Option<String>,
    /// `ENABLED` or `DISABLED` (`DELETED` users are never unmanaged).
    pub state: UserState,
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
    /// Live users in no file; `None` when they were not looked for.
    #[serde(default)]
    pub unmanaged: Option<usize>,
}

/// Per-user, per-field differences between the files and the live directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// In the order of the files.
    pub organizations: Vec<PlannedOrganization>,
    pub changes: Vec<UserChange>,
    pub unchanged: Vec<UnchangedUser>,
    pub errors: Vec<PlanError>,
    /// The live users of the planned organizations that no file declares, by organization and
    /// name; `None` when they were not looked for (`--unmanaged ignore`, `--target`).
    pub unmanaged: Option<Vec<UnmanagedUser>>,
}

impl Plan {
    /// The summary counts. `users` counts declared users, each once: an error entry made of
    /// an unmanaged user (`--unmanaged error`) is not one.
    pub(crate) fn summary(&self) -> Summary {
        Summary {
            users: self.changes.len() + self.unchanged.len() + self.declared_user_errors().count(),
            to_update: self.changes.len(),
            unchanged: self.unchanged.len(),
            errors: self.errors.len(),
            unmanaged: self.unmanaged.as_ref().map(Vec::len),
        }
    }

    /// The error entries of declared users: every entry that names a user, except those made
    /// of a user in no file (`--unmanaged error`). With the changes and the unchanged users,
    /// they are the users the files declare, which the summary, the safety limit's share and a
    /// controller's `desired_users` count. A declared key never names an unmanaged user of its
    /// organization (it would make that user declared), so an entry of a declared user never
    /// matches one.
    pub(crate) fn declared_user_errors(&self) -> impl Iterator<Item = &PlanError> + '_ {
        let unmanaged: HashSet<(&str, &str)> = self
            .unmanaged
            .iter()
            .flatten()
            .map(|u| (u.organization_id.as_str(), u.user.as_str()))
            .collect();
        self.errors.iter().filter(move |e| {
            e.user.as_deref().is_some_and(|user| !unmanaged.contains(&(&*e.organization_id, user)))
        })
    }

    /// The unmanaged users of one organization, in plan order (by name).
    pub(crate) fn unmanaged_of<'p>(
        &'p self,
        organization_id: &'p str,
    ) -> impl Iterator<Item = &'p UnmanagedUser> + 'p {
        self.unmanaged.iter().flatten().filter(move |u| u.organization_id == organization_id)
    }
    /// Whether anything would change.
    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }
    /// The alias of an organization, if known.
    pub(crate) fn alias_of(&self, organization_id: &str) -> Option<&str> {
        self.organizations.iter().find(|o| o.id == organization_id).and_then(|o| o.alias.as_deref())
    }
}
