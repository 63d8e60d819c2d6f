//! The `$schema` of the `yaml-language-server` modeline in an exported file. The language server
//! resolves a relative `$schema` against the file's own directory, so the right path depends on
//! where the file is written: it is found by looking for the repository's schema file.

use std::path::Path;

/// Where a repository keeps the desired-state schema, relative to its root
/// (`workmail-reconcile schema > schema/workmail-users.schema.json`).
pub(crate) const SCHEMA_FILE: &str = "schema/workmail-users.schema.json";

/// The `$schema` reference for a file written into `dir` (absolute, without `..`): the path from
/// `dir` to [`SCHEMA_FILE`] in `dir` or the nearest directory above it that has one, looking no
/// higher than the repository root (the first directory with a `.git` entry), since a schema
/// outside the repository is not there for anyone who clones it. `None` when there is none.
pub(crate) fn schema_reference(dir: &Path) -> Option<String> {
    for (levels, directory) in dir.ancestors().enumerate() {
        if directory.join(SCHEMA_FILE).is_file() {
            return Some(format!("{}{SCHEMA_FILE}", "../".repeat(levels)));
        }
        if directory.join(".git").exists() {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(root: &Path, relative: &str) {
        let path = root.join(relative);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, "{}").expect("write");
    }

    /// A temporary directory (kept while the guard lives) and its canonical path, which the
    /// relative paths are computed from.
    fn canonical_tempdir() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().canonicalize().expect("canonical");
        (dir, path)
    }

    #[test]
    fn schema_reference_is_relative_to_the_written_file() {
        let (_dir, root) = canonical_tempdir();
        touch(&root, SCHEMA_FILE);
        std::fs::create_dir_all(root.join("users/team")).expect("mkdir");
        for (directory, expected) in [
            ("", SCHEMA_FILE),
            ("users", "../schema/workmail-users.schema.json"),
            ("users/team", "../../schema/workmail-users.schema.json"),
        ] {
            assert_eq!(schema_reference(&root.join(directory)).as_deref(), Some(expected));
        }
    }

    #[test]
    fn schema_reference_stops_at_the_repository_root() {
        let (_dir, outer) = canonical_tempdir();
        touch(&outer, SCHEMA_FILE);
        // A repository inside a directory that happens to have a schema: not found, because
        // the path would leave the repository.
        touch(&outer, "repo/.git/HEAD");
        std::fs::create_dir_all(outer.join("repo/users")).expect("mkdir");
        assert_eq!(schema_reference(&outer.join("repo/users")), None);
        // A worktree's `.git` is a file; it marks the root just the same.
        touch(&outer, "tree/.git");
        std::fs::create_dir_all(outer.join("tree/users")).expect("mkdir");
        assert_eq!(schema_reference(&outer.join("tree/users")), None);
        // The schema at the repository root itself is found.
        touch(&outer, "repo/schema/workmail-users.schema.json");
        assert_eq!(
            schema_reference(&outer.join("repo/users")).as_deref(),
            Some("../schema/workmail-users.schema.json")
        );
    }

    #[test]
    fn schema_reference_ignores_a_directory_named_like_the_schema() {
        let (_dir, root) = canonical_tempdir();
        std::fs::create_dir_all(root.join(SCHEMA_FILE)).expect("mkdir");
        touch(&root, ".git");
        assert_eq!(schema_reference(&root), None);
    }
}
