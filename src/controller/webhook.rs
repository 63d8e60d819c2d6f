//! `POST /trigger` authentication: the body signed with a shared secret, as GitHub signs its
//! webhooks (`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`), compared in
//! constant time.

use crate::model::bounded_read::{self, FileReadError};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::fmt;
use std::path::Path;

/// The header that carries the signature.
pub(crate) const SIGNATURE_HEADER: &str = "x-hub-signature-256";

/// The longest secret file read; a secret is a password, not a document.
const MAX_SECRET_BYTES: usize = 4096;

/// The shared secret of `--webhook-secret-file`.
#[derive(Clone)]
pub struct WebhookSecret(Vec<u8>);

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

impl WebhookSecret {
    /// The secret in `path`: its bytes less one trailing line break, at least one byte, at most
    /// [`MAX_SECRET_BYTES`]. The error names the file and what is allowed.
    pub(crate) fn read_file(path: &Path) -> Result<WebhookSecret, String> {
        let shown = path.display();
        let mut bytes = bounded_read::read_bytes(path, MAX_SECRET_BYTES).map_err(|e| match e {
            FileReadError::TooLarge { .. } => format!(
                "--webhook-secret-file {shown}: longer than {MAX_SECRET_BYTES} bytes; a webhook \
                 secret is a single line, such as the output of `openssl rand -hex 32`"
            ),
            other => {
                format!("--webhook-secret-file {shown}: {}", other.message_for(&shown.to_string()))
            }
        })?;
        bounded_read::drop_final_line_break(&mut bytes);
        if bytes.is_empty() {
            return Err(format!(
                "--webhook-secret-file {shown}: the file is empty; put the webhook's secret in \
                 it, such as the output of `openssl rand -hex 32`"
            ));
        }
        Ok(WebhookSecret(bytes))
    }

    /// A secret of these bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> WebhookSecret {
        WebhookSecret(bytes.into())
    }

    /// Whether `header` (the value of [`SIGNATURE_HEADER`], if any) is `sha256=` and the hex
    /// HMAC-SHA256 of `body` under this secret. The MAC is compared in constant time.
    pub(crate) fn verify(&self, header: Option<&[u8]>, body: &[u8]) -> bool {
        let Some(hex) = header.and_then(|h| h.strip_prefix(b"sha256=")) else { return false };
        let Some(signature) = decode_hex(hex) else { return false };
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else { return false };
        mac.update(body);
        // `verify_slice` compares with the `subtle` crate's constant-time equality.
        mac.verify_slice(&signature).is_ok()
    }

    /// The header value that signs `body` (for clients and tests).
    pub fn sign(&self, body: &[u8]) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            unreachable!("HMAC accepts keys of every length")
        };
        mac.update(body);
        let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256={hex}")
    }
}

/// 64 hex digits (either case) as 32 bytes.
fn decode_hex(hex: &[u8]) -> Option<Vec<u8>> {
    if hex.len() != 64 {
        return None;
    }
    hex.chunks(2)
        .map(|pair| {
            let digit = |c: u8| (c as char).to_digit(16);
            Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_github_signature_verifies_and_anything_else_does_not() {
        // The example of GitHub's documentation on validating webhook deliveries.
        let secret = WebhookSecret::new("It's a Secret to Everybody");
        let body = b"Hello, World!";
        let good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(secret.sign(body), good);
        assert!(secret.verify(Some(good.as_bytes()), body));
        assert!(
            secret.verify(Some(good.to_uppercase().replace("SHA256=", "sha256=").as_bytes()), body)
        );
        assert!(!secret.verify(Some(good.as_bytes()), b"Hello, World?"));
        assert!(!secret.verify(None, body));
        assert!(!secret.verify(Some(&good.as_bytes()[7..]), body));
        assert!(!secret.verify(Some(&good.as_bytes()[..good.len() - 2]), body));
        assert!(!secret.verify(Some(good.replace("sha256=", "sha1=").as_bytes()), body));
        assert!(!WebhookSecret::new("another").verify(Some(good.as_bytes()), body));
    }

    #[test]
    fn the_secret_file_loses_one_line_break_and_may_not_be_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("secret");
        std::fs::write(&path, "s3cret\n").expect("write");
        let secret = WebhookSecret::read_file(&path).expect("a secret");
        assert_eq!(secret.sign(b"x"), WebhookSecret::new("s3cret").sign(b"x"));
        std::fs::write(&path, "\n").expect("write");
        let empty = WebhookSecret::read_file(&path).expect_err("empty");
        assert!(empty.contains("the file is empty"), "{empty}");
        std::fs::write(&path, vec![b'a'; MAX_SECRET_BYTES + 1]).expect("write");
        let long = WebhookSecret::read_file(&path).expect_err("too long");
        assert!(long.contains("longer than 4096 bytes"), "{long}");
        let missing = WebhookSecret::read_file(&dir.path().join("nope")).expect_err("missing");
        assert!(missing.starts_with("--webhook-secret-file "), "{missing}");
    }
}
