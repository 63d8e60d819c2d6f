//! The accept loop both HTTP servers of the tool share (the emulator and the controller's
//! endpoints): each TCP connection served on a task of its own, at most a given number at once.
//! When all are taken, the connection that has waited longest for a request is closed to make
//! room, so that clients that connect and send nothing cannot keep everyone else out.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::{AbortHandle, JoinSet};
use tokio::time::Instant;

/// Whether a connection is handling a request: the server marks it with [`Activity::busy`],
/// the accept loop reads it. A connection that is not busy is waiting for a request (the
/// first, or the next on a kept-alive connection), and may be closed to make room.
#[derive(Debug, Clone, Default)]
pub(crate) struct Activity(Arc<AtomicUsize>);

/// Held while a request is handled.
pub(crate) struct Busy(Arc<AtomicUsize>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Activity {
    /// Mark the connection busy until the guard is dropped.
    pub(crate) fn busy(&self) -> Busy {
        self.0.fetch_add(1, Ordering::Relaxed);
        Busy(Arc::clone(&self.0))
    }

    fn is_busy(&self) -> bool {
        self.0.load(Ordering::Relaxed) > 0
    }
}

/// A hyper service that marks the connection [`Activity::busy`] while `inner` handles a request.
pub(crate) struct Tracked<S> {
    inner: S,
    activity: Activity,
}

impl<S> Tracked<S> {
    pub(crate) fn new(inner: S, activity: Activity) -> Tracked<S> {
        Tracked { inner, activity }
    }
}

impl<S, R> hyper::service::Service<R> for Tracked<S>
where
    S: hyper::service::Service<R>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn call(&self, request: R) -> Self::Future {
        let busy = self.activity.busy();
        let handled = self.inner.call(request);
        Box::pin(async move {
            let response = handled.await;
            drop(busy);
            response
        })
    }
}

/// A connection being served, as the accept loop keeps track of it.
struct Served {
    accepted: Instant,
    activity: Activity,
    task: AbortHandle,
}

/// Accept connections on `listener` until the task running this is aborted, which drops every
/// connection task with it. Each connection is handed to `serve` with the [`Activity`] its
/// server marks. While `limit` are being served, a new one closes the oldest of those waiting
/// for a request; when every one is handling a request, new ones wait in the listen backlog
/// until one closes.
pub(crate) async fn accept_connections<Serve, Serving>(
    listener: TcpListener,
    limit: usize,
    serve: Serve,
) where
    Serve: Fn(TcpStream, Activity) -> Serving,
    Serving: Future<Output = ()> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(limit.min(Semaphore::MAX_PERMITS)));
    let mut connections = JoinSet::new();
    let mut served: Vec<Served> = Vec::new();
    loop {
        let permit = match Arc::clone(&permits).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                make_room(&mut served);
                // Reap what ended (the connection closed above, or any other) to free a permit.
                tokio::select! {
                    permit = Arc::clone(&permits).acquire_owned() => match permit {
                        Ok(permit) => permit,
                        Err(_) => return,
                    },
                    Some(ended) = connections.join_next_with_id(), if !connections.is_empty() => {
                        forget(&mut served, ended.map_or_else(|e| e.id(), |(id, ())| id));
                        continue;
                    }
                }
            }
        };
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let activity = Activity::default();
                    let serving = serve(stream, activity.clone());
                    let task = connections.spawn(async move {
                        serving.await;
                        drop(permit);
                    });
                    served.push(Served { accepted: Instant::now(), activity, task });
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(ended) = connections.join_next_with_id(), if !connections.is_empty() => {
                forget(&mut served, ended.map_or_else(|e| e.id(), |(id, ())| id));
            }
        }
    }
}

/// Close the oldest connection that is waiting for a request, if any is.
fn make_room(served: &mut [Served]) {
    let idle = served
        .iter()
        .filter(|c| !c.activity.is_busy() && !c.task.is_finished())
        .min_by_key(|c| c.accepted);
    if let Some(oldest) = idle {
        tracing::debug!("every connection is taken: closing the oldest one waiting for a request");
        oldest.task.abort();
    }
}

fn forget(served: &mut Vec<Served>, ended: tokio::task::Id) {
    served.retain(|c| c.task.id() != ended);
}
