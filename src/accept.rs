//! The accept loop both HTTP servers of the tool share (the emulator and the controller's
//! endpoints): each TCP connection served on a task of its own, at most a given number at once.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Accept connections on `listener` until the task running this is aborted, which drops every
/// connection task with it. Each connection is handed to `serve`; while `limit` are being
/// served, more wait in the listen backlog until one closes.
pub(crate) async fn accept_connections<Serve, Served>(
    listener: TcpListener,
    limit: usize,
    serve: Serve,
) where
    Serve: Fn(TcpStream) -> Served,
    Served: Future<Output = ()> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(limit.min(Semaphore::MAX_PERMITS)));
    let mut connections = JoinSet::new();
    loop {
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else { return };
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let served = serve(stream);
                    connections.spawn(async move {
                        served.await;
                        drop(permit);
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}
