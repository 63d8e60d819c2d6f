//! The HTTP endpoints, on one listener: probes, the status document and page, metrics, and the
//! signed webhook that triggers a run.

use super::context::Context;
use super::status::Trigger;
use super::status_page;
use super::webhook::SIGNATURE_HEADER;
use crate::accept::accept_connections;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

/// The largest `POST /trigger` body accepted; larger ones get 413. A GitHub push event is tens
/// of kilobytes.
const MAX_TRIGGER_BODY: usize = 1024 * 1024;

/// How long a client may take to send a request's headers, the first request's or the next on
/// a kept-alive connection: one that sends nothing, or trickles, is closed, so silent or hostile
/// clients cannot hold sockets for ever.
pub(crate) const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections served at once; more wait in the listen backlog until one closes.
const MAX_CONNECTIONS: usize = 256;

/// Serve `router` on `listener` until the task is aborted (which drops every connection).
pub(crate) async fn serve(listener: TcpListener, router: Router) {
    accept_connections(listener, MAX_CONNECTIONS, |stream| {
        serve_connection(stream, router.clone())
    })
    .await;
}

async fn serve_connection(stream: TcpStream, router: Router) {
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(router));
    if let Err(e) = connection.await {
        tracing::debug!(error = %e, "a connection to the endpoints ended with an error");
    }
}

/// Every endpoint. `POST /trigger` exists only when a webhook secret is set (404 otherwise).
pub(crate) fn router(ctx: Arc<Context>) -> Router {
    let mut router = Router::new()
        .route("/", get(page))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/status", get(status))
        .route("/metrics", get(metrics));
    if ctx.settings.webhook_secret.is_some() {
        router =
            router.route("/trigger", post(trigger).layer(DefaultBodyLimit::max(MAX_TRIGGER_BODY)));
    }
    router.with_state(ctx)
}

fn text(status: StatusCode, body: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

async fn page(State(ctx): State<Arc<Context>>) -> Response {
    let html = status_page::render(&ctx.status());
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

async fn healthz(State(ctx): State<Arc<Context>>) -> Response {
    if ctx.is_alive() {
        text(StatusCode::OK, "ok\n")
    } else {
        text(StatusCode::SERVICE_UNAVAILABLE, "the loop has stopped\n")
    }
}

async fn readyz(State(ctx): State<Arc<Context>>) -> Response {
    if ctx.is_ready() {
        text(StatusCode::OK, "ready\n")
    } else {
        text(StatusCode::SERVICE_UNAVAILABLE, "not ready: no run has completed a plan yet\n")
    }
}

async fn status(State(ctx): State<Arc<Context>>) -> Response {
    let json = serde_json::to_string_pretty(&*ctx.status()).unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/json")], json + "\n").into_response()
}

async fn metrics(State(ctx): State<Arc<Context>>) -> Response {
    let rate = ctx.directory.limiter().stats().current_rate;
    let body = ctx.metrics.encode(rate);
    ([(header::CONTENT_TYPE, super::metrics::CONTENT_TYPE)], body).into_response()
}

/// Bodies over [`MAX_TRIGGER_BODY`] are refused (413) by the body limit before this runs.
async fn trigger(State(ctx): State<Arc<Context>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(secret) = &ctx.settings.webhook_secret else {
        return text(StatusCode::NOT_FOUND, "not found\n");
    };
    let signature = headers.get(SIGNATURE_HEADER).map(|v| v.as_bytes());
    if !secret.verify(signature, &body) {
        tracing::warn!("POST /trigger refused: the X-Hub-Signature-256 header is missing or wrong");
        return text(
            StatusCode::UNAUTHORIZED,
            "the X-Hub-Signature-256 header is missing or does not sign this body with the secret\n",
        );
    }
    ctx.trigger(Trigger::Webhook);
    text(StatusCode::ACCEPTED, "accepted: a run starts now, or right after the run under way\n")
}
