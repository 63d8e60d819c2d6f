//! workmail-reconcile: keep Amazon WorkMail user attributes equal to YAML files kept in git.
//!
//! Data flows one way: [`spec`] loads the files, [`directory`] reads the live users (as the
//! plain values of [`model::live`]), [`plan`] computes the difference, [`render`] shows it and
//! [`apply`] executes it. [`reconcile`] is one run of all of these as a library call, which the
//! commands in [`cli`] and the [`controller`] drive. [`emulator`] is an in-memory WorkMail server
//! for tests, the demo and dry runs. [`model`] is the vocabulary they all speak, `redaction`
//! the privacy policy of every value shown, and `http` the accept loop both servers use.

pub mod apply;
pub mod cli;
pub mod controller;
pub mod directory;
pub mod emulator;
pub mod export;
mod http;
pub mod model;
pub mod plan;
pub mod reconcile;
pub(crate) mod redaction;
pub mod render;
pub mod spec;
