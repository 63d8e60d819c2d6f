//! The long-running form of scheduled drift correction: one reconciliation at a time, forever,
//! over the [`reconcile`](crate::reconcile) engine, with revisions of a source directory, modes,
//! timers, triggers, signals, and HTTP endpoints for probes, metrics and people.

mod status;
mod status_page;

pub use status::{
    FieldDrift, HISTORY_LENGTH, Mode, OrganizationDrift, Ready, ReadyReason, Revisions, RunRecord,
    RunResult, RunSummary, Status, Trigger, UserDrift,
};
pub use status_page::{USERS_SHOWN_PER_ORGANIZATION, render as render_status_page};
