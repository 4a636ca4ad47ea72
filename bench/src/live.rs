//! The live-chat run: every chat has a visitor socket and its agent's socket; visitors send at a
//! total of R messages/s on an open-loop schedule; latency is visitor send → agent receipt,
//! counted from the *intended* send time so a stalled server cannot hide its stalls
//! (coordinated omission).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use crate::baton_api::Api;
use crate::proc;
use crate::server::{Kind, Server};

#[derive(Debug, Clone, Serialize)]
pub struct LiveResult {
    pub chats: usize,
    pub rate: u64,
    pub seconds: u64,
    pub sent: u64,
    pub delivered: u64,
    pub errors: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub max_us: u64,
    pub delivered_per_s: f64,
    pub cpu_us_per_msg: f64,
    pub rss_bytes: u64,
    /// CPU of the machine's PostgreSQL and Redis servers over the run, per delivered message
    /// (their work for the targets that use them; near zero for the others).
    pub backing_cpu_us_per_msg: f64,
}

/// How the visitors of one run send, and the agent sockets that receive.
pub struct Lanes {
    /// One per chat: send a payload as that chat's visitor.
    senders: Vec<mpsc::UnboundedSender<String>>,
    errors: Arc<AtomicU64>,
    /// Latencies (µs) from every agent reader.
    latencies: mpsc::UnboundedReceiver<u64>,
}

/// Microseconds since `base`; payloads carry their intended send time this way.
fn micros(base: Instant, at: Instant) -> u64 {
    at.saturating_duration_since(base).as_micros() as u64
}

