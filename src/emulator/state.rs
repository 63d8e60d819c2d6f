//! The emulated directory: organizations, users, and how identifiers resolve.

use super::seed::{Seed, SeedError};
use super::validation::check_shape;
use crate::attrs::{AttrKind, AttrValue, Attribute};
use crate::live::{Role, UserState};
use crate::spec::OrganizationRef;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::SystemTime;

/// A user as the emulator stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmulatedUser {
    /// The WorkMail user id (UUID-shaped, derived from organization id and name).
    pub id: String,
    /// The user name.
    pub name: String,
    /// The primary email; `None` until registered.
    pub email: Option<String>,
    /// ENABLED, DISABLED or DELETED.
    pub state: UserState,
    pub role: Role,
    /// The 13 text attributes (empty ones absent), `HiddenFromGlobalAddressList` (always
    /// present) and `IdentityProviderUserId` (absent when empty). Never `Role`.
    pub attributes: BTreeMap<Attribute, AttrValue>,
    /// When the user was last enabled (registered).
    #[serde(skip)]
    pub enabled_date: Option<SystemTime>,
    /// When the user was last disabled.
    #[serde(skip)]
    pub disabled_date: Option<SystemTime>,
}

impl EmulatedUser {
    /// The value of `attr` as DescribeUser would carry it: `Role` is the role, a missing text is
    /// `""`, the hidden flag a boolean.
    pub fn get(&self, attr: Attribute) -> AttrValue {
        if attr == Attribute::Role {
            return AttrValue::Text(self.role.as_str().to_string());
        }
        self.attributes.get(&attr).cloned().unwrap_or_else(|| attr.empty_value())
    }

    /// Sets `attr`; `""` clears a text attribute.
    pub(crate) fn set(&mut self, attr: Attribute, value: AttrValue) {
        match (attr.kind(), value) {
            (AttrKind::Role, AttrValue::Text(role)) => self.role = Role::parse(&role),
            (AttrKind::Bool, v @ AttrValue::Bool(_)) => {
                self.attributes.insert(attr, v);
            }
            (_, AttrValue::Text(s)) if s.is_empty() => {
                self.attributes.remove(&attr);
            }
            (_, v) => {
                self.attributes.insert(attr, v);
            }
        }
    }

    /// Restores the invariants after an outside edit: `Role` lives in `role`, empty texts are
    /// absent, the hidden flag is present.
    pub(crate) fn normalize(&mut self) {
        if let Some(AttrValue::Text(role)) = self.attributes.remove(&Attribute::Role) {
            self.role = Role::parse(&role);
        }
        self.attributes.retain(|_, v| !v.is_empty_text());
        self.attributes
            .entry(Attribute::HiddenFromGlobalAddressList)
            .or_insert(AttrValue::Bool(false));
    }
}

/// An organization and its users.
#[derive(Debug, Clone)]
pub(crate) struct Organization {
    pub(crate) id: String,
    pub(crate) alias: Option<String>,
    pub(crate) default_mail_domain: String,
    /// Domains that RegisterToWorkMail accepts: the default one and those of seeded emails.
    pub(crate) domains: BTreeSet<String>,
    pub(crate) completed_date: SystemTime,
    /// Keyed by user id; ListUsers pages in this order. Insert through [`Organization::insert_user`]
    /// and change names or emails through [`Organization::reindex`], so the indexes stay right.
    pub(crate) users: BTreeMap<String, EmulatedUser>,
    /// Lower-cased email → user id: DescribeUser by email stays O(1) at 100,000 users.
    by_email: HashMap<String, String>,
    /// Lower-cased name → user id.
    by_name: HashMap<String, String>,
}

impl Organization {
    /// An organization without users.
    pub(crate) fn new(
        id: String,
        alias: Option<String>,
        default_mail_domain: String,
        now: SystemTime,
    ) -> Self {
        Organization {
            id,
            alias,
            domains: BTreeSet::from([default_mail_domain.to_ascii_lowercase()]),
            default_mail_domain,
            completed_date: now,
            users: BTreeMap::new(),
            by_email: HashMap::new(),
            by_name: HashMap::new(),
        }
    }

    /// The user named by id, email or name (names and emails case-insensitively), in that order.
    pub(crate) fn find_user(&self, ident: &str) -> Option<&EmulatedUser> {
        if let Some(user) = self.users.get(ident) {
            return Some(user);
        }
        let key = ident.to_ascii_lowercase();
        self.by_email.get(&key).or_else(|| self.by_name.get(&key)).and_then(|id| self.users.get(id))
    }

    /// Add a user and index its name and email.
    pub(crate) fn insert_user(&mut self, user: EmulatedUser) {
        self.by_name.insert(user.name.to_ascii_lowercase(), user.id.clone());
        if let Some(email) = &user.email {
            self.by_email.insert(email.to_ascii_lowercase(), user.id.clone());
        }
        self.users.insert(user.id.clone(), user);
    }

