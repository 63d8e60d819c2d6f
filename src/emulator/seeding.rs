//! Building the emulated directory from a [`Seed`], checking every value against the API model
//! and the directory's rules (unique names and addresses, known domains, members that exist).
//! Errors name their place: `organizations[0].users[1] (alice): …`.

use super::seed::{Seed, SeedError, SeedGroup, SeedOrganization, SeedUser};
use super::state::{
    DEFAULT_MAILBOX_QUOTA_MB, EmulatedDirectory, EmulatedGroup, EmulatedUser, MAX_ALIASES,
    MAX_MAILBOX_QUOTA_MB, Organization, group_id_for, organization_id_for_alias, user_id_for,
};
use super::validation::check_shape;
use crate::model::attrs::AttrKind;
use crate::model::live::{Role, UserState};
use crate::spec::OrganizationRef;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

impl EmulatedDirectory {
    /// Builds the directory from a seed, checking it against the model's constraints.
    pub(crate) fn from_seed(seed: &Seed, now: SystemTime) -> Result<EmulatedDirectory, SeedError> {
        let mut directory = EmulatedDirectory::default();
        for (i, org) in seed.organizations.iter().enumerate() {
            let organization =
                seed_organization(&directory, org, &format!("organizations[{i}]"), now)?;
            directory.organizations.push(organization);
        }
        Ok(directory)
    }
}

fn seed_organization(
    directory: &EmulatedDirectory,
    org: &SeedOrganization,
    place: &str,
    now: SystemTime,
) -> Result<Organization, SeedError> {
    if let Some(alias) = &org.alias
        && !OrganizationRef::is_alias(alias)
    {
        return Err(SeedError::new(format!(
            "{place}: alias `{alias}` must be 1 to 62 letters, digits and single dashes, not starting with `d-`"
        )));
    }
    let id = match (&org.id, &org.alias) {
        (Some(id), _) => id.clone(),
        (None, Some(alias)) => organization_id_for_alias(alias),
        (None, None) => {
            return Err(SeedError::new(format!("{place}: needs an `id` or an `alias`")));
        }
    };
    check(place, "OrganizationId", "id", &json!(id))?;
    check(place, "DomainName", "default_mail_domain", &json!(org.default_mail_domain))?;
    if directory.organization(&id).is_some() {
        return Err(SeedError::new(format!("{place}: organization {id} is declared twice")));
    }
    if let Some(alias) = &org.alias
        && directory.organizations.iter().any(|o| o.alias.as_ref() == Some(alias))
    {
        return Err(SeedError::new(format!("{place}: alias `{alias}` is used twice")));
    }
    let mut organization =
        Organization::new(id.clone(), org.alias.clone(), org.default_mail_domain.clone(), now);
    for (j, domain) in org.mail_domains.iter().enumerate() {
        check(place, "DomainName", &format!("mail_domains[{j}]"), &json!(domain))?;
        organization.domains.insert(domain.to_ascii_lowercase());
    }
    // Entities first, so that aliases may use the domains of every primary address and members
    // may name groups declared later.
    for (j, seed_user) in org.users.iter().enumerate() {
        let place = format!("{place}.users[{j}] ({})", seed_user.name);
        let user = seed_user_to_user(&organization, seed_user, &place, now)?;
        insert_entity(&mut organization, &place, &user.name, user.email.as_deref())?;
        organization.insert_user(user);
    }
    for (j, seed_group) in org.groups.iter().enumerate() {
        let place = format!("{place}.groups[{j}] ({})", seed_group.name);
        let group = seed_group_to_group(&organization, seed_group, &place, now)?;
        insert_entity(&mut organization, &place, &group.name, group.email.as_deref())?;
        organization.insert_group(group);
    }
    for (j, seed_user) in org.users.iter().enumerate() {
        let place = format!("{place}.users[{j}] ({})", seed_user.name);
        let id = user_id_for(&organization.id, &seed_user.name);
        add_aliases(&mut organization, &id, &seed_user.aliases, &place)?;
    }
    for (j, seed_group) in org.groups.iter().enumerate() {
        let place = format!("{place}.groups[{j}] ({})", seed_group.name);
        let id = group_id_for(&organization.id, &seed_group.name);
        add_aliases(&mut organization, &id, &seed_group.aliases, &place)?;
        add_members(&mut organization, &id, seed_group, &place)?;
    }
    Ok(organization)
}

/// Checks that a new user's or group's name and address are free; a primary address adds its
/// domain to the organization's mail domains.
fn insert_entity(
    organization: &mut Organization,
    place: &str,
    name: &str,
    email: Option<&str>,
) -> Result<(), SeedError> {
    if organization.name_in_use(name) {
        return Err(SeedError::new(format!("{place}: name `{name}` is used twice")));
    }
    if let Some(email) = email {
        if organization.address_owner(email).is_some() {
            return Err(SeedError::new(format!("{place}: email {email} is used twice")));
        }
        if let Some((_, domain)) = email.rsplit_once('@') {
            organization.domains.insert(domain.to_ascii_lowercase());
        }
    }
    Ok(())
}

