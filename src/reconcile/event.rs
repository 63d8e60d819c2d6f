//! Progress of a run, as it happens: the CLI's progress bar and a controller's metrics both
//! listen to the same events.

use crate::apply::UserOutcome;

/// One step of progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// The observe step starts: this many declared users will be described.
    Describing { users: usize },
    /// One declared user was described (or its DescribeUser failed).
    Described,
    /// The apply step starts: this many planned users will be attempted.
    Applying { users: usize },
    /// One planned user was attempted.
    Applied(&'a UserOutcome),
}
