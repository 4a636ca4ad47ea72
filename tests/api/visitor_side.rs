//! The visitor's side beyond messages: business hours and reach, messages left while nobody can
//! answer, the queue and its expected wait, visitor wording data, ratings, transcripts, the
//! pre-chat form, the widget's look, logo and words.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::*;
use crate::notifications::{count, smtp_server, smtp_to};

const H: i64 = 3_600_000;

/// Mon–Fri 09:00–17:00 in Berlin (UTC+1 in January). T0 is Thursday 1 January, 01:00 there.
fn office_hours(closed: &[&str]) -> Value {
    let day = json!([["09:00", "17:00"]]);
    json!({"time_zone": "Europe/Berlin", "days": {"mon": day, "tue": day, "wed": day, "thu": day, "fri": day}, "closed_dates": closed})
}

async fn config(app: &TestApp, bot: &str) -> Value {
    let c = app.get(&format!("/api/widget/bots/{bot}/config")).await;
    assert_eq!(c.status, 200, "{}", c.body);
    c.body
}

async fn business_hours_and_agents_decide_what_the_widget_offers(app: TestApp) {
    let owner = app.setup().await;
    let bot = app.bot(&owner, json!({"name": "Desk", "widget": {"hours": office_hours(&[]), "when_unavailable": "hide"}})).await;
    // 01:00 in Berlin: closed until 09:00 (08:00 UTC).
    let c = config(&app, &bot).await;
    assert_eq!((c["reach"].as_str(), c["when_unavailable"].as_str()), (Some("closed"), Some("hide")));
    assert_eq!(c["next_change_at"], "2026-01-01T08:00:00.000Z");
    let v = app.visitor(&bot).await;
    v.post(&app, "/api/widget/escalate", json!({})).await.assert_error(409, "team_unavailable");

    // 10:00: open, but nobody is available.
    app.clock.advance_ms(9 * H);
    let c = config(&app, &bot).await;
    assert_eq!(c["reach"], "away");
    assert_eq!(c["next_change_at"], "2026-01-01T16:00:00.000Z");
    v.post(&app, "/api/widget/escalate", json!({})).await.assert_error(409, "team_unavailable");
    // An agent becomes available: the widget hears it live, and the button works again.
    let mut ws = Ws::visitor(&app, &v).await;
    owner.set_status(&app, "available").await;
    let frame = ws.next_of("availability").await;
    assert_eq!(frame["data"]["reach"], "open");
    assert!(frame["data"].get("online").is_none(), "who is online is not told unless the bot shows it");
    assert_eq!(config(&app, &bot).await["reach"], "open");
    assert_eq!(v.post(&app, "/api/widget/escalate", json!({})).await.status, 200);

    // A closed date closes the day, whoever is online.
    let r = owner.patch(&app, &format!("/api/bots/{bot}"), json!({"widget": {"hours": office_hours(&["2026-01-01"])}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Open widgets hear it at once.
    assert_eq!(ws.next_of("availability").await["data"]["reach"], "closed");
    assert_eq!(r.body["widget"]["when_unavailable"], "hide", "parts not sent stay");
    let c = config(&app, &bot).await;
    assert_eq!(c["reach"], "closed");
    // Friday 2 January, 09:00 Berlin.
    assert_eq!(c["next_change_at"], "2026-01-02T08:00:00.000Z");
    // No schedule: always within hours.
    let r = owner.patch(&app, &format!("/api/bots/{bot}"), json!({"widget": {"hours": null}})).await;
    assert_eq!(r.body["widget"]["hours"], Value::Null);
    assert_eq!(config(&app, &bot).await["reach"], "open");
}

async fn bad_widget_settings_are_refused_and_change_nothing(app: TestApp) {
    let owner = app.setup().await;
    let bot = app.bot(&owner, json!({"name": "Desk", "widget": {"appearance": {"accent_color": "#0F766E", "position": "left"}}})).await;
    let path = format!("/api/bots/{bot}");
    let before = owner.get(&app, &path).await.body;
    assert_eq!(before["widget"]["appearance"]["accent_color"], "#0f766e");
    let cases = [
        (json!({"hours": {"time_zone": "Mars/Olympus"}}), "widget.hours.time_zone"),
        (json!({"hours": {"time_zone": "UTC", "days": {"someday": [["09:00", "10:00"]]}}}), "widget.hours.days"),
        (json!({"hours": {"time_zone": "UTC", "days": {"mon": [["17:00", "09:00"]]}}}), "widget.hours.days.mon"),
        (json!({"hours": {"time_zone": "UTC", "closed_dates": ["2026-13-01"]}}), "widget.hours.closed_dates"),
        (json!({"appearance": {"accent_color": "blue"}}), "widget.appearance.accent_color"),
        (json!({"appearance": {"launcher_text": "x".repeat(41)}}), "widget.appearance.launcher_text"),
        (
            json!({"pre_chat": {"enabled": true, "fields": [{"key": "topic", "label": "Topic", "type": "choice"}]}}),
            "widget.pre_chat.fields[0].options",
        ),
        (json!({"pre_chat": {"fields": [{"key": "bad key", "label": "Topic", "type": "text"}]}}), "widget.pre_chat.fields[0].key"),
        (json!({"texts": {"de": {"no_such_word": "x"}}}), "widget.texts.de"),
        (json!({"texts": {"it": {}}}), "widget.texts"),
    ];
    for (widget, field) in cases {
        let r = owner.patch(&app, &path, json!({"widget": widget})).await;
        r.assert_error(400, "invalid_input");
        assert!(r.body["error"]["message"].as_str().unwrap_or("").starts_with(field), "{field}: {}", r.body);
    }
    for widget in [json!({"when_unavailable": "vanish"}), json!({"appearance": {"position": "top"}}), json!({"colour": "red"})] {
        owner.patch(&app, &path, json!({"widget": widget})).await.assert_error(400, "invalid_input");
    }
    assert_eq!(owner.get(&app, &path).await.body, before, "nothing changed");
}

async fn a_message_left_while_nobody_answers_is_queued_and_the_reply_emailed(app: TestApp) {
    let (port, mails) = smtp_server().await;
    let app = TestApp::spawn_with(app.backend, |s| s.smtp = Some(smtp_to(port))).await;
    let owner = app.setup().await;
    owner.patch(&app, &format!("/api/teams/{}/settings", owner.team), json!({"visitor_email_delay_seconds": 0})).await;
    let bot = app.bot(&owner, json!({"name": "Desk", "widget": {"when_unavailable": "leave_message"}})).await;
    let c = config(&app, &bot).await;
    assert_eq!(
        (c["reach"].as_str(), c["when_unavailable"].as_str(), c["email_enabled"].as_bool()),
        (Some("away"), Some("leave_message"), Some(true))
    );
    let r = app.post(&format!("/api/widget/bots/{bot}/visitors"), json!({})).await;
    let v = Visitor { auth: Auth::Bearer(r.body["visitor_token"].as_str().unwrap().into()) };

    v.post(&app, "/api/widget/leave-message", json!({"body": "Hello?"})).await.assert_error(400, "invalid_input");
    v.post(&app, "/api/widget/leave-message", json!({"email": "not-an-email", "body": "Hello?"})).await.assert_error(400, "invalid_input");
    v.post(&app, "/api/widget/leave-message", json!({"email": "lea@example.com", "body": "  "})).await.assert_error(400, "invalid_input");
    assert_eq!(v.get(&app, "/api/widget/conversation").await.body["state"], "bot", "refusals change nothing");

    let body = json!({"name": "Lea", "email": "lea@example.com", "body": "Please call me back about order 42.", "client_id": "left-1"});
    let r = v.post(&app, "/api/widget/leave-message", body.clone()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!((r.body["state"].as_str(), r.body["message"]["author"]["kind"].as_str()), (Some("pending"), Some("visitor")));
    let again = v.post(&app, "/api/widget/leave-message", body).await;
    assert_eq!(again.body["message"]["id"], r.body["message"]["id"], "a repeat returns the first message");
    let conv = v.get(&app, "/api/widget/conversation").await.body;
    let texts: Vec<_> =
        conv["messages"].as_array().unwrap().iter().map(|m| (m["author"]["kind"].clone(), m["event_detail"]["trigger"].clone())).collect();
    // No bot reply: the visitor's message, then the line saying it was left for the team.
    assert_eq!(texts.last().unwrap(), &(json!("system"), json!("left_message")));
    assert_eq!(conv["messages"].as_array().unwrap().iter().filter(|m| m["author"]["kind"] == "bot").count(), 0, "the bot does not answer it");
    assert_eq!((conv["visitor"]["name"].as_str(), conv["visitor"]["email"].as_str()), (Some("Lea"), Some("lea@example.com")));

    // The team answers later; the visitor is gone, so the reply is emailed.
    owner.set_status(&app, "available").await;
    let chat = conv["id"].as_str().unwrap();
    let inbox = owner.get(&app, &format!("/api/live-chats/{chat}")).await.body;
    assert_eq!(inbox["visitor"]["email"], "lea@example.com");
    owner.post(&app, &format!("/api/live-chats/{chat}/claim"), json!({})).await;
    assert_eq!(owner.post(&app, &format!("/api/live-chats/{chat}/messages"), json!({"body": "Calling you now."})).await.status, 201);
    app.clock.advance_ms(30_000);
    app.sweep().await;
    assert_eq!(count(&mails), 1);
    let mail = mails.lock().unwrap()[0].clone();
    assert!(mail.contains("To: lea@example.com") && mail.contains("Calling you now."), "{mail}");

    // A bot that never hands over takes no messages for the team; one that hides the way to the
    // team while nobody can answer takes none then; neither keeps the email it was given.
    let closed = app.bot(&owner, json!({"name": "Bot only", "settings": {"human_escalation": false}})).await;
    let v2 = app.visitor(&closed).await;
    v2.post(&app, "/api/widget/leave-message", json!({"email": "x@example.com", "body": "hi"})).await.assert_error(409, "escalation_disabled");
    owner.set_status(&app, "offline").await;
    let hidden = app.bot(&owner, json!({"name": "Hidden", "widget": {"when_unavailable": "hide"}})).await;
    let v3 = app.visitor(&hidden).await;
    v3.post(&app, "/api/widget/leave-message", json!({"email": "x@example.com", "body": "hi"})).await.assert_error(409, "team_unavailable");
    assert_eq!(v3.get(&app, "/api/widget/conversation").await.body["visitor"]["email"], "vera@example.com", "unchanged");

    // Without SMTP nobody could answer by email: the widget is told, and the request refused.
    let plain = TestApp::spawn(app.backend).await;
    let owner = plain.setup().await;
    let bot = plain.bot(&owner, json!({"name": "Desk", "widget": {"when_unavailable": "leave_message"}})).await;
    assert_eq!(config(&plain, &bot).await["email_enabled"], false);
    let v = plain.visitor(&bot).await;
    v.post(&plain, "/api/widget/leave-message", json!({"email": "lea@example.com", "body": "hi"})).await.assert_error(409, "email_unavailable");
}

async fn the_queue_tells_each_visitor_their_place_and_the_usual_wait(app: TestApp) {
    let owner = app.setup().await;
    owner.set_status(&app, "available").await;
    let bot = app.shop_bot(&owner).await;
    let (v1, c1) = app.pending_chat(&bot).await;
    let (v2, c2) = app.pending_chat(&bot).await;
    let q = v2.get(&app, "/api/widget/conversation").await.body["queue"].clone();
    assert_eq!(q, json!({"position": 2, "expected_wait_seconds": null}), "no history yet: the widget says a few minutes");
    assert_eq!(v1.get(&app, "/api/widget/conversation").await.body["queue"]["position"], 1);

    // Ninety seconds later the first is claimed: the second moves up, live.
    let mut ws = Ws::visitor(&app, &v2).await;
    app.clock.advance_ms(90_000);
    owner.post(&app, &format!("/api/live-chats/{c1}/claim"), json!({})).await;
    let f = ws.next_of("queue.updated").await;
    assert_eq!(f["data"], json!({"conversation_id": c2, "position": 1, "expected_wait_seconds": 90}));
    assert!(v1.get(&app, "/api/widget/conversation").await.body.get("queue").is_none(), "no queue once claimed");

    // A third visitor joins behind; the median of recent waits is the estimate.
    let (v3, _) = app.pending_chat(&bot).await;
    assert_eq!(v3.get(&app, "/api/widget/conversation").await.body["queue"], json!({"position": 2, "expected_wait_seconds": 90}));
    // Another bot's queue is its own.
    let other = app.bot(&owner, json!({"name": "Other"})).await;
    let (v4, _) = app.pending_chat(&other).await;
    assert_eq!(v4.get(&app, "/api/widget/conversation").await.body["queue"]["position"], 1);
}

async fn visitors_read_their_own_wording_data_on_system_lines(app: TestApp) {
    let owner = app.setup().await;
    owner.set_status(&app, "available").await;
    let bob = app.add_agent(&owner, "Bob", "chat_agent").await;
    bob.set_status(&app, "available").await;
    let bot = app.shop_bot(&owner).await;
    let (v, chat) = app.pending_chat(&bot).await;
    owner.post(&app, &format!("/api/live-chats/{chat}/claim"), json!({})).await;
    let r = owner.post(&app, &format!("/api/live-chats/{chat}/transfer"), json!({"agent_id": bob.id})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    v.post(&app, "/api/widget/end", json!({})).await;
    let msgs = v.get(&app, "/api/widget/conversation").await.body["messages"].clone();
    let lines: Vec<(Value, Value)> = msgs
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["author"]["kind"] == "system")
        .map(|m| (m["event"].clone(), m["event_detail"].clone()))
        .collect();
    assert_eq!(
        lines,
        vec![
            (json!("escalated"), json!({"trigger": "visitor_request"})),
            (json!("claimed"), json!({"agent": "Olivia Owner"})),
            (json!("transferred"), json!({"from": "Olivia Owner", "agent": "Bob Agent"})),
            (json!("resolved"), json!({"by_visitor": true})),
        ]
    );
}

async fn a_resolved_chat_is_rated_once_on_the_teams_scale(app: TestApp) {
    let owner = app.setup().await;
    owner.set_status(&app, "available").await;
    let bot = app.shop_bot(&owner).await;
    let (v, chat) = app.pending_chat(&bot).await;
    v.post(&app, "/api/widget/rating", json!({"score": 5})).await.assert_error(409, "rating_not_open");
    owner.post(&app, &format!("/api/live-chats/{chat}/claim"), json!({})).await;
    owner.post(&app, &format!("/api/live-chats/{chat}/resolve"), json!({})).await;
    let conv = v.get(&app, "/api/widget/conversation").await.body;
    assert_eq!((conv["rating_asked"].as_str(), &conv["rating"]), (Some("stars"), &Value::Null));

    let mut team = Ws::agent(&app, &owner).await;
    for bad in [json!({"score": 0}), json!({"score": 6}), json!({"score": "5"}), json!({"score": 4, "comment": "x".repeat(2001)})] {
        v.post(&app, "/api/widget/rating", bad).await.assert_error(400, "invalid_input");
    }
    let r = v.post(&app, "/api/widget/rating", json!({"score": 4, "comment": "  Quick and kind  "})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!((r.body["score"].as_i64(), r.body["comment"].as_str(), r.body["scale"].as_str()), (Some(4), Some("Quick and kind"), Some("stars")));
    v.post(&app, "/api/widget/rating", json!({"score": 1})).await.assert_error(409, "already_rated");
    let f = team.next_of("chat.rated").await;
    assert_eq!((f["data"]["conversation_id"].as_str(), f["data"]["rating"]["score"].as_i64()), (Some(chat.as_str()), Some(4)));
    // Part of the chat in the API, for the inbox.
    let summary = owner.get(&app, &format!("/api/live-chats/{chat}")).await.body;
    assert_eq!(summary["rating"]["score"], 4);
    assert_eq!(summary["rating"]["comment"], "Quick and kind");
    let conv = v.get(&app, "/api/widget/conversation").await.body;
    assert_eq!((&conv["rating_asked"], conv["rating"]["score"].as_i64()), (&Value::Null, Some(4)));

    // Thumbs: up is 5, down is 1, nothing in between.
    owner.patch(&app, &format!("/api/teams/{}/settings", owner.team), json!({"csat": "thumbs"})).await;
    assert_eq!(config(&app, &bot).await["csat"], "thumbs");
    let (v2, chat2) = app.pending_chat(&bot).await;
    owner.post(&app, &format!("/api/live-chats/{chat2}/claim"), json!({})).await;
    owner.post(&app, &format!("/api/live-chats/{chat2}/resolve"), json!({})).await;
    v2.post(&app, "/api/widget/rating", json!({"score": 3})).await.assert_error(400, "invalid_input");
    assert_eq!(v2.post(&app, "/api/widget/rating", json!({"score": 1})).await.body["scale"], "thumbs");
    // Off: nobody is asked.
    owner.patch(&app, &format!("/api/teams/{}/settings", owner.team), json!({"csat": "off"})).await;
    owner.patch(&app, &format!("/api/teams/{}/settings", owner.team), json!({"csat": "sometimes"})).await.assert_error(400, "invalid_input");
    let (v3, chat3) = app.pending_chat(&bot).await;
    owner.post(&app, &format!("/api/live-chats/{chat3}/claim"), json!({})).await;
    owner.post(&app, &format!("/api/live-chats/{chat3}/resolve"), json!({})).await;
    assert_eq!(v3.get(&app, "/api/widget/conversation").await.body["rating_asked"], Value::Null);
    v3.post(&app, "/api/widget/rating", json!({"score": 5})).await.assert_error(409, "rating_not_open");
    // A chat that never reached a person is not rated.
    let v4 = app.visitor(&bot).await;
    v4.post(&app, "/api/widget/end", json!({})).await;
    owner.patch(&app, &format!("/api/teams/{}/settings", owner.team), json!({"csat": "stars"})).await;
    v4.post(&app, "/api/widget/rating", json!({"score": 5})).await.assert_error(409, "rating_not_open");
}

async fn the_transcript_is_emailed_on_request_after_the_chat(app: TestApp) {
    let (port, mails) = smtp_server().await;
    let app = TestApp::spawn_with(app.backend, |s| s.smtp = Some(smtp_to(port))).await;
    let owner = app.setup().await;
    owner.set_status(&app, "available").await;
    let bot = app.shop_bot(&owner).await;
    let (v, chat) = app.pending_chat(&bot).await;
    v.post(&app, "/api/widget/transcript", json!({})).await.assert_error(409, "chat_open");
    owner.post(&app, &format!("/api/live-chats/{chat}/claim"), json!({})).await;
    owner.post(&app, &format!("/api/live-chats/{chat}/messages"), json!({"body": "Your order ships today."})).await;
    owner.post(&app, &format!("/api/live-chats/{chat}/notes"), json!({"body": "secret note"})).await;
    owner.post(&app, &format!("/api/live-chats/{chat}/resolve"), json!({})).await;
    v.post(&app, "/api/widget/transcript", json!({"email": "nope"})).await.assert_error(400, "invalid_input");
    let r = v.post(&app, "/api/widget/transcript", json!({})).await;
    assert_eq!((r.status, r.body["email"].as_str()), (202, Some("vera@example.com")), "{}", r.body);
    v.post(&app, "/api/widget/transcript", json!({"email": "other@example.com"})).await.assert_error(409, "transcript_pending");
    app.sweep().await;
    assert_eq!(count(&mails), 1);
    let mail = mails.lock().unwrap()[0].replace("=\n", "");
    assert!(mail.contains("To: vera@example.com") && mail.contains("Subject: Your chat with Shop"), "{mail}");
    assert!(mail.contains("I need help with my order") && mail.contains("Your order ships today."), "{mail}");
    assert!(!mail.contains("secret note"), "internal notes never leave: {mail}");
    for _ in 0..2 {
        assert_eq!(v.post(&app, "/api/widget/transcript", json!({"email": "other@example.com"})).await.status, 202);
        app.sweep().await;
    }
    v.post(&app, "/api/widget/transcript", json!({})).await.assert_error(409, "transcript_limit");
    assert_eq!(count(&mails), 3);
    // A chat that never reached the team gets none.
    let bot_only = app.visitor(&bot).await;
    bot_only.post(&app, "/api/widget/end", json!({})).await;
    bot_only.post(&app, "/api/widget/transcript", json!({})).await.assert_error(409, "transcript_not_offered");

    // Without SMTP, the widget is told so and the request refused.
    let plain = TestApp::spawn(app.backend).await;
    let owner = plain.setup().await;
    let bot = plain.shop_bot(&owner).await;
    assert_eq!(config(&plain, &bot).await["email_enabled"], false);
    let v = plain.visitor(&bot).await;
    v.post(&plain, "/api/widget/end", json!({})).await;
    v.post(&plain, "/api/widget/transcript", json!({})).await.assert_error(409, "email_unavailable");
}

async fn the_pre_chat_form_look_and_words_reach_the_widget(app: TestApp) {
    let owner = app.setup().await;
    let widget = json!({
        "pre_chat": {"enabled": true, "name": "required", "email": "optional", "fields": [
            {"key": "order", "label": "Order number", "type": "text"},
            {"key": "topic", "label": "Topic", "type": "choice", "options": ["Sales", "Support"], "required": true}
        ]},
        "appearance": {"accent_color": "#0f766e", "position": "left", "launcher_text": "Chat with us"},
        "texts": {"de": {"talk_to_person": "Mit Anna sprechen"}}
    });
    let bot = app.bot(&owner, json!({"name": "Desk", "widget": widget})).await;
    let c = config(&app, &bot).await;
    assert_eq!(c["pre_chat"]["fields"][1]["options"], json!(["Sales", "Support"]));
    assert_eq!(c["appearance"], json!({"accent_color": "#0f766e", "position": "left", "launcher_text": "Chat with us", "logo_url": null}));

    // The visitor's languages pick the words; the bot's override applies to its language only.
    let de = app.get(&format!("/api/widget/bots/{bot}/config?lang=de-AT,de;q=0.9,en;q=0.8")).await.body;
    assert_eq!((de["language"].as_str(), de["strings"]["talk_to_person"].as_str()), (Some("de"), Some("Mit Anna sprechen")));
    assert_eq!(de["strings"]["leave_message"], "Nachricht hinterlassen");
    let fr = app.raw(app.http.get(format!("{}/api/widget/bots/{bot}/config", app.base)).header("accept-language", "fr-CH, fr;q=0.9")).await;
    assert_eq!((fr.body["language"].as_str(), fr.body["strings"]["talk_to_person"].as_str()), (Some("fr"), Some("Parler à une personne")));
    assert_eq!(app.get(&format!("/api/widget/bots/{bot}/config?lang=ja")).await.body["language"], "en");
    app.get(&format!("/api/widget/bots/{bot}/config?colour=red")).await.assert_error(400, "invalid_input");
    let table = app.get("/api/widget/strings").await.body;
    assert_eq!(table["es"]["talk_to_person"], "Hablar con una persona");

    // The form's answers are checked against its questions.
    let v = app.visitor(&bot).await;
    v.patch(&app, "/api/widget/visitor", json!({"fields": {"topic": "Weather"}})).await.assert_error(400, "invalid_input");
    v.patch(&app, "/api/widget/visitor", json!({"fields": {"shoe_size": "44"}})).await.assert_error(400, "invalid_input");
    let r = v.patch(&app, "/api/widget/visitor", json!({"name": "Vera V", "fields": {"topic": "Support", "order": " 42 "}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["fields"], json!({"order": "42", "topic": "Support"}));
    owner.set_status(&app, "available").await;
    v.post(&app, "/api/widget/escalate", json!({})).await;
    let chat = v.get(&app, "/api/widget/conversation").await.body["id"].as_str().unwrap().to_string();
    let summary = owner.get(&app, &format!("/api/live-chats/{chat}")).await.body;
    assert_eq!(summary["visitor"]["fields"], json!({"order": "42", "topic": "Support"}), "the inbox sees the answers");

    // A logo: decoded, stored as PNG, served publicly, removable.
    let png = {
        let img = image::RgbaImage::from_pixel(400, 200, image::Rgba([15, 118, 110, 255]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    };
    let put = |body: Vec<u8>| {
        let Auth::Bearer(token) = &owner.auth else { panic!("token auth") };
        app.http.put(format!("{}/api/bots/{bot}/logo", app.base)).bearer_auth(token).header("content-type", "image/png").body(body)
    };
    app.raw(put(b"not an image".to_vec())).await.assert_error(400, "invalid_input");
    let r = app.raw(put(png)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let url = r.body["logo_url"].as_str().unwrap().to_string();
    assert_eq!(config(&app, &bot).await["appearance"]["logo_url"], url);
    let img = app.http.get(format!("{}{url}", app.base)).send().await.unwrap();
    assert_eq!(img.headers()["content-type"], "image/png");
    let bytes = img.bytes().await.unwrap();
    let decoded = image::load_from_memory(&bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (256, 128), "fitted into 256×256");
    assert_eq!(owner.delete(&app, &format!("/api/bots/{bot}/logo")).await.status, 204);
    assert_eq!(config(&app, &bot).await["appearance"]["logo_url"], Value::Null);
    app.get(&url).await.assert_error(404, "not_found");
}

backend_tests!(
    business_hours_and_agents_decide_what_the_widget_offers,
    bad_widget_settings_are_refused_and_change_nothing,
    a_message_left_while_nobody_answers_is_queued_and_the_reply_emailed,
    the_queue_tells_each_visitor_their_place_and_the_usual_wait,
    visitors_read_their_own_wording_data_on_system_lines,
    a_resolved_chat_is_rated_once_on_the_teams_scale,
    the_transcript_is_emailed_on_request_after_the_chat,
    the_pre_chat_form_look_and_words_reach_the_widget,
);
