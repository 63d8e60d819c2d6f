//! The diff: desired state + observation → [`Plan`]. Pure: no I/O, no async.

use super::model::{FieldChange, Plan, PlanError, PlannedOrganization, UnchangedUser, UserChange};
use super::observation::{Observation, ObservedOrganization};
use crate::attrs::{AttrValue, Attribute};
use crate::directory::{DirectoryError, ObservedUser, UserState};
use crate::spec::{DesiredOrganization, DesiredState, DesiredUser};
use std::collections::{BTreeMap, HashMap};

/// Roles the API refuses to update.
const UNMANAGEABLE_ROLES: [&str; 2] = ["SYSTEM_USER", "RESOURCE"];

/// The per-field changes of one user: only managed fields, in table order.
pub fn field_changes(user: &DesiredUser, observed: &ObservedUser) -> Vec<FieldChange> {
    user.fields
        .iter()
        .filter_map(|(&field, desired)| {
            let before = observed.get(field);
            let after = desired.to_api();
            (before != after).then_some(FieldChange { field, before, after })
        })
        .collect()
}

/// The observed value of every managed field.
fn managed_observed(user: &DesiredUser, observed: &ObservedUser) -> BTreeMap<Attribute, AttrValue> {
    user.fields.keys().map(|&field| (field, observed.get(field))).collect()
}

/// Compute the plan. `observation.organizations[i]` describes `desired.organizations[i]`.
pub fn diff(desired: &DesiredState, observation: &Observation) -> Plan {
    let mut plan = Plan::default();
    for (organization, observed) in desired.organizations.iter().zip(&observation.organizations) {
        diff_organization(organization, observed, &mut plan);
    }
    plan
}

fn diff_organization(
    desired: &DesiredOrganization,
    observed: &ObservedOrganization,
    plan: &mut Plan,
) {
    let resolved = match &observed.resolved {
        Ok(resolved) => resolved,
        Err(message) => {
            plan.organizations
                .push(PlannedOrganization { id: desired.reference.to_string(), alias: None });
            plan.errors.push(PlanError {
                organization_id: desired.reference.to_string(),
                user: None,
                source: desired.source.to_string(),
                message: message.clone(),
            });
            return;
        }
    };
    let organization_id = resolved.id.clone();
    plan.organizations
        .push(PlannedOrganization { id: organization_id.clone(), alias: resolved.alias.clone() });

    // An organization id that does not exist fails every DescribeUser the same way: say it once.
    if !observed.users.is_empty()
        && observed.users.iter().all(|u| matches!(u, Err(DirectoryError::OrganizationNotFound)))
    {
        plan.errors.push(PlanError {
            organization_id: organization_id.clone(),
            user: None,
            source: desired.source.to_string(),
            message: format!("organization {organization_id} not found"),
        });
        return;
    }

    let duplicates = same_user_twice(&desired.users, &observed.users);
    for (index, (user, result)) in desired.users.iter().zip(&observed.users).enumerate() {
        let error = |message: String| PlanError {
            organization_id: organization_id.clone(),
            user: Some(user.key.clone()),
            source: user.source.to_string(),
            message,
        };
        let live = match result {
            Ok(live) => live,
            Err(e) => {
                plan.errors.push(error(e.to_string()));
                continue;
            }
        };
        if let Some(message) = duplicates.get(&index) {
            plan.errors.push(error(message.clone()));
            continue;
        }
        if live.state == UserState::Deleted {
            plan.errors
                .push(error(format!("user {} is DELETED and cannot be managed", live.user_id)));
            continue;
        }
        let fields = field_changes(user, live);
        let observed = managed_observed(user, live);
        let source = user.source.to_string();
        if fields.is_empty() {
            plan.unchanged.push(UnchangedUser {
                organization_id: organization_id.clone(),
                user: user.key.clone(),
                user_id: live.user_id.clone(),
                source,
                observed,
            });
        } else if UNMANAGEABLE_ROLES.contains(&live.role()) {
            plan.errors.push(error(format!(
                "user has role {} which the API does not let anyone update",
                live.role()
            )));
        } else {
            plan.changes.push(UserChange {
                organization_id: organization_id.clone(),
                user: user.key.clone(),
                user_id: live.user_id.clone(),
                source,
                fields,
                observed,
            });
        }
    }
}

/// Keys that resolve to the same user id: every one of them is an error naming the others,
/// because which declaration should win is not ours to guess.
fn same_user_twice(
    users: &[DesiredUser],
    observed: &[Result<ObservedUser, DirectoryError>],
) -> HashMap<usize, String> {
    let mut by_id: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, result) in observed.iter().enumerate() {
        if let Ok(live) = result {
            by_id.entry(live.user_id.as_str()).or_default().push(index);
        }
    }
    let mut messages = HashMap::new();
    for (user_id, indexes) in by_id {
        if indexes.len() < 2 {
            continue;
        }
        for &index in &indexes {
            let others: Vec<String> = indexes
                .iter()
                .filter(|&&other| other != index)
                .map(|&other| format!("`{}` at {}", users[other].key, users[other].source))
                .collect();
            messages.insert(
                index,
                format!("resolves to user {user_id}, the same user as {}", others.join(", ")),
            );
        }
    }
    messages
}
