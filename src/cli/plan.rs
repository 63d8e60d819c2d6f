//! `workmail-reconcile plan PATH...`: show exactly what differs; never writes to the directory.

use super::global::GlobalArgs;
use super::shared_args::{PlanningArgs, render_options};
use super::written_file::{Reads, refuse_writing_what_is_read};
use super::{Exit, connect, shared_steps, terminal};
use crate::reconcile::{Plan, write_saved_plan_json};
use crate::render;
use clap::{Args, ValueEnum};
use miette::IntoDiagnostic;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Output format of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum PlanFormat {
    #[default]
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Desired-state files or directories.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: PlanFormat,
    /// Also save the plan (unredacted, owner-readable only) for `apply --plan`.
    #[arg(long, value_name = "PLAN.json")]
    pub out: Option<PathBuf>,
    /// Exit 2 when the plan succeeded and has changes, 0 when there are none.
    #[arg(long)]
    pub detailed_exitcode: bool,
    #[command(flatten)]
    pub planning: PlanningArgs,
}

/// Render `plan` in `format` for stdout.
pub(crate) fn render_plan(
    plan: &Plan,
    format: PlanFormat,
    options: &render::RenderOptions,
) -> String {
    match format {
        PlanFormat::Text => render::text(plan, options),
        PlanFormat::Json => {
            let json =
                serde_json::to_string_pretty(&render::json(plan, options)).unwrap_or_default();
            // Valid JSON either way; a terminal showing it acts on none of its characters.
            let mut json = crate::model::printable::json_escaped(&json).into_owned();
            json.push('\n');
            json
        }
        PlanFormat::Markdown => render::markdown(plan, options),
    }
}

/// Write the saved plan, readable and writable by its owner only: it holds personal data.
fn write_saved_plan(path: &Path, plan: &Plan) -> miette::Result<()> {
    let created_at = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(path)
        .map_err(|e| miette::miette!("cannot write the plan to {}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        // An existing file keeps its old mode on open; tighten it.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600)).into_diagnostic()?;
    }
    write_saved_plan_json(
        plan,
        env!("CARGO_PKG_VERSION"),
        &created_at,
        std::io::BufWriter::new(file),
    )
    .map_err(|e| miette::miette!("cannot write the plan to {}: {e}", path.display()))
}

/// The exit code of a finished plan (docs/commands.md#exit-codes).
fn plan_exit(plan: &Plan, detailed_exitcode: bool) -> Exit {
    if !plan.errors.is_empty() {
        Exit::Error
    } else if detailed_exitcode && plan.has_changes() {
        Exit::Changes
    } else {
        Exit::Success
    }
}

pub(crate) fn exec(global: &GlobalArgs, args: PlanArgs) -> miette::Result<Exit> {
    if let Some(out) = &args.out {
        let key = args.planning.redaction.redact_key_file.as_deref();
        let reads = Reads::new(&args.paths, "PATH", &[("--redact-key-file", key)]);
        let instead = "save the plan to a file of its own, such as plan.json";
        refuse_writing_what_is_read("--out", out, &reads, false, "nothing was planned", instead)?;
    }
    let Ok(desired) = shared_steps::load_selected(global, &args.paths, &args.planning.selection)?
    else {
        return Ok(Exit::Error);
    };
    let redaction = args.planning.redaction.redaction()?;
    let plan = connect::runtime()?.block_on(async {
        let engine = connect::engine(global, connect::directory(global).await?)
            .with_unmanaged(args.planning.unmanaged.policy());
        shared_steps::compute_plan(global, &engine, &desired, &redaction)
            .await
            .map(|planned| planned.plan)
            .map_err(|failure| shared_steps::stopped(&failure, "nothing was planned"))
    })?;
    // Only the text format is colored; JSON and markdown are documents for tools and reviews.
    let color = args.format == PlanFormat::Text && terminal::stdout_color(global);
    let options = render_options(redaction, color, global.quiet);
    let rendered = render_plan(&plan, args.format, &options);
    terminal::stdout(color).write_all(rendered.as_bytes()).into_diagnostic()?;
    if let Some(out) = &args.out {
        write_saved_plan(out, &plan)?;
    }
    Ok(plan_exit(&plan, args.detailed_exitcode))
}
