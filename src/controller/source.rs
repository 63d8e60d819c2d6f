//! SOURCE: a directory of desired-state files, or a symbolic link to one as git-sync publishes
//! it (a link whose target is named after the commit, swapped atomically to a new worktree).
//! A run resolves the link once and reads everything under that one directory, so a swap
//! during a read never mixes two revisions. Between runs, a [`Watcher`] looks for a new one.

use crate::reconcile::{LoadError, Selection, load_observed};
use crate::spec::DesiredState;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use thiserror::Error;

/// A file of this name at the top of the resolved source suspends writing.
const SUSPEND_FILE: &str = ".workmail-reconcile-suspend";

/// How many hex digits of the digest a directory's revision shows.
const DIGEST_DIGITS: usize = 12;

/// SOURCE as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Source {
    path: PathBuf,
}

/// Why SOURCE could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub(crate) enum SourceError {
    #[error("SOURCE {path}: cannot read: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("SOURCE {path}: is not a directory (give the directory of the desired-state files)")]
    NotADirectory { path: String },
}

/// Where SOURCE led for one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    /// The directory read, every link resolved.
    pub dir: PathBuf,
    /// The last component of the link's target, when SOURCE is a link: the revision.
    pub link_revision: Option<String>,
}

/// The files of one run, read once.
#[derive(Debug)]
pub(crate) struct Loaded {
    /// The link's target name, else `sha256:` and the first 12 hex digits of the digest of the
    /// files read (relative paths and bytes), valid or not.
    pub revision: String,
    pub desired: Result<DesiredState, LoadError>,
}

impl Source {
    /// SOURCE at `path`.
    pub(crate) fn new(path: impl Into<PathBuf>) -> Source {
        Source { path: path.into() }
    }

    /// SOURCE as given.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Resolve SOURCE once: every link followed to the directory it names. The revision is the
    /// link's target name when SOURCE is a link, or when SOURCE is a directory inside a link
    /// whose target is named as a git commit (git-sync's `/git/rev/users`).
    pub(crate) fn resolve(&self) -> Result<Resolved, SourceError> {
        let shown = self.path.display().to_string();
        let unreadable = |e: std::io::Error| SourceError::Unreadable {
            path: shown.clone(),
            reason: e.to_string(),
        };
        let is_link = std::fs::symlink_metadata(&self.path).map_err(unreadable)?.is_symlink();
        let (dir, link_revision) = if is_link {
            let dir = std::fs::canonicalize(&self.path).map_err(unreadable)?;
            let revision = dir.file_name().map(|name| name.to_string_lossy().into_owned());
            (dir, revision)
        } else {
            match commit_link_above(&self.path) {
                // The link is read once and the path rebuilt through its target, so that a swap
                // after this point cannot change which worktree the run reads.
                Some((target, rest, commit)) => {
                    (std::fs::canonicalize(target.join(rest)).map_err(unreadable)?, Some(commit))
                }
                None => (std::fs::canonicalize(&self.path).map_err(unreadable)?, None),
            }
        };
        if !std::fs::metadata(&dir).map_err(unreadable)?.is_dir() {
            return Err(SourceError::NotADirectory { path: shown });
        }
        Ok(Resolved { dir, link_revision })
    }
}

/// The nearest link above `path` whose target is named as a git commit (40 or 64 hex digits,
/// as git-sync names its worktrees): the target (joined to the link's directory), the rest of
/// `path` below the link, and the commit. Other links (`/var` on macOS, say) name no revision.
fn commit_link_above(path: &Path) -> Option<(PathBuf, PathBuf, String)> {
    let path = std::path::absolute(path).ok()?;
    for link in path.ancestors().skip(1) {
        if !std::fs::symlink_metadata(link).is_ok_and(|m| m.is_symlink()) {
            continue;
        }
        let target = std::fs::read_link(link).ok()?;
        let commit = target.file_name()?.to_str()?.to_string();
        if !is_commit_name(&commit) {
            return None;
        }
        let rest = path.strip_prefix(link).ok()?.to_path_buf();
        let target = link.parent().map_or_else(|| target.clone(), |parent| parent.join(&target));
        return Some((target, rest, commit));
    }
    None
}

