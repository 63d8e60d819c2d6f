//! Redaction: replacing attribute values by a short hash so that a plan can be shown in a
//! pull request or a CI log without disclosing personal data.
//!
//! The hash is deterministic and unsalted on purpose: a reviewer must see that `before` and
//! `after` differ, and the same value must hash the same in two runs so that plans can be
//! compared. The flip side is that a low-entropy value (a telephone number, a boolean) can be
//! guessed by hashing candidates; redaction keeps values out of casual view, it is not
//! encryption.

use crate::attrs::{AttrValue, Attribute};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// Which attributes have their values replaced by `(redacted sha256:xxxxxxxx)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Redaction {
    /// Show every value.
    #[default]
    None,
    /// Redact the values of these attributes (`--redact FIELD,…`).
    Fields(BTreeSet<Attribute>),
    /// Redact the values of every attribute (`--redact-all`).
    All,
}

impl Redaction {
    /// Whether the values of `field` are redacted.
    pub fn covers(&self, field: Attribute) -> bool {
        match self {
            Redaction::None => false,
            Redaction::Fields(fields) => fields.contains(&field),
            Redaction::All => true,
        }
    }
}

/// The value to show for `field`: `value` itself, or, when `redaction` covers the field,
/// `Text("(redacted sha256:xxxxxxxx)")` carrying the first 8 hex digits of the SHA-256 of the
/// value's canonical text (`true`/`false` for a boolean, the raw string otherwise).
pub fn redact_value(value: &AttrValue, field: Attribute, redaction: &Redaction) -> AttrValue {
    if redaction.covers(field) { AttrValue::Text(redaction_marker(value)) } else { value.clone() }
}

/// How the human-readable formats print a value: the redaction marker bare, so that it cannot
/// be mistaken for a string value (which is always quoted), or the value's JSON-style display.
pub(crate) fn display_value(value: &AttrValue, field: Attribute, redaction: &Redaction) -> String {
    if redaction.covers(field) { redaction_marker(value) } else { value.to_string() }
}

/// `(redacted sha256:xxxxxxxx)` for a value.
fn redaction_marker(value: &AttrValue) -> String {
    let canonical = match value {
        AttrValue::Bool(true) => "true",
        AttrValue::Bool(false) => "false",
        AttrValue::Text(text) => text.as_str(),
    };
    let digest = Sha256::digest(canonical.as_bytes());
    // 8 hex digits (32 bits) are enough for a reviewer to tell two values apart in one plan.
    let short: String = digest.iter().take(4).map(|byte| format!("{byte:02x}")).collect();
    format!("(redacted sha256:{short})")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> AttrValue {
        AttrValue::Text(s.to_owned())
    }

    #[test]
    fn render_redact_value_hashes_the_canonical_text() {
        // sha256("") = e3b0c442…, sha256("true") = b5bea41b…, sha256("abc") = ba7816bf…
        let all = Redaction::All;
        assert_eq!(
            redact_value(&text(""), Attribute::Office, &all),
            text("(redacted sha256:e3b0c442)")
        );
        assert_eq!(
            redact_value(&AttrValue::Bool(true), Attribute::HiddenFromGlobalAddressList, &all),
            text("(redacted sha256:b5bea41b)")
        );
        assert_eq!(
            redact_value(&text("abc"), Attribute::City, &all),
            text("(redacted sha256:ba7816bf)")
        );
    }

    #[test]
    fn render_redact_value_only_touches_covered_fields() {
        let phone = Redaction::Fields(BTreeSet::from([Attribute::Telephone]));
        let value = text("+1 555 0100");
        assert_eq!(redact_value(&value, Attribute::City, &phone), value);
        assert_eq!(redact_value(&value, Attribute::Telephone, &Redaction::None), value);
        assert_ne!(redact_value(&value, Attribute::Telephone, &phone), value);
    }

    #[test]
    fn render_redact_value_keeps_different_values_apart() {
        let a = redact_value(&text("+1 555 0100"), Attribute::Telephone, &Redaction::All);
        let b = redact_value(&text("+1 555 0199"), Attribute::Telephone, &Redaction::All);
        assert_ne!(a, b);
    }

    #[test]
    fn render_display_value_quotes_values_but_not_markers() {
        let phone = Redaction::Fields(BTreeSet::from([Attribute::Telephone]));
        assert_eq!(display_value(&text("a\"b\n"), Attribute::City, &phone), r#""a\"b\n""#);
        assert_eq!(
            display_value(&text("abc"), Attribute::Telephone, &phone),
            "(redacted sha256:ba7816bf)"
        );
    }
}