    /// After user `id`'s name or email changed from `old_name`/`old_email`: index the new ones.
    pub(crate) fn reindex(&mut self, id: &str, old_name: &str, old_email: Option<&str>) {
        let Some(user) = self.users.get(id) else { return };
        let (name, email) =
            (user.name.to_ascii_lowercase(), user.email.as_deref().map(str::to_ascii_lowercase));
        if self.by_name.get(&old_name.to_ascii_lowercase()).is_some_and(|owner| owner == id) {
            self.by_name.remove(&old_name.to_ascii_lowercase());
        }
        if let Some(old) = old_email.map(str::to_ascii_lowercase)
            && self.by_email.get(&old).is_some_and(|owner| owner == id)
        {
            self.by_email.remove(&old);
        }
        self.by_name.insert(name, id.to_string());
        if let Some(email) = email {
            self.by_email.insert(email, id.to_string());
        }
    }

    pub(crate) fn find_user_mut(&mut self, ident: &str) -> Option<&mut EmulatedUser> {
        let id = self.find_user(ident)?.id.clone();
        self.users.get_mut(&id)
    }

    pub(crate) fn arn(&self, region: &str) -> String {
        format!("arn:aws:workmail:{region}:{ACCOUNT_ID}:organization/{}", self.id)
    }

    /// The organization as the control endpoint shows it.
    pub(crate) fn to_json(&self) -> Value {
        let users: Vec<Value> = self.users.values().map(user_json).collect();
        json!({
            "id": self.id,
            "alias": self.alias,
            "default_mail_domain": self.default_mail_domain,
            "users": users,
        })
    }
}

fn user_json(u: &EmulatedUser) -> Value {
    let attributes: serde_json::Map<String, Value> = u
        .attributes
        .iter()
        .map(|(a, v)| (a.key().to_owned(), serde_json::to_value(v).unwrap_or(Value::Null)))
        .collect();
    json!({
        "id": u.id, "name": u.name, "email": u.email, "state": u.state, "role": u.role,
        "attributes": attributes,
    })
}

/// The account id in ARNs.
pub(crate) const ACCOUNT_ID: &str = "111122223333";

/// The emulated directory's state: every organization, with its users.
#[derive(Debug, Clone, Default)]
pub(crate) struct EmulatedDirectory {
    pub(crate) organizations: Vec<Organization>,
}

impl EmulatedDirectory {
    pub(crate) fn organization(&self, id: &str) -> Option<&Organization> {
        self.organizations.iter().find(|o| o.id == id)
    }

    pub(crate) fn organization_mut(&mut self, id: &str) -> Option<&mut Organization> {
        self.organizations.iter_mut().find(|o| o.id == id)
    }

    /// Builds the directory from a seed, checking it against the model's constraints.
    pub(crate) fn from_seed(seed: &Seed, now: SystemTime) -> Result<EmulatedDirectory, SeedError> {
        let mut directory = EmulatedDirectory::default();
        for (i, org) in seed.organizations.iter().enumerate() {
            let place = format!("organizations[{i}]");
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
            check(&place, "OrganizationId", "id", &json!(id))?;
            check(&place, "DomainName", "default_mail_domain", &json!(org.default_mail_domain))?;
            if directory.organization(&id).is_some() {
                return Err(SeedError::new(format!(
                    "{place}: organization {id} is declared twice"
                )));
            }
            if let Some(alias) = &org.alias
                && directory.organizations.iter().any(|o| o.alias.as_ref() == Some(alias))
            {
                return Err(SeedError::new(format!("{place}: alias `{alias}` is used twice")));
            }
            let mut organization = Organization::new(
                id.clone(),
                org.alias.clone(),
                org.default_mail_domain.clone(),
                now,
            );
            for (j, seed_user) in org.users.iter().enumerate() {
                let place = format!("{place}.users[{j}] ({})", seed_user.name);
                let user = seed_user_to_user(&organization, seed_user, &place, now)?;
                if organization.find_user(&user.name).is_some() {
                    return Err(SeedError::new(format!("{place}: user name is used twice")));
                }
                if let Some(email) = &user.email {
                    if organization.find_user(email).is_some() {
                        return Err(SeedError::new(format!(
                            "{place}: email {email} is used twice"
                        )));
                    }
                    if let Some((_, domain)) = email.rsplit_once('@') {
                        organization.domains.insert(domain.to_ascii_lowercase());
                    }
                }
                organization.insert_user(user);
            }
            directory.organizations.push(organization);
        }
        Ok(directory)
    }
}

