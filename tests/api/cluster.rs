//! Several nodes as one: two or three servers on one PostgreSQL database and one Redis (a key
//! prefix of the test's own), a visitor on one node and agents on others; claim races across
//! nodes; presence and notifications that ask the cluster, not the node; timers and outboxes
//! running on every node yet acting once; and the faults — a Redis restart mid-conversation
//! (a private `redis-server` on a free port) and a node killed with SIGKILL — after which every
//! client holds every message exactly once, in order.

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use baton::clock::Clock;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::notifications::{count, device, push_service, smtp_server, smtp_to, subscribe};

async fn metrics_text(app: &TestApp) -> String {
    app.http.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap()
}

fn path(chat: &str, action: &str) -> String {
    format!("/api/live-chats/{chat}/{action}")
}

fn is_message(text: &str) -> impl Fn(&Value) -> bool + '_ {
    move |f| f["type"] == "message.created" && f["data"]["text"] == text
}

/// The seqs of `chat`'s messages among `frames`.
fn seqs(frames: &[Value], chat: &str) -> Vec<i64> {
    frames
        .iter()
        .filter(|f| f["type"] == "message.created" && f["data"]["conversation_id"] == chat)
        .map(|f| f["data"]["seq"].as_i64().unwrap())
        .collect()
}

/// Every message the client saw, once and in order, and none it should have seen is missing:
/// the seqs seen are exactly the stored ones from the first seen on.
fn exactly_once_in_order(seen: &[i64], stored: &[i64], who: &str) {
    assert!(!seen.is_empty(), "{who} saw messages");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{who}: in order, no doubles: {seen:?}");
    let from = seen[0];
    let expected: Vec<i64> = stored.iter().copied().filter(|s| *s >= from).collect();
    assert_eq!(seen, expected.as_slice(), "{who}: nothing lost");
}

