//! The HTTP edge: one module per resource, each exposing `router()`. Handlers are thin: extract
//! and authorise, call the store (which calls the domain), map the result, publish events.

pub mod accounts;
pub mod bots;
pub mod error;
pub mod extract;
pub mod live_chats;
pub mod notifications;
pub mod ops;
pub mod publish;
pub mod shortcuts;
pub mod teams;
pub mod ui;
pub mod views;
pub mod widget;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use tower_http::trace::TraceLayer;

use crate::app::AppState;
use error::error_response;

/// JSON bodies are small; the avatar route raises its own limit.
pub const JSON_BODY_LIMIT: usize = 64 * 1024;

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(accounts::router())
        .merge(teams::router())
        .merge(bots::router())
        .merge(live_chats::router())
        .merge(notifications::router())
        .merge(shortcuts::router())
        .merge(widget::router())
        .merge(ops::router())
        .merge(ui::router())
        .merge(crate::realtime::router())
        .fallback(|| async { error_response(StatusCode::NOT_FOUND, "not_found", "no such endpoint") })
        .method_not_allowed_fallback(|| async {
            error_response(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this endpoint does not accept that method")
        })
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .layer(axum::middleware::from_fn(ops::track))
        .layer(widget::cors())
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

async fn security_headers(mut res: axum::response::Response) -> impl IntoResponse {
    let h = res.headers_mut();
    h.entry("x-content-type-options").or_insert(axum::http::HeaderValue::from_static("nosniff"));
    h.entry("referrer-policy").or_insert(axum::http::HeaderValue::from_static("strict-origin-when-cross-origin"));
    res
}
