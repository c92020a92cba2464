//! The operator's HTTP endpoint (`ops.listen`): `/healthz`, `/readyz` and
//! `/metrics`, on their own listener so that a monitoring system or a load
//! balancer needs no admin token and never reaches the admin API.
//!
//! - `GET /healthz`: 200 `alive` while the process serves HTTP.
//! - `GET /readyz`: 200 when the node takes new calls, else 503; the body is
//!   JSON naming what stands in the way (see [`crate::ops::health::NotReady`]).
//! - `GET /metrics`: the Prometheus text exposition (documented in
//!   `docs/metrics.md`).

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::ops::health::Readiness;

/// What the probes read.
#[derive(Debug, Clone)]
pub struct OpsState {
    pub readiness: Readiness,
    pub metrics: PrometheusHandle,
}

/// `/healthz`, `/readyz` and `/metrics`.
pub fn router(state: OpsState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// Serves [`router`] on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: OpsState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn healthz() -> &'static str {
    "alive\n"
}

async fn readyz(State(state): State<OpsState>) -> Response {
    let not_ready = state.readiness.state();
    let status = if not_ready.is_ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({ "ready": not_ready.is_ready(), "draining": not_ready.draining,
        "database_down": not_ready.database_down, "engine_down": not_ready.engine_down });
    (status, axum::Json(body)).into_response()
}

async fn metrics(State(state): State<OpsState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// Middleware of the admin router: counts every request by method and status.
pub(super) async fn count_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let response = next.run(request).await;
    crate::ops::metrics::admin_request(method.as_str(), response.status().as_u16());
    response
}
