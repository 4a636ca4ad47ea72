//! What the server refuses or adds on every request: JSON only as JSON objects (a plain form
//! cannot post across sites), no caching of API answers, HSTS behind https, and a logout that
//! ends whatever credential the request carried.

use reqwest::Method;
use serde_json::json;

use crate::backend_tests;
use crate::helpers::*;

async fn json_bodies_must_say_so_and_be_objects(app: TestApp) {
    let owner = app.setup().await;
    let Auth::Bearer(token) = &owner.auth else { unreachable!() };
    let login = |content_type: Option<&str>, body: &str| {
        let mut req = app.http.post(format!("{}/api/auth/login", app.base)).body(body.to_string());
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        req
    };
    let creds = r#"{"email": "owner@acme.test", "password": "owner-password"}"#;
    // What a cross-site HTML form can send is refused before anything is checked.
    for ct in [None, Some("text/plain"), Some("application/x-www-form-urlencoded"), Some("multipart/form-data; boundary=x")] {
        app.raw(login(ct, creds)).await.assert_error(415, "unsupported_media_type");
    }
    assert_eq!(app.raw(login(Some("application/json; charset=utf-8"), creds)).await.status, 200);
    // Arrays where the contract says objects.
    app.raw(login(Some("application/json"), r#"["owner@acme.test", "owner-password"]"#)).await.assert_error(400, "invalid_input");
    let bot = app.shop_bot(&owner).await;
    let v = app.visitor(&bot).await;
    let Auth::Bearer(vt) = &v.auth else { unreachable!() };
    let patch = app
        .http
        .patch(format!("{}/api/widget/visitor", app.base))
        .bearer_auth(vt)
        .header("content-type", "application/json")
        .body(r#"["Ann", null]"#);
    app.raw(patch).await.assert_error(400, "invalid_input");
    let create =
        app.http.post(format!("{}/api/widget/bots/{bot}/visitors", app.base)).header("content-type", "text/plain").body(r#"{"name": "Ann"}"#);
    app.raw(create).await.assert_error(415, "unsupported_media_type");
    // Nothing changed: the visitor keeps their name.
    assert_eq!(v.get(&app, "/api/widget/conversation").await.status, 200);
    let me = app.raw(app.http.get(format!("{}/api/me", app.base)).bearer_auth(token)).await;
    assert_eq!(me.body["user"]["email"], "owner@acme.test");
}

async fn api_answers_are_not_cached_and_pages_are_not_forced_to_https_over_http(app: TestApp) {
    let owner = app.setup().await;
    let Auth::Bearer(token) = &owner.auth else { unreachable!() };
    let me = app.http.get(format!("{}/api/me", app.base)).bearer_auth(token).send().await.unwrap();
    assert_eq!(me.headers()["cache-control"], "no-store");
    let refused = app.http.get(format!("{}/api/me", app.base)).send().await.unwrap();
    assert_eq!(refused.headers()["cache-control"], "no-store", "error answers too");
    assert!(me.headers().get("strict-transport-security").is_none(), "plain http: no HSTS");
}

async fn behind_https_every_answer_asks_for_https(app: TestApp) {
    let backend = app.backend;
    drop(app);
    let app = TestApp::spawn_with(backend, |s| s.public_url = Some("https://chat.example.com".into())).await;
    let r = app.http.get(format!("{}/healthz", app.base)).send().await.unwrap();
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
}

async fn logging_out_with_a_token_revokes_it(app: TestApp) {
    let owner = app.setup().await;
    let r = owner.post(&app, "/api/tokens", json!({"name": "script"})).await;
    let script = Auth::Bearer(r.body["token"].as_str().unwrap().into());
    assert_eq!(app.call(Method::GET, "/api/me", &script, None).await.status, 200);
    assert_eq!(app.call(Method::POST, "/api/auth/logout", &script, None).await.status, 204);
    app.call(Method::GET, "/api/me", &script, None).await.assert_error(401, "unauthenticated");
    // Only that token: the owner's own keeps working.
    assert_eq!(owner.get(&app, "/api/me").await.status, 200);
}

backend_tests!(
    json_bodies_must_say_so_and_be_objects,
    api_answers_are_not_cached_and_pages_are_not_forced_to_https_over_http,
    behind_https_every_answer_asks_for_https,
    logging_out_with_a_token_revokes_it
);
