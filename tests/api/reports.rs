//! Reports on seeded chats with known answers: times to claim, first response and resolution,
//! missed chats, CSAT, per day (in the asker's time zone), bot and agent; and the CSV export.

use baton::clock::Clock;
use baton::domain::chat::ChatState;
use baton::domain::report::{Chat, Tally};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::*;

const S: i64 = 1000;

struct Seeded {
    owner: Agent,
    alice: Agent,
    bob: Agent,
    shop: String,
    help: String,
    /// Chats A to D.
    chats: [String; 4],
}

/// Day 1 (2026-01-01 UTC, from midnight):
/// - A (Shop): Alice claims after 60 s, answers after 120 s, resolves after 600 s; 5 stars.
/// - B (Shop): Bob claims after 30 s, answers after 90 s, resolves after 900 s; 2 stars.
/// - C (Help): the visitor ends it after 300 s, before anyone claims: abandoned.
/// - D (Help): Alice claims after 20 s and resolves after 100 s without a word: unanswered.
/// - a Shop visitor talks to the bot only.
///
/// Day 2: E (Shop) waits, unclaimed.
async fn seed(app: &TestApp) -> Seeded {
    let owner = app.setup().await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    let bob = app.add_agent(&owner, "Bob", "chat_agent").await;
    alice.set_status(app, "available").await;
    bob.set_status(app, "available").await;
    let shop = app.shop_bot(&owner).await;
    let help = app.bot(&owner, json!({"name": "Help", "settings": {"human_escalation": true}})).await;
    let step = |ms: i64| app.clock.advance_ms(ms);
    let act = |who: &Agent, chat: &str, what: &str, body: Value| {
        let (who, path) = (who.clone(), format!("/api/live-chats/{chat}/{what}"));
        async move {
            let r = who.post(app, &path, body).await;
            assert!(r.status < 300, "{path}: {}", r.body);
        }
    };

    // A
    let (va, a) = app.pending_chat(&shop).await;
    step(60 * S);
    act(&alice, &a, "claim", json!({})).await;
    step(60 * S);
    act(&alice, &a, "messages", json!({"body": "Hi, Alice here"})).await;
    step(480 * S);
    act(&alice, &a, "resolve", json!({})).await;
    assert_eq!(va.post(app, "/api/widget/rating", json!({"score": 5})).await.status, 201);
    step(1000 * S);
    // B
    let (vb, b) = app.pending_chat(&shop).await;
    step(30 * S);
    act(&bob, &b, "claim", json!({})).await;
    step(60 * S);
    act(&bob, &b, "notes", json!({"body": "a note is not an answer"})).await;
    act(&bob, &b, "messages", json!({"body": "Bob here"})).await;
    step(810 * S);
    act(&bob, &b, "resolve", json!({})).await;
    assert_eq!(vb.post(app, "/api/widget/rating", json!({"score": 2})).await.status, 201);
    step(1000 * S);
    // C
    let (vc, c) = app.pending_chat(&help).await;
    step(300 * S);
    assert_eq!(vc.post(app, "/api/widget/end", json!({})).await.status, 200);
    step(1000 * S);
    // D
    let (_vd, d) = app.pending_chat(&help).await;
    step(20 * S);
    act(&alice, &d, "claim", json!({})).await;
    step(80 * S);
    act(&alice, &d, "resolve", json!({})).await;
    // The bot alone.
    let v = app.visitor(&shop).await;
    assert_eq!(v.post(app, "/api/widget/messages", json!({"body": "What are your opening hours?"})).await.status, 201);
    // E, the next day.
    step(24 * 3600 * S);
    app.pending_chat(&shop).await;
    Seeded { owner, alice, bob, shop, help, chats: [a, b, c, d] }
}

