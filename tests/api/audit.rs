//! The audit log: who did what to whom, recorded after each change, filtered by owners and
//! admins, and never changed once written.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::*;

async fn log(app: &TestApp, who: &Agent, query: &str) -> Vec<Value> {
    let r = who.get(app, &format!("/api/teams/{}/audit{query}", who.team)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["items"].as_array().unwrap().clone()
}

fn actions(items: &[Value]) -> Vec<&str> {
    items.iter().map(|e| e["action"].as_str().unwrap()).collect()
}

async fn each_change_an_admin_answers_for_is_in_the_log_with_who_and_what(app: TestApp) {
    let app = TestApp::spawn_with(app.backend, |s| {
        s.trusted_proxies = baton::services::clients::TrustedProxies::new(vec!["127.0.0.1".parse().unwrap()]);
    })
    .await;
    let owner = app.setup().await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    let team = owner.team.clone();

    // Inviting Alice, her joining on first sign-in, and that sign-in from an address new to her.
    let items = log(&app, &owner, "").await;
    let invited = items.iter().find(|e| e["action"] == "member.invited").expect("the invitation");
    assert_eq!(invited["actor"]["id"], owner.id.as_str());
    assert_eq!(invited["actor"]["display_name"], "Olivia Owner");
    assert_eq!((invited["target"]["kind"].as_str(), invited["target"]["label"].as_str()), (Some("invitation"), Some("alice@acme.test")));
    assert_eq!(invited["detail"], json!({"email": "alice@acme.test", "role": "chat_agent"}));
    assert_eq!(invited["address"], "127.0.0.1");
    let joined = items.iter().find(|e| e["action"] == "member.joined").expect("joining");
    assert_eq!((joined["actor"]["id"].as_str(), joined["target"]["id"].as_str()), (Some(alice.id.as_str()), Some(alice.id.as_str())));
    let alice_logins: Vec<&Value> = items.iter().filter(|e| e["action"] == "login.new_address" && e["actor"]["id"] == alice.id.as_str()).collect();
    assert_eq!(alice_logins.len(), 1, "{items:#?}");
    // Her token for the tests was made, by her.
    assert!(items.iter().any(|e| e["action"] == "token.created" && e["actor"]["id"] == alice.id.as_str() && e["target"]["label"] == "tests"));

    // A second sign-in from the same address is not news; one from elsewhere is.
    let login = |from: &str| {
        app.http
            .post(format!("{}/api/auth/login", app.base))
            .header("x-forwarded-for", from)
            .json(&json!({"email": "alice@acme.test", "password": "agent-password"}))
    };
    assert_eq!(app.raw(login("127.0.0.1")).await.status, 200);
    assert_eq!(app.raw(login("198.51.100.23")).await.status, 200);
    let logins = log(&app, &owner, &format!("?action=login.new_address&actor={}", alice.id)).await;
    assert_eq!(logins.len(), 2, "{logins:#?}");
    assert_eq!(logins[0]["detail"]["address"], "198.51.100.23", "newest first");
    assert_eq!(logins[0]["address"], "198.51.100.23");

    // Role, bot access and capacity, each its own entry with before and after.
    let bot = app.shop_bot(&owner).await;
    let r = owner.patch(&app, &format!("/api/teams/{team}/members/{}", alice.id), json!({"role": "admin"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = owner
        .patch(&app, &format!("/api/teams/{team}/members/{}", alice.id), json!({"role": "chat_agent", "bot_access": [bot], "capacity": 3}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let about_alice = log(&app, &owner, &format!("?target={}", alice.id)).await;
    assert_eq!(
        actions(&about_alice)[..4],
        ["member.capacity_changed", "member.bot_access_changed", "member.role_changed", "member.role_changed"],
        "{about_alice:#?}"
    );
    assert_eq!(about_alice[0]["detail"], json!({"from": null, "to": 3}));
    assert_eq!(about_alice[1]["detail"], json!({"from": "all", "to": [bot]}));
    assert_eq!(about_alice[2]["detail"], json!({"from": "admin", "to": "chat_agent"}));
    assert_eq!(about_alice[3]["detail"], json!({"from": "chat_agent", "to": "admin"}));
    // Saving the same values again records nothing.
    owner.patch(&app, &format!("/api/teams/{team}/members/{}", alice.id), json!({"capacity": 3})).await;
    assert_eq!(log(&app, &owner, &format!("?target={}", alice.id)).await.len(), about_alice.len());

    // Bots: made, changed (the names of what changed, never values), deleted.
    let r = owner
        .patch(
            &app,
            &format!("/api/bots/{bot}"),
            json!({"greeting": "Hi there", "settings": {"human_only": true, "allowed_origins": ["https://shop.test"]}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = owner
        .patch(
            &app,
            &format!("/api/bots/{bot}"),
            json!({"responder": {"kind": "webhook", "url": "https://bot.example.com/hook", "secret": "s3cret-value-1"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = owner
        .patch(
            &app,
            &format!("/api/bots/{bot}"),
            json!({"responder": {"kind": "webhook", "url": "https://bot.example.com/hook", "secret": "s3cret-value-2"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(owner.delete(&app, &format!("/api/bots/{bot}")).await.status, 204);
    let about_bot = log(&app, &owner, &format!("?target={bot}")).await;
    assert_eq!(actions(&about_bot), ["bot.deleted", "bot.updated", "bot.updated", "bot.updated", "bot.created"]);
    assert_eq!(about_bot[3]["detail"]["fields"], json!(["greeting", "settings.allowed_origins", "settings.human_only"]));
    assert_eq!(about_bot[1]["detail"]["fields"], json!(["responder.secret"]), "a new secret is named, never shown");
    assert!(!about_bot.iter().any(|e| e.to_string().contains("s3cret")), "no secret in the log");
    assert_eq!(about_bot[0]["target"]["label"], "Shop", "the name it had");

    // Team settings.
    assert_eq!(owner.patch(&app, &format!("/api/teams/{team}/settings"), json!({"auto_away_minutes": 15, "csat": "thumbs"})).await.status, 200);
    let s = log(&app, &owner, "?action=team.settings_changed").await;
    assert_eq!(s[0]["detail"]["fields"], json!(["auto_away_minutes", "csat"]));
    assert_eq!(s[0]["target"], json!({"kind": "team", "id": team, "label": "Acme"}));

    // Tokens: Alice revokes one of hers.
    let t = alice.post(&app, "/api/tokens", json!({"name": "laptop"})).await;
    let token_id = t.body["id"].as_str().unwrap().to_string();
    assert_eq!(alice.delete(&app, &format!("/api/tokens/{token_id}")).await.status, 204);
    let about_token = log(&app, &owner, &format!("?target={token_id}")).await;
    assert_eq!(actions(&about_token), ["token.revoked", "token.created"]);
    assert_eq!(about_token[0]["target"]["label"], "laptop");

    // Removal, and the chats it handed back counted.
    assert_eq!(owner.delete(&app, &format!("/api/teams/{team}/members/{}", alice.id)).await.status, 204);
    let removed = log(&app, &owner, "?action=member.removed").await;
    assert_eq!((removed[0]["target"]["label"].as_str(), removed[0]["detail"]["chats_requeued"].as_i64()), (Some("Alice Agent"), Some(0)));

    // Withdrawing an invitation.
    let inv = owner.post(&app, &format!("/api/teams/{team}/members"), json!({"email": "bob@acme.test", "role": "chat_agent"})).await;
    let inv_id = inv.body["id"].as_str().unwrap().to_string();
    assert_eq!(owner.delete(&app, &format!("/api/teams/{team}/invitations/{inv_id}")).await.status, 204);
    let w = log(&app, &owner, "?action=invitation.withdrawn").await;
    assert_eq!((w[0]["target"]["id"].as_str(), w[0]["target"]["label"].as_str()), (Some(inv_id.as_str()), Some("bob@acme.test")));
}

async fn the_log_pages_filters_and_is_for_owners_and_admins_only(app: TestApp) {
    let owner = app.setup().await;
    let team = owner.team.clone();
    let admin = app.add_agent(&owner, "Adam", "admin").await;
    let agent = app.add_agent(&owner, "Alice", "chat_agent").await;
    for i in 0..7 {
        app.bot(&owner, json!({"name": format!("Bot {i}")})).await;
        app.clock.advance_ms(1000);
    }
    let mid = baton::clock::Clock::now_ms(&app.clock);
    app.clock.advance_ms(60_000);
    app.bot(&admin, json!({"name": "Late"})).await;

    // Pages of three, newest first, every entry once.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = admin.get(&app, &format!("/api/teams/{team}/audit?action=bot.created&limit=3&cursor={cursor}")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        seen.extend(r.body["items"].as_array().unwrap().iter().map(|e| e["target"]["label"].as_str().unwrap().to_string()));
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    assert_eq!(seen, ["Late", "Bot 6", "Bot 5", "Bot 4", "Bot 3", "Bot 2", "Bot 1", "Bot 0"]);

    // By actor and time.
    let by_admin = log(&app, &owner, &format!("?action=bot.created&actor={}", admin.id)).await;
    assert_eq!(actions(&by_admin), ["bot.created"]);
    let until = baton::views::time(mid);
    let early = log(&app, &owner, &format!("?action=bot.created&until={until}")).await;
    assert_eq!(early.len(), 7);
    let late = log(&app, &owner, &format!("?action=bot.created&since={until}")).await;
    assert_eq!(late.len(), 1);

    // Agents and plain members may not read it; another team's owner sees nothing of it.
    agent.get(&app, &format!("/api/teams/{team}/audit")).await.assert_error(403, "forbidden");
    let other = owner.post(&app, "/api/teams", json!({"name": "Other"})).await;
    let other_team = other.body["id"].as_str().unwrap();
    admin.get(&app, &format!("/api/teams/{other_team}/audit")).await.assert_error(404, "not_found");
    app.get(&format!("/api/teams/{team}/audit")).await.assert_error(401, "unauthenticated");

    // Bad filters are refused, with the field named.
    for (q, field) in [
        ("?action=bot.exploded", "action"),
        ("?actor=nobody", "actor"),
        ("?since=yesterday", "since"),
        ("?until=2026-01-01", "until"),
        ("?limit=0", "limit"),
        ("?limit=201", "limit"),
        ("?cursor=bm9wZQ", "cursor"),
        ("?surprise=1", "surprise"),
    ] {
        let r = owner.get(&app, &format!("/api/teams/{team}/audit{q}")).await;
        r.assert_error(400, "invalid_input");
        assert!(r.body["error"]["message"].as_str().unwrap().contains(field), "{q}: {}", r.body);
    }
}

async fn the_log_cannot_be_changed_or_emptied_even_in_the_database(app: TestApp) {
    let owner = app.setup().await;
    app.bot(&owner, json!({"name": "Shop"})).await;
    let before = log(&app, &owner, "").await;
    assert!(!before.is_empty());
    let refused = app.try_sql("UPDATE audit_log SET actor_label = 'Nobody'").await;
    assert!(refused.as_ref().is_err_and(|e| e.contains("append-only")), "{refused:?}");
    let refused = app.try_sql("DELETE FROM audit_log").await;
    assert!(refused.as_ref().is_err_and(|e| e.contains("append-only")), "{refused:?}");
    assert_eq!(log(&app, &owner, "").await, before, "nothing changed");
}

backend_tests!(
    each_change_an_admin_answers_for_is_in_the_log_with_who_and_what,
    the_log_pages_filters_and_is_for_owners_and_admins_only,
    the_log_cannot_be_changed_or_emptied_even_in_the_database
);
