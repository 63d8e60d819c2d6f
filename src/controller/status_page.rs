//! The status page: the [`Status`] as one small HTML document for people without Prometheus.
//! Server-rendered, no script, no external asset (inline CSS only). The template (`maud`)
//! escapes every value it splices in: user keys, messages and attribute values come from files
//! and from the service. Characters a document may not hold are the page's own to show (`visible`).

use super::{
    Correction, Mode, OrganizationDrift, ReadyReason, RunRecord, RunResult, Status, UserDrift,
};
use crate::model::wording::{first_names, plural};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Serialize;
use std::borrow::Cow;

/// Drifted users listed per organization; the others are counted, so that a directory that
/// drifted whole still gets a page a browser opens at once.
const USERS_SHOWN_PER_ORGANIZATION: usize = 100;

/// How often the browser reloads the page, in seconds.
const REFRESH_SECONDS: u32 = 30;

/// Colours with a meaning: green for a state that needs nothing, amber for one that needs a
/// look, red for one that needs a person, blue for one still in progress.
const STYLE: &str = "
:root { color-scheme: light; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --info: #0969da;
  --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 1.5rem; color: #1f2328; background: #fff;
  font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; overflow-wrap: break-word; }
h1 { font-size: 1.4rem; margin: 0 0 .75rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .6rem; padding-bottom: .3rem; border-bottom: 1px solid var(--line); }
h2 .muted, h3 .muted { font-weight: normal; font-size: .9rem; }
h3 { font-size: 1rem; margin: 1.4rem 0 .4rem; }
code { font: .9em/1.3 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.condition { display: flex; flex-wrap: wrap; align-items: center; gap: .6rem; padding: .9rem 1rem;
  border: 1px solid var(--line); border-left: 6px solid var(--tone); border-radius: 6px; background: var(--soft); }
.condition .message { flex-basis: 100%; margin: 0; }
.badge { display: inline-block; padding: .1rem .55rem; border-radius: 999px; color: #fff;
  background: var(--tone); font-weight: 600; font-size: .85rem; white-space: nowrap; }
.ok { --tone: var(--ok); } .warn { --tone: var(--warn); } .bad { --tone: var(--bad); }
.info { --tone: var(--info); }
.note { margin: .8rem 0; padding: .6rem 1rem; border-radius: 6px; border: 1px solid var(--tone);
  background: var(--soft); }
.muted, .since { color: var(--muted); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .35rem 1.5rem; margin: 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { padding: .35rem .6rem; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; white-space: nowrap; }
time { white-space: nowrap; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
td.zero { color: var(--muted); }
td.nonzero-bad { color: var(--bad); font-weight: 600; }
table.drift { table-layout: fixed; }
table.drift code { overflow-wrap: anywhere; }
col.user { width: 20%; } col.field { width: 25%; } col.arrow { width: 2.2rem; }
footer { margin-top: 2.5rem; color: var(--muted); font-size: .85rem; }
";

/// The whole page for `status`: the Ready condition, mode, suspension and revisions, the last
/// runs, and the drift of the last plan per organization (at most
/// [`USERS_SHOWN_PER_ORGANIZATION`] users each, the rest counted).
pub(crate) fn render(status: &Status) -> String {
    let (ready_word, tone) = condition_badge(status);
    // The `"\n"` between elements keep the page readable in a browser's source view.
    html! {
        (DOCTYPE) "\n"
        html lang="en" {
            "\n"
            head {
                "\n"
                meta charset="utf-8"; "\n"
                meta name="viewport" content="width=device-width, initial-scale=1"; "\n"
                meta http-equiv="refresh" content=(REFRESH_SECONDS); "\n"
                title {
                    (ready_word) " (" (wire_name(&status.ready.reason)) ") · workmail-reconcile controller"
                } "\n"
                // A constant of the program, not a value: CSS is raw text, not to be escaped.
                style { (PreEscaped(STYLE)) } "\n"
            } "\n"
            body {
                "\n"
                main {
                    "\n"
                    h1 { "workmail-reconcile controller" } "\n"
                    (condition(status, ready_word, tone))
                    @if status.suspended {
                        p.note.warn {
                            strong { "Suspended." } " The source holds "
                            code { ".workmail-reconcile-suspend" }
                            ": runs plan and report but never write. Remove the file to resume."
                        } "\n"
                    }
                    (facts(status))
                    (runs(status))
                    (drift(status))
                } "\n"
                footer {
                    "This page reloads every " (REFRESH_SECONDS) " s. For machines: "
                    a href="status" { "status" } " (JSON) · "
                    a href="metrics" { "metrics" } " (Prometheus) · "
                    a href="readyz" { "readyz" } " · "
                    a href="healthz" { "healthz" }
                } "\n"
            } "\n"
        } "\n"
    }
    .into_string()
}

/// The word for the Ready condition and its colour: a ready controller that still needs a
/// look (drift it may not correct, a suspension) is amber, not green.
fn condition_badge(status: &Status) -> (&'static str, &'static str) {
    match status.ready.reason {
        ReadyReason::Progressing => ("Not ready yet", "info"),
        ReadyReason::ReconciliationSucceeded if status.ready.status => ("Ready", "ok"),
        ReadyReason::DriftDetected | ReadyReason::Suspended if status.ready.status => {
            ("Ready", "warn")
        }
        _ => ("Not ready", "bad"),
    }
}

fn condition(status: &Status, ready_word: &str, tone: &str) -> Markup {
    let ready = &status.ready;
    html! {
        section class={ "condition " (tone) } aria-label="Ready condition" {
            span.badge { (ready_word) } " " strong { (wire_name(&ready.reason)) } " "
            span.since { "since " time { (visible(&ready.since)) } }
            p.message { (visible(&ready.message)) }
        } "\n"
    }
}

/// What each mode does, in the words of the reference.
fn mode_meaning(mode: Mode) -> &'static str {
    match mode {
        Mode::Observe => "plans and reports, never writes",
        Mode::ApplyOnChange => {
            "applies each new revision once; drift on an applied revision is reported"
        }
        Mode::SelfHeal => "applies on every run",
    }
}

/// A revision of the State section, or what stands for it while there is none.
fn revision(revision: Option<&str>, none: &str) -> Markup {
    html! {
        @match revision {
            Some(revision) => code { (visible(revision)) },
            None => span.muted { (none) },
        }
    }
}

fn facts(status: &Status) -> Markup {
    html! {
        h2 { "State" } "\n"
        dl.facts {
            "\n"
            dt { "Mode" }
            dd {
                code { (wire_name(&status.mode)) } " "
                span.muted { "(" (mode_meaning(status.mode)) ")" }
            } "\n"
            dt { "Suspended" }
            dd {
                @if status.suspended { span class="badge warn" { "yes" } } @else { "no" }
            } "\n"
            dt { "Revision attempted" }
            dd { (revision(status.revision.attempted.as_deref(), "none read yet")) } "\n"
            dt { "Revision applied" }
            dd { (revision(status.revision.applied.as_deref(), "none applied yet")) } "\n"
            dt { "Last run" }
            dd {
                @match &status.last_run {
                    Some(run) => {
                        (result_badge(run.result)) " " time { (visible(&run.started)) } ", "
                        (wire_name(&run.trigger)) ", " (duration(run.duration_seconds))
                    },
                    None => span.muted { "none has finished yet" },
                }
            } "\n"
        } "\n"
    }
}

/// The colour of a run's result.
fn result_badge(result: RunResult) -> Markup {
    let tone = match result {
        RunResult::Success => "ok",
        RunResult::Drift => "warn",
        RunResult::Blocked | RunResult::Invalid | RunResult::Failure => "bad",
    };
    html! { span class={ "badge " (tone) } { (wire_name(&result)) } }
}

/// A git commit hash cut to its first 12 digits, as `git log --abbrev=12` shows it, for the
/// runs table (the full revision is in the cell's title and the State section); any other
/// revision (`sha256:` and 12 digits) as it is.
fn short_revision(revision: &str) -> &str {
    if revision.len() > 12 && revision.chars().all(|c| c.is_ascii_hexdigit()) {
        &revision[..12]
    } else {
        revision
    }
}

/// `0.042 s`, `12.3 s`, `2 min 5 s`.
fn duration(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return "–".to_string();
    }
    if seconds < 1.0 {
        format!("{seconds:.3} s")
    } else if seconds < 60.0 {
        format!("{seconds:.1} s")
    } else {
        let whole = seconds.round() as u64;
        format!("{} min {} s", whole / 60, whole % 60)
    }
}

/// A count cell: zero muted, and a non-zero count of something that went wrong in red.
fn count(n: usize, wrong: bool) -> Markup {
    let class = match (n, wrong) {
        (0, _) => "n zero",
        (_, true) => "n nonzero-bad",
        _ => "n",
    };
    html! { td class=(class) { (n) } }
}

fn runs(status: &Status) -> Markup {
    html! {
        h2 {
            "Last runs " span.muted { "(newest first, at most " (super::HISTORY_LENGTH) ")" }
        } "\n"
        @if status.history.is_empty() {
            p.muted { "No run has finished yet." } "\n"
        } @else {
            table {
                "\n"
                thead {
                    tr {
                        th { "Started" } th { "Trigger" } th { "Result" } th.n { "Duration" }
                        th { "Revision" } th.n { "Users" } th.n { "To update" }
                        th.n { "Unchanged" } th.n { "Errors" } th.n { "Updated" }
                        th.n { "Conflicts" } th.n { "Failed" }
                    }
                } "\n"
                tbody {
                    "\n"
                    @for run in &status.history { (run_row(run)) }
                } "\n"
            } "\n"
        }
    }
}

/// An RFC 3339 time without its fraction of a second, so that the runs table fits a screen.
fn to_the_second(time: &str) -> String {
    match time.split_once('.') {
        Some((whole, fraction)) if fraction.ends_with('Z') => format!("{whole}Z"),
        _ => time.to_string(),
    }
}

fn run_row(run: &RunRecord) -> Markup {
    let s = &run.summary;
    html! {
        tr {
            td { time { (visible(&to_the_second(&run.started))) } }
            td { (wire_name(&run.trigger)) }
            td { (result_badge(run.result)) }
            td.n { (duration(run.duration_seconds)) }
            td {
                @match &run.revision {
                    Some(r) => code title=(visible(r)) { (visible(short_revision(r))) },
                    None => span.muted { "unread" },
                }
            }
            (count(s.users, false))
            (count(s.to_update, false))
            (count(s.unchanged, false))
            (count(s.errors, true))
            (count(s.updated, false))
            (count(s.conflicts, true))
            (count(s.failed, true))
        } "\n"
    }
}

fn drift(status: &Status) -> Markup {
    html! {
        h2 { "Drift in the last plan" } "\n"
        @if status.drift.is_empty() {
            p.muted {
                @if status.last_run.is_none() {
                    "No plan has completed yet."
                } @else {
                    "No organization to show: no run has completed a plan of one yet."
                }
            } "\n"
        } @else {
            p.muted {
                "What the last plan found — live values (before) against the files (after), \
                 redacted as the controller's redaction flags ask — and what that run did about \
                 each user: users it corrected no longer differ."
            } "\n"
            table {
                "\n"
                thead {
                    tr {
                        th { "Alias" } th { "Organization id" } th.n { "Desired users" }
                        th.n { "Drifted users" } th.n { "Still differ" } th.n { "In no file" }
                    }
                } "\n"
                tbody {
                    "\n"
                    @for organization in &status.drift { (organization_row(organization)) }
                } "\n"
            } "\n"
            @for organization in &status.drift { (unmanaged_line(organization)) }
            @for organization in status.drift.iter().filter(|o| !o.users.is_empty()) {
                (organization_drift(organization))
            }
        }
    }
}

/// An organization in the drift summary: what it should hold, how much drifted and how much
/// still differs after the run.
fn organization_row(organization: &OrganizationDrift) -> Markup {
    html! {
        tr {
            td {
                @match &organization.alias {
                    Some(alias) => (visible(alias)),
                    None => span.muted { "no alias" },
                }
            }
            td { code { (visible(&organization.organization_id)) } }
            (count(organization.desired_users, false))
            td.n {
                @if organization.users.is_empty() {
                    span class="badge ok" { "in sync" }
                } @else {
                    span class="badge warn" { (organization.users.len()) }
                }
            }
            @match organization.users_still_differing {
                0 => (count(0, false)),
                n => td.n { span class="badge warn" { (n) } },
            }
            @match &organization.unmanaged {
                Some(names) => (count(names.len(), true)),
                None => td class="n muted" title="not looked for" { "—" },
            }
        } "\n"
    }
}

/// How many names of users in no file a line shows, as the text plan does.
const UNMANAGED_NAMES_SHOWN: usize = 10;

/// For an organization with users in no file, a line with the first names, then how many more.
fn unmanaged_line(organization: &OrganizationDrift) -> Markup {
    let Some(names) = organization.unmanaged.as_ref().filter(|n| !n.is_empty()) else {
        return Markup::default();
    };
    // The list's own commas and words hold nothing `visible` changes: making the whole list
    // visible is making each name visible.
    let list = first_names(names, UNMANAGED_NAMES_SHOWN);
    html! {
        p.note {
            (organization_name(organization)) ": " (plural(names.len(), "user", "users"))
            " in no file: " (visible(&list)) ". Adopt them with "
            code { "workmail-reconcile export --skip-declared" } ", or remove them."
        } "\n"
    }
}

/// The alias when the files name one, else the id.
fn organization_name(organization: &OrganizationDrift) -> Cow<'_, str> {
    visible(organization.alias.as_deref().unwrap_or(&organization.organization_id))
}

