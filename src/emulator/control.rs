//! The unsigned control endpoint under `/_emulator/`, for tests and tools outside the process.
//! It is neither journaled nor subject to faults (so drops can always be switched off).
//!
//! - `GET /_emulator/journal` — the journal entries; `DELETE` clears journal and counters
//! - `GET /_emulator/counters` — the counters
//! - `GET /_emulator/state` — organizations with their mail domains, users and groups
//! - `GET|PUT /_emulator/faults` — the faults (PUT takes [`Faults`] JSON, missing fields default)
//! - `GET|PUT /_emulator/semantics` — `"patch"` or `"replace"`
//! - `GET|PUT /_emulator/list-aliases-include-primary` — `true` or `false`

use super::{Faults, ServerState, UpdateSemantics, lock};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{StatusCode, header};
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::Ordering;

pub(crate) fn router() -> Router<Arc<ServerState>> {
    Router::new()
        .route("/journal", get(journal).delete(clear_journal))
        .route("/counters", get(counters))
        .route("/state", get(state))
        .route("/faults", get(faults).put(put_faults))
        .route("/semantics", get(semantics).put(put_semantics))
        .route(
            "/list-aliases-include-primary",
            get(list_aliases_include_primary).put(put_list_aliases_include_primary),
        )
}

fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_string_pretty(value) {
        Ok(body) => (status, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

fn bad_request(message: String) -> Response {
    json(StatusCode::BAD_REQUEST, &serde_json::json!({ "error": message }))
}

async fn journal(State(shared): State<Arc<ServerState>>) -> Response {
    json(StatusCode::OK, &lock(&shared.journal).entries())
}

async fn clear_journal(State(shared): State<Arc<ServerState>>) -> Response {
    lock(&shared.journal).clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn counters(State(shared): State<Arc<ServerState>>) -> Response {
    json(StatusCode::OK, lock(&shared.journal).counters())
}

async fn state(State(shared): State<Arc<ServerState>>) -> Response {
    let organizations: Vec<serde_json::Value> =
        lock(&shared.directory).organizations.iter().map(|o| o.to_json()).collect();
    let semantics = *lock(&shared.semantics);
    let include_primary = shared.list_aliases_include_primary.load(Ordering::Relaxed);
    json(
        StatusCode::OK,
        &serde_json::json!({
            "semantics": semantics,
            "list_aliases_include_primary": include_primary,
            "organizations": organizations,
        }),
    )
}

async fn faults(State(shared): State<Arc<ServerState>>) -> Response {
    json(StatusCode::OK, lock(&shared.faults).faults())
}

async fn put_faults(State(shared): State<Arc<ServerState>>, body: Bytes) -> Response {
    let faults: Faults = match serde_json::from_slice(&body) {
        Ok(f) => f,
        Err(e) => return bad_request(format!("invalid faults: {e}")),
    };
    if let Err(e) = faults.validate() {
        return bad_request(e);
    }
    lock(&shared.faults).set(faults.clone());
    json(StatusCode::OK, &faults)
}

async fn semantics(State(shared): State<Arc<ServerState>>) -> Response {
    json(StatusCode::OK, &*lock(&shared.semantics))
}

async fn put_semantics(State(shared): State<Arc<ServerState>>, body: Bytes) -> Response {
    match serde_json::from_slice::<UpdateSemantics>(&body) {
        Ok(s) => {
            *lock(&shared.semantics) = s;
            json(StatusCode::OK, &s)
        }
        Err(e) => bad_request(format!("expected \"patch\" or \"replace\": {e}")),
    }
}

async fn list_aliases_include_primary(State(shared): State<Arc<ServerState>>) -> Response {
    json(StatusCode::OK, &shared.list_aliases_include_primary.load(Ordering::Relaxed))
}

async fn put_list_aliases_include_primary(
    State(shared): State<Arc<ServerState>>,
    body: Bytes,
) -> Response {
    match serde_json::from_slice::<bool>(&body) {
        Ok(include) => {
            shared.list_aliases_include_primary.store(include, Ordering::Relaxed);
            json(StatusCode::OK, &include)
        }
        Err(e) => bad_request(format!("expected true or false: {e}")),
    }
}
