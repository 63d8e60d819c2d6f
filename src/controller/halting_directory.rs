//! The directory as one run of the controller sees it: no call is started once shutdown has
//! begun (the calls in flight finish), and the run learns whether any call failed in a way
//! that may pass by itself, which decides how soon it is retried.

use super::call_failure::failure_class;
use super::error_policy::FailureClass;
use crate::model::live::{ListedUser, ObservedUser, OrganizationSummary};
use crate::reconcile::{ConnectionFailure, Directory, DirectoryError, UpdateRequest};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio_util::sync::CancellationToken;

/// A directory for one run: `inner` (fresh, see [`Directory::resumed`]),
/// stopped by `shutdown`.
#[derive(Debug, Clone)]
pub(crate) struct HaltingDirectory<D> {
    inner: D,
    shutdown: CancellationToken,
    saw_transient: Arc<AtomicBool>,
}

impl<D: Directory> HaltingDirectory<D> {
    /// `inner` for one run, starting no call once `shutdown` is cancelled.
    pub(crate) fn new(inner: D, shutdown: CancellationToken) -> HaltingDirectory<D> {
        HaltingDirectory { inner, shutdown, saw_transient: Arc::new(AtomicBool::new(false)) }
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

impl<D: Directory> Directory for HaltingDirectory<D> {
    async fn list_organizations(&self) -> Result<Vec<OrganizationSummary>, DirectoryError> {
        self.call(self.inner.list_organizations()).await
    }

    async fn list_users(&self, organization_id: &str) -> Result<Vec<ListedUser>, DirectoryError> {
        self.call(self.inner.list_users(organization_id)).await
    }

    async fn list_users_pages(
        &self,
        organization_id: &str,
        on_page: impl FnMut(Vec<ListedUser>) + Send,
    ) -> Result<(), DirectoryError> {
        self.call(self.inner.list_users_pages(organization_id, on_page)).await
    }

    async fn describe_user(
        &self,
        organization_id: &str,
        user: &str,
    ) -> Result<ObservedUser, DirectoryError> {
        self.call(self.inner.describe_user(organization_id, user)).await
    }

    crate::reconcile::forward_mailbox_calls!(inner, through call);

    async fn update_user(&self, request: &UpdateRequest) -> Result<(), DirectoryError> {
        self.call(self.inner.update_user(request)).await
    }

    fn connection_failure(&self) -> Option<&ConnectionFailure> {
        self.inner.connection_failure()
    }
}
