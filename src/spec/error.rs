//! Load errors: one [`LoadError`] per problem, all of them collected in [`LoadErrors`].

use super::model::SourceLocation;
use crate::model::printable::{ShownText, printable, printable_lines};
use crate::model::wording::plural;
use miette::{Diagnostic, LabeledSpan, NamedSource, SourceSpan};
use std::sync::Arc;

/// One problem in the input: what is wrong, where (`file:line:column` and a labeled span of
/// the file), and, when there is something to suggest, what is allowed.
#[derive(Debug, Clone, thiserror::Error, Diagnostic)]
#[error("{message}")]
pub struct LoadError {
    message: String,
    /// The whole file, so miette can draw the snippet; `None` when the file could not be read.
    #[source_code]
    source_code: Option<NamedSource<Arc<str>>>,
    #[label(collection)]
    labels: Vec<LabeledSpan>,
    #[help]
    help: Option<String>,
    file: String,
    location: Option<SourceLocation>,
    /// Set when the error is about a path that gave no file to read: it is not counted as a
    /// file.
    path_problem: Option<PathProblem>,
}

/// Why a path (given, or met in a directory) gave no file to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathProblem {
    /// It names nothing.
    Missing,
    /// It exists but cannot be read (permissions, a dangling link).
    Unreadable,
    /// A directory without a `*.yaml` or `*.yml` file.
    Empty,
}

impl PathProblem {
    /// `1 path does not exist`, `2 directories hold no desired-state file`.
    fn counted(self, n: usize) -> String {
        match self {
            PathProblem::Missing => plural(n, "path does not exist", "paths do not exist"),
            PathProblem::Unreadable => plural(n, "path cannot be read", "paths cannot be read"),
            PathProblem::Empty => plural(
                n,
                "directory holds no desired-state file",
                "directories hold no desired-state file",
            ),
        }
    }
}

impl LoadError {
    /// An error about a file as a whole, without a position (unreadable, not found).
    pub(crate) fn file(file: &str, message: impl Into<String>) -> LoadError {
        LoadError {
            message: printable_owned(message.into()),
            source_code: None,
            labels: Vec::new(),
            help: None,
            file: file.to_string(),
            location: None,
            path_problem: None,
        }
    }

    /// A path that gave no file to read: not an error in a file, and not counted as one.
    pub(crate) fn path(path: &str, problem: PathProblem, message: impl Into<String>) -> LoadError {
        LoadError { path_problem: Some(problem), ..LoadError::file(path, message) }
    }

    /// An error at a position of a file's text.
    pub(crate) fn at(
        source: &SourceFile,
        pos: Pos,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> LoadError {
        LoadError {
            message: printable_owned(message.into()),
            source_code: Some(NamedSource::new(&source.name, source.shown())),
            labels: vec![LabeledSpan::new_primary_with_span(
                Some(printable_owned(label.into())),
                source.shown_span(pos),
            )],
            help: None,
            file: source.name.to_string(),
            location: Some(SourceLocation {
                file: source.name.clone(),
                line: pos.line,
                column: pos.column,
            }),
            path_problem: None,
        }
    }

    /// Place an error about a file as a whole at a line and column, for a problem found before
    /// the file's text could be shown (such as a byte that is not UTF-8). The message names the
    /// place; there is no snippet.
    pub(crate) fn at_position(mut self, line: usize, column: usize) -> LoadError {
        self.location = Some(SourceLocation { file: self.file.as_str().into(), line, column });
        self
    }

    /// Add a suggestion of what is allowed or how to fix it.
    pub(crate) fn with_help(mut self, help: impl Into<String>) -> LoadError {
        // Help may span lines (an example of the format); nothing else is left raw.
        let help = help.into();
        self.help = Some(printable_lines(&help).map_or(help, |shown| shown.text));
        self
    }

    /// Add a secondary label in the same file (for example, the first of two duplicates).
    pub(crate) fn with_label(
        mut self,
        source: &SourceFile,
        pos: Pos,
        label: impl Into<String>,
    ) -> LoadError {
        self.labels.push(LabeledSpan::new_with_span(
            Some(printable_owned(label.into())),
            source.shown_span(pos),
        ));
        self
    }

    /// What is wrong, in one sentence.
    pub(crate) fn message(&self) -> &str {
        &self.message
    }
    /// What is allowed or how to fix it, when known.
    pub(crate) fn help_text(&self) -> Option<&str> {
        self.help.as_deref()
    }
    /// The file the error is in, as the user named it.
    pub(crate) fn file_name(&self) -> &str {
        &self.file
    }
    /// Where in the file, when the error has a position.
    pub(crate) fn location(&self) -> Option<&SourceLocation> {
        self.location.as_ref()
    }
}

/// Every error found in one load, in file order. Rendered by miette, each error is its own
/// report (iterate over `&LoadErrors`); as a single report, they are its `related` diagnostics.
#[derive(Debug, Clone, thiserror::Error, Diagnostic)]
#[error("{}", self.summary())]
pub struct LoadErrors {
    #[related]
    errors: Vec<LoadError>,
}

impl LoadErrors {
    pub(crate) fn new(errors: Vec<LoadError>) -> LoadErrors {
        LoadErrors { errors }
    }
    /// The errors, in the order found (file order, then position).
    #[cfg(test)]
    pub(crate) fn iter(&self) -> std::slice::Iter<'_, LoadError> {
        self.errors.iter()
    }
    /// Number of errors (at least one).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.errors.len()
    }
    /// Number of distinct files with at least one error.
    fn file_count(&self) -> usize {
        let mut files: Vec<&str> = self
            .errors
            .iter()
            .filter(|e| e.path_problem.is_none())
            .map(|e| e.file.as_str())
            .collect();
        files.sort_unstable();
        files.dedup();
        files.len()
    }
    /// `3 errors in 2 files`; paths that gave no file to read are said as they are, not
    /// counted as files: `1 path does not exist`, `3 errors in 2 files; 1 path does not exist`.
    fn summary(&self) -> String {
        let in_files = self.errors.iter().filter(|e| e.path_problem.is_none()).count();
        let mut parts = Vec::new();
        if in_files > 0 {
            let files = plural(self.file_count(), "file", "files");
            parts.push(format!("{} in {files}", plural(in_files, "error", "errors")));
        }
        for problem in [PathProblem::Missing, PathProblem::Unreadable, PathProblem::Empty] {
            let n = self.errors.iter().filter(|e| e.path_problem == Some(problem)).count();
            if n > 0 {
                parts.push(problem.counted(n));
            }
        }
        parts.join("; ")
    }
}

