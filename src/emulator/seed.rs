//! The emulator's starting directory — organizations, mail domains, users, aliases, quotas and
//! groups — from YAML (docs/emulator.md#emulator-seed-file) or code.

use crate::model::attrs::{AttrKind, AttrValue, Attribute};
use crate::model::bounded_read::{self, FileReadError};
use crate::model::live::{Role, UserState};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// Largest seed file read, as for a desired-state file: room for 100,000 users.
const MAX_SEED_BYTES: usize = 64 * 1024 * 1024;

/// Organizations and their users to start the emulator with.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// The organizations, in `ListOrganizations` order.
    #[serde(default)]
    pub organizations: Vec<SeedOrganization>,
}

/// One organization of a [`Seed`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedOrganization {
    /// `m-` and 32 hex digits; derived from the alias when left out.
    #[serde(default)]
    pub id: Option<String>,
    /// The organization alias.
    #[serde(default)]
    pub alias: Option<String>,
    /// The domain of the organization's default mail domain, e.g. `acme.example`.
    pub default_mail_domain: String,
    /// More mail domains of the organization (the default one is always one of them).
    #[serde(default)]
    pub mail_domains: Vec<String>,
    /// The users, any order.
    #[serde(default)]
    pub users: Vec<SeedUser>,
    /// The groups, any order.
    #[serde(default)]
    pub groups: Vec<SeedGroup>,
}

/// One group of a [`SeedOrganization`].
///
/// State defaults to `ENABLED`; an `ENABLED` group without an email gets
/// `name@default_mail_domain`, like a user.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedGroup {
    /// The group name (required); user and group names share one namespace.
    pub name: String,
    /// The group's address; a group with one is registered.
    #[serde(default)]
    pub email: Option<String>,
    /// `None`: see the type's documentation.
    #[serde(default)]
    pub state: Option<UserState>,
    /// Hidden from the address book.
    #[serde(default)]
    pub hidden_from_global_address_list: bool,
    /// Addresses besides `email`, in the organization's mail domains.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The members: names (or ids or primary addresses) of users and groups of the organization.
    #[serde(default)]
    pub members: Vec<String>,
}

/// One user of a [`SeedOrganization`].
///
/// State defaults to `ENABLED`; an `ENABLED` user without an email gets
/// `name@default_mail_domain`, since an enabled WorkMail user always has a mailbox address.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedUser {
    /// The user name (required).
    pub name: String,
    /// The primary email address; a user with one is registered.
    pub email: Option<String>,
    /// `None`: see the type's documentation.
    pub state: Option<UserState>,
    /// `None`: `USER`.
    pub role: Option<Role>,
    /// Attribute values keyed by attribute; `Role` here is ignored in favour of [`role`](Self::role).
    pub attributes: BTreeMap<Attribute, AttrValue>,
    /// Addresses besides the primary one, in the organization's mail domains.
    pub aliases: Vec<String>,
    /// The mailbox quota in MB, 1 to 51,200; `None`: WorkMail's default, 51,200.
    pub mailbox_quota_mb: Option<u32>,
}

/// A seed that cannot be used, with its place in the YAML when known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", location_prefix(path.as_deref(), *line, *column))]
pub struct SeedError {
    /// The seed file, when read from one.
    pub path: Option<std::path::PathBuf>,
    /// What is wrong and what is allowed.
    pub message: String,
    /// 1-based line in the YAML, when the error has a place.
    pub line: Option<u64>,
    /// 1-based column in the YAML.
    pub column: Option<u64>,
}

/// `file:line:column: ` like compilers, or `line L, column C: ` without a file.
fn location_prefix(path: Option<&Path>, line: Option<u64>, column: Option<u64>) -> String {
    match (path, line, column) {
        (Some(p), Some(l), Some(c)) => format!("{}:{l}:{c}: ", p.display()),
        (Some(p), Some(l), None) => format!("{}:{l}: ", p.display()),
        (Some(p), None, _) => format!("{}: ", p.display()),
        (None, Some(l), Some(c)) => format!("line {l}, column {c}: "),
        (None, Some(l), None) => format!("line {l}: "),
        (None, None, _) => String::new(),
    }
}

impl SeedError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        SeedError { path: None, message: message.into(), line: None, column: None }
    }
}

impl Seed {
    /// Parses seed YAML and checks it (ids, names, emails, attribute limits, duplicates).
    pub fn from_yaml(yaml: &str) -> Result<Seed, SeedError> {
        let seed: Seed = serde_saphyr::from_str(yaml).map_err(|e| {
            let location = e.location();
            SeedError {
                path: None,
                message: bare_message(&e.to_string()),
                line: location.map(|l| l.line()),
                column: location.map(|l| l.column()),
            }
        })?;
        seed.check()?;
        Ok(seed)
    }