/// The address of an entity without one: `name@default_mail_domain` when `ENABLED`, since an
/// enabled WorkMail user or group always has one.
fn primary_address(
    org: &Organization,
    name: &str,
    email: Option<&String>,
    state: UserState,
    place: &str,
) -> Result<Option<String>, SeedError> {
    let email = match (email, state) {
        (Some(e), _) => Some(e.clone()),
        (None, UserState::Enabled) => Some(format!("{name}@{}", org.default_mail_domain)),
        (None, _) => None,
    };
    if let Some(e) = &email {
        check(place, "EmailAddress", "email", &json!(e))?;
    }
    Ok(email)
}

fn seed_user_to_user(
    org: &Organization,
    seed: &SeedUser,
    place: &str,
    now: SystemTime,
) -> Result<EmulatedUser, SeedError> {
    check(place, "UserName", "name", &json!(seed.name))?;
    let role = seed.role.clone().unwrap_or(Role::User);
    check(place, "UserRole", "role", &json!(role.as_str()))?;
    // The state defaults to ENABLED (docs/emulator.md#emulator-seed-file).
    let state = seed.state.unwrap_or(UserState::Enabled);
    let email = primary_address(org, &seed.name, seed.email.as_ref(), state, place)?;
    let mailbox_quota_mb = match seed.mailbox_quota_mb {
        Some(_) if state != UserState::Enabled => {
            return Err(SeedError::new(format!(
                "{place}: mailbox_quota_mb needs an ENABLED user (only a registered user has a mailbox)"
            )));
        }
        Some(mb) if !(1..=MAX_MAILBOX_QUOTA_MB).contains(&mb) => {
            return Err(SeedError::new(format!(
                "{place}: mailbox_quota_mb must be from 1 to {MAX_MAILBOX_QUOTA_MB}, got {mb}"
            )));
        }
        Some(mb) => mb,
        None => DEFAULT_MAILBOX_QUOTA_MB,
    };
    let mut user = EmulatedUser {
        id: user_id_for(&org.id, &seed.name),
        name: seed.name.clone(),
        email,
        state,
        role,
        attributes: BTreeMap::new(),
        aliases: Vec::new(),
        mailbox_quota_mb,
        enabled_date: (state == UserState::Enabled).then_some(now),
        disabled_date: (state != UserState::Enabled).then_some(now),
    };
    for (attr, value) in &seed.attributes {
        let shape = match attr.kind() {
            AttrKind::Text => "UserAttribute",
            AttrKind::Bool => "Boolean",
            AttrKind::IdpUserId => "IdentityProviderUserIdForUpdate",
            AttrKind::Role => continue,
        };
        check(place, shape, attr.key(), &serde_json::to_value(value).unwrap_or(Value::Null))?;
        user.set(*attr, value.clone());
    }
    user.normalize();
    Ok(user)
}

fn seed_group_to_group(
    org: &Organization,
    seed: &SeedGroup,
    place: &str,
    now: SystemTime,
) -> Result<EmulatedGroup, SeedError> {
    check(place, "GroupName", "name", &json!(seed.name))?;
    let state = seed.state.unwrap_or(UserState::Enabled);
    let email = primary_address(org, &seed.name, seed.email.as_ref(), state, place)?;
    Ok(EmulatedGroup {
        id: group_id_for(&org.id, &seed.name),
        name: seed.name.clone(),
        email,
        state,
        hidden_from_global_address_list: seed.hidden_from_global_address_list,
        aliases: Vec::new(),
        members: BTreeSet::new(),
        enabled_date: (state == UserState::Enabled).then_some(now),
        disabled_date: (state != UserState::Enabled).then_some(now),
    })
}

