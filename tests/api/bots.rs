//! Bot management.

use serde_json::json;

use crate::backend_tests;
use crate::helpers::*;

async fn bots_are_created_read_patched_and_deleted(app: TestApp) {
    let owner = app.setup().await;
    let body = json!({
        "name": "Helper",
        "greeting": "Hi!",
        "settings": {"human_escalation": false, "human_only": true, "show_agent_availability": true, "auto_escalate_unanswered": true, "allowed_origins": ["https://Shop.example.com/"]},
        "knowledge": [{"question": "Q1?", "answer": "A1."}]
    });
    let r = owner.post(&app, &format!("/api/teams/{}/bots", owner.team), body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["settings"]["allowed_origins"], json!(["https://shop.example.com"]));
    assert_eq!(r.body["settings"]["human_only"], true);
    assert_eq!(r.body["responder"]["kind"], "knowledge");
    let p = owner
        .patch(
            &app,
            &format!("/api/bots/{id}"),
            json!({"settings": {"human_only": false}, "knowledge": [{"question": "Q2?", "answer": "A2."}, {"question": "Q3?", "answer": "A3."}]}),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(p.body["settings"]["human_only"], false);
    assert_eq!(p.body["settings"]["auto_escalate_unanswered"], true, "unmentioned settings are kept");
    assert_eq!(p.body["name"], "Helper");
    assert_eq!(p.body["knowledge"].as_array().unwrap().len(), 2, "knowledge is replaced as a whole");
    let g = owner.get(&app, &format!("/api/bots/{id}")).await;
    assert_eq!(g.body, p.body);
    assert_eq!(owner.get(&app, &format!("/api/teams/{}/bots", owner.team)).await.body.as_array().unwrap().len(), 1);
    assert_eq!(owner.delete(&app, &format!("/api/bots/{id}")).await.status, 204);
    owner.get(&app, &format!("/api/bots/{id}")).await.assert_error(404, "not_found");
    app.get(&format!("/api/widget/bots/{id}/config")).await.assert_error(404, "not_found");
}

async fn bot_input_is_validated_and_changes_nothing_when_bad(app: TestApp) {
    let owner = app.setup().await;
    let path = format!("/api/teams/{}/bots", owner.team);
    for bad in [
        json!({"greeting": "no name"}),
        json!({"name": ""}),
        json!({"name": "x", "settings": {"allowed_origins": ["shop.example.com"]}}),
        json!({"name": "x", "settings": {"allowed_origins": ["https://x.com/path"]}}),
        json!({"name": "x", "settings": {"human_only": "yes"}}),
        json!({"name": "x", "knowledge": [{"question": "", "answer": "a"}]}),
        json!({"name": "x", "knowledge": [{"question": "q"}]}),
        json!({"name": "x", "responder": {"kind": "webhook", "url": "ftp://x"}}),
        json!({"name": "x", "responder": {"kind": "oracle"}}),
        json!({"name": "x", "colour": "red"}),
    ] {
        owner.post(&app, &path, bad.clone()).await.assert_error(400, "invalid_input");
    }
    assert!(owner.get(&app, &path).await.body.as_array().unwrap().is_empty());
}

async fn only_admins_change_bots_and_webhook_secrets_stay_secret(app: TestApp) {
    let owner = app.setup().await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    let id = app.bot(&owner, json!({"name": "Hooked", "responder": {"kind": "webhook", "url": "http://127.0.0.1:9/bot", "secret": "s3cret"}})).await;
    let r = alice.get(&app, &format!("/api/bots/{id}")).await;
    assert_eq!(r.body["responder"], json!({"kind": "webhook", "url": "http://127.0.0.1:9/bot", "has_secret": true}));
    assert!(!r.body.to_string().contains("s3cret"));
    alice.patch(&app, &format!("/api/bots/{id}"), json!({"name": "Mine"})).await.assert_error(403, "forbidden");
    alice.delete(&app, &format!("/api/bots/{id}")).await.assert_error(403, "forbidden");
    alice.post(&app, &format!("/api/teams/{}/bots", owner.team), json!({"name": "New"})).await.assert_error(403, "forbidden");
    // a PATCH that does not resend the secret keeps it
    let p = owner.patch(&app, &format!("/api/bots/{id}"), json!({"responder": {"kind": "webhook", "url": "http://127.0.0.1:9/v2"}})).await;
    assert_eq!(p.body["responder"]["has_secret"], true);
}

backend_tests!(
    bots_are_created_read_patched_and_deleted,
    bot_input_is_validated_and_changes_nothing_when_bad,
    only_admins_change_bots_and_webhook_secrets_stay_secret
);
