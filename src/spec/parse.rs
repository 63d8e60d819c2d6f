//! Running serde-saphyr over a file's text, with explicit limits against hostile input.

use super::error::{LoadError, Pos, SourceFile};
use serde::de::DeserializeSeed;
use serde_saphyr::{Budget, DuplicateKeyPolicy, Options};

/// Largest file accepted: 100,000 users with a dozen attributes each (what `export` writes for
/// the largest organizations) is about 40 MiB of YAML.
pub(crate) const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;

/// Parser limits. Events and nodes of the text itself are bounded by its size (every node takes
/// at least two bytes), so those limits only follow the size limit; what an alias bomb or a
/// deeply nested document could multiply — replayed alias events, depth — is capped small, so
/// hostile input is refused after milliseconds of work.
fn options() -> Options {
    let mut budget = Budget::default();
    budget.max_depth = 16;
    budget.flow_nesting_limit = 16;
    budget.max_events = MAX_FILE_BYTES;
    budget.max_nodes = MAX_FILE_BYTES / 2;
    budget.max_aliases = 10_000;
    budget.max_anchors = 10_000;
    budget.max_documents = 1;
    budget.max_total_scalar_bytes = MAX_FILE_BYTES;
    budget.max_recorded_anchor_events = 20_000;
    budget.max_recorded_anchor_bytes = 1024 * 1024;
    budget.max_merge_keys = 10_000;
    let mut options = Options::default();
    options.budget = Some(budget);
    // Aliases may expand a shared block of attributes a few hundred times, not millions.
    options.alias_limits.max_total_replayed_events = 20_000;
    options.alias_limits.max_replay_stack_depth = 16;
    // Duplicates reach our visitor so we can report each one, with both places, and go on
    // checking the rest of the file.
    options.duplicate_keys = DuplicateKeyPolicy::PassThrough;
    // We draw our own snippet with miette; keep serde-saphyr's message to one line.
    options.with_snippet = false;
    // `on`/`yes` still arrive as booleans (so a plain `office: yes` is caught as unquoted),
    // but a boolean field accepts only `true`/`false` (checked against the source text).
    options.strict_booleans = false;
    options
}

/// Parse one file's text, driving `seed` over its single document. A syntax error or a breached
/// limit stops this file (YAML cannot be resynchronized reliably), with its position.
pub(crate) fn parse<'t, S: DeserializeSeed<'t>>(
    source: &'t SourceFile,
    seed: S,
) -> Result<S::Value, Box<LoadError>> {
    let text = &*source.text;
    if text.len() > MAX_FILE_BYTES {
        return Err(Box::new(
            LoadError::file(
                &source.name,
                format!(
                    "{}: file is {} bytes; at most {} bytes are allowed",
                    source.name,
                    text.len(),
                    MAX_FILE_BYTES
                ),
            )
            .with_help("split the users over several files"),
        ));
    }
    serde_saphyr::with_deserializer_from_str_with_options(text, options(), |de| {
        seed.deserialize(de)
    })
    .map_err(|err| {
        let refused = budget_breach(&err);
        let message = refused.clone().unwrap_or_else(|| yaml_message(&err));
        let pos = err.location().map_or(Pos { offset: 0, len: 0, line: 1, column: 1 }, |loc| {
            Pos::from_location(&loc, text)
        });
        let error = LoadError::at(
            source,
            pos,
            if refused.is_some() {
                format!("refused: {message}")
            } else {
                format!("invalid YAML: {message}")
            },
            if refused.is_some() { "limit reached here" } else { "here" },
        );
        Box::new(if refused.is_some() {
            error.with_help(
                "desired-state files are small, plain mappings: anchors and aliases may not \
                 expand into more than 20000 nodes (an alias bomb), and nesting is limited to \
                 16 levels",
            )
        } else {
            error
        })
    })
}

/// serde-saphyr's message without its trailing ` at line L, column C` (miette shows that).
fn yaml_message(err: &serde_saphyr::Error) -> String {
    let full = err.to_string();
    let first = full.lines().next().unwrap_or_default();
    let trimmed = match first.rfind(" at line ") {
        Some(i) if first[i..].contains(", column ") => &first[..i],
        _ => first,
    };
    trimmed.trim().to_string()
}

/// For a breached parsing limit, a short description of which one; `None` for other errors.
fn budget_breach(err: &serde_saphyr::Error) -> Option<String> {
    let full = err.to_string();
    let lower = full.to_ascii_lowercase();
    if !(lower.contains("budget") || lower.contains("limit") || lower.contains("exceeded")) {
        return None;
    }
    // serde-saphyr names the breach like `budget breached: RecordedAnchorEvents { … }`;
    // keep the name, drop counters and positions (miette shows the position).
    let name = full
        .split_once("breached: ")
        .map(|(_, rest)| rest)
        .and_then(|rest| rest.split([' ', '{', '(']).next())
        .filter(|n| !n.is_empty());
    Some(match name {
        Some(name) => format!("input exceeds the parser's resource limits ({name})"),
        None => yaml_message(err),
    })
}

#[cfg(test)]
mod tests {
    use crate::spec::load_str;

    /// A file at the limit is parsed (an organization of 100,000 users fits); one byte more is
    /// refused before parsing, with the sizes and a way out.
    #[test]
    fn files_up_to_the_size_limit_are_read() {
        let head = "organization: acme\nusers:\n  alice: {}\n";
        let mut text = String::with_capacity(super::MAX_FILE_BYTES + 1);
        text.push_str(head);
        // A comment fills the file up to the limit: cheap to parse, but every byte counts.
        text.push('#');
        text.extend(std::iter::repeat_n('x', super::MAX_FILE_BYTES - head.len() - 1));
        assert_eq!(text.len(), super::MAX_FILE_BYTES);
        assert!(load_str("big.yaml", &text).is_ok());
        text.push('x');
        let errors = load_str("big.yaml", &text).expect_err("one byte over the limit");
        let error = errors.iter().next().expect("one error");
        assert_eq!(
            error.message(),
            format!(
                "big.yaml: file is {} bytes; at most {} bytes are allowed",
                super::MAX_FILE_BYTES + 1,
                super::MAX_FILE_BYTES
            )
        );
    }
}
