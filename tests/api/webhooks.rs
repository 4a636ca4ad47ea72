//! Outgoing webhooks against a real HTTP receiver: the chosen events, signed over time and body,
//! from a durable outbox, retried with back-off, logged, sent again on request, and turned off
//! (with an email to the owner) after a day of failures.

use std::sync::{Arc, Mutex};

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::backend_tests;
use crate::helpers::*;
use crate::notifications::{smtp_server, smtp_to};

/// A receiver on a local port: answers with the status the test sets and keeps every request.
#[derive(Clone)]
struct Receiver {
    url: String,
    status: Arc<Mutex<u16>>,
    got: Arc<Mutex<Vec<(axum::http::HeaderMap, Vec<u8>)>>>,
}

impl Receiver {
    async fn start() -> Self {
        let status = Arc::new(Mutex::new(200u16));
        let got = Arc::new(Mutex::new(Vec::new()));
        let (s, g) = (status.clone(), got.clone());
        let router = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let (s, g) = (s.clone(), g.clone());
                async move {
                    g.lock().unwrap().push((headers, body.to_vec()));
                    axum::http::StatusCode::from_u16(*s.lock().unwrap()).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Receiver { url, status, got }
    }

    fn answer(&self, code: u16) {
        *self.status.lock().unwrap() = code;
    }

    fn count(&self) -> usize {
        self.got.lock().unwrap().len()
    }

    /// Every request so far, its signature checked against `secret` (and the time it signs
    /// against the app's clock): the documents.
    fn verified(&self, secret: &str, now_ms: i64) -> Vec<(axum::http::HeaderMap, Value)> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .map(|(h, body)| {
                let sig = h["baton-signature"].to_str().unwrap();
                let (t, v1) = sig.split_once(',').unwrap();
                let t: i64 = t.strip_prefix("t=").unwrap().parse().unwrap();
                assert!((now_ms / 1000 - t).abs() <= 1, "signed at the time of sending: {t} vs {now_ms}");
                let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
                mac.update(format!("{t}.").as_bytes());
                mac.update(body);
                let want: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
                assert_eq!(v1.strip_prefix("v1=").unwrap(), want, "the signature covers time and body");
                assert_eq!(h["content-type"], "application/json");
                let doc: Value = serde_json::from_slice(body).unwrap();
                assert_eq!(h["baton-event"].to_str().unwrap(), doc["type"].as_str().unwrap());
                assert_eq!(h["baton-event-id"].to_str().unwrap(), doc["id"].as_str().unwrap());
                (h.clone(), doc)
            })
            .collect()
    }
}

