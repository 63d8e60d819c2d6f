//! Running serde-saphyr over a file's text, with explicit limits against hostile input.

use super::error::{LoadError, Pos, SourceFile};
use crate::bounded_read::ReadError;
use serde::de::DeserializeSeed;
use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::{Budget, DuplicateKeyPolicy, Error, Location, Options};

/// Largest file accepted: 100,000 users with a dozen attributes each (what `export` writes for
/// the largest organizations) is about 40 MiB of YAML.
pub(crate) const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;

/// What to do with a file over [`MAX_FILE_BYTES`].
pub(crate) const TOO_LARGE_HELP: &str = "split the users over several files";

/// Deepest nesting of mappings and lists. A desired-state file needs three levels (`users`, a
/// user, an attribute); more is a mistake or an attack on the stack.
const MAX_DEPTH: usize = 16;

/// Most parser events (a scalar, or the start or end of a mapping or list) that aliases may
/// replay in one file. Anchors are recorded already expanded, so this bounds what a file
/// expands into, alias bomb or not. It lets every user of the largest organization (100,000)
/// merge a shared block of all 16 attributes (34 events each).
const MAX_REPLAYED_EVENTS: usize = 4_000_000;

/// Most events all anchored nodes may hold in all, kept in memory to be replayed. Each level
/// of an exponential alias bomb records its expansion, so one is refused here after a few
/// levels; a shared block of attributes is a few dozen events.
const MAX_ANCHORED_EVENTS: usize = 1_000_000;

/// Most bytes of text all anchored nodes may hold in all.
const MAX_ANCHORED_BYTES: usize = 16 * 1024 * 1024;

/// Deepest nesting of an alias replayed inside another alias's replay.
const MAX_ALIAS_NESTING: usize = 16;

/// The parser's limits. Events, nodes, aliases, anchors and merge keys of the text itself are
/// bounded by its size (each takes at least two bytes), so those limits only follow the size
/// limit. What aliases multiply — the events anchors record and replay — and the depth are
/// capped, so hostile input is refused after milliseconds of work, while a block of attributes
/// shared by thousands of users (`<<: *common`) is read.
fn budget() -> Budget {
    let mut budget = Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.flow_nesting_limit = MAX_DEPTH;
    budget.max_events = MAX_FILE_BYTES;
    budget.max_nodes = MAX_FILE_BYTES / 2;
    budget.max_aliases = MAX_FILE_BYTES / 2;
    budget.max_anchors = MAX_FILE_BYTES / 2;
    budget.max_merge_keys = MAX_FILE_BYTES / 2;
    budget.max_total_scalar_bytes = MAX_FILE_BYTES;
    budget.max_recorded_anchor_events = MAX_ANCHORED_EVENTS;
    budget.max_recorded_anchor_bytes = MAX_ANCHORED_BYTES;
    // A ratio of aliases to anchors says nothing about expansion: one shared block used by
    // every user has the highest ratio of all. The limits above bound what aliases expand to.
    budget.enforce_alias_anchor_ratio = false;
    budget.max_documents = 1;
    budget
}

fn options() -> Options {
    let mut options = Options::default();
    options.budget = Some(budget());
    options.alias_limits.max_total_replayed_events = MAX_REPLAYED_EVENTS;
    options.alias_limits.max_replay_stack_depth = MAX_ALIAS_NESTING;
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
        let too_large = ReadError::TooLarge {
            kind: "file",
            size: Some(text.len() as u64),
            limit: MAX_FILE_BYTES,
        };
        return Err(Box::new(
            LoadError::file(&source.name, too_large.message_for(&source.name))
                .with_help(TOO_LARGE_HELP),
        ));
    }
    serde_saphyr::with_deserializer_from_str_with_options(text, options(), |de| {
        seed.deserialize(de)
    })
    .map_err(|err| {
        let pos_of = |loc: Option<Location>| {
            loc.map_or(Pos { offset: 0, len: 0, line: 1, column: 1 }, |loc| {
                Pos::from_location(&loc, text)
            })
        };
        let err = innermost(&err);
        let pos = pos_of(err.location());
        Box::new(match refusal(err, &pos) {
            Some(refusal) => LoadError::at(source, pos, refusal.message, refusal.label)
                .with_help(refusal.help),
            None => LoadError::at(source, pos, format!("invalid YAML: {}", yaml_message(err)), "here"),
        })
    })
}

/// The error itself, out of the wrappers serde-saphyr puts around an error met in an alias.
fn innermost(err: &Error) -> &Error {
    match err {
        Error::AliasError { error, .. } => innermost(error),
        _ => err,
    }
}

/// serde-saphyr's message without its trailing ` at line L, column C` (miette shows that).
fn yaml_message(err: &Error) -> String {
    let full = err.to_string();
    let first = full.lines().next().unwrap_or_default();
    let trimmed = match first.rfind(" at line ") {
        Some(i) if first[i..].contains(", column ") => &first[..i],
        _ => first,
    };
    trimmed.trim().to_string()
}

