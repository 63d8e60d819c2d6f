//! One integration-test crate: the real binary and the real aws-sdk-workmail client against the
//! project's emulator.

mod emulator;
mod support;
