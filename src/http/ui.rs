//! The web app, the widget and the demo page, embedded in the binary from `ui/` (release builds
//! embed the files; debug builds read them from disk, which is handy while editing).
//!
//! - `/app/...`: the inbox. Paths that are not files are the app's own routes and get its page.
//! - `/widget.js`: the embeddable widget, for any site.
//! - `/demo`: a sample shop page with the widget, for trying Baton out.
//! - `/chat`: a plain page with the widget open, where email links lead when the visitor's page
//!   is unknown.

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use rust_embed::RustEmbed;

use crate::http::extract::AppPath;
use crate::services::AppState;

#[derive(RustEmbed)]
#[folder = "ui/"]
struct Assets;

/// Our pages load nothing from elsewhere and run no inline script.
const APP_CSP: &str = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::temporary("/app") }))
        .route("/app", get(|headers: HeaderMap| async move { page("app/index.html", &headers) }))
        .route("/app/vendor/chart.js", get(chart_js))
        .route("/app/{*path}", get(app_path))
        .route("/widget.js", get(|headers: HeaderMap| async move { asset("widget/widget.js", &headers, None) }))
        .route("/demo", get(|headers: HeaderMap| async move { page("demo/index.html", &headers) }))
        .route("/chat", get(|headers: HeaderMap| async move { page("chat/index.html", &headers) }))
        .route("/chat/{*path}", get(|AppPath(p): AppPath<String>, headers: HeaderMap| async move { asset(&format!("chat/{p}"), &headers, None) }))
        .route("/demo/{*path}", get(|AppPath(p): AppPath<String>, headers: HeaderMap| async move { asset(&format!("demo/{p}"), &headers, None) }))
}

/// A file of the app, or (for paths that do not name a file) one of its routes.
async fn app_path(AppPath(path): AppPath<String>, headers: HeaderMap) -> Response {
    let file = format!("app/{path}");
    let names_a_file = path.rsplit('/').next().is_some_and(|last| last.contains('.'));
    if names_a_file || Assets::get(&file).is_some() { asset(&file, &headers, None) } else { page("app/index.html", &headers) }
}

fn page(file: &str, headers: &HeaderMap) -> Response {
    asset(file, headers, Some(APP_CSP))
}

fn content_type(file: &str) -> &'static str {
    match file.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        Some("webmanifest") => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

/// Chart.js, from npm at build time (see `build.rs`), for the Reports page.
static CHART_JS: &str = include_str!(concat!(env!("OUT_DIR"), "/chart.umd.min.js"));

async fn chart_js(headers: HeaderMap) -> Response {
    static ETAG: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        use sha2::Digest;
        format!("\"{}\"", sha2::Sha256::digest(CHART_JS.as_bytes()).iter().take(12).map(|b| format!("{b:02x}")).collect::<String>())
    });
    let mut res = if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(ETAG.as_str()) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], CHART_JS).into_response()
    };
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&ETAG) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

fn asset(file: &str, headers: &HeaderMap, csp: Option<&'static str>) -> Response {
    let Some(found) = Assets::get(file) else {
        return crate::http::error::error_response(StatusCode::NOT_FOUND, "not_found", "no such file");
    };
    let etag = format!("\"{}\"", found.metadata.sha256_hash().iter().take(12).map(|b| format!("{b:02x}")).collect::<String>());
    let mut res = if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, content_type(file))], found.data.into_owned()).into_response()
    };
    let h = res.headers_mut();
    // Revalidate every time: the ETag makes that a cheap 304, and an upgrade shows at once.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let Some(csp) = csp {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    }
    res
}
