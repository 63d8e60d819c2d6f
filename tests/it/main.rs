//! One integration-test crate: the real binary and the real aws-sdk-workmail client against the
//! project's emulator.

mod apply;
mod docs;
mod emulator;
mod export;
mod plan;
mod recipes;
mod release;
mod support;
mod validate;