/// Whether `name` is a git commit hash as git-sync names worktrees (SHA-1 or SHA-256).
fn is_commit_name(name: &str) -> bool {
    matches!(name.len(), 40 | 64) && name.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Resolved {
    /// Whether the suspend file is at the top of this directory.
    pub(crate) fn suspended(&self) -> bool {
        std::fs::symlink_metadata(self.dir.join(SUSPEND_FILE)).is_ok()
    }

    /// Read, validate and select the desired state under this directory, with its revision.
    pub(crate) fn load(&self, selection: &Selection) -> Loaded {
        let mut digest = RevisionDigest::new(&self.dir);
        let desired = load_observed(&[&self.dir], selection, &mut |name, text| {
            digest.add(name, text.as_bytes());
        });
        let revision = self.link_revision.clone().unwrap_or_else(|| digest.finish());
        Loaded { revision, desired }
    }
}

/// The digest of a directory's files: each file's path relative to the directory, then its
/// bytes, both length-prefixed so that no two different trees hash alike.
struct RevisionDigest {
    root: String,
    hasher: Sha256,
}

impl RevisionDigest {
    fn new(root: &Path) -> RevisionDigest {
        RevisionDigest { root: slashed(root), hasher: Sha256::new() }
    }

    /// Add the file named `name` (a path under the root, as the loader names it).
    fn add(&mut self, name: &str, bytes: &[u8]) {
        let relative = name.strip_prefix(&self.root).unwrap_or(name).trim_start_matches('/');
        for part in [relative.as_bytes(), bytes] {
            self.hasher.update((part.len() as u64).to_le_bytes());
            self.hasher.update(part);
        }
    }

    /// `sha256:` and the first 12 hex digits.
    fn finish(self) -> String {
        let hex: String = self.hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256:{}", &hex[..DIGEST_DIGITS])
    }
}

/// A path with `/` separators, as the loader names files.
fn slashed(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// What the watcher saw of the source, to tell a new revision from the last look.
#[derive(Debug, Clone)]
enum Observation {
    /// SOURCE could not be resolved.
    Missing,
    /// SOURCE is a link to this directory.
    Link(PathBuf),
    /// SOURCE is a directory: each file's path, size and modification time, and the revision
    /// digest of their bytes (computed only when those change).
    Directory { files: Vec<(PathBuf, u64, Option<SystemTime>)>, revision: String },
}

/// Looks at SOURCE now and then and says when it changed. Cheap when nothing did: a link is
/// read, or a directory's file list and sizes; files are read and hashed only when one of
/// those moved, and a run is due only when the hash moved too (a `touch` is no new revision).
#[derive(Debug)]
pub(crate) struct Watcher {
    source: Source,
    last: Option<Observation>,
}

impl Watcher {
    /// A watcher that has not looked yet.
    pub(crate) fn new(source: Source) -> Watcher {
        Watcher { source, last: None }
    }

    /// Look at SOURCE: true when it holds a new revision since the last look (never on the
    /// first look, which only sets the baseline).
    pub(crate) fn changed(&mut self) -> bool {
        let seen = self.observe();
        let changed = self.last.as_ref().is_some_and(|last| !last.same_revision(&seen));
        self.last = Some(seen);
        changed
    }

    fn observe(&self) -> Observation {
        let Ok(resolved) = self.source.resolve() else { return Observation::Missing };
        if resolved.link_revision.is_some() {
            return Observation::Link(resolved.dir);
        }
        let paths = crate::spec::list_files(&[&resolved.dir]);
        let files: Vec<(PathBuf, u64, Option<SystemTime>)> = paths
            .into_iter()
            .map(|path| {
                let meta = std::fs::metadata(&path).ok();
                let size = meta.as_ref().map_or(0, std::fs::Metadata::len);
                let modified = meta.and_then(|m| m.modified().ok());
                (path, size, modified)
            })
            .collect();
        if let Some(Observation::Directory { files: last_files, revision }) = &self.last
            && *last_files == files
        {
            return Observation::Directory { files, revision: revision.clone() };
        }
        let mut digest = RevisionDigest::new(&resolved.dir);
        for (path, ..) in &files {
            // An unreadable file is the run's error to report; here it only changes the hash.
            let bytes = std::fs::read(path).unwrap_or_default();
            digest.add(&slashed(path), &bytes);
        }
        Observation::Directory { files, revision: digest.finish() }
    }
}

impl Observation {
    /// Whether two looks saw the same revision: a directory's file list only saves rehashing.
    fn same_revision(&self, other: &Observation) -> bool {
        match (self, other) {
            (Observation::Missing, Observation::Missing) => true,
            (Observation::Link(a), Observation::Link(b)) => a == b,
            (
                Observation::Directory { revision: a, .. },
                Observation::Directory { revision: b, .. },
            ) => a == b,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, name: &str, text: &str) {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    const FILE: &str = "organization: acme\nusers:\n  alice: {}\n";

    #[test]
    fn a_directory_revision_is_a_digest_of_relative_paths_and_bytes() {
        let (one, two) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
        for dir in [&one, &two] {
            write(dir.path(), "a/acme.yaml", FILE);
        }
        let revision = |dir: &tempfile::TempDir| {
            let resolved = Source::new(dir.path()).resolve().expect("a directory");
            assert_eq!(resolved.link_revision, None);
            resolved.load(&Selection::default()).revision
        };
        let first = revision(&one);
        assert!(first.starts_with("sha256:") && first.len() == 7 + DIGEST_DIGITS, "{first}");
        // The same files elsewhere: the same revision.
        assert_eq!(revision(&two), first);
        // Another path, or another byte: another revision.
        std::fs::rename(two.path().join("a"), two.path().join("b")).expect("rename");
        assert_ne!(revision(&two), first);
        write(one.path(), "a/acme.yaml", &FILE.replace("alice", "alicf"));
        assert_ne!(revision(&one), first);
        // An invalid source has a revision too.
        write(one.path(), "a/acme.yaml", "organization: [");
        let invalid = Source::new(one.path()).resolve().expect("dir").load(&Selection::default());
        assert!(invalid.desired.is_err() && invalid.revision.starts_with("sha256:"));
    }

    #[test]
    fn a_link_revision_is_the_target_name_and_the_suspend_file_sits_at_its_top() {
        let root = tempfile::tempdir().expect("dir");
        write(root.path(), "worktrees/abc123/acme.yaml", FILE);
        let link = root.path().join("rev");
        std::os::unix::fs::symlink("worktrees/abc123", &link).expect("link");
        let resolved = Source::new(&link).resolve().expect("a link to a directory");
        assert_eq!(resolved.link_revision.as_deref(), Some("abc123"));
        assert!(!resolved.suspended());
        let loaded = resolved.load(&Selection::default());
        assert_eq!(loaded.revision, "abc123");
        assert_eq!(loaded.desired.expect("valid").user_count(), 1);
        write(root.path(), &format!("worktrees/abc123/{SUSPEND_FILE}"), "");
        assert!(resolved.suspended());
    }

    #[test]
    fn a_directory_inside_a_commit_link_has_the_commit_as_revision() {
        let root = tempfile::tempdir().expect("dir");
        let commit = "0123456789abcdef0123456789abcdef01234567";
        write(root.path(), &format!(".worktrees/{commit}/users/acme.yaml"), FILE);
        write(root.path(), "plain/users/acme.yaml", FILE);
        std::os::unix::fs::symlink(format!(".worktrees/{commit}"), root.path().join("rev"))
            .expect("link");
        // A link named otherwise (as /var is on macOS) names no revision.
        std::os::unix::fs::symlink("plain", root.path().join("other")).expect("link");
        let resolved = Source::new(root.path().join("rev/users")).resolve().expect("resolved");
        assert_eq!(resolved.link_revision.as_deref(), Some(commit));
        assert!(resolved.dir.ends_with(format!("{commit}/users")), "{}", resolved.dir.display());
        assert_eq!(resolved.load(&Selection::default()).revision, commit);
        let plain = Source::new(root.path().join("other/users")).resolve().expect("resolved");
        assert_eq!(plain.link_revision, None);
        assert!(plain.load(&Selection::default()).revision.starts_with("sha256:"));
    }

    #[test]
    fn a_missing_source_or_a_file_is_an_error_naming_it() {
        let root = tempfile::tempdir().expect("dir");
        let missing = Source::new(root.path().join("nope")).resolve().expect_err("missing");
        assert!(matches!(missing, SourceError::Unreadable { .. }), "{missing}");
        write(root.path(), "file.yaml", FILE);
        let file = Source::new(root.path().join("file.yaml")).resolve().expect_err("a file");
        assert!(
            file.to_string().ends_with(
                "file.yaml: is not a directory (give the directory of the desired-state files)"
            ),
            "{file}"
        );
    }

    #[test]
    fn the_watcher_sees_new_revisions_and_not_a_touch() {
        let root = tempfile::tempdir().expect("dir");
        write(root.path(), "dir/acme.yaml", FILE);
        let mut watcher = Watcher::new(Source::new(root.path().join("dir")));
        assert!(!watcher.changed(), "the first look is the baseline");
        assert!(!watcher.changed());
        // Rewritten with the same bytes (a new modification time): no new revision.
        write(root.path(), "dir/acme.yaml", FILE);
        assert!(!watcher.changed());
        write(root.path(), "dir/acme.yaml", &FILE.replace("alice", "bob"));
        assert!(watcher.changed());
        assert!(!watcher.changed());
        // Hidden files (the suspend file, .git) are no revision.
        write(root.path(), &format!("dir/{SUSPEND_FILE}"), "");
        assert!(!watcher.changed());

        write(root.path(), "trees/one/acme.yaml", FILE);
        write(root.path(), "trees/two/acme.yaml", FILE);
        let link = root.path().join("rev");
        std::os::unix::fs::symlink("trees/one", &link).expect("link");
        let mut watcher = Watcher::new(Source::new(&link));
        assert!(!watcher.changed());
        let staged = root.path().join("rev.new");
        std::os::unix::fs::symlink("trees/two", &staged).expect("link");
        std::fs::rename(&staged, &link).expect("swap");
        assert!(watcher.changed(), "a swapped link is a new revision, even with the same files");
        std::fs::remove_file(&link).expect("unlink");
        assert!(watcher.changed(), "a source gone is a change (the run reports it)");
    }
}
