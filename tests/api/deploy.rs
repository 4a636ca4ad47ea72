//! docs/DEPLOY.md, run: two nodes behind nginx with the documented configuration
//! (deploy/nginx/baton.conf, only its ports changed). The widget and the inbox reach different
//! nodes through the proxy and see each other live; WebSocket upgrades with a browser's Origin
//! pass; a stopped node's share goes to the other without an error. Needs nginx (Debian's
//! package; scripts/test.sh installs it).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::helpers::*;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn nginx_binary() -> PathBuf {
    for p in ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"] {
        if Path::new(p).exists() {
            return p.into();
        }
    }
    panic!("nginx is not installed: scripts/test.sh installs it (apt-get install nginx)");
}

/// nginx in the foreground with the documented server block, proxying to `ports`.
struct Nginx {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Nginx {
    async fn start(ports: &[u16]) -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        let documented = std::fs::read_to_string(repo("deploy/nginx/baton.conf")).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let servers: String = ports.iter().map(|p| format!("    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;\n")).collect();
        let conf = documented
            .replace("    server 127.0.0.1:8081 max_fails=1 fail_timeout=5s;\n    server 127.0.0.1:8082 max_fails=1 fail_timeout=5s;\n", &servers)
            .replace("listen 8080;", &format!("listen 127.0.0.1:{port};"));
        assert_ne!(conf, documented, "the documented ports were found and replaced");
        let d = dir.path().display();
        std::fs::write(dir.path().join("baton.conf"), conf).unwrap();
        std::fs::write(
            dir.path().join("nginx.conf"),
            format!(
                "pid {d}/nginx.pid;\nerror_log {d}/error.log warn;\nevents {{ worker_connections 1024; }}\n\
                 http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  \
                 uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  include {d}/baton.conf;\n}}\n"
            ),
        )
        .unwrap();
        let child = Command::new(nginx_binary())
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .args(["-g", "daemon off; master_process off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("nginx starts");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(tokio::time::Instant::now() < deadline, "nginx listens within 10 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Nginx { child, port, _dir: dir }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bearer(auth: &Auth) -> &str {
    match auth {
        Auth::Bearer(t) => t,
        _ => panic!("a bearer token"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_behind_the_documented_nginx_act_as_one() {
    let mut nodes = TestApp::cluster_on(2, &redis_url(), |s| {
        s.trusted_proxies = baton::services::clients::TrustedProxies::new(vec!["127.0.0.1".parse().unwrap()]);
    })
    .await;
    let proxy = Nginx::start(&[nodes[0].port(), nodes[1].port()]).await;
    let via = nodes[0].through(&proxy.base());
    let ws_base = proxy.base().replace("http://", "ws://");

    let owner = via.setup().await;
    owner.set_status(&via, "available").await;
    let bot = via.shop_bot(&owner).await;
    let v = via.visitor(&bot).await;
    let vid = v.patch(&via, "/api/widget/visitor", json!({})).await.body["id"].as_str().unwrap().to_string();
    let vtopic = baton::hub::Topic::Visitor(baton::domain::ids::VisitorId::parse(&vid).unwrap());
    let mut widget = Ws::connect(&format!("{ws_base}/api/widget/ws?token={}", bearer(&v.auth))).await.expect("widget socket through nginx");
    widget.flush().await;
    let widget_node = nodes.iter().position(|n| n.state.hub.has_subscribers(&vtopic)).expect("the widget is on a node");

    // Inbox sockets, as the browser opens them (with its Origin), until one lands on the other
    // node: round robin alternates, so a few tries suffice.
    let utopic = baton::hub::Topic::User(baton::domain::ids::UserId::parse(&owner.id).unwrap());
    let mut inbox = None;
    for _ in 0..6 {
        let mut ws =
            Ws::connect_from(&format!("{ws_base}/ws?token={}", bearer(&owner.auth)), &proxy.base()).await.expect("inbox socket through nginx");
        ws.flush().await;
        if nodes[1 - widget_node].state.hub.has_subscribers(&utopic) {
            inbox = Some(ws);
            break;
        }
        ws.close().await;
        let here = &nodes[widget_node];
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while here.state.hub.has_subscribers(&utopic) {
            assert!(tokio::time::Instant::now() < deadline, "the closed socket leaves its node");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let mut inbox = inbox.expect("an inbox socket on the other node");

    v.post(&via, "/api/widget/messages", json!({"body": "Where is my parcel?"})).await;
    let chat = v.post(&via, "/api/widget/escalate", json!({})).await.body["conversation_id"].as_str().unwrap().to_string();
    assert_eq!(inbox.next_of("chat.escalated").await["data"]["conversation_id"], chat.as_str());
    assert_eq!(owner.post(&via, &format!("/api/live-chats/{chat}/claim"), json!({})).await.status, 200);
    assert_eq!(widget.next_of("chat.claimed").await["data"]["state"], "active");
    owner.post(&via, &format!("/api/live-chats/{chat}/messages"), json!({"body": "On its way."})).await;
    widget.until(|f| f["type"] == "message.created" && f["data"]["text"] == "On its way.").await;
    v.post(&via, "/api/widget/messages", json!({"body": "Thanks!"})).await;
    inbox.until(|f| f["type"] == "message.created" && f["data"]["text"] == "Thanks!").await;

    // A socket from another site is still refused through the proxy.
    let foreign = Ws::connect_from(&format!("{ws_base}/ws?token={}", bearer(&owner.auth)), "https://evil.example").await;
    assert!(foreign.is_err(), "cross-site socket refused");

    // One node stops: the proxy sends everything to the other, with no error on the way.
    let stopped = nodes.remove(0);
    let via = nodes[0].through(&proxy.base());
    let mut stopped = stopped;
    stopped.stop().await.unwrap().unwrap();
    for i in 0..6 {
        let r = owner.post(&via, &format!("/api/live-chats/{chat}/messages"), json!({"body": format!("still here {i}")})).await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(via.get("/readyz").await.status, 200);
    }
}

#[test]
fn docs_deploy_shows_the_tested_files_verbatim() {
    let doc = std::fs::read_to_string(repo("docs/DEPLOY.md")).unwrap();
    for file in ["deploy/nginx/baton.conf", "deploy/baton.service"] {
        let text = std::fs::read_to_string(repo(file)).unwrap();
        assert!(doc.contains(text.trim_end()), "docs/DEPLOY.md shows {file} as it is");
    }
}