/// A file refused for what it is rather than for a syntax error: the limit that fired (what
/// was found and what is allowed), or a second document.
struct Refusal {
    message: String,
    label: &'static str,
    help: &'static str,
}

/// How anchors and aliases work, and how to use them within the limits.
const ALIAS_HELP: &str = "an alias (`*name`) repeats what its anchor (`&name`) holds; anchor small \
     blocks (such as attributes shared by many users, used with `<<: *name`), and do not nest \
     aliases of aliases: each level multiplies the size (an alias bomb)";

/// The counts serde-saphyr reports with a breach are taken at the breach: one past the limit.
fn refusal(err: &Error, pos: &Pos) -> Option<Refusal> {
    let budget = budget();
    let limit = |what: String, label, help| Some(Refusal { message: what, label, help });
    match err {
        Error::MultipleDocuments { .. }
        | Error::Budget { breach: BudgetBreach::Documents { .. }, .. } => Some(Refusal {
            message: format!(
                "a desired-state file holds one YAML document; found a second at line {}, \
                 column {}",
                pos.line, pos.column
            ),
            label: "second document",
            help: "remove the `---` line that starts the second document (and what follows), or \
                   move that document to a file of its own",
        }),
        Error::AliasReplayLimitExceeded { max_total_replayed_events, .. } => limit(
            format!(
                "refused: aliases expand to more than {max_total_replayed_events} YAML events \
                 (scalars, starts and ends of mappings and lists) in this file; at most \
                 {max_total_replayed_events} are allowed"
            ),
            "limit reached here",
            ALIAS_HELP,
        ),
        Error::AliasReplayStackDepthExceeded { max_depth, .. } => limit(
            format!(
                "refused: aliases are replayed inside one another more than {max_depth} levels \
                 deep; at most {max_depth} are allowed"
            ),
            "limit reached here",
            ALIAS_HELP,
        ),
        Error::Budget { breach, .. } => {
            let (message, help) = match breach {
                BudgetBreach::RecordedAnchorEvents { .. } => (
                    format!(
                        "refused: anchored nodes (`&name`) hold more than {} YAML events in all \
                         (scalars, starts and ends of mappings and lists, aliases expanded); at \
                         most {} are allowed",
                        budget.max_recorded_anchor_events, budget.max_recorded_anchor_events
                    ),
                    ALIAS_HELP,
                ),
                BudgetBreach::RecordedAnchorBytes { .. } => (
                    format!(
                        "refused: anchored nodes (`&name`) hold more than {} bytes of text in \
                         all (aliases expanded); at most {} are allowed",
                        budget.max_recorded_anchor_bytes, budget.max_recorded_anchor_bytes
                    ),
                    ALIAS_HELP,
                ),
                BudgetBreach::Depth { depth } => (
                    format!(
                        "refused: mappings and lists are nested {depth} levels deep; at most {} \
                         levels are allowed",
                        budget.max_depth
                    ),
                    "a desired-state file needs three levels: `users`, a user, its attributes",
                ),
                BudgetBreach::Aliases { .. } => (
                    format!(
                        "refused: more than {} aliases (`*name`); at most {} are allowed",
                        budget.max_aliases, budget.max_aliases
                    ),
                    ALIAS_HELP,
                ),
                BudgetBreach::Anchors { .. } => (
                    format!(
                        "refused: more than {} anchors (`&name`); at most {} are allowed",
                        budget.max_anchors, budget.max_anchors
                    ),
                    ALIAS_HELP,
                ),
                BudgetBreach::MergeKeys { .. } => (
                    format!(
                        "refused: more than {} merge keys (`<<`); at most {} are allowed",
                        budget.max_merge_keys, budget.max_merge_keys
                    ),
                    ALIAS_HELP,
                ),
                BudgetBreach::Events { .. } => (
                    format!(
                        "refused: more than {} YAML events (scalars, starts and ends of mappings \
                         and lists); at most {} are allowed",
                        budget.max_events, budget.max_events
                    ),
                    TOO_LARGE_HELP,
                ),
                BudgetBreach::Nodes { .. } => (
                    format!(
                        "refused: more than {} YAML nodes; at most {} are allowed",
                        budget.max_nodes, budget.max_nodes
                    ),
                    TOO_LARGE_HELP,
                ),
                BudgetBreach::ScalarBytes { .. } => (
                    format!(
                        "refused: scalars hold more than {} bytes in all; at most {} are allowed",
                        budget.max_total_scalar_bytes, budget.max_total_scalar_bytes
                    ),
                    TOO_LARGE_HELP,
                ),
                // Limits this loader switches off or never reaches (the ratio heuristic,
                // includes, input bytes of a reader): serde-saphyr's own words.
                _ => (format!("refused: {}", yaml_message(err)), ALIAS_HELP),
            };
            limit(message, "limit reached here", help)
        }
        _ => None,
    }
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