    /// Reads and parses a seed file; errors name the file.
    pub(crate) fn from_file(path: &Path) -> Result<Seed, SeedError> {
        let with_path = |e: SeedError| SeedError { path: Some(path.to_owned()), ..e };
        let text = bounded_read::read_text(path, MAX_SEED_BYTES).map_err(|e| {
            with_path(match e {
                FileReadError::NotUtf8(at) => SeedError {
                    line: u64::try_from(at.line).ok(),
                    column: u64::try_from(at.column).ok(),
                    ..SeedError::new(at.to_string())
                },
                e => SeedError::new(e.to_string()),
            })
        })?;
        Seed::from_yaml(&text).map_err(with_path)
    }

    /// Adds an organization (builder style).
    pub fn organization(mut self, org: SeedOrganization) -> Self {
        self.organizations.push(org);
        self
    }

    /// Checks everything the emulator checks at start.
    fn check(&self) -> Result<(), SeedError> {
        super::state::EmulatedDirectory::from_seed(self, std::time::SystemTime::now()).map(|_| ())
    }
}

/// serde-saphyr renders `error: line L column C: message` and a snippet; the location is kept in
/// fields, so only the message stays. For an unknown key the location is the user's map (the
/// message names the key).
fn bare_message(s: &str) -> String {
    let s = s.strip_prefix("error: ").unwrap_or(s);
    let s = match s.split_once(": ") {
        Some((head, rest)) if head.starts_with("line ") => rest,
        _ => s,
    };
    // Drop the rendered snippet (` --> <input>:5:9` and source lines) that follows the message.
    s.lines().next().unwrap_or_default().trim().to_owned()
}

impl SeedOrganization {
    /// An organization with an id (pass `""` to derive it from the alias), an optional alias and
    /// its default mail domain.
    pub fn new(id: &str, alias: Option<&str>, default_mail_domain: &str) -> Self {
        SeedOrganization {
            id: (!id.is_empty()).then(|| id.to_owned()),
            alias: alias.map(str::to_owned),
            default_mail_domain: default_mail_domain.to_owned(),
            mail_domains: Vec::new(),
            users: Vec::new(),
            groups: Vec::new(),
        }
    }

    /// Adds a user (builder style).
    pub fn user(mut self, user: SeedUser) -> Self {
        self.users.push(user);
        self
    }

    /// Adds a mail domain besides the default one (builder style).
    pub fn mail_domain(mut self, domain: &str) -> Self {
        self.mail_domains.push(domain.to_owned());
        self
    }

    /// Adds a group (builder style).
    pub fn group(mut self, group: SeedGroup) -> Self {
        self.groups.push(group);
        self
    }
}

impl SeedGroup {
    /// A group with only a name: `ENABLED`, no members.
    pub fn new(name: &str) -> Self {
        SeedGroup {
            name: name.to_owned(),
            email: None,
            state: None,
            hidden_from_global_address_list: false,
            aliases: Vec::new(),
            members: Vec::new(),
        }
    }

    /// Sets the group's address.
    pub fn email(mut self, email: &str) -> Self {
        self.email = Some(email.to_owned());
        self
    }

    /// Sets the state.
    pub fn state(mut self, state: UserState) -> Self {
        self.state = Some(state);
        self
    }

    /// Adds a member by name (or id or primary address).
    pub fn member(mut self, member: &str) -> Self {
        self.members.push(member.to_owned());
        self
    }

    /// Adds an alias.
    pub fn alias(mut self, alias: &str) -> Self {
        self.aliases.push(alias.to_owned());
        self
    }
}

impl SeedUser {
    /// A user with only a name: `ENABLED`, role `USER`, no attributes.
    pub fn new(name: &str) -> Self {
        SeedUser {
            name: name.to_owned(),
            email: None,
            state: None,
            role: None,
            attributes: BTreeMap::new(),
            aliases: Vec::new(),
            mailbox_quota_mb: None,
        }
    }

    /// Sets the primary email (the user is then registered).
    pub fn email(mut self, email: &str) -> Self {
        self.email = Some(email.to_owned());
        self
    }

    /// Sets the state.
    pub fn state(mut self, state: UserState) -> Self {
        self.state = Some(state);
        self
    }

    /// Sets the role (`USER`, `RESOURCE`, `SYSTEM_USER`, `REMOTE_USER`).
    pub fn role(mut self, role: impl Into<Role>) -> Self {
        self.role = Some(role.into());
        self
    }

    /// Adds an alias.
    pub fn alias(mut self, alias: &str) -> Self {
        self.aliases.push(alias.to_owned());
        self
    }

    /// Sets the mailbox quota in MB.
    pub fn quota(mut self, mailbox_quota_mb: u32) -> Self {
        self.mailbox_quota_mb = Some(mailbox_quota_mb);
        self
    }

    /// Sets an attribute; `Attribute::Role` sets [`role`](Self::role).
    pub fn attr(mut self, attr: Attribute, value: impl Into<AttrValue>) -> Self {
        let value = value.into();
        if attr == Attribute::Role {
            self.role = value.as_text().map(Role::parse);
        } else {
            self.attributes.insert(attr, value);
        }
        self
    }
}

