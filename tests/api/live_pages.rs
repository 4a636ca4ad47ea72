//! Pages that show what another tab or another admin can change follow it live: `team.changed`
//! for bots, shortcuts and members, `profile.changed` for the user's own name and picture.

use serde_json::json;

use crate::backend_tests;

/// The next `team.changed` a page hears about something other than the audit log (whose own
/// frame follows each recorded change, and may trail one from before the socket opened).
async fn change(ws: &mut Ws) -> String {
    loop {
        let f = ws.next_of("team.changed").await;
        let what = f["data"]["what"].as_str().unwrap_or_default().to_string();
        if what != "audit" {
            return what;
        }
    }
}
use crate::helpers::*;

async fn changes_to_bots_shortcuts_members_and_profiles_reach_open_pages(app: TestApp) {
    let owner = app.setup().await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    let mut owner_ws = Ws::agent(&app, &owner).await;
    let mut alice_ws = Ws::agent(&app, &alice).await;

    // A new bot: every member's pages hear of it (the inbox's bot filter).
    let bot = app.bot(&owner, json!({"name": "Shop"})).await;
    assert_eq!(change(&mut alice_ws).await, "bots");
    assert_eq!(change(&mut owner_ws).await, "bots");
    owner.patch(&app, &format!("/api/bots/{bot}"), json!({"name": "Shop 2"})).await;
    assert_eq!(change(&mut alice_ws).await, "bots");
    assert_eq!(change(&mut owner_ws).await, "bots");

    // A team shortcut reaches the team; a personal one only its owner.
    let r = owner.post(&app, "/api/shortcuts", json!({"name": "hi", "body": "Hello!", "scope": "team"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(change(&mut alice_ws).await, "shortcuts");
    assert_eq!(change(&mut owner_ws).await, "shortcuts");
    let mine = alice.post(&app, "/api/shortcuts", json!({"name": "bye", "body": "Bye!"})).await;
    assert_eq!(change(&mut alice_ws).await, "shortcuts");
    let id = mine.body["id"].as_str().unwrap();
    alice.patch(&app, &format!("/api/shortcuts/{id}"), json!({"body": "Goodbye!"})).await;
    assert_eq!(change(&mut alice_ws).await, "shortcuts");

    // Alice renames herself: her own tabs redraw the header, the team's member lists follow.
    alice.patch(&app, "/api/me", json!({"first_name": "Alicia"})).await;
    alice_ws.next_of("profile.changed").await;
    // What the owner heard since: the member change, and nothing of Alice's own shortcuts.
    let heard = owner_ws.until(|f| f["type"] == "team.changed" && f["data"]["what"] == "members").await;
    assert!(!heard.iter().any(|f| f["data"]["what"] == "shortcuts"), "another member's personal shortcut is not announced to me: {heard:?}");
    // A role change reaches the member list too.
    owner.patch(&app, &format!("/api/teams/{}/members/{}", owner.team, alice.id), json!({"role": "admin"})).await;
    assert_eq!(change(&mut owner_ws).await, "members");
    // Team settings: the settings page of every admin follows.
    owner.patch(&app, &format!("/api/teams/{}/settings", owner.team), json!({"auto_away_minutes": 7})).await;
    assert_eq!(change(&mut owner_ws).await, "settings");
}

async fn the_widget_hears_when_its_agent_changes_name_or_picture(app: TestApp) {
    let owner = app.setup().await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    alice.set_status(&app, "available").await;
    let bot = app.shop_bot(&owner).await;
    let (vera, chat) = app.pending_chat(&bot).await;
    let (otto, other) = app.pending_chat(&bot).await;
    assert_eq!(alice.post(&app, &format!("/api/live-chats/{chat}/claim"), json!({})).await.status, 200);
    let mut vera_ws = Ws::visitor(&app, &vera).await;
    let mut otto_ws = Ws::visitor(&app, &otto).await;
    alice.patch(&app, "/api/me", json!({"first_name": "Alicia"})).await;
    let f = vera_ws.next_of("agent.updated").await;
    assert_eq!((f["data"]["conversation_id"].as_str(), f["data"]["agent"]["display_name"].as_str()), (Some(chat.as_str()), Some("Alicia Agent")));
    // Otto's chat is not Alicia's: his widget hears nothing of her (the next frame he gets is
    // his own chat being claimed).
    owner.set_status(&app, "available").await;
    owner.post(&app, &format!("/api/live-chats/{other}/claim"), json!({})).await;
    let heard = otto_ws.until(|f| f["type"] == "chat.claimed").await;
    assert!(!heard.iter().any(|f| f["type"] == "agent.updated"), "{heard:?}");
}

backend_tests!(changes_to_bots_shortcuts_members_and_profiles_reach_open_pages, the_widget_hears_when_its_agent_changes_name_or_picture);
