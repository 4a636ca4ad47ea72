//! Pages that show what another tab or another admin can change follow it live: `team.changed`
//! for bots, shortcuts and members, `profile.changed` for the user's own name and picture.

use serde_json::json;

use crate::backend_tests;
use crate::helpers::*;

async fn changes_to_bots_shortcuts_members_and_profiles_reach_open_pages(app: TestApp) {
    let owner = app.setup().await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    let mut owner_ws = Ws::agent(&app, &owner).await;
    let mut alice_ws = Ws::agent(&app, &alice).await;
    let what = |f: serde_json::Value| f["data"]["what"].as_str().unwrap_or_default().to_string();

    // A new bot: every member's pages hear of it (the inbox's bot filter).
    let bot = app.bot(&owner, json!({"name": "Shop"})).await;
    assert_eq!(what(alice_ws.next_of("team.changed").await), "bots");
    assert_eq!(what(owner_ws.next_of("team.changed").await), "bots");
    owner.patch(&app, &format!("/api/bots/{bot}"), json!({"name": "Shop 2"})).await;
    assert_eq!(what(alice_ws.next_of("team.changed").await), "bots");
    assert_eq!(what(owner_ws.next_of("team.changed").await), "bots");

    // A team shortcut reaches the team; a personal one only its owner.
    let r = owner.post(&app, "/api/shortcuts", json!({"name": "hi", "body": "Hello!", "scope": "team"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(what(alice_ws.next_of("team.changed").await), "shortcuts");
    assert_eq!(what(owner_ws.next_of("team.changed").await), "shortcuts");
    let mine = alice.post(&app, "/api/shortcuts", json!({"name": "bye", "body": "Bye!"})).await;
    assert_eq!(what(alice_ws.next_of("team.changed").await), "shortcuts");
    let id = mine.body["id"].as_str().unwrap();
    alice.patch(&app, &format!("/api/shortcuts/{id}"), json!({"body": "Goodbye!"})).await;
    assert_eq!(what(alice_ws.next_of("team.changed").await), "shortcuts");

    // Alice renames herself: her own tabs redraw the header, the team's member lists follow.
    alice.patch(&app, "/api/me", json!({"first_name": "Alicia"})).await;
    alice_ws.next_of("profile.changed").await;
    // What the owner heard since: the member change, and nothing of Alice's own shortcuts.
    let heard = owner_ws.until(|f| f["type"] == "team.changed" && f["data"]["what"] == "members").await;
    assert!(!heard.iter().any(|f| f["data"]["what"] == "shortcuts"), "another member's personal shortcut is not announced to me: {heard:?}");
    // A role change reaches the member list too.
    owner.patch(&app, &format!("/api/teams/{}/members/{}", owner.team, alice.id), json!({"role": "admin"})).await;
    assert_eq!(what(owner_ws.next_of("team.changed").await), "members");
}

backend_tests!(changes_to_bots_shortcuts_members_and_profiles_reach_open_pages);
