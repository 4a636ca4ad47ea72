//! The visitor beside the chat: the widget reports where the visitor is and what they use, the
//! host page sets attributes, agents with access read them with the visitor's earlier chats and
//! see them change live.

use serde_json::json;

use crate::backend_tests;
use crate::helpers::*;

const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

async fn put(app: &TestApp, v: &Visitor, path: &str, body: serde_json::Value) -> Res {
    let Auth::Bearer(token) = &v.auth else { unreachable!() };
    app.raw(app.http.put(format!("{}{path}", app.base)).bearer_auth(token).header("user-agent", CHROME).json(&body)).await
}

async fn agents_see_where_the_visitor_is_what_the_site_says_and_their_earlier_chats(app: TestApp) {
    let owner = app.setup().await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    let rita = app.add_agent(&owner, "Rita", "chat_agent").await;
    alice.set_status(&app, "available").await;
    let bot = app.shop_bot(&owner).await;
    let other = app.bot(&owner, json!({"name": "Other"})).await;
    owner.patch(&app, &format!("/api/teams/{}/members/{}", owner.team, rita.id), json!({"bot_access": [other]})).await;
    let (vera, chat) = app.pending_chat(&bot).await;
    assert_eq!(alice.post(&app, &format!("/api/live-chats/{chat}/claim"), json!({})).await.status, 200);
    let mut ws = Ws::agent(&app, &alice).await;

    // Someone still with the bot moves around: no frame for the team.
    let quiet = app.visitor(&bot).await;
    assert_eq!(put(&app, &quiet, "/api/widget/context", json!({"page_url": "https://shop.test/quiet"})).await.status, 204);

    // Vera opens a page: the team hears where she is and what she uses.
    let r = put(
        &app,
        &vera,
        "/api/widget/context",
        json!({"page_url": "https://shop.test/boots?size=42", "page_title": "Boots — Northwind", "referrer": "https://www.google.com/",
               "time_zone": "Europe/Berlin", "language": "de-DE"}),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let f = ws.next_of("visitor.updated").await;
    assert_eq!(f["data"]["conversation_id"], chat.as_str(), "the first frame is Vera's: nothing came for the visitor still with the bot");
    let c = &f["data"]["context"];
    assert_eq!((c["page_url"].as_str(), c["page_title"].as_str()), (Some("https://shop.test/boots?size=42"), Some("Boots — Northwind")));
    assert_eq!((c["browser"].as_str(), c["os"].as_str()), (Some("Chrome 131"), Some("Windows")), "read from the User-Agent");
    assert_eq!(
        (c["time_zone"].as_str(), c["language"].as_str(), c["referrer"].as_str()),
        (Some("Europe/Berlin"), Some("de-DE"), Some("https://www.google.com/"))
    );

    // The site tells what it knows.
    let r = put(&app, &vera, "/api/widget/attributes", json!({"attributes": {"plan": "pro", "seats": 3, "trial": false}})).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let f = ws.next_of("visitor.updated").await;
    assert_eq!(f["data"]["attributes"], json!({"plan": "pro", "seats": "3", "trial": "false"}));
    assert_eq!(f["data"]["context"]["page_url"], "https://shop.test/boots?size=42", "the context stays");

    // Bad reports are refused and change nothing.
    for (path, body) in [
        ("/api/widget/context", json!({"page_url": "javascript:alert(1)"})),
        ("/api/widget/context", json!({"time_zone": "Mars/Olympus"})),
        ("/api/widget/context", json!({"language": "<b>"})),
        ("/api/widget/context", json!({"page_url": "https://x.test", "surprise": 1})),
        ("/api/widget/attributes", json!({"attributes": {"Bad Key": "x"}})),
        ("/api/widget/attributes", json!({"attributes": {"nested": {"a": 1}}})),
        ("/api/widget/attributes", json!({"attributes": {"long": "x".repeat(501)}})),
        ("/api/widget/attributes", json!({"plan": "pro"})),
    ] {
        put(&app, &vera, path, body.clone()).await.assert_error(400, "invalid_input");
    }
    let unauth = app.raw(app.http.put(format!("{}/api/widget/context", app.base)).json(&json!({}))).await;
    unauth.assert_error(401, "unauthenticated");

    // The agent reads it all, with this chat in the list.
    let d = alice.get(&app, &format!("/api/live-chats/{chat}/visitor")).await;
    assert_eq!(d.status, 200, "{}", d.body);
    assert_eq!(d.body["context"]["page_title"], "Boots — Northwind");
    assert_eq!(d.body["attributes"]["plan"], "pro");
    assert_eq!(d.body["visitor"]["display_name"], "Vera");
    assert_eq!(d.body["chats"].as_array().unwrap().len(), 1);
    assert_eq!(d.body["chats"][0]["id"], chat.as_str());
    // Not for those who may not see the chat.
    rita.get(&app, &format!("/api/live-chats/{chat}/visitor")).await.assert_error(404, "not_found");
    app.get(&format!("/api/live-chats/{chat}/visitor")).await.assert_error(401, "unauthenticated");

    // A later chat lists the earlier one with its rating, newest first.
    alice.post(&app, &format!("/api/live-chats/{chat}/messages"), json!({"body": "Sent today!"})).await;
    alice.post(&app, &format!("/api/live-chats/{chat}/resolve"), json!({})).await;
    assert_eq!(vera.post(&app, "/api/widget/rating", json!({"score": 5, "comment": "Great"})).await.status, 201);
    assert_eq!(vera.post(&app, "/api/widget/conversations", json!({})).await.status, 201);
    vera.post(&app, "/api/widget/messages", json!({"body": "Me again"})).await;
    let second = vera.post(&app, "/api/widget/escalate", json!({})).await.body["conversation_id"].as_str().unwrap().to_string();
    let d = alice.get(&app, &format!("/api/live-chats/{second}/visitor")).await;
    let chats = d.body["chats"].as_array().unwrap();
    assert_eq!(chats.iter().map(|c| c["id"].as_str().unwrap()).collect::<Vec<_>>(), [second.as_str(), chat.as_str()]);
    assert_eq!((chats[1]["state"].as_str(), chats[1]["rating"]["score"].as_i64()), (Some("resolved"), Some(5)));
    assert_eq!(chats[1]["assignee"], "Alice Agent");
    assert_eq!(chats[1]["preview"], "Sent today!");
    assert_eq!(d.body["context"]["page_url"], "https://shop.test/boots?size=42", "the visitor's, whichever chat");
}

backend_tests!(agents_see_where_the_visitor_is_what_the_site_says_and_their_earlier_chats);
