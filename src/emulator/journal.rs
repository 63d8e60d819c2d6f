//! The request journal and counters: what tests assert API traffic against.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::SystemTime;

/// One API request as the emulator saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// The operation named by `X-Amz-Target` without its `WorkMailService.` prefix (the raw target
    /// when it has another prefix, `""` when the header is missing).
    pub operation: String,
    /// The request body as JSON; a body that is not JSON is kept as a JSON string.
    pub input: serde_json::Value,
    /// How the request ended.
    pub outcome: JournalOutcome,
    /// When the request arrived (before injected latency); epoch seconds in JSON.
    #[serde(with = "epoch_seconds")]
    pub at: SystemTime,
}

/// How a request ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JournalOutcome {
    /// Answered 200.
    Ok,
    /// Answered with a modeled error (400), e.g. `EntityNotFoundException`.
    Error {
        /// The `__type` of the answer.
        code: String,
    },
    /// Answered `ThrottlingException` by the rate cap or a random throttle.
    Throttled,
    /// Answered with an injected 5xx.
    ServerError {
        /// 500 or 503.
        status: u16,
    },
    /// The connection was closed without an answer.
    Dropped {
        /// Whether the operation ran and changed state before the drop.
        applied: bool,
    },
    /// Refused with 403: missing or bad signature, unknown key, wrong scope.
    SignatureRejected,
}

/// Totals since start or the last [`clear`](super::Emulator::clear_journal).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Requests per operation name, whatever their outcome.
    pub calls: BTreeMap<String, u64>,
    /// Requests answered `ThrottlingException` by fault injection.
    pub throttled: u64,
    /// Requests answered with any error: modeled errors, injected 5xx and signature rejections.
    pub failed: u64,
    /// Connections dropped without an answer.
    pub dropped: u64,
}

/// What the journal shows of a password (CreateUser, ResetPassword): the journal is served to
/// anyone who can reach the emulator, and a test's password is still a credential.
const WITHHELD: &str = "(withheld)";

fn withhold_passwords(input: &mut serde_json::Value) {
    if let Some(members) = input.as_object_mut() {
        for (name, value) in members.iter_mut() {
            if name.ends_with("Password") && value.is_string() {
                *value = serde_json::Value::from(WITHHELD);
            }
        }
    }
}

/// Entries in arrival order of their outcome, with running counters.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    entries: Vec<JournalEntry>,
    counters: Counters,
}

impl Journal {
    pub(crate) fn record(&mut self, mut entry: JournalEntry) {
        withhold_passwords(&mut entry.input);
        *self.counters.calls.entry(entry.operation.clone()).or_default() += 1;
        match entry.outcome {
            JournalOutcome::Ok => {}
            JournalOutcome::Throttled => self.counters.throttled += 1,
            JournalOutcome::Dropped { .. } => self.counters.dropped += 1,
            JournalOutcome::Error { .. }
            | JournalOutcome::ServerError { .. }
            | JournalOutcome::SignatureRejected => self.counters.failed += 1,
        }
        self.entries.push(entry);
    }

    pub(crate) fn entries(&self) -> &[JournalEntry] {
        &self.entries
    }

    pub(crate) fn counters(&self) -> &Counters {
        &self.counters
    }

    pub(crate) fn clear(&mut self) {
        *self = Journal::default();
    }
}

/// `SystemTime` as fractional epoch seconds, the way the API itself writes timestamps.
pub(crate) mod epoch_seconds {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    pub(crate) fn to_f64(t: SystemTime) -> f64 {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_secs_f64(),
            Err(e) => -e.duration().as_secs_f64(),
        }
    }

    pub(crate) fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(to_f64(*t))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        let secs = f64::deserialize(d)?;
        let magnitude =
            Duration::try_from_secs_f64(secs.abs()).map_err(serde::de::Error::custom)?;
        let t = if secs >= 0.0 {
            UNIX_EPOCH.checked_add(magnitude)
        } else {
            UNIX_EPOCH.checked_sub(magnitude)
        };
        t.ok_or_else(|| serde::de::Error::custom("timestamp out of range"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_withheld_from_the_journal() {
        let mut journal = Journal::default();
        journal.record(JournalEntry {
            operation: "CreateUser".into(),
            input: serde_json::json!({"Name": "dan", "Password": "hunter2!A", "DisplayName": "D"}),
            outcome: JournalOutcome::Ok,
            at: SystemTime::UNIX_EPOCH,
        });
        assert_eq!(
            journal.entries()[0].input,
            serde_json::json!({"Name": "dan", "Password": "(withheld)", "DisplayName": "D"})
        );
    }

    #[test]
    fn counters_follow_outcomes_and_entries_round_trip_through_json() {
        let mut journal = Journal::default();
        let outcomes = [
            JournalOutcome::Ok,
            JournalOutcome::Throttled,
            JournalOutcome::Error { code: "EntityNotFoundException".into() },
            JournalOutcome::ServerError { status: 503 },
            JournalOutcome::Dropped { applied: true },
            JournalOutcome::SignatureRejected,
        ];
        for outcome in outcomes {
            journal.record(JournalEntry {
                operation: "DescribeUser".into(),
                input: serde_json::json!({"UserId": "alice"}),
                outcome,
                at: SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1500),
            });
        }
        let c = journal.counters();
        assert_eq!((c.calls["DescribeUser"], c.throttled, c.failed, c.dropped), (6, 1, 3, 1));
        let json = serde_json::to_value(journal.entries()).unwrap();
        assert_eq!(json[4]["outcome"], serde_json::json!({"kind": "dropped", "applied": true}));
        assert_eq!(json[0]["at"], serde_json::json!(1.5));
        let back: Vec<JournalEntry> = serde_json::from_value(json).unwrap();
        assert_eq!(back, journal.entries());
        journal.clear();
        assert!(journal.entries().is_empty());
        assert_eq!(journal.counters(), &Counters::default());
    }
}
