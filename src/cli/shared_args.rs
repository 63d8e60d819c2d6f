//! Flags shared by plan and apply: which users, how to show values.

use crate::model::attrs::Attribute;
use crate::reconcile::AuditLog;
use crate::reconcile::{Selection, UnmanagedPolicy};
use crate::redaction::{MailboxValues, Redaction, RedactionKey};
use crate::render::{Detail, RenderOptions};
use clap::{Args, ValueEnum};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The flags of every command that plans (plan, apply, controller): which users, what to do
/// about users in no file, and how values are shown.
#[derive(Debug, Clone, Args, Default)]
pub struct PlanningArgs {
    #[command(flatten)]
    pub selection: SelectionArgs,
    #[command(flatten)]
    pub unmanaged: UnmanagedArgs,
    #[command(flatten)]
    pub redaction: RedactionArgs,
}

/// `--target` / `--exclude`.
#[derive(Debug, Clone, Args, Default)]
pub struct SelectionArgs {
    /// Plan only this user (its key as declared; repeatable). A target that matches nothing is an error.
    #[arg(long = "target", value_name = "USER")]
    pub targets: Vec<String>,
    /// Leave this user out (repeatable). An exclude that matches nothing is an error.
    #[arg(long = "exclude", value_name = "USER")]
    pub excludes: Vec<String>,
}

impl SelectionArgs {
    /// The engine's selection.
    pub(crate) fn to_selection(&self) -> Selection {
        Selection { targets: self.targets.clone(), excludes: self.excludes.clone() }
    }
}

/// What to do about live users whom no file declares (`--unmanaged`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UnmanagedChoice {
    /// List them after their organization's changes.
    Report,
    /// Do not look for them (no ListUsers call).
    Ignore,
    /// List them, each one an error entry (exit 1).
    Error,
}

/// `--unmanaged`.
#[derive(Debug, Clone, Args, Default)]
pub struct UnmanagedArgs {
    /// What to do about live users of the planned organizations whom no file declares
    /// [default: report]. Not looked for with --target.
    #[arg(long = "unmanaged", value_enum, value_name = "WHAT")]
    pub choice: Option<UnmanagedChoice>,
}

impl UnmanagedArgs {
    /// The engine's policy; `report` when the flag is not given.
    pub(crate) fn policy(&self) -> UnmanagedPolicy {
        match self.choice {
            None | Some(UnmanagedChoice::Report) => UnmanagedPolicy::Report,
            Some(UnmanagedChoice::Ignore) => UnmanagedPolicy::Ignore,
            Some(UnmanagedChoice::Error) => UnmanagedPolicy::Error,
        }
    }
}

/// A field whose values `--redact` hides: an attribute, or a mailbox key with values
/// (`aliases`, `mailbox_quota_mb`; group names are identifiers, always shown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedactedField {
    Attribute(Attribute),
    Mailbox(MailboxValues),
}

fn parse_field(s: &str) -> Result<RedactedField, String> {
    if let Some(attr) = Attribute::from_key(s) {
        return Ok(RedactedField::Attribute(attr));
    }
    MailboxValues::from_key(s).map(RedactedField::Mailbox).ok_or_else(|| {
        let keys: Vec<&str> = Attribute::ALL
            .iter()
            .map(|a| a.key())
            .chain([MailboxValues::Aliases.key(), MailboxValues::Quota.key()])
            .collect();
        let hint =
            if s == "groups" { " (group names are identifiers and are always shown)" } else { "" };
        format!("unknown field `{s}`{hint}; expected one of: {}", keys.join(", "))
    })
}

/// `--redact` / `--redact-all` / `--redact-key-file`.
#[derive(Debug, Clone, Args, Default)]
pub struct RedactionArgs {
    /// Replace the values of these fields by a short keyed hash in every output and log line.
    #[arg(long, value_name = "FIELD,...", value_delimiter = ',', value_parser = parse_field, group = "redacting")]
    pub redact: Vec<RedactedField>,
    /// Replace every value by a short keyed hash in every output and log line.
    #[arg(long, conflicts_with = "redact", group = "redacting")]
    pub redact_all: bool,
    /// Key the redaction hashes with this file's bytes (at least 16) instead of a random key
    /// per run, so that they compare across runs.
    #[arg(long, value_name = "FILE", requires = "redacting")]
    pub redact_key_file: Option<PathBuf>,
}

impl RedactionArgs {
    /// The redaction these flags ask for, with the key from `--redact-key-file` or a random one.
    pub(crate) fn redaction(&self) -> miette::Result<Redaction> {
        if !self.redact_all && self.redact.is_empty() {
            return Ok(Redaction::None);
        }
        let key = match &self.redact_key_file {
            Some(path) => RedactionKey::read_file(path),
            None => RedactionKey::random(),
        }
        .map_err(|e| miette::miette!("{e}"))?;
        Ok(if self.redact_all {
            Redaction::All(key)
        } else {
            let mut attributes = BTreeSet::new();
            let mut mailbox = BTreeSet::new();
            for field in &self.redact {
                match field {
                    RedactedField::Attribute(attribute) => attributes.insert(*attribute),
                    RedactedField::Mailbox(values) => mailbox.insert(*values),
                };
            }
            Redaction::Fields(attributes, key, mailbox)
        })
    }
}

/// Render options for stdout; `quiet` (`-q`) shows only errors and the summary lines.
pub(crate) fn render_options(redaction: Redaction, color: bool, quiet: bool) -> RenderOptions {
    let detail = if quiet { Detail::Brief } else { Detail::Full };
    RenderOptions { redaction, color, detail }
}

/// The audit log of `--audit-log FILE`, opened for appending, if the flag was given.
pub(crate) fn open_audit_log(path: Option<&Path>) -> miette::Result<Option<Arc<AuditLog>>> {
    path.map(|path| {
        AuditLog::open(path)
            .map(Arc::new)
            .map_err(|e| miette::miette!("cannot open the audit log {}: {e}", path.display()))
    })
    .transpose()
}