/// Gives user or group `id` its aliases: each a valid address in a mail domain of the
/// organization, used by no one (the owner included), at most [`MAX_ALIASES`].
fn add_aliases(
    organization: &mut Organization,
    id: &str,
    aliases: &[String],
    place: &str,
) -> Result<(), SeedError> {
    if aliases.is_empty() {
        return Ok(());
    }
    let old = organization.names_and_addresses(id);
    if organization.state_of(id) != Some(UserState::Enabled) {
        return Err(SeedError::new(format!(
            "{place}: aliases need an ENABLED user or group (one that has an email address)"
        )));
    }
    if aliases.len() > MAX_ALIASES {
        return Err(SeedError::new(format!(
            "{place}: {} aliases; at most {MAX_ALIASES} are allowed",
            aliases.len()
        )));
    }
    let mut taken = BTreeSet::new();
    for (k, alias) in aliases.iter().enumerate() {
        let key = format!("aliases[{k}]");
        check(place, "EmailAddress", &key, &json!(alias))?;
        if !organization.has_domain_of(alias) {
            return Err(SeedError::new(format!(
                "{place}: {key} {alias} is not in a mail domain of the organization ({})",
                organization.domains.iter().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
        if organization.address_owner(alias).is_some() || !taken.insert(alias.to_ascii_lowercase())
        {
            return Err(SeedError::new(format!("{place}: {key} {alias} is used twice")));
        }
    }
    if let Some(list) = organization.aliases_mut(id) {
        list.extend(aliases.iter().cloned());
        list.sort_by_key(|a| a.to_ascii_lowercase());
    }
    organization.reindex(id, &old);
    Ok(())
}

/// Adds group `id`'s members: existing users or groups, not `DELETED`, not the group itself,
/// each once; a `DELETED` group has none.
fn add_members(
    organization: &mut Organization,
    id: &str,
    seed: &SeedGroup,
    place: &str,
) -> Result<(), SeedError> {
    if seed.members.is_empty() {
        return Ok(());
    }
    if seed.state == Some(UserState::Deleted) {
        return Err(SeedError::new(format!("{place}: a DELETED group has no members")));
    }
    let mut members = BTreeSet::new();
    for (k, member) in seed.members.iter().enumerate() {
        let key = format!("members[{k}]");
        let Some(entity) = organization.find_entity(member) else {
            return Err(SeedError::new(format!(
                "{place}: {key} `{member}` is no user or group of the organization"
            )));
        };
        let member_id = entity.id().to_owned();
        let state = organization.state_of(&member_id);
        if member_id == id {
            return Err(SeedError::new(format!("{place}: {key} a group cannot contain itself")));
        }
        if state == Some(UserState::Deleted) {
            return Err(SeedError::new(format!(
                "{place}: {key} `{member}` is DELETED and cannot be a member"
            )));
        }
        if !members.insert(member_id) {
            return Err(SeedError::new(format!("{place}: {key} `{member}` is listed twice")));
        }
    }
    if let Some(group) = organization.groups.get_mut(id) {
        group.members = members;
    }
    Ok(())
}

fn check(place: &str, shape: &str, key: &str, value: &Value) -> Result<(), SeedError> {
    check_shape(shape, key, value).map_err(|e| SeedError::new(format!("{place}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::seed::{SeedGroup, SeedOrganization, SeedUser};
    use crate::model::attrs::Attribute;

    fn refused(org: SeedOrganization) -> String {
        EmulatedDirectory::from_seed(&Seed::default().organization(org), SystemTime::now())
            .unwrap_err()
            .message
    }

    fn acme() -> SeedOrganization {
        SeedOrganization::new("", Some("acme"), "acme.example")
    }

    #[test]
    fn bad_seeds_are_refused_with_the_place() {
        let twice = acme().user(SeedUser::new("alice")).user(SeedUser::new("Alice"));
        assert_eq!(refused(twice), "organizations[0].users[1] (Alice): name `Alice` is used twice");
        let long =
            acme().user(SeedUser::new("alice").attr(Attribute::City, "x".repeat(257).as_str()));
        assert!(refused(long).contains("city"));
        let bad_id = Seed::default().organization(SeedOrganization::new("m-1", None, "a.example"));
        assert!(EmulatedDirectory::from_seed(&bad_id, SystemTime::now()).is_err());
        let bad_alias = SeedOrganization::new("", Some("d-123"), "a.example");
        assert_eq!(
            refused(bad_alias),
            "organizations[0]: alias `d-123` must be 1 to 62 letters, digits and single dashes, \
             not starting with `d-`"
        );
    }

    #[test]
    fn aliases_groups_and_quotas_are_checked() {
        let cases = [
            (
                acme().user(SeedUser::new("alice").alias("a@elsewhere.example")),
                "organizations[0].users[0] (alice): aliases[0] a@elsewhere.example is not in a mail domain of the organization (acme.example)",
            ),
            (
                acme()
                    .user(SeedUser::new("alice").alias("bob@acme.example"))
                    .user(SeedUser::new("bob")),
                "organizations[0].users[0] (alice): aliases[0] bob@acme.example is used twice",
            ),
            (
                acme().user(SeedUser::new("alice").alias("alice@acme.example")),
                "organizations[0].users[0] (alice): aliases[0] alice@acme.example is used twice",
            ),
            (
                acme().user(SeedUser::new("alice").alias("x@acme.example").alias("X@acme.example")),
                "organizations[0].users[0] (alice): aliases[1] X@acme.example is used twice",
            ),
            (
                acme()
                    .user(SeedUser::new("bob").state(UserState::Disabled).alias("b@acme.example")),
                "organizations[0].users[0] (bob): aliases need an ENABLED user or group (one that has an email address)",
            ),
            (
                acme().user(SeedUser::new("bob").state(UserState::Disabled).quota(10)),
                "organizations[0].users[0] (bob): mailbox_quota_mb needs an ENABLED user (only a registered user has a mailbox)",
            ),
            (
                acme().user(SeedUser::new("alice").quota(51_201)),
                "organizations[0].users[0] (alice): mailbox_quota_mb must be from 1 to 51200, got 51201",
            ),
            (
                acme().user(SeedUser::new("alice").quota(0)),
                "organizations[0].users[0] (alice): mailbox_quota_mb must be from 1 to 51200, got 0",
            ),
            (
                acme().user(SeedUser::new("sales")).group(SeedGroup::new("Sales")),
                "organizations[0].groups[0] (Sales): name `Sales` is used twice",
            ),
            (
                acme().group(SeedGroup::new("sales").member("nobody")),
                "organizations[0].groups[0] (sales): members[0] `nobody` is no user or group of the organization",
            ),
            (
                acme().group(SeedGroup::new("sales").member("sales")),
                "organizations[0].groups[0] (sales): members[0] a group cannot contain itself",
            ),
            (
                acme()
                    .user(SeedUser::new("alice"))
                    .group(SeedGroup::new("sales").member("alice").member("ALICE")),
                "organizations[0].groups[0] (sales): members[1] `ALICE` is listed twice",
            ),
            (
                acme()
                    .user(SeedUser::new("carol").state(UserState::Deleted))
                    .group(SeedGroup::new("sales").member("carol")),
                "organizations[0].groups[0] (sales): members[0] `carol` is DELETED and cannot be a member",
            ),
            (
                acme()
                    .user(SeedUser::new("alice"))
                    .group(SeedGroup::new("old").state(UserState::Deleted).member("alice")),
                "organizations[0].groups[0] (old): a DELETED group has no members",
            ),
            (
                acme().group(SeedGroup::new("all staff")),
                "organizations[0].groups[0] (all staff): Value 'all staff@acme.example' at 'email' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9._%+-]{1,64}@[a-zA-Z0-9.-]+\\.[a-zA-Z-]{2,}",
            ),
        ];
        for (org, expected) in cases {
            assert_eq!(refused(org), expected);
        }
        let too_many = (0..=MAX_ALIASES)
            .fold(SeedUser::new("alice"), |u, i| u.alias(&format!("a{i}@acme.example")));
        assert_eq!(
            refused(acme().user(too_many)),
            "organizations[0].users[0] (alice): 101 aliases; at most 100 are allowed"
        );
    }

    #[test]
    fn a_full_seed_builds_indexes_domains_and_memberships() {
        let org = acme()
            .mail_domain("Acme-Corp.example")
            .user(
                SeedUser::new("alice")
                    .alias("a.liddell@acme.example")
                    .alias("alice@acme-corp.example")
                    .quota(1024),
            )
            .user(SeedUser::new("bob").email("bob@bob.example"))
            .group(SeedGroup::new("all").member("engineering").member("bob@bob.example"))
            .group(
                SeedGroup::new("engineering")
                    .email("eng@acme.example")
                    .alias("dev@acme.example")
                    .member("alice"),
            )
            .group(SeedGroup::new("dormant").state(UserState::Disabled));
        let dir =
            EmulatedDirectory::from_seed(&Seed::default().organization(org), SystemTime::now())
                .unwrap();
        let org = &dir.organizations[0];
        assert_eq!(
            org.domains.iter().map(String::as_str).collect::<Vec<_>>(),
            ["acme-corp.example", "acme.example", "bob.example"]
        );
        let alice = org.find_user("alice").unwrap();
        assert_eq!(alice.aliases, ["a.liddell@acme.example", "alice@acme-corp.example"]);
        assert_eq!(alice.mailbox_quota_mb, 1024);
        assert_eq!(org.find_user("bob").unwrap().mailbox_quota_mb, DEFAULT_MAILBOX_QUOTA_MB);
        let eng = org.find_group("ENG@acme.example").unwrap();
        assert_eq!(eng.members, BTreeSet::from([alice.id.clone()]));
        assert_eq!(org.address_owner("dev@ACME.example"), Some(eng.id.as_str()));
        let all = org.find_group("all").unwrap();
        assert_eq!(all.email.as_deref(), Some("all@acme.example"));
        assert!(all.members.contains(&eng.id));
        assert_eq!(org.find_group("dormant").unwrap().email, None);
        assert!(org.find_user("engineering").is_none(), "a group is not a user");
        let groups: Vec<&str> = org.groups_of(&eng.id).map(|g| g.name.as_str()).collect();
        assert_eq!(groups, ["all"]);
    }
}
