//! `workmail-reconcile export --organization ORG [--format FORMAT] [--out FILE | --out-dir DIR]`:
//! the live organization as a desired-state file that plans clean, as CSV for migration, or as
//! the files that move users, aliases and groups to Microsoft 365.

use super::export_bundle::BundleDir;
use super::global::GlobalArgs;
use super::shared_args::SelectionArgs;
use super::staged_file::StagedFile;
use super::written_file::{Reads, refuse_writing_what_is_read};
use super::{Exit, connect, shared_steps, terminal};
use crate::export::{
    AddressRewrite, BundleFacts, Cells, EmailDomain, ExportError, ExportedGroup,
    ExportedOrganization, MailboxReads, SCHEMA_FILE, SkippedUser, bundle_readme,
    default_mail_domain, export_with, read_groups, schema_reference, write_aliases_csv,
    write_csv_cells, write_groups_csv, write_m365_csv, write_yaml,
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
    /// A desired-state file that plans clean, mailbox keys included.
    #[default]
    Yaml,
    /// One row per user: id, name, email, state, role and every attribute (RFC 4180, UTF-8).
    Csv,
    /// The Microsoft 365 admin center's "Add multiple users" template.
    #[value(name = "m365-csv")]
    M365Csv,
    /// `User Name,Alias`: one row per alias of each user m365-csv writes.
    #[value(name = "aliases-csv")]
    AliasesCsv,
    /// `Group Name,Group Email,Member`: one row per member user of each group.
    #[value(name = "groups-csv")]
    GroupsCsv,
    /// users.csv, aliases.csv, groups.csv and a README.txt in --out-dir.
    #[value(name = "m365-bundle")]
    M365Bundle,
}

impl ExportFormat {
    /// The `--format` value, for messages.
    fn name(self) -> &'static str {
        match self {
            ExportFormat::Yaml => "yaml",
            ExportFormat::Csv => "csv",
            ExportFormat::M365Csv => "m365-csv",
            ExportFormat::AliasesCsv => "aliases-csv",
            ExportFormat::GroupsCsv => "groups-csv",
            ExportFormat::M365Bundle => "m365-bundle",
        }
    }

    /// The formats that write User Name and take `--email-domain`.
    fn rewrites_addresses(self) -> bool {
        matches!(
            self,
            ExportFormat::M365Csv
                | ExportFormat::AliasesCsv
                | ExportFormat::GroupsCsv
                | ExportFormat::M365Bundle
        )
    }

    /// The formats that need the organization's groups.
    fn reads_groups(self) -> bool {
        matches!(self, ExportFormat::GroupsCsv | ExportFormat::M365Bundle)
    }
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The organization: its id (m-…) or alias.
    #[arg(long, value_name = "ORG", value_parser = parse_organization)]
    pub organization: OrganizationRef,
    /// What to write.
    #[arg(long, value_enum, default_value_t)]
    pub format: ExportFormat,
    /// Write the file here instead of stdout (written whole or not at all).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// With --format m365-bundle: the directory to write the bundle into (created when missing).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// With --format m365-bundle: replace the bundle's files when --out-dir holds them already.
    #[arg(long)]
    pub force: bool,
    /// With m365-csv, aliases-csv, groups-csv and m365-bundle: the domain User Name gets instead
    /// of the WorkMail one (alice@acme.example becomes alice@DOMAIN); aliases and group
    /// addresses on the WorkMail default domain get it too.
    #[arg(long, value_name = "DOMAIN", value_parser = EmailDomain::parse)]
    pub email_domain: Option<EmailDomain>,
    /// With a CSV format: prefix ' to every cell that begins with =, +, -, @, a tab or a carriage
    /// return, so that a spreadsheet shows it as text instead of running it. The values are then
    /// no longer exact: leave it out for a file an import tool reads.
    #[arg(long)]
    pub spreadsheet_safe: bool,
    /// With --format yaml: leave out aliases, groups and mailbox_quota_mb, and their calls.
    #[arg(long)]
    pub attributes_only: bool,
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
    let format = args.format;
    let wrong = |flag: &str, formats: &str| {
        Err(miette::miette!(
            "{flag} applies to --format {formats} only (not --format {})",
            format.name()
        ))
    };
    if args.email_domain.is_some() && !format.rewrites_addresses() {
        return wrong("--email-domain", "m365-csv, aliases-csv, groups-csv and m365-bundle");
    }
    if args.schema_path.is_some() && format != ExportFormat::Yaml {
        return wrong("--schema-path", "yaml");
    }
    if args.attributes_only && format != ExportFormat::Yaml {
        return wrong("--attributes-only", "yaml");
    }
    if args.spreadsheet_safe && format == ExportFormat::Yaml {
        return wrong(
            "--spreadsheet-safe",
            "csv, m365-csv, aliases-csv, groups-csv and m365-bundle",
        );
    }
    if args.force && format != ExportFormat::M365Bundle {
        return wrong("--force", "m365-bundle");
    }
    match (format == ExportFormat::M365Bundle, args.out.is_some(), args.out_dir.is_some()) {
        (true, true, _) => miette::bail!(
            "--format m365-bundle writes four files: give a directory with --out-dir DIR, not --out"
        ),
        (true, false, false) => {
            miette::bail!(
                "--format m365-bundle needs --out-dir DIR (the directory to write it into)"
            )
        }
        (false, _, true) => miette::bail!(
            "--out-dir applies to --format m365-bundle only; --format {} writes one file: give \
             it with --out FILE",
            format.name()
        ),
        _ => {}
    }
    if !args.skip_declared.is_empty() && format.reads_groups() {
        miette::bail!(
            "--skip-declared applies to the user formats only (not --format {}): the groups \
             name members among all users",
            format.name()
        );
    }
    Ok(())
}

