//! Checks a parsed file (docs/file-format.md#desired-state-files), builds its users, collecting every
//! error instead of stopping at the first.

use super::error::{LoadError, Pos, SourceFile};
use super::fields::DesiredFields;
use super::mailbox::{DesiredMailbox, MAILBOX_KEYS};
use super::model::{
    DesiredUser, DesiredValue, InvalidOrganization, OrganizationRef, SourceLocation,
};
use super::raw::{Node, Value};
use super::rules::{BadValue, IDP_USER_ID_HELP, check_text, expected};
use super::stream::{MapOrOther, TopLevel};
use super::suggest::did_you_mean;
use crate::model::attrs::{AttrKind, Attribute, Role, TEXT_MAX_CHARS};
use serde_saphyr::Location;
use std::collections::HashMap;
use std::collections::hash_map::Entry;

/// Top-level keys of a desired-state file.
pub(crate) const TOP_LEVEL_KEYS: [&str; 3] = ["organization", "defaults", "users"];
/// Longest user key (`EntityIdentifier` in the API model).
pub(crate) const USER_KEY_MAX_CHARS: usize = 256;

/// What one valid (or partly valid) file declares.
#[derive(Debug)]
pub(crate) struct FileSpec {
    /// The organization as written, and where.
    pub organization: Option<(OrganizationRef, SourceLocation)>,
    pub users: Vec<DesiredUser>,
}

/// Validate a file as read, its root written at `root_loc`. Errors are appended to `errors`;
/// whatever is valid is returned.
pub(crate) fn validate_file(
    source: &SourceFile,
    root_loc: &Location,
    root: MapOrOther<TopLevel>,
    errors: &mut Vec<LoadError>,
) -> FileSpec {
    let mut v = Validator { source, errors };
    v.file(root_loc, root)
}

/// A user as its entry in `users` declares it, before `defaults` (which may come later in the
/// file) is merged in.
#[derive(Debug)]
pub(crate) struct PendingUser {
    key: String,
    source: SourceLocation,
    /// Packed at once: every user of the file waits here until `defaults` is known.
    own: DesiredFields,
    /// The mailbox keys the user declares, if any.
    mailbox: Option<Box<DesiredMailbox>>,
}

/// What `defaults` declares: attributes and mailbox keys.
#[derive(Debug, Default)]
struct Defaults {
    attributes: Vec<(Attribute, DesiredValue)>,
    mailbox: DesiredMailbox,
}

impl PendingUser {
    /// The user with `defaults` merged in: its own value, null included, wins.
    fn with_defaults(self, defaults: &Defaults) -> DesiredUser {
        let PendingUser { key, source, own, mailbox } = self;
        let mailbox = DesiredMailbox::over(mailbox, &defaults.mailbox);
        if defaults.attributes.is_empty() {
            return DesiredUser { key, source, fields: own, mailbox };
        }
        // Defaults first: a later pair wins when collected.
        let fields = defaults
            .attributes
            .iter()
            .cloned()
            .chain(own.iter().map(|(attr, value)| (attr, value.into_owned())))
            .collect();
        DesiredUser { key, source, fields, mailbox }
    }
}

/// Whose mapping of attributes is being checked: some rules of the mailbox keys depend on it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Owner<'k> {
    Defaults,
    /// A user, by its key as written.
    User(&'k str),
}

/// Checks the entries of `users` one at a time, as they are read, so that no tree of the whole
/// mapping is needed.
pub(crate) struct UsersCheck<'a> {
    source: &'a SourceFile,
    /// Lowercased key -> where it is first written: all that a duplicate's error needs.
    seen: HashMap<String, Pos>,
    checked: CheckedUsers,
}

/// The result of [`UsersCheck`].
#[derive(Debug)]
pub(crate) struct CheckedUsers {
    /// Users whose key and attributes are valid, in file order.
    users: Vec<PendingUser>,
    /// Non-string and duplicate keys. Reported before `user_errors`, as when all keys are
    /// checked before any user: among errors at one position (nodes replayed from an alias all
    /// take the alias's position), the order then stays the same.
    key_errors: Vec<LoadError>,
    /// Errors in the keys and attributes of the users themselves.
    user_errors: Vec<LoadError>,
}

