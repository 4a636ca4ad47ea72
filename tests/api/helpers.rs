//! Test harness: the real server on port 0 with a controllable clock, on either backend, and
//! small typed clients for agents and visitors.

use std::sync::Arc;

use baton::app::{Application, Settings};
use baton::clock::ManualClock;
use reqwest::Method;
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each listed `async fn name(app: TestApp)` once per backend, as `sqlite::name` and
/// `postgres::name`.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name($crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite).await).await
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name($crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await).await
            })*
        }
    };
}

/// The PostgreSQL server tests create their databases on.
fn pg_admin_url() -> String {
    std::env::var("BATON_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// The Redis server the cluster tests share, each under a key prefix of its own.
pub fn redis_url() -> String {
    std::env::var("BATON_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/?protocol=resp3".into())
}

/// The PostgreSQL URL for a new database of the test's own (dropped with the guard), for
/// processes started by the test.
pub async fn pg_database_for_process() -> (String, impl Drop) {
    use sqlx::Connection;
    let name = format!("baton_test_{}", uuid::Uuid::now_v7().simple());
    let mut c = sqlx::PgConnection::connect(&pg_admin_url()).await.expect("PostgreSQL must be running for the postgres tests");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\""))).execute(&mut c).await.expect("create test database");
    let mut url = reqwest::Url::parse(&pg_admin_url()).expect("pg url");
    url.set_path(&name);
    (url.to_string(), PgGuard { name })
}

/// Drops the test's PostgreSQL database when the test ends, even if it panicked.
struct PgGuard {
    name: String,
}

impl Drop for PgGuard {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime: do the async cleanup on a thread of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async {
                use sqlx::Connection;
                if let Ok(mut c) = sqlx::PgConnection::connect(&pg_admin_url()).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))).execute(&mut c).await;
                }
            })
        })
        .join();
    }
}

pub struct TestApp {
    pub base: String,
    pub clock: ManualClock,
    pub http: reqwest::Client,
    pub backend: Backend,
    /// The running server's state, for driving its timers.
    pub state: baton::services::AppState,
    settings: Settings,
    _dir: tempfile::TempDir,
    _pg: Option<PgGuard>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// 2026-01-01T00:00:00Z: tests start at a fixed, readable time.
pub const T0: i64 = 1_767_225_600_000;

impl TestApp {
    /// The test's PostgreSQL database, when it runs on PostgreSQL.
    /// Like [`Self::execute_sql`], answering with the database's refusal instead of panicking.
    pub async fn try_sql(&self, sql: &str) -> Result<(), String> {
        use sqlx::Connection;
        match &self.settings.database_url {
            Some(url) => {
                let mut c = sqlx::PgConnection::connect(url).await.expect("connect to the test database");
                sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(&mut c).await.map(|_| ()).map_err(|e| e.to_string())
            }
            None => {
                let path = self.settings.data_dir.join("baton.db");
                let sql = sql.to_string();
                tokio::task::spawn_blocking(move || {
                    let c = rusqlite::Connection::open(path).expect("open the test database");
                    c.busy_timeout(std::time::Duration::from_secs(10)).expect("busy timeout");
                    c.execute_batch(&sql).map_err(|e| e.to_string())
                })
                .await
                .expect("statement")
            }
        }
    }

    pub fn pg_database(&self) -> Option<&str> {
        self._pg.as_ref().map(|g| g.name.as_str())
    }

