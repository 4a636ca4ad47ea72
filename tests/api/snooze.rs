//! Snooze: an active chat put aside until a time or the visitor's next message, out of the inbox
//! meanwhile, back by the timers (with the controllable clock), by the visitor writing, or by hand.

use serde_json::json;

use crate::backend_tests;
use crate::helpers::*;

fn ids(r: &Res) -> Vec<String> {
    r.body["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect()
}

async fn a_snoozed_chat_waits_out_of_the_inbox_until_its_time_or_the_visitor(app: TestApp) {
    let owner = app.setup().await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    let bob = app.add_agent(&owner, "Bob", "chat_agent").await;
    alice.set_status(&app, "available").await;
    let bot = app.shop_bot(&owner).await;
    let (vera, chat) = app.pending_chat(&bot).await;
    let path = |what: &str| format!("/api/live-chats/{chat}/{what}");
    // Hours pass below with nobody's tab open: agents' chats must not go back to the queue meanwhile.
    owner.patch(&app, &format!("/api/teams/{}/settings", owner.team), json!({"orphan_grace_seconds": 86_400})).await;

    // Only a chat someone holds can be snoozed, by them (or an admin).
    alice.post(&app, &path("snooze"), json!({})).await.assert_error(409, "claim_first");
    assert_eq!(alice.post(&app, &path("claim"), json!({})).await.status, 200);
    bob.post(&app, &path("snooze"), json!({})).await.assert_error(409, "not_assignee");
    for bad in [
        json!({"until": "tomorrow"}),
        json!({"until": "2025-01-01T00:00:00Z"}),
        json!({"until": "2026-03-01T00:00:00Z"}),
        json!({"until": 5}),
        json!({"x": 1}),
    ] {
        alice.post(&app, &path("snooze"), bad).await.assert_error(400, "invalid_input");
    }
    alice.post(&app, &path("unsnooze"), json!({})).await.assert_error(409, "not_snoozed");

    // An hour from now (the test clock starts at 2026-01-01T00:00Z).
    let mut ws = Ws::agent(&app, &alice).await;
    let r = alice.post(&app, &path("snooze"), json!({"until": "2026-01-01T01:00:00Z"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.body["snoozed"].as_bool(), r.body["snoozed_until"].as_str()), (Some(true), Some("2026-01-01T01:00:00.000Z")));
    let f = ws.next_of("chat.snoozed").await;
    assert_eq!((f["data"]["conversation_id"].as_str(), f["data"]["snoozed"].as_bool()), (Some(chat.as_str()), Some(true)));
    assert!(ids(&alice.get(&app, "/api/live-chats?view=inbox").await).is_empty(), "out of the inbox");
    assert!(ids(&alice.get(&app, "/api/live-chats?view=mine").await).is_empty());
    assert_eq!(ids(&alice.get(&app, "/api/live-chats?view=snoozed").await), [chat.clone()]);
    assert!(ids(&bob.get(&app, "/api/live-chats?view=snoozed").await).is_empty(), "the snoozed view is my own");
    // A teammate's note does not wake it.
    assert_eq!(bob.post(&app, &path("notes"), json!({"body": "FYI"})).await.status, 201);
    assert_eq!(alice.get(&app, &path("").trim_end_matches('/')).await.body["snoozed"], true);

    // The timers bring it back when its time comes, not before.
    app.clock.advance_ms(59 * 60 * 1000);
    app.sweep().await;
    assert_eq!(ids(&alice.get(&app, "/api/live-chats?view=snoozed").await), [chat.clone()]);
    app.clock.advance_ms(2 * 60 * 1000);
    app.sweep().await;
    let f = ws.next_of("chat.snoozed").await;
    assert_eq!(f["data"]["snoozed"], false);
    assert_eq!(ids(&alice.get(&app, "/api/live-chats?view=mine").await), [chat.clone()]);
    app.sweep().await;
    assert!(ids(&alice.get(&app, "/api/live-chats?view=snoozed").await).is_empty());

    // Until the visitor writes: no time, and their message brings it back.
    let r = alice.post(&app, &path("snooze"), json!({"until": null})).await;
    assert_eq!((r.body["snoozed"].as_bool(), r.body["snoozed_until"].is_null()), (Some(true), true));
    ws.next_of("chat.snoozed").await;
    app.clock.advance_ms(20 * 3600 * 1000);
    app.sweep().await;
    assert_eq!(ids(&alice.get(&app, "/api/live-chats?view=snoozed").await), [chat.clone()], "no time: only the visitor wakes it");
    assert_eq!(vera.post(&app, "/api/widget/messages", json!({"body": "Any news?"})).await.status, 201);
    let f = ws.next_of("chat.snoozed").await;
    assert_eq!(f["data"]["snoozed"], false);
    assert_eq!(ids(&alice.get(&app, "/api/live-chats?view=mine").await), [chat.clone()]);

    // By hand; and an admin may too.
    alice.post(&app, &path("snooze"), json!({})).await;
    let r = owner.post(&app, &path("unsnooze"), json!({})).await;
    assert_eq!((r.status, r.body["snoozed"].as_bool()), (200, Some(false)), "{}", r.body);
    // Resolving a snoozed chat ends the snooze with it.
    alice.post(&app, &path("snooze"), json!({})).await;
    let r = alice.post(&app, &path("resolve"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(ids(&alice.get(&app, "/api/live-chats?view=snoozed").await).is_empty());
    alice.post(&app, &path("snooze"), json!({})).await.assert_error(409, "chat_resolved");
}

/// An agent who snoozes a chat until tomorrow and closes the app keeps it: a snoozed chat is not
/// an offline agent's chat to hand back to the queue.
async fn a_snoozed_chat_stays_with_its_agent_while_they_are_away(app: TestApp) {
    let owner = app.setup().await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    alice.set_status(&app, "available").await;
    let bot = app.shop_bot(&owner).await;
    let (_vera, chat) = app.pending_chat(&bot).await;
    assert_eq!(alice.post(&app, &format!("/api/live-chats/{chat}/claim"), json!({})).await.status, 200);
    assert_eq!(alice.post(&app, &format!("/api/live-chats/{chat}/snooze"), json!({"until": "2026-01-01T09:00:00Z"})).await.status, 200);
    // Far past the heartbeat and the team's requeue grace (120 s by default).
    app.clock.advance_ms(3 * 3600 * 1000);
    app.sweep().await; // her heartbeat has run out: offline
    app.clock.advance_ms(10 * 60 * 1000);
    app.sweep().await; // and the grace since then too
    let c = alice.get(&app, &format!("/api/live-chats/{chat}")).await;
    assert_eq!(
        (c.body["state"].as_str(), c.body["assignee"]["id"].as_str(), c.body["snoozed"].as_bool()),
        (Some("active"), Some(alice.id.as_str()), Some(true))
    );
}

backend_tests!(a_snoozed_chat_waits_out_of_the_inbox_until_its_time_or_the_visitor, a_snoozed_chat_stays_with_its_agent_while_they_are_away);
