//! Data rights: a visitor found by email, exported and erased (nothing of them left in any
//! table or file), and resolved conversations deleted after the team's retention period.

use serde_json::{Value, json};

use crate::attachments::{auth_of, upload};
use crate::backend_tests;
use crate::helpers::*;
use crate::notifications::{device, subscribe_at};

const NAME: &str = "Zebulon Quixote";
const EMAIL: &str = "zq.marker@example.com";
const WORD: &str = "xylophonist";

/// A visitor who said and sent things, was answered, noted about, rated, and is waiting for an
/// email and a push: everything a visitor leaves behind. Returns (visitor, conversation, file).
async fn full_visitor(app: &TestApp, owner: &Agent, alice: &Agent, bot: &str) -> (Visitor, String, String, String) {
    let r = app.post(&format!("/api/widget/bots/{bot}/visitors"), json!({"name": NAME, "email": EMAIL})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let visitor_id = r.body["visitor"]["id"].as_str().or(r.body["visitor_id"].as_str()).unwrap().to_string();
    let v = Visitor { auth: Auth::Bearer(r.body["visitor_token"].as_str().unwrap().into()) };
    let Auth::Bearer(token) = &v.auth else { unreachable!() };
    let r = app
        .raw(
            app.http
                .put(format!("{}/api/widget/context", app.base))
                .bearer_auth(token)
                .json(&json!({"page_url": "https://shop.test/quixote", "page_title": format!("{WORD} page")})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(v.put(app, "/api/widget/attributes", json!({"attributes": {"nickname": WORD}})).await.status, 204);
    assert_eq!(v.post(app, "/api/widget/messages", json!({"body": format!("I am a {WORD}, help")})).await.status, 201);
    let r = v.post(app, "/api/widget/escalate", json!({})).await;
    let chat = r.body["conversation_id"].as_str().unwrap().to_string();
    assert_eq!(alice.post(app, &format!("/api/live-chats/{chat}/claim"), json!({})).await.status, 200);
    let f = upload(app, &v.auth, "/api/widget/attachments", "quixote-notes.txt", format!("notes of a {WORD}").as_bytes()).await;
    assert_eq!(f.status, 201, "{}", f.body);
    let file = f.body["id"].as_str().unwrap().to_string();
    assert_eq!(v.post(app, "/api/widget/messages", json!({"body": "here", "attachments": [file]})).await.status, 201);
    assert_eq!(alice.post(app, &format!("/api/live-chats/{chat}/messages"), json!({"body": format!("Dear {NAME}, noted")})).await.status, 201);
    assert_eq!(alice.post(app, &format!("/api/live-chats/{chat}/notes"), json!({"body": format!("{WORD} again")})).await.status, 201);
    assert_eq!(alice.post(app, &format!("/api/live-chats/{chat}/resolve"), json!({})).await.status, 200);
    assert_eq!(v.post(app, "/api/widget/rating", json!({"score": 5, "comment": format!("great for a {WORD}")})).await.status, 201);
    let _ = owner;
    (v, visitor_id, chat, file)
}

/// Every table's every value, as text, that contains one of `needles`: (table, excerpt).
async fn left_in_tables(app: &TestApp, needles: &[&str], skip: &[&str]) -> Vec<(String, String)> {
    let needles: Vec<String> = needles.iter().map(|s| s.to_lowercase()).collect();
    let skip: Vec<String> = skip.iter().map(|s| s.to_string()).collect();
    let rows: Vec<(String, String)> = match &app.settings().database_url {
        Some(url) => {
            use sqlx::{Connection, Row};
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
            )
            .fetch_all(&mut c)
            .await
            .unwrap();
            assert!(tables.len() > 20, "{tables:?}");
            let mut out = Vec::new();
            for t in tables {
                let q = format!("SELECT x::text AS row FROM \"{t}\" x");
                for r in sqlx::query(sqlx::AssertSqlSafe(q)).fetch_all(&mut c).await.unwrap() {
                    out.push((t.clone(), r.get::<String, _>("row")));
                }
            }
            out
        }
        None => {
            let path = app.settings().data_dir.join("baton.db");
            tokio::task::spawn_blocking(move || {
                let c = rusqlite::Connection::open(path).unwrap();
                let tables: Vec<String> = c
                    .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
                    .unwrap()
                    .query_map([], |r| r.get(0))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap();
                assert!(tables.len() > 20, "{tables:?}");
                let mut out = Vec::new();
                for t in tables {
                    let mut st = c.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
                    let n = st.column_count();
                    let mut rows = st.query([]).unwrap();
                    while let Some(r) = rows.next().unwrap() {
                        let mut text = String::new();
                        for i in 0..n {
                            match r.get_ref(i).unwrap() {
                                rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b) => {
                                    text.push_str(&String::from_utf8_lossy(b));
                                    text.push('|');
                                }
                                other => text.push_str(&format!("{other:?}|")),
                            }
                        }
                        out.push((t.clone(), text));
                    }
                }
                out
            })
            .await
            .unwrap()
        }
    };
    rows.into_iter()
        .filter(|(t, row)| !skip.contains(t) && needles.iter().any(|n| row.to_lowercase().contains(n)))
        .map(|(t, row)| (t, row.chars().take(200).collect()))
        .collect()
}

async fn erasing_a_visitor_leaves_nothing_of_them_in_any_table_or_file(app: TestApp) {
    let (smtp_port, _mails) = crate::notifications::smtp_server().await;
    let app = TestApp::spawn_with(app.backend, |s| s.smtp = Some(crate::notifications::smtp_to(smtp_port))).await;
    let owner = app.setup().await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    alice.set_status(&app, "available").await;
    let bot = app.shop_bot(&owner).await;
    // A push waits for a device that is not there (the timers are not run): its payload names
    // the chat and the visitor.
    subscribe_at(&app, &owner, "http://127.0.0.1:9/push/owner", &device()).await;
    // And a webhook that is told of every message (not delivered either).
    let w = owner
        .post(
            &app,
            &format!("/api/teams/{}/webhooks", owner.team),
            json!({"name": "CRM", "url": "http://127.0.0.1:9/hook", "events": ["message.created", "csat.given"]}),
        )
        .await;
    assert_eq!(w.status, 201, "{}", w.body);
    let (vera, vera_id, chat, file) = full_visitor(&app, &owner, &alice, &bot).await;
    // Someone else, who must not be touched.
    let (_other, other_chat) = app.pending_chat(&bot).await;
    assert_eq!(alice.post(&app, &format!("/api/live-chats/{other_chat}/claim"), json!({})).await.status, 200);
    assert_eq!(alice.post(&app, &format!("/api/live-chats/{other_chat}/messages"), json!({"body": "hello Vera"})).await.status, 201);

    let blob = app.settings().data_dir.join("files").join(&file[..2]).join(&file);
    assert!(blob.exists());
    let before = left_in_tables(&app, &[NAME, EMAIL, WORD, &vera_id, &chat], &[]).await;
    for t in
        ["visitors", "messages", "attachments", "ratings", "visitor_context", "email_outbox", "push_outbox", "conversations", "webhook_deliveries"]
    {
        assert!(before.iter().any(|(table, _)| table == t), "the setup leaves something in {t}: {before:#?}");
    }
    let hits = owner.get(&app, &format!("/api/search?q={WORD}")).await;
    assert!(!hits.body["messages"].as_array().unwrap().is_empty(), "{}", hits.body);

    // Found by email, whatever its case.
    let found = owner.get(&app, &format!("/api/teams/{}/visitors?email=ZQ.Marker@Example.com", owner.team)).await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(found.body.as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap()).collect::<Vec<_>>(), [vera_id.as_str()]);

    // Only owners and admins, only with the confirmation; refusals change nothing.
    alice.post(&app, &format!("/api/visitors/{vera_id}/erase"), json!({"confirm": "erase"})).await.assert_error(403, "forbidden");
    owner.post(&app, &format!("/api/visitors/{vera_id}/erase"), json!({})).await.assert_error(400, "invalid_input");
    owner.post(&app, &format!("/api/visitors/{vera_id}/erase"), json!({"confirm": "yes"})).await.assert_error(400, "invalid_input");
    owner.post(&app, "/api/visitors/not-an-id/erase", json!({"confirm": "erase"})).await.assert_error(404, "not_found");
    let outsider = app.add_agent(&owner, "Otto", "chat_agent").await;
    let other_team = outsider.post(&app, "/api/teams", json!({"name": "Elsewhere"})).await;
    assert_eq!(other_team.status, 201);
    assert_eq!(owner.delete(&app, &format!("/api/teams/{}/members/{}", owner.team, outsider.id)).await.status, 204);
    outsider.post(&app, &format!("/api/visitors/{vera_id}/erase"), json!({"confirm": "erase"})).await.assert_error(404, "not_found");
    assert_eq!(left_in_tables(&app, &[NAME, EMAIL, WORD, &vera_id, &chat], &[]).await.len(), before.len());

    // The inbox hears the chat go.
    let mut ws = Ws::agent(&app, &alice).await;
    let r = owner.post(&app, &format!("/api/visitors/{vera_id}/erase"), json!({"confirm": "erase"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, json!({"conversations": 1, "messages": r.body["messages"], "files": 1}));
    assert!(r.body["messages"].as_i64().unwrap() >= 6, "{}", r.body);
    let f = ws.next_of("chat.erased").await;
    assert_eq!(f["data"]["conversation_id"], chat.as_str());

    // Nothing of her in any table but the audit log's record of the erasure (by id only).
    let left = left_in_tables(&app, &[NAME, EMAIL, WORD, &vera_id, &chat, &file], &["audit_log"]).await;
    assert!(left.is_empty(), "{left:#?}");
    let audit = left_in_tables(&app, &[NAME, EMAIL, WORD], &[]).await;
    assert!(audit.is_empty(), "not even in the audit log: {audit:#?}");
    assert!(!blob.exists(), "the file's bytes are gone");
    let hits = owner.get(&app, &format!("/api/search?q={WORD}")).await;
    assert_eq!(hits.body["messages"], json!([]));
    assert_eq!(hits.body["people"].as_array().map_or(0, Vec::len), 0, "{}", hits.body);
    alice.get(&app, &format!("/api/live-chats/{chat}")).await.assert_error(404, "not_found");
    vera.get(&app, "/api/widget/conversation").await.assert_error(401, "unauthenticated");
    let log = owner.get(&app, &format!("/api/teams/{}/audit?action=visitor.erased", owner.team)).await;
    let e = &log.body["items"][0];
    assert_eq!((e["target"]["id"].as_str(), e["actor"]["id"].as_str()), (Some(vera_id.as_str()), Some(owner.id.as_str())));
    assert_eq!(e["detail"]["files"], 1);

    // The other visitor's chat is untouched.
    let other = alice.get(&app, &format!("/api/live-chats/{other_chat}")).await;
    assert_eq!(other.status, 200, "{}", other.body);
    assert!(other.body.to_string().contains("hello Vera"));
    owner.post(&app, &format!("/api/visitors/{vera_id}/erase"), json!({"confirm": "erase"})).await.assert_error(404, "not_found");
}

async fn a_visitor_export_holds_everything_kept_about_them(app: TestApp) {
    let owner = app.setup().await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    alice.set_status(&app, "available").await;
    let bot = app.shop_bot(&owner).await;
    let (_vera, vera_id, chat, file) = full_visitor(&app, &owner, &alice, &bot).await;

    alice.post(&app, &format!("/api/visitors/{vera_id}/export"), json!({})).await.assert_error(403, "forbidden");
    let r = app.raw(auth_of(&owner.auth, app.http.post(format!("{}/api/visitors/{vera_id}/export", app.base)))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.headers["content-disposition"], format!("attachment; filename=\"visitor-{vera_id}.json\"").as_str());
    assert_eq!(r.headers["cache-control"], "no-store");
    let d = &r.body;
    assert_eq!(d["format"], "baton.visitor-export.v1");
    assert_eq!((d["visitor"]["name"].as_str(), d["visitor"]["email"].as_str()), (Some(NAME), Some(EMAIL)));
    assert_eq!(d["context"]["reported"]["page_title"], format!("{WORD} page").as_str());
    assert_eq!(d["context"]["attributes"]["nickname"], WORD);
    let convs = d["conversations"].as_array().unwrap();
    assert_eq!(convs.len(), 1);
    assert_eq!(convs[0]["id"], chat.as_str());
    assert_eq!(convs[0]["rating"]["score"], 5);
    let messages = convs[0]["messages"].as_array().unwrap();
    let texts: Vec<(&str, bool)> =
        messages.iter().map(|m| (m["body"]["text"].as_str().or(m["text"].as_str()).unwrap_or(""), m["internal"].as_bool().unwrap())).collect();
    assert!(texts.iter().any(|(t, i)| t.contains(&format!("I am a {WORD}")) && !i), "{texts:?}");
    assert!(texts.iter().any(|(t, i)| t.contains(&format!("{WORD} again")) && *i), "the note, marked internal: {texts:?}");
    let with_file: Vec<&Value> = messages.iter().filter(|m| m["attachments"].as_array().is_some_and(|a| !a.is_empty())).collect();
    assert_eq!(with_file[0]["attachments"][0]["id"], file.as_str());
    assert_eq!(with_file[0]["attachments"][0]["name"], "quixote-notes.txt");

    let log = owner.get(&app, &format!("/api/teams/{}/audit?action=visitor.exported", owner.team)).await;
    assert_eq!(log.body["items"][0]["target"]["id"], vera_id.as_str());
    assert!(!log.body.to_string().contains(NAME), "the log names the visitor by id only");
    // Bad requests.
    owner.post(&app, "/api/visitors/nope/export", json!({})).await.assert_error(404, "not_found");
    owner.get(&app, &format!("/api/teams/{}/visitors?email=not-an-email", owner.team)).await.assert_error(400, "invalid_input");
    owner.get(&app, &format!("/api/teams/{}/visitors", owner.team)).await.assert_error(400, "invalid_input");
    alice.get(&app, &format!("/api/teams/{}/visitors?email={EMAIL}", owner.team)).await.assert_error(403, "forbidden");
}

async fn resolved_conversations_go_after_the_retention_period(app: TestApp) {
    let owner = app.setup().await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    alice.set_status(&app, "available").await;
    let bot = app.shop_bot(&owner).await;
    let team = owner.team.clone();
    for bad in [json!({"retention_days": -1}), json!({"retention_days": 3651}), json!({"retention_days": "30"})] {
        owner.patch(&app, &format!("/api/teams/{team}/settings"), bad).await.assert_error(400, "invalid_input");
    }
    assert_eq!(owner.get(&app, &format!("/api/teams/{team}/settings")).await.body["retention_days"], 0, "kept by default");
    // Deleting history is the owners' call.
    let adam = app.add_agent(&owner, "Adam", "admin").await;
    adam.patch(&app, &format!("/api/teams/{team}/settings"), json!({"retention_days": 1})).await.assert_error(403, "forbidden");
    assert_eq!(adam.patch(&app, &format!("/api/teams/{team}/settings"), json!({"auto_away_minutes": 12})).await.status, 200, "the rest stays theirs");

    // An old resolved chat with a file, an old chat still open, and the same visitor's newer chat.
    let (old_v, old) = app.pending_chat(&bot).await;
    assert_eq!(alice.post(&app, &format!("/api/live-chats/{old}/claim"), json!({})).await.status, 200);
    let f = upload(&app, &old_v.auth, "/api/widget/attachments", "old.txt", b"old words").await;
    let file = f.body["id"].as_str().unwrap().to_string();
    assert_eq!(old_v.post(&app, "/api/widget/messages", json!({"body": "", "attachments": [file]})).await.status, 201);
    assert_eq!(alice.post(&app, &format!("/api/live-chats/{old}/resolve"), json!({})).await.status, 200);
    let (_open_v, open) = app.pending_chat(&bot).await;
    let (kept_v, kept_old) = app.pending_chat(&bot).await;
    assert_eq!(alice.post(&app, &format!("/api/live-chats/{kept_old}/claim"), json!({})).await.status, 200);
    assert_eq!(alice.post(&app, &format!("/api/live-chats/{kept_old}/resolve"), json!({})).await.status, 200);
    app.clock.advance_ms(20 * 86_400_000);
    // The same visitor comes back later: their newer chat (and so they) stay.
    assert_eq!(kept_v.post(&app, "/api/widget/conversations", json!({})).await.status, 201);
    assert_eq!(kept_v.post(&app, "/api/widget/messages", json!({"body": "me again"})).await.status, 201);
    let r = kept_v.post(&app, "/api/widget/escalate", json!({})).await;
    let newer = r.body["conversation_id"].as_str().unwrap().to_string();
    assert_ne!(newer, kept_old);
    assert_eq!(alice.post(&app, &format!("/api/live-chats/{newer}/claim"), json!({})).await.status, 200);
    assert_eq!(alice.post(&app, &format!("/api/live-chats/{newer}/resolve"), json!({})).await.status, 200);

    // Nothing goes while retention is off.
    app.clock.advance_ms(15 * 86_400_000);
    app.sweep().await;
    assert_eq!(alice.get(&app, &format!("/api/live-chats/{old}")).await.status, 200);

    let r = owner.patch(&app, &format!("/api/teams/{team}/settings"), json!({"retention_days": 30})).await;
    assert_eq!((r.status, r.body["retention_days"].as_i64()), (200, Some(30)), "{}", r.body);
    app.sweep().await;
    alice.get(&app, &format!("/api/live-chats/{old}")).await.assert_error(404, "not_found");
    alice.get(&app, &format!("/api/live-chats/{kept_old}")).await.assert_error(404, "not_found");
    assert_eq!(alice.get(&app, &format!("/api/live-chats/{open}")).await.status, 200, "not resolved: kept");
    assert_eq!(alice.get(&app, &format!("/api/live-chats/{newer}")).await.status, 200, "resolved 15 days ago: kept");
    old_v.get(&app, "/api/widget/conversation").await.assert_error(401, "unauthenticated");
    assert_eq!(kept_v.get(&app, "/api/widget/conversation").await.status, 200, "a visitor with a chat left stays");
    assert!(!app.settings().data_dir.join("files").join(&file[..2]).join(&file).exists(), "the file's bytes went too");
    let log = owner.get(&app, &format!("/api/teams/{team}/audit?action=retention.deleted")).await;
    let items = log.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", log.body);
    assert_eq!((items[0]["detail"]["count"].as_i64(), items[0]["detail"]["days"].as_i64()), (Some(2), Some(30)));
    assert_eq!(items[0]["actor"], json!({"id": null, "display_name": "Baton"}));

    // The next pass finds nothing more to do.
    app.sweep().await;
    assert_eq!(owner.get(&app, &format!("/api/teams/{team}/audit?action=retention.deleted")).await.body["items"].as_array().unwrap().len(), 1);
}

backend_tests!(
    erasing_a_visitor_leaves_nothing_of_them_in_any_table_or_file,
    a_visitor_export_holds_everything_kept_about_them,
    resolved_conversations_go_after_the_retention_period
);
