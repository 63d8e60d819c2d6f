//! One integration-test crate: the real binary and the real aws-sdk-workmail client against the
//! project's emulator.

mod apply;
mod cli;
mod controller;
mod directory_mailbox;
mod docs;
mod duplicates;
mod emulator;
mod emulator_mailbox;
mod export;
mod export_mailbox;
mod export_routing;
mod hostile_text;
mod http_client;
mod input;
mod layers;
mod mailbox_apply;
mod mailbox_plan;
mod network;
mod plan;
mod prometheus;
mod promtool;
mod recipes;
mod reconcile;
mod redaction;
mod release;
mod self_contained;
mod support;
mod unmanaged;
mod validate;
mod written_files;
