//! Whether a failed directory call could succeed if simply tried again later: this decides how
//! soon a run that met it is retried.

use super::error_policy::FailureClass;
use crate::reconcile::{ConnectionFailure, ConnectionFailureKind, DirectoryError};

/// Service error codes that the same request would meet again until a person acts.
const TERMINAL_CODES: [&str; 6] = [
    "AccessDeniedException",
    "OrganizationStateException",
    "UnsupportedOperationException",
    "DirectoryServiceAuthenticationFailedException",
    "InvalidConfigurationException",
    "ValidationException",
];

/// Whether the same call could succeed if simply tried again later.
pub(crate) fn failure_class(error: &DirectoryError) -> FailureClass {
    let transient = match error {
        DirectoryError::UserNotFound
        | DirectoryError::OrganizationNotFound
        | DirectoryError::EntityState(_)
        | DirectoryError::InvalidParameter(_)
        // A consequence of a connection failure, which was classified itself.
        | DirectoryError::Halted => false,
        DirectoryError::Service { code, .. } => !TERMINAL_CODES.contains(&code.as_str()),
        DirectoryError::Connection(ConnectionFailure { kind, .. }) => {
            return connection_class(kind);
        }
    };
    if transient { FailureClass::Transient } else { FailureClass::Terminal }
}

/// Whether a call that got no usable answer could succeed if tried again later: not when the
/// credentials were refused or missing.
pub(crate) fn connection_class(kind: &ConnectionFailureKind) -> FailureClass {
    match kind {
        ConnectionFailureKind::Credentials(_) | ConnectionFailureKind::NoCredentials(_) => {
            FailureClass::Terminal
        }
        ConnectionFailureKind::Unreachable(_)
        | ConnectionFailureKind::TimedOut { .. }
        | ConnectionFailureKind::BadAnswer(_)
        | ConnectionFailureKind::Other(_) => FailureClass::Transient,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failures_that_may_pass_by_themselves_are_transient() {
        let service =
            |code: &str| DirectoryError::Service { code: code.into(), message: "m".into() };
        let connection = |kind| {
            DirectoryError::Connection(ConnectionFailure {
                operation: "DescribeUser",
                endpoint: "http://127.0.0.1:9".into(),
                kind,
            })
        };
        for transient in [
            service("ThrottlingException"),
            service("InternalFailure"),
            service("DirectoryUnavailableException"),
            connection(ConnectionFailureKind::Unreachable("refused".into())),
            connection(ConnectionFailureKind::BadAnswer("html".into())),
        ] {
            assert_eq!(failure_class(&transient), FailureClass::Transient, "{transient}");
        }
        for terminal in [
            DirectoryError::UserNotFound,
            DirectoryError::OrganizationNotFound,
            DirectoryError::Halted,
            service("AccessDeniedException"),
            connection(ConnectionFailureKind::Credentials("InvalidClientTokenId".into())),
            connection(ConnectionFailureKind::NoCredentials("none".into())),
        ] {
            assert_eq!(failure_class(&terminal), FailureClass::Terminal, "{terminal}");
        }
    }
}
