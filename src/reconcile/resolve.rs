//! Organization references resolved to ids: one ListOrganizations, and only when an alias is
//! used. Shared by the plan (every organization of the files) and the export (one organization).

use crate::directory::Directory;
use crate::model::live::{OrganizationSummary, ResolvedOrganization};
use crate::spec::OrganizationRef;

/// Resolve every reference, each with the same single listing; the results are in the order of
/// `references`. An error says why a reference could not be resolved.
pub(crate) async fn resolve_organizations<D: Directory>(
    directory: &D,
    references: &[&OrganizationRef],
) -> Vec<Result<ResolvedOrganization, String>> {
    let needs_list = references.iter().any(|r| matches!(r, OrganizationRef::Alias(_)));
    let listed: Option<Result<Vec<OrganizationSummary>, String>> = if needs_list {
        Some(directory.list_organizations().await.map_err(|e| e.to_string()))
    } else {
        None
    };
    references.iter().map(|reference| resolve(reference, listed.as_ref())).collect()
}

fn resolve(
    reference: &OrganizationRef,
    listed: Option<&Result<Vec<OrganizationSummary>, String>>,
) -> Result<ResolvedOrganization, String> {
    match (reference, listed) {
        (OrganizationRef::Id(id), None) => Ok(ResolvedOrganization { id: id.clone(), alias: None }),
        (OrganizationRef::Id(id), Some(Ok(all))) => Ok(ResolvedOrganization {
            id: id.clone(),
            alias: all.iter().find(|o| &o.id == id).and_then(|o| o.alias.clone()),
        }),
        (OrganizationRef::Id(id), Some(Err(_))) => {
            Ok(ResolvedOrganization { id: id.clone(), alias: None })
        }
        (OrganizationRef::Alias(alias), Some(Ok(all))) => all
            .iter()
            .find(|o| o.alias.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(alias)))
            .map(|o| ResolvedOrganization { id: o.id.clone(), alias: o.alias.clone() })
            .ok_or_else(|| {
                let known: Vec<&str> = all.iter().filter_map(|o| o.alias.as_deref()).collect();
                format!(
                    "organization alias `{alias}` not found (this account has: {})",
                    if known.is_empty() { "none".to_string() } else { known.join(", ") }
                )
            }),
        (OrganizationRef::Alias(alias), Some(Err(e))) => Err(format!(
            "cannot resolve organization alias `{alias}`: ListOrganizations failed: {e}"
        )),
        (OrganizationRef::Alias(alias), None) => {
            Err(format!("organization alias `{alias}` was not resolved"))
        }
    }
}