impl<'a> UsersCheck<'a> {
    pub(crate) fn new(source: &'a SourceFile) -> UsersCheck<'a> {
        UsersCheck {
            source,
            seen: HashMap::new(),
            checked: CheckedUsers {
                users: Vec::new(),
                key_errors: Vec::new(),
                user_errors: Vec::new(),
            },
        }
    }

    /// Check one entry of `users` and keep the user if it is valid.
    pub(crate) fn entry(&mut self, key: &Node, value: &Node) {
        let checked = &mut self.checked;
        let mut keys = Validator { source: self.source, errors: &mut checked.key_errors };
        // WorkMail user names and email addresses are case-insensitive.
        let Some(name) = keys.new_key(key, "in `users`", str::to_lowercase, &mut self.seen) else {
            return;
        };
        let mut users = Validator { source: self.source, errors: &mut checked.user_errors };
        if let Some(user) = users.user(name, key, value) {
            checked.users.push(user);
        }
    }

    pub(crate) fn finish(self) -> CheckedUsers {
        self.checked
    }
}

pub(super) struct Validator<'a> {
    pub(super) source: &'a SourceFile,
    pub(super) errors: &'a mut Vec<LoadError>,
}

impl Validator<'_> {
    pub(super) fn pos(&self, node: &Node) -> Pos {
        Pos::from_location(&node.loc, &self.source.text)
    }

    /// The text of a node as written in the file (`02134`, `yes`), for messages.
    pub(super) fn raw_text(&self, node: &Node) -> String {
        let pos = self.pos(node);
        let text = self.source.text.get(pos.offset..pos.offset + pos.len).unwrap_or_default();
        if text.is_empty() {
            match &node.value {
                Value::Str(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                other => other.kind_name().to_string(),
            }
        } else {
            text.to_string()
        }
    }

    fn location(&self, node: &Node) -> SourceLocation {
        let pos = self.pos(node);
        SourceLocation { file: self.source.name.clone(), line: pos.line, column: pos.column }
    }

    pub(super) fn error(
        &mut self,
        node: &Node,
        message: String,
        label: &str,
        help: Option<String>,
    ) {
        self.error_at(&node.loc, message, label, help);
    }

    fn error_at(&mut self, loc: &Location, message: String, label: &str, help: Option<String>) {
        let pos = Pos::from_location(loc, &self.source.text);
        let mut error = LoadError::at(self.source, pos, message, label);
        if let Some(help) = help {
            error = error.with_help(help);
        }
        self.errors.push(error);
    }

    fn file(&mut self, root_loc: &Location, root: MapOrOther<TopLevel>) -> FileSpec {
        let mut spec = FileSpec { organization: None, users: Vec::new() };
        let TopLevel { entries, users } = match root {
            MapOrOther::Map(top) => top,
            MapOrOther::Other(Value::Null) => {
                self.error_at(
                    root_loc,
                    format!("{}: the file is empty", self.source.name),
                    "nothing here",
                    Some(
                        "a desired-state file is a mapping with `organization` and `users`, \
                         e.g.\norganization: acme\nusers:\n  alice: {}"
                            .to_string(),
                    ),
                );
                return spec;
            }
            MapOrOther::Other(other) => {
                self.error_at(
                    root_loc,
                    format!("the file must be a mapping, found {}", other.kind_name()),
                    "expected a mapping",
                    Some("a desired-state file has the keys organization, defaults, users".into()),
                );
                return spec;
            }
        };
        let entries = self.unique_keys(&entries, "top level", |k| k.to_string());
        let mut defaults = Defaults::default();
        let mut users_node = None;
        for (key, key_node, value) in &entries {
            match *key {
                "organization" => spec.organization = self.organization(key_node, value),
                "defaults" => defaults = self.defaults(value),
                "users" => users_node = Some(value),
                _ => self.unknown_key(key_node, key, "at the top level", &TOP_LEVEL_KEYS),
            }
        }
        if spec.organization.is_none() && !entries.iter().any(|(k, _, _)| *k == "organization") {
            self.error_at(
                root_loc,
                "missing required key `organization`".into(),
                "this file names no organization",
                Some("add `organization: <organization id m-… or alias>` at the top level".into()),
            );
        }
        match users_node {
            Some(node) => spec.users = self.users(node, users, &defaults),
            None => self.error_at(
                root_loc,
                "missing required key `users`".into(),
                "this file declares no users",
                Some("add `users:` with one entry per user, e.g. `users: {alice: {}}`".into()),
            ),
        }
        spec
    }

    /// Keys of a mapping as strings, reporting non-string and duplicate keys.
    fn unique_keys<'n>(
        &mut self,
        entries: &'n [(Node, Node)],
        context: &str,
        fold: impl Fn(&str) -> String,
    ) -> Vec<(&'n str, &'n Node, &'n Node)> {
        let mut seen = HashMap::new();
        let mut out = Vec::new();
        for (key, value) in entries {
            if let Some(name) = self.new_key(key, context, &fold, &mut seen) {
                out.push((name, key, value));
            }
        }
        out
    }

    /// A mapping's key as a string, recorded in `seen` under its comparison form `fold` (user
    /// keys compare case-insensitively, like WorkMail names); `None`, with an error, for a
    /// non-string key or a duplicate.
    fn new_key<'n>(
        &mut self,
        key: &'n Node,
        context: &str,
        fold: impl Fn(&str) -> String,
        seen: &mut HashMap<String, Pos>,
    ) -> Option<&'n str> {
        let Value::Str(name) = &key.value else {
            let found = self.raw_text(key);
            self.error(
                key,
                format!(
                    "a key {context} must be a string, found {} `{found}`",
                    key.value.kind_name()
                ),
                "not a string",
                matches!(key.value, Value::Number | Value::Bool(_))
                    .then(|| format!("quote it: \"{found}\":")),
            );
            return None;
        };
        match seen.entry(fold(name)) {
            Entry::Occupied(first) => {
                let first_pos = *first.get();
                let message = format!(
                    "duplicate key `{name}` {context}: first declared at {}:{}",
                    self.source.name, first_pos.line
                );
                let error =
                    LoadError::at(self.source, self.pos(key), message, "declared again here")
                        .with_label(self.source, first_pos, "first declared here")
                        .with_help(
                            "each key may appear once in a mapping; remove or merge one of them",
                        );
                self.errors.push(error);
                None
            }
            Entry::Vacant(slot) => {
                slot.insert(self.pos(key));
                Some(name)
            }
        }
    }

    fn unknown_key(&mut self, key_node: &Node, key: &str, context: &str, allowed: &[&str]) {
        let help = match did_you_mean(key, allowed) {
            Some(s) => format!("did you mean `{s}`? allowed keys: {}", allowed.join(", ")),
            None => format!("allowed keys: {}", allowed.join(", ")),
        };
        self.error(key_node, format!("unknown key `{key}` {context}"), "unknown key", Some(help));
    }

    fn organization(
        &mut self,
        key: &Node,
        value: &Node,
    ) -> Option<(OrganizationRef, SourceLocation)> {
        let s = match &value.value {
            Value::Str(s) => s,
            Value::Null => {
                self.error(
                    value,
                    "`organization` is empty".into(),
                    "expected an organization id or alias",
                    Some("write the organization id (m- and 32 hex digits) or its alias".into()),
                );
                return None;
            }
            other => {
                let found = self.raw_text(value);
                let quote = matches!(other, Value::Number | Value::Bool(_));
                self.error(
                    value,
                    format!(
                        "`organization` must be a string, found {} `{found}`",
                        other.kind_name()
                    ),
                    "not a string",
                    Some(if quote {
                        format!("quote it: organization: \"{found}\"")
                    } else {
                        "write the organization id (m- and 32 hex digits) or its alias".into()
                    }),
                );
                return None;
            }
        };
        match OrganizationRef::parse(s) {
            Ok(reference) => Some((reference, self.location(key))),
            Err(invalid) => {
                self.error(
                    value,
                    invalid.to_string(),
                    "invalid organization",
                    Some(InvalidOrganization::allowed()),
                );
                None
            }
        }
    }

    fn defaults(&mut self, value: &Node) -> Defaults {
        match &value.value {
            Value::Map(entries) => {
                let mut mailbox = DesiredMailbox::default();
                let attributes =
                    self.attributes(entries, "in `defaults`", Owner::Defaults, &mut mailbox);
                Defaults { attributes, mailbox }
            }
            other => {
                self.error(
                    value,
                    format!(
                        "`defaults` must be a mapping of attributes, found {}",
                        other.kind_name()
                    ),
                    "expected a mapping",
                    Some("write `defaults: {}` or remove the key".into()),
                );
                Defaults::default()
            }
        }
    }

    /// The value of `users`: a mapping, whose entries were checked as they were read into
    /// `checked`, or anything else, which is an error.
    fn users(
        &mut self,
        value: &Node,
        checked: Option<CheckedUsers>,
        defaults: &Defaults,
    ) -> Vec<DesiredUser> {
        match &value.value {
            Value::Map(_) => {}
            Value::Seq(_) => {
                self.error(
                    value,
                    "`users` must be a mapping from user key to attributes, found a list".into(),
                    "a list",
                    Some(
                        "write each user as a key, not a list item:\nusers:\n  alice:\n    \
                         display_name: Alice\n  bob: {}"
                            .into(),
                    ),
                );
                return Vec::new();
            }
            other => {
                self.error(
                    value,
                    format!(
                        "`users` must be a mapping from user key to attributes, found {}",
                        other.kind_name()
                    ),
                    "expected a mapping",
                    Some("write `users: {}` for a file that declares no users".into()),
                );
                return Vec::new();
            }
        }
        let Some(checked) = checked else { return Vec::new() };
        self.errors.extend(checked.key_errors);
        self.errors.extend(checked.user_errors);
        checked.users.into_iter().map(|user| user.with_defaults(defaults)).collect()
    }

    /// One entry of `users`, its key a string not seen before: the user with its own
    /// attributes, or `None` after reporting what is wrong.
    fn user(&mut self, key: &str, key_node: &Node, attrs: &Node) -> Option<PendingUser> {
        let key_ok = self.user_key(key_node, key);
        let mut mailbox = DesiredMailbox::default();
        let own = match &attrs.value {
            Value::Map(entries) => self.attributes(
                entries,
                &format!("for user `{key}`"),
                Owner::User(key),
                &mut mailbox,
            ),
            Value::Null => {
                self.error(
                    attrs,
                    format!("user `{key}` has no value"),
                    "expected a mapping",
                    Some(format!(
                        "write `{key}: {{}}` to declare the user without managing any attribute"
                    )),
                );
                return None;
            }
            other => {
                self.error(
                    attrs,
                    format!(
                        "user `{key}` must be a mapping of attributes, found {}",
                        other.kind_name()
                    ),
                    "expected a mapping",
                    Some(format!("allowed attributes: {}", attribute_keys().join(", "))),
                );
                return None;
            }
        };
        key_ok.then(|| PendingUser {
            key: key.to_string(),
            source: self.location(key_node),
            own: own.into_iter().collect(),
            mailbox: (!mailbox.is_empty()).then(|| Box::new(mailbox)),
        })
    }

    fn user_key(&mut self, node: &Node, key: &str) -> bool {
        let bad: Vec<char> = key.chars().filter(|c| !is_entity_char(*c)).collect();
        let len = key.chars().count();
        if !key.is_empty() && len <= USER_KEY_MAX_CHARS && bad.is_empty() {
            return true;
        }
        let found = if key.is_empty() {
            "an empty key".to_string()
        } else if len > USER_KEY_MAX_CHARS {
            format!("{len} characters")
        } else {
            format!(
                "the character(s) {}",
                bad.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>().join(" ")
            )
        };
        self.error(
            node,
            format!("invalid user key `{key}`: found {found}"),
            "invalid user key",
            Some(format!(
                "a user key is a user name, email address or user id: 1 to {USER_KEY_MAX_CHARS} \
                 characters of letters, digits and . _ % + @ -"
            )),
        );
        false
    }

    /// The valid attributes of a mapping, each once (keys are unique, and so is each
    /// attribute's key); its valid mailbox keys go to `mailbox`.
    fn attributes(
        &mut self,
        entries: &[(Node, Node)],
        context: &str,
        owner: Owner<'_>,
        mailbox: &mut DesiredMailbox,
    ) -> Vec<(Attribute, DesiredValue)> {
        let entries = self.unique_keys(entries, context, |k| k.to_string());
        // Sized once: a user's attributes are kept as they are for the whole file.
        let mut fields = Vec::with_capacity(entries.len());
        let keys = attribute_keys();
        for (key, key_node, value) in entries {
            match Attribute::from_key(key) {
                Some(attr) => {
                    if let Some(v) = self.attribute(attr, value) {
                        fields.push((attr, v));
                    }
                }
                None if MAILBOX_KEYS.contains(&key) => {
                    self.mailbox_key(key, value, owner, mailbox);
                }
                None => self.unknown_key(key_node, key, context, &keys),
            }
        }
        fields
    }

    /// An attribute's value: its YAML type first, then the rules of [`check_text`].
    fn attribute(&mut self, attr: Attribute, node: &Node) -> Option<DesiredValue> {
        match (attr.kind(), &node.value) {
            (_, Value::Seq(_) | Value::Map(_)) => self.not_a_single_value(attr, node),
            (AttrKind::Bool, Value::Bool(b)) => self.yaml_boolean(attr, node, *b),
            (AttrKind::Bool, _) => self.not_a_boolean(attr, node),
            (_, Value::Str(s)) => self.string(attr, node, s),
            (AttrKind::Role, Value::Null) => self.null_role(node),
            (_, Value::Null) => Some(DesiredValue::Empty),
            (_, Value::Number | Value::Bool(_)) => self.unquoted(attr, node),
        }
    }

    /// A string value of a text, IdP id or role attribute; `""` is the empty value.
    pub(crate) fn string(&mut self, attr: Attribute, node: &Node, s: &str) -> Option<DesiredValue> {
        match check_text(attr, s) {
            Ok(()) if s.is_empty() => Some(DesiredValue::Empty),
            Ok(()) => Some(DesiredValue::Text(s.to_string())),
            Err(bad) => {
                let (label, help) = match &bad {
                    BadValue::TooLong { .. } => (
                        "too long",
                        format!("shorten the value to {TEXT_MAX_CHARS} characters or fewer"),
                    ),
                    BadValue::NotAnIdpUserId { .. } => ("malformed id", IDP_USER_ID_HELP.into()),
                    BadValue::RoleNotSettable(_) => (
                        "cannot be set",
                        format!(
                            "use {}, or remove `role` to leave the user's role unmanaged",
                            Role::SETTABLE_NAMES.join(" or ")
                        ),
                    ),
                    BadValue::UnknownRole(_) => {
                        let hint = did_you_mean(s, &Role::SETTABLE_NAMES)
                            .map_or(String::new(), |r| format!("did you mean `{r}`? "));
                        (
                            "unknown role",
                            format!("{hint}allowed roles: {}", Role::SETTABLE_NAMES.join(", ")),
                        )
                    }
                    BadValue::WrongType { .. } => return self.not_a_boolean(attr, node),
                };
                self.error(node, bad.to_string(), label, Some(help));
                None
            }
        }
    }

    /// A number or boolean where a string belongs: YAML read an unquoted value as a non-string.
    fn unquoted(&mut self, attr: Attribute, node: &Node) -> Option<DesiredValue> {
        let key = attr.key();
        let found = self.raw_text(node);
        self.error(
            node,
            format!("`{key}` must be a string, found {} `{found}`", node.value.kind_name()),
            "unquoted, so YAML reads it as a non-string",
            Some(format!("quote the value to keep it as written: {key}: \"{found}\"")),
        );
        None
    }

    /// A boolean as written: YAML 1.1 spellings (yes/on/…) are ambiguous across parsers, so only
    /// the YAML 1.2 literals are accepted and the file means the same to every tool.
    fn yaml_boolean(&mut self, attr: Attribute, node: &Node, b: bool) -> Option<DesiredValue> {
        let key = attr.key();
        let found = self.raw_text(node);
        if matches!(found.as_str(), "true" | "false" | "True" | "False" | "TRUE" | "FALSE") {
            return Some(DesiredValue::Bool(b));
        }
        self.error(
            node,
            format!("`{key}` must be true or false, found `{found}`"),
            "not a YAML 1.2 boolean",
            Some(format!("write {key}: {b}")),
        );
        None
    }

    /// Null, a string or a number where a boolean belongs.
    fn not_a_boolean(&mut self, attr: Attribute, node: &Node) -> Option<DesiredValue> {
        let key = attr.key();
        let found = self.raw_text(node);
        let either = format!("write {key}: true or {key}: false");
        let (message, label, help) = match &node.value {
            Value::Null => (
                format!("`{key}` cannot be null: it must be true or false"),
                "null",
                format!(
                    "write {key}: false (shown in the address book) or true (hidden), or remove \
                     the key to leave it unmanaged"
                ),
            ),
            Value::Str(s) => {
                let lower = s.to_ascii_lowercase();
                let help = if lower == "true" || lower == "false" {
                    format!("remove the quotes: {key}: {lower}")
                } else {
                    either
                };
                (
                    format!("`{key}` must be a boolean, found the string {found}"),
                    "a string, not a boolean",
                    help,
                )
            }
            _ => (
                format!("`{key}` must be true or false, found the number {found}"),
                "a number, not a boolean",
                either,
            ),
        };
        self.error(node, message, label, Some(help));
        None
    }

    /// A role cannot be cleared.
    fn null_role(&mut self, node: &Node) -> Option<DesiredValue> {
        self.error(
            node,
            "`role` cannot be null".into(),
            "null",
            Some(format!(
                "write role: {}, or remove the key to leave it unmanaged",
                Role::SETTABLE_NAMES.join(" or role: ")
            )),
        );
        None
    }

    /// A list or mapping where one value belongs.
    fn not_a_single_value(&mut self, attr: Attribute, node: &Node) -> Option<DesiredValue> {
        let key = attr.key();
        self.error(
            node,
            format!("`{key}` must be {}, found {}", expected(attr), node.value.kind_name()),
            "expected a single value",
            Some(format!(
                "write {key}: <value> on one line; quote strings that contain `:` or `#`"
            )),
        );
        None
    }
}

