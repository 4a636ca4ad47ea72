//! Idle connections: K visitor sockets held open, spread over several worker processes (20,000
//! open files per process at most) and source addresses 127.0.0.2–127.0.0.9.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio_tungstenite::tungstenite::Message;

use crate::baton_api::Api;
use crate::proc;
use crate::server::{Kind, Server};

#[derive(Debug, Clone, Serialize)]
pub struct ConnResult {
    pub target: u64,
    pub held: u64,
    pub failed: u64,
    pub rss_per_conn_bytes: f64,
    pub handshakes_per_s: f64,
}

/// Runs in a worker process: opens the sockets listed in `urls_file` lines `[from, to)` from
/// `source`, reports `ready <ok> <failed> <ms>`, holds them until its stdin closes.
pub async fn worker(urls_file: &Path, from: usize, to: usize, source: &str, socketio: bool) {
    proc::raise_fd_limit();
    let urls: Vec<String> = std::fs::read_to_string(urls_file).expect("urls").lines().skip(from).take(to - from).map(str::to_string).collect();
    let start = Instant::now();
    let source: std::net::IpAddr = source.parse().expect("source address");
    let opened: Vec<Option<tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>>> = futures_util::stream::iter(urls)
        .map(|url| async move {
            let addr: std::net::SocketAddr = url.split("://").nth(1)?.split('/').next()?.parse().ok()?;
            let sock = tokio::net::TcpSocket::new_v4().ok()?;
            sock.bind((source, 0).into()).ok()?;
            let tcp = sock.connect(addr).await.ok()?;
            let (mut ws, _) = tokio_tungstenite::client_async(url.as_str(), tcp).await.ok()?;
            if socketio {
                while let Some(Ok(m)) = ws.next().await {
                    if let Message::Text(t) = m {
                        if t.starts_with('0') {
                            ws.send(Message::Text("40".into())).await.ok()?;
                        } else if t.starts_with("40") {
                            break;
                        }
                    }
                }
            }
            Some(ws)
        })
        .buffer_unordered(200)
        .collect()
        .await;
    let ok = opened.iter().filter(|w| w.is_some()).count();
    println!("ready {ok} {} {}", opened.len() - ok, start.elapsed().as_millis());
    // Hold: keep answering pings (Socket.IO's are application-level) until told to stop.
    for ws in opened.into_iter().flatten() {
        tokio::spawn(async move {
            let mut ws = ws;
            while let Some(Ok(m)) = ws.next().await {
                if matches!(&m, Message::Text(t) if t.as_str() == "2") {
                    let _ = ws.send(Message::Text("3".into())).await;
                }
            }
        });
    }
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(_)) = stdin.next_line().await {}
}

pub async fn run(server: &Server, count: usize, workers: usize, exe: &Path) -> ConnResult {
    let urls: Vec<String> = match server.kind {
        Kind::Baton | Kind::BatonPg | Kind::BatonCluster => {
            let api = Api::new(&server.url);
            let (owner, team) = api.owner().await;
            api.visitors(&owner, &team, count).await.into_iter().map(|t| format!("{}/api/widget/ws?token={t}", server.ws())).collect()
        }
        Kind::Relay => (0..count).map(|i| format!("{}/idle/{i}", server.ws())).collect(),
        Kind::SocketIo => (0..count).map(|i| format!("{}/socket.io/?EIO=4&transport=websocket&role=visitor&chat={i}", server.ws())).collect(),
    };
    let file = server.data_dir.join("urls.txt");
    std::fs::write(&file, urls.join("\n")).expect("urls file");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = server.rss_bytes();
    let per = count.div_ceil(workers);
    let mut children = Vec::new();
    for w in 0..workers {
        let (from, to) = (w * per, ((w + 1) * per).min(count));
        let mut child = tokio::process::Command::new(exe)
            .args(["conn-worker", "--urls"])
            .arg(&file)
            .args(["--from", &from.to_string(), "--to", &to.to_string(), "--source", &format!("127.0.0.{}", 2 + w % 8)])
            .args(if server.kind == Kind::SocketIo { vec!["--socketio"] } else { vec![] })
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("worker");
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        children.push((child, lines));
    }
    let (mut held, mut failed, mut slowest_ms) = (0u64, 0u64, 1u64);
    for (_, lines) in &mut children {
        if let Ok(Some(line)) = lines.next_line().await {
            let f: Vec<u64> = line.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
            held += f.first().copied().unwrap_or(0);
            failed += f.get(1).copied().unwrap_or(0);
            slowest_ms = slowest_ms.max(f.get(2).copied().unwrap_or(1));
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = server.rss_bytes();
    for (mut child, _) in children {
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.shutdown().await;
        }
        let _ = child.kill().await;
    }
    ConnResult {
        target: count as u64,
        held,
        failed,
        rss_per_conn_bytes: rss_after.saturating_sub(rss_before) as f64 / held.max(1) as f64,
        handshakes_per_s: held as f64 / (slowest_ms as f64 / 1000.0),
    }
}
