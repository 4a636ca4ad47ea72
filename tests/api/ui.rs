//! The web app, widget and demo page are served from the binary.

use crate::backend_tests;
use crate::helpers::*;

async fn pages_and_assets_are_served_with_types_csp_and_etags(app: TestApp) {
    let get = |p: &str| app.http.get(format!("{}{}", app.base, p)).send();
    for (path, ty) in [
        ("/app", "text/html"),
        ("/app/inbox/123", "text/html"),
        ("/app/js/main.js", "text/javascript"),
        ("/app/app.css", "text/css"),
        ("/widget.js", "text/javascript"),
        ("/demo", "text/html"),
    ] {
        let r = get(path).await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with(ty), "{path}");
    }
    let page = get("/app/mine").await.unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    let etag = page.headers()["etag"].to_str().unwrap().to_string();
    let again = app.http.get(format!("{}/app/mine", app.base)).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(get("/app/js/nope.js").await.unwrap().status(), 404, "a missing file is not the app page");
    let root =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap().get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(root.headers()["location"], "/app");
    let widget = get("/widget.js").await.unwrap().text().await.unwrap();
    assert!(widget.contains("attachShadow"), "the widget isolates itself from the host page");
}

/// The inbox installs as an app: the page links a manifest whose icons are real PNGs of the
/// sizes it says.
async fn the_inbox_is_installable(app: TestApp) {
    let page = app.http.get(format!("{}/app", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"<link rel="manifest" href="/app/manifest.webmanifest">"#), "{page}");
    let res = app.http.get(format!("{}/app/manifest.webmanifest", app.base)).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "application/manifest+json");
    let manifest: serde_json::Value = res.json().await.unwrap();
    assert_eq!((manifest["display"].as_str(), manifest["start_url"].as_str()), (Some("standalone"), Some("/app/inbox")));
    let icons = manifest["icons"].as_array().unwrap();
    for size in [192u32, 512] {
        let icon = icons.iter().find(|i| i["sizes"] == format!("{size}x{size}") && i["purpose"] == "any").expect("an icon of that size");
        let bytes = app.http.get(format!("{}{}", app.base, icon["src"].as_str().unwrap())).send().await.unwrap().bytes().await.unwrap();
        let img = image::load_from_memory(&bytes).expect("a PNG");
        assert_eq!((img.width(), img.height()), (size, size));
    }
    assert!(icons.iter().any(|i| i["purpose"] == "maskable"));
}

backend_tests!(pages_and_assets_are_served_with_types_csp_and_etags, the_inbox_is_installable);
