//! workmail-reconcile: keep Amazon WorkMail user attributes equal to YAML files kept in git.
//!
//! Data flows one way: [`spec`] loads the files, [`directory`] reads the live users (as the
//! plain values of [`live`]), [`plan`] computes the difference, [`render`] shows it and
//! [`apply`] executes it. [`reconcile`] is one run of all of these as a library call, which the
//! commands in [`cli`] drive. [`emulator`] is an in-memory WorkMail server for tests, the demo
//! and dry runs.

mod accept;
pub mod apply;
pub mod attr_map;
pub mod attrs;
pub mod bounded_read;
pub mod cli;
pub mod controller;
pub mod directory;
pub mod emulator;
pub mod export;
pub mod live;
pub mod plan;
mod printable;
pub mod rate_cap;
pub mod reconcile;
pub mod render;
pub mod spec;
mod wording;
