//! The report of an apply, as `apply` prints it on a terminal: one line per attempted user,
//! the users not attempted in one line, the plan's errors, then the summary line.

use super::{Detail, Palette, RenderOptions, paint, paint_count, printable};
use crate::apply::{ApplyReport, Outcome};
use crate::model::wording::{first_names, plural};
use anstyle::Style;

/// How many users not attempted the report names; the rest are counted.
const NOT_ATTEMPTED_NAMED: usize = 10;

/// Every attempted user, one line each, the users not attempted (after a connection
/// failure) in one line, then the plan's errors and the summary line. With
/// [`Detail::Brief`] (`--quiet`, after a brief plan that listed the plan's errors already),
/// only the users that are not as planned (conflicts, failures), then the summary line.
/// With `options.color`: updated users green, conflicts yellow, failures and errors red.
pub(crate) fn apply_report(report: &ApplyReport, options: &RenderOptions) -> String {
    let palette = Palette::new(options.color);
    let mut out = String::new();
    for user in &report.users {
        let (style, detail) = match &user.outcome {
            Outcome::Updated { fields } => {
                let names: Vec<&str> = fields.clone();
                (palette.add, format!("updated: {}", names.join(", ")))
            }
            Outcome::Unchanged => (Style::new(), "unchanged: already as planned".to_string()),
            Outcome::Conflict { fields } => {
                let names: Vec<&str> = fields.iter().map(|f| f.field).collect();
                let detail = format!(
                    "conflict: {} changed live since the plan; skipped, plan again",
                    names.join(", ")
                );
                (palette.change, detail)
            }
            Outcome::Failed { reason } => (palette.error, format!("failed: {}", printable(reason))),
            Outcome::NotAttempted => continue,
        };
        let as_planned = matches!(user.outcome, Outcome::Updated { .. } | Outcome::Unchanged);
        if options.detail == Detail::Brief && as_planned {
            continue;
        }
        let who = format!("{} ({})", printable(&user.user), printable(&user.user_id));
        out.push_str(&format!("  {who} {}\n", paint(style, &detail)));
    }
    if let Some(line) = not_attempted_line(report) {
        out.push_str(&format!("  {}\n", paint(palette.error, &line)));
    }
    let plan_errors = if options.detail == Detail::Brief { &[][..] } else { &report.plan_errors };
    for error in plan_errors {
        let who = printable(error.user.as_deref().unwrap_or(&error.organization_id));
        let line = if error.source.is_empty() {
            format!("{who} not applied: {}", printable(&error.message))
        } else {
            let source = printable(&error.source);
            format!("{who} ({source}) not applied: {}", printable(&error.message))
        };
        out.push_str(&format!("  {}\n", paint(palette.error, &line)));
    }
    out.push_str(&colored_summary_line(report, &palette));
    out.push('\n');
    out
}

/// `3 users not attempted after the connection failure, untouched: carol, dave, erin`,
/// naming the first [`NOT_ATTEMPTED_NAMED`]; `None` when every user was attempted.
fn not_attempted_line(report: &ApplyReport) -> Option<String> {
    let names: Vec<String> = report
        .users
        .iter()
        .filter(|u| u.outcome == Outcome::NotAttempted)
        .map(|u| printable(&u.user).into_owned())
        .collect();
    let users = plural(names.len(), "user", "users");
    (!names.is_empty()).then(|| {
        format!(
            "{users} not attempted after the connection failure, untouched: {}",
            first_names(&names, NOT_ATTEMPTED_NAMED)
        )
    })
}

