//! Errors of directory calls, classified by what the caller does about them.

use std::fmt;
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
    /// No usable answer, after retries: the endpoint could not be reached, did not answer in
    /// time, answered something that is not WorkMail, or refused the credentials. Every later
    /// call would fail the same way, so the first one stops the run.
    #[error("{0}")]
    Connection(ConnectionFailure),
    /// Not sent: an earlier call failed with [`DirectoryError::Connection`] and the run stopped.
    #[error("not sent: the run stopped after a connection failure")]
    Halted,
}

/// Why the WorkMail endpoint cannot be used, as one sentence naming the endpoint, the
/// operation and the cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionFailure {
    /// The API operation that failed (`DescribeUser`).
    pub operation: &'static str,
    /// The endpoint it was sent to (`https://workmail.us-east-1.amazonaws.com`).
    pub endpoint: String,
    pub kind: ConnectionFailureKind,
}

/// What went wrong with the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionFailureKind {
    /// No connection: refused, host unknown, TLS failure, connect timeout; the text says which.
    Unreachable(String),
    /// Connected, but no answer within the attempt timeout, retried until the call gave up.
    TimedOut {
        attempt_timeout: std::time::Duration,
        operation_timeout: std::time::Duration,
        gave_up_after: std::time::Duration,
    },
    /// The endpoint answered, but not as WorkMail does (not awsJson, say).
    BadAnswer(String),
    /// No credentials could be loaded to sign the request with.
    NoCredentials(String),
    /// The endpoint refused the request's credentials or signature.
    Credentials(String),
    /// Anything else that is not an answer of the service.
    Other(String),
}

impl fmt::Display for ConnectionFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (endpoint, operation) = (&self.endpoint, self.operation);
        match &self.kind {
            ConnectionFailureKind::Unreachable(cause) => {
                write!(f, "cannot reach the WorkMail endpoint {endpoint} ({operation}): {cause}")
            }
            ConnectionFailureKind::TimedOut {
                attempt_timeout,
                operation_timeout,
                gave_up_after,
            } => {
                write!(
                    f,
                    "{operation} to the WorkMail endpoint {endpoint} timed out: no answer within \
                     --attempt-timeout {} per attempt, gave up after {} (--operation-timeout {})",
                    humantime::format_duration(*attempt_timeout),
                    humantime::format_duration(round_to_seconds(*gave_up_after)),
                    humantime::format_duration(*operation_timeout),
                )
            }
            ConnectionFailureKind::BadAnswer(cause) => write!(
                f,
                "the endpoint {endpoint} did not answer {operation} as WorkMail does: {cause}"
            ),
            ConnectionFailureKind::NoCredentials(cause) => write!(
                f,
                "no AWS credentials to sign {operation} with: {cause} (set AWS_ACCESS_KEY_ID and \
                 AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)"
            ),
            ConnectionFailureKind::Credentials(cause) => write!(
                f,
                "the WorkMail endpoint {endpoint} cannot be called with these credentials \
                 ({operation}): {cause}"
            ),
            ConnectionFailureKind::Other(cause) => {
                write!(f, "{operation} to the WorkMail endpoint {endpoint} failed: {cause}")
            }
        }
    }
}

/// Whole seconds above a second (`1m 30s`, not `1m 30s 2ms 417us`), milliseconds below.
fn round_to_seconds(duration: std::time::Duration) -> std::time::Duration {
    if duration >= std::time::Duration::from_secs(1) {
        std::time::Duration::from_secs(duration.as_secs_f64().round() as u64)
    } else {
        std::time::Duration::from_millis(duration.as_millis() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_timeout_names_the_endpoint_the_operation_and_both_durations() {
        let failure = ConnectionFailure {
            operation: "DescribeUser",
            endpoint: "http://127.0.0.1:9".into(),
            kind: ConnectionFailureKind::TimedOut {
                attempt_timeout: Duration::from_secs(20),
                operation_timeout: Duration::from_secs(90),
                gave_up_after: Duration::from_millis(90_012),
            },
        };
        assert_eq!(
            failure.to_string(),
            "DescribeUser to the WorkMail endpoint http://127.0.0.1:9 timed out: no answer within \
             --attempt-timeout 20s per attempt, gave up after 1m 30s (--operation-timeout 1m 30s)"
        );
    }

    #[test]
    fn an_unreachable_endpoint_is_one_sentence() {
        let failure = ConnectionFailure {
            operation: "ListOrganizations",
            endpoint: "http://127.0.0.1:9".into(),
            kind: ConnectionFailureKind::Unreachable("connection refused".into()),
        };
        assert_eq!(
            failure.to_string(),
            "cannot reach the WorkMail endpoint http://127.0.0.1:9 (ListOrganizations): connection refused"
        );
    }
}
