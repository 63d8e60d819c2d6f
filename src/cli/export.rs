//! `workmail-reconcile export --organization ORG [--format yaml|csv|m365-csv] [--out FILE]`:
//! the live organization as a desired-state file that plans clean, or as CSV for migration.

use super::global::GlobalArgs;
use super::shared_args::SelectionArgs;
use super::written_file::{Reads, refuse_writing_what_is_read};
use super::{Exit, connect, shared_steps, terminal};
use crate::export::{
    EmailDomain, SCHEMA_FILE, SkippedUser, export, schema_reference, write_csv, write_m365_csv,
    write_yaml,
};
use crate::model::printable::printable;
use crate::model::wording::plural;
use crate::reconcile::Directory;
use crate::reconcile::{InvalidOrganization, OrganizationRef};
use clap::{Args, ValueEnum};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// What `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ExportFormat {
    /// A desired-state file that plans clean.
    #[default]
    Yaml,
    /// One row per user: id, name, email, state, role and every attribute (RFC 4180, UTF-8).
    Csv,
    /// The Microsoft 365 admin center's "Add multiple users" template.
    #[value(name = "m365-csv")]
    M365Csv,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The organization: its id (m-…) or alias.
    #[arg(long, value_name = "ORG", value_parser = parse_organization)]
    pub organization: OrganizationRef,
    /// What to write.
    #[arg(long, value_enum, default_value_t)]
    pub format: ExportFormat,
    /// Write the file here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// With --format m365-csv: the domain User Name gets instead of the WorkMail one
    /// (alice@acme.example becomes alice@DOMAIN).
    #[arg(long, value_name = "DOMAIN", value_parser = EmailDomain::parse)]
    pub email_domain: Option<EmailDomain>,
    /// With --format yaml: the `$schema` of the yaml-language-server modeline, written as given
    /// (a path relative to the written file, or a URL). Without it, --out gets the path to the
    /// nearest schema/workmail-users.schema.json at or above its directory within the
    /// repository, and no modeline when there is none; stdout gets no modeline.
    #[arg(long, value_name = "PATH", value_parser = parse_schema_path)]
    pub schema_path: Option<String>,
    /// Write only the users that no desired-state file under these paths declares (files or
    /// directories, as for plan): the users a plan of PATH lists as in no file, to adopt.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub skip_declared: Vec<PathBuf>,
}

/// The same rule as a desired-state file's `organization`, checked before any call.
fn parse_organization(s: &str) -> Result<OrganizationRef, String> {
    OrganizationRef::parse(s).map_err(|e| format!("{e}: {}", InvalidOrganization::allowed()))
}

/// A `$schema` value goes into a one-line comment: a line break would end the comment.
fn parse_schema_path(s: &str) -> Result<String, String> {
    if s.is_empty() {
        return Err("the schema path is empty; leave --schema-path out instead".to_string());
    }
    match s.chars().find(|c| c.is_control()) {
        Some(c) => Err(format!(
            "the schema path has the control character `{}`; it must fit on one line",
            c.escape_default()
        )),
        None => Ok(s.to_string()),
    }
}

/// Where the export goes.
enum Destination {
    Stdout,
    /// The file, and its directory made absolute and free of `..` and links.
    File {
        path: PathBuf,
        directory: PathBuf,
    },
}

impl Destination {
    /// Checked before any API call, so a typo in `--out` does not cost a whole export.
    fn new(out: Option<&Path>) -> miette::Result<Destination> {
        let Some(path) = out else { return Ok(Destination::Stdout) };
        let cannot = |why: String| miette::miette!("cannot write {}: {why}", path.display());
        if path.is_dir() {
            return Err(cannot("it is a directory; give a file name".into()));
        }
        let parent = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let directory = parent
            .canonicalize()
            .map_err(|e| cannot(format!("its directory {}: {e}", parent.display())))?;
        if !directory.is_dir() {
            return Err(cannot(format!("{} is not a directory", parent.display())));
        }
        Ok(Destination::File { path: path.to_path_buf(), directory })
    }
}

/// Format-specific flags given with the wrong format are usage errors, found before any call.
fn check_flags(args: &ExportArgs) -> miette::Result<()> {
    if args.email_domain.is_some() && args.format != ExportFormat::M365Csv {
        miette::bail!("--email-domain applies to --format m365-csv only");
    }
    if args.schema_path.is_some() && args.format != ExportFormat::Yaml {
        miette::bail!("--schema-path applies to --format yaml only");
    }
    Ok(())
}

