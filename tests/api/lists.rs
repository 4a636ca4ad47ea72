//! The inbox lists: views, bot filter, keyset pagination, unread counts.

use std::collections::HashSet;

use serde_json::json;

use crate::backend_tests;
use crate::helpers::*;

async fn views_split_the_inbox_mine_and_resolved(app: TestApp) {
    let owner = app.setup().await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    alice.set_status(&app, "available").await;
    let bot = app.shop_bot(&owner).await;
    let (_, mine) = app.pending_chat(&bot).await;
    app.clock.advance_ms(1000);
    let (_, waiting) = app.pending_chat(&bot).await;
    app.clock.advance_ms(1000);
    let (_, done) = app.pending_chat(&bot).await;
    // a bot-only conversation is not a live chat
    let quiet = app.visitor(&bot).await;
    quiet.post(&app, "/api/widget/messages", json!({"body": "opening hours?"})).await;
    alice.post(&app, &format!("/api/live-chats/{mine}/claim"), json!({})).await;
    alice.post(&app, &format!("/api/live-chats/{done}/resolve"), json!({})).await;
    let ids = |v: &serde_json::Value| v["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(ids(&alice.get(&app, "/api/live-chats?view=inbox").await.body), vec![mine.clone(), waiting.clone()], "newest activity first");
    assert_eq!(ids(&alice.get(&app, "/api/live-chats").await.body).len(), 2, "inbox is the default view");
    assert_eq!(ids(&alice.get(&app, "/api/live-chats?view=mine").await.body), vec![mine.clone()]);
    assert_eq!(ids(&alice.get(&app, "/api/live-chats?view=resolved").await.body), vec![done.clone()]);
    assert!(ids(&owner.get(&app, "/api/live-chats?view=mine").await.body).is_empty());
    alice.get(&app, "/api/live-chats?view=everything").await.assert_error(400, "invalid_input");
}

async fn summaries_carry_every_field_of_the_contract(app: TestApp) {
    let owner = app.setup().await;
    owner.set_status(&app, "available").await;
    let bot = app.shop_bot(&owner).await;
    let (v, chat) = app.pending_chat(&bot).await;
    // The bot answered the visitor's question; the list shows the question.
    let s = owner.get(&app, "/api/live-chats").await.body["items"][0].clone();
    assert_eq!(
        (s["last_message"]["preview"].as_str(), s["last_message"]["author_kind"].as_str()),
        (Some("I need help with my order"), Some("visitor")),
        "the bot's answers are not previews"
    );
    v.post(&app, "/api/widget/messages", json!({"body": "Is anyone\n  there?"})).await;
    owner.post(&app, &format!("/api/live-chats/{chat}/claim"), json!({})).await;
    let s = owner.get(&app, "/api/live-chats").await.body["items"][0].clone();
    for key in ["id", "state", "bot", "visitor", "assignee", "last_message", "escalated_at", "unread_count"] {
        assert!(s.get(key).is_some(), "missing {key}: {s}");
    }
    assert_eq!(s["bot"], json!({"id": bot, "name": "Shop"}));
    assert_eq!((s["visitor"]["name"].as_str(), s["visitor"]["email"].as_str()), (Some("Vera"), Some("vera@example.com")));
    assert_eq!(s["assignee"]["display_name"], "Olivia Owner");
    assert_eq!(
        (s["last_message"]["preview"].as_str(), s["last_message"]["author_kind"].as_str()),
        (Some("Is anyone there?"), Some("visitor")),
        "system lines are not previews"
    );
    assert_eq!(s["escalated_at"], "2026-01-01T00:00:00.000Z");
}

async fn the_bot_filter_keeps_one_source(app: TestApp) {
    let owner = app.setup().await;
    let a = app.bot(&owner, json!({"name": "A"})).await;
    let b = app.bot(&owner, json!({"name": "B"})).await;
    app.pending_chat(&a).await;
    app.pending_chat(&b).await;
    app.pending_chat(&b).await;
    let r = owner.get(&app, &format!("/api/live-chats?bot_id={b}")).await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
    assert!(r.body["items"].as_array().unwrap().iter().all(|c| c["bot"]["name"] == "B"));
    owner.get(&app, "/api/live-chats?bot_id=nope").await.assert_error(400, "invalid_input");
}

async fn pages_walk_every_chat_once(app: TestApp) {
    let owner = app.setup().await;
    let bot = app.shop_bot(&owner).await;
    let mut expected = HashSet::new();
    for i in 0..7 {
        // two chats share each timestamp so the id breaks ties
        if i % 2 == 0 {
            app.clock.advance_ms(10);
        }
        expected.insert(app.pending_chat(&bot).await.1);
    }
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = owner.get(&app, &format!("/api/live-chats?limit=3&cursor={cursor}")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let items = r.body["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(|c| c["id"].as_str().unwrap().to_string()));
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7, "no chat twice: {seen:?}");
    assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), expected);
    owner.get(&app, "/api/live-chats?cursor=garbage").await.assert_error(400, "invalid_input");
    owner.get(&app, "/api/live-chats?limit=0").await.assert_error(400, "invalid_input");
    owner.get(&app, "/api/live-chats?limit=1000").await.assert_error(400, "invalid_input");
}

async fn unread_counts_follow_read_markers(app: TestApp) {
    let owner = app.setup().await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    alice.set_status(&app, "available").await;
    let bot = app.shop_bot(&owner).await;
    let (v, chat) = app.pending_chat(&bot).await;
    let unread = |a: &Agent| {
        let (app, a) = (&app, a.clone());
        async move { a.get(app, "/api/live-chats").await.body["items"][0]["unread_count"].as_i64().unwrap() }
    };
    assert_eq!(unread(&alice).await, 1, "the visitor's message; bot and system lines do not count");
    alice.post(&app, &format!("/api/live-chats/{chat}/claim"), json!({})).await;
    v.post(&app, "/api/widget/messages", json!({"body": "still there?"})).await;
    alice.post(&app, &format!("/api/live-chats/{chat}/messages"), json!({"body": "yes"})).await;
    assert_eq!(unread(&alice).await, 2, "my own messages are never unread");
    assert_eq!(unread(&owner).await, 3, "another agent's message is");
    let last = alice.get(&app, &format!("/api/live-chats/{chat}")).await.body["last_seq"].as_i64().unwrap();
    assert_eq!(alice.post(&app, &format!("/api/live-chats/{chat}/read"), json!({"up_to_seq": last})).await.status, 204);
    assert_eq!(unread(&alice).await, 0);
    // markers never move back
    alice.post(&app, &format!("/api/live-chats/{chat}/read"), json!({"up_to_seq": 1})).await;
    assert_eq!(unread(&alice).await, 0);
    alice.post(&app, &format!("/api/live-chats/{chat}/read"), json!({"up_to_seq": last + 1})).await.assert_error(400, "invalid_input");
    alice.post(&app, &format!("/api/live-chats/{chat}/read"), json!({"up_to_seq": -1})).await.assert_error(400, "invalid_input");
    assert_eq!(unread(&owner).await, 3, "markers are per agent");
}

backend_tests!(
    views_split_the_inbox_mine_and_resolved,
    summaries_carry_every_field_of_the_contract,
    the_bot_filter_keeps_one_source,
    pages_walk_every_chat_once,
    unread_counts_follow_read_markers
);
