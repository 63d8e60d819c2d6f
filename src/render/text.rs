//! The text format (SPEC §4): what `plan` prints on a terminal.
//!
//! ```text
//! Organization acme (m-0123456789abcdef0123456789abcdef)
//!   ~ alice (u-953f0c1e-7c2a-4d5b-9e8f-0a1b2c3d4e5f)
//!       display_name  "Alice L" -> "Alice Liddell"
//!       department    "R&D" -> ""
//!   ! ghost: user not found
//! Plan: 1 to update, 41 unchanged, 1 error.
//! ```
//!
//! User ids are printed whole: they are what a reader pastes into the console or the CLI, and
//! an elided id cannot be searched for.

use super::redact::display_value;
use super::{OrganizationBlock, RenderOptions, organization_blocks, summary_sentence};
use crate::plan::{Plan, PlanError, UserChange};
use anstyle::{AnsiColor, Style};
use std::fmt::{self, Write};

/// Renders `plan` as text: one block per organization (a blank line between blocks), one line
/// per changed field, one line per error, and the summary line last. Unchanged users are only
/// counted. With `options.color`, ANSI escape codes are written into the string.
pub fn text(plan: &Plan, options: &RenderOptions) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail; the Result only exists because `fmt::Write` has one.
    let _ = write_plan(&mut out, plan, options);
    out
}

/// The styles of the text format; all plain when color is off, so no escape code is written.
struct Palette {
    header: Style,
    change: Style,
    error: Style,
    before: Style,
    after: Style,
}

impl Palette {
    fn new(color: bool) -> Palette {
        if !color {
            let plain = Style::new();
            return Palette {
                header: plain,
                change: plain,
                error: plain,
                before: plain,
                after: plain,
            };
        }
        Palette {
            header: Style::new().bold(),
            change: Style::new().fg_color(Some(AnsiColor::Yellow.into())).bold(),
            error: Style::new().fg_color(Some(AnsiColor::Red.into())),
            before: Style::new().fg_color(Some(AnsiColor::Red.into())),
            after: Style::new().fg_color(Some(AnsiColor::Green.into())),
        }
    }
}

/// `text` in `style`; a plain style renders as nothing, so uncolored output has no codes.
fn paint(style: Style, text: &str) -> String {
    format!("{}{text}{}", style.render(), style.render_reset())
}

fn write_plan(out: &mut String, plan: &Plan, options: &RenderOptions) -> fmt::Result {
    let palette = Palette::new(options.color);
    for (i, block) in organization_blocks(plan).iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        write_organization(out, block, options, &palette)?;
    }
    writeln!(out, "Plan: {}", summary_sentence(&plan.summary()))
}

fn write_organization(
    out: &mut String,
    block: &OrganizationBlock<'_>,
    options: &RenderOptions,
    palette: &Palette,
) -> fmt::Result {
    let title = match block.alias {
        Some(alias) => format!("Organization {alias} ({})", block.id),
        None => format!("Organization {}", block.id),
    };
    writeln!(out, "{}", paint(palette.header, &title))?;
    if block.changes.is_empty() && block.errors.is_empty() {
        return writeln!(out, "  (no changes)");
    }
    for change in &block.changes {
        write_change(out, change, options, palette)?;
    }
    for error in &block.errors {
        writeln!(out, "  {}", paint(palette.error, &error_line(error)))?;
    }
    Ok(())
}

fn write_change(
    out: &mut String,
    change: &UserChange,
    options: &RenderOptions,
    palette: &Palette,
) -> fmt::Result {
    // A user declared by its id would otherwise read `u-1 (u-1)`.
    let name = if change.user == change.user_id {
        change.user.clone()
    } else {
        format!("{} ({})", change.user, change.user_id)
    };
    writeln!(out, "  {} {name}", paint(palette.change, "~"))?;
    // Align values within one user: the widest field name of this user, plus two spaces.
    let width = change.fields.iter().map(|f| f.field.key().len()).max().unwrap_or(0);
    for f in &change.fields {
        let before = display_value(&f.before, f.field, &options.redaction);
        let after = display_value(&f.after, f.field, &options.redaction);
        writeln!(
            out,
            "      {:<width$}  {} -> {}",
            f.field.key(),
            paint(palette.before, &before),
            paint(palette.after, &after),
        )?;
    }
    Ok(())
}

/// `! ghost: user not found`, or `! <message>` for an organization-level error.
fn error_line(error: &PlanError) -> String {
    match &error.user {
        Some(user) => format!("! {user}: {}", error.message),
        None => format!("! {}", error.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attrs::Attribute;
    use crate::render::{Redaction, fixture};
    use std::collections::BTreeSet;

    fn options(redaction: Redaction) -> RenderOptions {
        RenderOptions { redaction, color: false }
    }

    #[test]
    fn render_text_plan() {
        insta::assert_snapshot!(text(&fixture::plan(), &RenderOptions::default()));
    }

    #[test]
    fn render_text_redacts_telephone() {
        let redaction = Redaction::Fields(BTreeSet::from([Attribute::Telephone]));
        insta::assert_snapshot!(text(&fixture::plan(), &options(redaction)));
    }

    #[test]
    fn render_text_redacts_all() {
        insta::assert_snapshot!(text(&fixture::plan(), &options(Redaction::All)));
    }

    #[test]
    fn render_text_colored() {
        let colored = RenderOptions { redaction: Redaction::None, color: true };
        // Escape codes made visible so the snapshot shows where each style starts and ends.
        insta::assert_snapshot!(text(&fixture::plan(), &colored).replace('\x1b', "\\e"));
    }

    #[test]
    fn render_text_without_color_has_no_escape_codes() {
        assert!(!text(&fixture::plan(), &RenderOptions::default()).contains('\x1b'));
    }

    #[test]
    fn render_text_empty_plan_is_only_the_summary() {
        assert_eq!(
            text(&Plan::default(), &RenderOptions::default()),
            "Plan: 0 to update, 0 unchanged, 0 errors.\n"
        );
    }

    #[test]
    fn render_text_redacted_output_contains_no_raw_value() {
        let plan = fixture::plan();
        let rendered = text(&plan, &options(Redaction::All));
        for raw in fixture::raw_values(&plan, |_| true) {
            assert!(!rendered.contains(&raw), "{raw:?} leaked:\n{rendered}");
        }
    }
}
