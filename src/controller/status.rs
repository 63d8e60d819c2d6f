//! What the controller tells the world about itself: the `/status` document, the status page
//! and the readiness probe all read this one value. Only the loop writes it.

use serde::Serialize;
use std::collections::VecDeque;

/// How many runs `history` keeps, newest first.
pub(crate) const HISTORY_LENGTH: usize = 10;

/// What a run may do to the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Plan and report; never write.
    Observe,
    /// Apply when the revision differs from the last one applied successfully.
    ApplyOnChange,
    /// Apply on every run.
    SelfHeal,
}

/// Why a run started. A run started by coalesced triggers carries the first explicit one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Trigger {
    /// The first run after start.
    Startup,
    /// The interval elapsed.
    Interval,
    /// The source has a new revision.
    Source,
    /// A signed `POST /trigger`.
    Webhook,
    /// SIGHUP.
    Signal,
    /// The retry after a failed run.
    Retry,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RunResult {
    /// Planned, and applied where the mode allows, with no failure.
    Success,
    /// The run did not write (observe, suspended, or a revision already applied) and the plan
    /// has changes.
    Drift,
    /// The plan is over the safety limit; nothing was written.
    Blocked,
    /// The source failed validation; nothing was written.
    Invalid,
    /// An API failure ended the run early, or a user failed or conflicted.
    Failure,
}

/// The reason of the Ready condition, as Flux names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) enum ReadyReason {
    ReconciliationSucceeded,
    DriftDetected,
    UnsafePlan,
    SourceInvalid,
    ReconciliationFailed,
    Suspended,
    /// Before the first run ends.
    Progressing,
}

impl ReadyReason {
    /// Whether the controller counts as ready with this reason.
    fn is_ready(self) -> bool {
        matches!(
            self,
            ReadyReason::ReconciliationSucceeded
                | ReadyReason::DriftDetected
                | ReadyReason::Suspended
        )
    }
}

/// The Ready condition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Ready {
    /// `reason.is_ready()`.
    pub status: bool,
    pub reason: ReadyReason,
    /// One sentence for people (no attribute values).
    pub message: String,
    /// When the condition last changed, RFC 3339.
    pub since: String,
}

/// The revisions the controller has seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Revisions {
    /// The revision the last run read, valid or not.
    pub attempted: Option<String>,
    /// The last revision a run applied without a failure.
    pub applied: Option<String>,
}

/// The counts of one run: the plan's and the apply's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct RunSummary {
    pub users: usize,
    pub to_update: usize,
    pub unchanged: usize,
    pub errors: usize,
    pub updated: usize,
    pub conflicts: usize,
    pub failed: usize,
}

/// One finished run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct RunRecord {
    pub trigger: Trigger,
    /// RFC 3339.
    pub started: String,
    pub duration_seconds: f64,
    pub result: RunResult,
    /// The revision the run read (absent when the source could not be read at all).
    pub revision: Option<String>,
    pub summary: RunSummary,
}

/// One changed field of a drifted user. `before` and `after` are already redacted as the
/// controller's redaction flags ask, and held as people read them (the status page shows
/// them so): a string JSON-quoted, a boolean bare, a redaction marker bare. `/status` carries
/// the values themselves, see [`shown_as_json`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct FieldDrift {
    /// The YAML key of the attribute.
    pub field: String,
    #[serde(serialize_with = "shown_as_json")]
    pub before: String,
    #[serde(serialize_with = "shown_as_json")]
    pub after: String,
}

/// What the run's apply did with a user the plan found drifted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Correction {
    /// UpdateUser wrote the files' values.
    Updated,
    /// The fresh read before writing found the files' values already there.
    Unchanged,
    /// A planned field changed live since the plan; the user was skipped.
    Conflict,
    /// The read or the update failed.
    Failed,
    /// The run stopped before this user.
    NotAttempted,
}

impl Correction {
    /// Whether the user equals the files after the run.
    pub(crate) fn converged(self) -> bool {
        matches!(self, Correction::Updated | Correction::Unchanged)
    }
}

/// A value as shown (`"Alice"`, `true`, `(redacted hmac:…)`) as the JSON value it stands
/// for: the string `Alice`, the boolean `true`, the marker as a string. Exact, since a string
/// is shown as its JSON encoding and a marker is not JSON.
fn shown_as_json<S: serde::Serializer>(shown: &str, serializer: S) -> Result<S::Ok, S::Error> {
    match serde_json::from_str::<serde_json::Value>(shown) {
        Ok(serde_json::Value::String(text)) => serializer.serialize_str(&text),
        Ok(serde_json::Value::Bool(flag)) => serializer.serialize_bool(flag),
        _ => serializer.serialize_str(shown),
    }
}

