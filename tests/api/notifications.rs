//! Notifications: the unread-reply email (a real SMTP exchange with a server inside the test),
//! Web Push (a local push service that decrypts what it receives), in-page notifications and the
//! preference rules.

use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::backend_tests;
use crate::helpers::*;

// ---------------------------------------------------------------- SMTP

/// A minimal SMTP server: accepts every message and keeps the DATA of each.
pub(crate) async fn smtp_server() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mails = Arc::new(Mutex::new(Vec::new()));
    let store = mails.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 test ESMTP\r\n").await.ok();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(buf) = data.as_mut() {
                        if line == "." {
                            store.lock().unwrap().push(data.take().unwrap());
                            write.write_all(b"250 OK queued\r\n").await.ok();
                        } else {
                            buf.push_str(line.strip_prefix('.').unwrap_or(&line));
                            buf.push('\n');
                        }
                        continue;
                    }
                    let verb = line.split_whitespace().next().unwrap_or("").to_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" => b"250-test\r\n250 8BITMIME\r\n",
                        "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 OK\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.ok();
                            break;
                        }
                        _ => b"502 not implemented\r\n",
                    };
                    write.write_all(reply).await.ok();
                }
            });
        }
    });
    (port, mails)
}

/// Sending through the test's SMTP server on `port`.
pub(crate) fn smtp_to(port: u16) -> baton::services::notify::email::SmtpSettings {
    baton::services::notify::email::SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        tls: baton::services::notify::email::Tls::None,
        username: None,
        password: None,
        from: "Acme Support <support@acme.test>".into(),
    }
}

async fn with_smtp(backend: Backend) -> (TestApp, Arc<Mutex<Vec<String>>>) {
    let (port, mails) = smtp_server().await;
    let app = TestApp::spawn_with(backend, |s| s.smtp = Some(smtp_to(port))).await;
    (app, mails)
}

/// An active chat with a visitor who left an email; returns (agent, visitor, chat, bot).
async fn replying(app: &TestApp) -> (Agent, Visitor, String, String) {
    let owner = app.setup().await;
    owner.set_status(app, "available").await;
    let bot = app.shop_bot(&owner).await;
    let (visitor, chat) = app.pending_chat(&bot).await;
    owner.post(app, &format!("/api/live-chats/{chat}/claim"), json!({})).await;
    (owner, visitor, chat, bot)
}

pub(crate) fn count(mails: &Arc<Mutex<Vec<String>>>) -> usize {
    mails.lock().unwrap().len()
}

/// Quoted-printable soft breaks and escapes undone, so the test reads the text as sent.
fn plain(mail: &str) -> String {
    mail.replace("=\n", "").replace("=3D", "=")
}

async fn an_unread_reply_is_emailed_once_after_the_delay(_app: TestApp) {
    let (app, mails) = with_smtp(_app.backend).await;
    let (agent, _visitor, chat, _) = replying(&app).await;
    // The agent stays in charge through the simulated hour below (no heartbeats in this test).
    agent
        .patch(&app, &format!("/api/teams/{}/settings", agent.team), json!({"heartbeat_timeout_seconds": 3600, "orphan_grace_seconds": 86400}))
        .await;
    let say = |body: &'static str, what: &'static str| {
        let (app, agent, chat) = (&app, agent.clone(), chat.clone());
        async move { assert_eq!(agent.post(app, &format!("/api/live-chats/{chat}/{what}"), json!({"body": body})).await.status, 201) }
    };
    say("Your parcel left today.", "messages").await;
    say("secret note", "notes").await;
    say("Tracking: <b>AB123</b>", "messages").await;
    app.clock.advance_ms(119_000);
    app.sweep().await;
    assert_eq!(count(&mails), 0, "not before the team's delay (120 s)");
    app.clock.advance_ms(1_000);
    app.sweep().await;
    assert_eq!(count(&mails), 1, "one email for the burst");
    let mail = plain(&mails.lock().unwrap()[0]);
    assert!(mail.contains("To: vera@example.com"), "{mail}");
    assert!(mail.contains("Subject: Olivia Owner replied to your message"), "{mail}");
    assert!(mail.contains("Your parcel left today.") && mail.contains("Tracking: AB123"), "every unread reply: {mail}");
    assert!(!mail.contains("secret note"), "internal notes never leave: {mail}");
    assert!(mail.contains("#baton-resume="), "a link back to the conversation: {mail}");
    app.clock.advance_ms(3_600_000);
    app.sweep().await;
    assert_eq!(count(&mails), 1, "at most one per burst");
    // a new burst gets its own email
    say("Anything else?", "messages").await;
    app.clock.advance_ms(120_000);
    app.sweep().await;
    assert_eq!(count(&mails), 2);
}

