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

backend_tests!(pages_and_assets_are_served_with_types_csp_and_etags);
