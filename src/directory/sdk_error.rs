//! From an SDK error to a [`DirectoryError`]: service answers by their error code, everything
//! else into one [`ConnectionFailure`] sentence. The SDK's own `Display` says only "dispatch
//! failure" and its `Debug` is a dump of nested structs, so the cause is read from the error's
//! source chain instead.

use super::error::{ConnectionFailure, ConnectionFailureKind, DirectoryError};
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_workmail::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::http::Response as HttpResponse;
use std::error::Error;
use std::io::ErrorKind;
use std::time::Duration;

/// Where and how long a failed call went, for the sentence that reports it.
#[derive(Debug, Clone)]
pub(super) struct FailedCall<'a> {
    pub operation: &'static str,
    pub endpoint: &'a str,
    pub attempt_timeout: Duration,
    pub operation_timeout: Duration,
    /// From the first attempt's start to the error, retries included.
    pub elapsed: Duration,
    /// Why the latest attempt could not connect, if that is how it failed.
    pub last_connect_failure: Option<String>,
}

/// Error codes of requests refused for their credentials or signature: every other call of the
/// run would be refused the same way.
const CREDENTIAL_CODES: [&str; 9] = [
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "IncompleteSignature",
    "IncompleteSignatureException",
    "MissingAuthenticationToken",
    "MissingAuthenticationTokenException",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
];

/// Classify the error of one call.
pub(super) fn classify<E>(err: SdkError<E, HttpResponse>, call: FailedCall<'_>) -> DirectoryError
where
    E: ProvideErrorMetadata + Error + 'static,
{
    let kind = match &err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let message = e.message().unwrap_or_default().to_string();
            match e.code().unwrap_or_default() {
                "EntityNotFoundException" => return DirectoryError::UserNotFound,
                "OrganizationNotFoundException" => return DirectoryError::OrganizationNotFound,
                "EntityStateException" => return DirectoryError::EntityState(message),
                "InvalidParameterException" => return DirectoryError::InvalidParameter(message),
                code if CREDENTIAL_CODES.contains(&code) => {
                    ConnectionFailureKind::Credentials(format!("{code}: {message}"))
                }
                // An answer without an error code is not WorkMail's (a proxy's error page, say).
                "" => ConnectionFailureKind::BadAnswer(format!(
                    "HTTP {} without a WorkMail error code",
                    service.raw().status().as_u16()
                )),
                code => {
                    return DirectoryError::Service { code: code.to_string(), message };
                }
            }
        }
        // The operation timeout ran out while a connection failure was being retried.
        SdkError::TimeoutError(_) => match call.last_connect_failure {
            Some(failure) => ConnectionFailureKind::Unreachable(format!(
                "{failure} (retried until --operation-timeout {} ran out)",
                humantime::format_duration(call.operation_timeout)
            )),
            None => ConnectionFailureKind::TimedOut {
                attempt_timeout: call.attempt_timeout,
                operation_timeout: call.operation_timeout,
                gave_up_after: call.elapsed,
            },
        },
        _ if chain(&err).any(|e| e.is::<CredentialsError>()) => {
            ConnectionFailureKind::NoCredentials(cause(&err))
        }
        // Refused, reset, closed without an answer, unresolvable, TLS, connect timeout.
        SdkError::DispatchFailure(failure) if !failure.is_user() => {
            ConnectionFailureKind::Unreachable(cause(&err))
        }
        SdkError::ResponseError(_) => ConnectionFailureKind::BadAnswer(cause(&err)),
        _ => ConnectionFailureKind::Other(cause(&err)),
    };
    DirectoryError::Connection(ConnectionFailure {
        operation: call.operation,
        endpoint: call.endpoint.to_string(),
        kind,
    })
}

/// `err` and its sources, outermost first.
fn chain<'e>(err: &'e (dyn Error + 'static)) -> impl Iterator<Item = &'e (dyn Error + 'static)> {
    std::iter::successors(Some(err), |e: &&'e (dyn Error + 'static)| (*e).source())
}

/// Messages of the SDK's and hyper's wrapper errors, which name a category, not a cause.
fn is_wrapper(message: &str) -> bool {
    const WRAPPERS: [&str; 9] = [
        "dispatch failure",
        "io error",
        "other",
        "timeout",
        "user error",
        "failed to construct request",
        "request has timed out",
        "response error",
        "service error",
    ];
    WRAPPERS.contains(&message) || message.starts_with("client error (")
}

/// The cause of `err` for people: the messages of its source chain without the wrappers,
/// joined by `: `, and an I/O error's kind in words where it has one.
pub(super) fn cause(err: &(dyn Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    for e in chain(err) {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(words) = io_kind_in_words(io.kind())
        {
            return words.to_string();
        }
        // A sentence of ours follows the cause, so its own final period goes.
        let message = e.to_string().trim_end_matches('.').to_string();
        if message == "dns error" {
            parts.push(
                "the host name cannot be resolved (check --region and --endpoint-url)".into(),
            );
        } else if !is_wrapper(&message) && parts.last() != Some(&message) {
            parts.push(message);
        }
    }
    if parts.is_empty() {
        "no further detail from the AWS SDK".to_string()
    } else {
        parts.join(": ")
    }
}

/// The connection failures a person recognises at once; `None` keeps the OS's own message.
fn io_kind_in_words(kind: ErrorKind) -> Option<&'static str> {
    Some(match kind {
        ErrorKind::ConnectionRefused => "connection refused",
        ErrorKind::ConnectionReset => "connection reset by the endpoint",
        ErrorKind::ConnectionAborted => "connection aborted",
        ErrorKind::NotConnected => "not connected",
        ErrorKind::TimedOut => "connection timed out",
        ErrorKind::HostUnreachable => "host unreachable",
        ErrorKind::NetworkUnreachable => "network unreachable",
        ErrorKind::AddrNotAvailable => "address not available",
        ErrorKind::UnexpectedEof => "the connection closed before an answer",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt;

    /// An error with a message and an optional source, like the SDK's and hyper's.
    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<dyn Error + Send + Sync>>);

    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl Error for Layer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1.as_ref().map(|e| &**e as &(dyn Error + 'static))
        }
    }

    fn layers(messages: &[&'static str], last: Box<dyn Error + Send + Sync>) -> Layer {
        let mut inner = last;
        for message in messages[1..].iter().rev() {
            inner = Box::new(Layer(message, Some(inner)));
        }
        Layer(messages[0], Some(inner))
    }

    #[test]
    fn a_refused_connection_is_named_in_words() {
        let refused = std::io::Error::new(ErrorKind::ConnectionRefused, "Connection refused");
        let err = layers(
            &["dispatch failure", "io error", "client error (Connect)", "tcp connect error"],
            Box::new(refused),
        );
        assert_eq!(cause(&err), "connection refused");
    }

    #[test]
    fn a_dns_failure_keeps_the_resolver_message_without_wrappers() {
        let resolver = std::io::Error::other("failed to lookup address information");
        let err =
            layers(&["dispatch failure", "io error", "client error (Connect)", "dns error"], {
                Box::new(resolver)
            });
        assert_eq!(
            cause(&err),
            "the host name cannot be resolved (check --region and --endpoint-url): failed to \
             lookup address information"
        );
    }

    #[test]
    fn a_chain_of_wrappers_only_still_says_something() {
        let err = Layer("dispatch failure", Some(Box::new(Layer("other", None))));
        assert_eq!(cause(&err), "no further detail from the AWS SDK");
    }
}
