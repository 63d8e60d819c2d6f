//! The WorkMail operations the tool uses, as a small trait, and its aws-sdk-workmail implementation.

mod observed;

pub use observed::{ListedUser, ObservedUser, OrganizationSummary, UserState};
