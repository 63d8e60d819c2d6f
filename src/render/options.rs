//! How a plan is rendered: which values are hidden and whether to color the text.

use super::Redaction;

/// Options shared by every output format.
///
/// The default shows every value and writes no color codes, which is what a file, a pipe
/// or a test wants; the CLI turns color on for terminals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Which `before`/`after` values are replaced by a hash (`--redact`, `--redact-all`).
    pub redaction: Redaction,
    /// Write ANSI color codes into the text format (ignored by JSON and markdown).
    pub color: bool,
}
