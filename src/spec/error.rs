//! Load errors: one [`LoadError`] per problem, all of them collected in [`LoadErrors`].

use super::model::SourceLocation;
use crate::wording::plural;
use miette::{Diagnostic, LabeledSpan, NamedSource, SourceSpan};
use std::fmt;
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
}

impl LoadError {
    /// An error about a file as a whole, without a position (unreadable, not found).
    pub(crate) fn file(file: &str, message: impl Into<String>) -> LoadError {
        LoadError {
            message: message.into(),
            source_code: None,
            labels: Vec::new(),
            help: None,
            file: file.to_string(),
            location: None,
        }
    }

    /// An error at a position of a file's text.
    pub(crate) fn at(
        source: &SourceFile,
        pos: Pos,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> LoadError {
        LoadError {
            message: message.into(),
            source_code: Some(NamedSource::new(&source.name, Arc::clone(&source.text))),
            labels: vec![LabeledSpan::new_primary_with_span(
                Some(label.into()),
                SourceSpan::new(pos.offset.into(), pos.len),
            )],
            help: None,
            file: source.name.to_string(),
            location: Some(SourceLocation {
                file: source.name.clone(),
                line: pos.line,
                column: pos.column,
            }),
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
        self.help = Some(help.into());
        self
    }

    /// Add a secondary label in the same file (for example, the first of two duplicates).
    pub(crate) fn with_label(mut self, pos: Pos, label: impl Into<String>) -> LoadError {
        self.labels.push(LabeledSpan::new_with_span(
            Some(label.into()),
            SourceSpan::new(pos.offset.into(), pos.len),
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
#[error("{}", summary(self.errors.len(), self.file_count()))]
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
        let mut files: Vec<&str> = self.errors.iter().map(|e| e.file.as_str()).collect();
        files.sort_unstable();
        files.dedup();
        files.len()
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

/// `3 errors in 2 files`.
fn summary(errors: usize, files: usize) -> impl fmt::Display {
    format!("{} in {}", plural(errors, "error", "errors"), plural(files, "file", "files"))
}

/// A file's name and text, shared by all errors that point into it.
#[derive(Debug, Clone)]
pub(crate) struct SourceFile {
    pub name: Arc<str>,
    pub text: Arc<str>,
}

/// A byte range in a file's text, with the 1-based line and column of its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub offset: usize,
    pub len: usize,
    pub line: usize,
    pub column: usize,
}
