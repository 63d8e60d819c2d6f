//! Text the tool does not control (file names, lines of a file, names and messages from the
//! service) made safe to show: on a terminal, in a log line, or in a comment of a written file.
//! One rule for every place such text is shown, so that none is forgotten.
//!
//! A character is escaped when a terminal or a reader could act on it instead of showing it:
//! control characters (ESC starts a terminal command, CR and NEL end a YAML comment), the line
//! and paragraph separators (line breaks to YAML 1.1 and JavaScript readers), and the
//! bidirectional marks, overrides and isolates that reorder what is shown.

use std::borrow::Cow;

/// Whether `c` is escaped by [`printable`] and [`quoted`].
pub(crate) fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'
                ..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with every unsafe character written as a Rust escape (`\u{1b}`, `\n`, `\t`), for
/// one-line messages, names and paths. Borrowed when there is nothing to escape.
pub(crate) fn printable(text: &str) -> Cow<'_, str> {
    if text.bytes().all(|b| matches!(b, b' '..=b'~')) || !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `text` as a double-quoted JSON string whose unsafe characters are all `\uXXXX` escapes:
/// valid JSON, and a valid YAML double-quoted scalar that reads back as `text` (YAML refuses
/// raw DEL and C1 controls, which JSON allows).
pub(crate) fn quoted(text: &str) -> String {
    json_escaped(&serde_json::Value::String(text.to_string()).to_string()).into_owned()
}

/// JSON text (a document, or lines of them) with every unsafe character but the line feed
/// written as a `\uXXXX` escape: serde_json leaves DEL, the C1 controls, the separators and
/// the bidirectional characters raw. Such characters only occur inside JSON strings, where the
/// escape means the same character. Borrowed when there is nothing to escape.
pub(crate) fn json_escaped(json: &str) -> Cow<'_, str> {
    let escaped = |c: char| c != '\n' && is_unsafe(c);
    if !json.chars().any(escaped) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if escaped(c) {
            // Every unsafe character is in the Basic Multilingual Plane: one `\uXXXX`.
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A multi-line `text` (a file shown with its line numbers) with every unsafe character
/// escaped except the line feed, the tab and the carriage return of a CRLF line end, and the
/// byte offset in the result of each byte offset in `text`. `None` when nothing needs escaping.
pub(crate) fn printable_lines(text: &str) -> Option<ShownText> {
    // The usual file: printable ASCII, line feeds and tabs, checked a byte at a time.
    if text.bytes().all(|b| matches!(b, b' '..=b'~' | b'\n' | b'\t')) {
        return None;
    }
    let kept = |at: usize, c: char| match c {
        '\n' | '\t' => true,
        '\r' => text.as_bytes().get(at + 1) == Some(&b'\n'),
        _ => !is_unsafe(c),
    };
    if text.char_indices().all(|(at, c)| kept(at, c)) {
        return None;
    }
    let mut shown = String::with_capacity(text.len() + 16);
    let mut shifts = Vec::new();
    for (at, c) in text.char_indices() {
        if kept(at, c) {
            shown.push(c);
        } else {
            shown.extend(c.escape_default());
            shifts.push((at + c.len_utf8(), shown.len() - (at + c.len_utf8())));
        }
    }
    Some(ShownText { text: shown, shifts })
}

/// A text with unsafe characters escaped, and how to find a place of the original in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ShownText {
    /// The escaped text.
    pub text: String,
    /// After each escaped character: (its end in the original, how many bytes longer the
    /// escaped text is from there on), in order.
    shifts: Vec<(usize, usize)>,
}

impl ShownText {
    /// The byte offset in [`ShownText::text`] of byte `offset` of the original text. An offset
    /// inside an escaped character maps to the start of its escape.
    pub(crate) fn offset(&self, offset: usize) -> usize {
        let after = self.shifts.partition_point(|(end, _)| *end <= offset);
        let shift = if after == 0 { 0 } else { self.shifts[after - 1].1 };
        offset + shift
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_controls_separators_and_bidi_and_borrows_otherwise() {
        assert!(matches!(printable("Zoë O'Brien (R&D)"), Cow::Borrowed(_)));
        assert_eq!(printable("a\u{1b}]0;x\u{7}b\nc\rd"), "a\\u{1b}]0;x\\u{7}b\\nc\\rd");
        assert_eq!(printable("\u{7f}\u{85}\u{9b}"), "\\u{7f}\\u{85}\\u{9b}");
        assert_eq!(printable("x\u{2028}y\u{202e}z\u{2067}"), "x\\u{2028}y\\u{202e}z\\u{2067}");
    }

    #[test]
    fn quoted_is_json_that_escapes_what_json_leaves_raw() {
        assert_eq!(quoted("plain"), "\"plain\"");
        assert_eq!(quoted("a\"b\u{1b}"), "\"a\\\"b\\u001b\"");
        let hostile = "x\u{7f}\u{85}\u{9b}\u{2028}\u{202e}";
        let written = quoted(hostile);
        assert_eq!(written, "\"x\\u007f\\u0085\\u009b\\u2028\\u202e\"");
        let back: String = serde_json::from_str(&written).expect("JSON");
        assert_eq!(back, hostile);
        let line = "{\"message\":\"a\u{9b}b\"}\n";
        assert_eq!(json_escaped(line), "{\"message\":\"a\\u009bb\"}\n");
    }

    #[test]
    fn printable_lines_keeps_line_ends_and_maps_offsets() {
        assert_eq!(printable_lines("a: b\r\n\tc: d\n"), None);
        let shown = printable_lines("a: \u{1b}[2J\nb: \r\u{85}x\n").expect("escaped");
        assert_eq!(shown.text, "a: \\u{1b}[2J\nb: \\r\\u{85}x\n");
        // `a` and the `[` after ESC, `b`, and `x` after CR and NEL.
        assert_eq!(shown.offset(0), 0);
        assert_eq!(shown.offset(3), 3);
        assert_eq!(shown.offset(4), 9);
        assert_eq!(&shown.text[shown.offset(8)..shown.offset(8) + 1], "b");
        let x = "a: \u{1b}[2J\nb: \r\u{85}x\n".find('x').expect("x");
        assert_eq!(&shown.text[shown.offset(x)..shown.offset(x) + 1], "x");
    }
}
