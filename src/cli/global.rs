//! Flags that every command accepts.

use clap::{Args, ValueEnum};

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

/// Global flags (SPEC §2).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// AWS region (default: the standard AWS chain).
    #[arg(long, global = true, env = "AWS_REGION")]
    pub region: Option<String>,
    /// AWS shared-config profile.
    #[arg(long, global = true, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// WorkMail endpoint URL (also AWS_ENDPOINT_URL_WORKMAIL / AWS_ENDPOINT_URL).
    #[arg(long, global = true)]
    pub endpoint_url: Option<String>,
    /// Requests in flight at most; the request rate itself adapts to throttling.
    #[arg(long, global = true, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub concurrency: u32,
    /// Requests per second at most.
    #[arg(long, global = true)]
    pub max_rps: Option<f64>,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t)]
    pub log_format: LogFormat,
    /// More logs (-v info, -vv debug with attribute values, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Fewer messages.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Color output.
    #[arg(long, global = true, value_enum, default_value_t)]
    pub color: ColorChoice,
}
