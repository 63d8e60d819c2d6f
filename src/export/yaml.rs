//! Writing a desired-state file. Hand-written rather than through a serializer so that every
//! string survives the round trip exactly: a value is written plain only when no YAML 1.1 or
//! 1.2 reader could take it for anything but that string; otherwise it is double-quoted with
//! JSON escapes (a subset of YAML's double-quoted style).

use super::{ExportedMailbox, ExportedOrganization};
use crate::model::attrs::AttrValue;
use crate::model::live::UserState;
use crate::model::printable::printable;
use std::io::Write;

/// Words some YAML reader turns into a boolean or null.
const RESERVED: [&str; 22] = [
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "nan", ".nan", "inf", ".inf",
    "-.inf", "+.inf", "<<", "=", "-", "?", ":", "!",
];

fn needs_quotes(s: &str) -> bool {
    let Some(first) = s.chars().next() else { return true };
    let lower = s.to_ascii_lowercase();
    if RESERVED.contains(&lower.as_str()) {
        return true;
    }
    // Anything that starts like a number (02134, +47 22…, .5, 1e3, 0x1F) is quoted.
    if first.is_ascii_digit() || matches!(first, '+' | '-' | '.') {
        return true;
    }
    if s.starts_with(' ') || s.ends_with(' ') {
        return true;
    }
    // Only a conservative set of characters is left plain; the rest is quoted.
    let plain_char = |c: char| {
        c.is_alphanumeric()
            || matches!(c, ' ' | '_' | '-' | '.' | '@' | '/' | '(' | ')' | '&' | ',' | '\'')
    };
    if !s.chars().all(plain_char) {
        return true;
    }
    // A leading indicator changes the meaning of a plain scalar.
    matches!(first, '&' | '\'' | '(' | ')' | '@' | ',' | '/')
}

/// The string as a YAML scalar: plain when safe, otherwise double-quoted (JSON escapes, and
/// `\uXXXX` for the DEL and C1 controls YAML refuses raw).
fn quote_if_needed(s: &str) -> String {
    if needs_quotes(s) { crate::model::printable::quoted(s) } else { s.to_string() }
}

fn value(v: &AttrValue) -> String {
    match v {
        AttrValue::Bool(b) => b.to_string(),
        AttrValue::Text(s) => quote_if_needed(s),
    }
}

/// The desired-state file for an exported organization: stable bytes for the same directory.
/// `schema` is the `$schema` of the `yaml-language-server` modeline; `None` writes none.
pub fn to_yaml(export: &ExportedOrganization, schema: Option<&str>) -> String {
    let mut out = Vec::new();
    // Writing to memory cannot fail, and only UTF-8 is written.
    let _ = write_yaml(export, schema, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// [`to_yaml`], written to `out` as it is produced: a 100,000-user organization is ~30 MB of
/// YAML, not worth holding in memory a second time.
pub(crate) fn write_yaml<W: Write>(
    export: &ExportedOrganization,
    schema: Option<&str>,
    mut out: W,
) -> std::io::Result<()> {
    if let Some(schema) = schema {
        writeln!(out, "# yaml-language-server: $schema={schema}")?;
    }
    // Comments carry text of the service: escaped, so that a line break (CR and NEL included)
    // cannot end the comment and write declarations of its own.
    writeln!(
        out,
        "# Exported by workmail-reconcile from organization {}.",
        printable(&export.organization_id)
    )?;
    if !export.skipped.is_empty() {
        writeln!(out, "# Left out, because they cannot be managed:")?;
        for skipped in &export.skipped {
            writeln!(out, "#   {}: {}", printable(&skipped.name), printable(&skipped.reason))?;
        }
    }
    if export.declared > 0 {
        let users = crate::model::wording::plural(export.declared, "user", "users");
        writeln!(
            out,
            "# Left out, because the files given to --skip-declared declare them: {users}."
        )?;
    }
    writeln!(out, "organization: {}", quote_if_needed(&export.reference))?;
    if export.users.is_empty() {
        writeln!(out, "users: {{}}")?;
        return out.flush();
    }
    writeln!(out, "users:")?;
    for user in &export.users {
        if user.state == UserState::Disabled {
            writeln!(
                out,
                "  # DISABLED: not registered to WorkMail; attributes are still managed"
            )?;
        }
        writeln!(out, "  {}:", quote_if_needed(&user.name))?;
        for (attr, v) in &user.attributes {
            writeln!(out, "    {}: {}", attr.key(), value(v))?;
        }
        write_mailbox(&user.mailbox, &mut out)?;
    }
    out.flush()
}

/// The mailbox keys that were read, after the attributes: lists in block style (a flow list
/// would need `,` `[` `]` quoted as well), `[]` when empty.
fn write_mailbox<W: Write>(mailbox: &ExportedMailbox, out: &mut W) -> std::io::Result<()> {
    for (key, list) in [("aliases", &mailbox.aliases), ("groups", &mailbox.groups)] {
        match list.as_deref() {
            None => {}
            Some([]) => writeln!(out, "    {key}: []")?,
            Some(items) => {
                writeln!(out, "    {key}:")?;
                for item in items {
                    writeln!(out, "      - {}", quote_if_needed(item))?;
                }
            }
        }
    }
    if let Some(quota) = mailbox.quota_mb {
        writeln!(out, "    mailbox_quota_mb: {quota}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tricky_strings_are_quoted_and_plain_ones_are_not() {
        for tricky in [
            "NO",
            "on",
            "yes",
            "~",
            "null",
            "true",
            "02134",
            "007",
            "+47 22 00 00 00",
            " lead",
            "trail ",
            "say \"hi\"",
            "a: b",
            "a #b",
            "#x",
            "line\nbreak",
            "",
            "-",
            "1e3",
            ".5",
            "tab\there",
            "'single'",
            "[x]",
            "{x}",
            "*alias",
            "&anchor",
            "!tag",
            "%x",
            "@x",
            "`x",
            "a|b",
            "a>b",
        ] {
            assert!(quote_if_needed(tricky).starts_with('"'), "{tricky:?} must be quoted");
        }
        for plain in
            ["Alice Liddell", "R&D", "Zoë Ångström", "alice@acme.example", "Staff Engineer (IC5)"]
        {
            assert_eq!(quote_if_needed(plain), plain);
        }
    }
}
