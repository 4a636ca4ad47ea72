//! Operations: liveness and readiness, Prometheus metrics, the OpenAPI document.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use super::openapi::{Document, Error};
use crate::services::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz)).routes(routes!(readyz)).routes(routes!(metrics)).routes(routes!(openapi))
}

#[derive(Serialize, ToSchema)]
struct Health {
    /// `ok` (`/healthz`: the process serves) or `ready` (`/readyz`: the database answers too).
    status: &'static str,
}

#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// How long readiness waits for the database.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

/// Readiness, for a load balancer: 200 while the database answers (within 2 s), and Redis too
/// when this node is one of several; else 503 `not_ready`. `/healthz` stays the liveness check
/// (the process serves).
#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, body = Health), (status = 503, response = Error)))]
async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    if let Some(cluster) = &state.cluster {
        if let Err(e) = cluster.ping().await {
            tracing::warn!(error = %e, "not ready: Redis does not answer");
            return Err(ApiError::NotReady);
        }
    }
    match tokio::time::timeout(READY_WITHIN, state.store.ping()).await {
        Ok(Ok(())) => Ok(Json(Health { status: "ready" })),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready: the database does not answer");
            Err(ApiError::NotReady)
        }
        Err(_) => {
            tracing::warn!("not ready: the database took too long to answer");
            Err(ApiError::NotReady)
        }
    }
}

/// Installs the process-wide metrics recorder (once), so counters count from start-up.
pub fn install_recorder() {
    recorder();
}

/// The process-wide recorder (installed once; several servers in one test process share it).
fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, content_type = "text/plain", body = String)))]
async fn metrics() -> Response {
    let mut res = recorder().render().into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4"));
    res
}

/// Counts requests and their latency by route template and status.
pub async fn track(req: Request, next: Next) -> Response {
    recorder();
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let start = Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("baton_http_requests_total", &labels).increment(1);
    metrics::histogram!("baton_http_request_duration_seconds", &labels).record(start.elapsed().as_secs_f64());
    res
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "operations", responses((status = 200, content_type = "application/json", body = Object)))]
async fn openapi(Extension(doc): Extension<Document>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], doc.0.to_string()).into_response()
}