    /// Runs one statement on the PostgreSQL server as its administrator (outside the test's
    /// database), e.g. to take the database away from Baton for a while.
    pub async fn pg_admin(&self, sql: &str) {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&pg_admin_url()).await.expect("PostgreSQL admin connection");
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(&mut c).await.expect("admin statement");
    }

    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (database_url, pg) = match backend {
            Backend::Sqlite => (None, None),
            Backend::Postgres => {
                use sqlx::Connection;
                let name = format!("baton_test_{}", uuid::Uuid::now_v7().simple());
                let mut c = sqlx::PgConnection::connect(&pg_admin_url()).await.expect("PostgreSQL must be running for the postgres tests");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\""))).execute(&mut c).await.expect("create test database");
                let mut url = reqwest::Url::parse(&pg_admin_url()).expect("pg url");
                url.set_path(&name);
                (Some(url.to_string()), Some(PgGuard { name }))
            }
        };
        let mut settings = Settings {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.path().to_path_buf(),
            database_url,
            // High enough never to trip by accident; the rate-limit tests lower them.
            login_per_minute: 1000,
            widget_per_minute: 1000,
            widget_address_per_minute: 10_000,
            webhook_timeout: std::time::Duration::from_secs(2),
            // Timers run only when a test calls `sweep()` after moving the clock.
            sweep_every: None,
            // The tests' webhook bots and push services listen on this machine.
            allow_private_webhooks: true,
            ..Settings::default()
        };
        tweak(&mut settings);
        let clock = ManualClock::new(T0);
        let (base, state, shutdown, server) = Self::start(settings.clone(), &clock).await;
        TestApp {
            base,
            clock,
            http: reqwest::Client::new(),
            backend,
            state,
            settings,
            _dir: dir,
            _pg: pg,
            shutdown: Some(shutdown),
            server: Some(server),
        }
    }

    #[allow(clippy::type_complexity)]
    async fn start(
        settings: Settings,
        clock: &ManualClock,
    ) -> (String, baton::services::AppState, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<std::io::Result<()>>) {
        let app = Application::build(settings, Arc::new(clock.clone())).await.expect("build app");
        let base = format!("http://127.0.0.1:{}", app.port());
        let state = app.state().clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until_stopped(async move {
            let _ = rx.await;
        }));
        (base, state, tx, server)
    }

    /// This node as reached through `base` (a proxy in front of it): requests go there; the
    /// node itself keeps running under its own handle.
    pub fn through(&self, base: &str) -> TestApp {
        TestApp {
            base: base.to_string(),
            clock: self.clock.clone(),
            http: reqwest::Client::new(),
            backend: self.backend,
            state: self.state.clone(),
            settings: self.settings.clone(),
            _dir: tempfile::tempdir().expect("temp dir"),
            _pg: None,
            shutdown: None,
            server: None,
        }
    }

    /// The port this node listens on.
    pub fn port(&self) -> u16 {
        self.base.rsplit(':').next().and_then(|p| p.parse().ok()).expect("a port")
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Another node of this one's cluster: the same database, Redis and clock, its own hub.
    pub async fn another_node(&self) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let settings = Settings { data_dir: dir.path().to_path_buf(), ..self.settings.clone() };
        let (base, state, shutdown, server) = Self::start(settings.clone(), &self.clock).await;
        TestApp {
            base,
            clock: self.clock.clone(),
            http: reqwest::Client::new(),
            backend: self.backend,
            state,
            settings,
            _dir: dir,
            _pg: None,
            shutdown: Some(shutdown),
            server: Some(server),
        }
    }

    /// `n` nodes on one PostgreSQL database and `redis` (under a key prefix of the test's own),
    /// sharing one clock. The first owns the database.
    pub async fn cluster_on(n: usize, redis: &str, tweak: impl FnOnce(&mut Settings)) -> Vec<TestApp> {
        let prefix = format!("baton-test-{}", uuid::Uuid::now_v7().simple());
        let first = Self::spawn_with(Backend::Postgres, |s| {
            s.redis_url = Some(redis.to_string());
            s.redis_prefix = prefix;
            tweak(s);
        })
        .await;
        let mut nodes = vec![first];
        for _ in 1..n {
            let next = nodes[0].another_node().await;
            nodes.push(next);
        }
        nodes
    }

    /// `n` nodes on the machine's Redis.
    pub async fn cluster(n: usize) -> Vec<TestApp> {
        Self::cluster_on(n, &redis_url(), |_| {}).await
    }

    /// Asks the server to stop, as SIGTERM does; its task ends once it has stopped.
    pub fn stop(&mut self) -> tokio::task::JoinHandle<std::io::Result<()>> {
        if let Some(stop) = self.shutdown.take() {
            let _ = stop.send(());
        }
        self.server.take().expect("the server is running")
    }

    /// Stops the server and starts a new one on the same database (and the same clock).
    pub async fn restart(&mut self) {
        if let Some(stop) = self.shutdown.take() {
            let _ = stop.send(());
        }
        let (base, state, shutdown, server) = Self::start(self.settings.clone(), &self.clock).await;
        self.base = base;
        self.state = state;
        self.shutdown = Some(shutdown);
        self.server = Some(server);
    }

    pub async fn call(&self, method: Method, path: &str, auth: &Auth, body: Option<Value>) -> Res {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        match auth {
            Auth::None => {}
            Auth::Bearer(t) => req = req.bearer_auth(t),
            Auth::Cookie { cookie, csrf } => {
                req = req.header("cookie", cookie);
                if let Some(c) = csrf {
                    req = req.header("x-csrf-token", c);
                }
            }
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Res::from(req.send().await.expect("request")).await
    }

    /// Runs one statement straight on the test's database, behind Baton's back (to damage a row).
    pub async fn execute_sql(&self, sql: &str) {
        self.try_sql(sql).await.expect("statement");
    }

    /// Runs the presence timers once, at the test clock's time.
    pub async fn sweep(&self) {
        baton::services::sweeper::sweep(&self.state).await
    }

    pub async fn raw(&self, req: reqwest::RequestBuilder) -> Res {
        Res::from(req.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str) -> Res {
        self.call(Method::GET, path, &Auth::None, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Res {
        self.call(Method::POST, path, &Auth::None, Some(body)).await
    }

    /// First-run setup; returns the owner (with an API token) and the team id.
    pub async fn setup(&self) -> Agent {
        let r = self
            .post(
                "/api/setup",
                json!({"email": "owner@acme.test", "password": "owner-password", "first_name": "Olivia", "last_name": "Owner", "team_name": "Acme"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let team = r.body["team"]["id"].as_str().unwrap().to_string();
        self.login_agent("owner@acme.test", "owner-password", &team).await
    }

    /// Logs in and creates a personal API token.
    pub async fn login_agent(&self, email: &str, password: &str, team: &str) -> Agent {
        let s = self.login(email, password).await;
        let r = self.call(Method::POST, "/api/tokens", &s, Some(json!({"name": "tests"}))).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let me = self.call(Method::GET, "/api/me", &s, None).await;
        Agent { auth: Auth::Bearer(r.body["token"].as_str().unwrap().into()), id: me.body["user"]["id"].as_str().unwrap().into(), team: team.into() }
    }

    /// A cookie session with its CSRF token.
    pub async fn login(&self, email: &str, password: &str) -> Auth {
        let res =
            self.http.post(format!("{}/api/auth/login", self.base)).json(&json!({"email": email, "password": password})).send().await.expect("login");
        assert_eq!(res.status(), 200);
        let cookie = res.headers().get("set-cookie").expect("session cookie").to_str().unwrap().split(';').next().unwrap().to_string();
        let body: Value = res.json().await.unwrap();
        Auth::Cookie { cookie, csrf: Some(body["csrf_token"].as_str().unwrap().into()) }
    }

    /// Adds a member with the given role to the owner's team and logs them in.
    pub async fn add_agent(&self, owner: &Agent, first_name: &str, role: &str) -> Agent {
        let email = format!("{}@acme.test", first_name.to_lowercase());
        let r = owner
            .post(
                self,
                &format!("/api/teams/{}/members", owner.team),
                json!({"email": email, "role": role, "first_name": first_name, "last_name": "Agent", "password": "agent-password"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        self.login_agent(&email, "agent-password", &owner.team).await
    }

    /// Creates a bot in the owner's team.
    pub async fn bot(&self, owner: &Agent, body: Value) -> String {
        let r = owner.post(self, &format!("/api/teams/{}/bots", owner.team), body).await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["id"].as_str().unwrap().to_string()
    }

    /// A bot with a small knowledge base and human escalation on.
    pub async fn shop_bot(&self, owner: &Agent) -> String {
        self.bot(
            owner,
            json!({
                "name": "Shop",
                "greeting": "Hello! How can I help?",
                "settings": {"human_escalation": true},
                "knowledge": [
                    {"question": "What are your opening hours?", "answer": "We are open 9 to 5."},
                    {"question": "How long does shipping take?", "answer": "Shipping takes 3 days."}
                ]
            }),
        )
        .await
    }

    pub async fn visitor(&self, bot: &str) -> Visitor {
        let r = self.post(&format!("/api/widget/bots/{bot}/visitors"), json!({"name": "Vera", "email": "vera@example.com"})).await;
        assert_eq!(r.status, 201, "{}", r.body);
        Visitor { auth: Auth::Bearer(r.body["visitor_token"].as_str().unwrap().into()) }
    }

    /// A visitor whose conversation is pending (escalated), with its id.
    pub async fn pending_chat(&self, bot: &str) -> (Visitor, String) {
        let v = self.visitor(bot).await;
        let r = v.post(self, "/api/widget/messages", json!({"body": "I need help with my order"})).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let r = v.post(self, "/api/widget/escalate", json!({})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let id = r.body["conversation_id"].as_str().unwrap().to_string();
        (v, id)
    }
}

#[derive(Clone, Debug)]
pub enum Auth {
    None,
    Bearer(String),
    Cookie { cookie: String, csrf: Option<String> },
}

#[derive(Clone, Debug)]
pub struct Agent {
    pub auth: Auth,
    pub id: String,
    pub team: String,
}

#[derive(Clone, Debug)]
pub struct Visitor {
    pub auth: Auth,
}

macro_rules! verbs {
    ($t:ty) => {
        // Shared by every test module; not every module uses every verb.
        #[allow(dead_code)]
        impl $t {
            pub async fn get(&self, app: &TestApp, path: &str) -> Res {
                app.call(Method::GET, path, &self.auth, None).await
            }
            pub async fn post(&self, app: &TestApp, path: &str, body: Value) -> Res {
                app.call(Method::POST, path, &self.auth, Some(body)).await
            }
            pub async fn put(&self, app: &TestApp, path: &str, body: Value) -> Res {
                app.call(Method::PUT, path, &self.auth, Some(body)).await
            }
            pub async fn patch(&self, app: &TestApp, path: &str, body: Value) -> Res {
                app.call(Method::PATCH, path, &self.auth, Some(body)).await
            }
            pub async fn delete(&self, app: &TestApp, path: &str) -> Res {
                app.call(Method::DELETE, path, &self.auth, None).await
            }
            pub async fn delete_with(&self, app: &TestApp, path: &str, body: Value) -> Res {
                app.call(Method::DELETE, path, &self.auth, Some(body)).await
            }
        }
    };
}
verbs!(Agent);
verbs!(Visitor);

impl Agent {
    pub async fn set_status(&self, app: &TestApp, status: &str) {
        let r = self.put(app, "/api/me/status", json!({"status": status})).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
}

#[derive(Debug)]
pub struct Res {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Res {
    async fn from(r: reqwest::Response) -> Self {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let bytes = r.bytes().await.unwrap_or_default();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Res { status, body, headers }
    }

    /// The API error code, when this is an error.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// Asserts an error in API.md's shape with this status and code.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!((self.status, self.code()), (status, code), "body: {}", self.body);
        assert!(self.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "error without a message: {}", self.body);
    }
}

/// A real WebSocket client.
pub struct Ws {
    stream: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
}

/// How long a test waits for a frame that must come.
const FRAME_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

impl Ws {
    pub async fn connect(url: &str) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
        let (stream, _) = tokio_tungstenite::connect_async(url).await?;
        Ok(Ws { stream })
    }

    /// A socket opened as a browser page of `origin` would.
    pub async fn connect_from(url: &str, origin: &str) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut req = url.into_client_request()?;
        req.headers_mut().insert("origin", origin.parse().expect("an origin"));
        let (stream, _) = tokio_tungstenite::connect_async(req).await?;
        Ok(Ws { stream })
    }

    /// The agent's inbox socket, authenticated with their API token.
    pub async fn agent(app: &TestApp, a: &Agent) -> Ws {
        let Auth::Bearer(token) = &a.auth else { panic!("agent without token") };
        Ws::connect(&format!("{}/ws?token={token}", app.base.replace("http://", "ws://"))).await.expect("agent socket")
    }

    pub async fn visitor(app: &TestApp, v: &Visitor) -> Ws {
        let Auth::Bearer(token) = &v.auth else { panic!("visitor without token") };
        Ws::connect(&format!("{}/api/widget/ws?token={token}", app.base.replace("http://", "ws://"))).await.expect("visitor socket")
    }

    pub async fn send(&mut self, frame: Value) {
        use futures_util::SinkExt;
        self.stream.send(tokio_tungstenite::tungstenite::Message::Text(frame.to_string().into())).await.expect("send frame");
    }

    pub async fn send_raw(&mut self, m: tokio_tungstenite::tungstenite::Message) {
        use futures_util::SinkExt;
        let _ = self.stream.send(m).await;
    }

    /// The next text frame; `None` once the server closed the socket.
    pub async fn next(&mut self) -> Option<Value> {
        self.next_within(FRAME_WAIT).await
    }

    /// The next text frame, waiting up to `wait` (for what comes only after a recovery).
    pub async fn next_within(&mut self, wait: std::time::Duration) -> Option<Value> {
        use futures_util::StreamExt;
        loop {
            let m = tokio::time::timeout(wait, self.stream.next()).await.unwrap_or_else(|_| panic!("no frame within {wait:?}"))?;
            match m {
                Ok(tokio_tungstenite::tungstenite::Message::Text(t)) => return Some(serde_json::from_str(&t).expect("frames are JSON")),
                Ok(tokio_tungstenite::tungstenite::Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// Skips frames until one of `kind` comes.
    pub async fn next_of(&mut self, kind: &str) -> Value {
        loop {
            let f = self.next().await.unwrap_or_else(|| panic!("socket closed while waiting for {kind}"));
            if f["type"] == kind {
                return f;
            }
        }
    }

    /// Collects frames up to and including the first one `stop` accepts.
    pub async fn until(&mut self, stop: impl Fn(&Value) -> bool) -> Vec<Value> {
        let mut seen = Vec::new();
        loop {
            let f = self.next().await.expect("socket closed");
            let done = stop(&f);
            seen.push(f);
            if done {
                return seen;
            }
        }
    }

    /// Skips text frames until the server closes the socket; its close code.
    pub async fn close_code(&mut self) -> Option<u16> {
        use futures_util::StreamExt;
        loop {
            match tokio::time::timeout(FRAME_WAIT, self.stream.next()).await.expect("no close within 5 s")? {
                Ok(tokio_tungstenite::tungstenite::Message::Close(frame)) => return frame.map(|f| f.code.into()),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }
}

impl Ws {
    /// Returns once the server has handled every frame sent before: frames on one socket are
    /// handled in order, and a sync for an unknown conversation is answered with an error.
    pub async fn flush(&mut self) {
        self.send(serde_json::json!({"type": "sync", "conversation_id": "01900000-0000-7000-8000-00000000f1f1", "after_seq": 0})).await;
        loop {
            let f = self.next().await.expect("socket closed while flushing");
            if f["type"] == "error" && f["data"]["code"] == "not_found" {
                return;
            }
        }
    }
}

impl TestApp {
    /// An agent's status as the team sees it: (status, status_source, status_reason).
    pub async fn status_of(&self, viewer: &Agent, who: &Agent) -> (String, String, Option<String>) {
        let m = viewer.get(self, &format!("/api/teams/{}/members", viewer.team)).await;
        let row = m.body.as_array().unwrap().iter().find(|r| r["user"]["id"] == who.id.as_str()).expect("member").clone();
        (row["status"].as_str().unwrap().into(), row["status_source"].as_str().unwrap().into(), row["status_reason"].as_str().map(Into::into))
    }
}

/// The usual cast: an owner and two chat agents (Alice, Bob), all available; a shop bot; a
/// visitor whose chat is pending.
pub struct Scene {
    pub owner: Agent,
    pub alice: Agent,
    pub bob: Agent,
    pub bot: String,
    pub visitor: Visitor,
    pub chat: String,
}

impl TestApp {
    pub async fn scene(&self) -> Scene {
        let owner = self.setup().await;
        let alice = self.add_agent(&owner, "Alice", "chat_agent").await;
        let bob = self.add_agent(&owner, "Bob", "chat_agent").await;
        for a in [&owner, &alice, &bob] {
            a.set_status(self, "available").await;
        }
        let bot = self.shop_bot(&owner).await;
        let (visitor, chat) = self.pending_chat(&bot).await;
        Scene { owner, alice, bob, bot, visitor, chat }
    }
}

/// Awaits concurrent claims (agent id, response): exactly one must win, every other must be
/// refused `already_claimed`. Returns the winner's id.
pub async fn the_one_winner(claims: Vec<tokio::task::JoinHandle<(String, Res)>>) -> String {
    let mut winners = vec![];
    for h in claims {
        let (id, r) = h.await.unwrap();
        match r.status {
            200 => winners.push(id),
            _ => r.assert_error(409, "already_claimed"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one claim wins");
    winners.remove(0)
}
