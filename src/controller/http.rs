//! The HTTP endpoints, on one listener: probes, the status document and page, metrics, and the
//! signed webhook that triggers a run.

use super::context::Context;
use super::status::Trigger;
use super::status_page;
use super::webhook::SIGNATURE_HEADER;
use crate::http::{Activity, Tracked, accept_connections};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use futures_util::StreamExt;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// The largest `POST /trigger` body accepted; larger ones get 413. A GitHub push event is tens
/// of kilobytes.
const MAX_TRIGGER_BODY: usize = 1024 * 1024;

/// How long clients may take, and how many may be served at once: each stage of a request
/// has a deadline, so that silent or hostile clients cannot hold sockets for ever, and slow
/// request bodies may hold only part of the connections, so that the probes keep answering
/// while the webhook is flooded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HttpLimits {
    /// How long a client may take to send a request's headers, the first request's or the
    /// next on a kept-alive connection.
    pub header_read: Duration,
    /// How long a client may take to send a request's whole body once its headers are in
    /// (a deadline for the body, not for each byte: trickling does not extend it). A body
    /// that misses it gets 408 and the connection is closed.
    pub body_read: Duration,
    /// Connections served at once; more wait in the listen backlog until one closes.
    pub connections: usize,
    /// Request bodies read at once. A request that would read one more gets 503 at once and
    /// its connection is closed, so waiting bodies never hold more than this many of the
    /// [`HttpLimits::connections`]: the rest stay free for the probes and the status.
    pub bodies: usize,
}

impl HttpLimits {
    /// The limits of the controller's endpoints.
    pub(crate) const DEFAULT: HttpLimits = HttpLimits {
        header_read: Duration::from_secs(10),
        body_read: Duration::from_secs(10),
        connections: 256,
        bodies: 32,
    };
}

/// The body stage of [`HttpLimits`], shared by the handlers that read a body.
#[derive(Debug, Clone)]
struct BodyGate {
    deadline: Duration,
    permits: Arc<Semaphore>,
}

/// Serve `router` on `listener` within `limits` until the task is aborted (which drops every
/// connection).
pub(crate) async fn serve(listener: TcpListener, router: Router, limits: HttpLimits) {
    let gate =
        BodyGate { deadline: limits.body_read, permits: Arc::new(Semaphore::new(limits.bodies)) };
    let router = router.layer(Extension(gate));
    accept_connections(listener, limits.connections, |stream, activity| {
        serve_connection(stream, activity, router.clone(), limits.header_read)
    })
    .await;
}

async fn serve_connection(
    stream: TcpStream,
    activity: Activity,
    router: Router,
    header_read: Duration,
) {
    let service = Tracked::new(TowerToHyperService::new(router), activity);
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read)
        .serve_connection(TokioIo::new(stream), service);
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
        router = router.route("/trigger", post(trigger));
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

/// A text answer after which the connection is closed: its request body was not read whole.
fn closing(status: StatusCode, body: &'static str) -> Response {
    let mut response = text(status, body);
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Why a request body was not read.
enum BodyRefused {
    /// Over the limit (the declared length, or the bytes that came).
    TooLarge,
    /// Not all there by the deadline.
    Late,
    /// The connection failed, or the body was malformed (bad chunking).
    Broken,
}

impl BodyRefused {
    fn answer(self) -> Response {
        match self {
            BodyRefused::TooLarge => closing(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the body is over 1 MiB, the most a webhook may send\n",
            ),
            BodyRefused::Late => closing(
                StatusCode::REQUEST_TIMEOUT,
                "the request body did not arrive in time; send it whole at once\n",
            ),
            BodyRefused::Broken => {
                closing(StatusCode::BAD_REQUEST, "the request body is malformed\n")
            }
        }
    }
}

/// Read `body`, of at most `limit` bytes, within the gate's deadline, under one of its permits.
/// No permit free: 503 at once (too many bodies are being read already).
async fn read_body(
    gate: &BodyGate,
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Vec<u8>, Response> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(BodyRefused::TooLarge.answer());
    }
    let Ok(_permit) = gate.permits.try_acquire() else {
        tracing::warn!("a request was refused: too many request bodies are being read at once");
        return Err(closing(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many requests are sending their bodies at once; try again\n",
        ));
    };
    match tokio::time::timeout(gate.deadline, collect(body, limit)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(refused)) => Err(refused.answer()),
        Err(_) => {
            tracing::warn!(deadline = ?gate.deadline, "a request body did not arrive in time");
            Err(BodyRefused::Late.answer())
        }
    }
}

