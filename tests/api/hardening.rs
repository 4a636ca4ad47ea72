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

async fn readiness_follows_the_database_and_liveness_does_not(app: TestApp) {
    let r = app.get("/readyz").await;
    assert_eq!((r.status, r.body["status"].as_str()), (200, Some("ready")), "{}", r.body);
    let Some(db) = app.pg_database().map(str::to_string) else { return };
    // The database goes away: Baton is alive but not ready.
    app.pg_admin(&format!("ALTER DATABASE \"{db}\" WITH ALLOW_CONNECTIONS false")).await;
    app.pg_admin(&format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'")).await;
    app.get("/readyz").await.assert_error(503, "not_ready");
    assert_eq!(app.get("/healthz").await.status, 200);
    // And comes back: ready again, once the pool reconnects.
    app.pg_admin(&format!("ALTER DATABASE \"{db}\" WITH ALLOW_CONNECTIONS true")).await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while app.get("/readyz").await.status != 200 {
        assert!(tokio::time::Instant::now() < deadline, "never ready again");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

backend_tests!(
    readiness_follows_the_database_and_liveness_does_not,
    json_bodies_must_say_so_and_be_objects,
    api_answers_are_not_cached_and_pages_are_not_forced_to_https_over_http,
    behind_https_every_answer_asks_for_https,
    logging_out_with_a_token_revokes_it
);

mod sockets {
    use tokio_tungstenite::tungstenite::Message;

    use super::*;

    async fn a_flood_of_frames_closes_the_socket_as_a_policy_violation(app: TestApp) {
        let l = app.scene().await;
        let mut ws = Ws::visitor(&app, &l.visitor).await;
        for _ in 0..200 {
            ws.send_raw(Message::Text(json!({"type": "typing", "conversation_id": l.chat}).to_string().into())).await;
        }
        assert_eq!(ws.close_code().await, Some(1008));
        // A calm socket is left alone.
        let mut calm = Ws::visitor(&app, &l.visitor).await;
        for _ in 0..20 {
            calm.send(json!({"type": "typing", "conversation_id": l.chat})).await;
        }
        calm.flush().await;
    }

    async fn an_oversized_frame_is_answered_with_1009(app: TestApp) {
        let l = app.scene().await;
        let mut ws = Ws::visitor(&app, &l.visitor).await;
        ws.send_raw(Message::Text("x".repeat(100 * 1024).into())).await;
        assert_eq!(ws.close_code().await, Some(1009));
    }

    async fn repeated_syncs_cannot_multiply_the_history(app: TestApp) {
        let l = app.scene().await;
        for i in 0..40 {
            let r = l.visitor.post(&app, "/api/widget/messages", json!({"body": format!("line {i}")})).await;
            assert_eq!(r.status, 201);
        }
        let history = l.visitor.get(&app, "/api/widget/conversation").await.body["messages"].as_array().unwrap().len();
        let mut ws = Ws::visitor(&app, &l.visitor).await;
        for _ in 0..100 {
            ws.send(json!({"type": "sync", "conversation_id": l.chat, "after_seq": 0})).await;
        }
        // Frames are handled in order: the answer to this one comes after every replay.
        ws.send(json!({"type": "typing", "conversation_id": "01900000-0000-7000-8000-00000000f1f1"})).await;
        let seen = ws.until(|f| f["type"] == "error" && f["data"]["code"] == "not_found").await;
        let replayed = seen.iter().filter(|f| f["type"] == "message.created").count();
        // Repeated syncs are merged: the history goes out once, however often it is asked for.
        assert_eq!(replayed, history, "{replayed} messages replayed for 100 syncs of {history}");
    }

    async fn a_long_history_is_replayed_in_pages(app: TestApp) {
        let l = app.scene().await;
        assert_eq!(l.owner.post(&app, &format!("/api/live-chats/{}/claim", l.chat), json!({})).await.status, 200);
        for i in 0..1_150 {
            let r = l.owner.post(&app, &format!("/api/live-chats/{}/notes", l.chat), json!({"body": format!("note {i}")})).await;
            assert_eq!(r.status, 201, "{}", r.body);
        }
        let last = l.owner.get(&app, &format!("/api/live-chats/{}", l.chat)).await.body["last_seq"].as_i64().unwrap();
        let mut ws = Ws::agent(&app, &l.owner).await;
        let mut seen = vec![];
        let mut after = 0;
        let mut rounds = 0;
        while seen.len() < last as usize {
            rounds += 1;
            assert!(rounds <= 3, "the history comes in a few syncs");
            ws.send(json!({"type": "sync", "conversation_id": l.chat, "after_seq": after})).await;
            let frames = ws.until(|f| f["type"] == "error" || (f["type"] == "message.created" && f["data"]["seq"] == last)).await;
            seen.extend(frames.iter().filter(|f| f["type"] == "message.created").map(|f| f["data"]["seq"].as_i64().unwrap()));
            let end = frames.last().unwrap();
            if end["type"] == "error" {
                // A page at most the budget long, and where to go on from.
                assert_eq!(end["data"]["code"], "sync_throttled", "{end}");
                assert!(seen.len() <= 1000 * rounds, "{} messages in {rounds} syncs", seen.len());
                after = end["data"]["after_seq"].as_i64().unwrap();
                assert_eq!(after, *seen.last().unwrap());
                assert_eq!(end["data"]["conversation_id"], l.chat.as_str());
                // Syncing again at once is refused, naming the same place to go on from.
                ws.send(json!({"type": "sync", "conversation_id": l.chat, "after_seq": after})).await;
                let again = ws.next_of("error").await;
                assert_eq!((again["data"]["code"].as_str(), again["data"]["after_seq"].as_i64()), (Some("sync_throttled"), Some(after)), "{again}");
                let wait = again["data"]["retry_in_ms"].as_i64().unwrap();
                assert!((1..=10_000).contains(&wait), "{again}");
                app.clock.advance_ms(wait);
            }
        }
        assert_eq!(seen, (1..=last).collect::<Vec<_>>(), "every message once, in order");
        assert!(rounds >= 2, "more than a budget's worth took more than one sync");
        // Asking again from the start on this connection repeats nothing it already sent.
        app.clock.advance_ms(10_000);
        ws.send(json!({"type": "sync", "conversation_id": l.chat, "after_seq": 0})).await;
        ws.send(json!({"type": "typing", "conversation_id": "01900000-0000-7000-8000-00000000f1f1"})).await;
        let frames = ws.until(|f| f["type"] == "error" && f["data"]["code"] == "not_found").await;
        assert!(frames.iter().all(|f| f["type"] != "message.created"), "nothing is sent twice");
    }

    backend_tests!(
        a_long_history_is_replayed_in_pages,
        a_flood_of_frames_closes_the_socket_as_a_policy_violation,
        an_oversized_frame_is_answered_with_1009,
        repeated_syncs_cannot_multiply_the_history
    );
}

mod limits {
    use super::*;

    fn refused_with(e: tokio_tungstenite::tungstenite::Error, status: u16) {
        match e {
            tokio_tungstenite::tungstenite::Error::Http(res) => assert_eq!(res.status().as_u16(), status),
            other => panic!("expected an HTTP refusal, got {other}"),
        }
    }

    fn visitor_url(app: &TestApp, v: &Visitor) -> String {
        let Auth::Bearer(token) = &v.auth else { unreachable!() };
        format!("{}/api/widget/ws?token={token}", app.base.replace("http://", "ws://"))
    }

    async fn one_visitor_cannot_hold_more_than_its_sockets(app: TestApp) {
        let app = TestApp::spawn_with(app.backend, |s| s.sockets.per_visitor = 2).await;
        let l = app.scene().await;
        let url = visitor_url(&app, &l.visitor);
        let first = Ws::connect(&url).await.unwrap();
        let _second = Ws::connect(&url).await.unwrap();
        refused_with(Ws::connect(&url).await.err().expect("a third socket is refused"), 429);
        // Another visitor is not affected, and neither is the rest of the server.
        let other = app.visitor(&l.bot).await;
        Ws::connect(&visitor_url(&app, &other)).await.expect("another visitor connects");
        assert_eq!(app.get("/healthz").await.status, 200);
        // A closed socket gives its place back (once the server has seen it go).
        first.close().await;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match Ws::connect(&url).await {
                Ok(_) => break,
                Err(e) => refused_with(e, 429),
            }
            assert!(tokio::time::Instant::now() < deadline, "the place never came back");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    async fn a_full_node_refuses_new_sockets_but_keeps_answering(app: TestApp) {
        let app = TestApp::spawn_with(app.backend, |s| s.sockets.total = 2).await;
        let l = app.scene().await;
        let _a = Ws::agent(&app, &l.owner).await;
        let _b = Ws::visitor(&app, &l.visitor).await;
        let Auth::Bearer(token) = &l.alice.auth else { unreachable!() };
        let url = format!("{}/ws?token={token}", app.base.replace("http://", "ws://"));
        refused_with(Ws::connect(&url).await.err().expect("a third socket is refused"), 503);
        assert_eq!(app.get("/healthz").await.status, 200);
        assert_eq!(l.owner.get(&app, "/api/me").await.status, 200);
    }

    backend_tests!(one_visitor_cannot_hold_more_than_its_sockets, a_full_node_refuses_new_sockets_but_keeps_answering);
}

mod webhooks {
    use super::*;

    async fn a_bot_cannot_be_pointed_at_this_machine_or_a_private_network(app: TestApp) {
        let app = TestApp::spawn_with(app.backend, |s| s.allow_private_webhooks = false).await;
        let owner = app.setup().await;
        let team = owner.get(&app, "/api/me").await.body["active_team_id"].as_str().unwrap().to_string();
        for url in
            ["http://127.0.0.1:9/bot", "http://localhost:8080/x", "http://10.0.0.7/hook", "http://169.254.169.254/latest/meta-data", "http://[::1]/"]
        {
            let r =
                owner.post(&app, &format!("/api/teams/{team}/bots"), json!({"name": "Hooked", "responder": {"kind": "webhook", "url": url}})).await;
            r.assert_error(400, "invalid_input");
            assert!(r.body["error"]["message"].as_str().unwrap().contains("responder.url"), "{url}: {}", r.body);
        }
        assert_eq!(owner.get(&app, &format!("/api/teams/{team}/bots")).await.body, json!([]), "nothing was created");
        let ok = owner
            .post(
                &app,
                &format!("/api/teams/{team}/bots"),
                json!({"name": "Public", "responder": {"kind": "webhook", "url": "https://bots.example.com/hook"}}),
            )
            .await;
        assert_eq!(ok.status, 201, "{}", ok.body);
        // Nor changed to one later.
        let id = ok.body["id"].as_str().unwrap();
        owner
            .patch(&app, &format!("/api/bots/{id}"), json!({"responder": {"kind": "webhook", "url": "http://192.168.0.1/"}}))
            .await
            .assert_error(400, "invalid_input");
    }

    backend_tests!(a_bot_cannot_be_pointed_at_this_machine_or_a_private_network);
}

mod connections {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;

    async fn open(app: &TestApp) -> TcpStream {
        TcpStream::connect(app.base.trim_start_matches("http://")).await.expect("connects")
    }

    /// Reads until the server closes the connection (bounded: a server that never closes fails
    /// the test); returns what it sent.
    async fn until_closed(stream: &mut TcpStream) -> String {
        let mut got = vec![];
        let mut buf = [0u8; 4096];
        let read = async {
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(20), read).await.expect("the server closes the connection");
        String::from_utf8_lossy(&got).into_owned()
    }

    fn quick(s: &mut baton::app::Settings) {
        s.http.header_timeout = Duration::from_millis(300);
        s.http.body_timeout = Duration::from_millis(300);
    }

    async fn slow_headers_and_idle_connections_are_closed(app: TestApp) {
        let app = TestApp::spawn_with(app.backend, quick).await;
        // Half-sent headers (slowloris).
        let mut slow = open(&app).await;
        slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        until_closed(&mut slow).await;
        // Nothing at all.
        let mut silent = open(&app).await;
        assert_eq!(until_closed(&mut silent).await, "");
        // An idle keep-alive connection after a complete request.
        let mut idle = open(&app).await;
        idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let answered = until_closed(&mut idle).await;
        assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
        // The server still answers everyone else.
        assert_eq!(app.get("/healthz").await.status, 200);
    }

    async fn a_body_that_never_arrives_is_answered_408(app: TestApp) {
        let app = TestApp::spawn_with(app.backend, quick).await;
        app.setup().await;
        let mut s = open(&app).await;
        let head = "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{";
        s.write_all(head.as_bytes()).await.unwrap();
        let answer = until_closed(&mut s).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains(r#""code":"request_timeout""#), "{answer}");
    }

    async fn a_body_trickled_byte_by_byte_is_cut_off_at_the_deadline(app: TestApp) {
        let app = TestApp::spawn_with(app.backend, quick).await;
        let mut s = open(&app).await;
        let head = "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n";
        s.write_all(head.as_bytes()).await.unwrap();
        // A byte every 50 ms: each gap well within the limit, the whole far past it. Stops when
        // the server answers (a write then fails, or the answer is read below).
        let mut sent = 0;
        while sent < 1000 && s.write_all(b" ").await.is_ok() {
            sent += 1;
            let mut probe = [0u8; 1];
            if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(50), s.peek(&mut probe)).await {
                if n > 0 {
                    break;
                }
            }
        }
        assert!(sent < 1000, "the server waited for the whole trickle");
        let answer = until_closed(&mut s).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }

    async fn one_address_cannot_hold_every_connection(app: TestApp) {
        let app = TestApp::spawn_with(app.backend, |s| s.http.connections_per_address = 3).await;
        let held = [open(&app).await, open(&app).await, open(&app).await];
        // The fourth is closed at once, unanswered.
        let mut fourth = open(&app).await;
        fourth.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.ok();
        assert_eq!(until_closed(&mut fourth).await, "");
        // A closed connection gives its place back (once the server has seen it go).
        drop(held);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let mut s = open(&app).await;
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.ok();
            if until_closed(&mut s).await.starts_with("HTTP/1.1 200") {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "the places never came back");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn behind_a_trusted_proxy_each_client_has_its_own_budget(app: TestApp) {
        let backend = app.backend;
        drop(app);
        for trusted in [false, true] {
            let app = TestApp::spawn_with(backend, |s| {
                s.widget_per_minute = 2;
                if trusted {
                    s.trusted_proxies = baton::services::clients::TrustedProxies::new(vec!["127.0.0.1".parse().unwrap()]);
                }
            })
            .await;
            let owner = app.setup().await;
            let bot = app.shop_bot(&owner).await;
            let create = |from: &str| {
                app.http
                    .post(format!("{}/api/widget/bots/{bot}/visitors", app.base))
                    .header("x-forwarded-for", from)
                    .header("content-type", "application/json")
                    .body("{}")
            };
            for _ in 0..2 {
                assert_eq!(app.raw(create("198.51.100.1")).await.status, 201);
            }
            app.raw(create("198.51.100.1")).await.assert_error(429, "rate_limited");
            // Another client behind the same proxy: its own budget only when the proxy is trusted.
            let other = app.raw(create("198.51.100.2")).await;
            if trusted {
                assert_eq!(other.status, 201, "{}", other.body);
                // Writing hops in front of the real one does not buy a fresh budget.
                app.raw(create("203.0.113.50, 198.51.100.1")).await.assert_error(429, "rate_limited");
            } else {
                other.assert_error(429, "rate_limited");
            }
        }
    }

    backend_tests!(
        slow_headers_and_idle_connections_are_closed,
        a_body_that_never_arrives_is_answered_408,
        a_body_trickled_byte_by_byte_is_cut_off_at_the_deadline,
        one_address_cannot_hold_every_connection,
        behind_a_trusted_proxy_each_client_has_its_own_budget
    );
}

mod budgets {
    use super::*;

    async fn one_address_cannot_flood_through_many_visitors(app: TestApp) {
        let app = TestApp::spawn_with(app.backend, |s| {
            s.widget_per_minute = 100;
            s.widget_address_per_minute = 8;
        })
        .await;
        let owner = app.setup().await;
        let bot = app.shop_bot(&owner).await;
        // Two visitors from one address: creating them costs two of the address's eight.
        let a = app.visitor(&bot).await;
        let b = app.visitor(&bot).await;
        let mut spent = 2;
        // Every kind of widget write spends from the same budget.
        assert_eq!(a.post(&app, "/api/widget/messages", json!({"body": "hi"})).await.status, 201);
        assert_eq!(a.post(&app, "/api/widget/escalate", json!({})).await.status, 200);
        assert_eq!(a.post(&app, "/api/widget/end", json!({})).await.status, 200);
        assert_eq!(a.post(&app, "/api/widget/conversations", json!({})).await.status, 201);
        assert_eq!(b.patch(&app, "/api/widget/visitor", json!({"name": "Bo"})).await.status, 200);
        spent += 5;
        assert_eq!(spent, 7);
        assert_eq!(b.post(&app, "/api/widget/messages", json!({"body": "one more"})).await.status, 201);
        // The ninth write from the address is refused, whichever visitor makes it, and changes nothing.
        b.post(&app, "/api/widget/messages", json!({"body": "refused"})).await.assert_error(429, "rate_limited");
        a.post(&app, "/api/widget/escalate", json!({})).await.assert_error(429, "rate_limited");
        let create = app.http.post(format!("{}/api/widget/bots/{bot}/visitors", app.base)).json(&json!({}));
        app.raw(create).await.assert_error(429, "rate_limited");
        let msgs = b.get(&app, "/api/widget/conversation").await.body["messages"].as_array().unwrap().clone();
        assert!(msgs.iter().all(|m| m["body"] != "refused"));
        // Over the socket too.
        let mut ws = Ws::visitor(&app, &b).await;
        ws.send(json!({"type": "message", "body": "socket", "client_id": "c1"})).await;
        let refused = ws.next_of("error").await;
        assert_eq!(refused["data"]["code"], "rate_limited");
        // Reads are free, and the budget comes back with the minute.
        assert_eq!(a.get(&app, "/api/widget/conversation").await.status, 200);
        app.clock.advance_ms(61_000);
        assert_eq!(b.post(&app, "/api/widget/messages", json!({"body": "later"})).await.status, 201);
    }

    backend_tests!(one_address_cannot_flood_through_many_visitors);
}
