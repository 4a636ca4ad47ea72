//! The served OpenAPI document describes every route of the contract, and every route it
//! describes is really served.

use reqwest::Method;

use crate::backend_tests;
use crate::helpers::*;

/// Every route of API.md.
const CONTRACT: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("post", "/api/setup"),
    ("post", "/api/auth/login"),
    ("post", "/api/auth/logout"),
    ("post", "/api/tokens"),
    ("get", "/api/me"),
    ("patch", "/api/me"),
    ("put", "/api/me/avatar"),
    ("put", "/api/me/active-team"),
    ("put", "/api/me/status"),
    ("post", "/api/teams"),
    ("get", "/api/teams/{team}/members"),
    ("post", "/api/teams/{team}/members"),
    ("patch", "/api/teams/{team}/members/{user}"),
    ("delete", "/api/teams/{team}/members/{user}"),
    ("get", "/api/teams/{team}/agents"),
    ("patch", "/api/teams/{team}/settings"),
    ("post", "/api/teams/{team}/bots"),
    ("get", "/api/teams/{team}/bots"),
    ("get", "/api/bots/{bot}"),
    ("patch", "/api/bots/{bot}"),
    ("delete", "/api/bots/{bot}"),
    ("get", "/api/live-chats"),
    ("get", "/api/live-chats/{id}"),
    ("post", "/api/live-chats/{id}/claim"),
    ("post", "/api/live-chats/{id}/messages"),
    ("post", "/api/live-chats/{id}/notes"),
    ("post", "/api/live-chats/{id}/transfer"),
    ("post", "/api/live-chats/{id}/resolve"),
    ("post", "/api/live-chats/{id}/read"),
    ("get", "/api/shortcuts"),
    ("post", "/api/shortcuts"),
    ("patch", "/api/shortcuts/{id}"),
    ("delete", "/api/shortcuts/{id}"),
    ("get", "/api/widget/bots/{bot}/config"),
    ("post", "/api/widget/bots/{bot}/visitors"),
    ("patch", "/api/widget/visitor"),
    ("get", "/api/widget/conversation"),
    ("post", "/api/widget/conversations"),
    ("post", "/api/widget/messages"),
    ("post", "/api/widget/escalate"),
    ("post", "/api/widget/end"),
    ("get", "/api/openapi.json"),
    ("get", "/metrics"),
    ("get", "/ws"),
    ("get", "/api/widget/ws"),
    ("get", "/api/me/notification-preferences"),
    ("put", "/api/me/notification-preferences"),
    ("post", "/api/me/push-subscriptions"),
    ("delete", "/api/me/push-subscriptions"),
    ("post", "/api/me/notifications/test"),
    ("get", "/api/push/vapid-public-key"),
];

async fn the_document_covers_the_contract_and_only_served_routes(app: TestApp) {
    let doc = app.get("/api/openapi.json").await;
    assert_eq!(doc.status, 200);
    assert_eq!(doc.body["openapi"], "3.1.0");
    let paths = doc.body["paths"].as_object().unwrap();
    for (method, path) in CONTRACT {
        assert!(paths.get(*path).and_then(|p| p.get(*method)).is_some(), "{method} {path} is not documented");
    }
    for (path, ops) in paths {
        let concrete =
            path.replace("{team}", "01900000-0000-7000-8000-000000000001").replace("{user}", "x").replace("{bot}", "x").replace("{id}", "x");
        for method in ops.as_object().unwrap().keys() {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = app.call(m, &concrete, &Auth::None, None).await;
            let unrouted = r.status == 405 || (r.status == 404 && r.body["error"]["message"] == "no such endpoint");
            assert!(!unrouted, "{method} {path} is documented but not served ({})", r.status);
        }
    }
    // every operation documents its success, and every one that takes a body its 400 in the
    // error shape
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.keys().any(|c| c.starts_with('2') || c == "101"), "{method} {path}: no success response");
            if op.get("requestBody").is_some() {
                assert_eq!(responses.get("400").and_then(|r| r["$ref"].as_str()), Some("#/components/responses/Error"), "{method} {path}: no 400");
            }
        }
    }
}

async fn health_and_metrics_are_served(app: TestApp) {
    assert_eq!(app.get("/healthz").await.body, serde_json::json!({"status": "ok"}));
    app.get("/api/nope").await;
    let m = app.http.get(format!("{}/metrics", app.base)).send().await.unwrap();
    assert!(m.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = m.text().await.unwrap();
    assert!(text.contains("baton_http_requests_total"), "{text}");
}

backend_tests!(the_document_covers_the_contract_and_only_served_routes, health_and_metrics_are_served);
