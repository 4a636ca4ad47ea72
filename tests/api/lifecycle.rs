//! Every row of PRODUCT.md's lifecycle table and every refusal code, through the HTTP API.

use serde_json::json;

use crate::backend_tests;
use crate::helpers::*;

fn path(chat: &str, action: &str) -> String {
    format!("/api/live-chats/{chat}/{action}")
}

async fn a_visitor_escalation_puts_the_chat_in_the_inbox_as_pending(app: TestApp) {
    let s = app.scene().await;
    let r = s.alice.get(&app, &format!("/api/live-chats/{}", s.chat)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["state"], "pending");
    assert_eq!(r.body["assignee"], serde_json::Value::Null);
    assert!(r.body["escalated_at"].is_string());
    let texts: Vec<&str> = r.body["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert!(texts.contains(&"The visitor asked for a person"), "{texts:?}");
    // a second click is harmless
    let again = s.visitor.post(&app, "/api/widget/escalate", json!({})).await;
    assert_eq!((again.status, again.body["state"].as_str()), (200, Some("pending")));
}

async fn escalation_is_refused_when_the_bot_does_not_allow_it(app: TestApp) {
    let owner = app.setup().await;
    let bot = app.bot(&owner, json!({"name": "Strict", "settings": {"human_escalation": false}})).await;
    let v = app.visitor(&bot).await;
    v.post(&app, "/api/widget/escalate", json!({})).await.assert_error(409, "escalation_disabled");
    let conv = v.get(&app, "/api/widget/conversation").await;
    assert_eq!(conv.body["state"], "bot", "nothing changed");
}

async fn claiming_makes_the_agent_the_assignee_and_tells_the_visitor(app: TestApp) {
    let s = app.scene().await;
    let r = s.alice.post(&app, &path(&s.chat, "claim"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["state"], "active");
    assert_eq!(r.body["assignee"]["id"], s.alice.id.as_str());
    let w = s.visitor.get(&app, "/api/widget/conversation").await;
    assert_eq!(w.body["state"], "active");
    assert_eq!(w.body["agent"]["display_name"], "Alice Agent");
    assert!(w.body["messages"].as_array().unwrap().iter().any(|m| m["text"] == "Alice Agent claimed the chat"));
}

async fn only_available_or_busy_agents_can_claim(app: TestApp) {
    let s = app.scene().await;
    for status in ["away", "offline"] {
        s.alice.set_status(&app, status).await;
        s.alice.post(&app, &path(&s.chat, "claim"), json!({})).await.assert_error(409, "agent_not_available");
    }
    assert_eq!(s.alice.get(&app, &format!("/api/live-chats/{}", s.chat)).await.body["state"], "pending");
    s.alice.set_status(&app, "busy").await;
    assert_eq!(s.alice.post(&app, &path(&s.chat, "claim"), json!({})).await.status, 200);
}

async fn a_claimed_chat_cannot_be_claimed_again(app: TestApp) {
    let s = app.scene().await;
    assert_eq!(s.alice.post(&app, &path(&s.chat, "claim"), json!({})).await.status, 200);
    s.bob.post(&app, &path(&s.chat, "claim"), json!({})).await.assert_error(409, "already_claimed");
}

async fn exactly_one_of_many_concurrent_claims_wins(app: TestApp) {
    let s = app.scene().await;
    let mut agents = vec![s.alice.clone(), s.bob.clone(), s.owner.clone()];
    for i in 0..5 {
        let a = app.add_agent(&s.owner, &format!("Racer{i}"), "chat_agent").await;
        a.set_status(&app, "available").await;
        agents.push(a);
    }
    let app = std::sync::Arc::new(app);
    let handles: Vec<_> = agents
        .into_iter()
        .map(|a| {
            let (app, chat) = (app.clone(), s.chat.clone());
            tokio::spawn(async move { (a.id.clone(), a.post(&app, &path(&chat, "claim"), json!({})).await) })
        })
        .collect();
    let winner = the_one_winner(handles).await;
    let chat = s.alice.get(&app, &format!("/api/live-chats/{}", s.chat)).await;
    assert_eq!(chat.body["assignee"]["id"], winner.as_str());
    let claims = chat.body["messages"].as_array().unwrap().iter().filter(|m| m["event"] == "claimed").count();
    assert_eq!(claims, 1, "one claim recorded");
}

async fn a_pending_chat_refuses_agent_messages_but_takes_notes(app: TestApp) {
    let s = app.scene().await;
    s.alice.post(&app, &path(&s.chat, "messages"), json!({"body": "hello"})).await.assert_error(409, "claim_first");
    let note = s.alice.post(&app, &path(&s.chat, "notes"), json!({"body": "looks like a refund"})).await;
    assert_eq!(note.status, 201, "{}", note.body);
    assert_eq!(note.body["visibility"], "internal");
}

async fn only_the_assignee_may_reply(app: TestApp) {
    let s = app.scene().await;
    s.alice.post(&app, &path(&s.chat, "claim"), json!({})).await;
    s.bob.post(&app, &path(&s.chat, "messages"), json!({"body": "me too"})).await.assert_error(409, "not_assignee");
    // not even an admin writes in someone else's chat
    s.owner.post(&app, &path(&s.chat, "messages"), json!({"body": "admin"})).await.assert_error(409, "not_assignee");
    let r = s.alice.post(&app, &path(&s.chat, "messages"), json!({"body": "Hi! I'm <b>Alice</b>."})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["author"]["kind"], "agent");
    assert_eq!(r.body["author"]["display_name"], "Alice Agent");
    assert_eq!(r.body["body"], "Hi! I'm <b>Alice</b>.");
}

async fn internal_notes_never_reach_the_visitor(app: TestApp) {
    let s = app.scene().await;
    s.alice.post(&app, &path(&s.chat, "claim"), json!({})).await;
    s.bob.post(&app, &path(&s.chat, "notes"), json!({"body": "secret: customer is VIP"})).await;
    s.alice.post(&app, &path(&s.chat, "messages"), json!({"body": "public reply"})).await;
    let w = s.visitor.get(&app, "/api/widget/conversation").await;
    let all = w.body.to_string();
    assert!(!all.contains("VIP"), "{all}");
    assert!(all.contains("public reply"));
    let agent_view = s.alice.get(&app, &format!("/api/live-chats/{}", s.chat)).await.body.to_string();
    assert!(agent_view.contains("VIP"));
}

async fn the_assignee_transfers_to_an_available_agent_who_accepts_by_replying(app: TestApp) {
    let s = app.scene().await;
    s.alice.post(&app, &path(&s.chat, "claim"), json!({})).await;
    let r = s.alice.post(&app, &path(&s.chat, "transfer"), json!({"agent_id": s.bob.id})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.body["state"].as_str(), r.body["assignee"]["id"].as_str()), (Some("transferred"), Some(s.bob.id.as_str())));
    assert!(r.body["messages"].as_array().unwrap().iter().any(|m| m["text"] == "Transferred from Alice Agent to Bob Agent"));
    let w = s.visitor.get(&app, "/api/widget/conversation").await;
    assert_eq!((w.body["state"].as_str(), w.body["agent"]["display_name"].as_str()), (Some("transferred"), Some("Bob Agent")));
    // Alice is no longer the one who talks
    s.alice.post(&app, &path(&s.chat, "messages"), json!({"body": "still me"})).await.assert_error(409, "not_assignee");
    let m = s.bob.post(&app, &path(&s.chat, "messages"), json!({"body": "Bob here"})).await;
    assert_eq!(m.status, 201);
    let chat = s.bob.get(&app, &format!("/api/live-chats/{}", s.chat)).await;
    assert_eq!(chat.body["state"], "active");
    let msgs = chat.body["messages"].as_array().unwrap();
    let n = msgs.len();
    assert_eq!((msgs[n - 2]["text"].as_str(), msgs[n - 1]["text"].as_str()), (Some("Bob Agent joined the chat"), Some("Bob here")));
}

async fn the_transfer_target_can_accept_by_claiming(app: TestApp) {
    let s = app.scene().await;
    s.alice.post(&app, &path(&s.chat, "claim"), json!({})).await;
    s.alice.post(&app, &path(&s.chat, "transfer"), json!({"agent_id": s.bob.id})).await;
    let r = s.bob.post(&app, &path(&s.chat, "claim"), json!({})).await;
    assert_eq!((r.status, r.body["state"].as_str()), (200, Some("active")));
}

async fn transfers_only_go_to_available_agents_with_access(app: TestApp) {
    let s = app.scene().await;
    s.alice.post(&app, &path(&s.chat, "claim"), json!({})).await;
    for status in ["busy", "away", "offline"] {
        s.bob.set_status(&app, status).await;
        s.alice.post(&app, &path(&s.chat, "transfer"), json!({"agent_id": s.bob.id})).await.assert_error(409, "agent_not_available");
    }
    // Carol is available but cannot see this bot
    let carol = app.add_agent(&s.owner, "Carol", "chat_agent").await;
    carol.set_status(&app, "available").await;
    let r = s.owner.patch(&app, &format!("/api/teams/{}/members/{}", s.owner.team, carol.id), json!({"bot_access": []})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    s.alice.post(&app, &path(&s.chat, "transfer"), json!({"agent_id": carol.id})).await.assert_error(409, "agent_not_available");
    // a member without chat permission is not an agent
    let mia = app.add_agent(&s.owner, "Mia", "member").await;
    mia.set_status(&app, "available").await;
    s.alice.post(&app, &path(&s.chat, "transfer"), json!({"agent_id": mia.id})).await.assert_error(409, "agent_not_available");
    // an unknown user neither
    s.alice
        .post(&app, &path(&s.chat, "transfer"), json!({"agent_id": "01900000-0000-7000-8000-000000000000"}))
        .await
        .assert_error(409, "agent_not_available");
    let chat = s.alice.get(&app, &format!("/api/live-chats/{}", s.chat)).await;
    assert_eq!((chat.body["state"].as_str(), chat.body["assignee"]["id"].as_str()), (Some("active"), Some(s.alice.id.as_str())), "nothing changed");
}

async fn bystanders_cannot_transfer_but_admins_can(app: TestApp) {
    let s = app.scene().await;
    s.alice.post(&app, &path(&s.chat, "claim"), json!({})).await;
    s.bob.post(&app, &path(&s.chat, "transfer"), json!({"agent_id": s.bob.id})).await.assert_error(409, "not_assignee");
    let r = s.owner.post(&app, &path(&s.chat, "transfer"), json!({"agent_id": s.bob.id})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    s.owner.post(&app, &path(&s.chat, "transfer"), json!({"agent_id": s.bob.id})).await.assert_error(400, "invalid_input");
}

async fn a_pending_chat_cannot_be_transferred(app: TestApp) {
    let s = app.scene().await;
    s.owner.post(&app, &path(&s.chat, "transfer"), json!({"agent_id": s.bob.id})).await.assert_error(409, "claim_first");
}

async fn any_agent_with_access_resolves_a_pending_chat(app: TestApp) {
    let s = app.scene().await;
    let r = s.bob.post(&app, &path(&s.chat, "resolve"), json!({})).await;
    assert_eq!((r.status, r.body["state"].as_str()), (200, Some("resolved")));
    assert!(r.body["resolved_at"].is_string());
}

async fn only_the_assignee_or_an_admin_resolves_an_active_chat(app: TestApp) {
    let s = app.scene().await;
    s.alice.post(&app, &path(&s.chat, "claim"), json!({})).await;
    s.bob.post(&app, &path(&s.chat, "resolve"), json!({})).await.assert_error(409, "not_assignee");
    let r = s.owner.post(&app, &path(&s.chat, "resolve"), json!({})).await;
    assert_eq!((r.status, r.body["state"].as_str()), (200, Some("resolved")));
}

async fn a_resolved_chat_refuses_everything(app: TestApp) {
    let s = app.scene().await;
    s.alice.post(&app, &path(&s.chat, "claim"), json!({})).await;
    s.alice.post(&app, &path(&s.chat, "resolve"), json!({})).await;
    for action in ["claim", "resolve"] {
        s.alice.post(&app, &path(&s.chat, action), json!({})).await.assert_error(409, "chat_resolved");
    }
    s.alice.post(&app, &path(&s.chat, "messages"), json!({"body": "x"})).await.assert_error(409, "chat_resolved");
    s.alice.post(&app, &path(&s.chat, "notes"), json!({"body": "x"})).await.assert_error(409, "chat_resolved");
    s.alice.post(&app, &path(&s.chat, "transfer"), json!({"agent_id": s.bob.id})).await.assert_error(409, "chat_resolved");
    s.visitor.post(&app, "/api/widget/messages", json!({"body": "hello?"})).await.assert_error(409, "chat_resolved");
    s.visitor.post(&app, "/api/widget/end", json!({})).await.assert_error(409, "chat_resolved");
}

async fn the_visitor_can_end_the_chat_and_start_a_new_one(app: TestApp) {
    let s = app.scene().await;
    s.alice.post(&app, &path(&s.chat, "claim"), json!({})).await;
    s.visitor.post(&app, "/api/widget/conversations", json!({})).await.assert_error(409, "conversation_open");
    let r = s.visitor.post(&app, "/api/widget/end", json!({})).await;
    assert_eq!((r.status, r.body["state"].as_str()), (200, Some("resolved")));
    let chat = s.alice.get(&app, &format!("/api/live-chats/{}", s.chat)).await;
    assert!(chat.body["messages"].as_array().unwrap().iter().any(|m| m["text"] == "The visitor ended the chat"));
    let fresh = s.visitor.post(&app, "/api/widget/conversations", json!({})).await;
    assert_eq!(fresh.status, 201, "{}", fresh.body);
    assert_ne!(fresh.body["id"], s.chat.as_str());
    assert_eq!((fresh.body["state"].as_str(), fresh.body["mode"].as_str()), (Some("bot"), Some("bot")));
    // the bot answers again in the new conversation
    let m = s.visitor.post(&app, "/api/widget/messages", json!({"body": "how long does shipping take?"})).await;
    assert_eq!(m.body["bot_reply"]["text"], "Shipping takes 3 days.");
}

async fn once_live_the_bot_never_replies_and_waiting_messages_reach_the_claimer(app: TestApp) {
    let s = app.scene().await;
    let r = s.visitor.post(&app, "/api/widget/messages", json!({"body": "what are your opening hours?"})).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["bot_reply"], serde_json::Value::Null, "{}", r.body);
    let chat = s.alice.post(&app, &path(&s.chat, "claim"), json!({})).await;
    let texts: Vec<&str> = chat.body["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert!(texts.contains(&"what are your opening hours?"));
    assert!(!texts.contains(&"We are open 9 to 5."), "{texts:?}");
}

async fn messages_carry_consecutive_seqs_and_client_ids_deduplicate(app: TestApp) {
    let s = app.scene().await;
    s.alice.post(&app, &path(&s.chat, "claim"), json!({})).await;
    let a = s.alice.post(&app, &path(&s.chat, "messages"), json!({"body": "one", "client_id": "k-1"})).await;
    let b = s.alice.post(&app, &path(&s.chat, "messages"), json!({"body": "one", "client_id": "k-1"})).await;
    assert_eq!((a.status, b.status), (201, 201));
    assert_eq!(a.body["id"], b.body["id"], "a repeated client_id returns the first message");
    let v1 = s.visitor.post(&app, "/api/widget/messages", json!({"body": "thanks", "client_id": "k-1"})).await;
    assert_ne!(v1.body["id"], a.body["id"], "client ids are per author");
    let v2 = s.visitor.post(&app, "/api/widget/messages", json!({"body": "thanks", "client_id": "k-1"})).await;
    assert_eq!(v1.body["id"], v2.body["id"]);
    let chat = s.alice.get(&app, &format!("/api/live-chats/{}", s.chat)).await;
    let seqs: Vec<i64> = chat.body["messages"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "seq increases by one per message");
    assert_eq!(chat.body["messages"].as_array().unwrap().iter().filter(|m| m["text"] == "one").count(), 1);
}

async fn removing_an_assignee_from_the_team_returns_their_chats_to_the_queue(app: TestApp) {
    let s = app.scene().await;
    s.alice.post(&app, &path(&s.chat, "claim"), json!({})).await;
    let r = s.owner.delete(&app, &format!("/api/teams/{}/members/{}", s.owner.team, s.alice.id)).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let chat = s.bob.get(&app, &format!("/api/live-chats/{}", s.chat)).await;
    assert_eq!((chat.body["state"].as_str(), &chat.body["assignee"]), (Some("pending"), &serde_json::Value::Null));
    assert!(chat.body["messages"].as_array().unwrap().iter().any(|m| m["event"] == "requeued"));
    assert_eq!(s.bob.post(&app, &path(&s.chat, "claim"), json!({})).await.status, 200);
    let _ = s.bot;
}

async fn concurrent_messages_are_all_stored_with_consecutive_seqs(app: TestApp) {
    let owner = app.setup().await;
    let bot = app.bot(&owner, json!({"name": "Quiet", "settings": {"human_only": true}})).await;
    let mut visitors = vec![];
    for _ in 0..5 {
        visitors.push(app.pending_chat(&bot).await.0);
    }
    let app = std::sync::Arc::new(app);
    let sends: Vec<_> = (0..60)
        .map(|i| {
            let (app, v) = (app.clone(), visitors[i % 5].clone());
            tokio::spawn(async move { v.post(&app, "/api/widget/messages", json!({"body": format!("burst {i}")})).await.status })
        })
        .collect();
    for s in sends {
        assert_eq!(s.await.unwrap(), 201);
    }
    for v in &visitors {
        let conv = v.get(&app, "/api/widget/conversation").await;
        let msgs = conv.body["messages"].as_array().unwrap();
        let seqs: Vec<i64> = msgs.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "consecutive");
        assert_eq!(msgs.iter().filter(|m| m["text"].as_str().unwrap().starts_with("burst ")).count(), 12, "every write of the burst stored once");
    }
}

backend_tests!(
    concurrent_messages_are_all_stored_with_consecutive_seqs,
    a_visitor_escalation_puts_the_chat_in_the_inbox_as_pending,
    escalation_is_refused_when_the_bot_does_not_allow_it,
    claiming_makes_the_agent_the_assignee_and_tells_the_visitor,
    only_available_or_busy_agents_can_claim,
    a_claimed_chat_cannot_be_claimed_again,
    exactly_one_of_many_concurrent_claims_wins,
    a_pending_chat_refuses_agent_messages_but_takes_notes,
    only_the_assignee_may_reply,
    internal_notes_never_reach_the_visitor,
    the_assignee_transfers_to_an_available_agent_who_accepts_by_replying,
    the_transfer_target_can_accept_by_claiming,
    transfers_only_go_to_available_agents_with_access,
    bystanders_cannot_transfer_but_admins_can,
    a_pending_chat_cannot_be_transferred,
    any_agent_with_access_resolves_a_pending_chat,
    only_the_assignee_or_an_admin_resolves_an_active_chat,
    a_resolved_chat_refuses_everything,
    the_visitor_can_end_the_chat_and_start_a_new_one,
    once_live_the_bot_never_replies_and_waiting_messages_reach_the_claimer,
    messages_carry_consecutive_seqs_and_client_ids_deduplicate,
    removing_an_assignee_from_the_team_returns_their_chats_to_the_queue,
    an_agent_reopens_a_resolved_chat,
);

/// A resolved chat taken up again is the reopener's and active; the visitor hears it and writes
/// on in it. Only the visitor's newest chat can be reopened, and only once it is resolved.
async fn an_agent_reopens_a_resolved_chat(app: TestApp) {
    let owner = app.setup().await;
    owner.set_status(&app, "available").await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    let bot = app.shop_bot(&owner).await;
    let (v, chat) = app.pending_chat(&bot).await;
    owner.post(&app, &format!("/api/live-chats/{chat}/reopen"), json!({})).await.assert_error(409, "not_resolved");
    owner.post(&app, &format!("/api/live-chats/{chat}/claim"), json!({})).await;
    owner.post(&app, &format!("/api/live-chats/{chat}/resolve"), json!({})).await;
    // Alice is away: she cannot take it.
    alice.set_status(&app, "away").await;
    alice.post(&app, &format!("/api/live-chats/{chat}/reopen"), json!({})).await.assert_error(409, "agent_not_available");
    alice.set_status(&app, "available").await;

    let mut visitor = Ws::visitor(&app, &v).await;
    let r = alice.post(&app, &format!("/api/live-chats/{chat}/reopen"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.body["state"].as_str(), r.body["assignee"]["display_name"].as_str()), (Some("active"), Some("Alice Agent")));
    assert_eq!(r.body["resolved_at"], serde_json::Value::Null);
    let line = r.body["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((line["event"].as_str(), line["text"].as_str()), (Some("reopened"), Some("Alice Agent reopened the chat")));
    let f = visitor.next_of("chat.reopened").await;
    assert_eq!((f["data"]["state"].as_str(), f["data"]["agent"]["display_name"].as_str()), (Some("active"), Some("Alice Agent")));
    assert_eq!(v.post(&app, "/api/widget/messages", json!({"body": "Thanks for coming back"})).await.status, 201);
    owner.post(&app, &format!("/api/live-chats/{chat}/reopen"), json!({})).await.assert_error(409, "not_resolved");

    // Resolved again, then the visitor starts a new chat: the old one stays closed.
    alice.post(&app, &format!("/api/live-chats/{chat}/resolve"), json!({})).await;
    assert_eq!(v.post(&app, "/api/widget/conversations", json!({})).await.status, 201);
    alice.post(&app, &format!("/api/live-chats/{chat}/reopen"), json!({})).await.assert_error(409, "newer_conversation");
}
