//! The HTTP routes: one JSON endpoint per capability (each in its own module), `GET
//! /v1/models`, `GET /healthz` and `GET /metrics`; a JSON 404 or 405 for any other path or
//! method; and the layer that counts every request and its latency.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::limits::{ApiError, Limits};
use super::metrics::Metrics;
use super::registry::Registry;
use super::{charlm, classify, embed, translate};

/// What every handler reads.
pub(crate) struct AppState {
    pub registry: Registry,
    pub metrics: Arc<Metrics>,
    pub limits: Limits,
    /// How long a request may wait for its model (`--timeout`).
    pub timeout: Duration,
}

/// The endpoints, as metrics label them; any other path is `other`.
const ENDPOINTS: [&str; 10] = [
    "/v1/translate",
    "/v1/classify",
    "/v1/embeddings/similar",
    "/v1/embeddings/similarity",
    "/v1/embeddings/analogy",
    "/v1/embeddings/vector",
    "/v1/charlm/sample",
    "/v1/models",
    "/healthz",
    "/metrics",
];

/// The server's routes over `state`.
pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route(ENDPOINTS[0], post(translate::handle))
        .route(ENDPOINTS[1], post(classify::handle))
        .route(ENDPOINTS[2], post(embed::similar))
        .route(ENDPOINTS[3], post(embed::similarity))
        .route(ENDPOINTS[4], post(embed::analogy))
        .route(ENDPOINTS[5], post(embed::vector))
        .route(ENDPOINTS[6], post(charlm::handle))
        .route(ENDPOINTS[7], get(models))
        .route(ENDPOINTS[8], get(healthz))
        .route(ENDPOINTS[9], get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .with_state(state)
}

/// Counts a request while it is answered; a request whose client hung up is no longer in
/// flight, though never answered.
struct InFlight<'a>(&'a Metrics);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.ended();
    }
}

/// Records each request's endpoint, status and latency.
async fn track(State(app): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let endpoint = ENDPOINTS
        .iter()
        .copied()
        .find(|e| *e == path)
        .unwrap_or("other");
    let start = Instant::now();
    app.metrics.started();
    let _in_flight = InFlight(&app.metrics);
    let response = next.run(req).await;
    app.metrics
        .answered(endpoint, response.status().as_u16(), start.elapsed());
    response
}

async fn models(State(app): State<Arc<AppState>>) -> Response {
    Json(serde_json::json!({ "models": app.registry.info })).into_response()
}

async fn healthz(State(app): State<Arc<AppState>>) -> Response {
    Json(serde_json::json!({ "status": "ok", "models": app.registry.info.len() })).into_response()
}

async fn metrics(State(app): State<Arc<AppState>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.metrics.render(),
    )
        .into_response()
}

async fn not_found(req: Request) -> ApiError {
    ApiError {
        status: StatusCode::NOT_FOUND,
        message: format!(
            "no endpoint {}; the endpoints are {}",
            req.uri().path(),
            ENDPOINTS.join(", ")
        ),
        limit: None,
    }
}

async fn method_not_allowed(req: Request) -> ApiError {
    let wanted = match ENDPOINTS[7..].contains(&req.uri().path()) {
        true => "GET",
        false => "POST",
    };
    ApiError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        message: format!("{} takes {wanted}, not {}", req.uri().path(), req.method()),
        limit: None,
    }
}
