//! Pure planning: desired + observed → [`Plan`]. No I/O, no async.

mod comparison;
mod diff;
mod model;
mod saved;

pub use comparison::{ComparedOrganization, ComparedUser, Comparison, ReadError};
pub use diff::{diff, field_changes};
pub use model::{
    FORMAT_VERSION, FieldChange, Plan, PlanError, PlannedOrganization, Summary, UnchangedUser,
    UnmanagedUser, UserChange,
};
pub use saved::{SavedPlan, SavedPlanError, write_json as write_saved_plan_json};