impl<'a> IntoIterator for &'a LoadErrors {
    type Item = &'a LoadError;
    type IntoIter = std::slice::Iter<'a, LoadError>;
    fn into_iter(self) -> Self::IntoIter {
        self.errors.iter()
    }
}

impl IntoIterator for LoadErrors {
    type Item = LoadError;
    type IntoIter = std::vec::IntoIter<LoadError>;
    fn into_iter(self) -> Self::IntoIter {
        self.errors.into_iter()
    }
}

/// A file's name and text, shared by all errors that point into it.
#[derive(Debug, Clone)]
pub(crate) struct SourceFile {
    /// As shown: the path as the user would type it, unsafe characters escaped.
    pub name: Arc<str>,
    pub text: Arc<str>,
    /// The text as error snippets show it, when it holds characters a terminal would act on
    /// (escaped, so that a quoted line cannot rewrite the screen); computed once per file.
    shown: Option<Arc<ShownSource>>,
}

/// [`ShownText`] and its text, shareable by every error of the file.
#[derive(Debug)]
struct ShownSource {
    text: Arc<str>,
    offsets: ShownText,
}

impl SourceFile {
    /// The file named `name` (escaped here) with `text`.
    pub(crate) fn new(name: &str, text: Arc<str>) -> SourceFile {
        let shown = printable_lines(&text).map(|offsets| {
            Arc::new(ShownSource { text: Arc::from(offsets.text.as_str()), offsets })
        });
        SourceFile { name: Arc::from(printable(name)), text, shown }
    }

    /// The text that error snippets show.
    fn shown(&self) -> Arc<str> {
        match &self.shown {
            Some(shown) => Arc::clone(&shown.text),
            None => Arc::clone(&self.text),
        }
    }

    /// `pos` of the text, as a span of [`SourceFile::shown`].
    fn shown_span(&self, pos: Pos) -> SourceSpan {
        match &self.shown {
            Some(shown) => {
                let start = shown.offsets.offset(pos.offset);
                let end = shown.offsets.offset(pos.offset + pos.len);
                SourceSpan::new(start.into(), end - start)
            }
            None => SourceSpan::new(pos.offset.into(), pos.len),
        }
    }
}

/// `text`, escaped by [`printable`], without a copy when nothing needs escaping.
fn printable_owned(text: String) -> String {
    match printable(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(escaped) => escaped,
    }
}

/// A byte range in a file's text, with the 1-based line and column of its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub offset: usize,
    pub len: usize,
    pub line: usize,
    pub column: usize,
}