async fn no_email_when_the_visitor_reads_first(_app: TestApp) {
    let (app, mails) = with_smtp(_app.backend).await;
    let (agent, visitor, chat, _) = replying(&app).await;
    let m = agent.post(&app, &format!("/api/live-chats/{chat}/messages"), json!({"body": "Seen this?"})).await;
    let r = visitor.post(&app, "/api/widget/read", json!({"up_to_seq": m.body["seq"]})).await;
    assert_eq!(r.status, 204, "{}", r.body);
    visitor.post(&app, "/api/widget/read", json!({"up_to_seq": 10_000})).await.assert_error(400, "invalid_input");
    app.clock.advance_ms(600_000);
    app.sweep().await;
    assert_eq!(count(&mails), 0);
}

async fn no_email_while_the_widget_is_open(_app: TestApp) {
    let (app, mails) = with_smtp(_app.backend).await;
    let (agent, visitor, chat, _) = replying(&app).await;
    let mut ws = Ws::visitor(&app, &visitor).await;
    agent.post(&app, &format!("/api/live-chats/{chat}/messages"), json!({"body": "Are you there?"})).await;
    ws.next_of("message.created").await;
    app.clock.advance_ms(120_000);
    app.sweep().await;
    assert_eq!(count(&mails), 0, "the widget shows it");
    ws.close().await;
    // the hub notices the socket is gone once the session ends
    for _ in 0..50 {
        if !app
            .state
            .hub
            .has_subscribers(&baton::hub::Topic::Visitor(baton::domain::ids::VisitorId::parse(&visitor_id(&app, &visitor).await).unwrap()))
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    app.clock.advance_ms(120_000);
    app.sweep().await;
    assert_eq!(count(&mails), 1, "sent once the visitor left");
}

async fn visitor_id(app: &TestApp, v: &Visitor) -> String {
    v.get(app, "/api/widget/conversation").await;
    let me = v.patch(app, "/api/widget/visitor", json!({})).await;
    me.body["id"].as_str().unwrap().to_string()
}

async fn the_email_outbox_survives_a_restart_and_still_sends_once(_app: TestApp) {
    let (mut app, mails) = with_smtp(_app.backend).await;
    let (agent, _visitor, chat, _) = replying(&app).await;
    agent.post(&app, &format!("/api/live-chats/{chat}/messages"), json!({"body": "Before the restart"})).await;
    app.restart().await;
    app.clock.advance_ms(120_000);
    app.sweep().await;
    app.sweep().await;
    assert_eq!(count(&mails), 1);
    assert!(plain(&mails.lock().unwrap()[0]).contains("Before the restart"));
}

async fn the_email_link_reopens_the_conversation(_app: TestApp) {
    let (app, mails) = with_smtp(_app.backend).await;
    let (agent, _visitor, chat, bot) = replying(&app).await;
    agent.post(&app, &format!("/api/live-chats/{chat}/messages"), json!({"body": "Come back any time"})).await;
    app.clock.advance_ms(120_000);
    app.sweep().await;
    let mail = plain(&mails.lock().unwrap()[0]);
    let token = mail.split("#baton-resume=").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    let r = app.post(&format!("/api/widget/bots/{bot}/resume"), json!({"token": token})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let again = Visitor { auth: Auth::Bearer(r.body["visitor_token"].as_str().unwrap().into()) };
    let conv = again.get(&app, "/api/widget/conversation").await;
    assert_eq!(conv.body["id"], chat.as_str());
    assert!(conv.body.to_string().contains("Come back any time"));
    app.post(&format!("/api/widget/bots/{bot}/resume"), json!({"token": "forged"})).await.assert_error(401, "invalid_token");
    app.clock.advance_ms(31 * 24 * 3600 * 1000);
    app.post(&format!("/api/widget/bots/{bot}/resume"), json!({"token": token})).await.assert_error(401, "invalid_token");
}

// ---------------------------------------------------------------- Web Push

/// A browser's push subscription: its keys, so the test can decrypt what Baton sends.
pub(crate) struct Device {
    secret: web_push_native::p256::SecretKey,
    auth: [u8; 16],
    p256dh: String,
}

pub(crate) fn device() -> Device {
    loop {
        let mut raw = [0u8; 32];
        rand::fill(&mut raw);
        if let Ok(secret) = web_push_native::p256::SecretKey::from_slice(&raw) {
            let mut auth = [0u8; 16];
            rand::fill(&mut auth);
            let point = web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&secret.public_key(), false);
            return Device { p256dh: URL_SAFE_NO_PAD.encode(point.as_bytes()), secret, auth };
        }
    }
}

/// A push service on a local port: answers with the status the test sets, and records the
/// decrypted payloads it accepts.
#[derive(Clone)]
pub(crate) struct PushService {
    url: String,
    status: Arc<Mutex<u16>>,
    received: Arc<Mutex<Vec<(String, Vec<u8>, axum::http::HeaderMap)>>>,
}

pub(crate) async fn push_service() -> PushService {
    let status = Arc::new(Mutex::new(201u16));
    let received = Arc::new(Mutex::new(Vec::new()));
    let (s, r) = (status.clone(), received.clone());
    let router = axum::Router::new().route(
        "/push/{device}",
        axum::routing::post(
            move |axum::extract::Path(device): axum::extract::Path<String>, headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let (s, r) = (s.clone(), r.clone());
                async move {
                    let code = *s.lock().unwrap();
                    if code < 300 {
                        r.lock().unwrap().push((device, body.to_vec(), headers));
                    }
                    axum::http::StatusCode::from_u16(code).unwrap()
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    PushService { url, status, received }
}

impl PushService {
    fn set(&self, code: u16) {
        *self.status.lock().unwrap() = code;
    }

    /// Decrypted payloads received for `device`.
    pub(crate) fn payloads(&self, name: &str, d: &Device) -> Vec<Value> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|(n, _, _)| n == name)
            .map(|(_, body, headers)| {
                assert_eq!(headers["content-encoding"], "aes128gcm");
                assert!(headers["authorization"].to_str().unwrap().starts_with("vapid t="), "VAPID signed");
                let auth = web_push_native::Auth::from(d.auth);
                let plain = web_push_native::decrypt(body.clone(), &d.secret, &auth).expect("decrypts with the subscription's keys");
                serde_json::from_slice(&plain).unwrap()
            })
            .collect()
    }
}

pub(crate) async fn subscribe(app: &TestApp, a: &Agent, svc: &PushService, name: &str, d: &Device) {
    subscribe_at(app, a, &format!("{}/push/{name}", svc.url), d).await;
}

/// Registers the device for pushes sent to `endpoint`.
pub(crate) async fn subscribe_at(app: &TestApp, a: &Agent, endpoint: &str, d: &Device) {
    let r = a
        .post(app, "/api/me/push-subscriptions", json!({"endpoint": endpoint, "keys": {"p256dh": d.p256dh, "auth": URL_SAFE_NO_PAD.encode(d.auth)}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

async fn an_escalation_reaches_a_closed_inbox_by_encrypted_web_push(app: TestApp) {
    let svc = push_service().await;
    let owner = app.setup().await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    let (laptop, phone) = (device(), device());
    subscribe(&app, &alice, &svc, "laptop", &laptop).await;
    subscribe(&app, &alice, &svc, "phone", &phone).await;
    let bot = app.shop_bot(&owner).await;
    let (_, chat) = app.pending_chat(&bot).await;
    app.sweep().await;
    for (name, d) in [("laptop", &laptop), ("phone", &phone)] {
        let p = svc.payloads(name, d);
        assert_eq!(p.len(), 1, "{name}");
        assert_eq!(p[0]["kind"], "new_escalation");
        assert_eq!(p[0]["conversation_id"], chat.as_str());
        assert!(p[0]["title"].as_str().unwrap().contains("Vera"), "{}", p[0]);
        assert_eq!(p[0]["url"], format!("/app/inbox/{chat}"));
    }
    let subs = alice.get(&app, "/api/me/push-subscriptions").await;
    assert!(subs.body.as_array().unwrap().iter().all(|s| s["last_success_at"].is_string()), "{}", subs.body);
    app.sweep().await;
    assert_eq!(svc.payloads("laptop", &laptop).len(), 1, "delivered once");
}

async fn an_open_inbox_gets_an_in_page_notification_instead(app: TestApp) {
    let svc = push_service().await;
    let owner = app.setup().await;
    let d = device();
    subscribe(&app, &owner, &svc, "laptop", &d).await;
    let mut ws = Ws::agent(&app, &owner).await;
    let bot = app.shop_bot(&owner).await;
    let (_, chat) = app.pending_chat(&bot).await;
    let n = ws.next_of("notification").await;
    assert_eq!((n["data"]["kind"].as_str(), n["data"]["conversation_id"].as_str()), (Some("new_escalation"), Some(chat.as_str())));
    app.sweep().await;
    assert!(svc.payloads("laptop", &d).is_empty(), "no push while the inbox is open");
}

async fn a_gone_device_is_forgotten_and_failures_are_retried(app: TestApp) {
    let svc = push_service().await;
    let owner = app.setup().await;
    let d = device();
    subscribe(&app, &owner, &svc, "flaky", &d).await;
    svc.set(503);
    let r = owner.post(&app, "/api/me/notifications/test", json!({})).await;
    assert_eq!((r.status, r.body["push_devices"].as_i64()), (202, Some(1)));
    app.sweep().await;
    let subs = owner.get(&app, "/api/me/push-subscriptions").await;
    assert!(subs.body[0]["last_error"].as_str().unwrap().contains("503"), "{}", subs.body);
    svc.set(201);
    app.sweep().await;
    assert!(svc.payloads("flaky", &d).is_empty(), "not before the backoff");
    app.clock.advance_ms(30_000);
    app.sweep().await;
    assert_eq!(svc.payloads("flaky", &d)[0]["kind"], "test", "retried after backoff");
    svc.set(410);
    owner.post(&app, "/api/me/notifications/test", json!({})).await;
    app.sweep().await;
    assert!(owner.get(&app, "/api/me/push-subscriptions").await.body.as_array().unwrap().is_empty(), "410: the device is gone");
}

async fn preferences_decide_what_fires(app: TestApp) {
    let svc = push_service().await;
    let owner = app.setup().await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    let d = device();
    subscribe(&app, &alice, &svc, "a", &d).await;
    let defaults = alice.get(&app, "/api/me/notification-preferences").await;
    assert_eq!(
        defaults.body,
        json!({"while_online": true, "while_offline": true, "new_escalation": true, "visitor_message": true, "transfer": true})
    );
    let bot = app.shop_bot(&owner).await;
    let set = |p: Value| {
        let (app, alice) = (&app, alice.clone());
        async move { assert_eq!(alice.put(app, "/api/me/notification-preferences", p).await.status, 200) }
    };
    // Alice is offline: only while_offline counts
    set(json!({"while_online": true, "while_offline": false, "new_escalation": true, "visitor_message": true, "transfer": true})).await;
    app.pending_chat(&bot).await;
    app.sweep().await;
    assert_eq!(svc.payloads("a", &d).len(), 0);
    // event type off
    alice.set_status(&app, "available").await;
    set(json!({"while_online": true, "while_offline": true, "new_escalation": false, "visitor_message": true, "transfer": true})).await;
    let (visitor, chat) = app.pending_chat(&bot).await;
    app.sweep().await;
    assert_eq!(svc.payloads("a", &d).len(), 0);
    // a visitor message in her chat does fire
    alice.post(&app, &format!("/api/live-chats/{chat}/claim"), json!({})).await;
    visitor.post(&app, "/api/widget/messages", json!({"body": "ping"})).await;
    app.sweep().await;
    let p = svc.payloads("a", &d);
    assert_eq!((p.len(), p[0]["kind"].as_str(), p[0]["body"].as_str()), (1, Some("visitor_message"), Some("ping")));
    // a transfer to her fires when wanted
    owner.set_status(&app, "available").await;
    let (_, other) = app.pending_chat(&bot).await;
    owner.post(&app, &format!("/api/live-chats/{other}/claim"), json!({})).await;
    owner.post(&app, &format!("/api/live-chats/{other}/transfer"), json!({"agent_id": alice.id})).await;
    app.sweep().await;
    assert_eq!(svc.payloads("a", &d).last().unwrap()["kind"], "transfer");
    alice.put(&app, "/api/me/notification-preferences", json!({"while_online": true})).await.assert_error(400, "invalid_input");
}

async fn subscriptions_and_the_vapid_key_are_checked(app: TestApp) {
    let owner = app.setup().await;
    let d = device();
    let key = app.get("/api/push/vapid-public-key").await.body["key"].as_str().unwrap().to_string();
    assert_eq!(URL_SAFE_NO_PAD.decode(&key).unwrap().len(), 65, "an uncompressed P-256 point");
    let auth = URL_SAFE_NO_PAD.encode(d.auth);
    for bad in [
        json!({"endpoint": "http://push.example.com/x", "keys": {"p256dh": d.p256dh, "auth": auth}}),
        json!({"endpoint": "not a url", "keys": {"p256dh": d.p256dh, "auth": auth}}),
        json!({"endpoint": "https://push.example.com/x", "keys": {"p256dh": "AAAA", "auth": auth}}),
        json!({"endpoint": "https://push.example.com/x", "keys": {"p256dh": d.p256dh, "auth": "short"}}),
        json!({"endpoint": "https://push.example.com/x"}),
    ] {
        owner.post(&app, "/api/me/push-subscriptions", bad).await.assert_error(400, "invalid_input");
    }
    assert!(owner.get(&app, "/api/me/push-subscriptions").await.body.as_array().unwrap().is_empty());
    let ok = owner
        .post(&app, "/api/me/push-subscriptions", json!({"endpoint": "https://push.example.com/x", "keys": {"p256dh": d.p256dh, "auth": auth}}))
        .await;
    assert_eq!(ok.status, 201);
    assert_eq!(owner.delete_with(&app, "/api/me/push-subscriptions", json!({"endpoint": "https://push.example.com/x"})).await.status, 204);
    owner.delete_with(&app, "/api/me/push-subscriptions", json!({"endpoint": "https://push.example.com/x"})).await.assert_error(404, "not_found");
}

async fn the_vapid_key_is_kept_across_restarts(app: TestApp) {
    let mut app = app;
    let before = app.get("/api/push/vapid-public-key").await.body["key"].clone();
    app.restart().await;
    assert_eq!(app.get("/api/push/vapid-public-key").await.body["key"], before);
}

backend_tests!(
    an_unread_reply_is_emailed_once_after_the_delay,
    no_email_when_the_visitor_reads_first,
    no_email_while_the_widget_is_open,
    the_email_outbox_survives_a_restart_and_still_sends_once,
    the_email_link_reopens_the_conversation,
    an_escalation_reaches_a_closed_inbox_by_encrypted_web_push,
    an_open_inbox_gets_an_in_page_notification_instead,
    a_gone_device_is_forgotten_and_failures_are_retried,
    preferences_decide_what_fires,
    subscriptions_and_the_vapid_key_are_checked,
    the_vapid_key_is_kept_across_restarts,
    a_chat_left_waiting_is_announced_again_until_claimed,
);

/// Frames up to a marker (a sync of an unknown chat answers `not_found`): none of them a
/// notification.
async fn no_notification_yet(ws: &mut Ws) {
    ws.send(json!({"type": "sync", "conversation_id": "01900000-0000-7000-8000-00000000f1f1", "after_seq": 0})).await;
    let seen = ws.until(|f| f["type"] == "error" && f["data"]["code"] == "not_found").await;
    assert!(!seen.iter().any(|f| f["type"] == "notification"), "{seen:?}");
}

/// A chat left waiting is announced again every interval of the team, until someone claims it;
/// 0 turns the reminders off.
async fn a_chat_left_waiting_is_announced_again_until_claimed(app: TestApp) {
    let owner = app.setup().await;
    let settings = format!("/api/teams/{}/settings", owner.team);
    owner.patch(&app, &settings, json!({"pending_alert_seconds": 10})).await.assert_error(400, "invalid_input");
    let r =
        owner.patch(&app, &settings, json!({"pending_alert_seconds": 60, "heartbeat_timeout_seconds": 3600, "orphan_grace_seconds": 86400})).await;
    assert_eq!(r.body["pending_alert_seconds"], 60, "{}", r.body);
    owner.set_status(&app, "available").await;
    let mut ws = Ws::agent(&app, &owner).await;
    let bot = app.shop_bot(&owner).await;
    let (_, chat) = app.pending_chat(&bot).await;
    assert_eq!(ws.next_of("notification").await["data"]["title"], "Vera is waiting for a person");

    app.clock.advance_ms(59_000);
    app.sweep().await;
    no_notification_yet(&mut ws).await;
    app.clock.advance_ms(1_000);
    app.sweep().await;
    let n = ws.next_of("notification").await;
    assert_eq!(
        (n["data"]["title"].as_str(), n["data"]["conversation_id"].as_str()),
        (Some("Vera is still waiting for a person"), Some(chat.as_str()))
    );
    assert_eq!(n["data"]["body"], "Waiting 1 min · via Shop");
    // Once per interval, however often the timers run.
    app.sweep().await;
    no_notification_yet(&mut ws).await;
    app.clock.advance_ms(60_000);
    app.sweep().await;
    assert_eq!(ws.next_of("notification").await["data"]["body"], "Waiting 2 min · via Shop");

    // Claimed: no more reminders.
    owner.post(&app, &format!("/api/live-chats/{chat}/claim"), json!({})).await;
    app.clock.advance_ms(120_000);
    app.sweep().await;
    no_notification_yet(&mut ws).await;

    // Off: a new waiting chat is announced once.
    owner.patch(&app, &settings, json!({"pending_alert_seconds": 0})).await;
    app.pending_chat(&bot).await;
    ws.next_of("notification").await;
    app.clock.advance_ms(600_000);
    app.sweep().await;
    no_notification_yet(&mut ws).await;
}