/// The YAML keys of all attributes, in table order, then the mailbox keys.
pub(crate) fn attribute_keys() -> Vec<&'static str> {
    Attribute::ALL.iter().map(|a| a.key()).chain(MAILBOX_KEYS).collect()
}

/// `EntityIdentifier` characters: `[a-zA-Z0-9._%+@-]`.
fn is_entity_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '@' | '-')
}

#[cfg(test)]
mod tests {
    use crate::model::attrs::Attribute;
    use crate::spec::{DesiredValue, InvalidOrganization, LoadErrors, OrganizationRef, load_str};

    fn errors(yaml: &str) -> Vec<String> {
        match load_str("t.yaml", yaml) {
            Ok(_) => Vec::new(),
            Err(e) => e
                .iter()
                .map(|e| {
                    let l = e.location().map_or((0, 0), |l| (l.line, l.column));
                    format!("{}:{}: {}", l.0, l.1, e.message())
                })
                .collect(),
        }
    }

    fn help(yaml: &str) -> String {
        let errs: LoadErrors = load_str("t.yaml", yaml).expect_err("invalid");
        errs.iter().filter_map(|e| e.help_text()).collect::<Vec<_>>().join("\n")
    }

    const HEAD: &str = "organization: acme\nusers:\n  alice:\n";

