//! Bad input of every kind gets a clear 4xx in API.md's shape and changes nothing.

use reqwest::Method;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::*;

/// Sends raw bytes as a JSON request with the agent's token.
async fn send_raw(app: &TestApp, agent: &Agent, method: Method, path: &str, body: Vec<u8>) -> Res {
    let Auth::Bearer(token) = &agent.auth else { unreachable!() };
    app.raw(app.http.request(method, format!("{}{}", app.base, path)).bearer_auth(token).header("content-type", "application/json").body(body)).await
}

async fn malformed_bodies_are_refused_with_the_reason(app: TestApp) {
    let owner = app.setup().await;
    owner.set_status(&app, "available").await;
    let bot = app.shop_bot(&owner).await;
    let (_, chat) = app.pending_chat(&bot).await;
    owner.post(&app, &format!("/api/live-chats/{chat}/claim"), json!({})).await;
    let path = format!("/api/live-chats/{chat}/messages");
    let before = owner.get(&app, &format!("/api/live-chats/{chat}")).await.body["last_seq"].clone();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"".to_vec(), "body"),
        (b"{".to_vec(), "body"),
        (b"[1,2]".to_vec(), "body"),
        (b"{}".to_vec(), "body: must not be blank"),
        (br#"{"body": 42}"#.to_vec(), "invalid type"),
        (br#"{"body": "hi", "extra": 1}"#.to_vec(), "unknown field"),
        (br#"{"body": "   "}"#.to_vec(), "body: must not be blank"),
        (br#"{"body": "hi", "client_id": ""}"#.to_vec(), "client_id"),
        (vec![0xff, 0xfe, 0x00], "body"),
        ("[".repeat(5000).into_bytes(), "body"),
    ];
    for (raw, reason) in cases {
        let r = send_raw(&app, &owner, Method::POST, &path, raw.clone()).await;
        r.assert_error(400, "invalid_input");
        let msg = r.body["error"]["message"].as_str().unwrap();
        assert!(msg.contains(reason), "{:?} -> {msg}", String::from_utf8_lossy(&raw[..raw.len().min(20)]));
    }
    let long = json!({"body": "x".repeat(10_001)});
    owner.post(&app, &path, long).await.assert_error(400, "invalid_input");
    let after = owner.get(&app, &format!("/api/live-chats/{chat}")).await.body["last_seq"].clone();
    assert_eq!(before, after, "no message was stored");
}

async fn oversized_bodies_get_413(app: TestApp) {
    let owner = app.setup().await;
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(70 * 1024));
    send_raw(&app, &owner, Method::PATCH, "/api/me", big.into_bytes()).await.assert_error(413, "too_large");
    let bot = app.shop_bot(&owner).await;
    let v = app.visitor(&bot).await;
    let Auth::Bearer(vt) = &v.auth else { unreachable!() };
    let r = app
        .raw(app.http.post(format!("{}/api/widget/messages", app.base)).bearer_auth(vt).body(format!("{{\"body\": \"{}\"}}", "y".repeat(100 * 1024))))
        .await;
    r.assert_error(413, "too_large");
    let huge = app.raw(app.http.post(format!("{}/api/widget/bots/{bot}/visitors", app.base)).body("a".repeat(100 * 1024))).await;
    huge.assert_error(413, "too_large");
}

async fn unknown_and_malformed_ids_are_404(app: TestApp) {
    let owner = app.setup().await;
    owner.set_status(&app, "available").await;
    let ghost = "01900000-0000-7000-8000-000000000000";
    for id in [ghost, "not-an-id", "..%2F..%2Fetc", "1%20OR%201=1", "%FF%FE"] {
        owner.get(&app, &format!("/api/live-chats/{id}")).await.assert_error(404, "not_found");
        owner.post(&app, &format!("/api/live-chats/{id}/claim"), json!({})).await.assert_error(404, "not_found");
        owner.get(&app, &format!("/api/bots/{id}")).await.assert_error(404, "not_found");
        owner.get(&app, &format!("/api/teams/{id}/members")).await.assert_error(404, "not_found");
        owner.patch(&app, &format!("/api/shortcuts/{id}"), json!({"name": "x"})).await.assert_error(404, "not_found");
        app.get(&format!("/api/widget/bots/{id}/config")).await.assert_error(404, "not_found");
        app.get(&format!("/api/avatars/{id}")).await.assert_error(404, "not_found");
    }
    owner.put(&app, "/api/me/active-team", json!({"team_id": ghost})).await.assert_error(404, "not_found");
    owner.delete(&app, &format!("/api/teams/{}/members/{ghost}", owner.team)).await.assert_error(404, "not_found");
}

async fn a_bot_conversation_is_not_a_live_chat(app: TestApp) {
    let owner = app.setup().await;
    owner.set_status(&app, "available").await;
    let bot = app.shop_bot(&owner).await;
    let v = app.visitor(&bot).await;
    let conv = v.get(&app, "/api/widget/conversation").await.body["id"].as_str().unwrap().to_string();
    owner.get(&app, &format!("/api/live-chats/{conv}")).await.assert_error(404, "not_found");
    owner.post(&app, &format!("/api/live-chats/{conv}/claim"), json!({})).await.assert_error(404, "not_found");
    assert_eq!(v.get(&app, "/api/widget/conversation").await.body["state"], "bot");
}

async fn unknown_endpoints_and_methods_answer_in_the_error_shape(app: TestApp) {
    app.get("/api/nothing-here").await.assert_error(404, "not_found");
    let r = app.call(Method::DELETE, "/api/setup", &Auth::None, None).await;
    r.assert_error(405, "method_not_allowed");
    let r = app.call(Method::GET, "/api/live-chats?view=inbox&surprise=1", &Auth::None, None).await;
    assert_eq!(r.status, 401, "authentication comes first");
}

async fn wrong_types_in_every_kind_of_body_are_400(app: TestApp) {
    let owner = app.setup().await;
    let cases: Vec<(Method, String, Value)> = vec![
        (Method::POST, "/api/teams".into(), json!({"name": ["x"]})),
        (Method::POST, format!("/api/teams/{}/members", owner.team), json!({"email": "a@b.co", "role": 1})),
        (Method::POST, format!("/api/teams/{}/members", owner.team), json!({"role": "admin"})),
        (Method::PATCH, format!("/api/teams/{}/settings", owner.team), json!({"auto_away_minutes": 1.5})),
        (Method::PUT, "/api/me/status".into(), json!({})),
        (Method::PUT, "/api/me/active-team".into(), json!({"team_id": null})),
        (Method::POST, "/api/tokens".into(), json!({"name": ""})),
        (Method::POST, "/api/shortcuts".into(), json!({"name": "n"})),
        (Method::POST, "/api/auth/login".into(), json!({"email": "x"})),
    ];
    for (method, path, body) in cases {
        let r = app.call(method.clone(), &path, &owner.auth, Some(body.clone())).await;
        assert_eq!((r.status, r.code()), (400, "invalid_input"), "{method} {path} {body} -> {}", r.body);
    }
    let me = owner.get(&app, "/api/me").await;
    assert_eq!(me.body["teams"].as_array().unwrap().len(), 1, "no team was created");
}

backend_tests!(
    malformed_bodies_are_refused_with_the_reason,
    oversized_bodies_get_413,
    unknown_and_malformed_ids_are_404,
    a_bot_conversation_is_not_a_live_chat,
    unknown_endpoints_and_methods_answer_in_the_error_shape,
    wrong_types_in_every_kind_of_body_are_400,
);
