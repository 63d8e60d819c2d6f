//! Mail domains and aliases: ListMailDomains, ListAliases, CreateAlias, DeleteAlias.
//!
//! The alias operations name their user or group by id only: their `EntityId` is the API's
//! `WorkMailIdentifier` (an id, 12 to 256 characters), not the `EntityIdentifier` that also
//! takes names and addresses.

use super::{
    fingerprint, listing, organization, organization_mut, page_start, require_mail_domain,
    required, take_page,
};
use crate::emulator::state::{EmulatedDirectory, MAX_ALIASES, Organization};
use crate::emulator::wire::ApiError;
use crate::model::live::UserState;
use serde_json::{Value, json};

/// The mail domains in name order, the default one flagged.
pub(super) fn list_mail_domains(
    input: &Value,
    directory: &EmulatedDirectory,
) -> Result<Value, ApiError> {
    let org = organization(input, directory)?;
    let print = fingerprint(&[&json!(org.id)]);
    let after = page_start(input, "mail-domains", &print)?;
    let default = org.default_mail_domain.to_ascii_lowercase();
    let rest = org
        .domains
        .iter()
        .filter(|d| after.as_deref().is_none_or(|after| d.as_str() > after))
        .map(|d| (d.clone(), json!({ "DomainName": d, "DefaultDomain": *d == default })));
    let (domains, next) = take_page(rest, input, "mail-domains", &print);
    Ok(listing("MailDomains", domains, next))
}

/// The state, primary address and aliases of the user or group with id `id`.
fn owner<'a>(
    org: &'a Organization,
    id: &str,
) -> Result<(UserState, Option<&'a str>, &'a [String]), ApiError> {
    if let Some(user) = org.users.get(id) {
        return Ok((user.state, user.email.as_deref(), &user.aliases));
    }
    if let Some(group) = org.groups.get(id) {
        return Ok((group.state, group.email.as_deref(), &group.aliases));
    }
    Err(ApiError::entity_not_found(id))
}

fn deleted(id: &str) -> ApiError {
    ApiError::entity_state(format!("The entity {id} is in state DELETED."))
}

/// The aliases in address order (ignoring ASCII case); the primary address among them when
/// `include_primary` (the emulator's knob for the two behaviours seen from the service).
pub(super) fn list_aliases(
    input: &Value,
    directory: &EmulatedDirectory,
    include_primary: bool,
) -> Result<Value, ApiError> {
    let org = organization(input, directory)?;
    let id = required(input, "EntityId")?;
    let (state, email, aliases) = owner(org, id)?;
    if state == UserState::Deleted {
        return Err(deleted(id));
    }
    let mut all: Vec<&str> = aliases.iter().map(String::as_str).collect();
    if include_primary && let Some(email) = email {
        all.push(email);
    }
    let mut keyed: Vec<(String, Value)> =
        all.into_iter().map(|a| (a.to_ascii_lowercase(), json!(a))).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    let print = fingerprint(&[&json!(org.id), &json!(id)]);
    let after = page_start(input, "aliases", &print)?;
    let rest = keyed
        .into_iter()
        .filter(|(key, _)| after.as_deref().is_none_or(|after| key.as_str() > after));
    let (page, next) = take_page(rest, input, "aliases", &print);
    Ok(listing("Aliases", page, next))
}

/// What CreateAlias and DeleteAlias name: the organization, the entity id and the alias.
fn alias_write<'d, 'i>(
    input: &'i Value,
    directory: &'d mut EmulatedDirectory,
) -> Result<(&'d mut Organization, &'i str, &'i str), ApiError> {
    let org = organization_mut(input, directory)?;
    Ok((org, required(input, "EntityId")?, required(input, "Alias")?))
}

/// Adds an alias to an ENABLED user or group: in a mail domain of the organization, used by no
/// one (its owner included), within [`MAX_ALIASES`].
pub(super) fn create_alias(
    input: &Value,
    directory: &mut EmulatedDirectory,
) -> Result<Value, ApiError> {
    let (org, id, alias) = alias_write(input, directory)?;
    let (state, _, aliases) = owner(org, id)?;
    match state {
        UserState::Deleted => return Err(deleted(id)),
        UserState::Disabled => {
            return Err(ApiError::entity_state(format!(
                "The entity {id} is not enabled: register it to WorkMail before adding aliases."
            )));
        }
        UserState::Enabled => {}
    }
    let count = aliases.len();
    require_mail_domain(org, alias)?;
    if org.address_owner(alias).is_some() {
        return Err(ApiError::email_address_in_use(alias));
    }
    if count >= MAX_ALIASES {
        return Err(ApiError::client(
            "LimitExceededException",
            format!("The entity {id} already has {MAX_ALIASES} aliases, the most allowed."),
        ));
    }
    let old = org.names_and_addresses(id);
    if let Some(aliases) = org.aliases_mut(id) {
        aliases.push(alias.to_owned());
        aliases.sort_by_key(|a| a.to_ascii_lowercase());
    }
    org.reindex(id, &old);
    Ok(json!({}))
}

/// Removes an alias; one the user or group does not have is nothing to do (the service treats
/// the aliases as a set). The primary address is no alias and cannot be removed.
pub(super) fn delete_alias(
    input: &Value,
    directory: &mut EmulatedDirectory,
) -> Result<Value, ApiError> {
    let (org, id, alias) = alias_write(input, directory)?;
    let (state, email, _) = owner(org, id)?;
    if state == UserState::Deleted {
        return Err(deleted(id));
    }
    if email.is_some_and(|e| e.eq_ignore_ascii_case(alias)) {
        return Err(ApiError::invalid_parameter(format!(
            "{alias} is the primary address of {id}, not an alias, and cannot be deleted."
        )));
    }
    let old = org.names_and_addresses(id);
    if let Some(aliases) = org.aliases_mut(id) {
        aliases.retain(|a| !a.eq_ignore_ascii_case(alias));
    }
    org.reindex(id, &old);
    Ok(json!({}))
}
