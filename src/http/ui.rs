//! Pages served from the binary.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/app/setup", get(setup))
}

/// The first-run page `baton serve` links to.
async fn setup() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], include_str!("../../ui/setup.html"))
}