    #[test]
    fn defaults_merge_and_user_values_including_null_win() {
        let yaml = "organization: acme\ndefaults:\n  company: Acme\n  city: Boston\nusers:\n  \
                    alice:\n    city: null\n  bob: {}\n";
        let state = load_str("t.yaml", yaml).expect("valid");
        let org = &state.organizations[0];
        assert_eq!(org.reference, OrganizationRef::Alias("acme".into()));
        let alice = &org.users[0];
        assert_eq!(
            alice.fields.get(Attribute::City).map(|v| v.into_owned()),
            Some(DesiredValue::Empty)
        );
        assert_eq!(
            alice.fields.get(Attribute::Company).map(|v| v.into_owned()),
            Some(DesiredValue::Text("Acme".into()))
        );
        assert_eq!((alice.source.line, alice.source.column), (6, 3));
        assert_eq!(org.users[1].fields.len(), 2);
        assert!(!org.users[1].fields.contains_key(Attribute::Office));
    }

    #[test]
    fn defaults_written_after_users_apply_too() {
        let yaml = "organization: acme\nusers:\n  alice:\n    city: null\n  bob: {}\ndefaults:\n  \
                    city: Boston\n";
        let state = load_str("t.yaml", yaml).expect("valid");
        let users = &state.organizations[0].users;
        assert_eq!(
            users[0].fields.get(Attribute::City).map(|v| v.into_owned()),
            Some(DesiredValue::Empty)
        );
        assert_eq!(
            users[1].fields.get(Attribute::City).map(|v| v.into_owned()),
            Some(DesiredValue::Text("Boston".into()))
        );
    }