async fn get_report(app: &TestApp, who: &Agent, q: &str) -> Value {
    let r = who.get(app, &format!("/api/teams/{}/reports?{q}", who.team)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

async fn reports_add_up_seeded_chats_to_known_answers(app: TestApp) {
    let s = seed(&app).await;
    let r = get_report(&app, &s.owner, "from=2026-01-01&to=2026-01-07").await;
    assert_eq!(r["range"], json!({"from": "2026-01-01", "to": "2026-01-07", "tz": "UTC"}));
    assert_eq!(
        r["totals"],
        json!({
            "conversations": 5, "claimed": 3, "answered": 2, "resolved": 4, "waiting": 1,
            "missed": 2, "abandoned": 1, "unanswered": 1,
            "avg_time_to_claim_seconds": 36.7, "avg_first_response_seconds": 105.0, "avg_resolution_seconds": 475.0,
            "ratings": 2, "csat_percent": 50.0, "avg_stars": 3.5
        })
    );
    assert_eq!(r["bot_only"], 1);
    let days = r["days"].as_array().unwrap();
    assert_eq!(days.len(), 7, "every day of the range, empty ones too");
    let per_day: Vec<(&str, i64, i64)> =
        days.iter().map(|d| (d["date"].as_str().unwrap(), d["conversations"].as_i64().unwrap(), d["bot_only"].as_i64().unwrap())).collect();
    assert_eq!(per_day[..3], [("2026-01-01", 4, 1), ("2026-01-02", 1, 0), ("2026-01-03", 0, 0)]);
    assert_eq!(days[1]["waiting"], 1);
    assert_eq!(days[2]["avg_first_response_seconds"], Value::Null, "nothing to average");

    let bots: Vec<(&str, i64, i64)> = r["bots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["bot"]["name"].as_str().unwrap(), b["conversations"].as_i64().unwrap(), b["bot_only"].as_i64().unwrap()))
        .collect();
    assert_eq!(bots, [("Shop", 3, 1), ("Help", 2, 0)]);
    let help = r["bots"].as_array().unwrap().iter().find(|b| b["bot"]["name"] == "Help").unwrap();
    assert_eq!((help["abandoned"].as_i64(), help["unanswered"].as_i64(), help["avg_resolution_seconds"].as_f64()), (Some(1), Some(1), Some(200.0)));

    let agents: Vec<(&str, i64)> =
        r["agents"].as_array().unwrap().iter().map(|a| (a["agent"]["name"].as_str().unwrap(), a["conversations"].as_i64().unwrap())).collect();
    assert_eq!(agents, [("Alice Agent", 2), ("Bob Agent", 1), ("No agent", 2)]);
    let alice = r["agents"].as_array().unwrap().iter().find(|a| a["agent"]["id"] == s.alice.id.as_str()).unwrap();
    assert_eq!(
        (alice["avg_time_to_claim_seconds"].as_f64(), alice["avg_first_response_seconds"].as_f64(), alice["csat_percent"].as_f64()),
        (Some(40.0), Some(120.0), Some(100.0))
    );

    // One bot, one agent.
    let shop = get_report(&app, &s.owner, &format!("from=2026-01-01&to=2026-01-07&bot_id={}", s.shop)).await;
    assert_eq!(
        (shop["totals"]["conversations"].as_i64(), shop["bot_only"].as_i64(), shop["totals"]["avg_stars"].as_f64()),
        (Some(3), Some(1), Some(3.5))
    );
    let bob = get_report(&app, &s.owner, &format!("from=2026-01-01&to=2026-01-07&agent_id={}", s.bob.id)).await;
    assert_eq!(
        (bob["totals"]["conversations"].as_i64(), bob["totals"]["avg_first_response_seconds"].as_f64(), bob["bot_only"].as_i64()),
        (Some(1), Some(90.0), Some(0))
    );
    let help_only = get_report(&app, &s.owner, &format!("from=2026-01-01&to=2026-01-01&bot_id={}", s.help)).await;
    assert_eq!(help_only["totals"]["missed"], 2);

    // Days are the asker's: in Tokyo (UTC+9) E, at 2026-01-02 00:xx UTC, is on the 2nd too, and
    // in Los Angeles (UTC-8) everything of the 1st happened on 31 December.
    let la = get_report(&app, &s.owner, "from=2025-12-31&to=2026-01-01&tz=America/Los_Angeles").await;
    let la_days: Vec<(&str, i64)> =
        la["days"].as_array().unwrap().iter().map(|d| (d["date"].as_str().unwrap(), d["conversations"].as_i64().unwrap())).collect();
    assert_eq!(la_days, [("2025-12-31", 4), ("2026-01-01", 1)]);
    // A range that ends before the first chat has nothing.
    let before = get_report(&app, &s.owner, "from=2025-12-01&to=2025-12-31").await;
    assert_eq!(before["totals"]["conversations"], 0);
    // By default: the 30 days up to today (the test clock is on 2 January).
    let default = get_report(&app, &s.owner, "").await;
    assert_eq!((default["range"]["from"].as_str(), default["range"]["to"].as_str()), (Some("2025-12-04"), Some("2026-01-02")));
    assert_eq!(default["totals"]["conversations"], 5);
}

async fn the_csv_export_and_who_may_read_reports(app: TestApp) {
    let s = seed(&app).await;
    let team = s.owner.team.clone();
    let csv = |q: String| {
        let owner = s.owner.clone();
        let app = &app;
        async move {
            let Auth::Bearer(t) = &owner.auth else { unreachable!() };
            let r = app.http.get(format!("{}/api/teams/{}/reports/csv?{q}", app.base, owner.team)).bearer_auth(t).send().await.unwrap();
            (r.status().as_u16(), r.headers().clone(), r.text().await.unwrap())
        }
    };
    let (status, headers, body) = csv("from=2026-01-01&to=2026-01-02".into()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(headers["content-disposition"], "attachment; filename=\"baton-report-day-2026-01-01-2026-01-02.csv\"");
    let lines: Vec<&str> = body.lines().collect();
    assert!(lines[0].starts_with("date,bot_only,conversations,claimed,answered,resolved,waiting,missed"), "{}", lines[0]);
    assert_eq!(lines[1], "2026-01-01,1,4,3,2,4,0,2,1,1,36.7,105,475,2,50,3.5");
    assert_eq!(lines.len(), 3);
    let (_, _, agents) = csv("from=2026-01-01&to=2026-01-02&group=agent".into()).await;
    assert!(agents.lines().any(|l| l.starts_with(&format!("{},Bob Agent,1,1,1,1,", s.bob.id))), "{agents}");
    let (_, _, bots) = csv("from=2026-01-01&to=2026-01-02&group=bot".into()).await;
    assert!(bots.lines().any(|l| l.contains(",Help,0,2,")), "{bots}");
    let (_, _, convs) = csv("from=2026-01-01&to=2026-01-02&group=conversation".into()).await;
    let rows: Vec<&str> = convs.lines().collect();
    assert_eq!(rows.len(), 6, "a header and five conversations: {convs}");
    assert!(rows[1].contains(",Shop,Alice Agent,resolved,") && rows[1].ends_with(",60.0,120.0,600.0,false,5,stars"), "{}", rows[1]);
    assert!(rows[3].contains(",Help,,resolved,") && rows[3].contains(",,,300.0,true,,"), "abandoned: {}", rows[3]);

    // Bad input, and who may look.
    for (q, field) in [
        ("from=2026-13-01", "from"),
        ("to=yesterday", "to"),
        ("from=2026-01-02&to=2026-01-01", "from"),
        ("from=2024-01-01&to=2026-01-01", "from"),
        ("tz=Mars/Olympus", "tz"),
        ("bot_id=nope", "bot_id"),
        ("agent_id=nope", "agent_id"),
        ("surprise=1", "surprise"),
    ] {
        let r = s.owner.get(&app, &format!("/api/teams/{team}/reports?{q}")).await;
        r.assert_error(400, "invalid_input");
        assert!(r.body["error"]["message"].as_str().unwrap().contains(field), "{q}: {}", r.body);
    }
    s.owner.get(&app, &format!("/api/teams/{team}/reports/csv?group=week")).await.assert_error(400, "invalid_input");
    s.alice.get(&app, &format!("/api/teams/{team}/reports")).await.assert_error(403, "forbidden");
    s.alice.get(&app, &format!("/api/teams/{team}/reports/csv")).await.assert_error(403, "forbidden");
    app.get(&format!("/api/teams/{team}/reports")).await.assert_error(401, "unauthenticated");
    let other = s.bob.post(&app, "/api/teams", json!({"name": "Bob's"})).await;
    let mine = other.body["id"].as_str().unwrap();
    s.owner.get(&app, &format!("/api/teams/{mine}/reports")).await.assert_error(404, "not_found");
    // Bob's own team has none of Acme's chats.
    let bobs = s.bob.get(&app, &format!("/api/teams/{mine}/reports?from=2026-01-01&to=2026-01-02")).await;
    assert_eq!(bobs.body["totals"]["conversations"], 0);
}

/// The report (read from the tallies the database keeps) against the same conversations added
/// up one by one from the CSV's rows with the domain's own `Tally::count`: they agree after
/// every kind of change a chat can go through.
async fn the_report_follows_every_change_to_its_chats(app: TestApp) {
    let s = seed(&app).await;
    let [a, b, _c, d] = s.chats.clone();
    let range = "from=2026-01-01&to=2026-01-07";
    let agrees = |when: &'static str, bot_only: i64| {
        let owner = s.owner.clone();
        let app = &app;
        async move {
            let r = get_report(app, &owner, range).await;
            let Auth::Bearer(t) = &owner.auth else { unreachable!() };
            let csv = app
                .http
                .get(format!("{}/api/teams/{}/reports/csv?{range}&group=conversation", app.base, owner.team))
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let mut total = Tally::default();
            let mut agents: std::collections::BTreeMap<String, i64> = Default::default();
            for line in csv.lines().skip(1) {
                // No field here holds a comma (names are plain in this test).
                let f: Vec<&str> = line.split(',').collect();
                let ms = |i: usize| (!f[i].is_empty()).then(|| (f[i].parse::<f64>().unwrap() * 1000.0).round() as i64);
                let state = match f[3] {
                    "pending" => ChatState::Pending,
                    "active" => ChatState::Active,
                    "transferred" => ChatState::Transferred,
                    "resolved" => ChatState::Resolved,
                    other => panic!("{when}: state {other}"),
                };
                let rating = (!f[12].is_empty()).then(|| (f[12].parse::<i64>().unwrap(), f[13] == "stars"));
                total.count(&Chat { escalated_at: 0, state, claimed_at: ms(8), first_response_at: ms(9), resolved_at: ms(10), rating });
                *agents.entry(if f[2].is_empty() { "No agent".to_string() } else { f[2].to_string() }).or_default() += 1;
            }
            let t = &r["totals"];
            let counts =
                ["conversations", "claimed", "answered", "resolved", "waiting", "abandoned", "unanswered", "ratings"].map(|k| t[k].as_i64().unwrap());
            assert_eq!(
                counts,
                [total.conversations, total.claimed, total.answered, total.resolved, total.waiting, total.abandoned, total.unanswered, total.rated],
                "{when}: {r}\n{csv}"
            );
            let averages = ["avg_time_to_claim_seconds", "avg_first_response_seconds", "avg_resolution_seconds", "csat_percent", "avg_stars"]
                .map(|k| t[k].as_f64());
            assert_eq!(
                averages,
                [total.avg_time_to_claim_s(), total.avg_first_response_s(), total.avg_resolution_s(), total.csat_percent(), total.avg_stars()],
                "{when}: {r}"
            );
            let reported: std::collections::BTreeMap<String, i64> = r["agents"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| (a["agent"]["name"].as_str().unwrap().to_string(), a["conversations"].as_i64().unwrap()))
                .collect();
            assert_eq!(reported, agents, "{when}: no agent listed without chats");
            let per_day: i64 = r["days"].as_array().unwrap().iter().map(|d| d["conversations"].as_i64().unwrap()).sum();
            let per_bot: i64 = r["bots"].as_array().unwrap().iter().map(|b| b["conversations"].as_i64().unwrap()).sum();
            assert_eq!((per_day, per_bot), (total.conversations, total.conversations), "{when}");
            assert_eq!(r["bot_only"], bot_only, "{when}");
        }
    };
    let act = |who: &Agent, chat: &str, what: &str, body: Value| {
        let (who, path) = (who.clone(), format!("/api/live-chats/{chat}/{what}"));
        let app = &app;
        async move {
            let r = who.post(app, &path, body).await;
            assert!(r.status < 300, "{path}: {}", r.body);
        }
    };
    agrees("seeded", 1).await;

    // Kathmandu is 5:45 ahead: its 3 January begins at 18:15 UTC on the 2nd, mid-hour. A chat a
    // minute before is on the 2nd there, a minute after on the 3rd (in UTC both are on the 2nd).
    let at = |iso: &str| iso.parse::<jiff::Timestamp>().unwrap().as_millisecond();
    app.clock.advance_ms(at("2026-01-02T18:14:00Z") - app.clock.now_ms());
    app.pending_chat(&s.shop).await;
    app.clock.advance_ms(2 * 60 * S);
    app.pending_chat(&s.shop).await;
    let ktm = get_report(&app, &s.owner, "from=2026-01-02&to=2026-01-03&tz=Asia/Kathmandu").await;
    let ktm_days: Vec<(&str, i64)> =
        ktm["days"].as_array().unwrap().iter().map(|d| (d["date"].as_str().unwrap(), d["conversations"].as_i64().unwrap())).collect();
    assert_eq!(ktm_days, [("2026-01-02", 2), ("2026-01-03", 1)], "E and the 18:14 chat, then the 18:16 one: {ktm}");
    let utc = get_report(&app, &s.owner, "from=2026-01-02&to=2026-01-03").await;
    assert_eq!((utc["days"][0]["conversations"].as_i64(), utc["days"][1]["conversations"].as_i64()), (Some(3), Some(0)));
    agrees("two more waiting", 1).await;

    // A chat claimed by Alice and handed to Bob, who answers: his now.
    let (_vf, f) = app.pending_chat(&s.shop).await;
    agrees("escalated", 1).await;
    app.clock.advance_ms(10 * S);
    act(&s.alice, &f, "claim", json!({})).await;
    agrees("claimed", 1).await;
    act(&s.alice, &f, "transfer", json!({"agent_id": s.bob.id})).await;
    let state = s.bob.get(&app, &format!("/api/live-chats/{f}")).await.body["state"].as_str().unwrap().to_string();
    if state == "transferred" {
        act(&s.bob, &f, "claim", json!({})).await;
    }
    app.clock.advance_ms(5 * S);
    act(&s.bob, &f, "messages", json!({"body": "Bob has it"})).await;
    agrees("transferred and answered", 1).await;

    // Bob leaves the team: F goes back to the queue, no agent's.
    let r = s.owner.delete(&app, &format!("/api/teams/{}/members/{}", s.owner.team, s.bob.id)).await;
    assert!(r.status < 300, "{}", r.body);
    agrees("requeued when Bob left", 1).await;

    // A reopens (no longer resolved) and is resolved again later.
    act(&s.alice, &a, "reopen", json!({})).await;
    agrees("reopened", 1).await;
    app.clock.advance_ms(60 * S);
    act(&s.alice, &a, "resolve", json!({})).await;
    agrees("resolved again", 1).await;

    // B's visitor is erased: B leaves the report.
    let b_visitor = s.owner.get(&app, &format!("/api/live-chats/{b}")).await.body["visitor"]["id"].as_str().unwrap().to_string();
    let r = s.owner.post(&app, &format!("/api/visitors/{b_visitor}/erase"), json!({"confirm": "erase"})).await;
    assert!(r.status < 300, "{}", r.body);
    agrees("erased", 1).await;

    // The Help bot (C and D) is deleted with its chats.
    assert_eq!(s.owner.delete(&app, &format!("/api/bots/{}", s.help)).await.status, 204);
    s.owner.get(&app, &format!("/api/live-chats/{d}")).await.assert_error(404, "not_found");
    agrees("bot deleted", 1).await;

    // Retention deletes the resolved ones; the waiting and the active stay.
    let r = s.owner.patch(&app, &format!("/api/teams/{}/settings", s.owner.team), json!({"retention_days": 1})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.clock.advance_ms(3 * 24 * 3600 * S);
    app.sweep().await;
    s.owner.get(&app, &format!("/api/live-chats/{a}")).await.assert_error(404, "not_found");
    agrees("after retention", 1).await;
    let left = get_report(&app, &s.owner, range).await;
    assert_eq!(left["totals"]["conversations"], 4, "E, F and the two Kathmandu chats wait: {left}");
}

backend_tests!(reports_add_up_seeded_chats_to_known_answers, the_csv_export_and_who_may_read_reports, the_report_follows_every_change_to_its_chats);
