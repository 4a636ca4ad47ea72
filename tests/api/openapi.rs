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
    ("get", "/api/tokens"),
    ("delete", "/api/tokens/{id}"),
    ("post", "/api/auth/logout-everywhere"),
    ("put", "/api/me/password"),
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
            // A sign-in step succeeds with a redirect.
            assert!(responses.keys().any(|c| c.starts_with('2') || c == "101" || c == "303"), "{method} {path}: no success response");
            if op.get("requestBody").is_some() {
                assert_eq!(responses.get("400").and_then(|r| r["$ref"].as_str()), Some("#/components/responses/Error"), "{method} {path}: no 400");
            }
        }
    }
}

/// Every `$ref` in `v`, recursively.
fn refs(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            if let Some(r) = m.get("$ref").and_then(|r| r.as_str()) {
                out.push(r.to_string());
            }
            m.values().for_each(|x| refs(x, out));
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

async fn the_document_is_well_formed(app: TestApp) {
    let doc = app.get("/api/openapi.json").await.body;
    // Every reference points at a component that exists.
    let mut all = vec![];
    refs(&doc, &mut all);
    assert!(all.len() > 50, "the document uses shared components");
    for r in all {
        let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("external reference {r}"));
        assert!(doc.pointer(pointer).is_some(), "dangling reference {r}");
    }
    // Operation ids are unique, and every response says what it is.
    let mut ids = std::collections::HashSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path}: no operationId"));
            assert!(ids.insert(id.to_string()), "{method} {path}: operationId {id} used twice");
            for (status, r) in op["responses"].as_object().unwrap() {
                assert!(
                    r.get("$ref").is_some() || r["description"].as_str().is_some_and(|d| !d.is_empty()),
                    "{method} {path} {status}: no description"
                );
            }
        }
    }
    // The schemas come from the code's types: request bodies refuse unknown fields as the server does.
    assert_eq!(doc["components"]["schemas"]["TransferBody"]["additionalProperties"], false);
    assert_eq!(doc["components"]["schemas"]["ChatState"]["enum"], serde_json::json!(["bot", "pending", "active", "transferred", "resolved"]));
}

async fn health_and_metrics_are_served(app: TestApp) {
    assert_eq!(app.get("/healthz").await.body, serde_json::json!({"status": "ok"}));
    app.get("/api/nope").await;
    let m = app.http.get(format!("{}/metrics", app.base)).send().await.unwrap();
    assert!(m.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = m.text().await.unwrap();
    assert!(text.contains("baton_http_requests_total"), "{text}");
}

backend_tests!(the_document_covers_the_contract_and_only_served_routes, the_document_is_well_formed, health_and_metrics_are_served);
