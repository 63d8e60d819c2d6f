//! Reading paths (files and directories) into one [`DesiredState`].

use super::error::{LoadError, LoadErrors, PathProblem, Pos, SourceFile};
use super::model::{DesiredOrganization, DesiredState};
use super::parse::{MAX_FILE_BYTES, TOO_LARGE_HELP};
use super::stream::read_file;
use super::validate::FileSpec;
use crate::model::bounded_read::{self, FileReadError};
use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Deepest directory recursion; deeper trees are almost certainly a symlink loop.
const MAX_DIR_DEPTH: usize = 32;

/// Load every desired-state file under `paths`; see [`super::load()`].
pub(crate) fn load_paths<P: AsRef<Path>>(paths: &[P]) -> Result<DesiredState, LoadErrors> {
    load_paths_observed(paths, &mut |_, _| {})
}

/// [`load_paths`], showing `on_file` the name and text of every file read, in order.
pub(crate) fn load_paths_observed<P: AsRef<Path>>(
    paths: &[P],
    on_file: &mut dyn FnMut(&str, &str),
) -> Result<DesiredState, LoadErrors> {
    let (files, mut errors) = collect_all(paths);
    let mut sources = Vec::new();
    for file in files {
        match read_source(&file) {
            Ok(source) => {
                on_file(&source.name, &source.text);
                sources.push(source);
            }
            Err(error) => errors.push(*error),
        }
    }
    load_sources(&sources, errors)
}

/// The files under `paths` that a load reads, in order, and the errors of the walk.
fn collect_all<P: AsRef<Path>>(paths: &[P]) -> (Vec<PathBuf>, Vec<LoadError>) {
    let mut errors = Vec::new();
    let mut files = Vec::new();
    for path in paths {
        collect(path.as_ref(), &mut files, &mut errors);
    }
    (read_once(files), errors)
}

/// The files under `paths` that [`load_paths`] would read, in the order it would read them.
pub(crate) fn list_files<P: AsRef<Path>>(paths: &[P]) -> Vec<PathBuf> {
    collect_all(paths).0
}

/// Read one file's text, refusing one over [`MAX_FILE_BYTES`] after reading one byte more at
/// most, whatever the path names (a device or a FIFO included).
fn read_source(file: &Path) -> Result<SourceFile, Box<LoadError>> {
    let name = display_path(file);
    match bounded_read::read_text(file, MAX_FILE_BYTES) {
        Ok(text) => Ok(SourceFile::new(&name, Arc::from(text))),
        Err(e) => {
            let error = LoadError::file(&name, e.message_for(&name));
            Err(Box::new(match e {
                FileReadError::TooLarge { kind: "file", .. } => error.with_help(TOO_LARGE_HELP),
                FileReadError::TooLarge { .. } => error.with_help(
                    "a device or a FIFO is read like a file, up to the same limit: name the \
                     desired-state files themselves",
                ),
                FileReadError::NotUtf8(at) => error.at_position(at.line, at.column).with_help(
                    "desired-state files are UTF-8 text: convert the file (for example with \
                     `iconv -t UTF-8`), or move it out of the directory if it is not one",
                ),
                FileReadError::Io(_) | FileReadError::NoWriter => error,
            }))
        }
    }
}

/// Parse, validate and merge files already in memory. `errors` holds earlier (I/O) errors.
pub(crate) fn load_sources(
    sources: &[SourceFile],
    mut errors: Vec<LoadError>,
) -> Result<DesiredState, LoadErrors> {
    let mut state = DesiredState::default();
    let mut specs = Vec::new();
    for source in sources {
        state.files.push(source.name.to_string());
        let first = errors.len();
        if let Some(spec) = read_file(source, &mut errors) {
            specs.push((source, spec));
        }
        // Report a file's errors top to bottom, whatever order the checks ran in.
        errors[first..].sort_by_key(|e| e.location().map(|l| (l.line, l.column)));
    }
    merge(&mut state, specs, &mut errors);
    check_aliases_once(&state, sources, &mut errors);
    if errors.is_empty() { Ok(state) } else { Err(LoadErrors::new(errors)) }
}

