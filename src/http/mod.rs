//! The HTTP edge: one module per resource, each exposing `router()`. Handlers are thin: extract
//! and authorise, call a service (or the store, for reads), map the result. The application
//! (`app.rs`) puts these routes and the WebSocket edge's together.

pub mod accounts;
pub mod attachments;
pub mod audit;
pub mod bots;
pub mod error;
pub mod extract;
pub mod live_chats;
pub mod notifications;
pub mod openapi;
pub mod ops;
pub mod privacy;
pub mod reports;
pub mod search;
pub mod server;
pub mod shortcuts;
pub mod teams;
pub mod ui;
pub mod visitor_context;
pub mod webhooks;
pub mod widget;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::services::AppState;
use error::error_response;

/// JSON bodies are small; the avatar route raises its own limit.
pub const JSON_BODY_LIMIT: usize = 64 * 1024;

/// Every API route with its documentation, without state or the layers that wrap all routes
/// (see [`layers`]). The pages of the web app are [`ui::router`].
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(accounts::router())
        .merge(teams::router())
        .merge(bots::router())
        .merge(live_chats::router())
        .merge(attachments::router())
        .merge(audit::router())
        .merge(privacy::router())
        .merge(webhooks::router())
        .merge(reports::router())
        .merge(search::router())
        .merge(visitor_context::router())
        .merge(notifications::router())
        .merge(shortcuts::router())
        .merge(widget::router())
        .merge(ops::router())
}

/// What wraps every route, the WebSocket upgrades included: the error-shaped fallbacks, body
/// limits, metrics, the widget's CORS, tracing and security headers.
pub fn layers(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    router
        .fallback(|| async { error_response(StatusCode::NOT_FOUND, "not_found", "no such endpoint") })
        .method_not_allowed_fallback(|| async {
            error_response(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this endpoint does not accept that method")
        })
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .layer(axum::middleware::from_fn(ops::track))
        .layer(widget::cors())
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn_with_state(state.clone(), security_headers))
}

/// Headers every answer carries. API answers are never cached (they may be personal), and a
/// Baton reached over https tells browsers to stay on https.
async fn security_headers(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> impl IntoResponse {
    use axum::http::HeaderValue;
    let api = req.uri().path().starts_with("/api/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.entry("x-content-type-options").or_insert(HeaderValue::from_static("nosniff"));
    h.entry("referrer-policy").or_insert(HeaderValue::from_static("strict-origin-when-cross-origin"));
    if api {
        h.entry(axum::http::header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    }
    if state.secure_cookies() {
        h.entry(axum::http::header::STRICT_TRANSPORT_SECURITY).or_insert(HeaderValue::from_static("max-age=31536000"));
    }
    res
}
