//! Search finds messages, notes and visitors in the chats I may see, and nothing else, with
//! highlighted, escaped snippets.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::*;

fn url(q: &str) -> String {
    let u = reqwest::Url::parse_with_params("http://x/api/search", &[("q", q)]).unwrap();
    format!("{}?{}", u.path(), u.query().unwrap_or_default())
}

fn chats(r: &Value, kind: &str) -> Vec<String> {
    r[kind]
        .as_array()
        .unwrap_or_else(|| panic!("no {kind} in {r}"))
        .iter()
        .map(|h| if kind == "messages" { h["conversation"]["id"].as_str() } else { h["id"].as_str() }.unwrap().to_string())
        .collect()
}

async fn search_finds_what_i_may_see_and_nothing_else(app: TestApp) {
    let owner = app.setup().await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    let rita = app.add_agent(&owner, "Rita", "chat_agent").await;
    alice.set_status(&app, "available").await;
    let shop = app.shop_bot(&owner).await;
    let other = app.bot(&owner, json!({"name": "Other", "settings": {"human_escalation": true}})).await;
    owner.patch(&app, &format!("/api/teams/{}/members/{}", owner.team, rita.id), json!({"bot_access": [other]})).await;

    // Vera's chat on the shop bot: her words, Alice's reply and a note.
    let vera = app.post(&format!("/api/widget/bots/{shop}/visitors"), json!({"name": "Vera Jones", "email": "vera@example.com"})).await;
    let vera = Visitor { auth: Auth::Bearer(vera.body["visitor_token"].as_str().unwrap().into()) };
    vera.post(&app, "/api/widget/messages", json!({"body": "My parcel never arrived <script>"})).await;
    let vera_chat = vera.post(&app, "/api/widget/escalate", json!({})).await.body["conversation_id"].as_str().unwrap().to_string();
    assert_eq!(alice.post(&app, &format!("/api/live-chats/{vera_chat}/claim"), json!({})).await.status, 200);
    alice.post(&app, &format!("/api/live-chats/{vera_chat}/messages"), json!({"body": "<p>Your <b>parcel</b> ships tomorrow</p>"})).await;
    alice.post(&app, &format!("/api/live-chats/{vera_chat}/notes"), json!({"body": "Warehouse lost the Parcels twice"})).await;
    // Otto's chat on the other bot.
    let otto = app.post(&format!("/api/widget/bots/{other}/visitors"), json!({"name": "Otto"})).await;
    let otto = Visitor { auth: Auth::Bearer(otto.body["visitor_token"].as_str().unwrap().into()) };
    otto.post(&app, "/api/widget/messages", json!({"body": "parcel for Otto"})).await;
    let otto_chat = otto.post(&app, "/api/widget/escalate", json!({})).await.body["conversation_id"].as_str().unwrap().to_string();
    // A conversation that stayed with the bot is not a chat.
    let quiet = app.visitor(&shop).await;
    quiet.post(&app, "/api/widget/messages", json!({"body": "parcel question for the bot only"})).await;

    // Words, any case, the last one as a prefix; newest first; notes too; system lines never.
    let r = alice.get(&app, &url("PARCEL")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let texts: Vec<&str> = r.body["messages"].as_array().unwrap().iter().map(|m| m["snippet"].as_str().unwrap()).collect();
    assert_eq!(
        texts,
        [
            "<mark>parcel</mark> for Otto",
            "Warehouse lost the <mark>Parcel</mark>s twice",
            "Your <mark>parcel</mark> ships tomorrow",
            "My <mark>parcel</mark> never arrived &lt;script&gt;",
        ],
        "snippets are escaped text with the words marked"
    );
    let note = &r.body["messages"][1];
    assert_eq!((note["visibility"].as_str(), note["author_name"].as_str()), (Some("internal"), Some("Alice Agent")));
    assert_eq!(note["conversation"]["visitor"]["display_name"], "Vera Jones");
    assert_eq!(note["conversation"]["bot"]["name"], "Shop");
    assert!(note["seq"].as_i64().unwrap() > 1);
    assert_eq!(chats(&alice.get(&app, &url("parcel ship")).await.body, "messages"), [vera_chat.clone()], "every word must match");
    assert_eq!(chats(&alice.get(&app, &url("arriv")).await.body, "messages"), [vera_chat.clone()], "a prefix");
    assert!(chats(&alice.get(&app, &url("claimed")).await.body, "messages").is_empty(), "system lines are not searched");
    assert!(chats(&alice.get(&app, &url("question")).await.body, "messages").is_empty(), "bot-only conversations are not chats");

    // Visitors by name or email.
    assert_eq!(chats(&alice.get(&app, &url("jones")).await.body, "conversations"), [vera_chat.clone()]);
    assert_eq!(chats(&alice.get(&app, &url("@example.com")).await.body, "conversations"), [vera_chat.clone()]);
    assert!(chats(&alice.get(&app, &url("100%")).await.body, "conversations").is_empty(), "wildcards are literal");

    // Rita reaches the other bot only.
    assert_eq!(chats(&rita.get(&app, &url("parcel")).await.body, "messages"), [otto_chat.clone()]);
    assert!(chats(&rita.get(&app, &url("vera")).await.body, "conversations").is_empty());

    // Another team's agent finds nothing of this team.
    let mallory = app.add_agent(&owner, "Mallory", "admin").await;
    assert_eq!(mallory.delete(&app, &format!("/api/teams/{}/members/{}", owner.team, mallory.id)).await.status, 204);
    let b_team = mallory.post(&app, "/api/teams", json!({"name": "B"})).await.body["id"].as_str().unwrap().to_string();
    mallory.put(&app, "/api/me/active-team", json!({"team_id": b_team})).await;
    let r = mallory.get(&app, &url("parcel")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(chats(&r.body, "messages").is_empty() && chats(&r.body, "conversations").is_empty());

    // Files' names are found (their message's text), and limits apply per kind.
    let r = alice.get(&app, &format!("{}&limit=1", url("parcel"))).await;
    assert_eq!(r.body["messages"].as_array().unwrap().len(), 1);

    // Bad input: a clear 400, nothing else.
    for bad in [
        url(""),
        url("   "),
        url("?!"),
        url(&"x".repeat(201)),
        url("a b c d e f g h i"),
        format!("{}&limit=0", url("x")),
        format!("{}&limit=51", url("x")),
    ] {
        alice.get(&app, &bad).await.assert_error(400, "invalid_input");
    }
    alice.get(&app, "/api/search").await.assert_error(400, "invalid_input");
    app.get(&url("parcel")).await.assert_error(401, "unauthenticated");
    let member = app.add_agent(&owner, "Max", "member").await;
    member.get(&app, &url("parcel")).await.assert_error(403, "forbidden");
}

async fn deleted_messages_leave_the_index(app: TestApp) {
    let owner = app.setup().await;
    let bot = app.shop_bot(&owner).await;
    let (_vera, chat) = app.pending_chat(&bot).await;
    let r = owner.get(&app, &url("order")).await;
    assert_eq!(chats(&r.body, "messages"), [chat.clone()]);
    // The bot and its conversations go: the index forgets them (and search still works).
    assert_eq!(owner.delete(&app, &format!("/api/bots/{bot}")).await.status, 204);
    let bot = app.shop_bot(&owner).await;
    let (_otto, again) = app.pending_chat(&bot).await;
    assert_eq!(chats(&owner.get(&app, &url("order")).await.body, "messages"), [again]);
}

backend_tests!(search_finds_what_i_may_see_and_nothing_else, deleted_messages_leave_the_index);
