//! A reconnect storm: 2,000 sockets follow a chat, all drop at once (no close frame, as when a
//! proxy or a network goes away), messages keep arriving, and all 2,000 reconnect at once with
//! `sync` from the last `seq` they saw while more messages arrive. Every client must end with
//! every message exactly once, and `/healthz` must answer throughout.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::backend_tests;
use crate::helpers::*;

const CLIENTS: usize = 2_000;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects, retrying as a real client does with backoff (a storm may find the listen queue
/// full for a moment), and sends `sync` after `after_seq`.
async fn connect(url: &str, chat: &str, after_seq: i64) -> Socket {
    let mut wait = Duration::from_millis(20);
    for attempt in 0.. {
        match tokio_tungstenite::connect_async(url).await {
            Ok((mut ws, _)) => {
                let sync = json!({"type": "sync", "conversation_id": chat, "after_seq": after_seq}).to_string();
                ws.send(Message::Text(sync.into())).await.expect("sync sent");
                return ws;
            }
            Err(e) => {
                assert!(attempt < 50, "could not connect: {e}");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(1));
            }
        }
    }
    unreachable!()
}

/// Reads until the client has seen the `seq` `target` names (it may still grow), collecting the
/// `seq`s of the chat's messages.
async fn follow(ws: &mut Socket, chat: &str, seen: &mut Vec<i64>, mut target: tokio::sync::watch::Receiver<i64>) {
    loop {
        // Done once every seq up to the target has come (not merely the last one: replayed
        // messages may still be on their way behind a live one).
        let target_now = *target.borrow_and_update();
        let distinct: std::collections::HashSet<i64> = seen.iter().copied().collect();
        if target_now != i64::MAX && (1..=target_now).all(|s| distinct.contains(&s)) {
            return;
        }
        let frame = tokio::select! {
            frame = tokio::time::timeout(Duration::from_secs(60), ws.next()) => frame.expect("a frame within a minute"),
            changed = target.changed() => { changed.expect("the test is running"); continue }
        };
        let Some(Ok(Message::Text(text))) = frame else {
            match frame {
                Some(Ok(_)) => continue,
                other => panic!("the socket ended: {other:?}"),
            }
        };
        let f: Value = serde_json::from_str(&text).expect("a JSON frame");
        if f["type"] == "message.created" && f["data"]["conversation_id"] == chat {
            seen.push(f["data"]["seq"].as_i64().expect("a seq"));
        } else if f["type"] == "error" {
            panic!("refused: {f}");
        }
    }
}

async fn last_seq(app: &TestApp, l: &Scene) -> i64 {
    l.owner.get(app, &format!("/api/live-chats/{}", l.chat)).await.body["last_seq"].as_i64().expect("last_seq")
}

async fn post_messages(app: &TestApp, l: &Scene, from: usize, n: usize) {
    for i in from..from + n {
        let r = l.visitor.post(app, "/api/widget/messages", json!({"body": format!("message {i}")})).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
}

async fn two_thousand_sockets_reconnect_at_once_and_miss_nothing(app: TestApp) {
    let app = TestApp::spawn_with(app.backend, |s| {
        // One address and one agent stand in for 2,000 clients: their own caps are tested elsewhere.
        s.sockets.per_agent = 0;
        s.sockets.per_address = 0;
        s.http.connections_per_address = 0;
        s.http.max_connections = 0;
    })
    .await;
    let l = app.scene().await;
    let Auth::Bearer(token) = &l.owner.auth else { unreachable!() };
    let url = Arc::new(format!("{}/ws?token={token}", app.base.replace("http://", "ws://")));
    let chat = Arc::new(l.chat.clone());
    post_messages(&app, &l, 0, 10).await;
    let (target, watch) = tokio::sync::watch::channel(last_seq(&app, &l).await);

    // 2,000 clients connect and catch up.
    let mut clients = vec![];
    for _ in 0..CLIENTS {
        let (url, chat, watch) = (url.clone(), chat.clone(), watch.clone());
        clients.push(tokio::spawn(async move {
            let mut ws = connect(&url, &chat, 0).await;
            let mut seen = vec![];
            follow(&mut ws, &chat, &mut seen, watch).await;
            (ws, seen)
        }));
    }
    let mut histories = vec![];
    for c in clients {
        let (ws, seen) = c.await.expect("a client");
        // Every socket drops at once: no close frame, the TCP connection just goes.
        drop(ws);
        histories.push(seen);
    }

    // Messages keep coming while nobody is connected.
    post_messages(&app, &l, 10, 10).await;
    // Until the last message is posted, nobody is done.
    target.send_replace(i64::MAX);

    // /healthz is asked all through the storm.
    let storming = Arc::new(AtomicBool::new(true));
    let (health_ok, health_bad) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let health = {
        let (base, storming, ok, bad) = (app.base.clone(), storming.clone(), health_ok.clone(), health_bad.clone());
        tokio::spawn(async move {
            let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
            while storming.load(Ordering::Acquire) {
                match http.get(format!("{base}/healthz")).send().await {
                    Ok(r) if r.status() == 200 => ok.fetch_add(1, Ordering::Relaxed),
                    _ => bad.fetch_add(1, Ordering::Relaxed),
                };
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };

    // All reconnect at once, each syncing from the last seq it saw, while more messages arrive.
    let mut clients = vec![];
    for mut seen in histories {
        let (url, chat, watch) = (url.clone(), chat.clone(), watch.clone());
        clients.push(tokio::spawn(async move {
            let after = seen.iter().copied().max().unwrap_or(0);
            let mut ws = connect(&url, &chat, after).await;
            follow(&mut ws, &chat, &mut seen, watch).await;
            seen
        }));
    }
    post_messages(&app, &l, 20, 10).await;
    let last = last_seq(&app, &l).await;
    target.send_replace(last);
    let mut complete = 0;
    for c in clients {
        let mut seen = c.await.expect("a client");
        let received = seen.len();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), received, "a message arrived twice");
        assert_eq!(seen, (1..=last).collect::<Vec<_>>(), "every message, once");
        complete += 1;
    }
    storming.store(false, Ordering::Release);
    health.await.unwrap();
    assert_eq!(complete, CLIENTS);
    assert_eq!(health_bad.load(Ordering::Relaxed), 0, "/healthz failed during the storm");
    assert!(health_ok.load(Ordering::Relaxed) > 0, "/healthz was asked");
}

backend_tests!(two_thousand_sockets_reconnect_at_once_and_miss_nothing);
