//! Pure planning: desired + observed → [`Plan`]. No I/O, no async.

mod diff;
mod model;
mod observation;
mod saved;

pub use diff::{diff, field_changes};
pub use model::{
    FieldChange, Plan, PlanError, PlannedOrganization, Summary, UnchangedUser, UserChange,
};
pub use observation::{Observation, ObservedOrganization, ResolvedOrganization, UserObservation};
pub use saved::{SavedPlan, SavedPlanError, write_json as write_saved_plan_json};