/// Group users by organization (as written, aliases case-folded) and refuse the same user
/// declared in two files. An alias and an id of one organization, or a name and an email of one
/// user, are only known to be the same after resolution: the plan reports those.
fn merge(
    state: &mut DesiredState,
    specs: Vec<(&SourceFile, FileSpec)>,
    errors: &mut Vec<LoadError>,
) {
    // Per organization (by index): lowercased user key -> index of the user. Keys compare
    // case-insensitively because WorkMail names and email addresses do. Validation already
    // refused such duplicates within a file, so an organization's map is only built when a
    // second file adds users to it: for one large file, it would be megabytes of keys for
    // nothing.
    let mut seen: HashMap<usize, HashMap<String, usize>> = HashMap::new();
    // Organization (as written, aliases case-folded) -> its index in `state.organizations`: a
    // map, not a scan, so that many files of many organizations merge in linear time.
    let mut index_of: HashMap<String, usize> = HashMap::new();
    for (source, spec) in specs {
        let Some((reference, org_source)) = spec.organization else { continue };
        // As this file writes it, for its errors.
        let org = reference.to_string();
        let index = *index_of.entry(reference.offline_identity()).or_insert_with(|| {
            state.organizations.push(DesiredOrganization {
                reference,
                source: org_source,
                users: Vec::new(),
            });
            state.organizations.len() - 1
        });
        let users = &mut state.organizations[index].users;
        if users.is_empty() {
            // Nothing to collide with: take the file's users as they are, without a copy.
            *users = spec.users;
            continue;
        }
        let org_seen = seen.entry(index).or_insert_with(|| {
            users.iter().enumerate().map(|(i, user)| (user.key.to_lowercase(), i)).collect()
        });
        // Where each line of this file starts, built at its first duplicate: labelling every
        // duplicate by scanning the text from the start would be quadratic in the file's size.
        let mut line_starts: Option<Vec<usize>> = None;
        for user in spec.users {
            let folded = user.key.to_lowercase();
            if let Some(&first) = org_seen.get(&folded) {
                let first = &users[first];
                let starts = line_starts.get_or_insert_with(|| line_starts_of(&source.text));
                let pos = pos_of(source, starts, user.source.line, user.source.column);
                errors.push(
                    LoadError::at(
                        source,
                        pos,
                        format!("user `{}` is declared twice in organization `{org}`", user.key),
                        "declared again here",
                    )
                    .with_help(format!(
                        "first declared at {}; a user may be declared once per organization \
                         (user keys and organization aliases compare case-insensitively): \
                         remove one declaration or merge them",
                        first.source
                    )),
                );
                continue;
            }
            org_seen.insert(folded, users.len());
            users.push(user);
        }
    }
}

/// One alias declared for two users of one organization: an error at the second declaration
/// naming the first. (Within one user, a repeat is found when the list is checked.)
fn check_aliases_once(state: &DesiredState, sources: &[SourceFile], errors: &mut Vec<LoadError>) {
    let mut line_starts: HashMap<&str, Vec<usize>> = HashMap::new();
    for organization in &state.organizations {
        // Each alias, lower-cased, with the user and the place that declared it first.
        let mut first: HashMap<String, (&str, &str, usize, usize)> = HashMap::new();
        for user in &organization.users {
            let Some(aliases) = user.mailbox.as_ref().and_then(|m| m.aliases.as_ref()) else {
                continue;
            };
            for alias in aliases {
                let here = (&*user.key, &*user.source.file, alias.line, alias.column);
                match first.entry(alias.address.to_lowercase()) {
                    Entry::Vacant(vacant) => {
                        vacant.insert(here);
                    }
                    Entry::Occupied(occupied) => {
                        let (owner, file, line, column) = *occupied.get();
                        let Some(source) = sources.iter().find(|s| s.name == user.source.file)
                        else {
                            continue;
                        };
                        let starts = line_starts
                            .entry(&user.source.file)
                            .or_insert_with(|| line_starts_of(&source.text));
                        let pos = pos_of(source, starts, alias.line, alias.column);
                        let message = format!(
                            "alias `{}` of user `{}` is also declared for user `{owner}` at \
                             {file}:{line}:{column}",
                            alias.address, user.key
                        );
                        errors.push(
                            LoadError::at(source, pos, message, "declared again here").with_help(
                                "an address belongs to one mailbox: keep it under one user \
                                 (aliases compare ignoring case)",
                            ),
                        );
                    }
                }
            }
        }
    }
}

/// The byte offset where each line of `text` starts.
fn line_starts_of(text: &str) -> Vec<usize> {
    std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect()
}

