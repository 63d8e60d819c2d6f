//! `--audit-log FILE`: one JSON line per attempted user, appended. Field names only, never
//! values: attribute values are personal data.

use super::outcome::{Outcome, UserOutcome};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::SystemTime;

/// An append-only audit log.
#[derive(Debug)]
pub struct AuditLog {
    file: Mutex<File>,
}

impl AuditLog {
    /// Open (create or append to) the log.
    pub fn open(path: &Path) -> std::io::Result<AuditLog> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(AuditLog { file: Mutex::new(file) })
    }

    /// Append one line for `user`; each line is written with one call so lines never interleave.
    pub fn record(&self, user: &UserOutcome) -> std::io::Result<()> {
        let (fields, reason): (Vec<&str>, Option<&str>) = match &user.outcome {
            Outcome::Updated { fields } => (fields.iter().map(|f| f.key()).collect(), None),
            Outcome::Unchanged => (Vec::new(), None),
            Outcome::Conflict { fields } => (fields.iter().map(|f| f.field.key()).collect(), None),
            Outcome::Failed { reason } => (Vec::new(), Some(reason)),
            Outcome::NotAttempted => (Vec::new(), None),
        };
        let line = serde_json::json!({
            "time": humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
            "organization_id": user.organization_id,
            "user": user.user,
            "user_id": user.user_id,
            "fields": fields,
            "outcome": user.outcome.name(),
            "reason": reason,
        });
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        file.write_all(format!("{line}\n").as_bytes())
    }
}
