//! The visitor's side: config, bot answers, escalation triggers, origins, isolation, webhooks.

use axum::Json;
use axum::http::HeaderMap;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::*;

async fn config_shows_the_bot_and_availability_only_when_enabled(app: TestApp) {
    let owner = app.setup().await;
    let quiet = app.bot(&owner, json!({"name": "Quiet", "greeting": "Hey"})).await;
    let c = app.get(&format!("/api/widget/bots/{quiet}/config")).await;
    for (k, v) in [
        ("name", json!("Quiet")),
        ("greeting", json!("Hey")),
        ("human_escalation", json!(true)),
        ("human_only", json!(false)),
        ("show_agent_availability", json!(false)),
        // Nobody is available, and who is online is not told.
        ("reach", json!("away")),
        ("when_unavailable", json!("queue")),
        ("csat", json!("stars")),
        ("language", json!("en")),
    ] {
        assert_eq!(c.body[k], v, "{k} in {}", c.body);
    }
    assert!(c.body.get("availability").is_none());
    assert_eq!(c.body["strings"]["talk_to_person"], "Talk to a person");
    let open = app.bot(&owner, json!({"name": "Open", "settings": {"show_agent_availability": true}})).await;
    let c = app.get(&format!("/api/widget/bots/{open}/config")).await;
    assert_eq!(c.body["availability"]["online"], false);
    owner.set_status(&app, "available").await;
    let c = app.get(&format!("/api/widget/bots/{open}/config")).await;
    assert_eq!(c.body["availability"]["online"], true);
    assert!(c.body["availability"]["last_active_at"].is_string());
    app.get("/api/widget/bots/01900000-0000-7000-8000-000000000000/config").await.assert_error(404, "not_found");
}

