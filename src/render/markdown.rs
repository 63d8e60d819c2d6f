//! The markdown format (docs/output-formats.md#markdown-format): a pull-request comment.
//!
//! A heading, the summary line, then per organization a `####` heading, a table of changed
//! fields and a bullet per error. Values sit in `<code>` elements with every character that
//! markdown, GitHub tables or HTML would interpret written as an HTML entity, so a value with a
//! `|`, a backtick or `<b>` shows as itself and cannot break the table. (A backtick code span
//! would need `\|` inside tables but not outside them; `<code>` escapes the same everywhere.)
//!
//! The comment never exceeds [`MARKDOWN_LIMIT`] bytes: past it, the rendering stops at a row
//! boundary, closes an open `<details>` block and ends with a note of how much was left out.

use super::mailbox::{MailboxRow, mailbox_rows};
use super::{
    OrganizationBlock, RenderOptions, organization_blocks, summary_sentence, unmanaged_sentence,
};
use crate::model::printable::is_unsafe;
use crate::model::wording::plural;
use crate::plan::{Plan, PlanError, UnmanagedUser, UserChange};
use crate::redaction::display_value;

/// The largest markdown rendering, in bytes (so also in characters). GitHub refuses comments
/// over 65,536 characters; the margin leaves room for a CI job's own header or footer.
const MARKDOWN_LIMIT: usize = 60_000;

/// A plan with more changed users than this renders each organization's table collapsed in a
/// `<details>` block, so a large change does not bury the rest of the pull request; errors stay
/// visible. Twenty users (roughly one screen of rows) is where scrolling starts to hurt.
const COLLAPSE_ABOVE_USERS: usize = 20;

const TABLE_HEADER: &str = "\n| user | field | before | after |\n|---|---|---|---|\n";
const UNMANAGED_HEADER: &str = "\n| user | user id | email | state |\n|---|---|---|---|\n";
const CLOSE_DETAILS: &str = "\n</details>\n";

/// Renders `plan` as a pull-request comment of at most [`MARKDOWN_LIMIT`] bytes, truncated at
/// a row or error boundary with a note when the whole plan does not fit. `options.color` is
/// ignored.
pub(crate) fn markdown(plan: &Plan, options: &RenderOptions) -> String {
    let head =
        format!("### workmail-reconcile plan\n\n**Plan:** {}\n", summary_sentence(&plan.summary()));
    let mut doc = BoundedDocument::new(head);
    let collapse = plan.changes.len() > COLLAPSE_ABOVE_USERS;
    for block in organization_blocks(plan) {
        doc.push(&format!("\n#### Organization {}\n", organization_title(&block)));
        if block.changes.is_empty() && block.errors.is_empty() {
            doc.push("\n_No changes._\n");
        }
        if !block.changes.is_empty() {
            if collapse {
                doc.open_details(&details_summary(&block.changes));
            }
            doc.push(TABLE_HEADER);
            for change in &block.changes {
                push_rows(&mut doc, change, options);
            }
            doc.close_details();
        }
        if !block.errors.is_empty() {
            doc.push("\n");
            for error in &block.errors {
                doc.push_item(&error_item(error), Hidden::Error);
            }
        }
        push_unmanaged(&mut doc, &block.unmanaged);
    }
    doc.finish()
}

/// `? 3 users in no file: dan, eve, frank`, then every one of them in a collapsed table.
fn push_unmanaged(doc: &mut BoundedDocument, unmanaged: &[&UnmanagedUser]) {
    let Some(sentence) = unmanaged_sentence(unmanaged, code) else { return };
    doc.push(&format!("\n? {sentence}\n"));
    doc.open_details(&format!("{} in no file", plural(unmanaged.len(), "user", "users")));
    doc.push(UNMANAGED_HEADER);
    for user in unmanaged {
        let email = user.email.as_deref().map(code).unwrap_or_default();
        let row = format!(
            "| {} | {} | {email} | {} |\n",
            code(&user.user),
            code(&user.user_id),
            user.state.as_str()
        );
        doc.push_item(&row, Hidden::Unmanaged);
    }
    doc.close_details();
}

