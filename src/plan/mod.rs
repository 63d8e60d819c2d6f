//! Pure planning: desired + observed → [`Plan`]. No I/O, no async.

mod change_document;
mod comparison;
pub(crate) mod diff;
pub(crate) mod mailbox;
mod model;
mod saved;

pub(crate) use comparison::{ComparedOrganization, ComparedUser, Comparison, ReadError};
pub(crate) use diff::diff;
pub use mailbox::{ListChange, MailboxChange, QuotaChange};
pub use model::Plan;
pub(crate) use model::{
    FORMAT_VERSION, FieldChange, PlanError, Summary, UnmanagedUser, UserChange,
};
#[cfg(test)]
pub(crate) use model::{PlannedOrganization, UnchangedUser};
pub use saved::SavedPlan;
pub(crate) use saved::write_json as write_saved_plan_json;
