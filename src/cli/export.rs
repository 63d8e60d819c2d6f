//! `workmail-reconcile export --organization ORG [--out FILE]`: the live organization as a
//! desired-state file that plans clean.

use super::global::GlobalArgs;
use super::{Exit, connect, terminal};
use crate::export::{export, write_yaml};
use clap::Args;
use miette::IntoDiagnostic;
use std::io::BufWriter;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The organization: its id (m-…) or alias.
    #[arg(long, value_name = "ORG")]
    pub organization: String,
    /// Write the file here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The `$schema` path written in the yaml-language-server modeline.
    #[arg(long, value_name = "PATH", default_value = "schema/workmail-users.schema.json")]
    pub schema_path: String,
}

pub fn exec(global: &GlobalArgs, args: ExportArgs) -> miette::Result<Exit> {
    let exported = connect::runtime()?.block_on(async {
        let directory = connect::directory(global).await?;
        let bar = terminal::progress(global, 0, "describing users");
        let result =
            export(&directory, &args.organization, connect::width(global), || bar.inc(1)).await;
        bar.finish_and_clear();
        result.map_err(|e| miette::miette!("export of {}: {e}", args.organization))
    })?;
    match &args.out {
        Some(path) => std::fs::File::create(path)
            .and_then(|file| write_yaml(&exported, &args.schema_path, BufWriter::new(file)))
            .map_err(|e| miette::miette!("cannot write {}: {e}", path.display()))?,
        None => write_yaml(&exported, &args.schema_path, BufWriter::new(std::io::stdout().lock()))
            .into_diagnostic()?,
    }
    if !global.quiet {
        eprintln!(
            "Exported {} users of {} ({} left out).",
            exported.users.len(),
            exported.organization_id,
            exported.skipped.len()
        );
    }
    Ok(Exit::Success)
}