/// The text of a quoted-printable mail body (soft line breaks joined, `=XX` decoded).
pub(crate) fn quoted_printable(s: &str) -> String {
    let joined = s.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn now(app: &TestApp) -> i64 {
    baton::clock::Clock::now_ms(&app.clock)
}

async fn hook(app: &TestApp, owner: &Agent, url: &str, events: &[&str]) -> Value {
    let r = owner.post(app, &format!("/api/teams/{}/webhooks", owner.team), json!({"name": "CRM", "url": url, "events": events})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body
}

async fn chosen_events_arrive_signed_with_the_change_in_them(app: TestApp) {
    let rx = Receiver::start().await;
    let only_resolved = Receiver::start().await;
    let owner = app.setup().await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    alice.set_status(&app, "available").await;
    let bot = app.shop_bot(&owner).await;
    let all =
        hook(&app, &owner, &rx.url, &["conversation.escalated", "conversation.claimed", "conversation.resolved", "message.created", "csat.given"])
            .await;
    let secret = all["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_") && secret.len() > 30);
    let resolved_only = hook(&app, &owner, &only_resolved.url, &["conversation.resolved"]).await;
    // The secret is shown once.
    let list = owner.get(&app, &format!("/api/teams/{}/webhooks", owner.team)).await;
    assert_eq!(list.body.as_array().unwrap().len(), 2);
    assert!(!list.body.to_string().contains(&secret));
    assert!(owner.get(&app, &format!("/api/webhooks/{}", all["id"].as_str().unwrap())).await.body.get("secret").is_none());

    // Another team's chats never reach this team's webhooks.
    let other = owner.post(&app, "/api/teams", json!({"name": "Other"})).await;
    let other_team = other.body["id"].as_str().unwrap();
    let other_bot = owner.post(&app, &format!("/api/teams/{other_team}/bots"), json!({"name": "Other bot"})).await;
    let ov = app.visitor(other_bot.body["id"].as_str().unwrap()).await;
    assert_eq!(ov.post(&app, "/api/widget/messages", json!({"body": "not yours"})).await.status, 201);

    let (vera, chat) = app.pending_chat(&bot).await;
    assert_eq!(alice.post(&app, &format!("/api/live-chats/{chat}/claim"), json!({})).await.status, 200);
    assert_eq!(alice.post(&app, &format!("/api/live-chats/{chat}/messages"), json!({"body": "Hello Vera"})).await.status, 201);
    assert_eq!(alice.post(&app, &format!("/api/live-chats/{chat}/resolve"), json!({})).await.status, 200);
    assert_eq!(vera.post(&app, "/api/widget/rating", json!({"score": 4, "comment": "quick"})).await.status, 201);
    assert_eq!(rx.count(), 0, "nothing is sent inside the request: the timers deliver");
    app.sweep().await;

    let docs = rx.verified(&secret, now(&app));
    let types: Vec<&str> = docs.iter().map(|(_, d)| d["type"].as_str().unwrap()).collect();
    let mut sorted = types.clone();
    sorted.sort();
    // The visitor's message, the bot's answer, Alice's reply; escalated, claimed, resolved; the rating.
    assert_eq!(
        sorted,
        [
            "conversation.claimed",
            "conversation.escalated",
            "conversation.resolved",
            "csat.given",
            "message.created",
            "message.created",
            "message.created"
        ],
        "{docs:#?}"
    );
    for (_, d) in &docs {
        assert_eq!(d["team_id"], owner.team.as_str());
        assert_eq!(d["data"]["conversation"]["id"], chat.as_str());
        assert!(!d.to_string().contains("not yours"));
    }
    let by_type = |t: &str| docs.iter().filter(|(_, d)| d["type"] == t).map(|(_, d)| d.clone()).collect::<Vec<_>>();
    let reply = by_type("message.created").into_iter().find(|d| d["data"]["message"]["author"]["kind"] == "agent").unwrap();
    assert_eq!(reply["data"]["message"]["text"], "Hello Vera");
    assert_eq!(reply["data"]["message"]["author"]["id"], alice.id.as_str());
    assert_eq!(reply["data"]["message"]["visibility"], "public");
    let claimed = &by_type("conversation.claimed")[0];
    assert_eq!(
        (claimed["data"]["conversation"]["state"].as_str(), claimed["data"]["conversation"]["assignee_id"].as_str()),
        (Some("active"), Some(alice.id.as_str()))
    );
    assert_eq!(by_type("conversation.escalated")[0]["data"]["detail"]["trigger"], "visitor_request");
    let rating = &by_type("csat.given")[0];
    assert_eq!(rating["data"]["rating"], json!({"score": 4, "scale": "stars", "comment": "quick"}));
    // Event ids are unique; the delivery id names the webhook and event.
    let mut ids: Vec<&str> = docs.iter().map(|(_, d)| d["id"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), docs.len());

    // The other webhook heard only what it chose, with its own secret.
    let only = only_resolved.verified(resolved_only["secret"].as_str().unwrap(), now(&app));
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].1["type"], "conversation.resolved");
    let resolved_id = by_type("conversation.resolved")[0]["id"].clone();
    assert_eq!(only[0].1["id"], resolved_id, "one event, one id, whichever webhook hears it");

    // The log: every delivery delivered with its status.
    let log = owner.get(&app, &format!("/api/webhooks/{}/deliveries", all["id"].as_str().unwrap())).await;
    assert_eq!(log.status, 200, "{}", log.body);
    let items = log.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 7);
    assert!(items.iter().all(|d| d["state"] == "delivered" && d["last_status"] == 200 && d["attempts"] == 1), "{items:#?}");
    assert_eq!(items[0]["payload"]["type"], "csat.given", "newest first");
    // Nothing is sent twice.
    app.sweep().await;
    assert_eq!(rx.count(), 7);
}

