//! Errors of directory calls, classified by what the caller does about them.

use thiserror::Error;

/// A directory call that failed after the SDK's retries.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DirectoryError {
    /// EntityNotFoundException: no such user.
    #[error("user not found")]
    UserNotFound,
    /// OrganizationNotFoundException.
    #[error("organization not found")]
    OrganizationNotFound,
    /// EntityStateException (a deleted user, say).
    #[error("user is in a state that cannot be changed: {0}")]
    EntityState(String),
    /// InvalidParameterException: the request was refused as invalid.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// Any other error answered by the service, still failing after retries.
    #[error("{code}: {message}")]
    Service { code: String, message: String },
    /// No answer: connection, timeout or credentials problems, after retries.
    #[error("{0}")]
    Transport(String),
}
