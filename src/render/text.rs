//! The text format: what `plan` prints on a terminal.
//!
//! ```text
//! Organization acme (m-0123456789abcdef0123456789abcdef)
//!   ~ alice (u-953f0c1e-7c2a-4d5b-9e8f-0a1b2c3d4e5f)
//!       display_name  "Alice L" -> "Alice Liddell"
//!       department    "R&D" -> ""
//!   ! ghost (users/acme.yaml:30): user not found
//! Plan: 1 to update, 41 unchanged, 1 error.
//! ```
//!
//! User ids are printed whole: they are what a reader pastes into the console or the CLI, and
//! an elided id cannot be searched for. Each error names the file and line that declared the
//! user, as the JSON format's `source` does.
//!
//! In color, the `~` of a changed user is yellow; a field set where it was empty is green and
//! a cleared one red; old values are red, new ones green; errors are red; the summary line's
//! update count is yellow and its error count red when they are not zero.

use super::mailbox::{MailboxRow, mailbox_rows};
use super::{
    Detail, OrganizationBlock, Palette, RenderOptions, colored_summary_sentence,
    organization_blocks, paint, printable, unmanaged_sentence,
};
use crate::model::attrs::AttrValue;
use crate::plan::{FieldChange, Plan, PlanError, UserChange};
use crate::redaction::display_value;
use anstyle::Style;
use std::fmt::{self, Write};

/// Renders `plan` as text: one block per organization (a blank line between blocks), one line
/// per changed field, one line per error, and the summary line last. Unchanged users are only
/// counted. With `options.color`, ANSI escape codes are written into the string. With
/// [`Detail::Brief`], only the error lines and the summary line.
pub(crate) fn text(plan: &Plan, options: &RenderOptions) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail; the Result only exists because `fmt::Write` has one.
    let _ = write_plan(&mut out, plan, options);
    out
}

fn write_plan(out: &mut String, plan: &Plan, options: &RenderOptions) -> fmt::Result {
    let palette = Palette::new(options.color);
    match options.detail {
        Detail::Full => {
            for (i, block) in organization_blocks(plan).iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                write_organization(out, block, options, &palette)?;
            }
        }
        Detail::Brief => {
            for error in &plan.errors {
                writeln!(out, "{}", paint(palette.error, &error_line(error)))?;
            }
            for block in organization_blocks(plan) {
                write_unmanaged(out, &block, "", &palette)?;
            }
        }
    }
    writeln!(
        out,
        "{} {}",
        paint(palette.header, "Plan:"),
        colored_summary_sentence(&plan.summary(), &palette)
    )
}

fn write_organization(
    out: &mut String,
    block: &OrganizationBlock<'_>,
    options: &RenderOptions,
    palette: &Palette,
) -> fmt::Result {
    let title = match block.alias {
        Some(alias) => format!("Organization {} ({})", printable(alias), printable(block.id)),
        None => format!("Organization {}", printable(block.id)),
    };
    writeln!(out, "{}", paint(palette.header, &title))?;
    if block.changes.is_empty() && block.errors.is_empty() {
        writeln!(out, "  (no changes)")?;
    }
    for change in &block.changes {
        write_change(out, change, options, palette)?;
    }
    for error in &block.errors {
        writeln!(out, "  {}", paint(palette.error, &error_line(error)))?;
    }
    write_unmanaged(out, block, "  ", palette)
}

/// `  ? 3 users in no file: dan, eve, frank` after the organization's changes and errors,
/// when it has users in no file.
fn write_unmanaged(
    out: &mut String,
    block: &OrganizationBlock<'_>,
    indent: &str,
    palette: &Palette,
) -> fmt::Result {
    match unmanaged_sentence(&block.unmanaged, |name| printable(name).into_owned()) {
        Some(sentence) => writeln!(out, "{indent}{} {sentence}", paint(palette.change, "?")),
        None => Ok(()),
    }
}

fn write_change(
    out: &mut String,
    change: &UserChange,
    options: &RenderOptions,
    palette: &Palette,
) -> fmt::Result {
    // A user declared by its id would otherwise read `u-1 (u-1)`.
    let name = if change.user == change.user_id {
        printable(&change.user).into_owned()
    } else {
        format!("{} ({})", printable(&change.user), printable(&change.user_id))
    };
    writeln!(out, "  {} {name}", paint(palette.change, "~"))?;
    let mailbox = mailbox_rows(change.mailbox.as_deref(), &options.redaction);
    // Align values within one user: the widest field name of this user, plus two spaces.
    let width = change
        .fields
        .iter()
        .map(|f| f.field.key().len())
        .chain(mailbox.iter().map(|row| row.key().len()))
        .max()
        .unwrap_or(0);
    for f in &change.fields {
        let before = display_value(&f.before, f.field, &options.redaction);
        let after = display_value(&f.after, f.field, &options.redaction);
        // A redacted value's color must not tell whether it is empty.
        let (key_style, before_style, after_style) = if options.redaction.covers(f.field) {
            (Style::new(), palette.remove, palette.add)
        } else {
            (
                field_style(f, palette),
                value_style(&f.before, palette.remove),
                value_style(&f.after, palette.add),
            )
        };
        // Padded outside the escape codes, which would otherwise count towards the width.
        let padding = " ".repeat(width - f.field.key().len());
        writeln!(
            out,
            "      {}{padding}  {} -> {}",
            paint(key_style, f.field.key()),
            paint(before_style, &before),
            paint(after_style, &after),
        )?;
    }
    for row in &mailbox {
        let padding = " ".repeat(width - row.key().len());
        let values = match row {
            MailboxRow::List { add, remove, .. } => {
                let parts: Vec<String> = add
                    .iter()
                    .map(|a| paint(palette.add, &format!("+ {a}")))
                    .chain(remove.iter().map(|r| paint(palette.remove, &format!("- {r}"))))
                    .collect();
                parts.join("  ")
            }
            MailboxRow::Quota { before, after } => {
                format!("{} -> {}", paint(palette.remove, before), paint(palette.add, after))
            }
        };
        writeln!(out, "      {}{padding}  {values}", row.key())?;
    }
    Ok(())
}

