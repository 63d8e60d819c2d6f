//! The file format (docs/file-format.md#desired-state-files): model, loading, checks, JSON Schema.
//! All YAML parsing lives below this module.

mod error;
mod fields;
mod load;
mod located;
mod mailbox;
mod mailbox_check;
mod model;
mod parse;
mod raw;
mod rules;
mod schema;
mod stream;
mod suggest;
mod validate;

pub(crate) use error::{LoadError, LoadErrors};
#[cfg(test)]
pub(crate) use fields::DesiredFields;
pub use mailbox::{DesiredAlias, DesiredMailbox};
pub(crate) use mailbox::{QUOTA_MAX_MB, is_email_address, is_group_reference};
#[cfg(test)]
pub(crate) use model::DesiredValue;
pub(crate) use model::{DesiredOrganization, DesiredUser, InvalidOrganization, SourceLocation};
pub use model::{DesiredState, OrganizationRef};
pub(crate) use parse::MAX_FILE_BYTES;
pub(crate) use rules::check_value;
pub(crate) use suggest::did_you_mean;

use std::path::Path;
use std::sync::Arc;

/// Load desired-state files. Each path is a file or a directory; directories are read
/// recursively (`*.yaml` and `*.yml` in any case, sorted, hidden entries skipped; an entry that
/// is not a regular file, such as a FIFO or a link to a device, is an error and never opened).
/// A path named directly is read whatever it is, up to the size limit. Every error of every
/// file is reported, not just the first; nothing is returned unless all files are valid.
pub fn load(paths: &[impl AsRef<Path>]) -> Result<DesiredState, LoadErrors> {
    load::load_paths(paths)
}

/// [`load`], showing `on_file` the name (as in errors) and the text of every file it read, in
/// the order read, whether the files turn out valid or not: what a controller's revision
/// digest is made of.
pub(crate) fn load_observed(
    paths: &[impl AsRef<Path>],
    on_file: &mut dyn FnMut(&str, &str),
) -> Result<DesiredState, LoadErrors> {
    load::load_paths_observed(paths, on_file)
}

/// The files [`load`] would read under `paths`, in the order it would read them (without its
/// errors): a controller watches them for a new revision.
pub(crate) fn list_files(paths: &[impl AsRef<Path>]) -> Vec<std::path::PathBuf> {
    load::list_files(paths)
}

/// Whether a directory walk of [`load`] reads an entry of this name (`*.yaml`, `*.yml`, not
/// hidden): where a file a command writes must not go unless it is a desired-state file.
pub(crate) fn walk_reads(name: &std::ffi::OsStr) -> bool {
    let hidden = name.to_str().is_some_and(|n| n.starts_with('.'));
    !hidden && load::is_yaml(Path::new(name))
}

/// Load one file from memory, named `file_name` in errors and source locations.
/// Never panics, whatever the input.
pub fn load_str(file_name: &str, text: &str) -> Result<DesiredState, LoadErrors> {
    let source = error::SourceFile::new(file_name, Arc::from(text));
    load::load_sources(&[source], Vec::new())
}

/// The JSON Schema of a desired-state file (draft-07, which editors' YAML plugins support), as
/// the text of the committed `schema/workmail-users.schema.json`: pretty JSON, keys sorted, a
/// trailing newline.
pub fn json_schema_text() -> String {
    schema::json_schema_text()
}
