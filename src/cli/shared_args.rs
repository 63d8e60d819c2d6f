//! Flags shared by plan and apply: which users, how to show values.

use crate::attrs::Attribute;
use crate::reconcile::Selection;
use crate::render::{Detail, Redaction, RenderOptions};
use clap::Args;
use std::collections::BTreeSet;

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
    pub fn to_selection(&self) -> Selection {
        Selection { targets: self.targets.clone(), excludes: self.excludes.clone() }
    }
}

fn parse_field(s: &str) -> Result<Attribute, String> {
    Attribute::from_key(s).ok_or_else(|| {
        let keys: Vec<&str> = Attribute::ALL.iter().map(|a| a.key()).collect();
        format!("unknown field `{s}`; expected one of: {}", keys.join(", "))
    })
}

/// `--redact` / `--redact-all`.
#[derive(Debug, Clone, Args, Default)]
pub struct RedactionArgs {
    /// Replace the values of these fields by a short hash in the output.
    #[arg(long, value_name = "FIELD,...", value_delimiter = ',', value_parser = parse_field)]
    pub redact: Vec<Attribute>,
    /// Replace every value by a short hash in the output.
    #[arg(long, conflicts_with = "redact")]
    pub redact_all: bool,
}

impl RedactionArgs {
    /// Render options for stdout; `quiet` (`-q`) shows only errors and the summary lines.
    pub fn render_options(&self, color: bool, quiet: bool) -> RenderOptions {
        let redaction = if self.redact_all {
            Redaction::All
        } else if self.redact.is_empty() {
            Redaction::None
        } else {
            Redaction::Fields(self.redact.iter().copied().collect::<BTreeSet<_>>())
        };
        let detail = if quiet { Detail::Brief } else { Detail::Full };
        RenderOptions { redaction, color, detail }
    }
}
