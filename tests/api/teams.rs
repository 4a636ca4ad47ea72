//! Teams, members, roles, bot access, settings: who sees and does what.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::*;

fn members(team: &str) -> String {
    format!("/api/teams/{team}/members")
}

async fn adding_someone_invites_them_and_never_tells_whether_they_have_an_account(app: TestApp) {
    let owner = app.setup().await;
    // An account made by the invitation joins at its first login.
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    let listed = owner.get(&app, &members(&owner.team)).await.body;
    assert!(listed.as_array().unwrap().iter().any(|m| m["user"]["email"] == "alice@acme.test"), "{listed}");
    // Alice makes her own team and invites the owner, who has an account, and someone who has none.
    let side = alice.post(&app, "/api/teams", json!({"name": "Side project"})).await.body["id"].as_str().unwrap().to_string();
    let existing = alice.post(&app, &members(&side), json!({"email": "owner@acme.test", "role": "admin", "password": "a-new-password-9"})).await;
    let unknown = alice.post(&app, &members(&side), json!({"email": "nobody@elsewhere.test", "role": "admin"})).await;
    assert_eq!((existing.status, unknown.status), (201, 201), "{} {}", existing.body, unknown.body);
    let shape = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(shape(&existing.body), shape(&unknown.body), "the same answer either way");
    for leak in ["user", "status", "last_active_at", "display_name"] {
        assert!(existing.body.get(leak).is_none(), "the invitee's account is not described: {leak}");
    }
    assert_eq!(existing.body["first_name"], "", "only what the inviter typed");
    // The owner's account is untouched: the password given was not applied to it.
    assert_eq!(app.post("/api/auth/login", json!({"email": "owner@acme.test", "password": "owner-password"})).await.status, 200);
    // A pending member sees nothing of the team, and the team lists no such member.
    for path in [members(&side), format!("/api/teams/{side}/bots"), format!("/api/teams/{side}")] {
        owner.get(&app, &path).await.assert_error(404, "not_found");
    }
    assert_eq!(alice.get(&app, &members(&side)).await.body.as_array().unwrap().len(), 1);
    let pending = alice.get(&app, &format!("/api/teams/{side}/invitations")).await.body;
    assert_eq!(pending.as_array().unwrap().len(), 2, "{pending}");
    alice.post(&app, &members(&side), json!({"email": "alice@acme.test", "role": "admin"})).await.assert_error(409, "already_member");
    // The owner sees the invitation and accepts it.
    let mine = owner.get(&app, "/api/invitations").await.body;
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    assert_eq!((mine[0]["team_name"].as_str(), mine[0]["invited_by"].as_str()), (Some("Side project"), Some("Alice Agent")));
    let id = mine[0]["id"].as_str().unwrap();
    let joined = owner.post(&app, &format!("/api/invitations/{id}/accept"), json!({})).await;
    assert_eq!((joined.status, joined.body["role"].as_str()), (200, Some("admin")), "{}", joined.body);
    owner.post(&app, &format!("/api/invitations/{id}/accept"), json!({})).await.assert_error(404, "not_found");
    assert_eq!(owner.get(&app, &members(&side)).await.body.as_array().unwrap().len(), 2);
    let me = owner.get(&app, "/api/me").await;
    assert_eq!(me.body["teams"].as_array().unwrap().len(), 2);
    assert_eq!(me.body["active_team_id"], owner.team.as_str(), "joining a team does not switch the active one");
    alice.post(&app, &members(&side), json!({"email": "owner@acme.test", "role": "admin"})).await.assert_error(409, "already_member");
}