async fn failures_are_retried_then_the_webhook_is_turned_off_and_its_owner_told(app: TestApp) {
    let (port, mails) = smtp_server().await;
    let app = TestApp::spawn_with(app.backend, |s| s.smtp = Some(smtp_to(port))).await;
    let rx = Receiver::start().await;
    rx.answer(500);
    let owner = app.setup().await;
    let bot = app.shop_bot(&owner).await;
    let w = hook(&app, &owner, &rx.url, &["message.created"]).await;
    let id = w["id"].as_str().unwrap().to_string();
    let v = app.visitor(&bot).await;
    assert_eq!(v.post(&app, "/api/widget/messages", json!({"body": "one"})).await.status, 201);
    app.sweep().await;
    // The visitor's message and the bot's answer: each tried once, both failed, both waiting.
    assert_eq!(rx.count(), 2);
    let log = owner.get(&app, &format!("/api/webhooks/{id}/deliveries")).await;
    for d in log.body["items"].as_array().unwrap() {
        assert_eq!((d["state"].as_str(), d["attempts"].as_i64(), d["last_status"].as_i64()), (Some("pending"), Some(1), Some(500)), "{d}");
        assert_eq!(d["last_error"], "answered 500 Internal Server Error");
        assert_eq!(d["next_attempt_at"], baton::views::time(now(&app) + 10_000).as_str(), "ten seconds later");
    }
    // Not before its time.
    app.clock.advance_ms(9_000);
    app.sweep().await;
    assert_eq!(rx.count(), 2);
    app.clock.advance_ms(1_000);
    app.sweep().await;
    assert_eq!(rx.count(), 4);

    // Still failing through the back-off: on while under a day, off once every attempt for a
    // day has failed.
    let started = now(&app) - 10_000;
    let mut off_at = None;
    for _ in 0..10 {
        app.clock.advance_ms(4 * 3600 * 1000);
        app.sweep().await;
        let wh = owner.get(&app, &format!("/api/webhooks/{id}")).await;
        if wh.body["enabled"] == false {
            off_at = Some(now(&app));
            break;
        }
        assert!(now(&app) - started < 24 * 3600 * 1000 + 4 * 3600 * 1000, "still on after a day: {}", wh.body);
    }
    let off_at = off_at.expect("turned off");
    assert!(off_at - started >= 24 * 3600 * 1000, "not before a day of failures");
    let wh = owner.get(&app, &format!("/api/webhooks/{id}")).await;
    assert!(wh.body["disabled_reason"].as_str().unwrap().contains("failed for a day"), "{}", wh.body);
    assert!(wh.body["consecutive_failures"].as_i64().unwrap() >= 10, "{}", wh.body);
    // What was still waiting is marked failed: the log says so, and redelivery can send it.
    let log = owner.get(&app, &format!("/api/webhooks/{id}/deliveries")).await;
    assert!(log.body["items"].as_array().unwrap().iter().all(|d| d["state"] == "failed"), "{}", log.body);
    app.sweep().await; // the notice goes out through the mail outbox
    let sent = mails.lock().unwrap().clone();
    let notice = sent.iter().find(|m| m.contains("owner@acme.test")).map(|m| quoted_printable(m)).expect("a mail to the owner");
    assert!(notice.contains("was turned off") && notice.contains(&rx.url), "{notice}");
    let audit = owner.get(&app, &format!("/api/teams/{}/audit?action=webhook.disabled", owner.team)).await;
    assert_eq!(audit.body["items"][0]["target"]["id"], id.as_str());
    assert_eq!(audit.body["items"][0]["actor"]["id"], Value::Null);

    // Off: nothing more is sent or queued, and redelivery waits for it to be on.
    let before = rx.count();
    assert_eq!(v.post(&app, "/api/widget/messages", json!({"body": "three"})).await.status, 201);
    app.clock.advance_ms(60_000);
    app.sweep().await;
    assert_eq!(rx.count(), before);
    let log = owner.get(&app, &format!("/api/webhooks/{id}/deliveries")).await;
    assert!(log.body["items"].as_array().unwrap().iter().all(|d| d["state"] == "failed"), "{}", log.body);
    let first = log.body["items"].as_array().unwrap().last().unwrap()["id"].as_str().unwrap().to_string();
    owner.post(&app, &format!("/api/webhooks/{id}/deliveries/{first}/redeliver"), json!({})).await.assert_error(409, "webhook_disabled");

    // The receiver is back; the owner turns it on and sends the first one again.
    rx.answer(204);
    let on = owner.patch(&app, &format!("/api/webhooks/{id}"), json!({"enabled": true})).await;
    assert_eq!((on.body["enabled"].as_bool(), on.body["consecutive_failures"].as_i64()), (Some(true), Some(0)), "{}", on.body);
    assert_eq!(owner.post(&app, &format!("/api/webhooks/{id}/deliveries/{first}/redeliver"), json!({})).await.status, 202);
    owner.post(&app, &format!("/api/webhooks/{id}/deliveries/nope/redeliver"), json!({})).await.assert_error(404, "not_found");
    app.sweep().await;
    assert_eq!(rx.count(), before + 1);
    let (_, body) = rx.got.lock().unwrap().last().unwrap().clone();
    let doc: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(doc["data"]["message"]["text"], "one");
    let log = owner.get(&app, &format!("/api/webhooks/{id}/deliveries")).await;
    let again = log.body["items"].as_array().unwrap().iter().find(|d| d["id"] == first.as_str()).unwrap().clone();
    assert_eq!((again["state"].as_str(), again["last_status"].as_i64()), (Some("delivered"), Some(204)), "{again}");
}