    #[test]
    fn only_the_first_users_key_is_read() {
        let yaml = "organization: acme\nusers: {a: {}}\nusers: {b: {city: 1}}\n";
        assert_eq!(
            errors(yaml),
            ["3:1: duplicate key `users` top level: first declared at t.yaml:2"]
        );
    }

    #[test]
    fn errors_at_one_alias_keep_the_order_of_a_whole_mapping_check() {
        // Replayed nodes all take the alias's position: key errors come first, as when every
        // key of `users` was checked before any user.
        let yaml = "x: &u {alice: {city: 1}, ALICE: {}, 7: {}}\norganization: acme\nusers: *u\n";
        assert_eq!(
            errors(yaml),
            [
                "1:1: unknown key `x` at the top level",
                "3:8: duplicate key `ALICE` in `users`: first declared at t.yaml:3",
                "3:8: a key in `users` must be a string, found a number `*u`",
                "3:8: `city` must be a string, found a number `*u`",
            ]
        );
    }

    #[test]
    fn values_of_every_kind_parse() {
        let yaml = format!(
            "{HEAD}    office: ''\n    hidden_from_global_address_list: true\n    role: REMOTE_USER\n    \
             identity_provider_user_id: a1b2c3d4-e5f6-4a5b-8c9d-0e1f2a3b4c5d\n    zip_code: \"02134\"\n"
        );
        let state = load_str("t.yaml", &yaml).expect("valid");
        let f = &state.organizations[0].users[0].fields;
        assert_eq!(f.get(Attribute::Office).map(|v| v.into_owned()), Some(DesiredValue::Empty));
        assert_eq!(
            f.get(Attribute::HiddenFromGlobalAddressList).map(|v| v.into_owned()),
            Some(DesiredValue::Bool(true))
        );
        assert_eq!(
            f.get(Attribute::Role).map(|v| v.into_owned()),
            Some(DesiredValue::Text("REMOTE_USER".into()))
        );
        assert_eq!(
            f.get(Attribute::ZipCode).map(|v| v.into_owned()),
            Some(DesiredValue::Text("02134".into()))
        );
    }

