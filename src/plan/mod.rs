//! Pure planning: desired + observed → [`Plan`]. No I/O, no async.

mod model;

pub use model::{
    FieldChange, Plan, PlanError, PlannedOrganization, Summary, UnchangedUser, UserChange,
};
