//! SOURCE: a directory of desired-state files, or a symbolic link to one as git-sync publishes
//! it (a link whose target is named after the commit, swapped atomically to a new worktree).
//! A run resolves every link on the way once, component by component, and reads everything
//! under the one directory it found, so a swap during a read never mixes two revisions. The
//! revision is the commit the last link named after one points to, else a digest of the files.
//! Between runs, a [`Watcher`] looks for a new one.

use crate::model::bounded_read;
use crate::reconcile::{DesiredState, MAX_FILE_BYTES};
use crate::reconcile::{DesiredStateError, Selection, load_observed};
use sha2::{Digest, Sha256};
use std::ffi::OsString;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;
use thiserror::Error;

/// A file of this name at the top of the resolved source suspends writing.
const SUSPEND_FILE: &str = ".workmail-reconcile-suspend";

/// How many hex digits of the digest a directory's revision shows.
const DIGEST_DIGITS: usize = 12;

/// The most symbolic links followed to resolve SOURCE, as many as Linux follows for one path
/// (`MAXSYMLINKS`): more is a loop, or as good as one.
const MAX_LINK_HOPS: usize = 40;

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
    /// The commit hash that the last link followed on the way names as its target's last
    /// component (git-sync's worktree), if any link did: the revision.
    pub commit: Option<String>,
}

/// The files of one run, read once.
#[derive(Debug)]
pub(crate) struct Loaded {
    /// The commit of [`Resolved::commit`], else `sha256:` and the first 12 hex digits of the
    /// digest of the files read (relative paths and bytes), valid or not.
    pub revision: String,
    pub desired: Result<DesiredState, DesiredStateError>,
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

    /// Resolve SOURCE once: every link on the way followed (SOURCE itself, a directory above
    /// it such as git-sync's `rev`, links inside link targets), each read once, to the
    /// directory it names, and the commit the last link named after one points to.
    pub(crate) fn resolve(&self) -> Result<Resolved, SourceError> {
        let shown = self.path.display().to_string();
        let (dir, commit) = follow_links(&self.path)
            .map_err(|e| SourceError::Unreadable { path: shown.clone(), reason: e.to_string() })?;
        let meta = std::fs::metadata(&dir)
            .map_err(|e| SourceError::Unreadable { path: shown.clone(), reason: e.to_string() })?;
        if !meta.is_dir() {
            return Err(SourceError::NotADirectory { path: shown });
        }
        Ok(Resolved { dir, commit })
    }
}

/// One step of a path being resolved.
enum Step {
    /// Start again from this root (`/`, or a Windows prefix and root).
    Root(PathBuf),
    /// `..`: up one directory from where the resolution is.
    Parent,
    /// Into the entry of this name, a link or not.
    Name(OsString),
}

/// The steps of `path`, `.` left out.
fn steps(path: &Path) -> Vec<Step> {
    let mut steps = Vec::new();
    for component in path.components() {
        match component {
            Component::Prefix(prefix) => steps.push(Step::Root(PathBuf::from(prefix.as_os_str()))),
            Component::RootDir => match steps.last_mut() {
                Some(Step::Root(prefix)) => prefix.push(component),
                _ => steps.push(Step::Root(PathBuf::from(component.as_os_str()))),
            },
            Component::CurDir => {}
            Component::ParentDir => steps.push(Step::Parent),
            Component::Normal(name) => steps.push(Step::Name(name.to_os_string())),
        }
    }
    steps
}

/// `path` resolved as the kernel resolves it, one component at a time: each link read once
/// and its target (relative to the link's directory, or absolute) resolved in its place, `..`
/// taken after the links before it. Returns the path reached, free of links, and the commit
/// hash that the last link followed whose target's final component is one names. At most
/// [`MAX_LINK_HOPS`] links are followed.
fn follow_links(path: &Path) -> io::Result<(PathBuf, Option<String>)> {
    let mut todo = steps(&std::path::absolute(path)?);
    todo.reverse();
    let mut at = PathBuf::new();
    let mut commit = None;
    let mut hops = 0;
    while let Some(step) = todo.pop() {
        let name = match step {
            Step::Root(root) => {
                at = root;
                continue;
            }
            Step::Parent => {
                // `at` holds no link: its parent is the parent the kernel would find.
                at.pop();
                continue;
            }
            Step::Name(name) => name,
        };
        let next = at.join(&name);
        if !std::fs::symlink_metadata(&next)?.is_symlink() {
            at = next;
            continue;
        }
        hops += 1;
        if hops > MAX_LINK_HOPS {
            return Err(io::Error::other(format!(
                "more than {MAX_LINK_HOPS} symbolic links on the way to it (a loop of links?)"
            )));
        }
        let target = std::fs::read_link(&next)?;
        if let Some(hash) =
            target.file_name().and_then(|n| n.to_str()).filter(|n| is_commit_name(n))
        {
            commit = Some(hash.to_string());
        }
        // The target's steps come next, from the link's directory (`at`) or from its root.
        todo.extend(steps(&target).into_iter().rev());
    }
    Ok((at, commit))
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
        let revision = self.commit.clone().unwrap_or_else(|| digest.finish());
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
    /// A link on the way names a commit: that commit, and the directory reached (a link
    /// re-pointed within one commit is worth a run too).
    Commit { commit: String, dir: PathBuf },
    /// No link names a commit: each file's path, size and modification time, and the revision
    /// digest of their bytes (computed only when those change).
    Directory { files: Vec<(PathBuf, u64, Option<SystemTime>)>, revision: String },
}

