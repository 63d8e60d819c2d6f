//! The emulated directory: organizations, their users and groups, and how identifiers and
//! addresses resolve.

use crate::model::attrs::{AttrKind, AttrValue, Attribute};
use crate::model::live::{Role, UserState};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::SystemTime;

/// The quota of a new mailbox, in MB: WorkMail's default, 50 GB.
pub const DEFAULT_MAILBOX_QUOTA_MB: u32 = 51_200;
/// The largest quota WorkMail accepts, in MB (its console takes 1 to 51,200).
pub(crate) const MAX_MAILBOX_QUOTA_MB: u32 = 51_200;
/// The aliases one user or group may have; one more is `LimitExceededException`.
pub(crate) const MAX_ALIASES: usize = 100;

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
    /// The addresses besides the primary one, sorted ignoring ASCII case; never the primary.
    pub aliases: Vec<String>,
    /// The mailbox quota in MB; only an ENABLED user has a mailbox to apply it to.
    pub mailbox_quota_mb: u32,
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

    /// Whether the user has a mailbox (WorkMail gives one to registered, ENABLED users only).
    pub fn has_mailbox(&self) -> bool {
        self.state == UserState::Enabled
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
    /// absent, the hidden flag is present, aliases are sorted, distinct and not the primary.
    pub(crate) fn normalize(&mut self) {
        if let Some(AttrValue::Text(role)) = self.attributes.remove(&Attribute::Role) {
            self.role = Role::parse(&role);
        }
        self.attributes.retain(|_, v| !v.is_empty_text());
        self.attributes
            .entry(Attribute::HiddenFromGlobalAddressList)
            .or_insert(AttrValue::Bool(false));
        normalize_aliases(&mut self.aliases, self.email.as_deref());
    }
}

/// A group as the emulator stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmulatedGroup {
    /// The WorkMail group id (UUID-shaped, derived from organization id and name).
    pub id: String,
    /// The group name; user and group names share one namespace.
    pub name: String,
    /// The group's address; `None` until registered.
    pub email: Option<String>,
    /// ENABLED, DISABLED or DELETED.
    pub state: UserState,
    /// Whether the group is hidden from the address book.
    pub hidden_from_global_address_list: bool,
    /// The addresses besides the primary one, sorted ignoring ASCII case; never the primary.
    pub aliases: Vec<String>,
    /// The ids of the members: users and groups.
    pub members: BTreeSet<String>,
    /// When the group was last enabled (registered).
    #[serde(skip)]
    pub enabled_date: Option<SystemTime>,
    /// When the group was last disabled.
    #[serde(skip)]
    pub disabled_date: Option<SystemTime>,
}

impl EmulatedGroup {
    /// Restores the invariants after an outside edit (see [`EmulatedUser::normalize`]).
    pub(crate) fn normalize(&mut self) {
        normalize_aliases(&mut self.aliases, self.email.as_deref());
        let id = self.id.clone();
        self.members.remove(&id);
    }
}

/// Sorts aliases ignoring ASCII case and drops repeats and the primary address.
fn normalize_aliases(aliases: &mut Vec<String>, primary: Option<&str>) {
    aliases.sort_by_key(|a| a.to_ascii_lowercase());
    aliases.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    aliases.retain(|a| primary.is_none_or(|p| !a.eq_ignore_ascii_case(p)));
}

/// What an identifier names in an organization: a user or a group, by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Entity {
    User(String),
    Group(String),
}

impl Entity {
    pub(crate) fn id(&self) -> &str {
        match self {
            Entity::User(id) | Entity::Group(id) => id,
        }
    }
}