pub(crate) fn exec(global: &GlobalArgs, args: ExportArgs) -> miette::Result<Exit> {
    check_flags(&args)?;
    let destination = Destination::new(args.out.as_deref())?;
    if let Destination::File { path, .. } = &destination {
        let reads = Reads::new(&args.skip_declared, "--skip-declared", &[]);
        let instead = format!(
            "write to a new file: the users {} declares are declared already, so they are left \
             out of it",
            path.display()
        );
        let yaml = args.format == ExportFormat::Yaml;
        refuse_writing_what_is_read("--out", path, &reads, yaml, "nothing was exported", &instead)?;
    }
    let schema = match (&args.schema_path, &destination) {
        (Some(given), _) => Some(given.clone()),
        (None, Destination::File { directory, .. }) if args.format == ExportFormat::Yaml => {
            let found = schema_reference(directory);
            if found.is_none() && !global.quiet {
                eprintln!(
                    "note: found no {SCHEMA_FILE} in {} or above it (up to the repository \
                     root), so the file has no yaml-language-server modeline; write the schema \
                     with `workmail-reconcile schema > {SCHEMA_FILE}` at the repository root, \
                     or pass --schema-path",
                    printable(&directory.to_string_lossy())
                );
            }
            found
        }
        (None, _) => None,
    };
    // The files are read and checked before any call, as plan does.
    let declared = if args.skip_declared.is_empty() {
        None
    } else {
        let none = SelectionArgs::default();
        match shared_steps::load_selected(global, &args.skip_declared, &none)? {
            Ok(desired) => Some(desired),
            Err(()) => return Ok(Exit::Error),
        }
    };
    let exported = connect::runtime()?.block_on(async {
        let directory = connect::directory(global).await?;
        let bar = terminal::progress(global, 0, "describing users");
        let width = connect::width(global);
        let result =
            export(&directory, &args.organization, declared.as_ref(), width, || bar.inc(1)).await;
        bar.finish_and_clear();
        if let Some(failure) = directory.connection_failure() {
            return Err(shared_steps::stopped(failure, "nothing was exported"));
        }
        result.map_err(|e| miette::miette!("export of {}: {e}", args.organization))
    })?;
    let write = |out: &mut dyn Write| match args.format {
        ExportFormat::Yaml => write_yaml(&exported, schema.as_deref(), out).map(|()| Vec::new()),
        ExportFormat::Csv => write_csv(&exported, out).map(|()| Vec::new()),
        ExportFormat::M365Csv => write_m365_csv(&exported, args.email_domain.as_ref(), out),
    };
    let not_in_template = match &destination {
        Destination::File { path, .. } => std::fs::File::create(path)
            .and_then(|file| write(&mut BufWriter::new(file)))
            .map_err(|e| miette::miette!("cannot write {}: {e}", path.display()))?,
        Destination::Stdout => write(&mut BufWriter::new(std::io::stdout().lock()))
            .map_err(|e| miette::miette!("cannot write to stdout: {e}"))?,
    };
    // A CSV cannot carry comments as the YAML file does: say on stderr who is not in it, and why.
    if args.format != ExportFormat::Yaml {
        for left_out in left_out_lines(&exported.skipped, &not_in_template) {
            eprintln!("{left_out}");
        }
    }
    if !global.quiet {
        let written = exported.users.len() - not_in_template.len();
        let left_out = exported.skipped.len() + not_in_template.len();
        let declared = declared.is_some().then_some(exported.declared);
        let organization = printable(&exported.organization_id);
        eprintln!("{}", summary(written, &organization, left_out, declared));
    }
    Ok(Exit::Success)
}

/// `left out: NAME: REASON` for every user not written, sorted by name.
fn left_out_lines(skipped: &[SkippedUser], not_in_template: &[SkippedUser]) -> Vec<String> {
    let mut all: Vec<&SkippedUser> = skipped.iter().chain(not_in_template).collect();
    all.sort_by(|a, b| a.name.cmp(&b.name));
    all.iter()
        .map(|s| format!("left out: {}: {}", printable(&s.name), printable(&s.reason)))
        .collect()
}

/// `Exported 1 user of m-… (2 left out).`, and with `--skip-declared`
/// `Exported 1 user of m-… (2 left out, 40 declared in the files).`
fn summary(
    written: usize,
    organization_id: &str,
    left_out: usize,
    declared: Option<usize>,
) -> String {
    let users = plural(written, "user", "users");
    let declared = declared.map(|n| format!(", {n} declared in the files")).unwrap_or_default();
    format!("Exported {users} of {organization_id} ({left_out} left out{declared}).")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_in_singular_and_plural() {
        assert_eq!(summary(0, "m-1", 0, None), "Exported 0 users of m-1 (0 left out).");
        assert_eq!(summary(1, "m-1", 1, None), "Exported 1 user of m-1 (1 left out).");
        assert_eq!(summary(2, "m-1", 3, None), "Exported 2 users of m-1 (3 left out).");
        assert_eq!(
            summary(2, "m-1", 0, Some(40)),
            "Exported 2 users of m-1 (0 left out, 40 declared in the files)."
        );
    }

    #[test]
    fn left_out_lines_merge_both_lists_by_name_on_one_line_each() {
        let skipped =
            |name: &str, reason: &str| SkippedUser { name: name.into(), reason: reason.into() };
        assert_eq!(
            left_out_lines(
                &[skipped("room", "role RESOURCE"), skipped("gone", "DELETED")],
                &[skipped("new\nhire", "no email address")]
            ),
            [
                "left out: gone: DELETED",
                "left out: new\\nhire: no email address",
                "left out: room: role RESOURCE"
            ]
        );
    }

    #[test]
    fn schema_path_must_fit_on_one_line() {
        assert_eq!(parse_schema_path("../schema.json"), Ok("../schema.json".into()));
        assert_eq!(
            parse_schema_path("x\nusers: {}"),
            Err("the schema path has the control character `\\n`; it must fit on one line".into())
        );
        assert!(parse_schema_path("").is_err());
    }
}