/// What the run did about an organization's drift, after "2 of 41 users drifted".
fn corrected_words(organization: &OrganizationDrift) -> String {
    let drifted = organization.users.len();
    let corrected = organization.users.iter().filter(|u| !u.still_differs()).count();
    let still = organization.users_still_differing;
    if organization.users.iter().all(|u| u.outcome.is_none()) {
        "; this run did not write".to_string()
    } else if still == 0 {
        format!("; this run corrected {}", if drifted == 1 { "it" } else { "all of them" })
    } else {
        format!("; this run corrected {corrected}, {still} still differ")
    }
}

fn organization_drift(organization: &OrganizationDrift) -> Markup {
    let drifted = organization.users.len();
    html! {
        h3 {
            (organization_name(organization)) " "
            span.muted {
                "— " (drifted) " of " (plural(organization.desired_users, "user", "users"))
                " drifted" (corrected_words(organization))
            }
        } "\n"
        table.drift {
            "\n"
            colgroup { col.user; col.field; col; col.arrow; col; } "\n"
            thead {
                tr {
                    th { "User" } th { "Field" } th { "Before (live)" } th {}
                    th { "After (files)" }
                }
            } "\n"
            tbody {
                "\n"
                @for user in organization.users.iter().take(USERS_SHOWN_PER_ORGANIZATION) {
                    (user_rows(user))
                }
            } "\n"
        } "\n"
        @if drifted > USERS_SHOWN_PER_ORGANIZATION {
            p.note.warn {
                "… and "
                (plural(drifted - USERS_SHOWN_PER_ORGANIZATION, "more user", "more users"))
                " not listed: this page lists the first " (USERS_SHOWN_PER_ORGANIZATION)
                " drifted users of each organization; " a href="status" { "status" }
                " (JSON) lists them all."
            } "\n"
        }
    }
}

