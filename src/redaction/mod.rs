//! Redaction: replacing attribute values by a short keyed hash so that a plan can be shown in
//! a pull request or a CI log without disclosing personal data.
//!
//! The hash is an HMAC-SHA256 under a [`RedactionKey`]: equal values show the same marker
//! within a run, so a reviewer sees that `before` and `after` differ, but a reader without the
//! key cannot test guesses (a telephone number is one of a few billion) or recognise the empty
//! value. The key is random for each run unless `--redact-key-file` gives one, which makes the
//! markers comparable across runs for whoever holds it.

mod key;

pub(crate) use key::RedactionKey;

use crate::model::attrs::{AttrValue, Attribute};
use std::collections::BTreeSet;

/// Which attributes have their values replaced by `(redacted hmac:xxxxxxxx)`, and the key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Redaction {
    /// Show every value.
    #[default]
    None,
    /// Redact the values of these attributes and mailbox keys (`--redact FIELD,…`).
    Fields(BTreeSet<Attribute>, RedactionKey, BTreeSet<MailboxValues>),
    /// Redact the values of every attribute (`--redact-all`).
    All(RedactionKey),
}

/// A mailbox key whose values `--redact` may hide. Group names are identifiers, shown always.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MailboxValues {
    /// `aliases`: addresses.
    Aliases,
    /// `mailbox_quota_mb`.
    Quota,
}

impl MailboxValues {
    /// The key as files and `--redact` write it.
    pub fn key(self) -> &'static str {
        match self {
            MailboxValues::Aliases => "aliases",
            MailboxValues::Quota => "mailbox_quota_mb",
        }
    }

    /// The mailbox key named `key`, if its values can be redacted.
    pub fn from_key(key: &str) -> Option<MailboxValues> {
        [MailboxValues::Aliases, MailboxValues::Quota].into_iter().find(|m| m.key() == key)
    }
}

impl Redaction {
    /// Redact the values of these attributes only.
    pub fn fields(fields: BTreeSet<Attribute>, key: RedactionKey) -> Redaction {
        Redaction::Fields(fields, key, BTreeSet::new())
    }

    /// `value` of the mailbox key `values` as shown: itself, or its marker when covered.
    pub(crate) fn mailbox_value(&self, values: MailboxValues, value: &str) -> String {
        let key = match self {
            Redaction::Fields(_, key, mailbox) if mailbox.contains(&values) => key,
            Redaction::All(key) => key,
            _ => return value.to_string(),
        };
        marker(&AttrValue::Text(value.to_string()), key)
    }

    /// Whether the values of the mailbox key `values` are redacted.
    pub(crate) fn covers_mailbox(&self, values: MailboxValues) -> bool {
        match self {
            Redaction::None => false,
            Redaction::Fields(_, _, mailbox) => mailbox.contains(&values),
            Redaction::All(_) => true,
        }
    }
    /// Whether the values of `field` are redacted.
    pub(crate) fn covers(&self, field: Attribute) -> bool {
        match self {
            Redaction::None => false,
            Redaction::Fields(fields, ..) => fields.contains(&field),
            Redaction::All(_) => true,
        }
    }

    /// The key, when the redaction covers `field`.
    fn key_for(&self, field: Attribute) -> Option<&RedactionKey> {
        match self {
            Redaction::Fields(fields, key, _) if fields.contains(&field) => Some(key),
            Redaction::All(key) => Some(key),
            _ => None,
        }
    }

    /// `text` with every occurrence of a covered value among `values` replaced by its marker:
    /// for messages that may quote what was sent (a service's validation error, say). Longer
    /// values go first, so a value inside another is not half replaced.
    pub(crate) fn scrub<'v>(
        &self,
        text: &str,
        values: impl IntoIterator<Item = (Attribute, &'v AttrValue)>,
    ) -> String {
        let mut covered: Vec<(&str, &RedactionKey)> = values
            .into_iter()
            .filter_map(|(field, value)| Some((value.as_text()?, self.key_for(field)?)))
            .filter(|(text, _)| !text.is_empty())
            .collect();
        covered.sort_by_key(|(text, _)| std::cmp::Reverse(text.len()));
        let mut scrubbed = text.to_string();
        for (value, key) in covered {
            if scrubbed.contains(value) {
                scrubbed = scrubbed.replace(value, &marker(&AttrValue::Text(value.into()), key));
            }
        }
        scrubbed
    }
}

/// The value to show for `field`: `value` itself, or, when `redaction` covers the field,
/// `Text("(redacted hmac:xxxxxxxx)")` carrying the first 8 hex digits of the HMAC of the
/// value's canonical text (`true`/`false` for a boolean, the raw string otherwise).
pub(crate) fn redact_value(
    value: &AttrValue,
    field: Attribute,
    redaction: &Redaction,
) -> AttrValue {
    match redaction.key_for(field) {
        Some(key) => AttrValue::Text(marker(value, key)),
        None => value.clone(),
    }
}

