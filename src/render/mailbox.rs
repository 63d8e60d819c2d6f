//! The mailbox keys of a change as every format shows them: one row per key that differs, its
//! values redacted (aliases, quota) or not (group names, which are identifiers).

use super::printable;
use crate::plan::MailboxChange;
use crate::plan::mailbox::{ALIASES, GROUPS, QUOTA};
use crate::redaction::{MailboxValues, Redaction};

/// One key that differs, its values as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MailboxRow {
    /// `aliases` or `groups`: what is added and removed.
    List { key: &'static str, add: Vec<String>, remove: Vec<String> },
    /// `mailbox_quota_mb`: before and after.
    Quota { before: String, after: String },
}

impl MailboxRow {
    /// The key.
    pub(crate) fn key(&self) -> &'static str {
        match self {
            MailboxRow::List { key, .. } => key,
            MailboxRow::Quota { .. } => QUOTA,
        }
    }

    /// `+ a@acme.example  - b@acme.example`, or `10240 -> 51200`: the text after the key.
    pub(crate) fn plain(&self) -> String {
        match self {
            MailboxRow::List { add, remove, .. } => {
                let parts: Vec<String> = add
                    .iter()
                    .map(|a| format!("+ {a}"))
                    .chain(remove.iter().map(|r| format!("- {r}")))
                    .collect();
                parts.join("  ")
            }
            MailboxRow::Quota { before, after } => format!("{before} -> {after}"),
        }
    }
}

/// The rows of `change`, in plan order, values made printable and passed through `redaction`.
pub(crate) fn mailbox_rows(
    change: Option<&MailboxChange>,
    redaction: &Redaction,
) -> Vec<MailboxRow> {
    let Some(change) = change else { return Vec::new() };
    let shown = |values: Option<MailboxValues>, list: &[String]| -> Vec<String> {
        list.iter()
            .map(|v| match values {
                Some(values) => printable(&redaction.mailbox_value(values, v)).into_owned(),
                None => printable(v).into_owned(),
            })
            .collect()
    };
    let mut rows = Vec::new();
    if let Some(aliases) = &change.aliases {
        rows.push(MailboxRow::List {
            key: ALIASES,
            add: shown(Some(MailboxValues::Aliases), &aliases.add),
            remove: shown(Some(MailboxValues::Aliases), &aliases.remove),
        });
    }
    if let Some(groups) = &change.groups {
        rows.push(MailboxRow::List {
            key: GROUPS,
            add: shown(None, &groups.add),
            remove: shown(None, &groups.remove),
        });
    }
    if let Some(quota) = change.quota {
        let value = |mb: u64| redaction.mailbox_value(MailboxValues::Quota, &mb.to_string());
        rows.push(MailboxRow::Quota { before: value(quota.before), after: value(quota.after) });
    }
    rows
}
