//! The desired-state file format (SPEC §1): model, loading, validation and JSON Schema.
//! All YAML parsing lives below this module.

mod model;

pub use model::{
    DesiredOrganization, DesiredState, DesiredUser, DesiredValue, OrganizationRef, SourceLocation,
};