/// One user whose live attributes differed from the files when the run planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct UserDrift {
    /// The key the files declare it under.
    pub user: String,
    pub user_id: String,
    pub fields: Vec<FieldDrift>,
    /// What the run did about it; `None` when the run did not write (observe, suspended, a
    /// revision already applied, a blocked plan).
    pub outcome: Option<Correction>,
}

impl UserDrift {
    /// Whether the user still differs from the files after the run.
    pub(crate) fn still_differs(&self) -> bool {
        !self.outcome.is_some_and(Correction::converged)
    }
}

/// The drift of one organization: what the last plan found, and what the run did about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct OrganizationDrift {
    pub organization_id: String,
    pub alias: Option<String>,
    /// Users the files declare in this organization.
    pub desired_users: usize,
    /// Live users of the organization whom no file declares, by name, sorted; `None` when they
    /// were not looked for (`--unmanaged ignore`, `--target`).
    pub unmanaged: Option<Vec<String>>,
    /// Users of `users` that still differ from the files after the run: all of them when the
    /// run did not write, none after an apply that corrected every one.
    pub users_still_differing: usize,
    /// Every user the plan found with changes, before any apply.
    pub users: Vec<UserDrift>,
}

impl OrganizationDrift {
    /// Count again the users that still differ, after their outcomes were recorded.
    pub(crate) fn recount(&mut self) {
        self.users_still_differing = self.users.iter().filter(|u| u.still_differs()).count();
    }
}

/// Everything `/status` and the status page show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Status {
    pub mode: Mode,
    /// The source holds the suspend file: runs plan and report but never write.
    pub suspended: bool,
    pub ready: Ready,
    pub revision: Revisions,
    pub last_run: Option<RunRecord>,
    /// The last [`HISTORY_LENGTH`] runs, newest first (`last_run` is the first).
    pub history: VecDeque<RunRecord>,
    /// The drift of the last run that completed a plan, per organization: what the plan
    /// found and what the run corrected.
    pub drift: Vec<OrganizationDrift>,
}

impl Mode {
    /// The name on the command line, in `/status` and in metrics (`apply-on-change`).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Mode::Observe => "observe",
            Mode::ApplyOnChange => "apply-on-change",
            Mode::SelfHeal => "self-heal",
        }
    }
}

impl Trigger {
    /// Every trigger, in the order metrics list them.
    pub(crate) const ALL: [Trigger; 6] = [
        Trigger::Startup,
        Trigger::Interval,
        Trigger::Source,
        Trigger::Webhook,
        Trigger::Signal,
        Trigger::Retry,
    ];

    /// The name in `/status`, logs and metrics (`startup`).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Trigger::Startup => "startup",
            Trigger::Interval => "interval",
            Trigger::Source => "source",
            Trigger::Webhook => "webhook",
            Trigger::Signal => "signal",
            Trigger::Retry => "retry",
        }
    }

    /// Whether something outside the schedule asked for the run: a new revision, a webhook or
    /// a signal. Coalesced triggers keep the first explicit one.
    pub(crate) fn is_explicit(self) -> bool {
        matches!(self, Trigger::Source | Trigger::Webhook | Trigger::Signal)
    }
}

impl RunResult {
    /// Every result, in the order metrics list them.
    pub(crate) const ALL: [RunResult; 5] = [
        RunResult::Success,
        RunResult::Drift,
        RunResult::Blocked,
        RunResult::Invalid,
        RunResult::Failure,
    ];

    /// The name in `/status`, logs and metrics (`success`).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RunResult::Success => "success",
            RunResult::Drift => "drift",
            RunResult::Blocked => "blocked",
            RunResult::Invalid => "invalid",
            RunResult::Failure => "failure",
        }
    }
}

impl Status {
    /// The status before the first run ends: not ready, `Progressing` since `now` (RFC 3339).
    pub(crate) fn starting(mode: Mode, now: &str) -> Status {
        Status {
            mode,
            suspended: false,
            ready: Ready {
                status: false,
                reason: ReadyReason::Progressing,
                message: "the first run has not ended yet".to_string(),
                since: now.to_string(),
            },
            revision: Revisions::default(),
            last_run: None,
            history: VecDeque::new(),
            drift: Vec::new(),
        }
    }

