//! Files both ways: uploads checked against the team's limits and their own content, sent as part
//! of messages and notes, served only to those who may see the conversation, removed when never
//! sent, discarded, or deleted with their conversation.

use reqwest::Method;
use serde_json::json;

use crate::backend_tests;
use crate::helpers::*;

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(w, h, image::Rgb([200, 30, 60]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";

pub(crate) fn auth_of(a: &Auth, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    match a {
        Auth::None => req,
        Auth::Bearer(t) => req.bearer_auth(t),
        Auth::Cookie { cookie, csrf } => {
            let req = req.header("cookie", cookie);
            match csrf {
                Some(c) => req.header("x-csrf-token", c),
                None => req,
            }
        }
    }
}

pub(crate) async fn upload(app: &TestApp, auth: &Auth, path: &str, name: &str, bytes: &[u8]) -> Res {
    let url = reqwest::Url::parse_with_params(&format!("{}{path}", app.base), &[("name", name)]).unwrap();
    app.raw(auth_of(auth, app.http.post(url).body(bytes.to_vec()))).await
}

/// Status, headers and bytes of a download.
async fn fetch(app: &TestApp, auth: &Auth, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let r = auth_of(auth, app.http.get(format!("{}{path}", app.base))).send().await.unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    (status, headers, r.bytes().await.unwrap().to_vec())
}

fn blob_path(app: &TestApp, id: &str) -> std::path::PathBuf {
    app.settings().data_dir.join("files").join(&id[..2]).join(id)
}

async fn files_go_both_ways_and_only_to_those_who_may_see_them(app: TestApp) {
    let owner = app.setup().await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    let bot = app.shop_bot(&owner).await;
    let (vera, chat) = app.pending_chat(&bot).await;
    alice.set_status(&app, "available").await;
    assert_eq!(alice.post(&app, &format!("/api/live-chats/{chat}/claim"), json!({})).await.status, 200);
    let mut alice_ws = Ws::agent(&app, &alice).await;
    let mut vera_ws = Ws::visitor(&app, &vera).await;

    // The visitor sends a picture, alone.
    let image = png(40, 30);
    let up = upload(&app, &vera.auth, "/api/widget/attachments", "C:\\Photos\\broken box.png", &image).await;
    assert_eq!(up.status, 201, "{}", up.body);
    assert_eq!(up.body["name"], "broken box.png", "the path is dropped");
    assert_eq!((up.body["kind"].as_str(), up.body["width"].as_i64(), up.body["height"].as_i64()), (Some("image"), Some(40), Some(30)));
    assert_eq!(up.body["size"].as_u64(), Some(image.len() as u64));
    let pic = up.body["id"].as_str().unwrap().to_string();
    assert!(blob_path(&app, &pic).exists(), "the bytes are stored under the data directory");

    // Before it is sent, only the visitor sees it.
    assert_eq!(fetch(&app, &alice.auth, &format!("/api/attachments/{pic}")).await.0, 404);
    // Plain text that looks like a tag is kept as the visitor wrote it.
    let kept = upload(&app, &vera.auth, "/api/widget/attachments", "kept.pdf", PDF).await.body["id"].as_str().unwrap().to_string();
    let r = vera.post(&app, "/api/widget/messages", json!({"body": "<3 thanks", "attachments": [kept]})).await;
    assert_eq!(r.body["text"], "<3 thanks", "{}", r.body);
    alice_ws.next_of("message.created").await;
    let r = vera.post(&app, "/api/widget/messages", json!({"body": "", "attachments": [pic]})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["body"], "");
    assert_eq!(r.body["text"], "Attachment: broken box.png", "the file name stands in for the text");
    assert_eq!(r.body["attachments"][0]["id"], pic.as_str());
    let frame = alice_ws.next_of("message.created").await;
    assert_eq!(frame["data"]["attachments"][0]["url"], format!("/api/attachments/{pic}"));
    let list = alice.get(&app, "/api/live-chats?view=mine").await;
    assert_eq!(list.body["items"][0]["last_message"]["preview"], "Attachment: broken box.png");

    // The agent sees it inline, with Baton's type; the visitor through the widget path.
    let (status, headers, bytes) = fetch(&app, &alice.auth, &format!("/api/attachments/{pic}")).await;
    assert_eq!(status, 200);
    assert_eq!(bytes, image);
    assert_eq!(headers["content-type"], "image/png");
    assert!(headers["content-disposition"].to_str().unwrap().starts_with("inline; filename=\"broken box.png\""));
    assert!(headers["content-security-policy"].to_str().unwrap().contains("sandbox"));
    let forced = fetch(&app, &alice.auth, &format!("/api/attachments/{pic}?download=true")).await;
    assert!(forced.1["content-disposition"].to_str().unwrap().starts_with("attachment;"));
    let (status, _, bytes) = fetch(&app, &vera.auth, &format!("/api/widget/attachments/{pic}")).await;
    assert_eq!((status, bytes == image), (200, true));

    // Others do not: another visitor, an agent without access to the bot, another team.
    let stranger = app.visitor(&bot).await;
    assert_eq!(fetch(&app, &stranger.auth, &format!("/api/widget/attachments/{pic}")).await.0, 404);
    let restricted = app.add_agent(&owner, "Rita", "chat_agent").await;
    let other_bot = app.bot(&owner, json!({"name": "Other"})).await;
    owner.patch(&app, &format!("/api/teams/{}/members/{}", owner.team, restricted.id), json!({"bot_access": [other_bot]})).await;
    assert_eq!(fetch(&app, &restricted.auth, &format!("/api/attachments/{pic}")).await.0, 404);
    assert_eq!(fetch(&app, &Auth::None, &format!("/api/attachments/{pic}")).await.0, 401);
    assert_eq!(fetch(&app, &alice.auth, "/api/attachments/not-an-id").await.0, 404);

    // The agent sends a PDF in a note (agents only) and one in a reply (the visitor too).
    let note_file = upload(&app, &alice.auth, &format!("/api/live-chats/{chat}/attachments"), "internal.pdf", PDF).await;
    assert_eq!(note_file.status, 201, "{}", note_file.body);
    let note_file = note_file.body["id"].as_str().unwrap().to_string();
    let r = alice.post(&app, &format!("/api/live-chats/{chat}/notes"), json!({"body": "<p>see the invoice</p>", "attachments": [note_file]})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["attachments"][0]["kind"], "pdf");
    assert_eq!(fetch(&app, &vera.auth, &format!("/api/widget/attachments/{note_file}")).await.0, 404, "a note's file never reaches the visitor");
    let reply_file = upload(&app, &alice.auth, &format!("/api/live-chats/{chat}/attachments"), "Rechnung März.pdf", PDF).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = alice.post(&app, &format!("/api/live-chats/{chat}/messages"), json!({"body": "Here it is", "attachments": [reply_file]})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let frame = vera_ws.until(|f| f["type"] == "message.created" && f["data"]["text"] == "Here it is").await;
    assert_eq!(frame.last().unwrap()["data"]["attachments"][0]["name"], "Rechnung März.pdf");
    let (status, headers, bytes) = fetch(&app, &vera.auth, &format!("/api/widget/attachments/{reply_file}")).await;
    assert_eq!((status, bytes.as_slice()), (200, PDF));
    assert_eq!(headers["content-type"], "application/pdf");
    let cd = headers["content-disposition"].to_str().unwrap();
    assert!(cd.starts_with("attachment; filename=\"Rechnung M_rz.pdf\"; filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf"), "{cd}");
    // The history carries the files.
    let history = alice.get(&app, &format!("/api/live-chats/{chat}")).await;
    let with_files: Vec<_> = history.body["messages"].as_array().unwrap().iter().filter(|m| m["attachments"].is_array()).collect();
    assert_eq!(with_files.len(), 4);

    // A file is sent once, only by whoever uploaded it, and only ids are accepted.
    let again = alice.post(&app, &format!("/api/live-chats/{chat}/messages"), json!({"body": "again", "attachments": [reply_file]})).await;
    again.assert_error(400, "invalid_input");
    let theirs = upload(&app, &vera.auth, "/api/widget/attachments", "a.pdf", PDF).await.body["id"].as_str().unwrap().to_string();
    alice
        .post(&app, &format!("/api/live-chats/{chat}/messages"), json!({"body": "x", "attachments": [theirs]}))
        .await
        .assert_error(400, "invalid_input");
    alice
        .post(&app, &format!("/api/live-chats/{chat}/messages"), json!({"body": "x", "attachments": ["nope"]}))
        .await
        .assert_error(400, "invalid_input");
    let eleven: Vec<String> = (0..11).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    alice
        .post(&app, &format!("/api/live-chats/{chat}/messages"), json!({"body": "x", "attachments": eleven}))
        .await
        .assert_error(400, "invalid_input");
    alice.post(&app, &format!("/api/live-chats/{chat}/messages"), json!({"body": ""})).await.assert_error(400, "invalid_input");
    // Nothing of those refusals was written.
    let after = alice.get(&app, &format!("/api/live-chats/{chat}")).await;
    assert_eq!(after.body["messages"].as_array().unwrap().len(), history.body["messages"].as_array().unwrap().len());

    // An agent cannot upload to a chat they cannot see.
    upload(&app, &restricted.auth, &format!("/api/live-chats/{chat}/attachments"), "a.pdf", PDF).await.assert_error(404, "not_found");
    let _ = app.call(Method::GET, "/api/me", &alice.auth, None).await;
}

async fn bad_uploads_get_a_clear_4xx_and_store_nothing(app: TestApp) {
    let owner = app.setup().await;
    let bot = app.shop_bot(&owner).await;
    let (vera, chat) = app.pending_chat(&bot).await;
    owner.set_status(&app, "available").await;
    assert_eq!(owner.post(&app, &format!("/api/live-chats/{chat}/claim"), json!({})).await.status, 200);
    let path = format!("/api/live-chats/{chat}/attachments");

    let cases: &[(&str, &[u8], u16, &str)] = &[
        ("renamed.png", PDF, 400, "invalid_input"),
        ("tool.exe", b"MZ\x90\x00", 400, "invalid_input"),
        ("page.html", b"<script>alert(1)</script>", 400, "invalid_input"),
        ("logo.svg", b"<svg onload=alert(1)>", 400, "invalid_input"),
        ("empty.pdf", b"", 400, "invalid_input"),
        ("", PDF, 400, "invalid_input"),
        ("binary.txt", b"\x00\x01\x02", 400, "invalid_input"),
        // A PNG signature over garbage does not decode.
        ("fake.png", b"\x89PNG\r\n\x1a\nnot really an image at all", 400, "invalid_input"),
    ];
    for (name, bytes, status, code) in cases {
        let r = upload(&app, &owner.auth, &path, name, bytes).await;
        assert_eq!((r.status, r.code()), (*status, *code), "{name}: {}", r.body);
    }
    // A visitor still with the bot sends files to nobody.
    let early = app.visitor(&bot).await;
    upload(&app, &early.auth, "/api/widget/attachments", "a.png", &png(4, 4)).await.assert_error(409, "attachments_not_open");
    // A picture whose header claims more pixels than Baton decodes.
    let huge = {
        let mut b = png(1, 1);
        // IHDR width and height (bytes 16..24) rewritten to 20000×20000, the CRC left wrong: the
        // size check comes before anything else is read.
        b[16..20].copy_from_slice(&20_000u32.to_be_bytes());
        b[20..24].copy_from_slice(&20_000u32.to_be_bytes());
        b
    };
    let r = upload(&app, &owner.auth, &path, "huge.png", &huge).await;
    r.assert_error(400, "invalid_input");
    // No name at all.
    let r = app.raw(auth_of(&owner.auth, app.http.post(format!("{}{path}", app.base)).body(PDF.to_vec()))).await;
    r.assert_error(400, "invalid_input");

    // The team's limits: size, kinds, off.
    let settings = format!("/api/teams/{}/settings", owner.team);
    for bad in [json!({"attachment_max_bytes": 26 * 1024 * 1024}), json!({"attachment_max_bytes": 10}), json!({"attachment_kinds": ["exe"]})] {
        owner.patch(&app, &settings, bad.clone()).await.assert_error(400, "invalid_input");
    }
    let r = owner.patch(&app, &settings, json!({"attachment_max_bytes": 2048, "attachment_kinds": ["image"]})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.body["attachment_max_bytes"].as_i64(), r.body["attachment_kinds"].clone()), (Some(2048), json!(["image"])));
    let r = upload(&app, &owner.auth, &path, "big.png", &vec![0u8; 4096]).await;
    r.assert_error(413, "too_large");
    assert!(r.body["error"]["message"].as_str().unwrap().contains("2 KB"), "{}", r.body);
    let r = upload(&app, &vera.auth, "/api/widget/attachments", "doc.pdf", PDF).await;
    r.assert_error(400, "invalid_input");
    assert!(r.body["error"]["message"].as_str().unwrap().contains("does not accept pdf"), "{}", r.body);
    assert_eq!(upload(&app, &vera.auth, "/api/widget/attachments", "ok.png", &png(4, 4)).await.status, 201);
    owner.patch(&app, &settings, json!({"attachment_max_bytes": 0})).await;
    upload(&app, &vera.auth, "/api/widget/attachments", "ok.png", &png(4, 4)).await.assert_error(409, "attachments_off");

    // Only the one good upload reached the disk.
    let stored: Vec<_> = walk(&app.settings().data_dir.join("files"));
    assert_eq!(stored.len(), 1, "{stored:?}");

    // Unsent uploads are capped per person.
    owner.patch(&app, &settings, json!({"attachment_max_bytes": 1024 * 1024, "attachment_kinds": ["pdf"]})).await;
    for _ in 0..20 {
        assert_eq!(upload(&app, &owner.auth, &path, "a.pdf", PDF).await.status, 201);
    }
    upload(&app, &owner.auth, &path, "a.pdf", PDF).await.assert_error(409, "too_many_uploads");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for shard in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        for f in std::fs::read_dir(shard.path()).into_iter().flatten().flatten() {
            out.push(f.path());
        }
    }
    out
}

async fn files_are_removed_when_discarded_never_sent_or_their_bot_is_deleted(app: TestApp) {
    let owner = app.setup().await;
    let bot = app.shop_bot(&owner).await;
    let (vera, chat) = app.pending_chat(&bot).await;
    owner.set_status(&app, "available").await;
    assert_eq!(owner.post(&app, &format!("/api/live-chats/{chat}/claim"), json!({})).await.status, 200);

    // Discarded by the uploader (and only by them).
    let a = upload(&app, &vera.auth, "/api/widget/attachments", "a.pdf", PDF).await.body["id"].as_str().unwrap().to_string();
    assert_eq!(owner.delete(&app, &format!("/api/attachments/{a}")).await.status, 404, "not the agent's upload");
    assert_eq!(vera.delete(&app, &format!("/api/widget/attachments/{a}")).await.status, 204);
    assert!(!blob_path(&app, &a).exists());
    assert_eq!(fetch(&app, &vera.auth, &format!("/api/widget/attachments/{a}")).await.0, 404);
    assert_eq!(vera.delete(&app, &format!("/api/widget/attachments/{a}")).await.status, 404);

    // Never sent: gone a day later, when the timers run.
    let unsent =
        upload(&app, &owner.auth, &format!("/api/live-chats/{chat}/attachments"), "u.pdf", PDF).await.body["id"].as_str().unwrap().to_string();
    app.clock.advance_ms((23 * 3600) * 1000);
    app.sweep().await;
    assert!(blob_path(&app, &unsent).exists(), "not yet");
    app.clock.advance_ms((2 * 3600) * 1000);
    app.sweep().await;
    assert!(!blob_path(&app, &unsent).exists(), "expired");
    assert_eq!(fetch(&app, &owner.auth, &format!("/api/attachments/{unsent}")).await.0, 404);

    // Sent files stay, then go with their bot's conversations.
    let sent = upload(&app, &vera.auth, "/api/widget/attachments", "s.pdf", PDF).await.body["id"].as_str().unwrap().to_string();
    assert_eq!(vera.post(&app, "/api/widget/messages", json!({"attachments": [sent]})).await.status, 201);
    app.clock.advance_ms((48 * 3600) * 1000);
    app.sweep().await;
    assert!(blob_path(&app, &sent).exists(), "a sent file does not expire");
    assert_eq!(owner.delete(&app, &format!("/api/bots/{bot}")).await.status, 204);
    assert!(!blob_path(&app, &sent).exists(), "removed with its conversation");

    // Bytes no row names (a crash between the two writes) are swept once old.
    let orphan = uuid::Uuid::now_v7().to_string();
    app.state.blobs.put(&orphan, bytes::Bytes::from_static(b"left over")).await.unwrap();
    assert_eq!(baton::services::attachments::remove_orphans(&app.state, std::time::Duration::from_secs(3600)).await.unwrap(), 0, "too young");
    assert_eq!(baton::services::attachments::remove_orphans(&app.state, std::time::Duration::ZERO).await.unwrap(), 1);
    assert!(!blob_path(&app, &orphan).exists());
}

backend_tests!(
    files_go_both_ways_and_only_to_those_who_may_see_them,
    bad_uploads_get_a_clear_4xx_and_store_nothing,
    files_are_removed_when_discarded_never_sent_or_their_bot_is_deleted
);