/// The bytes of `body`, at most `limit` of them.
async fn collect(body: Body, limit: usize) -> Result<Vec<u8>, BodyRefused> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| BodyRefused::Broken)?;
        if bytes.len() + chunk.len() > limit {
            return Err(BodyRefused::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Bodies over [`MAX_TRIGGER_BODY`] are refused (413) before they are read.
async fn trigger(
    State(ctx): State<Arc<Context>>,
    Extension(gate): Extension<BodyGate>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(secret) = &ctx.settings.webhook_secret else {
        return text(StatusCode::NOT_FOUND, "not found\n");
    };
    let body = match read_body(&gate, &headers, body, MAX_TRIGGER_BODY).await {
        Ok(body) => body,
        Err(refused) => return refused,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::{Metrics, Mode, Settings, Source, WebhookSecret};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_util::sync::CancellationToken;

    /// A controller's endpoints with a webhook secret, served within `limits`; their address.
    /// No run happens: the loop is not started.
    async fn endpoints(limits: HttpLimits) -> String {
        use aws_sdk_workmail::config::{BehaviorVersion, Region};
        let config = aws_sdk_workmail::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url("http://127.0.0.1:9")
            .build();
        let directory =
            crate::reconcile::SdkDirectory::new(config, crate::reconcile::Limiter::new(1, None));
        let settings = Settings {
            source: Source::new("."),
            mode: Mode::Observe,
            interval: Duration::from_secs(3600),
            limits: crate::reconcile::SafetyLimits::default(),
            selection: crate::reconcile::Selection::default(),
            unmanaged: crate::reconcile::UnmanagedPolicy::Ignore,
            redaction: crate::redaction::Redaction::None,
            audit: None,
            webhook_secret: Some(WebhookSecret::new("s3cret")),
            width: 1,
            http: limits,
        };
        let metrics = Arc::new(Metrics::new());
        let (ctx, _triggers) = Context::new(settings, directory, metrics, CancellationToken::new());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        let ctx = Arc::new(ctx);
        tokio::spawn(serve(listener, router(Arc::clone(&ctx)), ctx.settings.http));
        address
    }

    /// A connection that has sent `POST /trigger` headers announcing a body of 1,000 bytes.
    async fn body_announced(address: &str) -> TcpStream {
        let mut stream = TcpStream::connect(address).await.expect("connect");
        let head = "POST /trigger HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\
                    x-hub-signature-256: sha256=00\r\n\r\n";
        stream.write_all(head.as_bytes()).await.expect("write");
        stream
    }

    /// Everything the server sends until it closes; the test fails if it never does.
    async fn answer(stream: &mut TcpStream) -> String {
        let mut bytes = Vec::new();
        // Far longer than any deadline of these tests: only a server that never answers
        // reaches it.
        let read = tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut bytes));
        read.await.expect("an answer, and the connection closed").expect("read");
        String::from_utf8_lossy(&bytes).into_owned()
    }

    async fn get(address: &str, path: &str) -> String {
        let mut stream = TcpStream::connect(address).await.expect("connect");
        let head = format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
        stream.write_all(head.as_bytes()).await.expect("write");
        answer(&mut stream).await
    }

    #[tokio::test]
    async fn a_body_not_all_there_by_the_deadline_gets_408_even_while_it_trickles() {
        let limits = HttpLimits { body_read: Duration::from_millis(300), ..HttpLimits::DEFAULT };
        let address = endpoints(limits).await;
        // Nothing after the headers.
        let mut silent = body_announced(&address).await;
        assert!(answer(&mut silent).await.starts_with("HTTP/1.1 408 "));
        // A byte every 20 ms: each byte in time, the body never.
        let stream = body_announced(&address).await;
        let (mut reader, mut writer) = stream.into_split();
        let trickle = tokio::spawn(async move {
            while writer.write_all(b" ").await.is_ok() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        let mut bytes = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(60), reader.read_to_end(&mut bytes));
        read.await.expect("an answer, and the connection closed").expect("read");
        trickle.abort();
        let answer = String::from_utf8_lossy(&bytes);
        assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
        assert!(answer.to_lowercase().contains("connection: close"), "{answer}");
    }

    #[tokio::test]
    async fn bodies_that_never_come_leave_connections_for_the_probes() {
        // Bodies never time out here: only the gate keeps connections free.
        let limits = HttpLimits {
            body_read: Duration::from_secs(3600),
            connections: 8,
            bodies: 2,
            ..HttpLimits::DEFAULT
        };
        let address = endpoints(limits).await;
        let mut waiting = Vec::new();
        for _ in 0..20 {
            waiting.push(body_announced(&address).await);
        }
        // All but the two admitted are refused at once, closing their connections.
        let (sent, mut answers) = tokio::sync::mpsc::unbounded_channel();
        for mut stream in waiting {
            let sent = sent.clone();
            tokio::spawn(async move {
                let mut first = [0u8; 12];
                let n = stream.read(&mut first).await.unwrap_or(0);
                let _ = sent.send(String::from_utf8_lossy(&first[..n]).into_owned());
                // Held open, as the client would.
                std::future::pending::<()>().await;
            });
        }
        for _ in 0..18 {
            let first = tokio::time::timeout(Duration::from_secs(60), answers.recv()).await;
            assert_eq!(first.expect("refused at once").as_deref(), Some("HTTP/1.1 503"));
        }
        for _ in 0..10 {
            assert!(get(&address, "/healthz").await.starts_with("HTTP/1.1 200 "));
        }
        assert!(answers.try_recv().is_err(), "the two admitted bodies are still awaited");
        // A probe that announces a body it never sends is answered all the same.
        let mut stream = TcpStream::connect(&address).await.expect("connect");
        let head = "GET /healthz HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n";
        stream.write_all(head.as_bytes()).await.expect("write");
        let mut first = [0u8; 12];
        let read = tokio::time::timeout(Duration::from_secs(60), stream.read_exact(&mut first));
        read.await.expect("an answer").expect("read");
        assert_eq!(&first, b"HTTP/1.1 200");
        // and its connection is not kept waiting for that body.
        answer(&mut stream).await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_client_is_closed_at_the_header_read_timeout_and_not_before() {
        let limits = HttpLimits { header_read: Duration::from_secs(10), ..HttpLimits::DEFAULT };
        let address = endpoints(limits).await;
        let started = tokio::time::Instant::now();
        let mut silent = TcpStream::connect(&address).await.expect("connect");
        assert!(get(&address, "/healthz").await.starts_with("HTTP/1.1 200 "), "others are served");
        assert_eq!(answer(&mut silent).await, "", "closed without an answer");
        let held = started.elapsed();
        assert!(
            held >= limits.header_read && held < limits.header_read + Duration::from_secs(1),
            "closed after {held:?}"
        );
    }

    #[tokio::test]
    async fn clients_that_connect_and_send_nothing_leave_room_for_the_probes() {
        // Headers never time out here: only closing the oldest waiting connection makes room.
        let limits = HttpLimits {
            header_read: Duration::from_secs(3600),
            connections: 8,
            ..HttpLimits::DEFAULT
        };
        let address = endpoints(limits).await;
        let mut silent = Vec::new();
        for _ in 0..20 {
            silent.push(TcpStream::connect(&address).await.expect("connect"));
        }
        for _ in 0..10 {
            assert!(get(&address, "/healthz").await.starts_with("HTTP/1.1 200 "));
        }
        // The oldest silent ones were closed, without an answer.
        assert_eq!(answer(&mut silent[0]).await, "");
    }
}
