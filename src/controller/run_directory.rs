//! The directory as one run of the controller sees it: no call is started once shutdown has
//! begun (the calls in flight finish), and the run learns whether any call failed in a way
//! that may pass by itself, which decides how soon it is retried.

use super::error_policy::FailureClass;
use crate::model::live::{ListedUser, ObservedUser, OrganizationSummary};
use crate::reconcile::{
    ConnectionFailure, ConnectionFailureKind, Directory, DirectoryError, UpdateRequest,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio_util::sync::CancellationToken;

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

/// A directory for one run: `inner` (fresh, see [`Directory::resumed`]),
/// stopped by `shutdown`.
#[derive(Debug, Clone)]
pub(crate) struct RunDirectory<D> {
    inner: D,
    shutdown: CancellationToken,
    saw_transient: Arc<AtomicBool>,
}

impl<D: Directory> RunDirectory<D> {
    /// `inner` for one run, starting no call once `shutdown` is cancelled.
    pub(crate) fn new(inner: D, shutdown: CancellationToken) -> RunDirectory<D> {
        RunDirectory { inner, shutdown, saw_transient: Arc::new(AtomicBool::new(false)) }
    }

    /// Whether any call of this run failed in a way that may pass by itself.
    pub(crate) fn saw_transient_failure(&self) -> bool {
        self.saw_transient.load(Ordering::Relaxed)
    }

    /// Whether shutdown has begun: no new call is started.
    fn stopping(&self) -> bool {
        self.shutdown.is_cancelled()
    }

    async fn call<T>(
        &self,
        call: impl Future<Output = Result<T, DirectoryError>>,
    ) -> Result<T, DirectoryError> {
        if self.stopping() {
            return Err(DirectoryError::Halted);
        }
        let result = call.await;
        if let Err(error) = &result
            && failure_class(error) == FailureClass::Transient
        {
            self.saw_transient.store(true, Ordering::Relaxed);
        }
        result
    }
}

impl<D: Directory> Directory for RunDirectory<D> {
    async fn list_organizations(&self) -> Result<Vec<OrganizationSummary>, DirectoryError> {
        self.call(self.inner.list_organizations()).await
    }

    async fn list_users(&self, organization_id: &str) -> Result<Vec<ListedUser>, DirectoryError> {
        self.call(self.inner.list_users(organization_id)).await
    }

    async fn describe_user(
        &self,
        organization_id: &str,
        user: &str,
    ) -> Result<ObservedUser, DirectoryError> {
        self.call(self.inner.describe_user(organization_id, user)).await
    }

    async fn update_user(&self, request: &UpdateRequest) -> Result<(), DirectoryError> {
        self.call(self.inner.update_user(request)).await
    }

    fn connection_failure(&self) -> Option<&ConnectionFailure> {
        self.inner.connection_failure()
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