    #[test]
    fn unknown_key_with_hint() {
        let yaml = format!("{HEAD}    DisplayName: A\n");
        assert_eq!(errors(&yaml), ["4:5: unknown key `DisplayName` for user `alice`"]);
        assert!(help(&yaml).starts_with("did you mean `display_name`?"));
        assert_eq!(errors("organisation: acme\nusers: {}\n").len(), 2);
        assert!(help("organisation: acme\nusers: {}\n").contains("did you mean `organization`?"));
    }

    #[test]
    fn unquoted_scalars_where_strings_belong() {
        let yaml = format!(
            "{HEAD}    zip_code: 02134\n    telephone: 5550100\n    office: yes\n    city: 1.5\n"
        );
        assert_eq!(
            errors(&yaml),
            [
                "4:15: `zip_code` must be a string, found a number `02134`",
                "5:16: `telephone` must be a string, found a number `5550100`",
                "6:13: `office` must be a string, found a boolean `yes`",
                "7:11: `city` must be a string, found a number `1.5`",
            ]
        );
        assert!(help(&format!("{HEAD}    zip_code: 02134\n")).contains("zip_code: \"02134\""));
    }

    #[test]
    fn booleans_are_strict() {
        let cases = [
            ("\"true\"", "must be a boolean, found the string \"true\""),
            ("yes", "must be true or false, found `yes`"),
            ("null", "cannot be null"),
            ("1", "must be true or false, found the number 1"),
        ];
        for (value, want) in cases {
            let yaml = format!("{HEAD}    hidden_from_global_address_list: {value}\n");
            let errs = errors(&yaml);
            assert_eq!(errs.len(), 1, "{value}");
            assert!(errs[0].contains(want), "{value}: {errs:?}");
        }
    }

