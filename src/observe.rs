//! Observe the live directory for a desired state: resolve organization aliases (one
//! ListOrganizations, only if an alias is used) and describe every declared user concurrently.
//! Calls: one DescribeUser per declared user, nothing more.

use crate::directory::{Directory, OrganizationSummary, run_bounded};
use crate::plan::{Observation, ObservedOrganization, ResolvedOrganization, UserObservation};
use crate::spec::{DesiredState, OrganizationRef};
use std::sync::Arc;

/// Resolve every organization reference of `desired`, each alias once.
pub async fn resolve_organizations<D: Directory>(
    directory: &D,
    desired: &DesiredState,
) -> Vec<Result<ResolvedOrganization, String>> {
    let needs_list =
        desired.organizations.iter().any(|o| matches!(o.reference, OrganizationRef::Alias(_)));
    let listed: Option<Result<Vec<OrganizationSummary>, String>> = if needs_list {
        Some(directory.list_organizations().await.map_err(|e| e.to_string()))
    } else {
        None
    };
    desired
        .organizations
        .iter()
        .map(|organization| resolve(&organization.reference, listed.as_ref()))
        .collect()
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

/// Describe every declared user of every resolved organization, under one shared limiter.
/// `on_user` is called once per described user (for a progress bar).
pub async fn observe<D: Directory + Clone + 'static>(
    directory: &D,
    desired: &DesiredState,
    width: usize,
    on_user: impl FnMut(),
) -> Observation {
    let resolved = resolve_organizations(directory, desired).await;
    let mut jobs = Vec::new();
    for (org_index, (organization, resolution)) in
        desired.organizations.iter().zip(&resolved).enumerate()
    {
        if let Ok(resolved) = resolution {
            let organization_id: Arc<str> = Arc::from(resolved.id.as_str());
            for user in &organization.users {
                jobs.push((org_index, Arc::clone(&organization_id), user));
            }
        }
    }
    let placement: Vec<usize> = jobs.iter().map(|(org_index, ..)| *org_index).collect();
    let mut on_user = on_user;
    let results = run_bounded(
        jobs,
        width,
        |(_, organization_id, user)| {
            let directory = directory.clone();
            // Cloned only while its call runs (`width` users at a time).
            let user = user.clone();
            async move {
                // Reduced at once to what the plan shows, so that memory holds the changes of
                // 100,000 users, not their every live value.
                let live = directory.describe_user(&organization_id, &user.key).await?;
                Ok(UserObservation::new(&user, &live))
            }
        },
        |_| on_user(),
    )
    .await;
    let mut organizations: Vec<ObservedOrganization> = resolved
        .into_iter()
        .map(|resolved| ObservedOrganization { resolved, users: Vec::new() })
        .collect();
    for (org_index, result) in placement.into_iter().zip(results) {
        organizations[org_index].users.push(result);
    }
    Observation { organizations }
}
