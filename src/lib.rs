//! workmail-reconcile: keep Amazon WorkMail user attributes equal to YAML files kept in git.
//!
//! Data flows one way: [`spec`] loads the files, [`directory`] observes the live users,
//! [`plan`] computes the difference, [`render`] shows it and [`apply`] executes it.
//! [`emulator`] is an in-memory WorkMail server for tests, the demo and dry runs.

pub mod apply;
pub mod attr_map;
pub mod attrs;
pub mod bounded_read;
pub mod cli;
pub mod directory;
pub mod emulator;
pub mod export;
pub mod observe;
pub mod plan;
pub mod render;
pub mod spec;