async fn a_queued_delivery_survives_a_restart(app: TestApp) {
    let mut app = app;
    let rx = Receiver::start().await;
    let owner = app.setup().await;
    let bot = app.shop_bot(&owner).await;
    let w = hook(&app, &owner, &rx.url, &["message.created"]).await;
    let v = app.visitor(&bot).await;
    assert_eq!(v.post(&app, "/api/widget/messages", json!({"body": "before the restart"})).await.status, 201);
    // Acknowledged, not yet sent: Baton stops and starts again.
    app.restart().await;
    app.sweep().await;
    let docs = rx.verified(w["secret"].as_str().unwrap(), now(&app));
    assert!(docs.iter().any(|(_, d)| d["data"]["message"]["text"] == "before the restart"), "{docs:#?}");
}

async fn webhooks_are_for_admins_and_refuse_bad_settings(app: TestApp) {
    let owner = app.setup().await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    let team = owner.team.clone();
    let url = format!("/api/teams/{team}/webhooks");
    for (body, field) in [
        (json!({"url": "https://x.test/h", "events": ["message.created"]}), "name"),
        (json!({"name": "", "url": "https://x.test/h", "events": ["message.created"]}), "name"),
        (json!({"name": "A", "events": ["message.created"]}), "url"),
        (json!({"name": "A", "url": "ftp://x.test/h", "events": ["message.created"]}), "url"),
        (json!({"name": "A", "url": "https://u:p@x.test/h", "events": ["message.created"]}), "url"),
        (json!({"name": "A", "url": "https://x.test/h", "events": []}), "events"),
        (json!({"name": "A", "url": "https://x.test/h", "events": ["chat.exploded"]}), "events"),
        (json!({"name": "A", "url": "https://x.test/h"}), "events"),
        (json!({"name": "A", "url": "https://x.test/h", "events": ["message.created"], "surprise": 1}), "surprise"),
    ] {
        let r = owner.post(&app, &url, body.clone()).await;
        r.assert_error(400, "invalid_input");
        assert!(r.body["error"]["message"].as_str().unwrap().contains(field), "{body}: {}", r.body);
    }
    assert_eq!(owner.get(&app, &url).await.body, json!([]), "nothing was made");
    alice.get(&app, &url).await.assert_error(403, "forbidden");
    alice.post(&app, &url, json!({"name": "A", "url": "https://x.test/h", "events": ["message.created"]})).await.assert_error(403, "forbidden");
    let w = hook(&app, &owner, "https://hooks.example.com/in", &["message.created"]).await;
    let id = w["id"].as_str().unwrap();
    alice.get(&app, &format!("/api/webhooks/{id}")).await.assert_error(403, "forbidden");
    let stranger = app.add_agent(&owner, "Sam", "admin").await;
    assert_eq!(owner.delete(&app, &format!("/api/teams/{team}/members/{}", stranger.id)).await.status, 204);
    stranger.get(&app, &format!("/api/webhooks/{id}")).await.assert_error(404, "not_found");
    stranger.get(&app, &format!("/api/webhooks/{id}/deliveries")).await.assert_error(404, "not_found");
    owner.get(&app, "/api/webhooks/not-an-id").await.assert_error(404, "not_found");
    owner.get(&app, &format!("/api/webhooks/{id}/deliveries?cursor=zzz")).await.assert_error(400, "invalid_input");
    owner.get(&app, &format!("/api/webhooks/{id}/deliveries?limit=0")).await.assert_error(400, "invalid_input");
    owner.patch(&app, &format!("/api/webhooks/{id}"), json!({"events": []})).await.assert_error(400, "invalid_input");

    // Changed, a new secret, removed: each in the audit log, no secret in it.
    let r = owner.patch(&app, &format!("/api/webhooks/{id}"), json!({"name": "CRM sync", "events": ["message.created", "csat.given"]})).await;
    assert_eq!((r.status, r.body["name"].as_str()), (200, Some("CRM sync")), "{}", r.body);
    let rotated = owner.post(&app, &format!("/api/webhooks/{id}/secret"), json!({})).await;
    let new_secret = rotated.body["secret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, w["secret"].as_str().unwrap());
    assert_eq!(owner.delete(&app, &format!("/api/webhooks/{id}")).await.status, 204);
    owner.get(&app, &format!("/api/webhooks/{id}")).await.assert_error(404, "not_found");
    let log = owner.get(&app, &format!("/api/teams/{team}/audit?target={id}")).await;
    let actions: Vec<&str> = log.body["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["webhook.deleted", "webhook.updated", "webhook.updated", "webhook.created"]);
    assert_eq!(log.body["items"][2]["detail"]["fields"], json!(["events", "name"]));
    assert_eq!(log.body["items"][1]["detail"]["fields"], json!(["secret"]));
    assert!(!log.body.to_string().contains(&new_secret) && !log.body.to_string().contains(w["secret"].as_str().unwrap()));

    // At most ten.
    for i in 0..10 {
        hook(&app, &owner, &format!("https://hooks.example.com/{i}"), &["message.created"]).await;
    }
    owner
        .post(&app, &url, json!({"name": "11", "url": "https://x.test/h", "events": ["message.created"]}))
        .await
        .assert_error(409, "too_many_webhooks");

    // Without --allow-private-webhooks, no private or loopback address.
    let strict = TestApp::spawn_with(app.backend, |s| s.allow_private_webhooks = false).await;
    let o = strict.setup().await;
    let r = o
        .post(&strict, &format!("/api/teams/{}/webhooks", o.team), json!({"name": "A", "url": "http://127.0.0.1:9/h", "events": ["message.created"]}))
        .await;
    r.assert_error(400, "invalid_input");
    assert!(r.body["error"]["message"].as_str().unwrap().contains("private"), "{}", r.body);
}

backend_tests!(
    chosen_events_arrive_signed_with_the_change_in_them,
    failures_are_retried_then_the_webhook_is_turned_off_and_its_owner_told,
    a_queued_delivery_survives_a_restart,
    webhooks_are_for_admins_and_refuse_bad_settings
);
