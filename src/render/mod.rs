//! Rendering a [`Plan`] for people and machines: `text()` for terminals, `json()` for tools
//! (docs/output-formats.md#json-format), `markdown()` for pull-request comments. Every format applies
//! the same `Redaction` to `before` and `after` values.

mod apply_report;
mod json;
mod log_values;
mod mailbox;
mod markdown;
mod options;
mod palette;
mod text;

#[cfg(test)]
mod fixture;

pub(crate) use apply_report::apply_report;
pub(crate) use json::json;
pub(crate) use log_values::log_planned_values;
pub(crate) use mailbox::{MailboxRow, mailbox_rows};
pub(crate) use markdown::markdown;
pub(crate) use options::{Detail, RenderOptions};
pub(crate) use text::text;

pub(crate) use crate::model::printable::printable;
use crate::model::wording::{first_names, plural};
use crate::plan::{Plan, PlanError, Summary, UnmanagedUser, UserChange};
pub(crate) use palette::{Palette, paint, paint_count};

/// The changes and errors of one organization, in plan order, for the grouped formats.
#[derive(Debug)]
struct OrganizationBlock<'p> {
    id: &'p str,
    alias: Option<&'p str>,
    changes: Vec<&'p UserChange>,
    errors: Vec<&'p PlanError>,
    /// Its live users in no file, by name.
    unmanaged: Vec<&'p UnmanagedUser>,
}

/// Groups a plan by organization: the organizations in `plan.organizations` order, then any
/// organization that only a change or an error mentions (so that nothing is ever dropped from
/// the output, even from a plan built by hand or read from a file).
fn organization_blocks(plan: &Plan) -> Vec<OrganizationBlock<'_>> {
    let mut blocks: Vec<OrganizationBlock<'_>> = Vec::new();
    let mentioned = plan
        .organizations
        .iter()
        .map(|o| (o.id.as_str(), o.alias.as_deref()))
        .chain(plan.changes.iter().map(|c| (c.organization_id.as_str(), None)))
        .chain(plan.errors.iter().map(|e| (e.organization_id.as_str(), None)))
        .chain(plan.unmanaged.iter().flatten().map(|u| (u.organization_id.as_str(), None)));
    for (id, alias) in mentioned {
        if !blocks.iter().any(|b| b.id == id) {
            blocks.push(OrganizationBlock {
                id,
                alias,
                changes: Vec::new(),
                errors: Vec::new(),
                unmanaged: Vec::new(),
            });
        }
    }
    for block in &mut blocks {
        block.changes = plan.changes.iter().filter(|c| c.organization_id == block.id).collect();
        block.errors = plan.errors.iter().filter(|e| e.organization_id == block.id).collect();
        block.unmanaged = plan.unmanaged_of(block.id).collect();
    }
    blocks
}

/// How many unmanaged users the `? N users in no file: …` line names before `and N more`.
const UNMANAGED_NAMED: usize = 10;

/// `3 users in no file: dan, eve, frank`, naming the first [`UNMANAGED_NAMED`] with `name`
/// (escaped for the format); `None` when there are none.
fn unmanaged_sentence(
    unmanaged: &[&UnmanagedUser],
    name: impl Fn(&str) -> String,
) -> Option<String> {
    if unmanaged.is_empty() {
        return None;
    }
    let names: Vec<String> = unmanaged.iter().map(|u| name(&u.user)).collect();
    Some(format!(
        "{} in no file: {}",
        plural(unmanaged.len(), "user", "users"),
        first_names(&names, UNMANAGED_NAMED)
    ))
}

/// `1 to update, 41 unchanged, 1 error.`: the same words in every human-readable format,
/// whatever the counts (a zero plan says `0 to update`, as docs/output-formats.md#output-formats shows).
fn summary_sentence(summary: &Summary) -> String {
    colored_summary_sentence(summary, &Palette::new(false))
}

/// [`summary_sentence`] with the counts that need attention in the palette's colors.
fn colored_summary_sentence(summary: &Summary, palette: &Palette) -> String {
    format!(
        "{}, {} unchanged, {}.",
        paint_count(palette.change, summary.to_update, &format!("{} to update", summary.to_update)),
        summary.unchanged,
        paint_count(palette.error, summary.errors, &plural(summary.errors, "error", "errors")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_summary_sentence_pluralises_errors_only() {
        let summary =
            |errors| Summary { users: 0, to_update: 1, unchanged: 41, errors, unmanaged: None };
        assert_eq!(summary_sentence(&summary(0)), "1 to update, 41 unchanged, 0 errors.");
        assert_eq!(summary_sentence(&summary(1)), "1 to update, 41 unchanged, 1 error.");
        assert_eq!(summary_sentence(&summary(2)), "1 to update, 41 unchanged, 2 errors.");
    }

    #[test]
    fn render_blocks_follow_plan_order_and_keep_unlisted_organizations() {
        let mut plan = fixture::plan();
        plan.organizations.remove(0);
        let ids: Vec<&str> = organization_blocks(&plan).iter().map(|b| b.id).collect();
        assert_eq!(
            ids,
            [
                fixture::ORG_PLAIN,
                fixture::ORG_QUIET,
                "nope",
                fixture::ORG_ACME, // only mentioned by its changes and errors now
            ]
        );
    }
}