/// A label position for a key at `line:column` (1-based, column in characters) of a file: the
/// key up to its `:`.
fn pos_of(source: &SourceFile, line_starts: &[usize], line: usize, column: usize) -> Pos {
    let text = &*source.text;
    let offset = match line_starts.get(line.wrapping_sub(1)) {
        Some(&start) => {
            let line_text = text[start..].split_inclusive('\n').next().unwrap_or_default();
            start + super::raw::offset_in_line(line_text, column)
        }
        None => text.len(),
    };
    let rest = text.get(offset..).unwrap_or_default();
    let len = rest.find([':', '\n']).unwrap_or(rest.len());
    Pos { offset, len, line, column }
}

/// `files` without repeats, in order: a file named twice (`a.yaml a.yaml`, `dir dir/a.yaml`,
/// `./a.yaml`, a symlink to it) is read once, under the name it was first reached by, so it
/// is never a duplicate of itself. A path that cannot be resolved is kept as given: reading it
/// reports why.
fn read_once(files: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut seen = HashSet::new();
    files
        .into_iter()
        .filter(|file| seen.insert(std::fs::canonicalize(file).unwrap_or_else(|_| file.clone())))
        .collect()
}

/// Expand one path argument into files: a file as is, a directory recursively.
fn collect(path: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<LoadError>) {
    let name = display_path(path);
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {
            let before = (files.len(), errors.len());
            let mut visited = BTreeSet::new();
            walk(path, 0, &mut visited, files, errors);
            // An entry refused while walking (a FIFO, a device) has its own error.
            if (files.len(), errors.len()) == before {
                errors.push(LoadError::path(
                    &name,
                    PathProblem::Empty,
                    format!("{name}: directory holds no *.yaml or *.yml file"),
                ));
            }
        }
        Ok(_) => files.push(path.to_path_buf()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => errors.push(
            LoadError::path(&name, PathProblem::Missing, format!("{name} does not exist"))
                .with_help(
                    "name a desired-state file, or a directory of them (*.yaml and *.yml files are \
                 read from it, recursively)",
                ),
        ),
        Err(e) => errors.push(LoadError::path(
            &name,
            PathProblem::Unreadable,
            format!("{name}: cannot read: {e}"),
        )),
    }
}

fn walk(
    dir: &Path,
    depth: usize,
    visited: &mut BTreeSet<PathBuf>,
    files: &mut Vec<PathBuf>,
    errors: &mut Vec<LoadError>,
) {
    let name = display_path(dir);
    // Symlinked directories may loop; the canonical path breaks the cycle.
    let canonical = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    if depth > MAX_DIR_DEPTH || !visited.insert(canonical) {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            let message = format!("{name}: cannot read directory: {e}");
            errors.push(LoadError::path(&name, PathProblem::Unreadable, message));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        // Hidden entries (.git, editor state) are never desired state.
        if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.')) {
            continue;
        }
        // The entry, or what a symlink points to.
        let meta = match std::fs::metadata(&path) {
            Ok(meta) => meta,
            Err(_) if !is_yaml(&path) => continue,
            Err(e) => {
                let name = display_path(&path);
                let message = format!("{name}: cannot read: {e}");
                errors.push(LoadError::path(&name, PathProblem::Unreadable, message));
                continue;
            }
        };
        if meta.is_dir() {
            walk(&path, depth + 1, visited, files, errors);
        } else if is_yaml(&path) {
            if meta.is_file() {
                files.push(path);
            } else {
                // Never opened: a FIFO could block the run, a device never end. A link to one
                // committed to the repository must not take a CI job down.
                let name = display_path(&path);
                let kind = bounded_read::describe(&meta.file_type());
                errors.push(
                    LoadError::file(&name, format!("{name}: is {kind}, not a regular file"))
                        .with_help(
                            "inside a directory only regular files (or links to them) are read; \
                             name a FIFO or a device on the command line to read it",
                        ),
                );
            }
        }
    }
}

/// `*.yaml` or `*.yml`, in any case (`B.YAML` too): what a directory walk reads.
pub(crate) fn is_yaml(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// A path as the user would type it, with `/` separators on every platform so that output
/// (and snapshots) are the same everywhere, and characters a terminal would act on escaped.
fn display_path(path: &Path) -> String {
    crate::model::printable::printable(&path.to_string_lossy().replace('\\', "/")).into_owned()
}