/// Everything read of the organization, before anything is written.
struct Read {
    exported: ExportedOrganization,
    groups: Vec<ExportedGroup>,
    default_domain: Option<String>,
}

/// Where the export goes, checked before any call.
enum Target {
    One(Destination),
    Bundle(BundleDir),
}

pub(crate) fn exec(global: &GlobalArgs, args: ExportArgs) -> miette::Result<Exit> {
    check_flags(&args)?;
    let target = match &args.out_dir {
        Some(dir) => Target::Bundle(BundleDir::new(dir, args.force)?),
        None => Target::One(Destination::new(args.out.as_deref())?),
    };
    if let Target::One(Destination::File { path, .. }) = &target {
        let reads = Reads::new(&args.skip_declared, "--skip-declared", &[]);
        let instead = format!(
            "write to a new file: the users {} declares are declared already, so they are left \
             out of it",
            path.display()
        );
        let yaml = args.format == ExportFormat::Yaml;
        refuse_writing_what_is_read("--out", path, &reads, yaml, "nothing was exported", &instead)?;
    }
    let schema = match (&args.schema_path, &target) {
        (Some(given), _) => Some(given.clone()),
        (None, Target::One(Destination::File { directory, .. }))
            if args.format == ExportFormat::Yaml =>
        {
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
    let read = connect::runtime()?.block_on(async {
        let directory = connect::directory(global).await?;
        let result = read(global, &args, &directory, declared.as_ref()).await;
        if let Some(failure) = directory.connection_failure() {
            return Err(shared_steps::stopped(failure, "nothing was exported"));
        }
        result.map_err(|e| {
            miette::miette!("export of {}: {e}; nothing was written", args.organization)
        })
    })?;
    let rewrites_others = args.format != ExportFormat::M365Csv && args.email_domain.is_some();
    if rewrites_others && read.default_domain.is_none() && !global.quiet {
        eprintln!(
            "note: ListOrganizations did not say the default mail domain of {}, so only User \
             Names get --email-domain; aliases and group addresses are written as they are",
            printable(&read.exported.organization_id)
        );
    }
    let mut cells = Cells::new(args.spreadsheet_safe);
    let rewrite = AddressRewrite {
        domain: args.email_domain.as_ref(),
        default_domain: read.default_domain.as_deref(),
    };
    let report = match &target {
        Target::One(destination) => {
            let write = |out: &mut dyn Write, cells: &mut Cells| {
                write_one(&args, &read, schema.as_deref(), rewrite, cells, out)
            };
            match destination {
                Destination::File { path, .. } => {
                    let failed = |e: std::io::Error| {
                        miette::miette!("cannot write {}: {e}; nothing was written", path.display())
                    };
                    let mut staged = StagedFile::create(path).map_err(failed)?;
                    let report = {
                        let mut out = BufWriter::new(staged.file().map_err(failed)?);
                        let report = write(&mut out, &mut cells).map_err(failed)?;
                        out.flush().map_err(failed)?;
                        report
                    };
                    staged.commit(true).map_err(failed)?;
                    report
                }
                Destination::Stdout => {
                    write(&mut BufWriter::new(std::io::stdout().lock()), &mut cells)
                        .map_err(|e| miette::miette!("cannot write to stdout: {e}"))?
                }
            }
        }
        Target::Bundle(dir) => write_bundle(&args, &read, rewrite, &mut cells, dir)?,
    };
    for line in &report.left_out {
        eprintln!("left out: {}", printable(line));
    }
    if !global.quiet {
        eprintln!("{}", report.summary);
        if args.spreadsheet_safe {
            let changed = plural(cells.changed(), "cell", "cells");
            eprintln!("--spreadsheet-safe prefixed ' to {changed}.");
        }
    }
    Ok(Exit::Success)
}

/// Read what `args.format` needs: the users (with the mailbox keys the format writes), the
/// groups, the default mail domain.
async fn read<D: Directory + Clone + 'static>(
    global: &GlobalArgs,
    args: &ExportArgs,
    directory: &D,
    declared: Option<&crate::reconcile::DesiredState>,
) -> Result<Read, ExportError> {
    let reads = match args.format {
        ExportFormat::Yaml if !args.attributes_only => MailboxReads::ALL,
        ExportFormat::AliasesCsv | ExportFormat::M365Bundle => MailboxReads::ALIASES,
        _ => MailboxReads::NONE,
    };
    let width = connect::width(global);
    let bar = terminal::progress(global, 0, "describing users");
    let exported =
        export_with(directory, &args.organization, declared, reads, width, || bar.inc(1)).await;
    bar.finish_and_clear();
    let exported = exported?;
    let groups = if args.format.reads_groups() {
        read_groups(directory, &exported.organization_id, width).await?
    } else {
        Vec::new()
    };
    let rewrites_others = args.format != ExportFormat::M365Csv && args.email_domain.is_some();
    let default_domain = if rewrites_others {
        default_mail_domain(directory, &exported.organization_id).await?
    } else {
        None
    };
    Ok(Read { exported, groups, default_domain })
}

/// What to say on stderr once written.
struct Report {
    /// One line per user, alias or member not written (without the `left out: `).
    left_out: Vec<String>,
    summary: String,
}

/// `NAME: REASON` for every user not written, sorted by name.
fn users_left_out(exported: &ExportedOrganization, not_in_template: &[SkippedUser]) -> Vec<String> {
    left_out_lines(&exported.skipped, not_in_template)
}

/// Write a one-file format.
fn write_one(
    args: &ExportArgs,
    read: &Read,
    schema: Option<&str>,
    rewrite: AddressRewrite<'_>,
    cells: &mut Cells,
    out: &mut dyn Write,
) -> std::io::Result<Report> {
    let exported = &read.exported;
    let organization = printable(&exported.organization_id);
    let users_summary = |not_in_template: &[SkippedUser], declared: Option<usize>| {
        let written = exported.users.len() - not_in_template.len();
        let left_out = exported.skipped.len() + not_in_template.len();
        summary(written, &organization, left_out, declared)
    };
    let declared = (!args.skip_declared.is_empty()).then_some(exported.declared);
    Ok(match args.format {
        ExportFormat::Yaml => {
            write_yaml(exported, schema, out)?;
            // The file names who is left out, in comments.
            Report { left_out: Vec::new(), summary: users_summary(&[], declared) }
        }
        ExportFormat::Csv => {
            write_csv_cells(exported, cells, out)?;
            Report {
                left_out: users_left_out(exported, &[]),
                summary: users_summary(&[], declared),
            }
        }
        ExportFormat::M365Csv => {
            let not_in_template = write_m365_csv(exported, rewrite.domain, cells, out)?;
            Report {
                left_out: users_left_out(exported, &not_in_template),
                summary: users_summary(&not_in_template, declared),
            }
        }
        ExportFormat::AliasesCsv => {
            let written = write_aliases_csv(exported, rewrite, cells, out)?;
            let mut left_out = users_left_out(exported, &written.left_out);
            left_out.extend(written.merged.iter().cloned());
            let users = exported.users.len() - written.left_out.len();
            let summary = format!(
                "Exported {} of {} of {organization} ({} left out).",
                plural(written.aliases, "alias", "aliases"),
                plural(users, "user", "users"),
                exported.skipped.len() + written.left_out.len()
            );
            Report { left_out, summary }
        }
        ExportFormat::GroupsCsv => {
            let written = write_groups_csv(exported, &read.groups, rewrite, cells, out)?;
            let summary = format!(
                "Exported {} with {} of {organization} ({} left out).",
                plural(written.groups, "group", "groups"),
                plural(written.members, "member", "members"),
                plural(written.left_out.len(), "member", "members"),
            );
            Report { left_out: written.left_out, summary }
        }
        // Checked before any call: the bundle goes to --out-dir.
        ExportFormat::M365Bundle => {
            return Err(std::io::Error::other("m365-bundle needs --out-dir"));
        }
    })
}

/// Write the bundle: every file made in memory first, then all moved into place.
fn write_bundle(
    args: &ExportArgs,
    read: &Read,
    rewrite: AddressRewrite<'_>,
    cells: &mut Cells,
    dir: &BundleDir,
) -> miette::Result<Report> {
    let exported = &read.exported;
    let in_memory = |e: std::io::Error| miette::miette!("cannot write the bundle: {e}");
    let mut users = Vec::new();
    let not_in_template =
        write_m365_csv(exported, rewrite.domain, cells, &mut users).map_err(in_memory)?;
    let mut aliases = Vec::new();
    let aliases_written =
        write_aliases_csv(exported, rewrite, cells, &mut aliases).map_err(in_memory)?;
    let mut groups = Vec::new();
    let groups_written =
        write_groups_csv(exported, &read.groups, rewrite, cells, &mut groups).map_err(in_memory)?;
    let organization = printable(&exported.organization_id);
    let users_written = exported.users.len() - not_in_template.len();
    let facts = BundleFacts {
        organization_id: &organization,
        users: users_written,
        aliases: aliases_written.aliases,
        groups: groups_written.groups,
        email_domain: args.email_domain.as_ref().map(ToString::to_string),
        spreadsheet_safe: args.spreadsheet_safe.then(|| cells.changed()),
    };
    let readme = bundle_readme(&facts);
    dir.write([&users, &aliases, &groups, readme.as_bytes()])?;
    let mut left_out = users_left_out(exported, &not_in_template);
    left_out.extend(aliases_written.merged);
    left_out.extend(groups_written.left_out.iter().cloned());
    let summary = format!(
        "Exported {}, {} and {} with {} of {organization} into {} ({} and {} left out).",
        plural(users_written, "user", "users"),
        plural(aliases_written.aliases, "alias", "aliases"),
        plural(groups_written.groups, "group", "groups"),
        plural(groups_written.members, "member", "members"),
        printable(&dir.path.to_string_lossy()),
        plural(exported.skipped.len() + not_in_template.len(), "user", "users"),
        plural(groups_written.left_out.len(), "member", "members"),
    );
    Ok(Report { left_out, summary })
}

/// `NAME: REASON` for every user not written, sorted by name.
fn left_out_lines(skipped: &[SkippedUser], not_in_template: &[SkippedUser]) -> Vec<String> {
    let mut all: Vec<&SkippedUser> = skipped.iter().chain(not_in_template).collect();
    all.sort_by(|a, b| a.name.cmp(&b.name));
    all.iter().map(|s| format!("{}: {}", s.name, s.reason)).collect()
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
            ["gone: DELETED", "new\nhire: no email address", "room: role RESOURCE"]
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
