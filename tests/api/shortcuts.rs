//! Canned replies: personal and team-wide, searchable.

use serde_json::json;

use crate::backend_tests;
use crate::helpers::*;

async fn personal_and_team_shortcuts_are_searchable_and_scoped(app: TestApp) {
    let owner = app.setup().await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    let bob = app.add_agent(&owner, "Bob", "chat_agent").await;
    let t = owner.post(&app, "/api/shortcuts", json!({"name": "refund", "body": "Refunds take <b>5 days</b>.", "scope": "team"})).await;
    assert_eq!((t.status, t.body["scope"].as_str()), (201, Some("team")), "{}", t.body);
    let p = alice.post(&app, "/api/shortcuts", json!({"name": "hello", "body": "Hi, I'm Alice!"})).await;
    assert_eq!(p.body["scope"], "personal");
    let names = |r: &Res| r.body.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(names(&alice.get(&app, "/api/shortcuts").await), vec!["hello", "refund"]);
    assert_eq!(names(&bob.get(&app, "/api/shortcuts").await), vec!["refund"], "personal shortcuts are private");
    assert_eq!(names(&alice.get(&app, "/api/shortcuts?q=REF").await), vec!["refund"]);
    assert_eq!(names(&alice.get(&app, "/api/shortcuts?q=5%20days").await), vec!["refund"], "bodies are searched too");
    assert!(names(&alice.get(&app, "/api/shortcuts?q=%25").await).is_empty(), "wildcards are literal");
    let id = p.body["id"].as_str().unwrap();
    bob.get(&app, &format!("/api/shortcuts/{id}")).await.assert_error(404, "not_found");
    bob.delete(&app, &format!("/api/shortcuts/{id}")).await.assert_error(404, "not_found");
}

async fn team_shortcuts_are_managed_by_admins(app: TestApp) {
    let owner = app.setup().await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    alice.post(&app, "/api/shortcuts", json!({"name": "x", "body": "y", "scope": "team"})).await.assert_error(403, "forbidden");
    let t = owner.post(&app, "/api/shortcuts", json!({"name": "bye", "body": "Goodbye!", "scope": "team"})).await;
    let id = t.body["id"].as_str().unwrap();
    alice.patch(&app, &format!("/api/shortcuts/{id}"), json!({"body": "mine now"})).await.assert_error(403, "forbidden");
    let r = owner.patch(&app, &format!("/api/shortcuts/{id}"), json!({"body": "See you!"})).await;
    assert_eq!(r.body["body"], "See you!");
    assert_eq!(owner.delete(&app, &format!("/api/shortcuts/{id}")).await.status, 204);
    assert!(alice.get(&app, "/api/shortcuts").await.body.as_array().unwrap().is_empty());
}

async fn shortcut_names_are_unique_per_scope_and_bodies_sanitised(app: TestApp) {
    let owner = app.setup().await;
    owner.post(&app, "/api/shortcuts", json!({"name": "Hi", "body": "<script>x</script><i>hey</i>"})).await;
    owner.post(&app, "/api/shortcuts", json!({"name": "hi", "body": "again"})).await.assert_error(409, "shortcut_exists");
    let team = owner.post(&app, "/api/shortcuts", json!({"name": "hi", "body": "team one", "scope": "team"})).await;
    assert_eq!(team.status, 201, "the same name may exist once per scope");
    let list = owner.get(&app, "/api/shortcuts?q=hey").await;
    assert_eq!(list.body[0]["body"], "&lt;script&gt;x&lt;/script&gt;<i>hey</i>");
    owner.post(&app, "/api/shortcuts", json!({"name": "", "body": "x"})).await.assert_error(400, "invalid_input");
    owner.post(&app, "/api/shortcuts", json!({"name": "x", "body": "x", "scope": "global"})).await.assert_error(400, "invalid_input");
}

backend_tests!(
    personal_and_team_shortcuts_are_searchable_and_scoped,
    team_shortcuts_are_managed_by_admins,
    shortcut_names_are_unique_per_scope_and_bodies_sanitised
);