fn push_rows(doc: &mut BoundedDocument, change: &UserChange, options: &RenderOptions) {
    for (i, f) in change.fields.iter().enumerate() {
        // The user is named on its first row only; the following rows continue it.
        let user = if i == 0 { code(&change.user) } else { String::new() };
        let before = code(&display_value(&f.before, f.field, &options.redaction));
        let after = code(&display_value(&f.after, f.field, &options.redaction));
        // Attribute keys are `[a-z_]+`, and an underscore inside a word never starts emphasis.
        let row = format!("| {user} | <code>{}</code> | {before} | {after} |\n", f.field.key());
        doc.push_item(&row, Hidden::Change);
    }
    // The mailbox keys: removes in the before column, adds in the after column.
    for (i, row) in mailbox_rows(change.mailbox.as_deref(), &options.redaction).iter().enumerate() {
        let user =
            if i == 0 && change.fields.is_empty() { code(&change.user) } else { String::new() };
        let (before, after) = match row {
            MailboxRow::List { add, remove, .. } => {
                let list = |sign: &str, values: &[String]| {
                    values
                        .iter()
                        .map(|v| format!("{sign} {}", code(v)))
                        .collect::<Vec<_>>()
                        .join("<br>")
                };
                (list("−", remove), list("+", add))
            }
            MailboxRow::Quota { before, after } => (code(before), code(after)),
        };
        let row = format!("| {user} | <code>{}</code> | {before} | {after} |\n", row.key());
        doc.push_item(&row, Hidden::Change);
    }
}

/// The rows of a change: one per attribute and one per mailbox key.
fn row_count(change: &UserChange) -> usize {
    change.fields.len() + change.mailbox.as_ref().map_or(0, |m| m.keys().len())
}

/// `acme (<code>m-…</code>)`, or `<code>m-…</code>` without an alias.
fn organization_title(block: &OrganizationBlock<'_>) -> String {
    match block.alias {
        Some(alias) => format!("{} ({})", escape(alias), code(block.id)),
        None => code(block.id),
    }
}

/// `3 users to update (7 field changes)`.
fn details_summary(changes: &[&UserChange]) -> String {
    let fields: usize = changes.iter().map(|c| row_count(c)).sum();
    format!(
        "{} to update ({})",
        plural(changes.len(), "user", "users"),
        plural(fields, "field change", "field changes")
    )
}

/// `- ❗ <code>ghost</code> (<code>users/acme.yaml:30</code>): user not found`, the same order
/// as the text format; an organization-level error starts with its source.
fn error_item(error: &PlanError) -> String {
    let message = escape(&error.message);
    let source = (!error.source.is_empty()).then(|| code(&error.source));
    match (&error.user, source) {
        (Some(user), Some(source)) => format!("- ❗ {} ({source}): {message}\n", code(user)),
        (Some(user), None) => format!("- ❗ {}: {message}\n", code(user)),
        (None, Some(source)) => format!("- ❗ {source}: {message}\n"),
        (None, None) => format!("- ❗ {message}\n"),
    }
}

/// The closing note of a truncated comment.
fn truncation_note(changes: usize, errors: usize, unmanaged: usize) -> String {
    let more = |n: usize, one: &str, many: &str| {
        plural(n, &format!("more {one}"), &format!("more {many}"))
    };
    let mut hidden = more(changes, "field change", "field changes");
    if errors > 0 {
        hidden.push_str(&format!(" and {}", more(errors, "error", "errors")));
    }
    if unmanaged > 0 {
        hidden
            .push_str(&format!(" and {}", more(unmanaged, "user in no file", "users in no file")));
    }
    format!(
        "\n_… output truncated: {hidden} not shown \
         (run `workmail-reconcile plan` locally or use `--format json`)._\n"
    )
}

/// `s` in a `<code>` element, escaped.
fn code(s: &str) -> String {
    format!("<code>{}</code>", escape(s))
}