    #[test]
    fn roles() {
        for role in ["SYSTEM_USER", "RESOURCE"] {
            let errs = errors(&format!("{HEAD}    role: {role}\n"));
            assert_eq!(
                errs,
                [format!(
                    "4:11: role `{role}` cannot be set: WorkMail only lets UpdateUser set USER or REMOTE_USER"
                )]
            );
        }
        assert_eq!(errors(&format!("{HEAD}    role: user\n")), ["4:11: unknown role `user`"]);
        assert_eq!(errors(&format!("{HEAD}    role: null\n")), ["4:11: `role` cannot be null"]);
    }

    #[test]
    fn text_length_limit_counts_characters() {
        let ok = format!("{HEAD}    display_name: {}\n", "é".repeat(256));
        assert!(errors(&ok).is_empty());
        let long = format!("{HEAD}    display_name: {}\n", "x".repeat(257));
        assert_eq!(
            errors(&long),
            ["4:19: `display_name` is 257 characters long; at most 256 are allowed"]
        );
    }

    #[test]
    fn identity_provider_user_ids() {
        assert_eq!(
            errors(&format!("{HEAD}    identity_provider_user_id: ''\n")),
            Vec::<String>::new()
        );
        assert_eq!(errors(&format!("{HEAD}    identity_provider_user_id: x\n")).len(), 1);
    }