/// `Apply: 3 updated, 40 unchanged, 1 conflict, 0 failed, 1 error.`, and `, 5 not
/// attempted` before the period when a connection failure stopped the run; each count that
/// is not zero in its color.
fn colored_summary_line(report: &ApplyReport, palette: &Palette) -> String {
    let (updated, conflicts, failed, errors) = (
        report.count("updated"),
        report.count("conflict"),
        report.count("failed"),
        report.plan_errors.len(),
    );
    let not_attempted = match report.count("not attempted") {
        0 => String::new(),
        n => format!(", {}", paint(palette.error, &format!("{n} not attempted"))),
    };
    format!(
        "{} {}, {} unchanged, {}, {}, {}{not_attempted}.",
        paint(palette.header, "Apply:"),
        paint_count(palette.add, updated, &format!("{updated} updated")),
        report.count("unchanged") + report.unchanged_in_plan,
        paint_count(palette.change, conflicts, &plural(conflicts, "conflict", "conflicts")),
        paint_count(palette.error, failed, &format!("{failed} failed")),
        paint_count(palette.error, errors, &plural(errors, "error", "errors")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::{FieldConflict, UserOutcome};
    use crate::plan::PlanError;

    fn report() -> ApplyReport {
        let user = |name: &str, outcome| UserOutcome {
            organization_id: "m-1".into(),
            user: name.into(),
            user_id: format!("u-{name}"),
            source: "users/acme.yaml:3".into(),
            outcome,
        };
        ApplyReport {
            users: vec![
                user("alice", Outcome::Updated { fields: vec!["office", "city"] }),
                user("bob", Outcome::Unchanged),
                user(
                    "carol",
                    Outcome::Conflict { fields: vec![FieldConflict { field: "office" }] },
                ),
                user("dave", Outcome::Failed { reason: "timed out\u{1b}[2J".into() }),
            ],
            unchanged_in_plan: 40,
            plan_errors: vec![PlanError {
                organization_id: "m-1".into(),
                user: Some("ghost".into()),
                source: "users/acme.yaml:30".into(),
                message: "user not found".into(),
            }],
        }
    }

    #[test]
    fn apply_report_text_lists_every_user_then_the_summary() {
        assert_eq!(
            apply_report(&report(), &RenderOptions::default()),
            "  alice (u-alice) updated: office, city\n\
             \x20 bob (u-bob) unchanged: already as planned\n\
             \x20 carol (u-carol) conflict: office changed live since the plan; skipped, plan again\n\
             \x20 dave (u-dave) failed: timed out\\u{1b}[2J\n\
             \x20 ghost (users/acme.yaml:30) not applied: user not found\n\
             Apply: 1 updated, 41 unchanged, 1 conflict, 1 failed, 1 error.\n"
        );
    }

    #[test]
    fn users_not_attempted_are_one_line_and_counted_in_the_summary() {
        let mut report = report();
        report.users.truncate(1);
        report.plan_errors.clear();
        report.unchanged_in_plan = 0;
        report.users.extend((0..12).map(|i| UserOutcome {
            organization_id: "m-1".into(),
            user: format!("u{i:02}"),
            user_id: format!("id{i:02}"),
            source: "users/acme.yaml:9".into(),
            outcome: Outcome::NotAttempted,
        }));
        assert!(!report.succeeded());
        let expected = "  alice (u-alice) updated: office, city\n  \
             12 users not attempted after the connection failure, untouched: u00, u01, u02, \
             u03, u04, u05, u06, u07, u08, u09 and 2 more\n\
             Apply: 1 updated, 0 unchanged, 0 conflicts, 0 failed, 0 errors, 12 not attempted.\n";
        assert_eq!(apply_report(&report, &RenderOptions::default()), expected);
        // --quiet keeps them: they are not as planned.
        let brief = RenderOptions { detail: Detail::Brief, ..RenderOptions::default() };
        assert_eq!(
            apply_report(&report, &brief),
            expected.replacen("  alice (u-alice) updated: office, city\n", "", 1)
        );
    }

    #[test]
    fn apply_report_brief_keeps_only_what_went_wrong() {
        let brief = RenderOptions { detail: Detail::Brief, ..RenderOptions::default() };
        assert_eq!(
            apply_report(&report(), &brief),
            "  carol (u-carol) conflict: office changed live since the plan; skipped, plan again\n\
             \x20 dave (u-dave) failed: timed out\\u{1b}[2J\n\
             Apply: 1 updated, 41 unchanged, 1 conflict, 1 failed, 1 error.\n"
        );
    }

    #[test]
    fn apply_report_colors_outcomes_and_counts() {
        let colored = RenderOptions { color: true, ..RenderOptions::default() };
        let text = apply_report(&report(), &colored).replace('\x1b', "\\e");
        insta::assert_snapshot!(text, @r#"
          alice (u-alice) \e[32mupdated: office, city\e[0m
          bob (u-bob) unchanged: already as planned
          carol (u-carol) \e[1m\e[33mconflict: office changed live since the plan; skipped, plan again\e[0m
          dave (u-dave) \e[1m\e[31mfailed: timed out\u{1b}[2J\e[0m
          \e[1m\e[31mghost (users/acme.yaml:30) not applied: user not found\e[0m
        \e[1mApply:\e[0m \e[32m1 updated\e[0m, 41 unchanged, \e[1m\e[33m1 conflict\e[0m, \e[1m\e[31m1 failed\e[0m, \e[1m\e[31m1 error\e[0m.
        "#);
    }
}