async fn the_greeting_opens_the_conversation_and_the_bot_answers_from_its_knowledge(app: TestApp) {
    let owner = app.setup().await;
    let bot = app.shop_bot(&owner).await;
    let v = app.visitor(&bot).await;
    let conv = v.get(&app, "/api/widget/conversation").await;
    assert_eq!((conv.body["mode"].as_str(), conv.body["state"].as_str()), (Some("bot"), Some("bot")));
    assert_eq!(conv.body["messages"][0]["text"], "Hello! How can I help?");
    let r = v.post(&app, "/api/widget/messages", json!({"body": "when are you open?"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["author"]["kind"], "visitor");
    assert_eq!(r.body["bot_reply"]["text"], "We are open 9 to 5.");
    assert_eq!(r.body["bot_reply"]["author"]["kind"], "bot");
    let conv = v.get(&app, "/api/widget/conversation").await;
    assert_eq!(conv.body["messages"].as_array().unwrap().len(), 3);
    // resync after a seq
    let after = v.get(&app, "/api/widget/conversation?after_seq=2").await;
    assert_eq!(after.body["messages"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()).collect::<Vec<_>>(), vec![3]);
}

async fn visitor_text_is_shown_literally(app: TestApp) {
    let owner = app.setup().await;
    let bot = app.shop_bot(&owner).await;
    let v = app.visitor(&bot).await;
    let r = v.post(&app, "/api/widget/messages", json!({"body": "<img src=x onerror=alert(1)> & more"})).await;
    assert_eq!(r.body["body"], "&lt;img src=x onerror=alert(1)&gt; &amp; more");
    assert_eq!(r.body["text"], "<img src=x onerror=alert(1)> & more");
}

async fn an_unanswered_question_gets_the_fallback_and_escalates_only_when_configured(app: TestApp) {
    let owner = app.setup().await;
    let plain = app.shop_bot(&owner).await;
    let v = app.visitor(&plain).await;
    let r = v.post(&app, "/api/widget/messages", json!({"body": "tell me about quantum gravity"})).await;
    assert!(r.body["bot_reply"]["text"].as_str().unwrap().starts_with("Sorry"));
    assert_eq!(v.get(&app, "/api/widget/conversation").await.body["state"], "bot");

    let eager = app.bot(&owner, json!({"name": "Eager", "settings": {"auto_escalate_unanswered": true}, "knowledge": [{"question": "Opening hours?", "answer": "9 to 5."}]})).await;
    let v = app.visitor(&eager).await;
    v.post(&app, "/api/widget/messages", json!({"body": "tell me about quantum gravity"})).await;
    let conv = v.get(&app, "/api/widget/conversation").await;
    assert_eq!(conv.body["state"], "pending");
    assert_eq!(owner.get(&app, "/api/live-chats").await.body["items"][0]["state"], "pending");
}

async fn human_only_bots_hand_the_first_message_to_the_team(app: TestApp) {
    let owner = app.setup().await;
    let bot = app.bot(&owner, json!({"name": "Humans", "settings": {"human_only": true, "human_escalation": false}, "knowledge": [{"question": "Opening hours?", "answer": "9 to 5."}]})).await;
    let v = app.visitor(&bot).await;
    let r = v.post(&app, "/api/widget/messages", json!({"body": "opening hours?"})).await;
    assert_eq!(r.body["bot_reply"], Value::Null, "the bot is bypassed");
    let conv = v.get(&app, "/api/widget/conversation").await;
    assert_eq!((conv.body["state"].as_str(), conv.body["mode"].as_str()), (Some("pending"), Some("live")));
}

async fn origins_outside_the_allow_list_are_refused(app: TestApp) {
    let owner = app.setup().await;
    let bot = app.bot(&owner, json!({"name": "Fenced", "settings": {"allowed_origins": ["https://shop.example.com"]}})).await;
    let url = |p: &str| format!("{}{}", app.base, p);
    let evil = "https://evil.example.com";
    let r = app.raw(app.http.get(url(&format!("/api/widget/bots/{bot}/config"))).header("origin", evil)).await;
    r.assert_error(403, "forbidden");
    let r = app.raw(app.http.post(url(&format!("/api/widget/bots/{bot}/visitors"))).header("origin", evil).json(&json!({}))).await;
    r.assert_error(403, "forbidden");
    let ok =
        app.raw(app.http.post(url(&format!("/api/widget/bots/{bot}/visitors"))).header("origin", "https://shop.example.com").json(&json!({}))).await;
    assert_eq!(ok.status, 201);
    assert_eq!(ok.headers["access-control-allow-origin"], "https://shop.example.com");
    let token = ok.body["visitor_token"].as_str().unwrap();
    let r = app.raw(app.http.post(url("/api/widget/messages")).bearer_auth(token).header("origin", evil).json(&json!({"body": "hi"}))).await;
    r.assert_error(403, "forbidden");
    let conv = app.raw(app.http.get(url("/api/widget/conversation")).bearer_auth(token)).await;
    assert_eq!(conv.body["messages"].as_array().unwrap().len(), 0, "the refused message was not stored");
    // CORS preflight for the widget's Authorization header
    let pre = app
        .raw(
            app.http
                .request(reqwest::Method::OPTIONS, url("/api/widget/messages"))
                .header("origin", "https://shop.example.com")
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "authorization,content-type"),
        )
        .await;
    assert!(pre.status < 300, "{}", pre.status);
}

async fn a_visitor_token_reaches_only_its_own_conversation(app: TestApp) {
    let owner = app.setup().await;
    let bot = app.shop_bot(&owner).await;
    let a = app.visitor(&bot).await;
    let b = app.visitor(&bot).await;
    a.post(&app, "/api/widget/messages", json!({"body": "secret from A"})).await;
    let seen_by_b = b.get(&app, "/api/widget/conversation").await;
    assert!(!seen_by_b.body.to_string().contains("secret from A"));
    // tokens are not interchangeable across kinds
    a.get(&app, "/api/me").await.assert_error(401, "unauthenticated");
    owner.get(&app, "/api/widget/conversation").await.assert_error(401, "unauthenticated");
    app.get("/api/widget/conversation").await.assert_error(401, "unauthenticated");
}

async fn visitors_can_leave_their_name_and_email(app: TestApp) {
    let owner = app.setup().await;
    let bot = app.shop_bot(&owner).await;
    let v = app.visitor(&bot).await;
    let r = v.patch(&app, "/api/widget/visitor", json!({"name": "Victor", "email": "Victor@Example.com"})).await;
    assert_eq!((r.body["name"].as_str(), r.body["email"].as_str()), (Some("Victor"), Some("victor@example.com")));
    v.patch(&app, "/api/widget/visitor", json!({"email": "not-an-email"})).await.assert_error(400, "invalid_input");
    let r = v.patch(&app, "/api/widget/visitor", json!({"name": null})).await;
    assert_eq!((r.body["name"].clone(), r.body["email"].as_str()), (Value::Null, Some("victor@example.com")));
    assert!(r.body["display_name"].as_str().unwrap().starts_with("Visitor "));
}

async fn widget_calls_are_rate_limited(app: TestApp) {
    let app = TestApp::spawn_with(app.backend, |s| s.widget_per_minute = 3).await;
    let owner = app.setup().await;
    let bot = app.shop_bot(&owner).await;
    let v = app.visitor(&bot).await;
    for i in 0..3 {
        assert_eq!(v.post(&app, "/api/widget/messages", json!({"body": format!("m{i}")})).await.status, 201);
    }
    let r = v.post(&app, "/api/widget/messages", json!({"body": "flood"})).await;
    r.assert_error(429, "rate_limited");
    assert!(r.headers.contains_key("retry-after"));
    app.clock.advance_ms(60_000);
    assert_eq!(v.post(&app, "/api/widget/messages", json!({"body": "later"})).await.status, 201);
}

/// A webhook bot on a local port: checks Baton's signature and answers from the message text.
async fn webhook_bot(secret: &'static str) -> String {
    async fn handle(headers: HeaderMap, body: axum::body::Bytes, secret: &'static str) -> Result<Json<Value>, axum::http::StatusCode> {
        let sig = headers.get("x-baton-signature").and_then(|v| v.to_str().ok()).unwrap_or("");
        if sig != format!("sha256={}", baton::services::bot::sign(secret, &body)) {
            return Err(axum::http::StatusCode::UNAUTHORIZED);
        }
        let v: Value = serde_json::from_slice(&body).unwrap();
        let text = v["message"]["text"].as_str().unwrap_or("");
        match text {
            "break" => Err(axum::http::StatusCode::INTERNAL_SERVER_ERROR),
            "dunno" => Ok(Json(json!({"reply": null}))),
            _ => Ok(Json(json!({"reply": format!("echo: {text} (history {})", v["history"].as_array().map(|h| h.len()).unwrap_or(0))}))),
        }
    }
    let router = axum::Router::new().route("/bot", axum::routing::post(move |h: HeaderMap, b: axum::body::Bytes| handle(h, b, secret)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/bot", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

async fn a_webhook_bot_answers_with_a_signed_request_and_failures_fall_back(app: TestApp) {
    let owner = app.setup().await;
    let url = webhook_bot("hook-secret").await;
    let bot = app.bot(&owner, json!({"name": "LLM", "greeting": "Hi", "settings": {"auto_escalate_unanswered": true}, "responder": {"kind": "webhook", "url": url, "secret": "hook-secret"}})).await;
    let v = app.visitor(&bot).await;
    let r = v.post(&app, "/api/widget/messages", json!({"body": "hello bot"})).await;
    assert_eq!(r.body["bot_reply"]["text"], "echo: hello bot (history 2)");
    let r = v.post(&app, "/api/widget/messages", json!({"body": "break"})).await;
    assert!(r.body["bot_reply"]["text"].as_str().unwrap().starts_with("Sorry"));
    assert_eq!(v.get(&app, "/api/widget/conversation").await.body["state"], "pending", "a failing bot hands over when told to");

    // a wrong secret is a failure too, and without auto-escalation the chat stays with the bot
    let bad = app.bot(&owner, json!({"name": "Misconfigured", "responder": {"kind": "webhook", "url": url, "secret": "other"}})).await;
    let v = app.visitor(&bad).await;
    let r = v.post(&app, "/api/widget/messages", json!({"body": "hello"})).await;
    assert!(r.body["bot_reply"]["text"].as_str().unwrap().starts_with("Sorry"));
    assert_eq!(v.get(&app, "/api/widget/conversation").await.body["state"], "bot");
}

backend_tests!(
    config_shows_the_bot_and_availability_only_when_enabled,
    the_greeting_opens_the_conversation_and_the_bot_answers_from_its_knowledge,
    visitor_text_is_shown_literally,
    an_unanswered_question_gets_the_fallback_and_escalates_only_when_configured,
    human_only_bots_hand_the_first_message_to_the_team,
    origins_outside_the_allow_list_are_refused,
    a_visitor_token_reaches_only_its_own_conversation,
    visitors_can_leave_their_name_and_email,
    widget_calls_are_rate_limited,
    a_webhook_bot_answers_with_a_signed_request_and_failures_fall_back,
);