    #[test]
    fn organizations() {
        let id = "m-0123456789abcdef0123456789abcdef";
        assert_eq!(OrganizationRef::parse(id), Ok(OrganizationRef::Id(id.into())));
        assert_eq!(
            OrganizationRef::parse("acme-labs-2"),
            Ok(OrganizationRef::Alias("acme-labs-2".into()))
        );
        // An id with capitals is no id, but it is a well-formed alias.
        assert!(!OrganizationRef::is_id("m-0123456789ABCDEF0123456789abcdef"));
        assert!(OrganizationRef::is_alias("a".repeat(62).as_str()));
        for bad in ["d-acme", "acme--labs", "-acme", "acme-", "", "acme labs", &"a".repeat(63)] {
            assert_eq!(OrganizationRef::parse(bad), Err(InvalidOrganization(bad.into())), "{bad}");
        }
        assert_eq!(errors("users: {}\n"), ["1:1: missing required key `organization`"]);
        assert_eq!(
            errors("organization: 42\nusers: {}\n"),
            ["1:15: `organization` must be a string, found a number `42`"]
        );
    }

    #[test]
    fn file_shapes() {
        assert_eq!(errors(""), ["1:1: t.yaml: the file is empty"]);
        assert_eq!(errors("# only a comment\n").len(), 1);
        assert_eq!(errors("- a\n"), ["1:1: the file must be a mapping, found a list"]);
        assert_eq!(errors("organization: acme\n"), ["1:1: missing required key `users`"]);
        assert_eq!(
            errors("organization: acme\nusers:\n  - alice\n"),
            ["3:3: `users` must be a mapping from user key to attributes, found a list"]
        );
        assert_eq!(
            errors("organization: acme\nusers:\n  alice:\n"),
            ["3:8: user `alice` has no value"]
        );
        assert_eq!(errors("organization: acme\nusers:\n  12345: {}\n").len(), 1);
        assert!(
            errors("organization: acme\nusers:\n  'a b': {}\n")[0].contains("invalid user key")
        );
    }

    #[test]
    fn duplicate_keys_name_both_lines_and_compare_user_keys_case_insensitively() {
        let yaml = "organization: acme\nusers:\n  alice: {}\n  ALICE: {}\n  bob:\n    city: a\n    city: b\n";
        assert_eq!(
            errors(yaml),
            [
                "4:3: duplicate key `ALICE` in `users`: first declared at t.yaml:3",
                "7:5: duplicate key `city` for user `bob`: first declared at t.yaml:6",
            ]
        );
    }

    #[test]
    fn syntax_errors_and_limits_are_reported_with_a_position() {
        let errs = errors("organization: acme\nusers: [\n");
        assert_eq!(errs.len(), 1);
        assert!(errs[0].contains("invalid YAML"), "{errs:?}");
        let deep = format!("organization: acme\nusers: {}{}\n", "[".repeat(100), "]".repeat(100));
        assert!(errors(&deep)[0].contains("refused"), "{:?}", errors(&deep));
        let mut bomb =
            String::from("organization: acme\nusers: {}\na: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h"]
            .iter()
            .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
        {
            bomb.push_str(&format!(
                "{name}: &{name} [{}]\n",
                vec![format!("*{prev}"); 10].join(", ")
            ));
        }
        assert!(
            errors(&bomb)[0].starts_with("0:0: refused") || errors(&bomb)[0].contains("refused")
        );
    }

    proptest::proptest! {
        #[test]
        fn load_str_never_panics(text in "\\PC*") {
            let _ = load_str("fuzz.yaml", &text);
        }

        #[test]
        fn load_str_never_panics_on_yaml_like_input(
            text in "(organization|users|defaults|alice|role|  |- |: |\\{|\\}|\\[|\\]|&a |\\*a|\"|'|#|\\n|null|true|02134|x){0,40}"
        ) {
            let _ = load_str("fuzz.yaml", &text);
        }
    }
}
