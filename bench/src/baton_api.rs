//! Setting Baton up for a run through its public API: agents (each in a team of their own, so
//! each agent socket receives its own chats only, like the relay), bots, visitors with claimed
//! live chats.

use futures_util::StreamExt;
use serde_json::{Value, json};

pub struct Api {
    pub http: reqwest::Client,
    pub url: String,
}

pub struct LiveChat {
    pub visitor_token: String,
    pub agent_token: String,
}

impl Api {
    pub fn new(url: &str) -> Self {
        Self { http: reqwest::Client::builder().pool_max_idle_per_host(512).build().unwrap(), url: url.to_string() }
    }

    pub async fn call(&self, method: reqwest::Method, path: &str, token: Option<&str>, body: Option<Value>) -> Value {
        let mut req = self.http.request(method.clone(), format!("{}{path}", self.url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = res.status();
        let v: Value = res.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{method} {path}: {status} {v}");
        v
    }

    /// Logs in and returns a personal API token.
    pub async fn token(&self, email: &str, password: &str) -> String {
        let res = self.http.post(format!("{}/api/auth/login", self.url)).json(&json!({"email": email, "password": password})).send().await.unwrap();
        let cookie = res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
        let csrf = res.json::<Value>().await.unwrap()["csrf_token"].as_str().unwrap().to_string();
        let t: Value = self
            .http
            .post(format!("{}/api/tokens", self.url))
            .header("cookie", cookie)
            .header("x-csrf-token", csrf)
            .json(&json!({"name": "bench"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        t["token"].as_str().unwrap().to_string()
    }

    /// The owner: sets Baton up; returns the owner's token and first team.
    pub async fn owner(&self) -> (String, String) {
        let s = self.call(reqwest::Method::POST, "/api/setup", None, Some(json!({"email": "owner@bench.test", "password": "bench-password", "first_name": "Bench", "last_name": "Owner", "team_name": "Bench"}))).await;
        (self.token("owner@bench.test", "bench-password").await, s["team"]["id"].as_str().unwrap().to_string())
    }

    /// `chats` live chats, `per_agent` per available agent, each claimed.
    pub async fn live_chats(&self, owner: &str, chats: usize, per_agent: usize) -> Vec<LiveChat> {
        let agents = chats.div_ceil(per_agent);
        let made: Vec<Vec<LiveChat>> = futures_util::stream::iter(0..agents)
            .map(|a| async move {
                let team = self.call(reqwest::Method::POST, "/api/teams", Some(owner), Some(json!({"name": format!("Team {a}")}))).await;
                let team = team["id"].as_str().unwrap().to_string();
                let email = format!("agent{a}@bench.test");
                self.call(
                    reqwest::Method::POST,
                    &format!("/api/teams/{team}/members"),
                    Some(owner),
                    Some(json!({"email": email, "role": "chat_agent", "password": "bench-password"})),
                )
                .await;
                let bot = self
                    .call(
                        reqwest::Method::POST,
                        &format!("/api/teams/{team}/bots"),
                        Some(owner),
                        Some(json!({"name": "Bench bot", "settings": {"human_only": true}})),
                    )
                    .await;
                let bot = bot["id"].as_str().unwrap().to_string();
                let agent = self.token(&email, "bench-password").await;
                self.call(reqwest::Method::PUT, "/api/me/status", Some(&agent), Some(json!({"status": "available"}))).await;
                let n = per_agent.min(chats - a * per_agent);
                let mut out = Vec::with_capacity(n);
                for _ in 0..n {
                    let v = self.call(reqwest::Method::POST, &format!("/api/widget/bots/{bot}/visitors"), None, Some(json!({}))).await;
                    let vt = v["visitor_token"].as_str().unwrap().to_string();
                    let conv = v["conversation_id"].as_str().unwrap().to_string();
                    self.call(reqwest::Method::POST, "/api/widget/messages", Some(&vt), Some(json!({"body": "I need a person"}))).await;
                    self.call(reqwest::Method::POST, &format!("/api/live-chats/{conv}/claim"), Some(&agent), None).await;
                    out.push(LiveChat { visitor_token: vt, agent_token: agent.clone() });
                }
                out
            })
            .buffer_unordered(16)
            .collect()
            .await;
        made.into_iter().flatten().collect()
    }

    /// `count` visitors of one bot (for the idle-connection run).
    pub async fn visitors(&self, owner: &str, team: &str, count: usize) -> Vec<String> {
        let bot = self.call(reqwest::Method::POST, &format!("/api/teams/{team}/bots"), Some(owner), Some(json!({"name": "Idle bot"}))).await;
        let bot = bot["id"].as_str().unwrap().to_string();
        futures_util::stream::iter(0..count)
            .map(|_| {
                let bot = bot.clone();
                async move {
                    self.call(reqwest::Method::POST, &format!("/api/widget/bots/{bot}/visitors"), None, Some(json!({}))).await["visitor_token"]
                        .as_str()
                        .unwrap()
                        .to_string()
                }
            })
            .buffer_unordered(64)
            .collect()
            .await
    }
}