fn seed_user_to_user(
    org: &Organization,
    seed: &super::seed::SeedUser,
    place: &str,
    now: SystemTime,
) -> Result<EmulatedUser, SeedError> {
    check(place, "UserName", "name", &json!(seed.name))?;
    let role = seed.role.clone().unwrap_or(Role::User);
    check(place, "UserRole", "role", &json!(role.as_str()))?;
    // The state defaults to ENABLED (docs/emulator.md#emulator-seed-file).
    let state = seed.state.unwrap_or(UserState::Enabled);
    // An enabled user always has a mailbox address in WorkMail.
    let email = match (&seed.email, state) {
        (Some(e), _) => Some(e.clone()),
        (None, UserState::Enabled) => Some(format!("{}@{}", seed.name, org.default_mail_domain)),
        (None, _) => None,
    };
    if let Some(e) = &email {
        check(place, "EmailAddress", "email", &json!(e))?;
    }
    let mut user = EmulatedUser {
        id: user_id_for(&org.id, &seed.name),
        name: seed.name.clone(),
        email,
        state,
        role,
        attributes: BTreeMap::new(),
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

fn check(place: &str, shape: &str, key: &str, value: &Value) -> Result<(), SeedError> {
    check_shape(shape, key, value).map_err(|e| SeedError::new(format!("{place}: {e}")))
}

fn sha_hex(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A deterministic organization id for a seed organization that has only an alias.
pub(crate) fn organization_id_for_alias(alias: &str) -> String {
    format!("m-{}", &sha_hex(&["organization", alias])[..32])
}

/// A deterministic, UUID-shaped user id (WorkMail user ids are UUIDs).
pub(crate) fn user_id_for(organization_id: &str, name: &str) -> String {
    let h = sha_hex(&["user", organization_id, &name.to_ascii_lowercase()]);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::seed::{SeedOrganization, SeedUser};

    fn seed() -> Seed {
        Seed::default().organization(
            SeedOrganization::new("", Some("acme"), "acme.example")
                .user(SeedUser::new("alice").email("alice@acme.example"))
                .user(SeedUser::new("bob").state(UserState::Disabled))
                .user(SeedUser::new("carol").state(UserState::Enabled)),
        )
    }

    #[test]
    fn ids_are_deterministic_and_shaped_like_workmail_ids() {
        let dir = EmulatedDirectory::from_seed(&seed(), SystemTime::now()).unwrap();
        let org = &dir.organizations[0];
        assert_eq!(org.id, organization_id_for_alias("acme"));
        assert_eq!(org.id.len(), 34);
        let alice = org.find_user("ALICE@acme.example").unwrap();
        assert_eq!(alice.id, user_id_for(&org.id, "alice"));
        assert_eq!(alice.id.len(), 36);
        assert_eq!(org.find_user(&alice.id).unwrap().name, "alice");
        assert_eq!(org.find_user("Alice").unwrap().id, alice.id);
        assert_eq!(alice.state, UserState::Enabled);
        let bob = org.find_user("bob").unwrap();
        assert_eq!((bob.state, bob.email.as_deref()), (UserState::Disabled, None));
        let carol = org.find_user("carol").unwrap();
        assert_eq!(carol.email.as_deref(), Some("carol@acme.example"));
        assert_eq!(alice.get(Attribute::HiddenFromGlobalAddressList), AttrValue::Bool(false));
        assert_eq!(alice.get(Attribute::Role), AttrValue::from("USER"));
        assert_eq!(alice.get(Attribute::City), AttrValue::from(""));
    }

    #[test]
    fn bad_seeds_are_refused_with_the_place() {
        let twice = Seed::default().organization(
            SeedOrganization::new("", Some("acme"), "acme.example")
                .user(SeedUser::new("alice"))
                .user(SeedUser::new("Alice")),
        );
        let err = EmulatedDirectory::from_seed(&twice, SystemTime::now()).unwrap_err();
        assert_eq!(err.message, "organizations[0].users[1] (Alice): user name is used twice");
        let long = Seed::default().organization(
            SeedOrganization::new("", Some("acme"), "acme.example")
                .user(SeedUser::new("alice").attr(Attribute::City, "x".repeat(257).as_str())),
        );
        let err = EmulatedDirectory::from_seed(&long, SystemTime::now()).unwrap_err();
        assert!(err.message.contains("city"), "{}", err.message);
        let bad_id = Seed::default().organization(SeedOrganization::new("m-1", None, "a.example"));
        assert!(EmulatedDirectory::from_seed(&bad_id, SystemTime::now()).is_err());
        let bad_alias =
            Seed::default().organization(SeedOrganization::new("", Some("d-123"), "a.example"));
        let err = EmulatedDirectory::from_seed(&bad_alias, SystemTime::now()).unwrap_err();
        assert_eq!(
            err.message,
            "organizations[0]: alias `d-123` must be 1 to 62 letters, digits and single dashes, \
             not starting with `d-`"
        );
    }

    #[test]
    fn name_and_email_indexes_follow_renames_and_new_emails() {
        let mut dir = EmulatedDirectory::from_seed(&seed(), SystemTime::now()).unwrap();
        let org = &mut dir.organizations[0];
        let id = org.find_user("bob").unwrap().id.clone();
        let user = org.find_user_mut("bob").unwrap();
        user.name = "robert".into();
        user.email = Some("Robert@acme.example".into());
        org.reindex(&id, "bob", None);
        assert!(org.find_user("bob").is_none(), "the old name is gone");
        assert_eq!(org.find_user("ROBERT").map(|u| u.id.clone()), Some(id.clone()));
        assert_eq!(org.find_user("robert@ACME.example").map(|u| u.id.clone()), Some(id));
        // Another user's entries are never removed by a reindex.
        assert!(org.find_user("alice@acme.example").is_some());
    }
}
