//! Accounts by email, against a real SMTP server: an invitation for someone without an account
//! carries a link to set a password and join (expiring, dying when withdrawn, used once), and a
//! forgotten password is reset by an emailed link that ends every session.

use serde_json::json;

use crate::backend_tests;
use crate::helpers::*;
use crate::notifications::{smtp_server, smtp_to};
use crate::webhooks::quoted_printable;

/// The secret after `#` in the last link to `path` mailed to `to`.
fn link_in(mails: &std::sync::Arc<std::sync::Mutex<Vec<String>>>, to: &str, path: &str) -> Option<String> {
    let all = mails.lock().unwrap().clone();
    let mail = all.iter().rev().map(|m| quoted_printable(m)).find(|m| m.contains(&format!("To: {to}")))?;
    let at = mail.find(&format!("{path}#"))? + path.len() + 1;
    Some(mail[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect())
}

async fn an_invitation_by_email_lets_someone_set_a_password_and_join(app: TestApp) {
    let (port, mails) = smtp_server().await;
    let app = TestApp::spawn_with(app.backend, |s| s.smtp = Some(smtp_to(port))).await;
    let owner = app.setup().await;
    let team = owner.team.clone();
    let r =
        owner.post(&app, &format!("/api/teams/{team}/members"), json!({"email": "nina@acme.test", "role": "chat_agent", "first_name": "Nina"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["emailed"], true);
    assert!(r.body.get("join_url").is_none(), "the link goes to the invitee only");
    app.sweep().await;
    let token = link_in(&mails, "nina@acme.test", "/app/join").expect("an invitation mail with the link");
    let mail = quoted_printable(mails.lock().unwrap().last().unwrap());
    assert!(mail.contains("Olivia Owner invited you to join Acme"), "{mail}");

    // What the link invites to.
    let p = app.post("/api/join/preview", json!({"token": token})).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(
        (p.body["team_name"].as_str(), p.body["email"].as_str(), p.body["first_name"].as_str()),
        (Some("Acme"), Some("nina@acme.test"), Some("Nina"))
    );
    // Bad input first: nothing is made.
    app.post("/api/join", json!({"token": token, "password": "short"})).await.assert_error(400, "invalid_input");
    app.post("/api/join", json!({"token": "not a token!", "password": "long-enough-password"})).await.assert_error(400, "invalid_input");
    app.post("/api/join", json!({"token": "abc", "password": "long-enough-password"})).await.assert_error(404, "not_found");
    // Joining signs her in, as a member of the team.
    let res = app
        .http
        .post(format!("{}/api/join", app.base))
        .json(&json!({"token": token, "password": "nina-password", "last_name": "Nowak"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!((body["user"]["email"].as_str(), body["user"]["display_name"].as_str()), (Some("nina@acme.test"), Some("Nina Nowak")));
    let nina = Auth::Cookie { cookie, csrf: Some(body["csrf_token"].as_str().unwrap().into()) };
    let me = app.call(reqwest::Method::GET, "/api/me", &nina, None).await;
    assert_eq!((me.body["active_team_id"].as_str(), me.body["teams"][0]["role"].as_str()), (Some(team.as_str()), Some("chat_agent")));
    // Once only; and her password works.
    app.post("/api/join", json!({"token": token, "password": "another-password"})).await.assert_error(404, "not_found");
    app.post("/api/join/preview", json!({"token": token})).await.assert_error(404, "not_found");
    app.login("nina@acme.test", "nina-password").await;
    let log = owner.get(&app, &format!("/api/teams/{team}/audit?action=member.joined")).await;
    assert_eq!(log.body["items"][0]["target"]["label"], "Nina Nowak");

    // A withdrawn invitation's link dies; so does an expired one.
    let r = owner.post(&app, &format!("/api/teams/{team}/members"), json!({"email": "omar@acme.test", "role": "member"})).await;
    app.sweep().await;
    let omar = link_in(&mails, "omar@acme.test", "/app/join").unwrap();
    assert_eq!(owner.delete(&app, &format!("/api/teams/{team}/invitations/{}", r.body["id"].as_str().unwrap())).await.status, 204);
    app.post("/api/join", json!({"token": omar, "password": "omar-password"})).await.assert_error(404, "not_found");
    assert_eq!(owner.post(&app, &format!("/api/teams/{team}/members"), json!({"email": "pia@acme.test", "role": "member"})).await.status, 201);
    app.sweep().await;
    let pia = link_in(&mails, "pia@acme.test", "/app/join").unwrap();
    app.clock.advance_ms(15 * 86_400_000);
    app.post("/api/join/preview", json!({"token": pia})).await.assert_error(404, "not_found");
    app.post("/api/join", json!({"token": pia, "password": "pia-password-1"})).await.assert_error(404, "not_found");
    // An email that has an account gets a mail to sign in and accept, and no link.
    let other = owner.post(&app, "/api/teams", json!({"name": "Other"})).await;
    let r = owner
        .post(&app, &format!("/api/teams/{}/members", other.body["id"].as_str().unwrap()), json!({"email": "nina@acme.test", "role": "member"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    app.sweep().await;
    let last = quoted_printable(mails.lock().unwrap().iter().rev().find(|m| m.contains("To: nina@acme.test")).unwrap());
    assert!(last.contains("Sign in to accept") && !last.contains("/app/join#"), "{last}");
}

async fn a_forgotten_password_is_reset_by_an_emailed_link_once(app: TestApp) {
    let (port, mails) = smtp_server().await;
    let app = TestApp::spawn_with(app.backend, |s| {
        s.smtp = Some(smtp_to(port));
        s.login_per_minute = 6;
    })
    .await;
    let owner = app.setup().await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    let session = app.login("alice@acme.test", "agent-password").await;
    assert_eq!(app.post("/api/auth/password-reset", json!({"email": "nobody@acme.test"})).await.status, 202, "the same answer for no account");
    assert_eq!(app.post("/api/auth/password-reset", json!({"email": "ALICE@acme.test"})).await.status, 202);
    app.sweep().await;
    assert!(!mails.lock().unwrap().iter().any(|m| m.contains("nobody@acme.test")), "no mail to an address without an account");
    let token = link_in(&mails, "alice@acme.test", "/app/reset").expect("a reset mail");

    app.post("/api/auth/password-reset/confirm", json!({"token": token, "password": "short"})).await.assert_error(400, "invalid_input");
    assert_eq!(app.post("/api/auth/password-reset/confirm", json!({"token": token, "password": "a-brand-new-password"})).await.status, 204);
    app.post("/api/auth/password-reset/confirm", json!({"token": token, "password": "yet-another-password"})).await.assert_error(404, "not_found");
    // The new password works, the old does not, and every session ended.
    app.post("/api/auth/login", json!({"email": "alice@acme.test", "password": "agent-password"})).await.assert_error(401, "invalid_credentials");
    app.login("alice@acme.test", "a-brand-new-password").await;
    app.call(reqwest::Method::GET, "/api/me", &session, None).await.assert_error(401, "unauthenticated");
    let log = owner.get(&app, &format!("/api/teams/{}/audit?action=password.reset", owner.team)).await;
    assert_eq!(log.body["items"][0]["actor"]["id"], alice.id.as_str());

    // A link lasts an hour, and a newer one replaces it.
    assert_eq!(app.post("/api/auth/password-reset", json!({"email": "alice@acme.test"})).await.status, 202);
    app.sweep().await;
    let first = link_in(&mails, "alice@acme.test", "/app/reset").unwrap();
    assert_eq!(app.post("/api/auth/password-reset", json!({"email": "alice@acme.test"})).await.status, 202);
    app.sweep().await;
    let second = link_in(&mails, "alice@acme.test", "/app/reset").unwrap();
    assert_ne!(first, second);
    app.post("/api/auth/password-reset/confirm", json!({"token": first, "password": "first-link-password"})).await.assert_error(404, "not_found");
    app.clock.advance_ms(61 * 60_000);
    app.post("/api/auth/password-reset/confirm", json!({"token": second, "password": "second-link-password"})).await.assert_error(404, "not_found");
    // Asking is rate-limited per address.
    let mut limited = false;
    for _ in 0..10 {
        let r = app.post("/api/auth/password-reset", json!({"email": "owner@acme.test"})).await;
        if r.status == 429 {
            limited = true;
            break;
        }
    }
    assert!(limited, "asking again and again is refused");
    app.post("/api/auth/password-reset", json!({"email": "not an email"})).await.assert_error(400, "invalid_input");
}

async fn without_email_the_reset_is_refused_in_words(app: TestApp) {
    let owner = app.setup().await;
    let r = app.post("/api/auth/password-reset", json!({"email": "owner@acme.test"})).await;
    r.assert_error(409, "email_not_configured");
    let r = owner.post(&app, &format!("/api/teams/{}/members", owner.team), json!({"email": "zoe@acme.test", "role": "chat_agent"})).await;
    assert_eq!((r.body["emailed"].as_bool(), r.body.get("join_url")), (Some(false), None), "{}", r.body);
}

backend_tests!(
    an_invitation_by_email_lets_someone_set_a_password_and_join,
    a_forgotten_password_is_reset_by_an_emailed_link_once,
    without_email_the_reset_is_refused_in_words,
    single_sign_on_is_off_unless_configured_and_refuses_what_it_did_not_start
);

async fn single_sign_on_is_off_unless_configured_and_refuses_what_it_did_not_start(app: TestApp) {
    let m = app.get("/api/auth/methods").await;
    assert_eq!(m.body, json!({"password": true, "email": false}));
    app.get("/api/auth/oidc/start").await.assert_error(404, "not_found");
    app.get("/api/auth/oidc/callback?code=x&state=y").await.assert_error(404, "not_found");

    // Configured, with a provider that is not there.
    let sso = TestApp::spawn_with(app.backend, |s| {
        s.oidc = Some(baton::services::oidc::OidcSettings {
            issuer: "http://127.0.0.1:9".into(),
            client_id: "baton".into(),
            client_secret: Some("secret".into()),
            name: "Acme SSO".into(),
        })
    })
    .await;
    let m = sso.get("/api/auth/methods").await;
    assert_eq!(m.body["oidc"], json!({"name": "Acme SSO", "start_url": "/api/auth/oidc/start"}));
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let go = |path: &str| {
        let url = format!("{}{path}", sso.base);
        let c = no_redirects.clone();
        async move {
            let r = c.get(url).send().await.unwrap();
            assert_eq!(r.status(), 303);
            assert!(!r.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("baton_session=")), "never signed in");
            let to = reqwest::Url::parse(&format!("http://x{}", r.headers()["location"].to_str().unwrap())).unwrap();
            assert_eq!(to.path(), "/app/login");
            to.query_pairs().find(|(k, _)| k == "sso_error").map(|(_, v)| v.into_owned()).unwrap()
        }
    };
    assert_eq!(go("/api/auth/oidc/start").await, "provider");
    assert_eq!(go("/api/auth/oidc/callback?code=abc&state=never-started").await, "expired");
    assert_eq!(go("/api/auth/oidc/callback?error=access_denied&state=x").await, "cancelled");
    assert_eq!(
        go("/api/auth/oidc/callback?error=server_error&error_description=Your+account+is+locked").await,
        "refused",
        "no text from the request"
    );
    assert_eq!(go("/api/auth/oidc/callback").await, "incomplete");
}
