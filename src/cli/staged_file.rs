//! A file written whole or not at all: written under a temporary name in its destination's
//! directory, and moved onto the destination only once complete. A failure on the way (a call
//! that fails, a full disk) leaves no partial file and leaves an existing file as it was.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// A file being written; dropped without [`StagedFile::commit`], it leaves nothing behind.
pub(crate) struct StagedFile {
    temporary: PathBuf,
    destination: PathBuf,
    file: Option<File>,
}

impl StagedFile {
    /// A new temporary file next to `destination` (`.NAME.PID.N.partial`, never an existing one).
    /// A destination that is a symbolic link is written through it: the file it points to is
    /// replaced, not the link.
    pub(crate) fn create(destination: &Path) -> io::Result<StagedFile> {
        let through_link = destination
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink())
            .then(|| destination.canonicalize().ok())
            .flatten();
        let destination = through_link.as_deref().unwrap_or(destination);
        let name = destination.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_else(|| "export".to_string());
        let directory = match destination.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let mut attempt = 0u32;
        loop {
            let temporary =
                directory.join(format!(".{name}.{}.{attempt}.partial", std::process::id()));
            match OpenOptions::new().write(true).create_new(true).open(&temporary) {
                Ok(file) => {
                    return Ok(StagedFile {
                        temporary,
                        destination: destination.to_path_buf(),
                        file: Some(file),
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 1000 => {
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The file to write to.
    pub(crate) fn file(&mut self) -> io::Result<&mut File> {
        self.file.as_mut().ok_or_else(|| io::Error::other("the staged file is closed"))
    }

    /// Flush to disk and move onto the destination. Without `overwrite`, an existing
    /// destination is an `AlreadyExists` error, checked atomically (a hard link), so a file
    /// created meanwhile is not replaced either.
    pub(crate) fn commit(mut self, overwrite: bool) -> io::Result<()> {
        if let Some(file) = self.file.take() {
            file.sync_all()?;
        }
        if overwrite {
            std::fs::rename(&self.temporary, &self.destination)?;
        } else {
            std::fs::hard_link(&self.temporary, &self.destination)?;
            // The data is in place; a temporary name left behind is only clutter.
            let _ = std::fs::remove_file(&self.temporary);
        }
        self.temporary = PathBuf::new();
        Ok(())
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        self.file.take();
        if !self.temporary.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.temporary);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_dropped_file_leaves_nothing_and_a_committed_one_is_whole() {
        let dir = std::env::temp_dir().join(format!("staged-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let out = dir.join("out.csv");
        let mut staged = StagedFile::create(&out).expect("create");
        staged.file().expect("file").write_all(b"half").expect("write");
        drop(staged);
        assert!(entries(&dir).is_empty(), "{:?}", entries(&dir));

        std::fs::write(&out, "old").expect("old");
        let mut staged = StagedFile::create(&out).expect("create");
        staged.file().expect("file").write_all(b"new").expect("write");
        let refused = staged.commit(false).expect_err("exists");
        assert_eq!(refused.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&out).expect("read"), "old");
        assert_eq!(entries(&dir), ["out.csv"]);

        let mut staged = StagedFile::create(&out).expect("create");
        staged.file().expect("file").write_all(b"new").expect("write");
        staged.commit(true).expect("commit");
        assert_eq!(std::fs::read_to_string(&out).expect("read"), "new");
        assert_eq!(entries(&dir), ["out.csv"]);
        std::fs::remove_dir_all(&dir).expect("clean");
    }

    #[cfg(unix)]
    #[test]
    fn a_link_is_written_through() {
        let dir = std::env::temp_dir().join(format!("staged-link-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("real")).expect("dir");
        std::fs::write(dir.join("real/out.csv"), "old").expect("old");
        std::os::unix::fs::symlink("real/out.csv", dir.join("link.csv")).expect("link");
        let mut staged = StagedFile::create(&dir.join("link.csv")).expect("create");
        staged.file().expect("file").write_all(b"new").expect("write");
        staged.commit(true).expect("commit");
        assert!(dir.join("link.csv").symlink_metadata().expect("link").file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(dir.join("real/out.csv")).expect("read"), "new");
        std::fs::remove_dir_all(&dir).expect("clean");
    }
}
