//! Checks of the mailbox keys (`aliases`, `groups`, `mailbox_quota_mb`) of one user or of
//! `defaults`, reporting every problem with its position.

use super::mailbox::{
    DesiredAlias, DesiredMailbox, EMAIL_MAX_CHARS, GROUP_NAME_MAX_CHARS, QUOTA_MAX_MB,
    is_email_address, is_group_reference,
};
use super::raw::{Node, Value};
use super::validate::{Owner, Validator};
use crate::spec::error::LoadError;
use std::collections::HashMap;

/// What an alias may be, for help texts.
const ALIAS_HELP: &str = "an alias is an email address such as a.liddell@acme.example: 1 to 64 \
    letters, digits or . _ % + - before the @, a domain with a dot after it, at most 254 \
    characters";

impl Validator<'_> {
    /// Check `value` as the mailbox key `key` and record it in `mailbox` when valid.
    pub(super) fn mailbox_key(
        &mut self,
        key: &str,
        value: &Node,
        owner: Owner<'_>,
        mailbox: &mut DesiredMailbox,
    ) {
        match key {
            "aliases" => mailbox.aliases = self.aliases(value, owner),
            "groups" => mailbox.groups = self.groups(value),
            _ => mailbox.quota_mb = self.quota(value),
        }
    }

    /// The items of a list key, or an error when `value` is not a list.
    fn list_items<'n>(&mut self, key: &str, value: &'n Node, example: &str) -> Option<&'n [Node]> {
        match &value.value {
            Value::Seq(items) => Some(items),
            other => {
                let found = match other {
                    Value::Null => "null".to_string(),
                    _ => format!("{} `{}`", other.kind_name(), self.raw_text(value)),
                };
                self.error(
                    value,
                    format!("`{key}` must be a list, found {found}"),
                    "expected a list",
                    Some(format!(
                        "write {key}: [{example}] (or {key}: [] for none), or remove the key to \
                         leave it unmanaged"
                    )),
                );
                None
            }
        }
    }

    /// A string item of a list key, or an error naming what was found instead.
    fn string_item<'n>(&mut self, key: &str, item: &'n Node, what: &str) -> Option<&'n str> {
        if let Value::Str(s) = &item.value {
            return Some(s);
        }
        let (found, help) = match &item.value {
            Value::Number | Value::Bool(_) => {
                let raw = self.raw_text(item);
                (format!("{} `{raw}`", item.value.kind_name()), format!("quote it: \"{raw}\""))
            }
            other => (
                other.kind_name().to_string(),
                format!("write each entry of `{key}` as {what}, one per item of the list"),
            ),
        };
        self.error(
            item,
            format!("an entry of `{key}` must be {what}, found {found}"),
            "not a string",
            Some(help),
        );
        None
    }

    /// An entry seen before in the same list (ignoring case): an error naming the first.
    fn repeated(
        &mut self,
        key: &str,
        item: &Node,
        value: &str,
        seen: &mut HashMap<String, (usize, usize)>,
    ) -> bool {
        let pos = self.pos(item);
        match seen.get(&value.to_lowercase()) {
            Some(&(line, column)) => {
                let message = format!(
                    "`{value}` is listed twice in `{key}`: first at {}:{line}:{column}",
                    self.source.name
                );
                let error = LoadError::at(self.source, pos, message, "listed again here")
                    .with_help(format!(
                        "entries of `{key}` compare ignoring case; remove one of them"
                    ));
                self.errors.push(error);
                true
            }
            None => {
                seen.insert(value.to_lowercase(), (pos.line, pos.column));
                false
            }
        }
    }

    fn aliases(&mut self, value: &Node, owner: Owner<'_>) -> Option<Vec<DesiredAlias>> {
        let items = self.list_items("aliases", value, "a.liddell@acme.example")?;
        if matches!(owner, Owner::Defaults) && !items.is_empty() {
            self.error(
                value,
                "`aliases` in `defaults` must be empty: one address cannot belong to every user"
                    .into(),
                "an alias for every user",
                Some(
                    "declare each alias under its user; `aliases: []` in `defaults` removes \
                     every alias of every user that does not declare its own"
                        .into(),
                ),
            );
            return None;
        }
        let mut seen = HashMap::new();
        let mut aliases = Vec::with_capacity(items.len());
        let mut valid = true;
        for item in items {
            let Some(address) = self.string_item("aliases", item, "an email address") else {
                valid = false;
                continue;
            };
            if !is_email_address(address) {
                let len = address.chars().count();
                let message = if len > EMAIL_MAX_CHARS {
                    format!("alias is {len} characters long; at most {EMAIL_MAX_CHARS} are allowed")
                } else {
                    format!("alias `{address}` is not an email address")
                };
                self.error(item, message, "not an address", Some(ALIAS_HELP.into()));
                valid = false;
                continue;
            }
            if let Owner::User(key) = owner
                && key.eq_ignore_ascii_case(address)
            {
                self.error(
                    item,
                    format!("alias `{address}` is the user's own primary address (its key)"),
                    "the primary address",
                    Some(
                        "the primary address is never an alias: list only the other addresses"
                            .into(),
                    ),
                );
                valid = false;
                continue;
            }
            if self.repeated("aliases", item, address, &mut seen) {
                valid = false;
                continue;
            }
            let pos = self.pos(item);
            aliases.push(DesiredAlias {
                address: address.to_string(),
                line: pos.line,
                column: pos.column,
            });
        }
        valid.then_some(aliases)
    }

    fn groups(&mut self, value: &Node) -> Option<Vec<String>> {
        let items = self.list_items("groups", value, "engineering, all-staff@acme.example")?;
        let mut seen = HashMap::new();
        let mut groups = Vec::with_capacity(items.len());
        let mut valid = true;
        for item in items {
            let Some(group) = self.string_item("groups", item, "a group name or address") else {
                valid = false;
                continue;
            };
            if !is_group_reference(group) {
                self.error(
                    item,
                    format!("`{group}` cannot name a group"),
                    "not a group name",
                    Some(format!(
                        "a group is named by its name or primary address: 1 to \
                         {GROUP_NAME_MAX_CHARS} characters from U+0020 to U+00FF"
                    )),
                );
                valid = false;
                continue;
            }
            if self.repeated("groups", item, group, &mut seen) {
                valid = false;
                continue;
            }
            groups.push(group.to_string());
        }
        valid.then_some(groups)
    }

    fn quota(&mut self, value: &Node) -> Option<u64> {
        let found = self.raw_text(value);
        let (message, label, help) = match &value.value {
            Value::Number => match found.trim().parse::<u64>() {
                Ok(mb) if (1..=QUOTA_MAX_MB).contains(&mb) => return Some(mb),
                _ => (
                    format!(
                        "`mailbox_quota_mb` must be a whole number from 1 to {QUOTA_MAX_MB}, found `{found}`"
                    ),
                    "not a positive whole number",
                    "write the quota in MB in digits, e.g. mailbox_quota_mb: 51200".to_string(),
                ),
            },
            Value::Str(s) if s.trim().parse::<u64>().is_ok() => (
                format!("`mailbox_quota_mb` must be a number, found the string {found}"),
                "a string, not a number",
                format!("remove the quotes: mailbox_quota_mb: {}", s.trim()),
            ),
            Value::Null => (
                "`mailbox_quota_mb` cannot be null".to_string(),
                "null",
                "write the quota in MB, or remove the key to leave it unmanaged".to_string(),
            ),
            other => (
                format!(
                    "`mailbox_quota_mb` must be a whole number of MB, found {} `{found}`",
                    other.kind_name()
                ),
                "expected a number",
                "write the quota in MB in digits, e.g. mailbox_quota_mb: 51200".to_string(),
            ),
        };
        self.error(value, message, label, Some(help));
        None
    }
}
