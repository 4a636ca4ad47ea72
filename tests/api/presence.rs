//! Presence timers with the controlled clock: heartbeat expiry, auto-away, stickiness,
//! capacity, orphaned chats. Time moves only when the test says so.

use serde_json::json;

use crate::backend_tests;
use crate::helpers::*;

fn s(status: &str, source: &str, reason: Option<&str>) -> (String, String, Option<String>) {
    (status.into(), source.into(), reason.map(Into::into))
}

async fn team_with_alice(app: &TestApp) -> (Agent, Agent) {
    let owner = app.setup().await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    (owner, alice)
}

async fn a_new_agent_starts_offline(app: TestApp) {
    let (owner, alice) = team_with_alice(&app).await;
    assert_eq!(app.status_of(&owner, &alice).await, s("offline", "manual", None));
}

async fn without_heartbeats_an_agent_goes_offline_and_the_team_is_told(app: TestApp) {
    let (owner, alice) = team_with_alice(&app).await;
    let mut watcher = Ws::agent(&app, &owner).await;
    alice.set_status(&app, "available").await;
    assert_eq!(watcher.next_of("agent.status").await["data"]["status"], "available");
    app.clock.advance_ms(59_999);
    app.sweep().await;
    assert_eq!(app.status_of(&owner, &alice).await.0, "available");
    app.clock.advance_ms(1);
    app.sweep().await;
    let f = loop {
        let f = watcher.next_of("agent.status").await;
        if f["data"]["agent_id"] == alice.id.as_str() {
            break f;
        }
    };
    assert_eq!(
        (f["data"]["status"].as_str(), f["data"]["source"].as_str(), f["data"]["reason"].as_str()),
        (Some("offline"), Some("auto"), Some("heartbeat_expired"))
    );
    assert!(f["data"]["last_active_at"].is_string());
}

async fn heartbeats_from_an_open_inbox_keep_an_agent_present(app: TestApp) {
    let (owner, alice) = team_with_alice(&app).await;
    alice.set_status(&app, "available").await;
    let mut ws = Ws::agent(&app, &alice).await;
    for _ in 0..9 {
        app.clock.advance_ms(20_000);
        ws.send(json!({"type": "heartbeat"})).await;
        ws.flush().await;
        app.sweep().await;
    }
    assert_eq!(app.status_of(&owner, &alice).await, s("available", "manual", None), "three minutes of heartbeats");
    // closing the inbox stops them
    ws.close().await;
    app.clock.advance_ms(60_000);
    app.sweep().await;
    assert_eq!(app.status_of(&owner, &alice).await, s("offline", "auto", Some("heartbeat_expired")));
}

async fn reopening_the_inbox_undoes_a_heartbeat_expiry(app: TestApp) {
    let (owner, alice) = team_with_alice(&app).await;
    alice.set_status(&app, "busy").await;
    app.clock.advance_ms(60_000);
    app.sweep().await;
    assert_eq!(app.status_of(&owner, &alice).await.0, "offline");
    let mut ws = Ws::agent(&app, &alice).await;
    ws.flush().await;
    assert_eq!(app.status_of(&owner, &alice).await, s("busy", "manual", None), "back to what the agent had chosen");
}

async fn an_idle_agent_goes_away_and_activity_brings_them_back(app: TestApp) {
    let (owner, alice) = team_with_alice(&app).await;
    owner.patch(&app, &format!("/api/teams/{}/settings", owner.team), json!({"auto_away_minutes": 2, "heartbeat_timeout_seconds": 3600})).await;
    alice.set_status(&app, "available").await;
    let mut ws = Ws::agent(&app, &alice).await;
    app.clock.advance_ms(60_000);
    ws.send(json!({"type": "heartbeat"})).await;
    ws.flush().await;
    app.clock.advance_ms(60_000);
    app.sweep().await;
    assert_eq!(app.status_of(&owner, &alice).await, s("away", "auto", Some("idle")), "heartbeats are not activity");
    let pushed = ws.next_of("agent.status").await;
    assert_eq!(pushed["data"]["reason"], "idle");
    ws.send(json!({"type": "activity"})).await;
    ws.flush().await;
    assert_eq!(app.status_of(&owner, &alice).await, s("available", "manual", None));
}

async fn manual_away_and_manual_offline_are_sticky(app: TestApp) {
    let (owner, alice) = team_with_alice(&app).await;
    owner.patch(&app, &format!("/api/teams/{}/settings", owner.team), json!({"auto_away_minutes": 1, "heartbeat_timeout_seconds": 3600})).await;
    let mut ws = Ws::agent(&app, &alice).await;
    alice.set_status(&app, "away").await;
    app.clock.advance_ms(120_000);
    ws.send(json!({"type": "activity"})).await;
    ws.flush().await;
    app.sweep().await;
    assert_eq!(app.status_of(&owner, &alice).await, s("away", "manual", None), "activity does not undo a manual away");
    alice.set_status(&app, "offline").await;
    ws.send(json!({"type": "heartbeat"})).await;
    ws.send(json!({"type": "activity"})).await;
    ws.flush().await;
    app.clock.advance_ms(7_200_000);
    app.sweep().await;
    assert_eq!(app.status_of(&owner, &alice).await, s("offline", "manual", None), "nothing automatic touches a manual offline");
}