async fn invitations_are_declined_withdrawn_and_never_claimed_by_someone_else(app: TestApp) {
    let owner = app.setup().await;
    let bob = app.add_agent(&owner, "Bob", "chat_agent").await;
    let carol = app.add_agent(&owner, "Carol", "chat_agent").await;
    let side = owner.post(&app, "/api/teams", json!({"name": "Side"})).await.body["id"].as_str().unwrap().to_string();
    // Bob's open inbox hears of the invitation as it is sent.
    let mut bobs_inbox = Ws::agent(&app, &bob).await;
    owner.post(&app, &members(&side), json!({"email": "bob@acme.test", "role": "chat_agent"})).await;
    bobs_inbox.next_of("invitations.changed").await;
    // Bob declines.
    let id = bob.get(&app, "/api/invitations").await.body[0]["id"].as_str().unwrap().to_string();
    // Nobody else can accept or decline Bob's invitation.
    carol.post(&app, &format!("/api/invitations/{id}/accept"), json!({})).await.assert_error(404, "not_found");
    carol.post(&app, &format!("/api/invitations/{id}/decline"), json!({})).await.assert_error(404, "not_found");
    assert_eq!(bob.post(&app, &format!("/api/invitations/{id}/decline"), json!({})).await.status, 204);
    bobs_inbox.next_of("invitations.changed").await;
    assert_eq!(owner.get(&app, &format!("/api/teams/{side}/invitations")).await.body, json!([]));
    bob.get(&app, &members(&side)).await.assert_error(404, "not_found");
    // The owner withdraws one.
    let made = owner.post(&app, &members(&side), json!({"email": "carol@acme.test", "role": "member"})).await.body;
    let path = format!("/api/teams/{side}/invitations/{}", made["id"].as_str().unwrap());
    assert_eq!(owner.delete(&app, &path).await.status, 204);
    owner.delete(&app, &path).await.assert_error(404, "not_found");
    assert_eq!(carol.get(&app, "/api/invitations").await.body, json!([]));
    // An invitation to an email nobody holds cannot be claimed by taking that email later.
    owner.post(&app, &members(&side), json!({"email": "dana@acme.test", "role": "admin"})).await;
    let r = carol.patch(&app, "/api/me", json!({"email": "dana@acme.test", "current_password": "agent-password"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(carol.get(&app, "/api/invitations").await.body, json!([]));
    let pending = owner.get(&app, &format!("/api/teams/{side}/invitations")).await.body;
    let dana = pending[0]["id"].as_str().unwrap();
    carol.post(&app, &format!("/api/invitations/{dana}/accept"), json!({})).await.assert_error(404, "not_found");
    // Only owners and admins see or withdraw a team's invitations.
    let agent_team = owner.team.clone();
    bob.get(&app, &format!("/api/teams/{agent_team}/invitations")).await.assert_error(403, "forbidden");
    carol.get(&app, &format!("/api/teams/{side}/invitations")).await.assert_error(404, "not_found");
    // Invitations end after 14 days.
    let again = owner.post(&app, &members(&side), json!({"email": "bob@acme.test", "role": "chat_agent"})).await.body;
    bobs_inbox.next_of("invitations.changed").await;
    // Withdrawn: Bob's inbox hears of that too.
    assert_eq!(owner.delete(&app, &format!("/api/teams/{side}/invitations/{}", again["id"].as_str().unwrap())).await.status, 204);
    bobs_inbox.next_of("invitations.changed").await;
    owner.post(&app, &members(&side), json!({"email": "bob@acme.test", "role": "chat_agent"})).await;
    app.clock.advance_ms(15 * 24 * 3600 * 1000);
    assert_eq!(bob.get(&app, "/api/invitations").await.body, json!([]));
}

async fn only_owners_and_admins_manage_members(app: TestApp) {
    let owner = app.setup().await;
    let admin = app.add_agent(&owner, "Adam", "admin").await;
    let agent = app.add_agent(&owner, "Alice", "chat_agent").await;
    agent
        .post(&app, &members(&owner.team), json!({"email": "x@acme.test", "role": "member", "password": "password1"}))
        .await
        .assert_error(403, "forbidden");
    admin
        .post(&app, &members(&owner.team), json!({"email": "x@acme.test", "role": "owner", "password": "password1"}))
        .await
        .assert_error(403, "forbidden");
    admin.patch(&app, &format!("{}/{}", members(&owner.team), owner.id), json!({"role": "member"})).await.assert_error(403, "forbidden");
    let r = admin.patch(&app, &format!("{}/{}", members(&owner.team), agent.id), json!({"role": "admin", "capacity": 3})).await;
    assert_eq!((r.body["role"].as_str(), r.body["capacity"].as_i64()), (Some("admin"), Some(3)));
    let r = admin.patch(&app, &format!("{}/{}", members(&owner.team), agent.id), json!({"capacity": null})).await;
    assert_eq!(r.body["capacity"], Value::Null);
    let list = agent.get(&app, &members(&owner.team)).await;
    assert_eq!(list.body.as_array().unwrap().len(), 3, "any member lists members");
}

async fn a_team_keeps_at_least_one_owner(app: TestApp) {
    let owner = app.setup().await;
    owner.patch(&app, &format!("{}/{}", members(&owner.team), owner.id), json!({"role": "admin"})).await.assert_error(409, "last_owner");
    owner.delete(&app, &format!("{}/{}", members(&owner.team), owner.id)).await.assert_error(409, "last_owner");
    let second = app.add_agent(&owner, "Sam", "owner").await;
    assert_eq!(owner.patch(&app, &format!("{}/{}", members(&owner.team), owner.id), json!({"role": "admin"})).await.status, 200);
    second.delete(&app, &format!("{}/{}", members(&owner.team), second.id)).await.assert_error(409, "last_owner");
}

async fn members_can_leave_and_lose_access(app: TestApp) {
    let owner = app.setup().await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    assert_eq!(alice.delete(&app, &format!("{}/{}", members(&owner.team), alice.id)).await.status, 204);
    alice.get(&app, &members(&owner.team)).await.assert_error(404, "not_found");
    alice.get(&app, "/api/live-chats").await.assert_error(403, "forbidden");
}

async fn outsiders_get_404_for_everything_of_a_team(app: TestApp) {
    let owner = app.setup().await;
    let bot = app.shop_bot(&owner).await;
    let (_, chat) = app.pending_chat(&bot).await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    // Alice leaves and starts her own team: Acme's things are invisible to her.
    alice.delete(&app, &format!("{}/{}", members(&owner.team), alice.id)).await;
    let own = alice.post(&app, "/api/teams", json!({"name": "Elsewhere"})).await;
    alice.put(&app, "/api/me/active-team", json!({"team_id": own.body["id"]})).await;
    alice.set_status(&app, "available").await;
    for path in [
        members(&owner.team),
        format!("/api/teams/{}/agents", owner.team),
        format!("/api/teams/{}/bots", owner.team),
        format!("/api/bots/{bot}"),
        format!("/api/live-chats/{chat}"),
    ] {
        alice.get(&app, &path).await.assert_error(404, "not_found");
    }
    alice.post(&app, &format!("/api/live-chats/{chat}/claim"), json!({})).await.assert_error(404, "not_found");
    alice.patch(&app, &format!("/api/teams/{}/settings", owner.team), json!({"auto_away_minutes": 5})).await.assert_error(404, "not_found");
    alice.put(&app, "/api/me/active-team", json!({"team_id": owner.team})).await.assert_error(404, "not_found");
    assert!(alice.get(&app, "/api/live-chats").await.body["items"].as_array().unwrap().is_empty());
}

async fn the_member_role_has_no_inbox(app: TestApp) {
    let owner = app.setup().await;
    let mia = app.add_agent(&owner, "Mia", "member").await;
    let bot = app.shop_bot(&owner).await;
    let (_, chat) = app.pending_chat(&bot).await;
    mia.get(&app, "/api/live-chats").await.assert_error(403, "forbidden");
    mia.post(&app, &format!("/api/live-chats/{chat}/claim"), json!({})).await.assert_error(403, "forbidden");
    let agents = owner.get(&app, &format!("/api/teams/{}/agents", owner.team)).await;
    assert!(agents.body.as_array().unwrap().iter().all(|a| a["user"]["id"] != mia.id.as_str()), "members are not agents");
}

async fn bot_access_limits_what_an_agent_sees_and_does(app: TestApp) {
    let owner = app.setup().await;
    let sales = app.bot(&owner, json!({"name": "Sales"})).await;
    let support = app.bot(&owner, json!({"name": "Support"})).await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    alice.set_status(&app, "available").await;
    let r = owner.patch(&app, &format!("{}/{}", members(&owner.team), alice.id), json!({"bot_access": [sales]})).await;
    assert_eq!(r.body["bot_access"], json!([sales]));
    let (_, sales_chat) = app.pending_chat(&sales).await;
    let (_, support_chat) = app.pending_chat(&support).await;
    let bots = alice.get(&app, &format!("/api/teams/{}/bots", owner.team)).await;
    assert_eq!(bots.body.as_array().unwrap().iter().map(|b| b["name"].as_str().unwrap()).collect::<Vec<_>>(), vec!["Sales"]);
    let list = alice.get(&app, "/api/live-chats").await;
    assert_eq!(list.body["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect::<Vec<_>>(), vec![sales_chat.as_str()]);
    alice.get(&app, &format!("/api/bots/{support}")).await.assert_error(404, "not_found");
    for action in ["claim", "resolve"] {
        alice.post(&app, &format!("/api/live-chats/{support_chat}/{action}"), json!({})).await.assert_error(404, "not_found");
    }
    alice.post(&app, &format!("/api/live-chats/{support_chat}/notes"), json!({"body": "peek"})).await.assert_error(404, "not_found");
    alice.get(&app, &format!("/api/live-chats/{support_chat}")).await.assert_error(404, "not_found");
    // owners and admins always reach every bot
    assert_eq!(owner.get(&app, "/api/live-chats").await.body["items"].as_array().unwrap().len(), 2);
    // access back to all
    owner.patch(&app, &format!("{}/{}", members(&owner.team), alice.id), json!({"bot_access": "all"})).await;
    assert_eq!(alice.get(&app, "/api/live-chats").await.body["items"].as_array().unwrap().len(), 2);
}

async fn bot_access_must_name_bots_of_the_team(app: TestApp) {
    let owner = app.setup().await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    let path = format!("{}/{}", members(&owner.team), alice.id);
    owner.patch(&app, &path, json!({"bot_access": ["01900000-0000-7000-8000-000000000000"]})).await.assert_error(400, "invalid_input");
    owner.patch(&app, &path, json!({"bot_access": "some"})).await.assert_error(400, "invalid_input");
    owner.patch(&app, &path, json!({"bot_access": [42]})).await.assert_error(400, "invalid_input");
    owner.patch(&app, &path, json!({"role": "superuser"})).await.assert_error(400, "invalid_input");
    owner.patch(&app, &path, json!({"capacity": 0})).await.assert_error(400, "invalid_input");
    let m = owner.get(&app, &members(&owner.team)).await;
    let alice_row = m.body.as_array().unwrap().iter().find(|x| x["user"]["id"] == alice.id.as_str()).unwrap().clone();
    assert_eq!((alice_row["bot_access"].as_str(), alice_row["role"].as_str()), (Some("all"), Some("chat_agent")), "nothing changed");
}

async fn the_inbox_follows_the_active_team(app: TestApp) {
    let owner = app.setup().await;
    let bot = app.shop_bot(&owner).await;
    let (_, chat) = app.pending_chat(&bot).await;
    let other = owner.post(&app, "/api/teams", json!({"name": "Other"})).await;
    let other_id = other.body["id"].as_str().unwrap().to_string();
    assert_eq!(owner.get(&app, "/api/live-chats").await.body["items"].as_array().unwrap().len(), 1);
    let r = owner.put(&app, "/api/me/active-team", json!({"team_id": other_id})).await;
    assert_eq!(r.body["active_team_id"], other_id.as_str());
    assert!(owner.get(&app, "/api/live-chats").await.body["items"].as_array().unwrap().is_empty());
    owner.get(&app, &format!("/api/live-chats/{chat}")).await.assert_error(404, "not_found");
    owner.set_status(&app, "available").await;
    owner.post(&app, &format!("/api/live-chats/{chat}/claim"), json!({})).await.assert_error(404, "not_found");
}

async fn team_settings_are_validated_and_admin_only(app: TestApp) {
    let owner = app.setup().await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    let path = format!("/api/teams/{}/settings", owner.team);
    let r = owner.patch(&app, &path, json!({"auto_away_minutes": 5, "heartbeat_timeout_seconds": 90, "visitor_email_delay_seconds": 0})).await;
    assert_eq!(
        r.body,
        json!({"auto_away_minutes": 5, "heartbeat_timeout_seconds": 90, "visitor_email_delay_seconds": 0, "orphan_grace_seconds": 120, "csat": "stars", "pending_alert_seconds": 120,
            "attachment_max_bytes": 10 * 1024 * 1024, "attachment_kinds": ["image", "pdf", "text", "office"], "retention_days": 0})
    );
    owner.patch(&app, &path, json!({"auto_away_minutes": 0})).await.assert_error(400, "invalid_input");
    owner.patch(&app, &path, json!({"heartbeat_timeout_seconds": "60"})).await.assert_error(400, "invalid_input");
    alice.patch(&app, &path, json!({"auto_away_minutes": 30})).await.assert_error(403, "forbidden");
    assert_eq!(alice.get(&app, &path).await.body["auto_away_minutes"], 5, "nothing changed");
}

backend_tests!(
    adding_someone_invites_them_and_never_tells_whether_they_have_an_account,
    invitations_are_declined_withdrawn_and_never_claimed_by_someone_else,
    only_owners_and_admins_manage_members,
    a_team_keeps_at_least_one_owner,
    members_can_leave_and_lose_access,
    outsiders_get_404_for_everything_of_a_team,
    the_member_role_has_no_inbox,
    bot_access_limits_what_an_agent_sees_and_does,
    bot_access_must_name_bots_of_the_team,
    the_inbox_follows_the_active_team,
    team_settings_are_validated_and_admin_only,
);
