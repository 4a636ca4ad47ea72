//! A stored value that does not decode fails closed: the request answers 500 without detail and
//! nothing is served from a default (an unreadable origin list never means "allow every site").

use serde_json::json;

use crate::backend_tests;
use crate::helpers::*;

fn assert_internal_without_detail(r: &Res) {
    r.assert_error(500, "internal");
    let message = r.body["error"]["message"].as_str().unwrap_or_default();
    assert!(!message.contains("decode") && !message.contains("origin") && !message.contains("state"), "no detail leaks: {message}");
}

async fn an_undecodable_origin_list_refuses_the_widget_instead_of_allowing_every_site(app: TestApp) {
    let owner = app.setup().await;
    let bot = app.bot(&owner, json!({"name": "Shop", "settings": {"allowed_origins": ["https://shop.example.com"]}})).await;
    let from = |origin: &str| app.http.get(format!("{}/api/widget/bots/{bot}/config", app.base)).header("origin", origin.to_string());
    assert_eq!(app.raw(from("https://shop.example.com")).await.status, 200);
    app.execute_sql(&format!("UPDATE bots SET allowed_origins = 'shop.example.com' WHERE id = '{bot}'")).await;
    for origin in ["https://evil.example", "https://shop.example.com"] {
        assert_internal_without_detail(&app.raw(from(origin)).await);
    }
    // The owner's own view of the bot fails the same way rather than showing an empty list.
    assert_internal_without_detail(&owner.get(&app, &format!("/api/bots/{bot}")).await);
}

async fn unknown_stored_kinds_are_errors_not_defaults(app: TestApp) {
    let owner = app.setup().await;
    owner.set_status(&app, "available").await;
    let bot = app.shop_bot(&owner).await;
    let (visitor, chat) = app.pending_chat(&bot).await;
    let team = owner.get(&app, "/api/me").await.body["active_team_id"].as_str().unwrap().to_string();

    // A system line whose kind this version does not know (say, written by a newer one).
    app.execute_sql(&format!("UPDATE messages SET event = 'exploded' WHERE conversation_id = '{chat}' AND event = 'escalated'")).await;
    assert_internal_without_detail(&owner.get(&app, &format!("/api/live-chats/{chat}")).await);
    assert_internal_without_detail(&visitor.get(&app, "/api/widget/conversation").await);
    app.execute_sql(&format!("UPDATE messages SET event = 'escalated' WHERE conversation_id = '{chat}' AND event = 'exploded'")).await;

    // A status it does not know is not "offline": the agent list and a claim refuse to guess.
    app.execute_sql("UPDATE users SET status = 'dancing'").await;
    assert_internal_without_detail(&owner.get(&app, &format!("/api/teams/{team}/agents")).await);
    assert_internal_without_detail(&owner.post(&app, &format!("/api/live-chats/{chat}/claim"), json!({})).await);
    app.execute_sql("UPDATE users SET status = 'available'").await;

    // Nothing was written meanwhile: the chat is still waiting, and the claim now goes through.
    let r = owner.get(&app, &format!("/api/live-chats/{chat}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["state"], "pending");
    let r = owner.post(&app, &format!("/api/live-chats/{chat}/claim"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

backend_tests!(an_undecodable_origin_list_refuses_the_widget_instead_of_allowing_every_site, unknown_stored_kinds_are_errors_not_defaults);
