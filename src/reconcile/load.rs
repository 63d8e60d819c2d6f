//! The load step: desired-state files read, validated and narrowed to the selected users,
//! before any directory call.

use super::selection::{Selection, SelectionError};
use crate::spec::{DesiredState, LoadErrors};
use std::path::Path;
use thiserror::Error;

/// Why the desired state could not be loaded.
#[derive(Debug, Error)]
pub enum DesiredStateError {
    /// The files are invalid; every error of every file is listed.
    #[error("{0}")]
    Files(LoadErrors),
    /// The selection names a user no file declares.
    #[error(transparent)]
    Selection(#[from] SelectionError),
}

/// Load and check the files (each a file or a directory), every user: what `validate` does.
pub fn validate(paths: &[impl AsRef<Path>]) -> Result<DesiredState, LoadErrors> {
    crate::spec::load(paths)
}

/// Load the files (each a file or a directory) and keep the selected users.
pub fn load(
    paths: &[impl AsRef<Path>],
    selection: &Selection,
) -> Result<DesiredState, DesiredStateError> {
    load_observed(paths, selection, &mut |_, _| {})
}

/// [`load`], showing `on_file` the name and text of every file read (see
/// [`crate::spec::load_observed`]).
pub(crate) fn load_observed(
    paths: &[impl AsRef<Path>],
    selection: &Selection,
    on_file: &mut dyn FnMut(&str, &str),
) -> Result<DesiredState, DesiredStateError> {
    let desired = crate::spec::load_observed(paths, on_file).map_err(DesiredStateError::Files)?;
    Ok(selection.select(desired)?)
}
