//! Flags that every command accepts.

use super::values;
use crate::model::rate_cap::RateCap;
use clap::{Args, ValueEnum};
use std::time::Duration;

/// When to color output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Global flags (docs/commands.md#global-flags).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile, then the instance
    /// metadata; with an endpoint URL, us-east-1 instead of the metadata).
    #[arg(long, global = true, value_parser = values::region)]
    pub region: Option<String>,
    /// AWS shared-config profile.
    #[arg(long, global = true, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// WorkMail endpoint URL (also AWS_ENDPOINT_URL_WORKMAIL / AWS_ENDPOINT_URL).
    #[arg(long, global = true, value_name = "URL", value_parser = values::endpoint_url)]
    pub endpoint_url: Option<String>,
    /// Abandon and retry an attempt that gets no answer within this time (10ms to 1h, e.g.
    /// 500ms, 20s).
    #[arg(long, global = true, value_name = "DURATION", default_value = "20s", value_parser = values::timeout)]
    pub attempt_timeout: Duration,
    /// Give a call up, retries included, after this time (10ms to 1h); the first call to give
    /// up without an answer stops the run. Attempts are cut to it when it is shorter.
    #[arg(long, global = true, value_name = "DURATION", default_value = "90s", value_parser = values::timeout)]
    pub operation_timeout: Duration,
    /// Requests in flight at most, from 1 to 256; the request rate itself adapts to throttling.
    #[arg(
        long,
        global = true,
        value_name = "N",
        default_value_t = 10,
        value_parser = values::concurrency,
        allow_negative_numbers = true
    )]
    pub concurrency: u32,
    /// Requests per second at most, from 0.1 to 100000 (default: no cap).
    #[arg(long, global = true, value_name = "R", allow_negative_numbers = true)]
    pub max_rps: Option<RateCap>,
    /// Log format on stderr; json also writes errors as JSON lines.
    #[arg(long, global = true, value_enum, default_value_t)]
    pub log_format: LogFormat,
    /// More logs (-v info, -vv debug with attribute values, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Fewer messages: plan and apply print only errors and the summary lines (apply still shows
    /// the plan it asks to confirm); no progress bar; only error logs.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Color output: auto colors a terminal unless NO_COLOR is set; always and never win over
    /// NO_COLOR.
    #[arg(long, global = true, value_enum, default_value_t)]
    pub color: ColorChoice,
}