async fn a_heartbeat_expiry_outranks_auto_away(app: TestApp) {
    let (owner, alice) = team_with_alice(&app).await;
    owner.patch(&app, &format!("/api/teams/{}/settings", owner.team), json!({"auto_away_minutes": 1, "heartbeat_timeout_seconds": 60})).await;
    alice.set_status(&app, "available").await;
    app.clock.advance_ms(60_000);
    app.sweep().await;
    assert_eq!(app.status_of(&owner, &alice).await, s("offline", "auto", Some("heartbeat_expired")));
}

async fn an_agent_at_capacity_becomes_busy_and_is_available_again_below_it(app: TestApp) {
    let (owner, alice) = team_with_alice(&app).await;
    owner.patch(&app, &format!("/api/teams/{}/members/{}", owner.team, alice.id), json!({"capacity": 1})).await;
    let bot = app.shop_bot(&owner).await;
    let (_, first) = app.pending_chat(&bot).await;
    let (_, second) = app.pending_chat(&bot).await;
    alice.set_status(&app, "available").await;
    let mut watcher = Ws::agent(&app, &owner).await;
    alice.post(&app, &format!("/api/live-chats/{first}/claim"), json!({})).await;
    assert_eq!(app.status_of(&owner, &alice).await, s("busy", "auto", Some("capacity")));
    let f = watcher.next_of("agent.status").await;
    assert_eq!((f["data"]["status"].as_str(), f["data"]["reason"].as_str()), (Some("busy"), Some("capacity")));
    // busy agents may still pick up a chat on purpose, but receive no transfers
    owner.set_status(&app, "available").await;
    owner.post(&app, &format!("/api/live-chats/{second}/claim"), json!({})).await;
    owner.post(&app, &format!("/api/live-chats/{second}/transfer"), json!({"agent_id": alice.id})).await.assert_error(409, "agent_not_available");
    alice.post(&app, &format!("/api/live-chats/{first}/resolve"), json!({})).await;
    assert_eq!(app.status_of(&owner, &alice).await, s("available", "manual", None));
}

async fn chats_of_an_agent_who_stays_offline_go_back_to_the_queue(app: TestApp) {
    let (owner, alice) = team_with_alice(&app).await;
    let bot = app.shop_bot(&owner).await;
    let (visitor, chat) = app.pending_chat(&bot).await;
    alice.set_status(&app, "available").await;
    alice.post(&app, &format!("/api/live-chats/{chat}/claim"), json!({})).await;
    let mut widget = Ws::visitor(&app, &visitor).await;
    let mut team = Ws::agent(&app, &owner).await;
    app.clock.advance_ms(60_000);
    app.sweep().await; // alice's heartbeat expires
    app.clock.advance_ms(119_000);
    app.sweep().await; // still within the grace period
    assert_eq!(owner.get(&app, &format!("/api/live-chats/{chat}")).await.body["state"], "active");
    app.clock.advance_ms(1_000);
    app.sweep().await;
    let detail = owner.get(&app, &format!("/api/live-chats/{chat}")).await;
    assert_eq!((detail.body["state"].as_str(), &detail.body["assignee"]), (Some("pending"), &serde_json::Value::Null));
    assert!(detail.body["messages"].as_array().unwrap().iter().any(|m| m["text"] == "Alice Agent went offline; the chat is back in the queue"));
    let w = widget.next_of("chat.requeued").await;
    assert_eq!((w["data"]["state"].as_str(), &w["data"]["agent"]), (Some("pending"), &serde_json::Value::Null));
    assert_eq!(team.next_of("chat.requeued").await["data"]["previous_assignee_id"], alice.id.as_str());
}

async fn an_agent_back_within_the_grace_period_keeps_their_chats(app: TestApp) {
    let (owner, alice) = team_with_alice(&app).await;
    let bot = app.shop_bot(&owner).await;
    let (_, chat) = app.pending_chat(&bot).await;
    alice.set_status(&app, "available").await;
    alice.post(&app, &format!("/api/live-chats/{chat}/claim"), json!({})).await;
    app.clock.advance_ms(60_000);
    app.sweep().await;
    app.clock.advance_ms(60_000);
    let mut ws = Ws::agent(&app, &alice).await;
    ws.flush().await;
    app.clock.advance_ms(600_000);
    ws.send(json!({"type": "heartbeat"})).await;
    ws.flush().await;
    app.sweep().await;
    assert_eq!(owner.get(&app, &format!("/api/live-chats/{chat}")).await.body["state"], "active");
}

backend_tests!(
    a_new_agent_starts_offline,
    without_heartbeats_an_agent_goes_offline_and_the_team_is_told,
    heartbeats_from_an_open_inbox_keep_an_agent_present,
    reopening_the_inbox_undoes_a_heartbeat_expiry,
    an_idle_agent_goes_away_and_activity_brings_them_back,
    manual_away_and_manual_offline_are_sticky,
    a_heartbeat_expiry_outranks_auto_away,
    an_agent_at_capacity_becomes_busy_and_is_available_again_below_it,
    chats_of_an_agent_who_stays_offline_go_back_to_the_queue,
    an_agent_back_within_the_grace_period_keeps_their_chats,
);
