//! WebSocket delivery: who gets what, in order, exactly once across reconnects.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::*;

fn is_message(text: &str) -> impl Fn(&Value) -> bool + '_ {
    move |f| f["type"] == "message.created" && f["data"]["text"] == text
}

async fn a_whole_conversation_happens_live_on_both_sides(app: TestApp) {
    let owner = app.setup().await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    let bob = app.add_agent(&owner, "Bob", "chat_agent").await;
    alice.set_status(&app, "available").await;
    bob.set_status(&app, "available").await;
    let bot = app.shop_bot(&owner).await;
    let v = app.visitor(&bot).await;
    let mut agent_ws = Ws::agent(&app, &alice).await;
    let mut visitor_ws = Ws::visitor(&app, &v).await;

    v.post(&app, "/api/widget/messages", json!({"body": "how long does shipping take?"})).await;
    let q = visitor_ws.next_of("message.created").await;
    assert_eq!(q["data"]["text"], "how long does shipping take?");
    let a = visitor_ws.next_of("message.created").await;
    assert_eq!((a["data"]["author"]["kind"].as_str(), a["data"]["text"].as_str()), (Some("bot"), Some("Shipping takes 3 days.")));

    let esc = v.post(&app, "/api/widget/escalate", json!({})).await;
    let chat = esc.body["conversation_id"].as_str().unwrap().to_string();
    let e = agent_ws.next_of("chat.escalated").await;
    assert_eq!((e["data"]["conversation_id"].as_str(), e["data"]["state"].as_str()), (Some(chat.as_str()), Some("pending")));
    assert!(e["at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(visitor_ws.next_of("chat.escalated").await["data"]["state"], "pending");

    alice.post(&app, &format!("/api/live-chats/{chat}/claim"), json!({})).await;
    let claimed = visitor_ws.next_of("chat.claimed").await;
    assert_eq!(claimed["data"]["agent"]["display_name"], "Alice Agent");
    assert!(claimed["data"].get("agent").unwrap().get("avatar_url").is_some());
    assert_eq!(agent_ws.next_of("chat.claimed").await["data"]["assignee"]["id"], alice.id.as_str());

    alice.post(&app, &format!("/api/live-chats/{chat}/messages"), json!({"body": "Hi! <b>Alice</b> here."})).await;
    let m = visitor_ws.until(is_message("Hi! Alice here.")).await.pop().unwrap();
    assert_eq!(m["data"]["author"]["display_name"], "Alice Agent");
    v.post(&app, "/api/widget/messages", json!({"body": "thanks!"})).await;
    agent_ws.until(is_message("thanks!")).await;

    alice.post(&app, &format!("/api/live-chats/{chat}/transfer"), json!({"agent_id": bob.id})).await;
    let t = visitor_ws.next_of("chat.transferred").await;
    assert_eq!((t["data"]["state"].as_str(), t["data"]["agent"]["display_name"].as_str()), (Some("transferred"), Some("Bob Agent")));

    bob.post(&app, &format!("/api/live-chats/{chat}/resolve"), json!({})).await;
    assert_eq!(visitor_ws.next_of("chat.resolved").await["data"]["state"], "resolved");
    assert_eq!(agent_ws.next_of("chat.resolved").await["data"]["conversation_id"], chat.as_str());
}

async fn internal_notes_and_other_visitors_events_never_reach_a_visitor(app: TestApp) {
    let l = app.scene().await;
    let mut ws = Ws::visitor(&app, &l.visitor).await;
    let other = app.visitor(&l.bot).await;
    l.alice.post(&app, &format!("/api/live-chats/{}/claim", l.chat), json!({})).await;
    l.alice.post(&app, &format!("/api/live-chats/{}/notes", l.chat), json!({"body": "internal: VIP"})).await;
    other.post(&app, "/api/widget/messages", json!({"body": "someone else's question"})).await;
    l.alice.post(&app, &format!("/api/live-chats/{}/messages", l.chat), json!({"body": "sentinel"})).await;
    let frames = ws.until(is_message("sentinel")).await;
    let all = serde_json::to_string(&frames).unwrap();
    assert!(!all.contains("VIP") && !all.contains("someone else"), "{all}");
    let seqs: Vec<i64> = frames.iter().filter(|f| f["type"] == "message.created").map(|f| f["data"]["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order: {seqs:?}");
}

async fn an_agent_never_receives_events_of_bots_they_cannot_access(app: TestApp) {
    let l = app.scene().await;
    let other_bot = app.bot(&l.owner, json!({"name": "Private"})).await;
    l.owner.patch(&app, &format!("/api/teams/{}/members/{}", l.owner.team, l.bob.id), json!({"bot_access": [l.bot]})).await;
    let mut ws = Ws::agent(&app, &l.bob).await;
    let (secret_visitor, _) = app.pending_chat(&other_bot).await;
    secret_visitor.post(&app, "/api/widget/messages", json!({"body": "private matter"})).await;
    l.visitor.post(&app, "/api/widget/messages", json!({"body": "sentinel"})).await;
    let frames = ws.until(is_message("sentinel")).await;
    let all = serde_json::to_string(&frames).unwrap();
    assert!(!all.contains("private matter") && !all.contains("chat.escalated"), "{all}");
}

async fn a_resynced_client_gets_every_message_exactly_once(app: TestApp) {
    let l = app.scene().await;
    l.alice.post(&app, &format!("/api/live-chats/{}/claim", l.chat), json!({})).await;
    let mut seen: Vec<i64> = vec![];
    let mut ws = Ws::agent(&app, &l.alice).await;
    ws.send(json!({"type": "sync", "conversation_id": l.chat, "after_seq": 0})).await;
    for round in 0..3 {
        for i in 0..3 {
            l.visitor.post(&app, "/api/widget/messages", json!({"body": format!("r{round} m{i}")})).await;
        }
        let frames = ws.until(is_message(&format!("r{round} m2"))).await;
        seen.extend(
            frames
                .iter()
                .filter(|f| f["type"] == "message.created" && f["data"]["conversation_id"] == l.chat.as_str())
                .map(|f| f["data"]["seq"].as_i64().unwrap()),
        );
        ws.close().await;
        // missed while away
        l.visitor.post(&app, "/api/widget/messages", json!({"body": format!("gap {round}")})).await;
        ws = Ws::agent(&app, &l.alice).await;
        ws.send(json!({"type": "sync", "conversation_id": l.chat, "after_seq": seen.last().copied().unwrap_or(0)})).await;
    }
    let frames = ws.until(is_message("gap 2")).await;
    seen.extend(frames.iter().filter(|f| f["type"] == "message.created").map(|f| f["data"]["seq"].as_i64().unwrap()));
    let last = l.alice.get(&app, &format!("/api/live-chats/{}", l.chat)).await.body["last_seq"].as_i64().unwrap();
    assert_eq!(seen, (1..=last).collect::<Vec<_>>(), "every message once, in order");
}

async fn a_sync_after_live_messages_does_not_repeat_them(app: TestApp) {
    let l = app.scene().await;
    l.alice.post(&app, &format!("/api/live-chats/{}/claim", l.chat), json!({})).await;
    let mut ws = Ws::agent(&app, &l.alice).await;
    // A message arrives live before the client asks for the history.
    l.visitor.post(&app, "/api/widget/messages", json!({"body": "came live first"})).await;
    let live = ws.until(is_message("came live first")).await.pop().unwrap();
    let k = live["data"]["seq"].as_i64().unwrap();
    ws.send(json!({"type": "sync", "conversation_id": l.chat, "after_seq": k - 3})).await;
    l.visitor.post(&app, "/api/widget/messages", json!({"body": "sentinel"})).await;
    let seqs: Vec<i64> = ws
        .until(is_message("sentinel"))
        .await
        .iter()
        .filter(|f| f["type"] == "message.created")
        .map(|f| f["data"]["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, vec![k - 2, k - 1, k + 1], "the history before it, then newer ones; never {k} again");
}

async fn a_visitor_can_send_messages_over_the_socket(app: TestApp) {
    let owner = app.setup().await;
    let bot = app.shop_bot(&owner).await;
    let v = app.visitor(&bot).await;
    let mut ws = Ws::visitor(&app, &v).await;
    ws.send(json!({"type": "message", "body": "how long does shipping take?", "client_id": "w-1"})).await;
    let mine = ws.next_of("message.created").await;
    assert_eq!((mine["data"]["client_id"].as_str(), mine["data"]["author"]["kind"].as_str()), (Some("w-1"), Some("visitor")));
    let answer = ws.next_of("message.created").await;
    assert_eq!(answer["data"]["text"], "Shipping takes 3 days.");
    // a repeat of the same client_id stores nothing new
    ws.send(json!({"type": "message", "body": "how long does shipping take?", "client_id": "w-1"})).await;
    ws.send(json!({"type": "message", "body": "   ", "client_id": "w-2"})).await;
    let err = ws.next_of("error").await;
    assert_eq!((err["data"]["code"].as_str(), err["data"]["client_id"].as_str()), (Some("invalid_input"), Some("w-2")));
    let conv = v.get(&app, "/api/widget/conversation").await;
    assert_eq!(conv.body["messages"].as_array().unwrap().iter().filter(|m| m["client_id"] == "w-1").count(), 1);
    v.post(&app, "/api/widget/end", json!({})).await;
    ws.send(json!({"type": "message", "body": "hello?", "client_id": "w-3"})).await;
    assert_eq!(ws.next_of("error").await["data"]["code"], "chat_resolved");
    // a new chat started over HTTP takes the socket's next message
    let fresh = v.post(&app, "/api/widget/conversations", json!({})).await;
    ws.send(json!({"type": "message", "body": "me again", "client_id": "w-4"})).await;
    let m = ws.until(|f| f["type"] == "message.created" && f["data"]["client_id"] == "w-4").await.pop().unwrap();
    assert_eq!(m["data"]["conversation_id"], fresh.body["id"]);
    // agents cannot use it
    let mut agent = Ws::agent(&app, &owner).await;
    agent.send(json!({"type": "message", "body": "x"})).await;
    assert_eq!(agent.next_of("error").await["data"]["code"], "forbidden");
}

async fn a_hundred_agents_all_receive_a_message(app: TestApp) {
    // One agent's hundred sockets: more than the per-agent limit allows by default.
    let app = TestApp::spawn_with(app.backend, |s| s.sockets.per_agent = 0).await;
    let l = app.scene().await;
    let mut sockets = Vec::new();
    for _ in 0..100 {
        sockets.push(Ws::agent(&app, &l.owner).await);
    }
    l.visitor.post(&app, "/api/widget/messages", json!({"body": "fan out"})).await;
    for ws in &mut sockets {
        ws.until(is_message("fan out")).await;
    }
}

async fn bad_frames_get_an_error_frame_and_the_socket_lives_on(app: TestApp) {
    use tokio_tungstenite::tungstenite::Message;
    let l = app.scene().await;
    let mut ws = Ws::agent(&app, &l.alice).await;
    for bad in [json!("not an object"), json!({"type": "dance"}), json!({"type": "sync", "conversation_id": l.chat})] {
        ws.send(bad).await;
        assert_eq!(ws.next_of("error").await["data"]["code"], "invalid_frame");
    }
    ws.send_raw(Message::Text("{nope".into())).await;
    assert_eq!(ws.next_of("error").await["data"]["code"], "invalid_frame");
    ws.send_raw(Message::Binary(vec![1, 2, 3].into())).await;
    assert_eq!(ws.next_of("error").await["data"]["code"], "invalid_frame");
    ws.send(json!({"type": "sync", "conversation_id": "01900000-0000-7000-8000-000000000000", "after_seq": 0})).await;
    assert_eq!(ws.next_of("error").await["data"]["code"], "not_found");
    ws.send(json!({"type": "sync", "conversation_id": l.chat, "after_seq": -1})).await;
    assert_eq!(ws.next_of("error").await["data"]["code"], "invalid_frame");
    // still alive: a valid sync replays the history
    let last = l.alice.get(&app, &format!("/api/live-chats/{}", l.chat)).await.body["last_seq"].as_i64().unwrap();
    ws.send(json!({"type": "sync", "conversation_id": l.chat, "after_seq": 0})).await;
    let replay = ws.until(|f| f["type"] == "message.created" && f["data"]["seq"] == last).await;
    assert_eq!(replay[0]["data"]["seq"], 1);
    // an oversized frame closes the socket
    ws.send_raw(Message::Text("x".repeat(70 * 1024).into())).await;
    assert!(ws.next().await.is_none(), "the server closes after an oversized frame");
}

async fn sockets_check_who_and_where_from(app: TestApp) {
    let l = app.scene().await;
    let ws_base = app.base.replace("http://", "ws://");
    assert!(Ws::connect(&format!("{ws_base}/ws")).await.is_err(), "no credentials");
    assert!(Ws::connect(&format!("{ws_base}/ws?token=bt_forged")).await.is_err());
    assert!(Ws::connect(&format!("{ws_base}/api/widget/ws?token=bv_forged")).await.is_err());
    let mia = app.add_agent(&l.owner, "Mia", "member").await;
    let Auth::Bearer(t) = &mia.auth else { unreachable!() };
    assert!(Ws::connect(&format!("{ws_base}/ws?token={t}")).await.is_err(), "members have no inbox");
    // the inbox page's way: the session cookie, from Baton's own origin
    let Auth::Cookie { cookie, .. } = app.login("alice@acme.test", "agent-password").await else { unreachable!() };
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!("{ws_base}/ws")).unwrap();
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    req.headers_mut().insert("origin", app.base.parse().unwrap());
    let (mut by_cookie, _) = tokio_tungstenite::connect_async(req).await.expect("cookie socket from the same origin");
    by_cookie.close(None).await.ok();
    // a cross-site page cannot open an agent socket
    let Auth::Bearer(t) = &l.alice.auth else { unreachable!() };
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!("{ws_base}/ws?token={t}")).unwrap();
    req.headers_mut().insert("origin", "https://evil.example.com".parse().unwrap());
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 403),
        other => panic!("expected 403, got {:?}", other.map(|_| ())),
    }
}

async fn typing_goes_between_visitor_and_assignee_and_is_throttled(app: TestApp) {
    let l = app.scene().await;
    l.alice.post(&app, &format!("/api/live-chats/{}/claim", l.chat), json!({})).await;
    let mut agent = Ws::agent(&app, &l.alice).await;
    let mut visitor = Ws::visitor(&app, &l.visitor).await;
    visitor.send(json!({"type": "typing", "conversation_id": l.chat})).await;
    assert_eq!(agent.next_of("typing").await["data"]["author"]["kind"], "visitor");
    agent.send(json!({"type": "typing", "conversation_id": l.chat})).await;
    let t = visitor.next_of("typing").await;
    assert_eq!(t["data"]["author"]["display_name"], "Alice Agent");
    // a second one right away is dropped; after the throttle window it goes through
    agent.send(json!({"type": "typing", "conversation_id": l.chat})).await;
    app.clock.advance_ms(2_000);
    agent.send(json!({"type": "typing", "conversation_id": l.chat, "note": true})).await;
    agent.send(json!({"type": "typing", "conversation_id": l.chat})).await;
    l.alice.post(&app, &format!("/api/live-chats/{}/messages", l.chat), json!({"body": "sentinel"})).await;
    let frames = visitor.until(is_message("sentinel")).await;
    assert_eq!(frames.iter().filter(|f| f["type"] == "typing").count(), 0, "throttled, and notes are not announced to the visitor: {frames:?}");
    // typing is never stored
    let chat = l.alice.get(&app, &format!("/api/live-chats/{}", l.chat)).await;
    assert!(!chat.body.to_string().contains("typing"));
}

async fn widgets_hear_when_the_team_comes_online(app: TestApp) {
    let owner = app.setup().await;
    let bot = app.bot(&owner, json!({"name": "Open", "settings": {"show_agent_availability": true}})).await;
    let v = app.visitor(&bot).await;
    let mut ws = Ws::visitor(&app, &v).await;
    owner.set_status(&app, "available").await;
    let a = ws.next_of("availability").await;
    assert_eq!(a["data"]["online"], true);
    owner.set_status(&app, "offline").await;
    let a = ws.next_of("availability").await;
    assert_eq!(a["data"]["online"], false);
    assert!(a["data"]["last_active_at"].is_string());
}

backend_tests!(
    a_whole_conversation_happens_live_on_both_sides,
    internal_notes_and_other_visitors_events_never_reach_a_visitor,
    an_agent_never_receives_events_of_bots_they_cannot_access,
    a_resynced_client_gets_every_message_exactly_once,
    a_sync_after_live_messages_does_not_repeat_them,
    a_hundred_agents_all_receive_a_message,
    a_visitor_can_send_messages_over_the_socket,
    bad_frames_get_an_error_frame_and_the_socket_lives_on,
    sockets_check_who_and_where_from,
    typing_goes_between_visitor_and_assignee_and_is_throttled,
    widgets_hear_when_the_team_comes_online,
    agents_see_who_else_has_a_chat_open,
);

/// An agent with a chat open tells the team's other agents (collision detection); a visitor
/// cannot, nor can an agent without access to the chat, and repeats within 2 s are dropped.
async fn agents_see_who_else_has_a_chat_open(app: TestApp) {
    let owner = app.setup().await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    let bot = app.shop_bot(&owner).await;
    let (visitor, chat) = app.pending_chat(&bot).await;
    let mut owner_ws = Ws::agent(&app, &owner).await;
    let mut alice_ws = Ws::agent(&app, &alice).await;
    alice_ws.send(json!({"type": "viewing", "conversation_id": chat})).await;
    let f = owner_ws.next_of("viewing").await;
    assert_eq!((f["data"]["conversation_id"].as_str(), f["data"]["agent"]["display_name"].as_str()), (Some(chat.as_str()), Some("Alice Agent")));
    // A repeat within 2 s is dropped (the typing frame after it arrives with no viewing before
    // it); one later goes through.
    alice_ws.send(json!({"type": "viewing", "conversation_id": chat})).await;
    alice_ws.send(json!({"type": "typing", "conversation_id": chat, "note": true})).await;
    let before = owner_ws.until(|f| f["type"] == "typing").await;
    assert!(!before.iter().any(|f| f["type"] == "viewing"), "{before:?}");
    app.clock.advance_ms(2_000);
    alice_ws.send(json!({"type": "viewing", "conversation_id": chat})).await;
    owner_ws.next_of("viewing").await;
    owner_ws.send(json!({"type": "viewing", "conversation_id": chat})).await;
    let f = alice_ws.next_of("viewing").await;
    assert_eq!(f["data"]["agent"]["display_name"], "Olivia Owner");

    let mut v = Ws::visitor(&app, &visitor).await;
    v.send(json!({"type": "viewing", "conversation_id": chat})).await;
    assert_eq!(v.next_of("error").await["data"]["code"], "invalid_frame");
    alice_ws.send(json!({"type": "viewing", "conversation_id": "01900000-0000-7000-8000-000000000000"})).await;
    assert_eq!(alice_ws.next_of("error").await["data"]["code"], "not_found");
}
