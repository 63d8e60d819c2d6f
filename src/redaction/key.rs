//! The secret key of redaction hashes: random for each run unless `--redact-key-file` gives one.
//!
//! A plain hash of a value can be reversed by hashing candidates (every telephone number of a
//! country is a few billion hashes) and shows the empty value as a constant everybody knows.
//! An HMAC under a key the reader does not have can be compared, not reversed.

use crate::model::bounded_read::{self, FileReadError};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;

/// Bytes of a generated key, and the fewest a key file must hold (128 bits).
const GENERATED_KEY_BYTES: usize = 32;
const MIN_KEY_BYTES: usize = 16;
/// The most a key file may hold; reading stops one byte after it.
const MAX_KEY_BYTES: usize = 4096;

/// An HMAC-SHA256 key. Its bytes are never shown, not even by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct RedactionKey(Arc<[u8]>);

/// Why no key could be had.
#[derive(Debug, Error)]
pub(crate) enum RedactionKeyError {
    #[error("cannot generate a random redaction key: {0}")]
    Random(String),
    #[error("cannot read the redaction key file {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error(
        "the redaction key file {} holds {len} bytes; a key needs at least {MIN_KEY_BYTES} \
         (e.g. `head -c 32 /dev/urandom > {}`)",
        path.display(), path.display()
    )]
    TooShort { path: PathBuf, len: usize },
    #[error("the redaction key file {} is longer than {MAX_KEY_BYTES} bytes; is it the right file?", path.display())]
    TooLong { path: PathBuf },
}

impl fmt::Debug for RedactionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RedactionKey(..)")
    }
}

impl RedactionKey {
    /// A fresh key from the operating system's random source: hashes of one run compare with
    /// each other and with nothing else.
    pub(crate) fn random() -> Result<RedactionKey, RedactionKeyError> {
        let mut key = [0u8; GENERATED_KEY_BYTES];
        getrandom::fill(&mut key).map_err(|e| RedactionKeyError::Random(e.to_string()))?;
        Ok(RedactionKey(Arc::from(key.as_slice())))
    }

    /// The key in `path`: its bytes, less one trailing line break (so `openssl rand -hex 32 >
    /// FILE` and an editor's final newline give the same key). Read like every input file,
    /// at most [`MAX_KEY_BYTES`] + 1 bytes whatever the file is, and a FIFO without a writer
    /// refused instead of waited for.
    pub(crate) fn read_file(path: &Path) -> Result<RedactionKey, RedactionKeyError> {
        let path_buf = || path.to_path_buf();
        let mut bytes = bounded_read::read_bytes(path, MAX_KEY_BYTES).map_err(|e| match e {
            FileReadError::TooLarge { .. } => RedactionKeyError::TooLong { path: path_buf() },
            FileReadError::Io(source) => RedactionKeyError::Read { path: path_buf(), source },
            other => RedactionKeyError::Read {
                path: path_buf(),
                source: std::io::Error::other(other.to_string()),
            },
        })?;
        bounded_read::drop_final_line_break(&mut bytes);
        if bytes.len() < MIN_KEY_BYTES {
            return Err(RedactionKeyError::TooShort { path: path.to_path_buf(), len: bytes.len() });
        }
        Ok(RedactionKey(Arc::from(bytes)))
    }

    /// A key from these bytes, for tests that need hashes to stay put.
    #[cfg(test)]
    pub(crate) fn fixed(bytes: &[u8]) -> RedactionKey {
        RedactionKey(Arc::from(bytes))
    }

    /// HMAC-SHA256 of `data` under this key.
    pub(super) fn mac(&self, data: &[u8]) -> [u8; 32] {
        // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            unreachable!("HMAC accepts keys of every length")
        };
        mac.update(data);
        mac.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_test_case_2() {
        let key = RedactionKey::fixed(b"Jefe");
        let mac = key.mac(b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn random_keys_differ_and_never_show_in_debug() {
        let (a, b) = (RedactionKey::random().expect("key"), RedactionKey::random().expect("key"));
        assert_ne!(a, b);
        assert_eq!(format!("{a:?}"), "RedactionKey(..)");
    }

    #[test]
    fn key_files_lose_one_line_break_and_must_be_long_enough() {
        let dir = tempfile::tempdir().expect("tempdir");
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).expect("write");
            path
        };
        let bare = RedactionKey::read_file(&write("bare", b"0123456789abcdef")).expect("key");
        let lf = RedactionKey::read_file(&write("lf", b"0123456789abcdef\n")).expect("key");
        let crlf = RedactionKey::read_file(&write("crlf", b"0123456789abcdef\r\n")).expect("key");
        assert_eq!((&bare, &lf), (&crlf, &crlf));

        let short = RedactionKey::read_file(&write("short", b"0123456789abcde\n"));
        assert!(matches!(short, Err(RedactionKeyError::TooShort { len: 15, .. })), "{short:?}");
        let empty = RedactionKey::read_file(&write("empty", b""));
        assert!(matches!(empty, Err(RedactionKeyError::TooShort { len: 0, .. })), "{empty:?}");
        let long = RedactionKey::read_file(&write("long", &[7; MAX_KEY_BYTES + 1]));
        assert!(matches!(long, Err(RedactionKeyError::TooLong { .. })), "{long:?}");
        let missing = RedactionKey::read_file(&dir.path().join("missing"));
        assert!(matches!(missing, Err(RedactionKeyError::Read { .. })), "{missing:?}");
    }

    #[cfg(unix)]
    #[test]
    fn an_endless_key_file_is_refused_after_a_bounded_read() {
        let long = RedactionKey::read_file(Path::new("/dev/zero"));
        assert!(matches!(long, Err(RedactionKeyError::TooLong { .. })), "{long:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_key_fifo_without_a_writer_is_refused_not_waited_for() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("key");
        let name = std::ffi::CString::new(fifo.to_str().expect("utf-8")).expect("no NUL");
        // SAFETY: mkfifo(3) with a NUL-terminated path that lives across the call.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        let (sent, read) = std::sync::mpsc::channel();
        std::thread::spawn(move || sent.send(RedactionKey::read_file(&fifo).map(|_| ())));
        // Opening a FIFO waits for a writer unless told not to: a hang fails the test here.
        let result = read.recv_timeout(std::time::Duration::from_secs(30)).expect("no hang");
        assert!(matches!(result, Err(RedactionKeyError::Read { .. })), "{result:?}");
    }
}
