//! Running serde-saphyr over a file's text, with explicit limits against hostile input.

use super::error::{LoadError, Pos, SourceFile};
use crate::model::bounded_read::FileReadError;
use serde::de::DeserializeSeed;
use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::granit_parser::ErrorKind;
use serde_saphyr::{Budget, DuplicateKeyPolicy, Error, ExternalMessageSource, Location, Options};

/// Largest file accepted: 100,000 users with a dozen attributes each (what `export` writes for
/// the largest organizations) is about 40 MiB of YAML.
pub(crate) const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;

/// What to do with a file over [`MAX_FILE_BYTES`].
pub(crate) const TOO_LARGE_HELP: &str = "split the users over several files";

/// Deepest nesting of mappings and lists. A desired-state file needs three levels (`users`, a
/// user, an attribute); more is a mistake or an attack on the stack.
const MAX_DEPTH: usize = 16;

/// Most parser events (a scalar, or the start or end of a mapping or list) that aliases may
/// replay, per byte of the file. Anchors are recorded already expanded, so this bounds what a
/// file expands into, alias bomb or not, to twice its size, and the work and memory with it. A
/// user that only merges a shared block of all 16 attributes (`  user12345: {<<: *all}`, 34
/// events) replays 1.5 per byte of its line.
const REPLAYED_EVENTS_PER_BYTE: usize = 2;

/// What aliases may replay in any file, however small (it decides below 10,000 bytes): a
/// shared block of all 16 attributes merged by 500 users.
const MIN_REPLAYED_EVENTS: usize = 20_000;

/// What aliases may replay in any file, however large: each user's expansion is held in memory
/// while it is checked, so this also bounds the memory one user can take. 100,000 users
/// merging a shared block of 9 attributes (20 events each) fit.
const MAX_REPLAYED_EVENTS: usize = 2_000_000;

/// Most events all anchored nodes may hold in all, kept in memory to be replayed. Each level
/// of an exponential alias bomb records its expansion: in a large file, where aliases may
/// replay more, this stops one after a few levels. A shared block of attributes is a few dozen
/// events.
const MAX_ANCHORED_EVENTS: usize = 100_000;

/// Most bytes of text all anchored nodes may hold in all.
const MAX_ANCHORED_BYTES: usize = 4 * 1024 * 1024;

/// What aliases may replay in a file of `len` bytes.
fn max_replayed_events(len: usize) -> usize {
    len.saturating_mul(REPLAYED_EVENTS_PER_BYTE).clamp(MIN_REPLAYED_EVENTS, MAX_REPLAYED_EVENTS)
}

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
    // The depth limit counts flow collections too and names the depth found; the parser's
    // own limit, which may fire first as it scans ahead, is reported as the same limit.
    budget.flow_nesting_limit = MAX_DEPTH + 1;
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

