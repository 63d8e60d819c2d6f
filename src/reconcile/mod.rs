//! One reconciliation as a library call: load the files and select users, resolve
//! organizations, observe, diff, check the safety limits, apply, report. Generic over
//! [`Directory`]; no printing, prompts or process exits.
//!
//! The steps are separate calls so that a caller can stop between them: the CLI shows the plan
//! and asks before applying; a controller plans, guards, and applies what the limits allow.
//! [`Reconciler::reconcile`] runs them all at once.

mod event;
mod load;
mod observe;
pub(crate) mod observe_mailbox;
mod reconciler;
mod resolve;
mod run;
mod selection;
mod unmanaged;

pub use event::Event;
pub(crate) use load::load_observed;
pub use load::{DesiredStateError, load, validate};
pub use reconciler::{ApplyOptions, Reconciler};
pub(crate) use resolve::resolve_organizations;
pub(crate) use run::PlannedRun;
pub use run::RunError;
pub use selection::{Selection, SelectionError};
pub use unmanaged::UnmanagedPolicy;
pub(crate) use unmanaged::{DeclaredKeys, list_undeclared};

// The engine's door: what its callers (the CLI and the controller) need of the parts below it,
// so that they import the engine and never reach past it (tests/it/layers.rs holds them to it).
pub(crate) use crate::apply::{
    ApplyReport, AuditLog, Outcome, SafetyLimits, SafetyRefusal, UserOutcome,
};
pub(crate) use crate::directory::{
    AttemptAnswer, AttemptObserver, ClientOptions, ConnectionFailure, ConnectionFailureKind,
    Directory, DirectoryError, Limiter, OPERATIONS, SdkDirectory, Timeouts, UpdateRequest,
    build_sdk_config, check_endpoint_url, check_region,
};
// The mailbox calls a wrapping directory passes on unchanged (the controller's, for one).
pub(crate) use crate::forward_mailbox_calls;
pub(crate) use crate::plan::{Plan, SavedPlan, write_saved_plan_json};
pub(crate) use crate::spec::{
    DesiredState, InvalidOrganization, LoadError, LoadErrors, MAX_FILE_BYTES, OrganizationRef,
    json_schema_text, list_files, walk_reads,
};
