//! The authorization matrix, generated from the served OpenAPI document: every operation whose
//! path names an object is called by every principal that must not reach that object (nobody,
//! a visitor, another team's owner, a member without an inbox, an agent without access to the
//! chat's bot, a teammate for someone else's personal things), once with the real object and
//! once with a random id of the same kind. Each must be refused, and refused exactly as the
//! random id is (same status, same code): a refusal that differs tells that the object exists.
//! Operations that only admins may use are also called by the team's non-admins, who must get
//! a refusal. A new operation is covered the day it is documented; one whose path parameter the
//! test cannot fill fails the test until it learns to.

use reqwest::Method;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::*;

const RANDOM: &str = "01900000-0000-7000-8000-0000000000aa";

/// The objects of team A that paths name, by parameter (and path, where one name means several
/// kinds).
struct Objects {
    team: String,
    bot: String,
    chat: String,
    user: String,
    shortcut: String,
    invitation: String,
    token: String,
    attachment: String,
    visitor: String,
    webhook: String,
    delivery: String,
}

impl Objects {
    fn fill(&self, path: &str, random: bool) -> Option<String> {
        let mut out = String::new();
        let mut rest = path;
        while let Some(start) = rest.find('{') {
            let end = rest[start..].find('}')? + start;
            let name = &rest[start + 1..end];
            let real = match name {
                "team" => &self.team,
                "bot" => &self.bot,
                "user" => &self.user,
                "invitation" => &self.invitation,
                "visitor" => &self.visitor,
                "webhook" => &self.webhook,
                "delivery" => &self.delivery,
                "id" if path.starts_with("/api/live-chats/") => &self.chat,
                "id" if path.starts_with("/api/shortcuts/") => &self.shortcut,
                "id" if path.starts_with("/api/tokens/") => &self.token,
                "id" if path.starts_with("/api/attachments/") || path.starts_with("/api/widget/attachments/") => &self.attachment,
                _ => return None,
            };
            out.push_str(&rest[..start]);
            out.push_str(if random { RANDOM } else { real });
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        Some(out)
    }
}

/// A body that passes validation, so a refusal cannot hide behind a 400.
fn body_for(method: &str, path: &str, alice: &str) -> Value {
    match (method, path) {
        ("post", p) if p.ends_with("/messages") || p.ends_with("/notes") => json!({"body": "hello"}),
        ("post", p) if p.ends_with("/transfer") => json!({"agent_id": alice}),
        ("post", p) if p.ends_with("/read") => json!({"up_to_seq": 0}),
        ("post", "/api/teams/{team}/members") => json!({"email": "new@acme.test", "role": "chat_agent"}),
        ("patch", "/api/teams/{team}/members/{user}") => json!({"role": "member"}),
        ("patch", "/api/teams/{team}/settings") => json!({"auto_away_minutes": 10}),
        ("post", "/api/teams/{team}/bots") | ("patch", "/api/bots/{bot}") => json!({"name": "Renamed"}),
        ("patch", "/api/shortcuts/{id}") => json!({"name": "renamed"}),
        ("post", "/api/visitors/{visitor}/erase") => json!({"confirm": "erase"}),
        ("post", "/api/teams/{team}/webhooks") => json!({"name": "W", "url": "https://hooks.example.com/w", "events": ["message.created"]}),
        ("patch", "/api/webhooks/{webhook}") => json!({"name": "renamed"}),
        _ => json!({}),
    }
}

/// Operations anyone may call with an object's id: public by design.
fn public(path: &str) -> bool {
    // Avatars are shown to visitors beside agents' replies; widget paths name a public bot.
    // (A file is not public: the widget's file paths are checked like any other.)
    path.starts_with("/api/avatars/") || (path.starts_with("/api/widget/") && !path.starts_with("/api/widget/attachments/"))
}

/// Operations only owners and admins of the team may use.
fn admin_only(method: &str, path: &str) -> bool {
    matches!(
        (method, path),
        ("post", "/api/teams/{team}/members")
            | ("patch" | "delete", "/api/teams/{team}/members/{user}")
            | ("get", "/api/teams/{team}/invitations")
            | ("delete", "/api/teams/{team}/invitations/{invitation}")
            | ("patch", "/api/teams/{team}/settings")
            | ("post", "/api/teams/{team}/bots")
            | ("patch" | "delete", "/api/bots/{bot}")
            | ("get", "/api/teams/{team}/audit")
            | ("get", "/api/teams/{team}/reports")
            | ("get", "/api/teams/{team}/reports/csv")
            | ("get", "/api/teams/{team}/visitors")
            | ("get" | "post", "/api/teams/{team}/webhooks")
            | ("get" | "patch" | "delete", "/api/webhooks/{webhook}")
            | ("post", "/api/webhooks/{webhook}/secret")
            | ("get", "/api/webhooks/{webhook}/deliveries")
            | ("post", "/api/webhooks/{webhook}/deliveries/{delivery}/redeliver")
            | ("post", "/api/visitors/{visitor}/export")
            | ("post", "/api/visitors/{visitor}/erase")
    )
}

async fn nobody_reaches_what_is_not_theirs(app: TestApp) {
    let l = app.scene().await;
    // Team A's cast beyond the scene: a member without an inbox, an agent with no bot access.
    let max = app.add_agent(&l.owner, "Max", "member").await;
    let rita = app.add_agent(&l.owner, "Rita", "chat_agent").await;
    let r = l.owner.patch(&app, &format!("/api/teams/{}/members/{}", l.owner.team, rita.id), json!({"bot_access": []})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Team B: Mallory, once of team A, now owns a team of her own with a bot and a visitor.
    let mallory = app.add_agent(&l.owner, "Mallory", "admin").await;
    assert_eq!(mallory.delete(&app, &format!("/api/teams/{}/members/{}", l.owner.team, mallory.id)).await.status, 204);
    let b_team = mallory.post(&app, "/api/teams", json!({"name": "B"})).await.body["id"].as_str().unwrap().to_string();
    mallory.put(&app, "/api/me/active-team", json!({"team_id": b_team})).await;
    let mallory = Agent { team: b_team.clone(), ..mallory };
    let b_bot = app.bot(&mallory, json!({"name": "B bot"})).await;
    let b_visitor = app.visitor(&b_bot).await;
    // Team A's objects.
    let shortcut = l.owner.post(&app, "/api/shortcuts", json!({"name": "mine", "body": "Owner's own words"})).await;
    assert_eq!(shortcut.status, 201, "{}", shortcut.body);
    let invitation = l.owner.post(&app, &format!("/api/teams/{}/members", l.owner.team), json!({"email": "zed@acme.test", "role": "member"})).await;
    let token = l.owner.post(&app, "/api/tokens", json!({"name": "script"})).await;
    // A file in an internal note of the chat: not even the chat's visitor may have it.
    let Auth::Bearer(owner_token) = &l.owner.auth else { unreachable!() };
    let upload = format!("{}/api/live-chats/{}/attachments?name=a.pdf", app.base, l.chat);
    let up = app.raw(app.http.post(upload).bearer_auth(owner_token).body(&b"%PDF-1.4 x"[..])).await;
    assert_eq!(up.status, 201, "{}", up.body);
    let attachment = up.body["id"].as_str().unwrap().to_string();
    let sent = l.owner.post(&app, &format!("/api/live-chats/{}/notes", l.chat), json!({"body": "see this", "attachments": [attachment]})).await;
    assert_eq!(sent.status, 201, "{}", sent.body);
    // The chat's visitor, and a webhook of team A with one delivery in its log.
    let visitor = l.owner.get(&app, &format!("/api/live-chats/{}/visitor", l.chat)).await.body["visitor"]["id"].as_str().unwrap().to_string();
    let hook = l
        .owner
        .post(
            &app,
            &format!("/api/teams/{}/webhooks", l.owner.team),
            json!({"name": "W", "url": "https://hooks.example.com/a", "events": ["message.created"]}),
        )
        .await;
    assert_eq!(hook.status, 201, "{}", hook.body);
    let webhook = hook.body["id"].as_str().unwrap().to_string();
    assert_eq!(l.owner.post(&app, &format!("/api/live-chats/{}/notes", l.chat), json!({"body": "for the log"})).await.status, 201);
    let log = l.owner.get(&app, &format!("/api/webhooks/{webhook}/deliveries")).await;
    let delivery = log.body["items"][0]["id"].as_str().unwrap().to_string();
    let objects = Objects {
        team: l.owner.team.clone(),
        bot: l.bot.clone(),
        chat: l.chat.clone(),
        // Bob: never one of the callers below, so no check is someone leaving the team.
        user: l.bob.id.clone(),
        shortcut: shortcut.body["id"].as_str().unwrap().into(),
        invitation: invitation.body["id"].as_str().unwrap().into(),
        token: token.body["id"].as_str().unwrap().into(),
        attachment,
        visitor,
        webhook,
        delivery,
    };

    // Who must not reach which of team A's objects.
    let outsiders: [(&str, &Auth); 4] =
        [("nobody", &Auth::None), ("team A's visitor", &l.visitor.auth), ("team B's owner", &mallory.auth), ("team B's visitor", &b_visitor.auth)];
    let insiders_without_the_chat: [(&str, &Agent); 2] = [("a member without an inbox", &max), ("an agent without the bot", &rita)];

    let doc = app.get("/api/openapi.json").await.body;
    let mut checked = 0;
    let mut failures = vec![];
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, _op) in item.as_object().unwrap() {
            if !path.contains('{') || public(path) {
                continue;
            }
            let Some(real) = objects.fill(path, false) else {
                failures.push(format!("{method} {path}: the matrix cannot fill this path's parameters; teach `Objects::fill`"));
                continue;
            };
            let random = objects.fill(path, true).unwrap();
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = (method != "get" && method != "delete").then(|| body_for(method, path, &l.alice.id));
            let mut principals: Vec<(&str, &Auth)> = outsiders.to_vec();
            if path.starts_with("/api/live-chats/") || path.starts_with("/api/attachments/") {
                principals.extend(insiders_without_the_chat.iter().map(|(who, a)| (*who, &a.auth)));
            }
            if path.starts_with("/api/shortcuts/") || path.starts_with("/api/tokens/") {
                // The owner's personal shortcut and token: not even a teammate's.
                principals.push(("a teammate", &l.alice.auth));
            }
            if path.starts_with("/api/invitations/") {
                principals.push(("a teammate", &l.alice.auth));
            }
            for (who, auth) in principals {
                let on_real = app.call(m.clone(), &real, auth, body.clone()).await;
                let on_random = app.call(m.clone(), &random, auth, body.clone()).await;
                checked += 1;
                if (200..300).contains(&on_real.status) {
                    failures.push(format!("{method} {path}: {who} got {} {}", on_real.status, on_real.body));
                } else if (on_real.status, on_real.code()) != (on_random.status, on_random.code()) {
                    failures.push(format!(
                        "{method} {path}: {who} is told the object exists: {} {} for it, {} {} for a random id",
                        on_real.status,
                        on_real.code(),
                        on_random.status,
                        on_random.code()
                    ));
                }
            }
            if admin_only(method, path) {
                for (who, agent) in [("a chat agent", &l.alice), ("a member", &max)] {
                    let r = app.call(m.clone(), &real, &agent.auth, body.clone()).await;
                    checked += 1;
                    if r.status != 403 {
                        failures.push(format!("{method} {path}: {who} got {} {} where only admins may", r.status, r.body));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {checked} checks failed:\n{}", failures.len(), failures.join("\n"));
    assert!(checked >= 120, "the matrix ran {checked} checks");
    // The objects were real all along: their owner reaches each of them.
    for path in [
        format!("/api/teams/{}/members", objects.team),
        format!("/api/bots/{}", objects.bot),
        format!("/api/live-chats/{}", objects.chat),
        format!("/api/shortcuts/{}", objects.shortcut),
        format!("/api/teams/{}/invitations", objects.team),
        format!("/api/webhooks/{}/deliveries", objects.webhook),
    ] {
        assert_eq!(l.owner.get(&app, &path).await.status, 200, "{path}");
    }
}

backend_tests!(nobody_reaches_what_is_not_theirs);