    /// Record a finished run: it becomes `last_run` and the head of `history` (which keeps
    /// [`HISTORY_LENGTH`] runs), `revision.attempted` becomes its revision, and the Ready
    /// condition takes `reason` and `message`; `since` moves to the run's end (`now`) only
    /// when the condition's status or reason changes.
    pub(crate) fn record(
        &mut self,
        run: RunRecord,
        reason: ReadyReason,
        message: String,
        now: &str,
    ) {
        if self.ready.reason != reason {
            self.ready.since = now.to_string();
        }
        self.ready.status = reason.is_ready();
        self.ready.reason = reason;
        self.ready.message = message;
        self.revision.attempted.clone_from(&run.revision);
        self.history.push_front(run.clone());
        self.history.truncate(HISTORY_LENGTH);
        self.last_run = Some(run);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(result: RunResult, revision: &str) -> RunRecord {
        RunRecord {
            trigger: Trigger::Interval,
            started: "2025-01-01T00:00:00Z".into(),
            duration_seconds: 1.5,
            result,
            revision: Some(revision.into()),
            summary: RunSummary::default(),
        }
    }

    #[test]
    fn names_are_the_serialized_names() {
        for mode in [Mode::Observe, Mode::ApplyOnChange, Mode::SelfHeal] {
            assert_eq!(serde_json::to_value(mode).ok(), Some(mode.as_str().into()));
        }
        for trigger in Trigger::ALL {
            assert_eq!(serde_json::to_value(trigger).ok(), Some(trigger.as_str().into()));
        }
        for result in RunResult::ALL {
            assert_eq!(serde_json::to_value(result).ok(), Some(result.as_str().into()));
        }
        let corrections = [
            Correction::Updated,
            Correction::Unchanged,
            Correction::Conflict,
            Correction::Failed,
            Correction::NotAttempted,
        ];
        let names: Vec<String> =
            corrections.iter().map(|c| serde_json::to_value(c).unwrap().to_string()).collect();
        assert_eq!(
            names,
            ["\"updated\"", "\"unchanged\"", "\"conflict\"", "\"failed\"", "\"not-attempted\""]
        );
        let converged: Vec<bool> = corrections.iter().map(|c| c.converged()).collect();
        assert_eq!(converged, [true, true, false, false, false]);
    }

    #[test]
    fn drift_values_are_json_values_not_their_display() {
        let field = |before: &str, after: &str| FieldDrift {
            field: "display_name".into(),
            before: before.into(),
            after: after.into(),
        };
        let json = |f: FieldDrift| serde_json::to_value(f).expect("JSON");
        assert_eq!(
            json(field("\"Alice L\"", "\"\"")),
            serde_json::json!({"field": "display_name", "before": "Alice L", "after": ""})
        );
        // Text that looks like something else stays text; booleans are booleans.
        assert_eq!(json(field("\"true\"", "true"))["before"], "true");
        assert_eq!(json(field("\"true\"", "true"))["after"], true);
        assert_eq!(json(field("\"say \\\"hi\\\"\"", "false"))["before"], "say \"hi\"");
        let marker = "(redacted hmac:0123abcd)";
        assert_eq!(json(field(marker, marker))["before"], marker);
    }

    #[test]
    fn history_keeps_the_last_ten_newest_first_and_since_moves_on_a_new_reason() {
        let mut status = Status::starting(Mode::SelfHeal, "t0");
        assert!(!status.ready.status);
        for i in 0..12 {
            status.record(
                run(RunResult::Success, &format!("r{i}")),
                ReadyReason::ReconciliationSucceeded,
                "ok".into(),
                &format!("t{}", i + 1),
            );
        }
        assert_eq!(status.history.len(), HISTORY_LENGTH);
        assert_eq!(status.history[0].revision.as_deref(), Some("r11"));
        assert_eq!(status.history[9].revision.as_deref(), Some("r2"));
        assert_eq!(status.last_run.as_ref(), status.history.front());
        assert_eq!(status.revision.attempted.as_deref(), Some("r11"));
        // Ready since the first success, not since the last one.
        assert_eq!((status.ready.status, status.ready.since.as_str()), (true, "t1"));
        status.record(run(RunResult::Blocked, "r12"), ReadyReason::UnsafePlan, "x".into(), "t13");
        assert_eq!((status.ready.status, status.ready.since.as_str()), (false, "t13"));
    }
}