/// The keys a seed user accepts besides the attribute keys.
const USER_FIELDS: [&str; 6] = ["name", "email", "state", "role", "aliases", "mailbox_quota_mb"];

impl<'de> Deserialize<'de> for SeedUser {
    /// A map of the user fields (name, email, state, role, aliases, mailbox_quota_mb) and any
    /// desired-state attribute key; the attribute keys come from [`Attribute::ALL`] so the
    /// table stays the one list of them.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(SeedUserVisitor)
    }
}

struct SeedUserVisitor;

impl<'de> Visitor<'de> for SeedUserVisitor {
    type Value = SeedUser;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a user: a map with `name` and optional email, state, role, aliases, \
             mailbox_quota_mb and attributes",
        )
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SeedUser, A::Error> {
        let mut user = SeedUser::new("");
        let mut name = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "name" => name = Some(map.next_value::<String>()?),
                "email" => user.email = map.next_value::<Option<String>>()?,
                "state" => user.state = Some(map.next_value::<UserState>()?),
                "role" => user.role = Some(map.next_value::<Role>()?),
                "aliases" => user.aliases = map.next_value::<Vec<String>>()?,
                "mailbox_quota_mb" => user.mailbox_quota_mb = Some(map.next_value::<u32>()?),
                other => {
                    let Some(attr) = Attribute::from_key(other) else {
                        return Err(de::Error::custom(format!(
                            "unknown user key `{other}`; expected one of {}",
                            allowed_keys()
                        )));
                    };
                    let value = match attr.kind() {
                        AttrKind::Bool => AttrValue::Bool(map.next_value::<bool>()?),
                        // `null` is the empty value, as in desired-state files.
                        _ => {
                            AttrValue::Text(map.next_value::<Option<String>>()?.unwrap_or_default())
                        }
                    };
                    if user.attributes.insert(attr, value).is_some() {
                        return Err(de::Error::custom(format!("duplicate key `{other}`")));
                    }
                }
            }
        }
        user.name = name.ok_or_else(|| de::Error::missing_field("name"))?;
        if let Some(AttrValue::Text(role)) = user.attributes.remove(&Attribute::Role) {
            user.role = Some(Role::parse(&role));
        }
        Ok(user)
    }
}

fn allowed_keys() -> String {
    USER_FIELDS
        .iter()
        .copied()
        .chain(Attribute::ALL.iter().filter(|a| **a != Attribute::Role).map(|a| a.key()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = r#"
organizations:
  - id: m-0123456789abcdef0123456789abcdef
    alias: acme
    default_mail_domain: acme.example
    users:
      - name: alice
        email: alice@acme.example
        state: ENABLED
        role: USER
        display_name: Alice Liddell
        hidden_from_global_address_list: true
        office: null
      - name: bob
  - alias: globex
    default_mail_domain: globex.example
"#;

    #[test]
    fn parses_spec_yaml() {
        let seed = Seed::from_yaml(YAML).unwrap();
        let acme = &seed.organizations[0];
        assert_eq!(acme.id.as_deref(), Some("m-0123456789abcdef0123456789abcdef"));
        let alice = &acme.users[0];
        assert_eq!(alice.email.as_deref(), Some("alice@acme.example"));
        assert_eq!(alice.state, Some(UserState::Enabled));
        assert_eq!(alice.role, Some(Role::User));
        assert_eq!(
            alice.attributes,
            BTreeMap::from([
                (Attribute::DisplayName, AttrValue::from("Alice Liddell")),
                (Attribute::HiddenFromGlobalAddressList, AttrValue::from(true)),
                (Attribute::Office, AttrValue::from("")),
            ])
        );
        assert_eq!(acme.users[1], SeedUser::new("bob"));
        assert_eq!(seed.organizations[1].id, None);
    }

    #[test]
    fn unknown_key_is_reported_with_its_line() {
        let yaml = "organizations:\n  - alias: acme\n    default_mail_domain: acme.example\n    users:\n      - name: alice\n        DisplayName: x\n";
        let err = Seed::from_yaml(yaml).unwrap_err();
        assert!(err.message.contains("unknown user key `DisplayName`"), "{err}");
        assert!(err.message.contains("display_name"), "{err}");
        assert_eq!((err.line, err.column), (Some(5), Some(9)), "{err:?}");
        assert!(err.to_string().starts_with("line 5, column 9: unknown user key"), "{err}");
        let err = Seed::from_yaml("organizations:\n  - alias: acme\n").unwrap_err();
        assert!(err.message.contains("default_mail_domain"), "{err}");
        assert_eq!(err.line, Some(2), "{err:?}");
    }

    #[test]
    fn builder_matches_yaml() {
        let built = SeedUser::new("alice")
            .email("alice@acme.example")
            .state(UserState::Enabled)
            .role("USER")
            .attr(Attribute::DisplayName, "Alice Liddell")
            .attr(Attribute::HiddenFromGlobalAddressList, true)
            .attr(Attribute::Office, "");
        let seed = Seed::from_yaml(YAML).unwrap();
        assert_eq!(built, seed.organizations[0].users[0]);
    }
}