/// What the run did about a drifted user, as a badge: green when the user equals the files
/// now, red when a write was tried and the user still differs, amber when none was tried.
fn correction_badge(outcome: Option<Correction>) -> Markup {
    let (tone, words) = match outcome {
        Some(Correction::Updated) => ("ok", "corrected"),
        Some(Correction::Unchanged) => ("ok", "already as the files say"),
        Some(Correction::Conflict) => ("bad", "conflict: still differs"),
        Some(Correction::Failed) => ("bad", "failed: still differs"),
        Some(Correction::NotAttempted) => ("bad", "not attempted: still differs"),
        None => ("warn", "not written"),
    };
    html! { span class={ "badge " (tone) } { (words) } }
}

/// One row per changed field, the user's cell spanning them all.
fn user_rows(user: &UserDrift) -> Markup {
    let user_cell = html! {
        td rowspan=(user.fields.len().max(1)) {
            strong { (visible(&user.user)) } br;
            code.muted { (visible(&user.user_id)) } br;
            (correction_badge(user.outcome))
        }
    };
    html! {
        @if user.fields.is_empty() {
            tr { (user_cell) td colspan="4" class="muted" { "no field listed" } } "\n"
        }
        @for (i, field) in user.fields.iter().enumerate() {
            tr {
                @if i == 0 { (user_cell) }
                td { code { (visible(&field.field)) } }
                td { code { (visible(&field.before)) } }
                td { "→" }
                td { code { (visible(&field.after)) } }
            } "\n"
        }
    }
}