/// Green for a field set where it was empty, red for one cleared; a changed field stays plain
/// (its user's `~` and its values are colored already).
fn field_style(field: &FieldChange, palette: &Palette) -> Style {
    match (field.before.is_empty_text(), field.after.is_empty_text()) {
        (true, false) => palette.add,
        (false, true) => palette.remove,
        _ => Style::new(),
    }
}

/// An empty value (`""`) stays plain: there is nothing to point at.
fn value_style(value: &AttrValue, style: Style) -> Style {
    if value.is_empty_text() { Style::new() } else { style }
}

/// `! ghost (users/acme.yaml:30): user not found`; for an organization-level error,
/// `! users/nope.yaml:1: <message>`. A plan without sources (built by hand) leaves them out.
fn error_line(error: &PlanError) -> String {
    let message = printable(&error.message);
    let source = printable(&error.source);
    match (&error.user, source.is_empty()) {
        (Some(user), false) => format!("! {} ({source}): {message}", printable(user)),
        (Some(user), true) => format!("! {}: {message}", printable(user)),
        (None, false) => format!("! {source}: {message}"),
        (None, true) => format!("! {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::live::UserState;
    use crate::redaction::Redaction;
    use crate::render::fixture;

    #[test]
    fn render_text_snapshots() {
        for (case, options) in fixture::snapshot_cases() {
            insta::assert_snapshot!(
                format!("render_text_{case}"),
                text(&fixture::plan(), &options)
            );
        }
    }

    #[test]
    fn render_text_colored() {
        let colored = RenderOptions { color: true, ..RenderOptions::default() };
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
        let rendered = text(&plan, &fixture::all_redacted());
        for raw in fixture::raw_values(&plan, |_| true) {
            assert!(!rendered.contains(&raw), "{raw:?} leaked:\n{rendered}");
        }
    }

    #[test]
    fn render_text_brief_is_the_errors_the_unmanaged_and_the_summary() {
        let brief = RenderOptions { detail: Detail::Brief, ..RenderOptions::default() };
        assert_eq!(
            text(&fixture::plan(), &brief),
            "! ghost (users/m-0123456789abcdef0123456789abcdef.yaml:30): user not found\n\
             ! users/nope.yaml:1: organization \"nope\" not found\n\
             ? 2 users in no file: dan, eve\n\
             ? 1 user in no file: heidi\n\
             Plan: 3 to update, 4 unchanged, 2 errors.\n"
        );
    }

    #[test]
    fn render_text_names_ten_unmanaged_users_then_counts_the_rest() {
        let users = |n: usize| -> Vec<_> {
            (0..n)
                .map(|i| {
                    let name = format!("user{i:02}");
                    fixture::unmanaged(fixture::ORG_ACME, &name, None, UserState::Enabled)
                })
                .collect()
        };
        let line = |n| {
            let plan = Plan { unmanaged: Some(users(n)), ..Plan::default() };
            let rendered = text(&plan, &RenderOptions::default());
            rendered.lines().nth(2).unwrap_or_default().to_string()
        };
        assert_eq!(
            line(10),
            "  ? 10 users in no file: user00, user01, user02, user03, user04, user05, user06, \
             user07, user08, user09"
        );
        assert_eq!(
            line(13),
            "  ? 13 users in no file: user00, user01, user02, user03, user04, user05, user06, \
             user07, user08, user09 and 3 more"
        );
        // Looked for and none found: no line; not looked for: none either.
        let none = Plan { unmanaged: Some(Vec::new()), ..Plan::default() };
        assert_eq!(
            text(&none, &RenderOptions::default()),
            text(&Plan::default(), &RenderOptions::default())
        );
    }

    #[test]
    fn render_text_redacted_colors_do_not_tell_empty_values() {
        let plan = fixture::plan();
        let colored =
            |redaction| RenderOptions { redaction, color: true, ..RenderOptions::default() };
        let all = text(&plan, &colored(Redaction::All(fixture::key())));
        // department "R&D" -> "" is a clear: red without redaction, a plain change with it.
        let department = |rendered: &str| {
            rendered
                .lines()
                .find(|l| l.contains("department"))
                .map(str::to_string)
                .unwrap_or_default()
        };
        let plain = text(&plan, &colored(Redaction::None));
        assert!(department(&plain).starts_with("      \u{1b}[31mdepartment"), "{plain}");
        assert!(department(&plain).ends_with(" -> \"\""), "{plain}");
        assert!(department(&all).starts_with("      department"), "{all}");
        assert!(department(&all).contains(" -> \u{1b}[32m(redacted"), "{all}");
    }

    #[test]
    fn render_text_escapes_control_characters_of_messages_and_sources() {
        let mut plan = Plan::default();
        plan.errors.push(PlanError {
            organization_id: "m-1".into(),
            user: Some("bob".into()),
            source: "users/\u{1b}[2J.yaml:3".into(),
            message: "service said \u{1b}]0;pwned\u{7}".into(),
        });
        let rendered = text(&plan, &RenderOptions { color: true, ..RenderOptions::default() });
        assert!(
            rendered.contains(r"! bob (users/\u{1b}[2J.yaml:3): service said \u{1b}]0;pwned\u{7}"),
            "{rendered}"
        );
        assert!(!rendered.contains("\u{1b}[2J") && !rendered.contains('\u{7}'), "{rendered}");
    }
}
