//! A file a command writes (`--out`, `--audit-log`) is never one it reads: `export --out` onto
//! a file `--skip-declared` reads would replace the users it declares with the users it does
//! not (none: `users: {}`), `plan --out` would replace a desired-state file with JSON, and an
//! audit log would append JSON lines to one. Checked before any call, however the path is
//! spelled (relative, with `..`, through a symbolic or a hard link).

use std::path::{Component, Path, PathBuf};

/// What a command reads, to check a file it writes against.
pub(crate) struct Reads<'a> {
    /// The desired-state paths (files and directories).
    desired: &'a [PathBuf],
    /// How the command names them: `PATH`, `--skip-declared`, `SOURCE`.
    desired_by: &'static str,
    /// Other files read, each with the flag that names it.
    files: Vec<(&'static str, &'a Path)>,
}

impl<'a> Reads<'a> {
    /// The desired-state paths and the other files given (each flag with its file, if any).
    pub(crate) fn new(
        desired: &'a [PathBuf],
        desired_by: &'static str,
        files: &[(&'static str, Option<&'a Path>)],
    ) -> Reads<'a> {
        let files = files.iter().filter_map(|(flag, file)| file.map(|f| (*flag, f))).collect();
        Reads { desired, desired_by, files }
    }
}

/// Refuse to write `written` (given as `flag`) when it is a file the command reads. With
/// `desired_state_allowed` false (a plan, an audit log, a CSV), also when it would be a new
/// desired-state file under a directory the command reads: the next run would read it.
/// `done` says what did not happen (`nothing was exported`); `instead`, what to write to
/// instead of a desired-state file.
pub(crate) fn refuse_writing_what_is_read(
    flag: &str,
    written: &Path,
    reads: &Reads<'_>,
    desired_state_allowed: bool,
    done: &str,
    instead: &str,
) -> miette::Result<()> {
    let shown = written.display();
    for file in crate::reconcile::list_files(reads.desired) {
        if same_file(written, &file) {
            let also = if file == written {
                String::new()
            } else {
                format!(" (the same file as {})", file.display())
            };
            return Err(miette::miette!(
                help = instead.to_string(),
                "{flag} {shown}{also} is one of the desired-state files {} reads: writing it \
                 would replace the users it declares; {done}",
                reads.desired_by
            ));
        }
    }
    for (read_by, file) in &reads.files {
        if same_file(written, file) {
            return Err(miette::miette!(
                help = format!("give {flag} and {read_by} different files"),
                "{flag} {shown} is the file {read_by} {} reads: writing it would destroy it; \
                 {done}",
                file.display()
            ));
        }
    }
    if !desired_state_allowed && let Some(directory) = read_directory_of(written, reads.desired) {
        return Err(miette::miette!(
            help = "write it outside the directories of desired-state files, or give it a name \
                    that does not end in .yaml or .yml",
            "{flag} {shown} is inside {}, which {} reads: the next run would read it as a \
             desired-state file and fail; {done}",
            directory.display(),
            reads.desired_by
        ));
    }
    Ok(())
}

/// [`refuse_writing_what_is_read`] for `--audit-log`, when given: appended to on every apply,
/// it is never a file the command reads.
pub(crate) fn refuse_an_audit_log_that_is_read(
    audit_log: Option<&Path>,
    reads: &Reads<'_>,
    done: &str,
) -> miette::Result<()> {
    let Some(audit_log) = audit_log else { return Ok(()) };
    let instead = "give the audit log a file of its own, such as audit.jsonl";
    refuse_writing_what_is_read("--audit-log", audit_log, reads, false, done, instead)
}

/// Whether `a` and `b` are one existing file, whatever their spellings.
fn same_file(a: &Path, b: &Path) -> bool {
    let (Ok(first), Ok(second)) = (std::fs::metadata(a), std::fs::metadata(b)) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        first.dev() == second.dev() && first.ino() == second.ino()
    }
    #[cfg(not(unix))]
    {
        let _ = (first, second);
        matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
    }
}

/// The directory among `desired` whose walk would read `written` as a desired-state file, if
/// any: `written` is a `*.yaml` or `*.yml` file inside it, with no hidden part on the way.
fn read_directory_of<'a>(written: &Path, desired: &'a [PathBuf]) -> Option<&'a PathBuf> {
    let name = written.file_name()?;
    if !crate::reconcile::walk_reads(name) {
        return None;
    }
    let parent = match written.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let at = parent.canonicalize().ok()?.join(name);
    desired.iter().find(|directory| {
        let Ok(directory_at) = directory.canonicalize() else { return false };
        directory_at.is_dir()
            && at.strip_prefix(&directory_at).is_ok_and(|inside| {
                inside.components().all(|part| match part {
                    Component::Normal(part) => {
                        !part.to_str().is_some_and(|part| part.starts_with('.'))
                    }
                    _ => false,
                })
            })
    })
}