/// The name `/status` and the metrics give a value (`self-heal`, `DriftDetected`): its serde
/// name, so that the page never spells a state differently.
fn wire_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

/// `text` with the characters an HTML document must not contain (control characters other
/// than line feed and tab, noncharacters) as visible `\u{…}` escapes, so that a hostile value
/// does not make the document invalid and shows what it held. Markup characters are the
/// template's to escape: this runs before, on the text.
fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(forbidden_in_html) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if forbidden_in_html(c) {
            out.push_str(&format!("\\u{{{:04x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Characters an HTML document must not contain: control characters other than line feed and
/// tab, and the Unicode noncharacters (U+FDD0–U+FDEF, the last two code points of each plane).
fn forbidden_in_html(c: char) -> bool {
    let code = u32::from(c);
    (c.is_control() && c != '\n' && c != '\t')
        || (0xFDD0..=0xFDEF).contains(&code)
        || code & 0xFFFE == 0xFFFE
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::{FieldDrift, Ready, Revisions, RunSummary, Trigger};
    use std::collections::VecDeque;

    fn run(started: &str, trigger: Trigger, result: RunResult, summary: RunSummary) -> RunRecord {
        RunRecord {
            trigger,
            started: started.to_string(),
            duration_seconds: 1.25,
            result,
            revision: Some("4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39".to_string()),
            summary,
        }
    }

    fn user(key: &str, id: &str, fields: &[(&str, &str, &str)]) -> UserDrift {
        UserDrift {
            user: key.to_string(),
            user_id: id.to_string(),
            fields: fields
                .iter()
                .map(|(field, before, after)| FieldDrift {
                    field: field.to_string(),
                    before: before.to_string(),
                    after: after.to_string(),
                })
                .collect(),
            outcome: None,
        }
    }

    /// A controller in observe mode that found drift in one of two organizations, after a
    /// failed run and a success.
    fn sample() -> Status {
        let counts = |users, to_update, errors, updated, failed| RunSummary {
            users,
            to_update,
            unchanged: users - to_update,
            errors,
            updated,
            conflicts: 0,
            failed,
        };
        let history: VecDeque<RunRecord> = [
            run(
                "2025-05-02T10:20:00Z",
                Trigger::Interval,
                RunResult::Drift,
                counts(43, 2, 0, 0, 0),
            ),
            run(
                "2025-05-02T10:10:00Z",
                Trigger::Source,
                RunResult::Success,
                counts(43, 0, 0, 0, 0),
            ),
            RunRecord {
                duration_seconds: 0.042,
                revision: None,
                ..run(
                    "2025-05-02T10:09:55Z",
                    Trigger::Retry,
                    RunResult::Failure,
                    counts(0, 0, 1, 0, 0),
                )
            },
        ]
        .into();
        Status {
            mode: Mode::Observe,
            suspended: false,
            ready: Ready {
                status: true,
                reason: ReadyReason::DriftDetected,
                message: "2 users differ from the files; observe mode does not write.".to_string(),
                since: "2025-05-02T10:20:01Z".to_string(),
            },
            revision: Revisions {
                attempted: Some("4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39".to_string()),
                applied: None,
            },
            last_run: history.front().cloned(),
            history,
            drift: vec![
                OrganizationDrift {
                    organization_id: "m-0123456789abcdef0123456789abcdef".to_string(),
                    alias: Some("acme".to_string()),
                    desired_users: 41,
                    unmanaged: Some(vec!["dan".to_string(), "eve".to_string()]),
                    users_still_differing: 2,
                    users: vec![
                        user(
                            "alice",
                            "a1b2c3d4-0000-0000-0000-000000000001",
                            &[
                                ("title", "\"Engineer\"", "\"Senior Engineer\""),
                                (
                                    "telephone",
                                    "(redacted hmac:2e72eb66)",
                                    "(redacted hmac:73860612)",
                                ),
                            ],
                        ),
                        user(
                            "bob",
                            "a1b2c3d4-0000-0000-0000-000000000002",
                            &[("hidden_from_global_address_list", "false", "true")],
                        ),
                    ],
                },
                OrganizationDrift {
                    organization_id: "m-fedcba9876543210fedcba9876543210".to_string(),
                    alias: None,
                    desired_users: 2,
                    unmanaged: None,
                    users_still_differing: 0,
                    users: vec![],
                },
            ],
        }
    }

    /// The status before the first run ends.
    fn starting() -> Status {
        Status {
            mode: Mode::SelfHeal,
            suspended: false,
            ready: Ready {
                status: false,
                reason: ReadyReason::Progressing,
                message: "The first run has not finished.".to_string(),
                since: "2025-05-02T10:00:00Z".to_string(),
            },
            revision: Revisions::default(),
            last_run: None,
            history: VecDeque::new(),
            drift: vec![],
        }
    }

    #[test]
    fn status_page_snapshot() {
        let page = render(&sample());
        insta::assert_snapshot!(page);
    }

    #[test]
    fn status_page_shows_every_field_of_the_status() {
        let status = sample();
        let page = render(&status);
        for wanted in [
            "<title>Ready (DriftDetected) · workmail-reconcile controller</title>",
            "<meta http-equiv=\"refresh\" content=\"30\">",
            "<section class=\"condition warn\"",
            "<span class=\"badge\">Ready</span> <strong>DriftDetected</strong>",
            "since <time>2025-05-02T10:20:01Z</time>",
            "2 users differ from the files; observe mode does not write.",
            "<dt>Mode</dt><dd><code>observe</code> <span class=\"muted\">(plans and reports, never writes)</span></dd>",
            "<dt>Suspended</dt><dd>no</dd>",
            "<dt>Revision attempted</dt><dd><code>4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39</code></dd>",
            "<dt>Revision applied</dt><dd><span class=\"muted\">none applied yet</span></dd>",
            "<dt>Last run</dt><dd><span class=\"badge warn\">drift</span> <time>2025-05-02T10:20:00Z</time>, interval, 1.2 s</dd>",
            // Each run: started, trigger, result, duration, revision and all seven counts.
            "<tr><td><time>2025-05-02T10:20:00Z</time></td><td>interval</td><td><span class=\"badge warn\">drift</span></td>\
             <td class=\"n\">1.2 s</td><td><code title=\"4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39\">4f2a9c1e8b7d</code></td>\
             <td class=\"n\">43</td><td class=\"n\">2</td><td class=\"n\">41</td><td class=\"n zero\">0</td>\
             <td class=\"n zero\">0</td><td class=\"n zero\">0</td><td class=\"n zero\">0</td></tr>",
            "<td><time>2025-05-02T10:10:00Z</time></td><td>source</td><td><span class=\"badge ok\">success</span></td>",
            "<td><time>2025-05-02T10:09:55Z</time></td><td>retry</td><td><span class=\"badge bad\">failure</span></td>\
             <td class=\"n\">0.042 s</td><td><span class=\"muted\">unread</span></td>",
            "<td class=\"n nonzero-bad\">1</td>",
            // Drift: both organizations, the users and every changed field.
            "<tr><td>acme</td><td><code>m-0123456789abcdef0123456789abcdef</code></td><td class=\"n\">41</td>\
             <td class=\"n\"><span class=\"badge warn\">2</span></td>\
             <td class=\"n\"><span class=\"badge warn\">2</span></td><td class=\"n nonzero-bad\">2</td></tr>",
            "<tr><td><span class=\"muted\">no alias</span></td><td><code>m-fedcba9876543210fedcba9876543210</code></td>\
             <td class=\"n\">2</td><td class=\"n\"><span class=\"badge ok\">in sync</span></td>\
             <td class=\"n zero\">0</td><td class=\"n muted\" title=\"not looked for\">—</td></tr>",
            // Users in no file, where they were looked for.
            "<p class=\"note\">acme: 2 users in no file: dan, eve. Adopt them with \
             <code>workmail-reconcile export --skip-declared</code>, or remove them.</p>",
            "<h3>acme <span class=\"muted\">— 2 of 41 users drifted; this run did not write</span></h3>",
            "<td rowspan=\"2\"><strong>alice</strong><br><code class=\"muted\">a1b2c3d4-0000-0000-0000-000000000001</code>\
             <br><span class=\"badge warn\">not written</span></td>",
            "<td><code>title</code></td><td><code>&quot;Engineer&quot;</code></td><td>→</td>\
             <td><code>&quot;Senior Engineer&quot;</code></td>",
            "<td><code>telephone</code></td><td><code>(redacted hmac:2e72eb66)</code></td>",
            "<td rowspan=\"1\"><strong>bob</strong>",
            "<code>hidden_from_global_address_list</code></td><td><code>false</code></td>",
        ] {
            assert!(page.contains(wanted), "missing {wanted}\n{page}");
        }
        assert_eq!(page.matches("<tr><td><time>").count(), status.history.len());
        assert!(!page.contains("Suspended.</strong>"));
        assert!(!page.contains("not listed"));
    }

    #[test]
    fn status_page_says_what_the_run_corrected_beside_what_the_plan_found() {
        let mut status = sample();
        let acme = &mut status.drift[0];
        acme.users[0].outcome = Some(Correction::Updated);
        acme.users[1].outcome = Some(Correction::Updated);
        acme.recount();
        let page = render(&status);
        for wanted in [
            "<td class=\"n\"><span class=\"badge warn\">2</span></td><td class=\"n zero\">0</td>",
            "<h3>acme <span class=\"muted\">— 2 of 41 users drifted; this run corrected all of them</span></h3>",
            "<code class=\"muted\">a1b2c3d4-0000-0000-0000-000000000001</code><br><span class=\"badge ok\">corrected</span>",
        ] {
            assert!(page.contains(wanted), "missing {wanted}\n{page}");
        }
        assert!(!page.contains("not written"), "{page}");

        let acme = &mut status.drift[0];
        acme.users[1].outcome = Some(Correction::Conflict);
        acme.recount();
        assert_eq!(acme.users_still_differing, 1);
        let page = render(&status);
        assert!(
            page.contains("— 2 of 41 users drifted; this run corrected 1, 1 still differ</span>")
        );
        assert!(page.contains("<span class=\"badge bad\">conflict: still differs</span>"));
        assert!(page.contains("<td class=\"n\"><span class=\"badge warn\">1</span></td>"));

        // In observe mode nothing was written: every drifted user still differs.
        let page = render(&sample());
        assert!(page.contains("— 2 of 41 users drifted; this run did not write</span>"));
        assert_eq!(page.matches("<span class=\"badge warn\">not written</span>").count(), 2);
    }

    #[test]
    fn status_page_suspended_is_said_in_words_and_colour() {
        let mut status = sample();
        status.suspended = true;
        status.ready.reason = ReadyReason::Suspended;
        let page = render(&status);
        assert!(page.contains("<dt>Suspended</dt><dd><span class=\"badge warn\">yes</span></dd>"));
        assert!(page.contains(
            "<strong>Suspended.</strong> The source holds <code>.workmail-reconcile-suspend</code>"
        ));
        assert!(page.contains("<section class=\"condition warn\""));
    }

    #[test]
    fn status_page_escapes_every_value() {
        let hostile = "<script>alert(\"x\")</script>&'\u{1b}[2J\u{0}\u{85}\u{fffe}\r";
        // The apostrophe needs no entity: every attribute value is in double quotes.
        let escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;'\\u{001b}[2J\\u{0000}\\u{0085}\\u{fffe}\\u{000d}";
        let mut status = sample();
        status.ready.message = hostile.to_string();
        status.ready.since = hostile.to_string();
        status.revision.attempted = Some(hostile.to_string());
        status.revision.applied = Some(hostile.to_string());
        for run in &mut status.history {
            run.started = hostile.to_string();
            run.revision = Some(hostile.to_string());
        }
        status.last_run = status.history.front().cloned();
        let organization = &mut status.drift[0];
        organization.organization_id = hostile.to_string();
        organization.alias = Some(hostile.to_string());
        organization.unmanaged = Some(vec![hostile.to_string()]);
        organization.users[0].user = hostile.to_string();
        organization.users[0].user_id = hostile.to_string();
        for field in &mut organization.users[0].fields {
            field.field = hostile.to_string();
            field.before = hostile.to_string();
            field.after = hostile.to_string();
        }
        let page = render(&status);
        assert!(!page.contains("<script"), "{page}");
        // message, since, attempted, applied, last run's started; 3 × (started, revision in
        // the cell and in its title); organization id and alias in the summary, alias in the
        // heading; user, id, and 2 × (field, before, after); the alias and the name of the
        // user in no file.
        assert_eq!(page.matches(escaped).count(), 5 + 9 + 3 + 2 + 6 + 2, "{page}");
        // No value brings in a character an HTML document must not hold.
        assert!(!page.chars().any(forbidden_in_html), "{page:?}");
        // The tab and line feed of a multi-line value are kept, not escaped.
        assert_eq!(visible("a\tb\nc"), "a\tb\nc");
        assert_eq!(visible("\u{10ffff}\u{fdd0}é"), "\\u{10ffff}\\u{fdd0}é");
    }

    #[test]
    fn runs_show_their_start_to_the_second() {
        assert_eq!(to_the_second("2026-12-02T04:45:46.964Z"), "2026-12-02T04:45:46Z");
        assert_eq!(to_the_second("2026-12-02T04:45:46Z"), "2026-12-02T04:45:46Z");
        let mut status = sample();
        status.history[0].started = "2026-12-02T04:45:46.964Z".to_string();
        assert!(render(&status).contains("<tr><td><time>2026-12-02T04:45:46Z</time>"));
    }

    #[test]
    fn status_page_before_the_first_run() {
        let page = render(&starting());
        for wanted in [
            "<title>Not ready yet (Progressing) · workmail-reconcile controller</title>",
            "<span class=\"badge\">Not ready yet</span> <strong>Progressing</strong>",
            "<section class=\"condition info\"",
            "The first run has not finished.",
            "<dt>Revision attempted</dt><dd><span class=\"muted\">none read yet</span></dd>",
            "<dt>Revision applied</dt><dd><span class=\"muted\">none applied yet</span></dd>",
            "<dt>Last run</dt><dd><span class=\"muted\">none has finished yet</span></dd>",
            "<p class=\"muted\">No run has finished yet.</p>",
            "<p class=\"muted\">No plan has completed yet.</p>",
        ] {
            assert!(page.contains(wanted), "missing {wanted}\n{page}");
        }
        assert!(!page.contains("<table>"));
    }

    #[test]
    fn status_page_after_runs_that_never_completed_a_plan() {
        let mut status = starting();
        let failed = RunRecord {
            trigger: Trigger::Startup,
            started: "2025-05-02T10:00:01Z".to_string(),
            duration_seconds: 0.5,
            result: RunResult::Invalid,
            revision: Some("sha256:0123456789ab".to_string()),
            summary: RunSummary::default(),
        };
        status.history.push_front(failed.clone());
        status.last_run = Some(failed);
        status.ready.reason = ReadyReason::SourceInvalid;
        let page = render(&status);
        assert!(page.contains(
            "<p class=\"muted\">No organization to show: no run has completed a plan of one yet.</p>"
        ));
        assert!(page.contains("<span class=\"badge bad\">invalid</span>"));
        assert!(page.contains("<code title=\"sha256:0123456789ab\">sha256:0123456789ab</code>"));
        assert!(
            page.contains("<span class=\"badge\">Not ready</span> <strong>SourceInvalid</strong>")
        );
    }

    #[test]
    fn status_page_lists_at_most_a_hundred_users_per_organization() {
        let mut status = sample();
        let many: Vec<UserDrift> = (0..1000)
            .map(|i| {
                user(&format!("user-{i:04}"), &format!("id-{i}"), &[("city", "\"A\"", "\"B\"")])
            })
            .collect();
        status.drift[0].users = many.clone();
        status.drift[1].users = many[..USERS_SHOWN_PER_ORGANIZATION].to_vec();
        let page = render(&status);
        assert!(page.contains("<strong>user-0099</strong>"));
        assert!(!page.contains("<strong>user-0100</strong>"));
        assert_eq!(page.matches("<strong>user-").count(), 2 * USERS_SHOWN_PER_ORGANIZATION);
        // The summary table still counts all of them, and the cap is said once, where it cut.
        assert!(page.contains("<span class=\"badge warn\">1000</span>"));
        assert_eq!(
            page.matches("… and 900 more users not listed: this page lists the first 100 drifted users of each organization; <a href=\"status\">status</a> (JSON) lists them all.").count(),
            1
        );
        assert!(page.len() < 100 * 1024, "{} bytes", page.len());
    }

    #[test]
    fn status_page_colours_follow_the_condition() {
        let badge = |reason, ready| {
            let mut status = starting();
            status.ready.reason = reason;
            status.ready.status = ready;
            condition_badge(&status)
        };
        assert_eq!(badge(ReadyReason::ReconciliationSucceeded, true), ("Ready", "ok"));
        assert_eq!(badge(ReadyReason::DriftDetected, true), ("Ready", "warn"));
        assert_eq!(badge(ReadyReason::Suspended, true), ("Ready", "warn"));
        assert_eq!(badge(ReadyReason::Progressing, false), ("Not ready yet", "info"));
        for reason in
            [ReadyReason::UnsafePlan, ReadyReason::SourceInvalid, ReadyReason::ReconciliationFailed]
        {
            assert_eq!(badge(reason, false), ("Not ready", "bad"));
        }
        assert_eq!(
            result_badge(RunResult::Blocked).into_string(),
            "<span class=\"badge bad\">blocked</span>"
        );
        assert_eq!(
            result_badge(RunResult::Invalid).into_string(),
            "<span class=\"badge bad\">invalid</span>"
        );
    }

    #[test]
    fn status_page_durations_read_at_a_glance() {
        assert_eq!(duration(0.0421), "0.042 s");
        assert_eq!(short_revision("4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39"), "4f2a9c1e8b7d");
        assert_eq!(short_revision("sha256:0123456789ab"), "sha256:0123456789ab");
        assert_eq!(short_revision("4f2a9c1"), "4f2a9c1");
        assert_eq!(duration(12.34), "12.3 s");
        assert_eq!(duration(125.4), "2 min 5 s");
        assert_eq!(duration(f64::NAN), "–");
        assert_eq!(duration(-1.0), "–");
    }

    #[test]
    fn status_page_lists_ten_names_in_no_file_and_a_user_without_fields() {
        let mut status = sample();
        let names: Vec<String> = (0..12).map(|i| format!("u{i}")).collect();
        status.drift[0].unmanaged = Some(names);
        status.drift[0].users[1].fields.clear();
        let page = render(&status);
        assert!(
            page.contains(
                "<p class=\"note\">acme: 12 users in no file: u0, u1, u2, u3, u4, u5, u6, u7, \
                 u8, u9 and 2 more. Adopt them with"
            ),
            "{page}"
        );
        assert!(
            page.contains(
                "<br><span class=\"badge warn\">not written</span></td><td colspan=\"4\" \
                 class=\"muted\">no field listed</td></tr>\n"
            ),
            "{page}"
        );
        assert!(page.contains("<td rowspan=\"1\"><strong>bob</strong>"), "{page}");
    }
}