/// An organization and its users and groups.
#[derive(Debug, Clone)]
pub(crate) struct Organization {
    pub(crate) id: String,
    pub(crate) alias: Option<String>,
    pub(crate) default_mail_domain: String,
    /// The mail domains, lower-cased: the default one, the seed's `mail_domains` and the domains
    /// of seeded primary addresses. Aliases and registrations must use one of them.
    pub(crate) domains: BTreeSet<String>,
    pub(crate) completed_date: SystemTime,
    /// Keyed by user id; ListUsers pages in this order. Insert through [`Organization::insert_user`]
    /// and change names or addresses through [`Organization::reindex`], so the indexes stay right.
    pub(crate) users: BTreeMap<String, EmulatedUser>,
    /// Keyed by group id; ListGroups pages in this order. Same rules as `users`.
    pub(crate) groups: BTreeMap<String, EmulatedGroup>,
    /// Lower-cased name → user or group id: one namespace, as in WorkMail.
    by_name: HashMap<String, String>,
    /// Lower-cased address (a primary address or an alias, of a user or a group) → its owner's
    /// id: "is this address in use" and DescribeUser by email stay O(1) at 100,000 users.
    by_address: HashMap<String, String>,
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
            groups: BTreeMap::new(),
            by_name: HashMap::new(),
            by_address: HashMap::new(),
        }
    }

    /// The user or group named by id, primary address or name (addresses and names
    /// case-insensitively), in that order. An alias does not name its owner.
    pub(crate) fn find_entity(&self, ident: &str) -> Option<Entity> {
        if self.users.contains_key(ident) {
            return Some(Entity::User(ident.to_owned()));
        }
        if self.groups.contains_key(ident) {
            return Some(Entity::Group(ident.to_owned()));
        }
        let key = ident.to_ascii_lowercase();
        let by_primary = self
            .by_address
            .get(&key)
            .filter(|id| self.primary_address(id).is_some_and(|p| p.eq_ignore_ascii_case(ident)));
        by_primary.or_else(|| self.by_name.get(&key)).and_then(|id| self.entity_by_id(id))
    }

    /// The user or group with this id.
    pub(crate) fn entity_by_id(&self, id: &str) -> Option<Entity> {
        if self.users.contains_key(id) {
            Some(Entity::User(id.to_owned()))
        } else if self.groups.contains_key(id) {
            Some(Entity::Group(id.to_owned()))
        } else {
            None
        }
    }

    /// The state of the user or group `id`.
    pub(crate) fn state_of(&self, id: &str) -> Option<UserState> {
        match self.users.get(id) {
            Some(user) => Some(user.state),
            None => self.groups.get(id).map(|g| g.state),
        }
    }

    /// The aliases of the user or group `id`, to change them (then [`reindex`](Self::reindex)).
    pub(crate) fn aliases_mut(&mut self, id: &str) -> Option<&mut Vec<String>> {
        match self.users.get_mut(id) {
            Some(user) => Some(&mut user.aliases),
            None => self.groups.get_mut(id).map(|g| &mut g.aliases),
        }
    }

    fn primary_address(&self, id: &str) -> Option<&str> {
        match self.users.get(id) {
            Some(user) => user.email.as_deref(),
            None => self.groups.get(id).and_then(|g| g.email.as_deref()),
        }
    }

    /// The user named by id, email or name (see [`find_entity`](Self::find_entity)).
    pub(crate) fn find_user(&self, ident: &str) -> Option<&EmulatedUser> {
        match self.find_entity(ident)? {
            Entity::User(id) => self.users.get(&id),
            Entity::Group(_) => None,
        }
    }

    pub(crate) fn find_user_mut(&mut self, ident: &str) -> Option<&mut EmulatedUser> {
        let id = self.find_user(ident)?.id.clone();
        self.users.get_mut(&id)
    }

    /// The group named by id, email or name.
    pub(crate) fn find_group(&self, ident: &str) -> Option<&EmulatedGroup> {
        match self.find_entity(ident)? {
            Entity::Group(id) => self.groups.get(&id),
            Entity::User(_) => None,
        }
    }

    /// The id of the user or group using `address` (ignoring ASCII case), as primary or alias.
    pub(crate) fn address_owner(&self, address: &str) -> Option<&str> {
        self.by_address.get(&address.to_ascii_lowercase()).map(String::as_str)
    }

    /// Whether a user or group already has this name (ignoring ASCII case).
    pub(crate) fn name_in_use(&self, name: &str) -> bool {
        self.by_name.contains_key(&name.to_ascii_lowercase())
    }

    /// Whether `address`'s domain is one of the organization's mail domains.
    pub(crate) fn has_domain_of(&self, address: &str) -> bool {
        address
            .rsplit_once('@')
            .is_some_and(|(_, d)| self.domains.contains(&d.to_ascii_lowercase()))
    }

    /// The name of the user or group `id` (the id itself when there is none).
    fn name_of<'a>(&'a self, id: &'a str) -> &'a str {
        self.users
            .get(id)
            .map(|u| u.name.as_str())
            .or_else(|| self.groups.get(id).map(|g| g.name.as_str()))
            .unwrap_or(id)
    }

    /// The name, primary address and aliases of the user or group `id`.
    pub(crate) fn names_and_addresses(&self, id: &str) -> (String, Vec<String>) {
        let (name, email, aliases) = match (self.users.get(id), self.groups.get(id)) {
            (Some(u), _) => (&u.name, &u.email, &u.aliases),
            (None, Some(g)) => (&g.name, &g.email, &g.aliases),
            (None, None) => return (String::new(), Vec::new()),
        };
        (name.clone(), email.iter().chain(aliases).cloned().collect())
    }

    /// Adds a user and indexes its name and addresses.
    pub(crate) fn insert_user(&mut self, user: EmulatedUser) {
        let id = user.id.clone();
        self.users.insert(id.clone(), user);
        self.index(&id);
    }

    /// Adds a group and indexes its name and addresses.
    pub(crate) fn insert_group(&mut self, group: EmulatedGroup) {
        let id = group.id.clone();
        self.groups.insert(id.clone(), group);
        self.index(&id);
    }

    fn index(&mut self, id: &str) {
        let (name, addresses) = self.names_and_addresses(id);
        self.by_name.insert(name.to_ascii_lowercase(), id.to_owned());
        for address in addresses {
            self.by_address.insert(address.to_ascii_lowercase(), id.to_owned());
        }
    }

    /// After the name or addresses of user or group `id` changed from `old` (what
    /// [`names_and_addresses`](Self::names_and_addresses) said before): drops the old entries it
    /// owned and indexes the new ones.
    pub(crate) fn reindex(&mut self, id: &str, old: &(String, Vec<String>)) {
        let (old_name, old_addresses) = old;
        let key = old_name.to_ascii_lowercase();
        if self.by_name.get(&key).is_some_and(|owner| owner == id) {
            self.by_name.remove(&key);
        }
        for address in old_addresses {
            let key = address.to_ascii_lowercase();
            if self.by_address.get(&key).is_some_and(|owner| owner == id) {
                self.by_address.remove(&key);
            }
        }
        self.index(id);
    }

    /// The groups `member_id` belongs to, in group id order.
    pub(crate) fn groups_of<'a>(
        &'a self,
        member_id: &'a str,
    ) -> impl Iterator<Item = &'a EmulatedGroup> + 'a {
        self.groups.values().filter(move |g| g.members.contains(member_id))
    }

    pub(crate) fn arn(&self, region: &str) -> String {
        format!("arn:aws:workmail:{region}:{ACCOUNT_ID}:organization/{}", self.id)
    }

    /// The organization as the control endpoint shows it.
    pub(crate) fn to_json(&self) -> Value {
        let mut group_names: HashMap<&str, Vec<&str>> = HashMap::new();
        for group in self.groups.values() {
            for member in &group.members {
                group_names.entry(member.as_str()).or_default().push(&group.name);
            }
        }
        let mut groups_json = |id: &str| {
            let mut names = group_names.remove(id).unwrap_or_default();
            names.sort_unstable();
            names
        };
        let users: Vec<Value> = self
            .users
            .values()
            .map(|u| {
                let mut v = user_json(u);
                v["groups"] = json!(groups_json(&u.id));
                v
            })
            .collect();
        let groups: Vec<Value> = self
            .groups
            .values()
            .map(|g| {
                let members: Vec<&str> = g.members.iter().map(|id| self.name_of(id)).collect();
                json!({
                    "id": g.id, "name": g.name, "email": g.email, "state": g.state,
                    "hidden_from_global_address_list": g.hidden_from_global_address_list,
                    "aliases": g.aliases, "members": members, "groups": groups_json(&g.id),
                })
            })
            .collect();
        json!({
            "id": self.id,
            "alias": self.alias,
            "default_mail_domain": self.default_mail_domain,
            "mail_domains": self.domains,
            "users": users,
            "groups": groups,
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
        "attributes": attributes, "aliases": u.aliases,
        "mailbox_quota_mb": u.has_mailbox().then_some(u.mailbox_quota_mb),
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
    uuid_shaped(&["user", organization_id, &name.to_ascii_lowercase()])
}

/// A deterministic, UUID-shaped group id, distinct from any user id.
pub(crate) fn group_id_for(organization_id: &str, name: &str) -> String {
    uuid_shaped(&["group", organization_id, &name.to_ascii_lowercase()])
}

fn uuid_shaped(parts: &[&str]) -> String {
    let h = sha_hex(parts);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::seed::{Seed, SeedOrganization, SeedUser};

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
    fn name_and_email_indexes_follow_renames_and_new_emails() {
        let mut dir = EmulatedDirectory::from_seed(&seed(), SystemTime::now()).unwrap();
        let org = &mut dir.organizations[0];
        let id = org.find_user("bob").unwrap().id.clone();
        let old = org.names_and_addresses(&id);
        let user = org.find_user_mut("bob").unwrap();
        user.name = "robert".into();
        user.email = Some("Robert@acme.example".into());
        user.aliases = vec!["bobby@acme.example".into()];
        org.reindex(&id, &old);
        assert!(org.find_user("bob").is_none(), "the old name is gone");
        assert_eq!(org.find_user("ROBERT").map(|u| u.id.clone()), Some(id.clone()));
        assert_eq!(org.find_user("robert@ACME.example").map(|u| u.id.clone()), Some(id.clone()));
        // An alias is in use, but does not name its owner.
        assert_eq!(org.address_owner("BOBBY@acme.example"), Some(id.as_str()));
        assert!(org.find_user("bobby@acme.example").is_none());
        // Another user's entries are never removed by a reindex.
        assert!(org.find_user("alice@acme.example").is_some());
    }
}
