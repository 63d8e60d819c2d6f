//! `export`: read a live organization and write it as a desired-state file that plans clean
//! (YAML), as a table of every attribute (CSV), or as the Microsoft 365 bulk-add template.
//! Calls: one ListUsers per page, then one DescribeUser per manageable user. Which users are
//! exported is decided once, here, for every format.

mod csv;
mod m365;
mod modeline;
mod yaml;

pub use csv::{csv_header, write_csv};
pub use m365::{EmailDomain, M365_HEADINGS, write_m365_csv};
pub use modeline::{SCHEMA_FILE, schema_reference};
pub use yaml::{quote_if_needed, to_yaml, write_yaml};

use crate::attrs::{AttrKind, AttrValue, Attribute};
use crate::directory::{Directory, DirectoryError, run_bounded};
use crate::live::{ListedUser, ObservedUser, UserState};
use crate::reconcile::resolve_organization;
use crate::spec::OrganizationRef;

/// A user the export leaves out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedUser {
    pub name: String,
    pub reason: String,
}

/// One exported user: every non-empty attribute, plus role and address-book visibility always.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedUser {
    pub user_id: String,
    pub name: String,
    /// The primary email address; `None` for a user never registered to WorkMail.
    pub email: Option<String>,
    pub state: UserState,
    pub attributes: Vec<(Attribute, AttrValue)>,
}

impl ExportedUser {
    /// The value of `attr` as text: `""` when empty, `true`/`false` for the boolean.
    pub fn text(&self, attr: Attribute) -> &str {
        match self.attributes.iter().find(|(a, _)| *a == attr).map(|(_, v)| v) {
            Some(AttrValue::Text(s)) => s,
            Some(AttrValue::Bool(true)) => "true",
            Some(AttrValue::Bool(false)) => "false",
            None if attr.kind() == AttrKind::Bool => "false",
            None => "",
        }
    }
}

/// A whole exported organization, users sorted by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedOrganization {
    /// As the user named it (id or alias), so the file keeps working the way they refer to it.
    pub reference: String,
    pub organization_id: String,
    pub users: Vec<ExportedUser>,
    pub skipped: Vec<SkippedUser>,
}

/// Why an export failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0}")]
    Organization(String),
    #[error("ListUsers failed: {0}")]
    List(DirectoryError),
    #[error("DescribeUser {user} failed: {error}")]
    Describe { user: String, error: DirectoryError },
}

/// Why a listed user is left out of every export format, or `None` when it is exported:
/// `DELETED` users and the `SYSTEM_USER` and `RESOURCE` roles, which the API cannot update.
pub fn left_out_reason(user: &ListedUser) -> Option<String> {
    if user.state == UserState::Deleted {
        Some("DELETED users cannot be managed".to_string())
    } else if !user.role.is_updatable() {
        Some(format!("role {} cannot be updated through the API", user.role))
    } else {
        None
    }
}

/// What the file shows of a user: every non-empty attribute, role and visibility always.
fn exported(live: ObservedUser) -> ExportedUser {
    let attributes = Attribute::ALL
        .into_iter()
        .filter_map(|attr| {
            let value = live.get(attr);
            let keep = match attr.kind() {
                AttrKind::Bool | AttrKind::Role => true,
                AttrKind::Text | AttrKind::IdpUserId => !value.is_empty_text(),
            };
            keep.then_some((attr, value))
        })
        .collect();
    ExportedUser {
        user_id: live.user_id,
        name: live.name,
        email: live.email,
        state: live.state,
        attributes,
    }
}

/// Read the organization `reference` (an id or alias).
pub async fn export<D: Directory + Clone + 'static>(
    directory: &D,
    reference: &OrganizationRef,
    width: usize,
    on_user: impl FnMut(),
) -> Result<ExportedOrganization, ExportError> {
    let resolved =
        resolve_organization(directory, reference).await.map_err(ExportError::Organization)?;
    let organization_id = resolved.id;
    let listed = directory.list_users(&organization_id).await.map_err(|e| match e {
        DirectoryError::OrganizationNotFound => {
            ExportError::Organization(format!("organization {organization_id} not found"))
        }
        other => ExportError::List(other),
    })?;
    let mut skipped = Vec::new();
    let mut wanted = Vec::new();
    for user in listed {
        match left_out_reason(&user) {
            Some(reason) => skipped.push(SkippedUser { name: user.name, reason }),
            None => wanted.push(user),
        }
    }
    let mut on_user = on_user;
    let described = run_bounded(
        wanted,
        width,
        |user| {
            let directory = directory.clone();
            let organization_id = organization_id.clone();
            async move {
                // Reduced to what the file shows as soon as it is read: an organization of
                // 100,000 users is not held twice.
                directory
                    .describe_user(&organization_id, &user.user_id)
                    .await
                    .map(exported)
                    .map_err(|error| ExportError::Describe { user: user.name, error })
            }
        },
        |_| on_user(),
    )
    .await;
    let mut users = described.into_iter().collect::<Result<Vec<_>, _>>()?;
    users.sort_by(|a, b| a.name.cmp(&b.name));
    skipped.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(ExportedOrganization {
        reference: reference.as_str().to_string(),
        organization_id,
        users,
        skipped,
    })
}
