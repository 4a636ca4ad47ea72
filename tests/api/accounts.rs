//! Set-up, login, sessions and CSRF, API tokens, profile, avatar, status.

use reqwest::Method;
use serde_json::json;

use crate::backend_tests;
use crate::helpers::*;

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

async fn setup_happens_once_even_when_raced(app: TestApp) {
    let app = std::sync::Arc::new(app);
    let handles: Vec<_> = (0..6)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                app.post("/api/setup", json!({"email": format!("first{i}@acme.test"), "password": "first-password", "first_name": "F", "last_name": "L", "team_name": "T"})).await
            })
        })
        .collect();
    let mut created = 0;
    for h in handles {
        let r = h.await.unwrap();
        match r.status {
            201 => created += 1,
            _ => r.assert_error(409, "already_set_up"),
        }
    }
    assert_eq!(created, 1);
}

async fn setup_returns_the_user_and_team_and_validates_input(app: TestApp) {
    let bad =
        app.post("/api/setup", json!({"email": "nope", "password": "long-enough", "first_name": "A", "last_name": "B", "team_name": "T"})).await;
    bad.assert_error(400, "invalid_input");
    assert!(bad.body["error"]["message"].as_str().unwrap().starts_with("email"));
    app.post("/api/setup", json!({"email": "a@b.test", "password": "short", "first_name": "A", "last_name": "B", "team_name": "T"}))
        .await
        .assert_error(400, "invalid_input");
    app.post("/api/setup", json!({"email": "a@b.test", "password": "long-enough", "first_name": "A", "last_name": "B", "team_name": " "}))
        .await
        .assert_error(400, "invalid_input");
    let ok = app
        .post(
            "/api/setup",
            json!({"email": "Ada@Example.test", "password": "long-enough", "first_name": "Ada", "last_name": "Lovelace", "team_name": "Engines"}),
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert_eq!(ok.body["user"]["email"], "ada@example.test");
    assert_eq!(ok.body["user"]["display_name"], "Ada Lovelace");
    assert_eq!(ok.body["team"]["name"], "Engines");
}

async fn login_sets_an_http_only_cookie_and_refuses_bad_credentials(app: TestApp) {
    app.setup().await;
    let wrong = app.post("/api/auth/login", json!({"email": "owner@acme.test", "password": "wrong-password"})).await;
    wrong.assert_error(401, "invalid_credentials");
    app.post("/api/auth/login", json!({"email": "ghost@acme.test", "password": "owner-password"})).await.assert_error(401, "invalid_credentials");
    let res = app
        .http
        .post(format!("{}/api/auth/login", app.base))
        .json(&json!({"email": "OWNER@acme.test", "password": "owner-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.starts_with("baton_session="), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain-http local runs must be able to log in");
}

async fn cookie_writes_need_the_csrf_token_but_tokens_do_not(app: TestApp) {
    app.setup().await;
    let session = app.login("owner@acme.test", "owner-password").await;
    let Auth::Cookie { cookie, csrf } = session.clone() else { unreachable!() };
    let no_csrf = Auth::Cookie { cookie: cookie.clone(), csrf: None };
    let wrong = Auth::Cookie { cookie: cookie.clone(), csrf: Some("forged".into()) };
    for auth in [&no_csrf, &wrong] {
        let r = app.call(Method::PATCH, "/api/me", auth, Some(json!({"first_name": "Mallory"}))).await;
        r.assert_error(403, "forbidden");
    }
    // reads need no token
    let me = app.call(Method::GET, "/api/me", &no_csrf, None).await;
    assert_eq!(me.body["user"]["first_name"], "Olivia", "the forged write changed nothing");
    assert_eq!(me.body["csrf_token"].as_str(), csrf.as_deref(), "a reloaded page can recover its token");
    let ok = app.call(Method::PATCH, "/api/me", &session, Some(json!({"first_name": "Liv"}))).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let token = app.call(Method::POST, "/api/tokens", &session, Some(json!({"name": "ci"}))).await;
    assert_eq!(token.status, 201);
    assert!(token.body["token"].as_str().unwrap().starts_with("bt_"));
    let bearer = Auth::Bearer(token.body["token"].as_str().unwrap().into());
    let r = app.call(Method::PATCH, "/api/me", &bearer, Some(json!({"last_name": "Token"}))).await;
    assert_eq!(r.body["display_name"], "Liv Token");
}

async fn logout_ends_the_session(app: TestApp) {
    app.setup().await;
    let session = app.login("owner@acme.test", "owner-password").await;
    assert_eq!(app.call(Method::POST, "/api/auth/logout", &session, None).await.status, 204);
    app.call(Method::GET, "/api/me", &session, None).await.assert_error(401, "unauthenticated");
}

async fn unauthenticated_and_forged_credentials_get_401(app: TestApp) {
    app.setup().await;
    app.get("/api/me").await.assert_error(401, "unauthenticated");
    app.call(Method::GET, "/api/me", &Auth::Bearer("bt_not-a-real-token".into()), None).await.assert_error(401, "unauthenticated");
    app.call(Method::GET, "/api/me", &Auth::Cookie { cookie: "baton_session=nope".into(), csrf: None }, None)
        .await
        .assert_error(401, "unauthenticated");
}

async fn login_is_rate_limited(app: TestApp) {
    let app = TestApp::spawn_with(app.backend, |s| s.login_per_minute = 3).await;
    app.setup().await;
    for _ in 0..3 {
        app.post("/api/auth/login", json!({"email": "owner@acme.test", "password": "wrong-password"})).await.assert_error(401, "invalid_credentials");
    }
    let limited = app.post("/api/auth/login", json!({"email": "owner@acme.test", "password": "owner-password"})).await;
    limited.assert_error(429, "rate_limited");
    let retry: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    app.clock.advance_ms(61_000);
    assert_eq!(app.post("/api/auth/login", json!({"email": "owner@acme.test", "password": "owner-password"})).await.status, 200);
}

async fn failed_logins_cannot_lock_a_user_out_of_an_address_they_use(app: TestApp) {
    let app = TestApp::spawn_with(app.backend, |s| {
        s.login_per_minute = 3;
        s.trusted_proxies = baton::services::clients::TrustedProxies::new(vec!["127.0.0.1".parse().unwrap()]);
    })
    .await;
    app.setup().await;
    let login = |from: &str, password: &str| {
        app.http
            .post(format!("{}/api/auth/login", app.base))
            .header("x-forwarded-for", from)
            .json(&json!({"email": "owner@acme.test", "password": password}))
    };
    // The owner logs in from home once.
    assert_eq!(app.raw(login("198.51.100.7", "owner-password")).await.status, 200);
    // Someone guesses from elsewhere, changing address after every failure.
    for i in 0..3 {
        app.raw(login(&format!("203.0.113.{i}"), "wrong-password")).await.assert_error(401, "invalid_credentials");
    }
    // The account is now shut to addresses it was never used from, even with the right password…
    app.raw(login("203.0.113.200", "owner-password")).await.assert_error(429, "rate_limited");
    // …but not to the owner at home.
    assert_eq!(app.raw(login("198.51.100.7", "owner-password")).await.status, 200);
    // An address guessing across accounts is limited by its own failures.
    for i in 0..3 {
        let guess = app
            .http
            .post(format!("{}/api/auth/login", app.base))
            .header("x-forwarded-for", "203.0.113.77")
            .json(&json!({"email": format!("someone{i}@acme.test"), "password": "wrong-password"}));
        app.raw(guess).await.assert_error(401, "invalid_credentials");
    }
    let guess = app
        .http
        .post(format!("{}/api/auth/login", app.base))
        .header("x-forwarded-for", "203.0.113.77")
        .json(&json!({"email": "someone-else@acme.test", "password": "wrong-password"}));
    app.raw(guess).await.assert_error(429, "rate_limited");
    // Failures from a known address still count against that address.
    for _ in 0..3 {
        app.raw(login("198.51.100.7", "wrong-password")).await.assert_error(401, "invalid_credentials");
    }
    app.raw(login("198.51.100.7", "owner-password")).await.assert_error(429, "rate_limited");
}

async fn me_reports_teams_and_display_name_falls_back_to_the_email(app: TestApp) {
    let owner = app.setup().await;
    let me = owner.get(&app, "/api/me").await;
    assert_eq!(me.body["teams"][0]["role"], "owner");
    assert_eq!(me.body["active_team_id"], owner.team.as_str());
    assert_eq!((me.body["status"].as_str(), me.body["status_source"].as_str()), (Some("offline"), Some("manual")), "new agents start offline");
    let r = owner.patch(&app, "/api/me", json!({"first_name": "", "last_name": "  "})).await;
    assert_eq!(r.body["display_name"], "owner@acme.test");
    let r = owner.patch(&app, "/api/me", json!({"email": "Olivia@Acme.test", "current_password": "owner-password"})).await;
    assert_eq!(r.body["email"], "olivia@acme.test");
}

async fn changing_to_a_taken_email_is_refused(app: TestApp) {
    let owner = app.setup().await;
    app.add_agent(&owner, "Alice", "chat_agent").await;
    owner.patch(&app, "/api/me", json!({"email": "alice@acme.test", "current_password": "owner-password"})).await.assert_error(409, "email_taken");
    assert_eq!(owner.get(&app, "/api/me").await.body["user"]["email"], "owner@acme.test");
}

async fn avatars_are_decoded_resized_and_served(app: TestApp) {
    let owner = app.setup().await;
    let Auth::Bearer(token) = &owner.auth else { unreachable!() };
    let r = app.raw(app.http.put(format!("{}/api/me/avatar", app.base)).bearer_auth(token).body(png(600, 300))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let url = r.body["avatar_url"].as_str().unwrap().to_string();
    let me = owner.get(&app, "/api/me").await;
    assert_eq!(me.body["user"]["avatar_url"], url.as_str());
    let img = app.http.get(format!("{}{}", app.base, url)).send().await.unwrap();
    assert_eq!(img.headers()["content-type"], "image/png");
    let decoded = image::load_from_memory(&img.bytes().await.unwrap()).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (256, 128), "fitted into 256×256");
}

async fn bad_avatars_are_refused_and_change_nothing(app: TestApp) {
    let owner = app.setup().await;
    let Auth::Bearer(token) = &owner.auth else { unreachable!() };
    let put = |body: Vec<u8>| app.http.put(format!("{}/api/me/avatar", app.base)).bearer_auth(token).body(body);
    app.raw(put(b"<svg onload=alert(1)></svg>".to_vec())).await.assert_error(400, "invalid_input");
    let mut truncated = png(64, 64);
    truncated.truncate(100);
    app.raw(put(truncated)).await.assert_error(400, "invalid_input");
    app.raw(put(vec![])).await.assert_error(400, "invalid_input");
    app.raw(put(vec![0u8; 2 * 1024 * 1024 + 1])).await.assert_error(413, "too_large");
    assert_eq!(owner.get(&app, "/api/me").await.body["user"]["avatar_url"], serde_json::Value::Null);
}

async fn status_is_set_manually_and_validated(app: TestApp) {
    let owner = app.setup().await;
    let r = owner.put(&app, "/api/me/status", json!({"status": "busy"})).await;
    assert_eq!((r.body["status"].as_str(), r.body["source"].as_str()), (Some("busy"), Some("manual")));
    owner.put(&app, "/api/me/status", json!({"status": "online"})).await.assert_error(400, "invalid_input");
    let me = owner.get(&app, "/api/me").await;
    assert_eq!(me.body["status"], "busy");
    assert!(me.body["last_active_at"].is_string());
}

backend_tests!(
    setup_happens_once_even_when_raced,
    setup_returns_the_user_and_team_and_validates_input,
    login_sets_an_http_only_cookie_and_refuses_bad_credentials,
    cookie_writes_need_the_csrf_token_but_tokens_do_not,
    logout_ends_the_session,
    unauthenticated_and_forged_credentials_get_401,
    login_is_rate_limited,
    failed_logins_cannot_lock_a_user_out_of_an_address_they_use,
    me_reports_teams_and_display_name_falls_back_to_the_email,
    changing_to_a_taken_email_is_refused,
    avatars_are_decoded_resized_and_served,
    bad_avatars_are_refused_and_change_nothing,
    status_is_set_manually_and_validated,
);

mod credentials {
    use reqwest::Method;
    use serde_json::json;

    use crate::backend_tests;
    use crate::helpers::*;

    async fn tokens_are_listed_with_their_last_use_revocable_and_can_expire(app: TestApp) {
        let owner = app.setup().await;
        let made = owner.post(&app, "/api/tokens", json!({"name": "deploy", "expires_in_days": 1})).await;
        assert_eq!(made.status, 201, "{}", made.body);
        assert!(made.body["expires_at"].is_string());
        let deploy = Auth::Bearer(made.body["token"].as_str().unwrap().into());
        assert_eq!(app.call(Method::GET, "/api/me", &deploy, None).await.status, 200);
        let list = owner.get(&app, "/api/tokens").await.body;
        let row = list.as_array().unwrap().iter().find(|t| t["name"] == "deploy").expect("listed").clone();
        assert!(row["last_used_at"].is_string(), "{row}");
        assert!(row.get("token").is_none() && row.get("token_hash").is_none(), "never the secret");
        // A day later it no longer works.
        app.clock.advance_ms(86_400_000 + 1);
        app.call(Method::GET, "/api/me", &deploy, None).await.assert_error(401, "unauthenticated");
        // Revoking another one by id.
        let script = owner.post(&app, "/api/tokens", json!({"name": "script"})).await;
        let id = script.body["id"].as_str().unwrap().to_string();
        let script = Auth::Bearer(script.body["token"].as_str().unwrap().into());
        assert_eq!(owner.delete(&app, &format!("/api/tokens/{id}")).await.status, 204);
        app.call(Method::GET, "/api/me", &script, None).await.assert_error(401, "unauthenticated");
        owner.delete(&app, &format!("/api/tokens/{id}")).await.assert_error(404, "not_found");
        owner.post(&app, "/api/tokens", json!({"name": "x", "expires_in_days": 0})).await.assert_error(400, "invalid_input");
    }

    async fn changing_the_password_asks_the_old_one_and_ends_other_sessions(app: TestApp) {
        let owner = app.setup().await;
        let laptop = app.login("owner@acme.test", "owner-password").await;
        let phone = app.login("owner@acme.test", "owner-password").await;
        let change = |current: &str, new: &str| json!({"current_password": current, "new_password": new});
        let r = app.call(Method::PUT, "/api/me/password", &laptop, Some(change("wrong-one", "a much better one"))).await;
        r.assert_error(403, "wrong_password");
        let r = app.call(Method::PUT, "/api/me/password", &laptop, Some(change("owner-password", "12345678"))).await;
        r.assert_error(400, "invalid_input");
        assert!(r.body["error"]["message"].as_str().unwrap().starts_with("new_password"), "{}", r.body);
        assert_eq!(app.call(Method::PUT, "/api/me/password", &laptop, Some(change("owner-password", "a much better one"))).await.status, 204);
        assert_eq!(app.call(Method::GET, "/api/me", &laptop, None).await.status, 200, "this session goes on");
        app.call(Method::GET, "/api/me", &phone, None).await.assert_error(401, "unauthenticated");
        let r = app.post("/api/auth/login", json!({"email": "owner@acme.test", "password": "owner-password"})).await;
        r.assert_error(401, "invalid_credentials");
        app.login("owner@acme.test", "a much better one").await;
        assert_eq!(owner.get(&app, "/api/me").await.status, 200, "API tokens stay");
    }

    async fn logging_out_everywhere_ends_every_session(app: TestApp) {
        app.setup().await;
        let a = app.login("owner@acme.test", "owner-password").await;
        let b = app.login("owner@acme.test", "owner-password").await;
        assert_eq!(app.call(Method::POST, "/api/auth/logout-everywhere", &a, None).await.status, 204);
        for s in [&a, &b] {
            app.call(Method::GET, "/api/me", s, None).await.assert_error(401, "unauthenticated");
        }
    }

    async fn a_new_email_takes_the_password_and_easy_passwords_are_refused(app: TestApp) {
        let owner = app.setup().await;
        let r = owner.patch(&app, "/api/me", json!({"email": "new@acme.test"})).await;
        r.assert_error(400, "invalid_input");
        owner.patch(&app, "/api/me", json!({"email": "new@acme.test", "current_password": "nope-nope"})).await.assert_error(403, "wrong_password");
        assert_eq!(owner.get(&app, "/api/me").await.body["user"]["email"], "owner@acme.test", "nothing changed");
        // The same email in other letters, or other fields, need no password.
        assert_eq!(owner.patch(&app, "/api/me", json!({"email": "OWNER@acme.test", "first_name": "Liv"})).await.status, 200);
        let r = owner.patch(&app, "/api/me", json!({"email": "new@acme.test", "current_password": "owner-password"})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["email"], "new@acme.test");
        let members = format!("/api/teams/{}/members", owner.team);
        for easy in ["12345678", "password1", "Qwerty123", "zzzzzzzz"] {
            owner
                .post(&app, &members, json!({"email": "x@acme.test", "role": "chat_agent", "password": easy}))
                .await
                .assert_error(400, "invalid_input");
        }
    }

    async fn a_socket_closes_when_its_token_is_revoked(app: TestApp) {
        let owner = app.setup().await;
        owner.set_status(&app, "available").await;
        let made = owner.post(&app, "/api/tokens", json!({"name": "screen"})).await;
        let id = made.body["id"].as_str().unwrap().to_string();
        let screen = Agent { auth: Auth::Bearer(made.body["token"].as_str().unwrap().into()), ..owner.clone() };
        let mut revoked = Ws::agent(&app, &screen).await;
        let mut kept = Ws::agent(&app, &owner).await;
        revoked.flush().await;
        assert_eq!(owner.delete(&app, &format!("/api/tokens/{id}")).await.status, 204);
        assert_eq!(revoked.close_code().await, Some(1008), "signed out");
        kept.flush().await;
    }

    backend_tests!(
        a_socket_closes_when_its_token_is_revoked,
        tokens_are_listed_with_their_last_use_revocable_and_can_expire,
        changing_the_password_asks_the_old_one_and_ends_other_sessions,
        logging_out_everywhere_ends_every_session,
        a_new_email_takes_the_password_and_easy_passwords_are_refused
    );
}
