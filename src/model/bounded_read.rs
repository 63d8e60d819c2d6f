//! Reading an input file with a cap on its size, whatever the path names.
//!
//! Every file the tool reads (desired-state files, saved plans, emulator seeds) goes through
//! `read_bytes` or `read_text`. At most `limit + 1` bytes are ever read, so a huge file, a
//! device or a link to `/dev/zero` is refused once it passes the limit, never read whole; a
//! regular file whose size is already over the limit is refused without reading it. A FIFO is
//! opened without waiting for a writer: one that has none reads as nothing and is refused,
//! instead of hanging the run.

use std::fmt;
use std::fs::{File, FileType};
use std::io::{self, Read};
use std::path::Path;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FileReadError {
    /// Opening or reading failed (not found, permission denied, …).
    #[error("cannot read: {0}")]
    Io(#[from] io::Error),
    /// The file holds more than the limit.
    #[error("{}", too_large(kind, *size, *limit))]
    TooLarge {
        /// What the path named (`"file"` for a regular file).
        kind: &'static str,
        /// The size of a regular file; `None` for a stream, which was read up to the limit.
        size: Option<u64>,
        /// The most this kind of file may hold, in bytes.
        limit: usize,
    },
    /// A FIFO with no writer: nothing came and nothing will.
    #[error("a FIFO that nothing was written to (it has no writer)")]
    NoWriter,
    /// The bytes are not UTF-8 text.
    #[error("{err} at line {line}, column {column}", err = .0, line = .0.line, column = .0.column)]
    NotUtf8(NotUtf8),
}

impl FileReadError {
    /// The error as one line about `file`: `file:line:column: …` when it has a position (like
    /// every input error), `file: …` otherwise.
    pub(crate) fn message_for(&self, file: &str) -> String {
        match self {
            FileReadError::NotUtf8(e) => format!("{file}:{}:{}: {e}", e.line, e.column),
            _ => format!("{file}: {self}"),
        }
    }
}

/// Text that is not UTF-8: where its first invalid byte is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NotUtf8 {
    /// Byte offset of the first invalid byte.
    pub offset: usize,
    /// 1-based line of that byte.
    pub line: usize,
    /// 1-based column of that byte, counted in characters like every column the tool reports.
    pub column: usize,
    /// The invalid byte.
    pub byte: u8,
}

impl fmt::Display for NotUtf8 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not UTF-8 text (invalid byte 0x{:02X})", self.byte)
    }
}

/// Drop one trailing line break (`\n` or `\r\n`) from the contents of a key or secret
/// file, so that `openssl rand -hex 32 > FILE` and an editor's final newline give the same key.
pub(crate) fn drop_final_line_break(bytes: &mut Vec<u8>) {
    for ending in [b"\r\n".as_slice(), b"\n"] {
        if bytes.ends_with(ending) {
            bytes.truncate(bytes.len() - ending.len());
            return;
        }
    }
}

/// Read the file at `path` as UTF-8 text of at most `limit` bytes.
pub(crate) fn read_text(path: &Path, limit: usize) -> Result<String, FileReadError> {
    decode_utf8(read_bytes(path, limit)?).map_err(FileReadError::NotUtf8)
}

/// Read the file at `path` (a regular file, or anything else it names or links to: a FIFO, a
/// device) up to `limit` bytes; more is an error, found after reading `limit + 1` bytes at most.
pub(crate) fn read_bytes(path: &Path, limit: usize) -> Result<Vec<u8>, FileReadError> {
    let file = open(path)?;
    let meta = file.metadata()?;
    let file_type = meta.file_type();
    let kind = describe(&file_type);
    let capacity = if file_type.is_file() {
        if meta.len() > limit as u64 {
            return Err(FileReadError::TooLarge { kind, size: Some(meta.len()), limit });
        }
        usize::try_from(meta.len()).unwrap_or(limit)
    } else {
        // A stream's length is unknown: grow the buffer as bytes arrive.
        0
    };
    let bytes = read_at_most(file, limit.saturating_add(1), capacity)?;
    if bytes.len() > limit {
        // A stream, or a file that grew while read: its size is unknown.
        return Err(FileReadError::TooLarge { kind, size: None, limit });
    }
    if bytes.is_empty() && is_fifo(&file_type) {
        return Err(FileReadError::NoWriter);
    }
    Ok(bytes)
}