/// `s` as inert markdown inline text: every character that markdown, a GitHub table, GitHub's
/// math or HTML would interpret becomes an entity, and control characters (a raw newline would
/// end a table row) become visible `\n`/`\u{…}` escapes.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' => out.push_str("&#92;n"),
            '\r' => out.push_str("&#92;r"),
            '\t' => out.push_str("&#92;t"),
            '|' | '`' | '\\' | '*' | '_' | '[' | ']' | '~' | '$' | '#' | '!' => {
                out.push_str(&format!("&#{};", u32::from(c)));
            }
            c if is_unsafe(c) => out.push_str(&format!("&#92;u{{{:04x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// Which count a piece that did not fit adds to the truncation note.
#[derive(Clone, Copy)]
enum Hidden {
    Change,
    Error,
    Unmanaged,
}

/// A document that stops growing once the next piece would leave no room for the closing
/// `</details>` and the truncation note; everything after that point is only counted. Stopping
/// for good (rather than skipping one large piece) keeps the output a prefix of the full
/// rendering, so nothing out of order is shown.
struct BoundedDocument {
    out: String,
    truncated: bool,
    details_open: bool,
    hidden_changes: usize,
    hidden_errors: usize,
    hidden_unmanaged: usize,
}

impl BoundedDocument {
    fn new(head: String) -> BoundedDocument {
        BoundedDocument {
            out: head,
            truncated: false,
            details_open: false,
            hidden_changes: 0,
            hidden_errors: 0,
            hidden_unmanaged: 0,
        }
    }

    /// Room kept back for what [`Self::finish`] may append: a `</details>` and the longest note.
    fn reserve() -> usize {
        CLOSE_DETAILS.len() + truncation_note(usize::MAX, usize::MAX, usize::MAX).len()
    }

    /// Appends `piece` if it fits; returns whether it did.
    fn push(&mut self, piece: &str) -> bool {
        if !self.truncated && self.out.len() + piece.len() + Self::reserve() <= MARKDOWN_LIMIT {
            self.out.push_str(piece);
        } else {
            self.truncated = true;
        }
        !self.truncated
    }

    /// Appends a table row or an error, counting it for the note when it does not fit.
    fn push_item(&mut self, piece: &str, kind: Hidden) {
        if !self.push(piece) {
            match kind {
                Hidden::Change => self.hidden_changes += 1,
                Hidden::Error => self.hidden_errors += 1,
                Hidden::Unmanaged => self.hidden_unmanaged += 1,
            }
        }
    }

    fn open_details(&mut self, summary: &str) {
        // An HTML block ends at a blank line, so the table after it is markdown again.
        let opener = format!("\n<details><summary>{summary}</summary>\n");
        if self.push(&opener) {
            self.details_open = true;
        }
    }

    fn close_details(&mut self) {
        if self.details_open && self.push(CLOSE_DETAILS) {
            self.details_open = false;
        }
    }

    fn finish(mut self) -> String {
        // Both fit by construction: `reserve` was kept free by every `push`.
        if self.details_open {
            self.out.push_str(CLOSE_DETAILS);
        }
        if self.truncated {
            self.out.push_str(&truncation_note(
                self.hidden_changes,
                self.hidden_errors,
                self.hidden_unmanaged,
            ));
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::attrs::{AttrValue, Attribute};
    use crate::plan::{PlanError, PlannedOrganization};
    use crate::render::fixture;
    use proptest::prelude::*;

    /// A plan of `users` changed users in one organization, each with `fields` long values.
    fn big_plan(users: usize, fields: usize) -> Plan {
        let fields: Vec<_> = Attribute::ALL[..fields]
            .iter()
            .map(|&a| fixture::field(a, fixture::text(&"x".repeat(40)), fixture::text("y | `z`")))
            .collect();
        Plan {
            organizations: vec![PlannedOrganization {
                id: fixture::ORG_ACME.into(),
                alias: Some("acme".into()),
            }],
            changes: (0..users)
                .map(|i| {
                    let name = format!("user{i:05}");
                    fixture::change(fixture::ORG_ACME, &name, &format!("u-{i}"), 1, fields.clone())
                })
                .collect(),
            ..Plan::default()
        }
    }

    /// The structural checks every rendering must pass, whatever the plan.
    fn assert_well_formed(rendered: &str) {
        assert!(rendered.len() <= MARKDOWN_LIMIT, "{} bytes", rendered.len());
        assert_eq!(
            rendered.matches("<details>").count(),
            rendered.matches("</details>").count(),
            "unbalanced <details>"
        );
        assert_eq!(rendered.matches("<code>").count(), rendered.matches("</code>").count());
        for line in rendered.lines().filter(|l| l.starts_with('|')) {
            // A table row has exactly its 5 column separators: no value contributed one.
            assert_eq!(line.matches('|').count(), 5, "broken row: {line}");
        }
    }

    #[test]
    fn render_markdown_snapshots() {
        for (case, options) in fixture::snapshot_cases() {
            let rendered = markdown(&fixture::plan(), &options);
            assert_well_formed(&rendered);
            insta::assert_snapshot!(format!("render_markdown_{case}"), rendered);
        }
    }

    #[test]
    fn render_markdown_collapses_many_users() {
        let rendered = markdown(&big_plan(COLLAPSE_ABOVE_USERS + 1, 1), &RenderOptions::default());
        assert_well_formed(&rendered);
        assert!(!rendered.contains("truncated"));
        insta::assert_snapshot!(rendered);
    }

    #[test]
    fn render_markdown_does_not_collapse_up_to_the_threshold() {
        let rendered = markdown(&big_plan(COLLAPSE_ABOVE_USERS, 2), &RenderOptions::default());
        assert!(!rendered.contains("<details>"));
    }

    #[test]
    fn render_markdown_truncates_a_huge_plan_at_a_row_boundary() {
        let plan = big_plan(3_000, 4);
        let rendered = markdown(&plan, &RenderOptions::default());
        assert_well_formed(&rendered);
        // 3,000 users × 4 fields, minus the rows shown, are announced as hidden.
        let shown =
            rendered.lines().filter(|l| l.starts_with("| <code>") || l.starts_with("|  |")).count();
        assert!(shown > 100 && shown < 12_000, "{shown} rows shown");
        assert!(rendered.ends_with(&truncation_note(12_000 - shown, 0, 0)), "{rendered}");
        assert!(rendered.contains("</details>\n\n_… output truncated: "));
        assert!(rendered.len() > MARKDOWN_LIMIT - 1_000, "truncated too early");
        let tail: Vec<&str> = rendered.lines().rev().take(5).collect();
        insta::assert_snapshot!(tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
    }

    #[test]
    fn render_markdown_counts_hidden_errors() {
        let mut plan = big_plan(3_000, 4);
        plan.errors.push(PlanError {
            organization_id: fixture::ORG_ACME.into(),
            user: Some("ghost".into()),
            source: "users/acme.yaml:9".into(),
            message: "user not found".into(),
        });
        let rendered = markdown(&plan, &RenderOptions::default());
        assert!(rendered.contains(" and 1 more error not shown"), "{rendered}");
    }

    #[test]
    fn render_markdown_escapes_values_that_would_break_the_table() {
        let value = "a|b `c` <i>d</i> *e* _f_ [g](h) $x$ \\ \n";
        assert_eq!(
            escape(value),
            "a&#124;b &#96;c&#96; &lt;i&gt;d&lt;/i&gt; &#42;e&#42; &#95;f&#95; &#91;g&#93;(h) \
             &#36;x&#36; &#92; &#92;n"
        );
        assert_eq!(escape("\u{7}"), "&#92;u{0007}");
    }

    #[test]
    fn render_markdown_redacted_output_contains_no_raw_value() {
        let plan = fixture::plan();
        let rendered = markdown(&plan, &fixture::all_redacted());
        for raw in fixture::raw_values(&plan, |_| true) {
            for form in
                [raw.clone(), escape(&raw), escape(&AttrValue::Text(raw.clone()).to_string())]
            {
                assert!(!rendered.contains(&form), "{raw:?} leaked:\n{rendered}");
            }
        }
    }

    fn arbitrary_plan() -> impl Strategy<Value = Plan> {
        let value = "[ -~\n|`<>&é]{0,256}".prop_map(AttrValue::Text);
        let field = (0..Attribute::ALL.len(), value.clone(), value)
            .prop_map(|(i, before, after)| fixture::field(Attribute::ALL[i], before, after));
        let change = (0..3usize, "[ -~|`]{1,64}", prop::collection::vec(field, 1..8));
        let error = (0..3usize, prop::option::of("[ -~]{1,64}"), "[ -~\n]{0,200}");
        (prop::collection::vec(change, 0..200), prop::collection::vec(error, 0..40)).prop_map(
            |(changes, errors)| {
                let org = |i: usize| format!("m-{i:032}");
                Plan {
                    organizations: (0..2)
                        .map(|i| PlannedOrganization { id: org(i), alias: Some(format!("o|{i}")) })
                        .collect(),
                    changes: changes
                        .into_iter()
                        .map(|(o, user, fields)| fixture::change(&org(o), &user, "u-1", 1, fields))
                        .collect(),
                    unchanged: Vec::new(),
                    unmanaged: None,
                    errors: errors
                        .into_iter()
                        .map(|(o, user, message)| PlanError {
                            organization_id: org(o),
                            user,
                            source: "f.yaml:1".into(),
                            message,
                        })
                        .collect(),
                }
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn render_markdown_never_exceeds_the_limit(plan in arbitrary_plan()) {
            let rendered = markdown(&plan, &RenderOptions::default());
            assert_well_formed(&rendered);
            // Every row and error is either shown or counted in the note, exactly.
            let rows: usize = plan.changes.iter().map(row_count).sum();
            let shown_rows = rendered
                .lines()
                .filter(|l| l.starts_with("| ") && !l.starts_with("| user | field |"))
                .count();
            let shown_errors = rendered.lines().filter(|l| l.starts_with("- ❗ ")).count();
            if rendered.contains("output truncated") {
                let note = truncation_note(rows - shown_rows, plan.errors.len() - shown_errors, 0);
                prop_assert!(rendered.ends_with(&note));
            } else {
                prop_assert_eq!((shown_rows, shown_errors), (rows, plan.errors.len()));
            }
        }
    }
}