/// How the human-readable formats and the logs print a value: the redaction marker bare, so
/// that it cannot be mistaken for a string value (which is always quoted), or the value's
/// JSON-style display.
pub(crate) fn display_value(value: &AttrValue, field: Attribute, redaction: &Redaction) -> String {
    match redaction.key_for(field) {
        Some(key) => marker(value, key),
        None => value.to_string(),
    }
}

/// `(redacted hmac:xxxxxxxx)` for a value: always 24 characters, whatever the value.
fn marker(value: &AttrValue, key: &RedactionKey) -> String {
    let canonical = match value {
        AttrValue::Bool(true) => "true",
        AttrValue::Bool(false) => "false",
        AttrValue::Text(text) => text.as_str(),
    };
    let digest = key.mac(canonical.as_bytes());
    // 8 hex digits (32 bits) are enough for a reviewer to tell two values apart in one plan.
    let short: String = digest.iter().take(4).map(|byte| format!("{byte:02x}")).collect();
    format!("(redacted hmac:{short})")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> AttrValue {
        AttrValue::Text(s.to_owned())
    }

    fn key(byte: u8) -> RedactionKey {
        RedactionKey::fixed(&[byte; 32])
    }

    #[test]
    fn render_redact_value_is_the_hmac_of_the_canonical_text() {
        // HMAC-SHA256 with a key of 32 × 0x01: "" → 2e72eb66…, "true" → 6780839a…,
        // "abc" → 73860612… (checked with Python's hmac module).
        let all = Redaction::All(key(1));
        assert_eq!(
            redact_value(&text(""), Attribute::Office, &all),
            text("(redacted hmac:2e72eb66)")
        );
        assert_eq!(
            redact_value(&AttrValue::Bool(true), Attribute::HiddenFromGlobalAddressList, &all),
            text("(redacted hmac:6780839a)")
        );
        assert_eq!(
            redact_value(&text("abc"), Attribute::City, &all),
            text("(redacted hmac:73860612)")
        );
    }

    #[test]
    fn render_redaction_depends_on_the_key_not_only_the_value() {
        // The plain SHA-256 of "" starts e3b0c442: that marker would give the empty value away.
        for value in [text(""), text("+1 555 0100")] {
            let one = redact_value(&value, Attribute::Telephone, &Redaction::All(key(1)));
            let two = redact_value(&value, Attribute::Telephone, &Redaction::All(key(2)));
            assert_ne!(one, two);
            assert_ne!(one, text("(redacted hmac:e3b0c442)"));
            assert_eq!(one, redact_value(&value, Attribute::Telephone, &Redaction::All(key(1))));
        }
    }

    #[test]
    fn render_redact_value_only_touches_covered_fields() {
        let phone = Redaction::fields(BTreeSet::from([Attribute::Telephone]), key(1));
        let value = text("+1 555 0100");
        assert_eq!(redact_value(&value, Attribute::City, &phone), value);
        assert_eq!(redact_value(&value, Attribute::Telephone, &Redaction::None), value);
        assert_ne!(redact_value(&value, Attribute::Telephone, &phone), value);
    }

    #[test]
    fn render_redact_value_keeps_different_values_apart_at_one_width() {
        let all = Redaction::All(key(1));
        let a = display_value(&text("+1 555 0100"), Attribute::Telephone, &all);
        let b = display_value(&text("+1 555 0199"), Attribute::Telephone, &all);
        assert_ne!(a, b);
        assert_eq!((a.len(), b.len()), (24, 24));
    }

    #[test]
    fn render_display_value_quotes_values_but_not_markers() {
        let phone = Redaction::fields(BTreeSet::from([Attribute::Telephone]), key(1));
        assert_eq!(display_value(&text("a\"b\n"), Attribute::City, &phone), r#""a\"b\n""#);
        assert_eq!(
            display_value(&text("abc"), Attribute::Telephone, &phone),
            "(redacted hmac:73860612)"
        );
    }

    #[test]
    fn render_scrub_replaces_covered_values_quoted_in_a_message() {
        let phone = Redaction::fields(BTreeSet::from([Attribute::Telephone]), key(1));
        let values = [
            (Attribute::Telephone, text("555 0100")),
            (Attribute::City, text("Paris")),
            (Attribute::Office, text("")),
        ];
        let message = "Value '555 0100' at 'telephone' failed; Value 'Paris' at 'city' is fine";
        let scrubbed = phone.scrub(message, values.iter().map(|(a, v)| (*a, v)));
        let marker = display_value(&text("555 0100"), Attribute::Telephone, &phone);
        assert_eq!(
            scrubbed,
            format!("Value '{marker}' at 'telephone' failed; Value 'Paris' at 'city' is fine")
        );
        assert_eq!(Redaction::None.scrub(message, values.iter().map(|(a, v)| (*a, v))), message);
    }
}