/// Read until the end or `bound` bytes, whichever comes first, into a buffer that starts at
/// `capacity` and never grows past `bound` (`read_to_end` doubles it: a stream at the limit
/// would take twice the memory).
fn read_at_most(mut reader: impl Read, bound: usize, capacity: usize) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(capacity.min(bound));
    let mut chunk = vec![0; 64 * 1024];
    while bytes.len() < bound {
        let want = chunk.len().min(bound - bytes.len());
        let n = match reader.read(&mut chunk[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if bytes.capacity() - bytes.len() < n {
            let target = bytes.capacity().saturating_mul(2).max(bytes.len() + n).min(bound);
            bytes.reserve_exact(target - bytes.len());
        }
        bytes.extend_from_slice(&chunk[..n]);
    }
    Ok(bytes)
}

/// `bytes` as a `String`, or where its first invalid byte is.
fn decode_utf8(bytes: Vec<u8>) -> Result<String, NotUtf8> {
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let before = std::str::from_utf8(&bytes[..offset]).unwrap_or_default();
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        NotUtf8 {
            offset,
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
            byte: bytes[offset],
        }
    })
}

/// What a file type is, as an error message names it: `"a FIFO"`, `"a character device"`.
pub(crate) fn describe(file_type: &FileType) -> &'static str {
    if file_type.is_file() {
        return "file";
    }
    if file_type.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    "a special file"
}

/// `file is N bytes; at most M bytes (64 MiB) are allowed`, or for a stream (read up to the
/// limit, so its size is unknown) `more than M bytes (a FIFO, read up to the limit); …`.
fn too_large(kind: &str, size: Option<u64>, limit: usize) -> String {
    const MIB: usize = 1024 * 1024;
    let found = match size {
        Some(size) => format!("{kind} is {size} bytes"),
        None => format!("more than {limit} bytes ({kind}, read up to the limit)"),
    };
    let allowed = if limit >= MIB && limit.is_multiple_of(MIB) {
        format!("{limit} bytes ({} MiB)", limit / MIB)
    } else {
        format!("{limit} bytes")
    };
    format!("{found}; at most {allowed} are allowed")
}

#[cfg(unix)]
fn is_fifo(file_type: &FileType) -> bool {
    std::os::unix::fs::FileTypeExt::is_fifo(file_type)
}

#[cfg(not(unix))]
fn is_fifo(_: &FileType) -> bool {
    false
}

/// Open for reading. On Unix the open does not block: opening a FIFO otherwise waits until a
/// writer opens it, possibly forever. Blocking is turned back on once open, so reads wait for
/// a writer's data as usual and end when the last writer closes (at once when there is none).
#[cfg(unix)]
fn open(path: &Path) -> io::Result<File> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)?;
    let fd = file.as_raw_fd();
    // SAFETY: `fd` is the open descriptor `file` owns for this whole block; F_GETFL and
    // F_SETFL read and set its status flags and touch no memory.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(file)
}

#[cfg(not(unix))]
fn open(path: &Path) -> io::Result<File> {
    File::open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_is_located_by_line_and_character_column() {
        let err = decode_utf8(b"a: 1\nb: \xc3\xa9\xff\n".to_vec()).expect_err("invalid");
        assert_eq!((err.offset, err.line, err.column, err.byte), (10, 2, 5, 0xFF));
        let err = FileReadError::NotUtf8(err);
        assert_eq!(err.message_for("a.yaml"), "a.yaml:2:5: not UTF-8 text (invalid byte 0xFF)");
        let err = decode_utf8(b"\x80".to_vec()).expect_err("invalid");
        assert_eq!((err.offset, err.line, err.column), (0, 1, 1));
    }

    #[test]
    fn a_regular_file_over_the_limit_is_refused_with_its_size() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("f");
        std::fs::write(&path, b"12345").expect("write");
        assert_eq!(read_bytes(&path, 5).expect("at the limit"), b"12345");
        let err = read_bytes(&path, 4).expect_err("over the limit");
        assert!(matches!(err, FileReadError::TooLarge { size: Some(5), limit: 4, .. }), "{err:?}");
        assert_eq!(err.to_string(), "file is 5 bytes; at most 4 bytes are allowed");
    }

    #[cfg(unix)]
    #[test]
    fn a_device_is_read_up_to_the_limit_and_refused() {
        let err = read_bytes(Path::new("/dev/zero"), 1024 * 1024).expect_err("endless");
        assert_eq!(
            err.to_string(),
            "more than 1048576 bytes (a character device, read up to the limit); at most \
             1048576 bytes (1 MiB) are allowed"
        );
    }
}
