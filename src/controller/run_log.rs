//! The one log line of each run, at info level: revision, trigger, result, counts, duration and
//! the time of the next run. No attribute values (those appear only at debug level).

use super::context::RunConclusion;
use super::status::RunResult;
use std::time::{Duration, SystemTime};

/// Log `report`, the next run being due after `wait`.
pub(crate) fn log_run(report: &RunConclusion, wait: Duration) {
    let run = &report.record;
    let next_run = humantime::format_rfc3339_seconds(SystemTime::now() + wait).to_string();
    let s = run.summary;
    macro_rules! line {
        ($level:ident) => {
            tracing::$level!(
                revision = run.revision.as_deref().unwrap_or("none"),
                trigger = run.trigger.as_str(),
                result = run.result.as_str(),
                users = s.users,
                to_update = s.to_update,
                unchanged = s.unchanged,
                errors = s.errors,
                updated = s.updated,
                conflicts = s.conflicts,
                failed = s.failed,
                duration_seconds = (run.duration_seconds * 1000.0).round() / 1000.0,
                next_run = next_run.as_str(),
                "run {}: {}",
                run.result.as_str(),
                report.message
            )
        };
    }
    match run.result {
        RunResult::Success | RunResult::Drift => line!(info),
        RunResult::Blocked | RunResult::Invalid | RunResult::Failure => line!(warn),
    }
}
