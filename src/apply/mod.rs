//! Execute a plan: per user a fresh read, a compare-and-swap check of every planned field, and
//! one UpdateUser carrying the full dataset; safety limits before anything is written; outcomes
//! and the audit log.

mod audit;
mod dataset;
mod execute;
mod mailbox_steps;
mod outcome;
mod safety;

pub(crate) use audit::AuditLog;
pub(crate) use execute::apply_plan;
#[cfg(test)]
pub(crate) use outcome::FieldConflict;
pub use outcome::Outcome;
pub(crate) use outcome::{ApplyReport, UserOutcome};
pub(crate) use safety::check_safety;
pub use safety::{SafetyLimits, SafetyRefusal};
