//! `export`: read a live organization and write it as a desired-state file that plans clean
//! (YAML), as a table of every attribute (CSV), or as the Microsoft 365 bulk-add template.
//! Calls: one ListUsers per page, then one DescribeUser per manageable user. Which users are
//! exported is decided once, here, for every format. With declarations to skip, the users they
//! declare are left out by the rule the plan uses for unmanaged users, so that the file adopts
//! exactly the users a plan reports as in no file.

mod aliases_csv;
mod bundle_readme;
mod csv;
mod groups;
mod groups_csv;
mod m365;
mod mailbox;
mod modeline;
mod rewrite;
mod spreadsheet;
mod yaml;

pub(crate) use aliases_csv::write_aliases_csv;
pub(crate) use bundle_readme::{BundleFacts, bundle_readme};
pub use csv::write_csv;
pub(crate) use csv::write_csv_cells;
pub use groups::ExportedGroup;
pub(crate) use groups::read_groups;
pub(crate) use groups_csv::write_groups_csv;
pub(crate) use m365::{EmailDomain, write_m365_csv};
pub use mailbox::{ExportedMailbox, MailboxReads};
pub(crate) use modeline::{SCHEMA_FILE, schema_reference};
pub(crate) use rewrite::{AddressRewrite, default_mail_domain};
pub use spreadsheet::Cells;
pub use yaml::to_yaml;
pub(crate) use yaml::write_yaml;

use crate::directory::{Directory, DirectoryError, run_bounded};
use crate::model::attrs::{AttrKind, AttrValue, Attribute};
use crate::model::live::{ObservedUser, UserState};
use crate::reconcile::{DeclaredKeys, list_undeclared, resolve_organizations};
use crate::spec::{DesiredState, OrganizationRef};
use std::collections::HashSet;

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
    /// The mailbox keys the export read (none unless asked for).
    pub mailbox: ExportedMailbox,
}

impl ExportedUser {
    /// The value of `attr` as text: `""` when empty, `true`/`false` for the boolean.
    fn text(&self, attr: Attribute) -> &str {
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
    /// Users left out because the given files declare them already.
    pub declared: usize,
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
    #[error("{operation} {user} failed: {error}")]
    Mailbox { operation: &'static str, user: String, error: DirectoryError },
    #[error("ListGroups failed: {0}")]
    Groups(DirectoryError),
    #[error("ListGroupMembers {group} failed: {error}")]
    Members { group: String, error: DirectoryError },
    #[error("ListOrganizations failed: {0}")]
    Organizations(DirectoryError),
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
        mailbox: ExportedMailbox::default(),
    }
}

/// Read the attributes of the organization `reference` (an id or alias): [`export_with`]
/// reading no mailbox key.
pub async fn export<D: Directory + Clone + 'static>(
    directory: &D,
    reference: &OrganizationRef,
    skip_declared: Option<&DesiredState>,
    width: usize,
    on_user: impl FnMut(),
) -> Result<ExportedOrganization, ExportError> {
    export_with(directory, reference, skip_declared, MailboxReads::NONE, width, on_user).await
}

/// Read the organization `reference` (an id or alias), and for each user the mailbox keys
/// `reads` asks for. With `skip_declared`, the users that its declarations of this organization
/// (under any spelling of it) declare are left out: by key (user id, name or primary email,
/// ignoring case), or by the user id DescribeUser answers for a key that names no listed user.
pub async fn export_with<D: Directory + Clone + 'static>(
    directory: &D,
    reference: &OrganizationRef,
    skip_declared: Option<&DesiredState>,
    reads: MailboxReads,
    width: usize,
    on_user: impl FnMut(),
) -> Result<ExportedOrganization, ExportError> {
    let (organization_id, mut keys) = resolve(directory, reference, skip_declared).await?;
    let mut skipped = Vec::new();
    let listed = list_undeclared(directory, &organization_id, &mut keys, |user, reason| {
        skipped.push(SkippedUser { name: user.name, reason })
    })
    .await
    .map_err(|e| match e {
        DirectoryError::OrganizationNotFound => {
            ExportError::Organization(format!("organization {organization_id} not found"))
        }
        other => ExportError::List(other),
    })?;
    let described = described_ids(directory, &organization_id, &keys, width).await?;
    let declared =
        keys.users_named() + listed.iter().filter(|u| described.contains(&u.user_id)).count();
    let wanted: Vec<_> = listed.into_iter().filter(|u| !described.contains(&u.user_id)).collect();
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
                let mut exported = directory
                    .describe_user(&organization_id, &user.user_id)
                    .await
                    .map(exported)
                    .map_err(|error| ExportError::Describe { user: user.name, error })?;
                exported.mailbox =
                    mailbox::read_mailbox(&directory, &organization_id, &exported, reads).await?;
                Ok(exported)
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
        declared,
    })
}

/// The organization's id and the keys of the declarations of it in `desired`, all resolved with
/// one listing of organizations at most. A file whose organization cannot be resolved is an
/// error: whether it declares users of this organization is unknown.
async fn resolve<D: Directory>(
    directory: &D,
    reference: &OrganizationRef,
    desired: Option<&DesiredState>,
) -> Result<(String, DeclaredKeys), ExportError> {
    let files = desired.map(|d| d.organizations.as_slice()).unwrap_or_default();
    let references: Vec<&OrganizationRef> =
        std::iter::once(reference).chain(files.iter().map(|o| &o.reference)).collect();
    let mut resolved = resolve_organizations(directory, &references).await.into_iter();
    let organization_id = match resolved.next() {
        Some(Ok(organization)) => organization.id,
        Some(Err(message)) => return Err(ExportError::Organization(message)),
        None => return Err(ExportError::Organization(format!("`{reference}` was not resolved"))),
    };
    let mut declarations = Vec::new();
    for (file, resolution) in files.iter().zip(resolved) {
        match resolution {
            Ok(organization) if organization.id == organization_id => {
                declarations.extend(&file.users)
            }
            Ok(_) => {}
            Err(message) => {
                return Err(ExportError::Organization(format!(
                    "{message} (at {}); the users it declares cannot be told apart",
                    file.source
                )));
            }
        }
    }
    Ok((organization_id, DeclaredKeys::new(declarations)))
}

/// The user ids DescribeUser answers for the keys that named no listed user: a declaration by
/// a key only DescribeUser resolves. A key that names nobody is no error here (the plan says so).
async fn described_ids<D: Directory + Clone + 'static>(
    directory: &D,
    organization_id: &str,
    keys: &DeclaredKeys,
    width: usize,
) -> Result<HashSet<String>, ExportError> {
    let unnamed: Vec<String> = keys.naming_nobody().into_iter().map(str::to_string).collect();
    let answers = run_bounded(
        unnamed,
        width,
        |key| {
            let directory = directory.clone();
            let organization_id = organization_id.to_string();
            async move {
                match directory.describe_user(&organization_id, &key).await {
                    Ok(user) => Ok(Some(user.user_id)),
                    Err(DirectoryError::UserNotFound | DirectoryError::EntityState(_)) => Ok(None),
                    Err(error) => Err(ExportError::Describe { user: key, error }),
                }
            }
        },
        |_| {},
    )
    .await;
    answers.into_iter().filter_map(Result::transpose).collect()
}