/// Finds `b|<µs>|` in a `message.created` frame (not in a notification quoting it) and returns
/// the latency now.
fn latency(frame: &str, base: Instant) -> Option<u64> {
    if !frame.contains("message.created") {
        return None;
    }
    let i = frame.find("b|")? + 2;
    let j = frame[i..].find('|')? + i;
    let sent: u64 = frame[i..j].parse().ok()?;
    Some(micros(base, Instant::now()).saturating_sub(sent))
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(url: &str) -> Ws {
    for attempt in 0..5 {
        match tokio_tungstenite::connect_async(url).await {
            Ok((ws, _)) => return ws,
            Err(e) if attempt == 4 => panic!("connect {url}: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100 << attempt)).await,
        }
    }
    unreachable!()
}

/// Completes the Engine.IO/Socket.IO handshake on a fresh websocket.
async fn socketio_handshake(ws: &mut Ws) {
    while let Some(Ok(m)) = ws.next().await {
        if let Message::Text(t) = m {
            if t.starts_with('0') {
                ws.send(Message::Text("40".into())).await.expect("socket.io connect");
            } else if t.starts_with("40") {
                return;
            }
        }
    }
    panic!("socket.io handshake failed");
}

/// Reads an agent socket, reporting latencies; answers Socket.IO pings.
fn spawn_reader(mut ws: Ws, base: Instant, out: mpsc::UnboundedSender<u64>) {
    tokio::spawn(async move {
        while let Some(Ok(m)) = ws.next().await {
            let Message::Text(t) = m else { continue };
            if t.as_str() == "2" {
                let _ = ws.send(Message::Text("3".into())).await;
                continue;
            }
            if let Some(l) = latency(&t, base) {
                if out.send(l).is_err() {
                    return;
                }
            }
        }
    });
}

/// How a target's visitor socket carries a message.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wire {
    Baton,
    Relay,
    SocketIo,
}

/// Drains a visitor socket (echoes, acks, refusals) and writes what its lane sends.
fn spawn_ws_visitor(ws: Ws, wire: Wire) -> (mpsc::UnboundedSender<String>, Arc<AtomicU64>) {
    let socketio = wire == Wire::SocketIo;
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let errors = Arc::new(AtomicU64::new(0));
    let errs = errors.clone();
    let (mut sink, mut stream) = ws.split();
    let (pong_tx, mut pong_rx) = mpsc::unbounded_channel::<()>();
    let refused = errors.clone();
    tokio::spawn(async move {
        while let Some(Ok(m)) = stream.next().await {
            if socketio && matches!(&m, Message::Text(t) if t.as_str() == "2") {
                let _ = pong_tx.send(());
            }
            if wire == Wire::Baton && matches!(&m, Message::Text(t) if t.starts_with("{\"type\":\"error\"")) {
                refused.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    tokio::spawn(async move {
        loop {
            tokio::select! {
                Some(body) = rx.recv() => {
                    let frame = match wire {
                        Wire::SocketIo => format!("42[\"message\",{{\"body\":\"{body}\"}}]"),
                        Wire::Relay => format!("{{\"body\":\"{body}\"}}"),
                        Wire::Baton => format!("{{\"type\":\"message\",\"body\":\"{body}\"}}"),
                    };
                    if sink.send(Message::Text(frame.into())).await.is_err() {
                        errs.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Some(()) = pong_rx.recv() => { let _ = sink.send(Message::Text("3".into())).await; }
                else => return,
            }
        }
    });
    (tx, errors)
}

/// Adds a lane's errors to the run's total as they happen.
fn forward_errors(lane: Arc<AtomicU64>, total: Arc<AtomicU64>) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let e = lane.swap(0, Ordering::Relaxed);
            if e > 0 {
                total.fetch_add(e, Ordering::Relaxed);
            }
        }
    });
}

/// Sets `chats` live chats up on the server and connects every socket.
pub async fn lanes(server: &Server, chats: usize, base: Instant) -> Lanes {
    let (lat_tx, latencies) = mpsc::unbounded_channel();
    let errors = Arc::new(AtomicU64::new(0));
    let mut senders = Vec::with_capacity(chats);
    match server.kind {
        Kind::Baton | Kind::BatonPg | Kind::BatonCluster => {
            let api = Api::new(&server.url);
            let (owner, _) = api.owner().await;
            let live = api.live_chats(&owner, chats, 10).await;
            let mut agents_seen = std::collections::HashSet::new();
            for chat in live {
                if agents_seen.insert(chat.agent_token.clone()) {
                    spawn_reader(connect(&format!("{}/ws?token={}", server.agent_ws(), chat.agent_token)).await, base, lat_tx.clone());
                }
                // Visitors send over their socket, as the widget does when it is open.
                let visitor = connect(&format!("{}/api/widget/ws?token={}", server.ws(), chat.visitor_token)).await;
                let (tx, errs) = spawn_ws_visitor(visitor, Wire::Baton);
                forward_errors(errs, errors.clone());
                senders.push(tx);
            }
        }
        Kind::Relay | Kind::SocketIo => {
            let io = server.kind == Kind::SocketIo;
            for i in 0..chats {
                let (agent_url, visitor_url) = if io {
                    let base = format!("{}/socket.io/?EIO=4&transport=websocket", server.ws());
                    (format!("{base}&role=agent&chat={i}"), format!("{base}&role=visitor&chat={i}"))
                } else {
                    (format!("{}/a/{i}", server.ws()), format!("{}/v/{i}", server.ws()))
                };
                let mut agent = connect(&agent_url).await;
                let mut visitor = connect(&visitor_url).await;
                if io {
                    socketio_handshake(&mut agent).await;
                    socketio_handshake(&mut visitor).await;
                }
                spawn_reader(agent, base, lat_tx.clone());
                let (tx, errs) = spawn_ws_visitor(visitor, if io { Wire::SocketIo } else { Wire::Relay });
                forward_errors(errs, errors.clone());
                senders.push(tx);
            }
        }
    }
    Lanes { senders, errors, latencies }
}

/// Sends `rate` messages/s for `seconds` across the lanes and measures.
/// What the max-rate search found: the highest rate that held (p99 ≤ 50 ms, nothing lost) and
/// the lowest that did not, within 10 % of each other.
#[derive(Debug, Clone, Serialize)]
pub struct MaxRate {
    pub best: Option<LiveResult>,
    pub over: Option<u64>,
}

/// Whether a probe held: p99 within 50 ms, at least 99 % delivered, no errors.
fn holds(r: &LiveResult) -> bool {
    r.p99_us <= 50_000 && r.delivered >= r.sent * 99 / 100 && r.errors == 0
}

/// Finds the highest sustained rate: doubles from `from` until a probe fails (or `cap` holds),
/// halves when even `from` fails, then bisects until the rate that failed is within 10 % of the
/// one that held.
pub async fn max_rate(server: &Server, lanes: &mut Lanes, base: Instant, from: u64, cap: u64, seconds: u64) -> MaxRate {
    let mut best: Option<LiveResult> = None;
    let mut over: Option<u64> = None;
    let mut rate = from;
    loop {
        let r = probe(server, lanes, base, rate, seconds).await;
        if holds(&r) {
            best = Some(r);
            if over.is_some() || rate >= cap {
                break;
            }
            rate = (rate * 2).min(cap);
        } else {
            over = Some(rate);
            if best.is_some() || rate <= 100 {
                break;
            }
            rate /= 2;
        }
    }
    while let (Some(lo), Some(hi)) = (best.as_ref().map(|b| b.rate), over) {
        if hi as f64 <= lo as f64 * 1.1 {
            break;
        }
        // Round to 50 msg/s so the steps read well; stop when that leaves nothing between.
        let mid = (lo + hi) / 2 / 50 * 50;
        if mid <= lo || mid >= hi {
            break;
        }
        let r = probe(server, lanes, base, mid, seconds).await;
        if holds(&r) {
            best = Some(r);
        } else {
            over = Some(mid);
        }
    }
    MaxRate { best, over }
}

/// One rate, tried again once if it fails: a single stall on a shared machine (another
/// process's disk flush, say) should not decide the search; a rate that cannot be sustained
/// fails both times.
async fn probe(server: &Server, lanes: &mut Lanes, base: Instant, rate: u64, seconds: u64) -> LiveResult {
    let mut tries = 0;
    loop {
        tries += 1;
        let r = run(server, lanes, base, rate, seconds).await;
        let ok = holds(&r);
        eprintln!("  {rate} msg/s: p99 {} µs, delivered {}/{} {}", r.p99_us, r.delivered, r.sent, if ok { "ok" } else { "— over" });
        if ok || tries == 2 {
            return r;
        }
        // Let a backlog drain before the next try.
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
}

pub async fn run(server: &Server, lanes: &mut Lanes, base: Instant, rate: u64, seconds: u64) -> LiveResult {
    while lanes.latencies.try_recv().is_ok() {}
    lanes.errors.store(0, Ordering::Relaxed);
    let total = rate * seconds;
    let cpu_before = server.cpu_us();
    let backing_before = proc::backing_cpu_us();
    let start = Instant::now() + Duration::from_millis(50);
    let pad = "x".repeat(60);
    for i in 0..total {
        let at = start + Duration::from_nanos(i * 1_000_000_000 / rate);
        tokio::time::sleep_until(at.into()).await;
        let lane = (i as usize) % lanes.senders.len();
        let _ = lanes.senders[lane].send(format!("b|{}|{lane}|{pad}", micros(base, at)));
    }
    // Collect until everything arrived or nothing moves for two seconds.
    let mut hist = Histogram::<u64>::new_with_bounds(1, 120_000_000, 3).expect("histogram");
    let mut delivered = 0u64;
    while delivered < total {
        match tokio::time::timeout(Duration::from_secs(2), lanes.latencies.recv()).await {
            Ok(Some(l)) => {
                delivered += 1;
                let _ = hist.record(l.max(1));
            }
            _ => break,
        }
    }
    let elapsed = start.elapsed().as_secs_f64().max(seconds as f64);
    let cpu = server.cpu_us().saturating_sub(cpu_before);
    let backing = proc::backing_cpu_us().saturating_sub(backing_before);
    LiveResult {
        chats: lanes.senders.len(),
        rate,
        seconds,
        sent: total,
        delivered,
        errors: lanes.errors.load(Ordering::Relaxed),
        p50_us: hist.value_at_quantile(0.5),
        p99_us: hist.value_at_quantile(0.99),
        p999_us: hist.value_at_quantile(0.999),
        max_us: hist.max(),
        delivered_per_s: delivered as f64 / elapsed,
        cpu_us_per_msg: if delivered > 0 { cpu as f64 / delivered as f64 } else { 0.0 },
        rss_bytes: server.rss_bytes(),
        backing_cpu_us_per_msg: if delivered > 0 { backing as f64 / delivered as f64 } else { 0.0 },
    }
}
