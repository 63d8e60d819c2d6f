//! How a plan is rendered: which values are hidden, whether to color the text, how much to show.

use crate::redaction::Redaction;

/// How much the text formats (the plan and the apply report) show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Detail {
    /// Every change, error and outcome, then the summary line.
    #[default]
    Full,
    /// `--quiet`: only errors (and, in an apply report, the users that were not updated), then
    /// the summary line.
    Brief,
}

/// Options shared by every output format.
///
/// The default shows every value and writes no color codes, which is what a file, a pipe
/// or a test wants; the CLI turns color on for terminals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RenderOptions {
    /// Which `before`/`after` values are replaced by a hash (`--redact`, `--redact-all`).
    pub redaction: Redaction,
    /// Write ANSI color codes into the text format (ignored by JSON and markdown).
    pub color: bool,
    /// How much the text format shows (ignored by JSON and markdown, which are documents a
    /// tool or a reviewer asked for whole).
    pub detail: Detail,
}
