//! `--audit-log FILE`: one JSON line per attempted user, appended. Field names only, never
//! values: attribute values are personal data.

use super::outcome::{Outcome, UserOutcome};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// An append-only audit log.
#[derive(Debug)]
pub struct AuditLog {
    file: Arc<Mutex<File>>,
    /// The source revision each line names, for a controller's runs.
    revision: Option<String>,
}

impl AuditLog {
    /// Open (create or append to) the log.
    pub(crate) fn open(path: &Path) -> std::io::Result<AuditLog> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(AuditLog { file: Arc::new(Mutex::new(file)), revision: None })
    }

    /// The same log, each line naming `revision` (a `"revision"` key) from now on.
    pub(crate) fn for_revision(&self, revision: &str) -> AuditLog {
        AuditLog { file: Arc::clone(&self.file), revision: Some(revision.to_string()) }
    }

    /// Append one line for `user`; each line is written with one call so lines never interleave.
    pub(crate) fn record(&self, user: &UserOutcome) -> std::io::Result<()> {
        let (fields, reason): (Vec<&str>, Option<&str>) = match &user.outcome {
            Outcome::Updated { fields } => (fields.clone(), None),
            Outcome::Unchanged => (Vec::new(), None),
            Outcome::Conflict { fields } => (fields.iter().map(|f| f.field).collect(), None),
            Outcome::Failed { reason } => (Vec::new(), Some(reason)),
            Outcome::NotAttempted => (Vec::new(), None),
        };
        let mut line = serde_json::json!({
            "time": humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
            "organization_id": user.organization_id,
            "user": user.user,
            "user_id": user.user_id,
            "fields": fields,
            "outcome": user.outcome.name(),
            "reason": reason,
        });
        if let (Some(revision), Some(object)) = (&self.revision, line.as_object_mut()) {
            object.insert("revision".into(), revision.as_str().into());
        }
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        file.write_all(format!("{line}\n").as_bytes())
    }
}
