//! The HTTP side: an accept loop serving each TCP connection with hyper, so that a single
//! connection can be dropped without an answer, and the API handler that applies faults,
//! verifies signatures, runs operations and journals every request.

use super::faults::{Draw, DropPoint};
use super::journal::{JournalEntry, JournalOutcome};
use super::operations::{self, Operation, OperationContext};
use super::wire::{ApiError, json_response};
use super::{ServerState, control, lock, sigv4, validation};
use crate::http::accept_connections;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::{Extension, Router};
use http::{HeaderMap, Method, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Instant, SystemTime};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// The prefix of every WorkMail `X-Amz-Target`.
const TARGET_PREFIX: &str = "WorkMailService.";

/// Closes the connection a request arrived on, without an answer.
#[derive(Clone)]
struct ConnectionKill(Arc<Notify>);

impl ConnectionKill {
    /// Signals the connection task to drop the connection, then waits for this handler to be
    /// dropped with it; it never returns.
    async fn drop_connection(&self) -> Response {
        self.0.notify_one();
        std::future::pending().await
    }
}

/// Serves until the task is aborted; aborting drops every connection task with it.
pub(crate) async fn serve(listener: TcpListener, shared: Arc<ServerState>) {
    let router = Router::new()
        .route("/", post(api))
        .nest("/_emulator", control::router())
        .with_state(shared);
    // No limit of its own: a test may open as many connections as it likes.
    // (So it never closes one to make room: the activity it is given goes unmarked.)
    accept_connections(listener, usize::MAX, |stream, _| serve_connection(stream, router.clone()))
        .await;
}

async fn serve_connection(stream: TcpStream, router: Router) {
    let _ = stream.set_nodelay(true);
    let kill = Arc::new(Notify::new());
    let service = TowerToHyperService::new(router.layer(Extension(ConnectionKill(kill.clone()))));
    let connection =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        result = connection => {
            if let Err(e) = result {
                tracing::debug!(error = %e, "emulator connection ended with an error");
            }
        }
        // Dropping the connection future drops the socket: the client sees the connection
        // closed with no HTTP answer, as when a load balancer or network path fails.
        () = kill.notified() => {}
    }
}

/// UUID-shaped request ids, unique per emulator.
fn request_id(shared: &ServerState) -> String {
    let n = shared.requests.fetch_add(1, Ordering::Relaxed);
    format!("{:08x}-0000-4000-8000-{:012x}", shared.instance, n)
}

async fn api(
    State(shared): State<Arc<ServerState>>,
    kill: Option<Extension<ConnectionKill>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let at = SystemTime::now();
    let request_id = request_id(&shared);
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("");
    let operation = target.strip_prefix(TARGET_PREFIX).unwrap_or(target).to_owned();
    let (parsed, journal_input) = parse_body(&body);
    let record = |outcome: JournalOutcome| {
        lock(&shared.journal).record(JournalEntry {
            operation: operation.clone(),
            input: journal_input.clone(),
            outcome,
            at,
        });
        shared.journaled.notify_waiters();
    };

    let (latency, draw) = {
        let mut faults = lock(&shared.faults);
        (faults.faults().latency, faults.draw())
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if draw.drop == Some(DropPoint::BeforeOperation)
        && let Some(Extension(kill)) = &kill
    {
        record(JournalOutcome::Dropped { applied: false });
        return kill.drop_connection().await;
    }

    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let verified = match sigv4::verify(
        method.as_str(),
        path,
        &headers,
        &body,
        &shared.access_key_id,
        &shared.secret_access_key,
        SystemTime::now(),
    ) {
        Ok(v) => v,
        Err(e) => {
            record(JournalOutcome::SignatureRejected);
            return e.into_response(&request_id);
        }
    };
    if let Some((outcome, error)) = injected_refusal(&shared, &draw) {
        record(outcome);
        return error.into_response(&request_id);
    }

    let op = target.strip_prefix(TARGET_PREFIX).and_then(Operation::from_name);
    let result = run(&shared, op, target, parsed, &verified.region);

    if draw.drop == Some(DropPoint::AfterOperation)
        && let Some(Extension(kill)) = &kill
    {
        let applied = op.is_some_and(Operation::is_write) && result.is_ok();
        record(JournalOutcome::Dropped { applied });
        return kill.drop_connection().await;
    }
    match result {
        Ok(output) => {
            record(JournalOutcome::Ok);
            json_response(StatusCode::OK, &output, &request_id)
        }
        Err(e) => {
            record(JournalOutcome::Error { code: e.code.to_owned() });
            e.into_response(&request_id)
        }
    }
}

/// The request body as JSON (no body is `{}`), and what the journal keeps of it: the JSON, or
/// the text of a body that is not JSON.
fn parse_body(body: &[u8]) -> (Result<Value, serde_json::Error>, Value) {
    let parsed = if body.is_empty() {
        Ok(Value::Object(Default::default()))
    } else {
        serde_json::from_slice(body)
    };
    let journal_input = match &parsed {
        Ok(v) => v.clone(),
        Err(_) => Value::String(String::from_utf8_lossy(body).into_owned()),
    };
    (parsed, journal_input)
}

/// The refusal a verified request draws instead of its operation: a throttle (the rate cap or
/// a random one), else a random 5xx.
fn injected_refusal(shared: &ServerState, draw: &Draw) -> Option<(JournalOutcome, ApiError)> {
    let admitted = lock(&shared.faults).admit(Instant::now());
    if !admitted || draw.throttle {
        return Some((JournalOutcome::Throttled, ApiError::throttling()));
    }
    draw.server_error
        .map(|status| (JournalOutcome::ServerError { status }, ApiError::server_error(status)))
}

fn run(
    shared: &ServerState,
    op: Option<Operation>,
    target: &str,
    parsed: Result<Value, serde_json::Error>,
    region: &str,
) -> Result<Value, ApiError> {
    let op = op.ok_or_else(|| {
        ApiError::client(
            "UnknownOperationException",
            if target.is_empty() {
                "Missing X-Amz-Target header.".to_owned()
            } else {
                format!("Operation {target} is not supported by the WorkMail emulator.")
            },
        )
    })?;
    let input = parsed.map_err(|e| ApiError::serialization(format!("Malformed JSON body: {e}")))?;
    if !input.is_object() {
        return Err(ApiError::serialization("The request body must be a JSON object."));
    }
    validation::validate_input(op.name(), &input)?;
    let semantics = *lock(&shared.semantics);
    let list_aliases_include_primary = shared.list_aliases_include_primary.load(Ordering::Relaxed);
    let mut directory = lock(&shared.directory);
    operations::execute(
        op,
        &input,
        OperationContext {
            directory: &mut directory,
            semantics,
            list_aliases_include_primary,
            now: SystemTime::now(),
            region,
        },
    )
}
