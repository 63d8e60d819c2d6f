//! Execute a plan: per user a fresh read, a compare-and-swap check of every planned field, and
//! one UpdateUser carrying the full dataset; safety limits before anything is written; outcomes
//! and the audit log.

mod audit;
mod dataset;
mod execute;
mod outcome;
mod safety;

pub use audit::AuditLog;
pub use dataset::full_dataset;
pub use execute::{apply_change, apply_plan};
pub use outcome::{ApplyReport, FieldConflict, Outcome, UserOutcome};
pub use safety::{SafetyLimits, SafetyRefusal, check_safety};
