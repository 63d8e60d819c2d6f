//! `export --format m365-bundle --out-dir DIR`: where the bundle goes, checked before any call,
//! and its four files written all or none.

use super::staged_file::StagedFile;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The files of a bundle, in the order they are moved into place: the README last, so that a
/// directory with a README holds the whole bundle.
pub(crate) const BUNDLE_FILES: [&str; 4] = ["users.csv", "aliases.csv", "groups.csv", "README.txt"];

/// A checked `--out-dir`.
pub(crate) struct BundleDir {
    pub path: PathBuf,
    force: bool,
}

impl BundleDir {
    /// Checked before any API call: `path` is a directory or can become one, and without
    /// `force` holds none of the bundle's files.
    pub(crate) fn new(path: &Path, force: bool) -> miette::Result<BundleDir> {
        let cannot = |why: String| miette::miette!("cannot write into {}: {why}", path.display());
        if path.exists() && !path.is_dir() {
            return Err(cannot(
                "it is a file, not a directory; give a directory (created when \
                               missing)"
                    .into(),
            ));
        }
        // The nearest part of the path that exists must be a directory for the rest to be made.
        let existing = path.ancestors().find(|a| a.as_os_str().is_empty() || a.exists());
        if let Some(existing) = existing.filter(|a| !a.as_os_str().is_empty())
            && !existing.is_dir()
        {
            return Err(cannot(format!("{} is not a directory", existing.display())));
        }
        // Replacing cannot turn a directory into a file: found now, not after the whole export.
        if let Some(name) = BUNDLE_FILES.iter().find(|name| path.join(name).is_dir()) {
            return Err(cannot(format!("{name} in it is a directory")));
        }
        if !force {
            let present: Vec<String> = BUNDLE_FILES
                .iter()
                .filter(|name| path.join(name).symlink_metadata().is_ok())
                .map(|name| name.to_string())
                .collect();
            if !present.is_empty() {
                return Err(cannot(format!(
                    "it holds {} already; pass --force to replace them, or give another directory",
                    present.join(", ")
                )));
            }
        }
        Ok(BundleDir { path: path.to_path_buf(), force })
    }

    /// Create the directory and write every file, `contents` in the order of [`BUNDLE_FILES`]:
    /// all are staged before the first is moved into place, so a failure while writing leaves
    /// none of them.
    pub(crate) fn write(&self, contents: [&[u8]; 4]) -> miette::Result<()> {
        let failed = |what: &str, e: std::io::Error| {
            miette::miette!("cannot write {}: {e}; no file of the bundle was written", what)
        };
        std::fs::create_dir_all(&self.path)
            .map_err(|e| failed(&self.path.display().to_string(), e))?;
        let mut staged = Vec::new();
        for (name, bytes) in BUNDLE_FILES.iter().zip(contents) {
            let destination = self.path.join(name);
            let shown = destination.display().to_string();
            let mut file = StagedFile::create(&destination).map_err(|e| failed(&shown, e))?;
            file.file().and_then(|f| f.write_all(bytes)).map_err(|e| failed(&shown, e))?;
            staged.push((shown, file));
        }
        for (shown, file) in staged {
            file.commit(self.force).map_err(|e| {
                miette::miette!("cannot write {shown}: {e} (pass --force to replace a file)")
            })?;
        }
        Ok(())
    }
}
