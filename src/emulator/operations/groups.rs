//! Groups and membership: ListGroups, DescribeGroup, ListGroupMembers, ListGroupsForEntity,
//! AssociateMemberToGroup, DisassociateMemberFromGroup and CreateGroup.
//!
//! Groups and members are named by id, primary address or name (the API's `EntityIdentifier`).

use super::{
    OperationContext, fingerprint, listing, organization, organization_mut, page_start, required,
    starts_with_ignore_case, str_member, take_page, timestamp,
};
use crate::emulator::state::{
    EmulatedDirectory, EmulatedGroup, Entity, Organization, group_id_for,
};
use crate::emulator::wire::ApiError;
use crate::model::live::UserState;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use std::ops::Bound;
use std::time::SystemTime;

fn insert_dates(
    out: &mut Map<String, Value>,
    enabled: Option<SystemTime>,
    disabled: Option<SystemTime>,
) {
    if let Some(t) = enabled {
        out.insert("EnabledDate".into(), timestamp(t));
    }
    if let Some(t) = disabled {
        out.insert("DisabledDate".into(), timestamp(t));
    }
}

/// A `Group` of ListGroups.
fn group_summary(group: &EmulatedGroup) -> Value {
    let mut out = Map::new();
    out.insert("Id".into(), json!(group.id));
    if let Some(email) = &group.email {
        out.insert("Email".into(), json!(email));
    }
    out.insert("Name".into(), json!(group.name));
    out.insert("State".into(), json!(group.state.as_str()));
    insert_dates(&mut out, group.enabled_date, group.disabled_date);
    Value::Object(out)
}

/// The groups in id order, DELETED ones included; the filters `NamePrefix`, `PrimaryEmailPrefix`
/// (ignoring ASCII case) and `State` combine with AND, as ListUsers' do.
pub(super) fn list_groups(input: &Value, directory: &EmulatedDirectory) -> Result<Value, ApiError> {
    let org = organization(input, directory)?;
    let filters = input.get("Filters").cloned().unwrap_or(Value::Null);
    let print = fingerprint(&[&json!(org.id), &filters]);
    let after = page_start(input, "groups", &print)?;
    let get = |name: &str| filters.get(name).and_then(Value::as_str);
    let (name, email, state) = (get("NamePrefix"), get("PrimaryEmailPrefix"), get("State"));
    let lower = after.map_or(Bound::Unbounded, Bound::Excluded);
    let rest = org
        .groups
        .range::<String, _>((lower, Bound::Unbounded))
        .map(|(_, g)| g)
        .filter(|g| {
            name.is_none_or(|p| starts_with_ignore_case(&g.name, p))
                && email.is_none_or(|p| {
                    g.email.as_deref().is_some_and(|e| starts_with_ignore_case(e, p))
                })
                && state.is_none_or(|s| s == g.state.as_str())
        })
        .map(|g| (g.id.clone(), group_summary(g)));
    let (groups, next) = take_page(rest, input, "groups", &print);
    Ok(listing("Groups", groups, next))
}

fn find_group<'a>(org: &'a Organization, input: &Value) -> Result<&'a EmulatedGroup, ApiError> {
    let ident = required(input, "GroupId")?;
    org.find_group(ident).ok_or_else(|| ApiError::entity_not_found(ident))
}

fn deleted(id: &str) -> ApiError {
    ApiError::entity_state(format!("The entity {id} is in state DELETED."))
}

pub(super) fn describe_group(
    input: &Value,
    directory: &EmulatedDirectory,
) -> Result<Value, ApiError> {
    let org = organization(input, directory)?;
    let group = find_group(org, input)?;
    let mut out = Map::new();
    out.insert("GroupId".into(), json!(group.id));
    out.insert("Name".into(), json!(group.name));
    if let Some(email) = &group.email {
        out.insert("Email".into(), json!(email));
    }
    out.insert("State".into(), json!(group.state.as_str()));
    insert_dates(&mut out, group.enabled_date, group.disabled_date);
    out.insert("HiddenFromGlobalAddressList".into(), json!(group.hidden_from_global_address_list));
    Ok(Value::Object(out))
}

/// A `Member` of ListGroupMembers; `None` for an id that names no one (an outside edit).
fn member(org: &Organization, id: &str) -> Option<Value> {
    let (name, kind, state, enabled, disabled) = match org.entity_by_id(id)? {
        Entity::User(_) => {
            let u = org.users.get(id)?;
            (&u.name, "USER", u.state, u.enabled_date, u.disabled_date)
        }
        Entity::Group(_) => {
            let g = org.groups.get(id)?;
            (&g.name, "GROUP", g.state, g.enabled_date, g.disabled_date)
        }
    };
    let mut out = Map::new();
    out.insert("Id".into(), json!(id));
    out.insert("Name".into(), json!(name));
    out.insert("Type".into(), json!(kind));
    out.insert("State".into(), json!(state.as_str()));
    insert_dates(&mut out, enabled, disabled);
    Some(Value::Object(out))
}