/// serde-saphyr's options for a file of `len` bytes.
fn options(len: usize) -> Options {
    let mut options = Options::default();
    options.budget = Some(budget());
    options.alias_limits.max_total_replayed_events = max_replayed_events(len);
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
        let too_large = FileReadError::TooLarge {
            kind: "file",
            size: Some(text.len() as u64),
            limit: MAX_FILE_BYTES,
        };
        return Err(Box::new(
            LoadError::file(&source.name, too_large.message_for(&source.name))
                .with_help(TOO_LARGE_HELP),
        ));
    }
    serde_saphyr::with_deserializer_from_str_with_options(text, options(text.len()), |de| {
        seed.deserialize(de)
    })
    .map_err(|err| {
        let pos_of = |loc: Option<Location>| {
            loc.map_or(Pos { offset: 0, len: 0, line: 1, column: 1 }, |loc| {
                Pos::from_location(&loc, text)
            })
        };
        // Where the outer error is: for an error met while replaying an alias, the alias.
        let pos = pos_of(err.location());
        let err = innermost(&err);
        Box::new(match refusal(err, &pos, text.len()) {
            Some(refusal) => {
                LoadError::at(source, pos, refusal.message, refusal.label).with_help(refusal.help)
            }
            None => {
                LoadError::at(source, pos, format!("invalid YAML: {}", yaml_message(err)), "here")
            }
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

/// What the depth limit leaves room for.
const DEPTH_HELP: &str = "a desired-state file needs three levels: `users`, a user, its attributes";

/// What a parser event is, for messages.
const EVENTS: &str = "YAML events (scalars, starts and ends of mappings and lists)";

/// `refused: more than N things; at most N are allowed`: the counts serde-saphyr reports are
/// taken at the breach, so what was found is "more than the limit".
fn over(what: &str, allowed: usize) -> String {
    format!("refused: more than {allowed} {what}; at most {allowed} are allowed")
}

/// The refusal for a breached limit or a second document at `pos` of a file of `len` bytes;
/// `None` for any other error (a syntax error).
fn refusal(err: &Error, pos: &Pos, len: usize) -> Option<Refusal> {
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
                "refused: aliases expand to more than {max_total_replayed_events} {EVENTS}; at \
                 most {max_total_replayed_events} are allowed in a file of {len} bytes \
                 ({REPLAYED_EVENTS_PER_BYTE} per byte, at least {MIN_REPLAYED_EVENTS}, at most \
                 {MAX_REPLAYED_EVENTS})"
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
        Error::ExternalMessage { source, .. }
            if matches!(
                &**source,
                ExternalMessageSource::Parser(scan)
                    if matches!(scan.kind(), ErrorKind::RecursionLimitExceeded)
            ) =>
        {
            limit(
                format!(
                    "refused: mappings and lists are nested more than {MAX_DEPTH} levels deep; \
                     at most {MAX_DEPTH} levels are allowed"
                ),
                "limit reached here",
                DEPTH_HELP,
            )
        }
        Error::Budget { breach, .. } => {
            let (message, help) = budget_refusal(breach, err);
            limit(message, "limit reached here", help)
        }
        _ => None,
    }
}

/// The message and help for a breached budget limit of serde-saphyr; `err` is the whole error,
/// for the limits this loader does not name itself.
fn budget_refusal(breach: &BudgetBreach, err: &Error) -> (String, &'static str) {
    let budget = budget();
    match breach {
        BudgetBreach::RecordedAnchorEvents { .. } => (
            over(
                "YAML events held by anchored nodes (`&name`) in all, aliases expanded",
                budget.max_recorded_anchor_events,
            ),
            ALIAS_HELP,
        ),
        BudgetBreach::RecordedAnchorBytes { .. } => (
            over(
                "bytes of text held by anchored nodes (`&name`) in all, aliases expanded",
                budget.max_recorded_anchor_bytes,
            ),
            ALIAS_HELP,
        ),
        BudgetBreach::Depth { depth } => (
            format!(
                "refused: mappings and lists are nested {depth} levels deep; at most {} \
                 levels are allowed",
                budget.max_depth
            ),
            DEPTH_HELP,
        ),
        BudgetBreach::Aliases { .. } => (over("aliases (`*name`)", budget.max_aliases), ALIAS_HELP),
        BudgetBreach::Anchors { .. } => (over("anchors (`&name`)", budget.max_anchors), ALIAS_HELP),
        BudgetBreach::MergeKeys { .. } => {
            (over("merge keys (`<<`)", budget.max_merge_keys), ALIAS_HELP)
        }
        BudgetBreach::Events { .. } => (over(EVENTS, budget.max_events), TOO_LARGE_HELP),
        BudgetBreach::Nodes { .. } => (over("YAML nodes", budget.max_nodes), TOO_LARGE_HELP),
        BudgetBreach::ScalarBytes { .. } => {
            (over("bytes of scalar text", budget.max_total_scalar_bytes), TOO_LARGE_HELP)
        }
        // Limits this loader switches off or never reaches (the ratio heuristic,
        // includes, input bytes of a reader): serde-saphyr's own words.
        _ => (format!("refused: {}", yaml_message(err)), ALIAS_HELP),
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
                "big.yaml: file is {} bytes; at most {} bytes (64 MiB) are allowed",
                super::MAX_FILE_BYTES + 1,
                super::MAX_FILE_BYTES
            )
        );
    }

    /// The one error of loading `text`: its message, help and `line:column`.
    fn refusal(text: &str) -> (String, String, (usize, usize)) {
        let errors = load_str("a.yaml", text).expect_err("refused");
        assert_eq!(errors.len(), 1, "{errors:?}");
        let error = errors.iter().next().expect("one error");
        let at = error.location().map(|l| (l.line, l.column)).expect("a position");
        (error.message().to_string(), error.help_text().unwrap_or_default().to_string(), at)
    }

    /// `users` of `count` users that each merge the block anchored on the first one.
    fn shared_block(count: usize) -> String {
        let mut text = String::from(
            "organization: acme\nusers:\n  user0: &common\n    department: Engineering\n    \
             company: Acme\n    city: Berlin\n",
        );
        for i in 1..count {
            text.push_str(&format!("  user{i}:\n    <<: *common\n    display_name: User {i}\n"));
        }
        text
    }

    #[test]
    fn a_block_shared_by_thousands_of_users_is_read() {
        let state = load_str("a.yaml", &shared_block(5_000)).expect("valid");
        let users = &state.organizations[0].users;
        assert_eq!(users.len(), 5_000);
        let last = users.last().expect("users");
        let fields: Vec<String> =
            last.fields.iter().map(|(attr, value)| format!("{attr:?}={value:?}")).collect();
        assert_eq!(fields.len(), 4, "{fields:?}");
    }

    /// Ten levels of anchors, each four aliases of the one before (4^9 × 5 scalars), in a file
    /// of 326 bytes and `padding` more.
    fn exponential_bomb(padding: usize) -> String {
        let mut text = String::from("organization: acme\na0: &a0 [lol, lol, lol, lol, lol]\n");
        for level in 1..10 {
            let prev = level - 1;
            text.push_str(&format!(
                "a{level}: &a{level} [*a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        text.push('#');
        text.extend(std::iter::repeat_n('x', padding));
        text.push_str("\nusers: {}\n");
        text
    }

    #[test]
    fn an_exponential_alias_bomb_is_refused_after_a_few_levels() {
        let (message, help, at) = refusal(&exponential_bomb(0));
        assert_eq!(
            message,
            "refused: aliases expand to more than 20000 YAML events (scalars, starts and ends of \
             mappings and lists); at most 20000 are allowed in a file of 326 bytes (2 per byte, at \
             least 20000, at most 2000000)"
        );
        assert!(help.contains("alias bomb"), "{help}");
        assert_eq!(at.0, 8, "at level 6 of 9");
        // In a large file, where aliases may replay more, the anchors' size stops it.
        let (message, _, _) = refusal(&exponential_bomb(300_000));
        assert_eq!(
            message,
            "refused: more than 100000 YAML events held by anchored nodes (`&name`) in all, aliases \
             expanded; at most 100000 are allowed"
        );
    }

    #[test]
    fn aliases_that_expand_past_the_limit_are_refused_with_the_limit_for_the_file_size() {
        // One anchor of 1,000 scalars (1,002 events), used 200 times: from a 4 kB file (the
        // floor of 20,000 events applies) and from one padded to 54 kB (2 events per byte).
        let block = vec!["x"; 1_000].join(", ");
        let uses = vec!["*big"; 200].join(", ");
        for (padding, allowed) in [(0, 20_000), (50_000, 108_574)] {
            let text = format!(
                "organization: acme\nusers:\n  alice:\n    display_name: &big [{block}]\n  \
                 bob:\n    display_name: [{uses}]\n#{}\n",
                "x".repeat(padding)
            );
            assert_eq!(super::max_replayed_events(text.len()), allowed);
            let (message, _, at) = refusal(&text);
            assert_eq!(
                message,
                format!(
                    "refused: aliases expand to more than {allowed} YAML events (scalars, starts \
                     and ends of mappings and lists); at most {allowed} are allowed in a file of \
                     {} bytes (2 per byte, at least 20000, at most 2000000)",
                    text.len()
                )
            );
            // At the alias that went past the limit.
            let nth = allowed / 1_002 + 1;
            assert_eq!(at, (6, 20 + 6 * (nth - 1)), "padding {padding}");
        }
    }

    #[test]
    fn nesting_past_the_limit_names_the_depth_found_and_allowed() {
        let flow = format!("organization: acme\nusers: {}{}\n", "[".repeat(20), "]".repeat(20));
        let mut block = String::from("organization: acme\nusers:\n");
        for level in 1..20 {
            block.push_str(&format!("{}k{level}:\n", "  ".repeat(level)));
        }
        assert_eq!(
            refusal(&block).0,
            "refused: mappings and lists are nested 17 levels deep; at most 16 levels are allowed"
        );
        // The parser scans flow collections ahead and stops them first.
        assert_eq!(
            refusal(&flow).0,
            "refused: mappings and lists are nested more than 16 levels deep; at most 16 levels \
             are allowed"
        );
    }

    #[test]
    fn a_second_document_is_refused_where_it_starts() {
        let text = "organization: acme\nusers: {}\n---\norganization: globex\n";
        let (message, help, at) = refusal(text);
        assert_eq!(
            message,
            "a desired-state file holds one YAML document; found a second at line 3, column 1"
        );
        assert!(help.starts_with("remove the `---` line"), "{help}");
        assert_eq!(at, (3, 1));
    }
}