/// Looks at SOURCE now and then and says when it changed. Cheap when nothing did: the links on
/// the way are read, and a directory's file list and sizes; files are read and hashed only
/// when one of those moved, and a run is due only when the hash moved too (a `touch` is no
/// new revision).
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
        if let Some(commit) = resolved.commit {
            return Observation::Commit { commit, dir: resolved.dir };
        }
        let paths = crate::reconcile::list_files(&[&resolved.dir]);
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
            // Read as the run reads it, up to the same limit: a huge file (or a device) is
            // refused unread, and its error, which names its size, stands for its bytes. The
            // run reports it.
            let bytes = bounded_read::read_bytes(path, MAX_FILE_BYTES)
                .unwrap_or_else(|e| e.to_string().into_bytes());
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
            (
                Observation::Commit { commit: a, dir: a_dir },
                Observation::Commit { commit: b, dir: b_dir },
            ) => a == b && a_dir == b_dir,
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
            assert_eq!(resolved.commit, None);
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

    const SHA1: &str = "0123456789abcdef0123456789abcdef01234567";
    const SHA2: &str = "fedcba9876543210fedcba9876543210fedcba98";
    const SHA256: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    fn link(root: &Path, name: &str, target: &str) {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        let staged = root.join(format!("{name}.new"));
        std::os::unix::fs::symlink(target, &staged).expect("link");
        // Swapped by rename, as git-sync does.
        std::fs::rename(&staged, &path).expect("swap");
    }

    /// The revision a run of SOURCE `name` under `root` reads.
    fn revision_of(root: &Path, name: &str) -> String {
        let resolved = Source::new(root.join(name)).resolve().expect("resolved");
        resolved.load(&Selection::default()).revision
    }

    #[test]
    fn a_link_to_a_commit_gives_the_commit_and_the_suspend_file_sits_at_its_top() {
        let root = tempfile::tempdir().expect("dir");
        write(root.path(), &format!("worktrees/{SHA1}/acme.yaml"), FILE);
        link(root.path(), "rev", &format!("worktrees/{SHA1}"));
        let resolved = Source::new(root.path().join("rev")).resolve().expect("a link");
        assert_eq!(resolved.commit.as_deref(), Some(SHA1));
        assert!(!resolved.suspended());
        let loaded = resolved.load(&Selection::default());
        assert_eq!(loaded.revision, SHA1);
        assert_eq!(loaded.desired.expect("valid").user_count(), 1);
        write(root.path(), &format!("worktrees/{SHA1}/{SUSPEND_FILE}"), "");
        assert!(resolved.suspended());
        // SHA-256 repositories, and a target written with a final slash.
        write(root.path(), &format!("worktrees/{SHA256}/acme.yaml"), FILE);
        link(root.path(), "rev", &format!("worktrees/{SHA256}/"));
        assert_eq!(revision_of(root.path(), "rev"), SHA256);
    }

    #[test]
    fn a_directory_below_a_commit_link_has_the_commit_as_revision() {
        let root = tempfile::tempdir().expect("dir");
        write(root.path(), &format!(".worktrees/{SHA1}/users/acme.yaml"), FILE);
        write(root.path(), "plain/users/acme.yaml", FILE);
        link(root.path(), "rev", &format!(".worktrees/{SHA1}"));
        // A link named otherwise (as /var is on macOS) names no revision.
        link(root.path(), "other", "plain");
        let resolved = Source::new(root.path().join("rev/users")).resolve().expect("resolved");
        assert_eq!(resolved.commit.as_deref(), Some(SHA1));
        assert!(resolved.dir.ends_with(format!("{SHA1}/users")), "{}", resolved.dir.display());
        assert_eq!(revision_of(root.path(), "rev/users"), SHA1);
        assert!(revision_of(root.path(), "other/users").starts_with("sha256:"));
    }

    #[test]
    fn a_link_into_a_commit_link_changes_revision_with_every_commit() {
        // git-sync's layout with SOURCE a link into it: src -> git/rev/users.
        let root = tempfile::tempdir().expect("dir");
        for sha in [SHA1, SHA2] {
            write(root.path(), &format!("git/.worktrees/{sha}/users/acme.yaml"), FILE);
        }
        link(root.path(), "git/rev", &format!(".worktrees/{SHA1}"));
        link(root.path(), "src", "git/rev/users");
        let mut watcher = Watcher::new(Source::new(root.path().join("src")));
        assert!(!watcher.changed());
        assert_eq!(revision_of(root.path(), "src"), SHA1);
        link(root.path(), "git/rev", &format!(".worktrees/{SHA2}"));
        assert_eq!(revision_of(root.path(), "src"), SHA2);
        assert!(watcher.changed(), "a new commit behind the link is a new revision");
        assert!(!watcher.changed());
        // Relative targets with `..`, and absolute ones.
        link(root.path(), "deploy/src", "../git/./rev/users/../users");
        assert_eq!(revision_of(root.path(), "deploy/src"), SHA2);
        let absolute = root.path().join("git/rev/users");
        link(root.path(), "abs", absolute.to_str().expect("utf-8"));
        assert_eq!(revision_of(root.path(), "abs"), SHA2);
    }

    #[test]
    fn along_a_chain_of_links_the_last_commit_named_wins() {
        let root = tempfile::tempdir().expect("dir");
        write(root.path(), &format!("trees/{SHA2}/acme.yaml"), FILE);
        // a -> b -> c -> trees/SHA2: the one commit on the way.
        link(root.path(), "c", &format!("trees/{SHA2}"));
        link(root.path(), "b", "c");
        link(root.path(), "a", "b");
        assert_eq!(revision_of(root.path(), "a"), SHA2);
        // A link named after one commit leading to a link named after another: the last.
        link(root.path(), &format!("names/{SHA1}"), &format!("../trees/{SHA2}"));
        link(root.path(), "old", &format!("names/{SHA1}"));
        assert_eq!(revision_of(root.path(), "old"), SHA2);
        // A commit link followed by a link whose target is named otherwise: still the commit.
        write(root.path(), &format!("trees/{SHA1}/real/acme.yaml"), FILE);
        link(root.path(), &format!("trees/{SHA1}/users"), "real");
        link(root.path(), "rev", &format!("trees/{SHA1}"));
        assert_eq!(revision_of(root.path(), "rev/users"), SHA1);
    }

    #[test]
    fn without_a_commit_link_the_revision_is_the_digest() {
        let root = tempfile::tempdir().expect("dir");
        write(root.path(), "trees/abc123/acme.yaml", FILE);
        write(root.path(), &format!("{SHA1}x/acme.yaml"), FILE);
        link(root.path(), "rev", "trees/abc123");
        // Not 40 or 64 hex digits: no commit.
        link(root.path(), "near", &format!("{SHA1}x"));
        let digest = revision_of(root.path(), "trees/abc123");
        assert!(digest.starts_with("sha256:"), "{digest}");
        assert_eq!(revision_of(root.path(), "rev"), digest);
        assert_eq!(revision_of(root.path(), "near"), digest);
    }

    #[test]
    fn a_loop_of_links_is_an_error_not_a_hang() {
        let root = tempfile::tempdir().expect("dir");
        link(root.path(), "a", "b");
        link(root.path(), "b", "a/users");
        let err = Source::new(root.path().join("a")).resolve().expect_err("a loop");
        assert!(err.to_string().contains("more than 40 symbolic links"), "{err}");
        assert!(matches!(
            Watcher::new(Source::new(root.path().join("a"))).observe(),
            Observation::Missing
        ));
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
        write(root.path(), "trees/three/acme.yaml", &FILE.replace("alice", "carol"));
        let link = root.path().join("rev");
        std::os::unix::fs::symlink("trees/one", &link).expect("link");
        let mut watcher = Watcher::new(Source::new(&link));
        assert!(!watcher.changed());
        let swap = |target: &str| {
            let staged = root.path().join("rev.new");
            std::os::unix::fs::symlink(target, &staged).expect("link");
            std::fs::rename(&staged, &link).expect("swap");
        };
        swap("trees/two");
        assert!(!watcher.changed(), "no commit named: the same files are the same revision");
        swap("trees/three");
        assert!(watcher.changed(), "other files behind the link are a new revision");
        std::fs::remove_file(&link).expect("unlink");
        assert!(watcher.changed(), "a source gone is a change (the run reports it)");
    }
}