/// The direct members (users and groups) in id order; a DELETED group is `EntityStateException`.
pub(super) fn list_group_members(
    input: &Value,
    directory: &EmulatedDirectory,
) -> Result<Value, ApiError> {
    let org = organization(input, directory)?;
    let group = find_group(org, input)?;
    if group.state == UserState::Deleted {
        return Err(deleted(&group.id));
    }
    let print = fingerprint(&[&json!(org.id), &json!(group.id)]);
    let after = page_start(input, "members", &print)?;
    let lower = after.map_or(Bound::Unbounded, Bound::Excluded);
    let rest = group
        .members
        .range::<String, _>((lower, Bound::Unbounded))
        .filter_map(|id| member(org, id).map(|m| (id.clone(), m)));
    let (members, next) = take_page(rest, input, "members", &print);
    Ok(listing("Members", members, next))
}

/// The groups an entity is a direct member of, in group id order, filtered by
/// `GroupNamePrefix` (ignoring ASCII case); a DELETED entity is `EntityStateException`.
pub(super) fn list_groups_for_entity(
    input: &Value,
    directory: &EmulatedDirectory,
) -> Result<Value, ApiError> {
    let org = organization(input, directory)?;
    let ident = required(input, "EntityId")?;
    let entity = org.find_entity(ident).ok_or_else(|| ApiError::entity_not_found(ident))?;
    let id = entity.id();
    if org.state_of(id) == Some(UserState::Deleted) {
        return Err(deleted(id));
    }
    let filters = input.get("Filters").cloned().unwrap_or(Value::Null);
    let prefix = str_member(&filters, "GroupNamePrefix");
    let print = fingerprint(&[&json!(org.id), &json!(id), &filters]);
    let after = page_start(input, "groups-for-entity", &print)?;
    let rest = org
        .groups_of(id)
        .filter(|g| after.as_deref().is_none_or(|after| g.id.as_str() > after))
        .filter(|g| prefix.is_none_or(|p| starts_with_ignore_case(&g.name, p)))
        .map(|g| (g.id.clone(), json!({ "GroupId": g.id, "GroupName": g.name })));
    let (groups, next) = take_page(rest, input, "groups-for-entity", &print);
    Ok(listing("Groups", groups, next))
}

/// The group and member ids a membership change names, once neither is DELETED and they differ.
fn membership(org: &Organization, input: &Value) -> Result<(String, String), ApiError> {
    let group = find_group(org, input)?;
    let ident = required(input, "MemberId")?;
    let member = org.find_entity(ident).ok_or_else(|| ApiError::entity_not_found(ident))?;
    let member_id = member.id().to_owned();
    if group.state == UserState::Deleted {
        return Err(deleted(&group.id));
    }
    if org.state_of(&member_id) == Some(UserState::Deleted) {
        return Err(deleted(&member_id));
    }
    if member_id == group.id {
        return Err(ApiError::invalid_parameter(format!(
            "The group {} cannot be a member of itself.",
            group.id
        )));
    }
    Ok((group.id.clone(), member_id))
}

/// Adds a member; one already there is nothing to do (the group's members are a set).
pub(super) fn associate_member(
    input: &Value,
    directory: &mut EmulatedDirectory,
) -> Result<Value, ApiError> {
    let org = organization_mut(input, directory)?;
    let (group_id, member_id) = membership(org, input)?;
    if let Some(group) = org.groups.get_mut(&group_id) {
        group.members.insert(member_id);
    }
    Ok(json!({}))
}

/// Removes a member; an entity that is not a member is `EntityNotFoundException`.
pub(super) fn disassociate_member(
    input: &Value,
    directory: &mut EmulatedDirectory,
) -> Result<Value, ApiError> {
    let org = organization_mut(input, directory)?;
    let (group_id, member_id) = membership(org, input)?;
    let removed = org.groups.get_mut(&group_id).is_some_and(|g| g.members.remove(&member_id));
    if !removed {
        return Err(ApiError::client(
            "EntityNotFoundException",
            format!("The entity {member_id} is not a member of the group {group_id}."),
        ));
    }
    Ok(json!({}))
}

/// A new DISABLED group without address, as WorkMail creates them until registered; a name a
/// user or group already has is `NameAvailabilityException`.
pub(super) fn create_group(input: &Value, ctx: OperationContext<'_>) -> Result<Value, ApiError> {
    let org = organization_mut(input, ctx.directory)?;
    let name = required(input, "Name")?;
    let id = group_id_for(&org.id, name);
    if org.name_in_use(name) || org.groups.contains_key(&id) {
        return Err(ApiError::client(
            "NameAvailabilityException",
            format!("Name {name} is already in use."),
        ));
    }
    org.insert_group(EmulatedGroup {
        id: id.clone(),
        name: name.to_owned(),
        email: None,
        state: UserState::Disabled,
        hidden_from_global_address_list: input
            .get("HiddenFromGlobalAddressList")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        aliases: Vec::new(),
        members: BTreeSet::new(),
        enabled_date: None,
        disabled_date: Some(ctx.now),
    });
    Ok(json!({ "GroupId": id }))
}