async fn stored_seqs(app: &TestApp, agent: &Agent, chat: &str, internal: bool) -> Vec<i64> {
    let c = agent.get(app, &format!("/api/live-chats/{chat}")).await;
    c.body["messages"].as_array().unwrap().iter().filter(|m| internal || m["internal"] != true).map(|m| m["seq"].as_i64().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_on_one_node_and_agents_on_two_others_live_through_the_whole_lifecycle() {
    // RESP2 here (the other cluster tests speak RESP3): both protocols carry the cluster.
    let resp2 = redis_url().split('?').next().unwrap_or_default().to_string();
    let nodes = TestApp::cluster_on(3, &resp2, |_| {}).await;
    let (a, b, c) = (&nodes[0], &nodes[1], &nodes[2]);
    let owner = a.setup().await;
    let alice = a.add_agent(&owner, "Alice", "chat_agent").await;
    let bob = a.add_agent(&owner, "Bob", "chat_agent").await;
    alice.set_status(b, "available").await;
    bob.set_status(c, "available").await;
    let bot = a.shop_bot(&owner).await;
    let mut alice_ws = Ws::agent(b, &alice).await;
    let mut bob_ws = Ws::agent(c, &bob).await;
    let v = a.visitor(&bot).await;
    let mut visitor_ws = Ws::visitor(a, &v).await;

    v.post(a, "/api/widget/messages", json!({"body": "I need help with my order"})).await;
    let esc = v.post(a, "/api/widget/escalate", json!({})).await;
    let chat = esc.body["conversation_id"].as_str().unwrap().to_string();
    for ws in [&mut alice_ws, &mut bob_ws] {
        let e = ws.next_of("chat.escalated").await;
        assert_eq!(e["data"]["conversation_id"], chat.as_str());
    }
    // In-page notifications reach the inboxes on B and C, for an escalation made on A.
    assert_eq!(alice_ws.next_of("notification").await["data"]["kind"], "new_escalation");
    assert_eq!(bob_ws.next_of("notification").await["data"]["kind"], "new_escalation");

    alice.post(b, &path(&chat, "claim"), json!({})).await;
    assert_eq!(visitor_ws.next_of("chat.claimed").await["data"]["agent"]["display_name"], "Alice Agent");
    assert_eq!(bob_ws.next_of("chat.claimed").await["data"]["assignee"]["id"], alice.id.as_str());

    // Typing crosses nodes both ways.
    visitor_ws.send(json!({"type": "typing", "conversation_id": chat})).await;
    assert_eq!(alice_ws.next_of("typing").await["data"]["author"]["kind"], "visitor");
    alice_ws.send(json!({"type": "typing", "conversation_id": chat})).await;
    assert_eq!(visitor_ws.next_of("typing").await["data"]["author"]["display_name"], "Alice Agent");

    alice.post(b, &path(&chat, "messages"), json!({"body": "Hi, Alice here."})).await;
    visitor_ws.until(is_message("Hi, Alice here.")).await;
    v.post(a, "/api/widget/messages", json!({"body": "thanks!"})).await;
    alice_ws.until(is_message("thanks!")).await;
    bob_ws.until(is_message("thanks!")).await;

    alice.post(b, &path(&chat, "transfer"), json!({"agent_id": bob.id})).await;
    assert_eq!(visitor_ws.next_of("chat.transferred").await["data"]["agent"]["display_name"], "Bob Agent");
    let t = bob_ws.next_of("notification").await;
    assert_eq!(t["data"]["kind"], "transfer");
    bob.post(c, &path(&chat, "messages"), json!({"body": "Bob now."})).await;
    visitor_ws.until(is_message("Bob now.")).await;
    bob.post(c, &path(&chat, "resolve"), json!({})).await;
    assert_eq!(visitor_ws.next_of("chat.resolved").await["data"]["state"], "resolved");
    assert_eq!(alice_ws.next_of("chat.resolved").await["data"]["conversation_id"], chat.as_str());

    // Agent status from C reaches A's sockets.
    let mut owner_ws = Ws::agent(a, &owner).await;
    bob.set_status(c, "busy").await;
    let s = loop {
        let f = owner_ws.next_of("agent.status").await;
        if f["data"]["agent_id"] == bob.id.as_str() {
            break f;
        }
    };
    assert_eq!(s["data"]["status"], "busy");

    let metrics = metrics_text(a).await;
    for name in ["baton_bus_published_total", "baton_bus_received_total"] {
        assert!(metrics.contains(name), "{name} in /metrics");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claimers_on_different_nodes_race_and_exactly_one_wins() {
    let nodes = TestApp::cluster(3).await;
    let owner = nodes[0].setup().await;
    owner.set_status(&nodes[0], "available").await;
    let mut agents = vec![];
    for (i, name) in ["Alice", "Bob", "Carol", "Dan", "Erin", "Finn"].iter().enumerate() {
        let a = nodes[0].add_agent(&owner, name, "chat_agent").await;
        a.set_status(&nodes[i % 3], "available").await;
        agents.push((a, i % 3));
    }
    let bot = nodes[0].shop_bot(&owner).await;
    let (_, chat) = nodes[1].pending_chat(&bot).await;
    let nodes = std::sync::Arc::new(nodes);
    let handles: Vec<_> = agents
        .into_iter()
        .map(|(a, n)| {
            let (nodes, chat) = (nodes.clone(), chat.clone());
            tokio::spawn(async move { (a.id.clone(), a.post(&nodes[n], &path(&chat, "claim"), json!({})).await) })
        })
        .collect();
    let winner = the_one_winner(handles).await;
    let c = owner.get(&nodes[2], &format!("/api/live-chats/{chat}")).await;
    assert_eq!(c.body["assignee"]["id"], winner.as_str());
    assert_eq!(c.body["messages"].as_array().unwrap().iter().filter(|m| m["event"] == "claimed").count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_with_tabs_on_two_nodes_stays_present_and_notified_until_the_last_closes() {
    let nodes = TestApp::cluster(2).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let svc = push_service().await;
    let owner = a.setup().await;
    let alice = a.add_agent(&owner, "Alice", "chat_agent").await;
    let phone = device();
    subscribe(a, &alice, &svc, "phone", &phone).await;
    alice.set_status(a, "available").await;
    let bot = a.shop_bot(&owner).await;
    let tab_a = Ws::agent(a, &alice).await;
    let mut tab_b = Ws::agent(b, &alice).await;

    // Tab A closes; tab B keeps beating: present, and notified in the page, not by push.
    tab_a.close().await;
    let topic = baton::hub::Topic::User(baton::domain::ids::UserId::parse(&alice.id).unwrap());
    wait_until(|| async { !a.state.hub.has_subscribers(&topic) && a.state.listening(&topic).await.unwrap() }).await;
    for _ in 0..4 {
        a.clock.advance_ms(20_000);
        tab_b.send(json!({"type": "heartbeat"})).await;
        tab_b.flush().await;
        a.sweep().await;
    }
    assert_eq!(a.status_of(&owner, &alice).await.0, "available", "the tab on B keeps Alice present");
    let (_, chat) = a.pending_chat(&bot).await;
    let n = tab_b.next_of("notification").await;
    assert_eq!(n["data"]["conversation_id"], chat.as_str());
    a.sweep().await;
    assert!(svc.payloads("phone", &phone).is_empty(), "no push while an inbox is open on another node");

    // The last tab closes: the next chat reaches her by push, and heartbeats stop.
    tab_b.close().await;
    wait_until(|| async { !a.state.listening(&topic).await.unwrap() }).await;
    let (_, second) = b.pending_chat(&bot).await;
    b.sweep().await;
    let pushed = svc.payloads("phone", &phone);
    assert_eq!(pushed.len(), 1, "{pushed:?}");
    assert_eq!(pushed[0]["conversation_id"], second.as_str());
    a.clock.advance_ms(60_000);
    b.sweep().await;
    assert_eq!(a.status_of(&owner, &alice).await.0, "offline");
}

/// Waits (at most 5 s) for a condition that must come true.
async fn wait_until<F, Fut>(cond: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !cond().await {
        assert!(tokio::time::Instant::now() < deadline, "condition not met within 5 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Two nodes sending email through the test's SMTP server, and a chat the owner claimed.
async fn two_nodes_with_a_claimed_chat() -> (Vec<TestApp>, std::sync::Arc<std::sync::Mutex<Vec<String>>>, Agent, Visitor, String) {
    let (port, mails) = smtp_server().await;
    let nodes = TestApp::cluster_on(2, &redis_url(), |s| s.smtp = Some(smtp_to(port))).await;
    let a = &nodes[0];
    let owner = a.setup().await;
    owner.set_status(a, "available").await;
    let bot = a.shop_bot(&owner).await;
    let (visitor, chat) = a.pending_chat(&bot).await;
    owner.post(a, &path(&chat, "claim"), json!({})).await;
    (nodes, mails, owner, visitor, chat)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_visitor_email_while_the_widget_is_open_on_another_node() {
    let (nodes, mails, owner, visitor, chat) = two_nodes_with_a_claimed_chat().await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let mut widget = Ws::visitor(a, &visitor).await;
    owner.post(b, &path(&chat, "messages"), json!({"body": "Are you there?"})).await;
    widget.until(is_message("Are you there?")).await;
    a.clock.advance_ms(120_000);
    b.sweep().await;
    assert_eq!(count(&mails), 0, "the widget on A shows it, so B sends nothing");
    widget.close().await;
    let vid = visitor.patch(a, "/api/widget/visitor", json!({})).await.body["id"].as_str().unwrap().to_string();
    let topic = baton::hub::Topic::Visitor(baton::domain::ids::VisitorId::parse(&vid).unwrap());
    wait_until(|| async { !b.state.listening(&topic).await.unwrap() }).await;
    a.clock.advance_ms(120_000);
    b.sweep().await;
    assert_eq!(count(&mails), 1, "sent once the widget closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timers_and_outboxes_run_on_every_node_and_act_once() {
    let (port, mails) = smtp_server().await;
    let nodes = TestApp::cluster_on(2, &redis_url(), |s| s.smtp = Some(smtp_to(port))).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let svc = push_service().await;
    let owner = a.setup().await;
    let alice = a.add_agent(&owner, "Alice", "chat_agent").await;
    let laptop = device();
    subscribe(a, &alice, &svc, "laptop", &laptop).await;
    alice.set_status(a, "available").await;
    let bot = a.shop_bot(&owner).await;
    // Alice's inbox is closed: the escalation goes to the push outbox.
    let (visitor, chat) = a.pending_chat(&bot).await;
    alice.post(b, &path(&chat, "claim"), json!({})).await;
    alice.post(b, &path(&chat, "messages"), json!({"body": "Let me check."})).await;
    let _ = visitor;
    let mut watcher = Ws::agent(b, &owner).await;

    let both = || async { tokio::join!(a.sweep(), b.sweep(), a.sweep(), b.sweep()) };
    both().await;
    assert_eq!(svc.payloads("laptop", &laptop).len(), 1, "one push, though four sweeps raced for it");
    // Past the heartbeat timeout and the email delay: one status change, one email.
    a.clock.advance_ms(121_000);
    both().await;
    assert_eq!(count(&mails), 1, "one email");
    // Past the orphan grace: one requeue.
    a.clock.advance_ms(121_000);
    owner.set_status(a, "available").await;
    both().await;
    both().await;
    let c = owner.get(a, &format!("/api/live-chats/{chat}")).await;
    assert_eq!(c.body["state"], "pending", "{}", c.body);
    let requeues = c.body["messages"].as_array().unwrap().iter().filter(|m| m["event"] == "requeued").count();
    assert_eq!(requeues, 1, "requeued once");
    assert_eq!(count(&mails), 1, "still one email");
    assert_eq!(svc.payloads("laptop", &laptop).len(), 2, "one more push, for the requeue, and only one");

    // The owner's watcher on B saw Alice go offline once. Markers published last by each node
    // come after everything that node published before.
    owner.set_status(a, "busy").await;
    owner.set_status(b, "away").await;
    let frames = watcher.until(|f| f["type"] == "agent.status" && f["data"]["agent_id"] == owner.id.as_str() && f["data"]["status"] == "away").await;
    let mut rest = frames.clone();
    if !frames.iter().any(|f| f["type"] == "agent.status" && f["data"]["status"] == "busy") {
        rest.extend(watcher.until(|f| f["type"] == "agent.status" && f["data"]["status"] == "busy").await);
    }
    let offline =
        rest.iter().filter(|f| f["type"] == "agent.status" && f["data"]["agent_id"] == alice.id.as_str() && f["data"]["status"] == "offline").count();
    assert_eq!(offline, 1, "one offline change seen");
    let requeued = rest.iter().filter(|f| f["type"] == "chat.requeued").count();
    assert_eq!(requeued, 1, "one requeue event seen");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_count_across_nodes() {
    let nodes = TestApp::cluster_on(3, &redis_url(), |s| s.login_per_minute = 4).await;
    nodes[0].setup().await;
    let wrong = json!({"email": "owner@acme.test", "password": "not-the-password"});
    let mut refused = None;
    for i in 0..6 {
        let r = nodes[i % 3].post("/api/auth/login", wrong.clone()).await;
        if r.status == 429 {
            refused = Some(i);
            break;
        }
        r.assert_error(401, "invalid_credentials");
    }
    assert_eq!(refused, Some(4), "the fifth failure is refused, whichever node it reaches");
    let r = nodes[2].post("/api/auth/login", wrong).await;
    r.assert_error(429, "rate_limited");
}

// ---------------------------------------------------------------- faults

/// A `redis-server` of the test's own on a free port, which the test can stop and start.
struct RedisServer {
    port: u16,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl RedisServer {
    async fn start() -> Self {
        // Below the kernel's ephemeral range (32768 and up), so no connection another test opens
        // can take the port while this server is down for its restart.
        let port = loop {
            let p = 20_000 + (rand::random::<u16>() % 12_000);
            if std::net::TcpListener::bind(("127.0.0.1", p)).is_ok() {
                break p;
            }
        };
        let mut r = Self { port, child: None, dir: tempfile::tempdir().unwrap() };
        r.up().await;
        r
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/?protocol=resp3", self.port)
    }

    async fn up(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir"])
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        self.child = Some(child);
        let client = redis::Client::open(self.url()).unwrap();
        wait_until(|| {
            let client = client.clone();
            async move {
                match client.get_multiplexed_async_connection().await {
                    Ok(mut c) => redis::cmd("PING").query_async::<String>(&mut c).await.is_ok(),
                    Err(_) => false,
                }
            }
        })
        .await;
    }

    fn down(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.down();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_mid_conversation_loses_and_doubles_nothing() {
    let mut redis = RedisServer::start().await;
    let nodes = TestApp::cluster_on(2, &redis.url(), |_| {}).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let owner = a.setup().await;
    owner.set_status(a, "available").await;
    let bot = a.shop_bot(&owner).await;
    let v = a.visitor(&bot).await;
    let mut agent_ws = Ws::agent(b, &owner).await;
    let mut visitor_ws = Ws::visitor(a, &v).await;
    let mut agent_frames = vec![];
    let mut visitor_frames = vec![];

    v.post(a, "/api/widget/messages", json!({"body": "v1"})).await;
    let chat = v.post(a, "/api/widget/escalate", json!({})).await.body["conversation_id"].as_str().unwrap().to_string();
    owner.post(b, &path(&chat, "claim"), json!({})).await;
    owner.post(b, &path(&chat, "messages"), json!({"body": "a1"})).await;
    agent_frames.extend(agent_ws.until(is_message("a1")).await);
    visitor_frames.extend(visitor_ws.until(is_message("a1")).await);

    redis.down();
    // Written while Redis is away: stored, and each node's own sockets get theirs at once.
    v.post(a, "/api/widget/messages", json!({"body": "v2"})).await.status.eq(&201).then_some(()).expect("stored without Redis");
    let r = owner.post(b, &path(&chat, "messages"), json!({"body": "a2"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(a.get("/readyz").await.status, 503, "not ready without Redis");

    redis.up().await;
    // Each node resubscribes and tells its sockets to resync: both catch up from the database
    // (and are told to re-read their lists).
    let caught_up = |want: [&'static str; 2]| {
        move |frames: &Vec<Value>| want.iter().all(|w| frames.iter().any(is_message(w))) && frames.iter().any(|f| f["type"] == "resync")
    };
    let done = caught_up(["v2", "a2"]);
    while !done(&agent_frames) {
        agent_frames.push(agent_ws.next_within(Duration::from_secs(15)).await.expect("agent socket open"));
    }
    while !done(&visitor_frames) {
        visitor_frames.push(visitor_ws.next_within(Duration::from_secs(15)).await.expect("widget socket open"));
    }
    wait_until(|| async { a.get("/readyz").await.status == 200 }).await;

    // And live again, both ways.
    v.post(a, "/api/widget/messages", json!({"body": "v3"})).await;
    agent_frames.extend(agent_ws.until(is_message("v3")).await);
    owner.post(b, &path(&chat, "messages"), json!({"body": "a3"})).await;
    visitor_frames.extend(visitor_ws.until(is_message("a3")).await);
    agent_frames.extend(agent_ws.until(is_message("a3")).await);

    let stored = stored_seqs(a, &owner, &chat, true).await;
    exactly_once_in_order(&seqs(&agent_frames, &chat), &stored, "agent on B");
    let public = stored_seqs(a, &owner, &chat, false).await;
    exactly_once_in_order(&seqs(&visitor_frames, &chat), &public, "visitor on A");
    let metrics = metrics_text(b).await;
    assert!(metrics.contains("baton_bus_reconnects_total") && metrics.contains("baton_resyncs_total"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_unreachable_at_start_and_redis_with_sqlite_are_clear_errors() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (url, _db) = pg_database_for_process().await;
    let dir = tempfile::tempdir().unwrap();
    let settings = |database_url: Option<String>| baton::app::Settings {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.path().to_path_buf(),
        database_url,
        redis_url: Some(format!("redis://127.0.0.1:{port}")),
        ..Default::default()
    };
    let clock = std::sync::Arc::new(baton::clock::ManualClock::new(T0));
    let e = baton::app::Application::build(settings(Some(url)), clock.clone()).await.err().expect("refused").to_string();
    assert!(e.contains("cannot reach Redis"), "{e}");
    let e = baton::app::Application::build(settings(None), clock).await.err().expect("refused").to_string();
    assert!(e.contains("--database-url"), "{e}");
}

/// A `baton serve` process of the test's own.
/// A `baton serve` process.
pub(crate) struct Node {
    pub(crate) child: Child,
    pub(crate) base: String,
}

impl Node {
    /// A node of `app`'s cluster: its PostgreSQL and Redis.
    fn start(app: &TestApp) -> Node {
        let s = app.settings();
        let dir = tempfile::tempdir().unwrap();
        let mut args: Vec<std::ffi::OsString> = vec!["--data-dir".into(), dir.path().into()];
        for a in
            ["--database-url", s.database_url.as_deref().unwrap(), "--redis-url", s.redis_url.as_deref().unwrap(), "--redis-prefix", &s.redis_prefix]
        {
            args.push(a.into());
        }
        Node::serve(args)
    }

    /// `baton serve` on a free port with `args`, once it says where it listens.
    pub(crate) fn serve(args: Vec<std::ffi::OsString>) -> Node {
        use std::io::{BufRead, BufReader};
        let mut child = Command::new(env!("CARGO_BIN_EXE_baton"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .env("BATON_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let base = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| {
                let l = l.trim();
                // A fresh instance asks to be set up; a set-up one says it runs.
                let url = l.strip_prefix("Baton is running: ").or_else(|| l.strip_prefix("Welcome to Baton. Finish setting up at: "))?;
                Some(url.trim_end_matches("/app/setup").trim_end_matches("/app").to_string())
            })
            .expect("serve prints its address");
        // Keep reading, so the process never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Node { child, base }
    }

    fn ws(&self, path: &str) -> String {
        format!("{}{path}", self.base.replace("http://", "ws://"))
    }

    async fn post(&self, auth: &Auth, path: &str, body: Value) -> (u16, Value) {
        let mut req = reqwest::Client::new().post(format!("{}{path}", self.base)).json(&body);
        if let Auth::Bearer(t) = auth {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn token(auth: &Auth) -> &str {
    match auth {
        Auth::Bearer(t) => t,
        _ => panic!("a bearer token"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_conversation_hands_its_clients_to_another() {
    let nodes = TestApp::cluster(1).await;
    let a = &nodes[0];
    // The process reads the real clock: bring the test's clock to it.
    let wall = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    a.clock.advance_ms(wall - a.clock.now_ms());
    let owner = a.setup().await;
    let carol = a.add_agent(&owner, "Carol", "chat_agent").await;
    owner.set_status(a, "available").await;
    carol.set_status(a, "available").await;
    let bot = a.shop_bot(&owner).await;

    let mut b = Node::start(a);
    let (status, body) = b.post(&Auth::None, &format!("/api/widget/bots/{bot}/visitors"), json!({"name": "Vera"})).await;
    assert_eq!(status, 201, "{body}");
    let visitor = Auth::Bearer(body["visitor_token"].as_str().unwrap().into());
    let v = Visitor { auth: visitor.clone() };
    let mut agent_ws = Ws::connect(&b.ws(&format!("/ws?token={}", token(&owner.auth)))).await.unwrap();
    let _carol_ws = Ws::connect(&b.ws(&format!("/ws?token={}", token(&carol.auth)))).await.unwrap();
    let mut visitor_ws = Ws::connect(&b.ws(&format!("/api/widget/ws?token={}", token(&visitor)))).await.unwrap();
    let (mut agent_frames, mut visitor_frames) = (vec![], vec![]);

    b.post(&visitor, "/api/widget/messages", json!({"body": "v1"})).await;
    let (_, esc) = b.post(&visitor, "/api/widget/escalate", json!({})).await;
    let chat = esc["conversation_id"].as_str().unwrap().to_string();
    assert_eq!(b.post(&owner.auth, &path(&chat, "claim"), json!({})).await.0, 200);
    b.post(&owner.auth, &path(&chat, "messages"), json!({"body": "a1"})).await;
    agent_frames.extend(agent_ws.until(is_message("a1")).await);
    visitor_frames.extend(visitor_ws.until(is_message("a1")).await);

    b.child.kill().expect("SIGKILL");
    let _ = b.child.wait();
    // The sockets see the connection drop.
    while agent_ws.next().await.is_some() {}
    while visitor_ws.next().await.is_some() {}

    // The conversation goes on through A meanwhile.
    assert_eq!(v.post(a, "/api/widget/messages", json!({"body": "v2"})).await.status, 201);
    assert_eq!(owner.post(a, &path(&chat, "messages"), json!({"body": "a2"})).await.status, 201);

    // Carol's only inbox was on B: her heartbeats stop, and A's timers take her offline.
    a.clock.advance_ms(120_000);
    a.sweep().await;
    assert_eq!(a.status_of(&owner, &carol).await.0, "offline");

    // Both reconnect to A and resync from the last seq they hold.
    let last = |frames: &Vec<Value>| *seqs(frames, &chat).last().unwrap();
    let mut agent_ws = Ws::agent(a, &owner).await;
    agent_ws.send(json!({"type": "sync", "conversation_id": chat, "after_seq": last(&agent_frames)})).await;
    agent_frames.extend(agent_ws.until(is_message("a2")).await);
    let mut visitor_ws = Ws::visitor(a, &v).await;
    visitor_ws.send(json!({"type": "sync", "conversation_id": chat, "after_seq": last(&visitor_frames)})).await;
    visitor_frames.extend(visitor_ws.until(is_message("a2")).await);
    v.post(a, "/api/widget/messages", json!({"body": "v3"})).await;
    agent_frames.extend(agent_ws.until(is_message("v3")).await);
    visitor_frames.extend(visitor_ws.until(is_message("v3")).await);

    let stored = stored_seqs(a, &owner, &chat, true).await;
    exactly_once_in_order(&seqs(&agent_frames, &chat), &stored, "agent");
    let public = stored_seqs(a, &owner, &chat, false).await;
    exactly_once_in_order(&seqs(&visitor_frames, &chat), &public, "visitor");
    let texts: BTreeSet<&str> = agent_frames.iter().filter_map(|f| f["data"]["text"].as_str()).collect();
    for t in ["v1", "a1", "v2", "a2", "v3"] {
        assert!(texts.contains(t), "{t} reached the agent");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_a_dead_node_had_claimed_is_handed_on_after_its_lease() {
    let (nodes, mails, owner, _visitor, chat) = two_nodes_with_a_claimed_chat().await;
    let (a, b) = (&nodes[0], &nodes[1]);
    owner.post(a, &path(&chat, "messages"), json!({"body": "Are you there?"})).await;
    a.clock.advance_ms(121_000);
    // Node A takes the email and dies before sending it.
    let taken = a.state.store.claim_emails(a.clock.now_ms(), 10).await.unwrap();
    assert_eq!(taken.len(), 1);
    b.sweep().await;
    assert_eq!(count(&mails), 0, "leased to A: B leaves it alone");
    a.clock.advance_ms(61_000);
    b.sweep().await;
    assert_eq!(count(&mails), 1, "the lease ran out: B sends it");
    a.clock.advance_ms(600_000);
    b.sweep().await;
    assert_eq!(count(&mails), 1, "once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_widget_writes_over_two_nodes_get_exactly_the_budget() {
    let nodes = TestApp::cluster_on(2, &redis_url(), |s| s.widget_per_minute = 5).await;
    let owner = nodes[0].setup().await;
    let bot = nodes[0].shop_bot(&owner).await;
    let v = nodes[0].visitor(&bot).await;
    let nodes = std::sync::Arc::new(nodes);
    let writes: Vec<_> = (0..12)
        .map(|i| {
            let (nodes, v) = (nodes.clone(), v.clone());
            tokio::spawn(async move { v.post(&nodes[i % 2], "/api/widget/messages", json!({"body": format!("hello {i}")})).await.status })
        })
        .collect();
    let mut ok = 0;
    for w in writes {
        match w.await.unwrap() {
            201 => ok += 1,
            429 => {}
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(ok, 5, "the visitor's budget, counted once across both nodes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_message_overtaken_by_a_newer_one_still_reaches_a_socket_that_never_synced() {
    let nodes = TestApp::cluster(1).await;
    let a = &nodes[0];
    let owner = a.setup().await;
    owner.set_status(a, "available").await;
    let bot = a.shop_bot(&owner).await;
    let (v, chat) = a.pending_chat(&bot).await;
    owner.post(a, &path(&chat, "claim"), json!({})).await;
    for t in ["one", "two"] {
        v.post(a, "/api/widget/messages", json!({"body": t})).await;
    }
    let c = owner.get(a, &format!("/api/live-chats/{chat}")).await;
    let msgs = c.body["messages"].as_array().unwrap().clone();
    let (older, newer) = (&msgs[msgs.len() - 2], &msgs[msgs.len() - 1]);
    // A socket that has not synced this chat sees the newer message first (written on this
    // node), then the older one (written on another, later through Redis): it gets both.
    let mut ws = Ws::agent(a, &owner).await;
    ws.flush().await;
    let team = baton::domain::ids::TeamId::parse(&owner.team).unwrap();
    let (bot_id, conv) = (baton::domain::ids::BotId::parse(&bot).unwrap(), baton::domain::ids::ConversationId::parse(&chat).unwrap());
    for m in [newer, older] {
        let ev = baton::hub::Event::new(baton::hub::EventKind::MessageCreated, T0, baton::hub::Topic::Team(team.clone()), m.clone())
            .about_chat(&bot_id, &conv)
            .with_seq(m["seq"].as_i64().unwrap());
        a.state.hub.deliver(std::sync::Arc::new(ev));
    }
    let frames = ws.until(|f| f["type"] == "message.created" && f["data"]["seq"] == older["seq"]).await;
    assert!(frames.iter().any(|f| f["data"]["seq"] == newer["seq"]), "both went out");
    // And neither twice: a later sync from the older one sends nothing again.
    ws.send(json!({"type": "sync", "conversation_id": chat, "after_seq": older["seq"].as_i64().unwrap() - 1})).await;
    ws.send(json!({"type": "sync", "conversation_id": "01900000-0000-7000-8000-00000000f1f1", "after_seq": 0})).await;
    let after = ws.until(|f| f["type"] == "error" && f["data"]["code"] == "not_found").await;
    assert!(!after.iter().any(|f| f["type"] == "message.created"), "nothing sent twice: {after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_this_version_cannot_read_makes_the_nodes_sockets_resync() {
    let nodes = TestApp::cluster(1).await;
    let a = &nodes[0];
    let owner = a.setup().await;
    let mut ws = Ws::agent(a, &owner).await;
    ws.flush().await;
    // What a newer node might send: an event kind this one does not know.
    let client = redis::Client::open(redis_url()).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let foreign = json!({"node": "another", "event": {"kind": "chat.snoozed", "at": 0, "topic": {"kind": "team", "id": owner.team}}});
    let _: i64 =
        redis::cmd("PUBLISH").arg(format!("{}:events", a.settings().redis_prefix)).arg(foreign.to_string()).query_async(&mut c).await.unwrap();
    let f = ws.next_of("resync").await;
    assert_eq!(f["data"]["reason"], "lagged");
}
