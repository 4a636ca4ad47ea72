//! Several nodes acting as one, over Redis: the event bus between nodes' hubs, the registry of
//! who is connected where, and counters every node shares (rate limits).
//!
//! Redis holds nothing durable. The database stays the truth; what Redis carries is a wake-up
//! ([`RedisBus`]), a guess with a time limit ([`Registry`] entries expire unless refreshed), or
//! a count that may reset (rate limits fall back to the node's own when Redis does not answer).
//!
//! What losing Redis does, and how each part recovers:
//! - Events published on a node reach that node's own sockets at once, Redis or not; other
//!   nodes miss them while Redis is away. The subscriber reconnects (backing off, forever) and,
//!   once subscribed again, tells every local connection to resync from the database by `seq`,
//!   so nothing is lost or doubled. A node whose publish failed tells the others to resync,
//!   retrying every second until Redis takes it.
//! - "Is this agent's inbox open anywhere / this visitor's widget?" falls back to this node's
//!   own connections plus an error the caller decides on (push instead, email later).
//! - Rate limits count on each node alone until Redis is back.
//! - After a failed call, readers that can do without Redis skip it for a few seconds, so a dead
//!   Redis does not make every request wait for its timeout.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use crate::hub::{Bus, Event, Hub, NodeId, Topic};

/// How long a registry entry lives unless refreshed, and how often each node refreshes its own.
const ENTRY_TTL: Duration = Duration::from_secs(30);
const REFRESH_EVERY: Duration = Duration::from_secs(10);
/// How long a Redis command may take before the caller treats Redis as away.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a socket's answer waits for its registry entries.
const ANNOUNCE_WITHIN: Duration = Duration::from_secs(1);
/// How long start-up waits for Redis before giving up with an error.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the subscriber checks its connection with a PING.
const PING_EVERY: Duration = Duration::from_secs(5);
/// Events waiting to be published; past this a burst is dropped and announced as a resync.
const PUBLISH_QUEUE: usize = 65_536;
/// How often a node whose publish failed retries telling the others to resync.
const RESYNC_RETRY: Duration = Duration::from_secs(1);
/// After Redis fails to answer, how long callers that can do without it (the registry's
/// readers, rate limits) skip it rather than wait on it again.
const BACK_OFF: Duration = Duration::from_secs(5);
/// At most one resync of every connection for undecodable frames in this long.
const UNDECODABLE_RESYNC_EVERY: Duration = Duration::from_secs(5);
/// Events published in one round trip.
const PUBLISH_BATCH: usize = 256;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// What travels on the channel: an event, or (no event) "resync: you may have missed mine".
#[derive(Serialize, Deserialize)]
struct Envelope<E> {
    node: NodeId,
    event: Option<E>,
}

/// One node's connection to the cluster. Cheap to share (`Arc`).
pub struct Cluster {
    node: NodeId,
    prefix: String,
    commands: ConnectionManager,
    hub: Arc<Hub>,
    publish: mpsc::Sender<Arc<Event>>,
    /// Set when an event could not be published: the next publish first tells the other nodes
    /// to resync.
    owe_resync: Arc<AtomicBool>,
    registry: mpsc::UnboundedSender<Change>,
    /// Wall-clock ms until which Redis is skipped by callers with a fallback (see [`BACK_OFF`]).
    away_until: AtomicI64,
}

/// What the registry's keeper is asked to do.
enum Change {
    /// Write or remove this node's entry for the topic, as the hub now says; then answer.
    Topic(Topic, Option<oneshot::Sender<()>>),
    /// Rewrite every entry of this node's now (Redis came back, perhaps empty).
    All,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster").field("node", &self.node).field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

fn wall_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

fn topic_key(topic: &Topic) -> String {
    match topic {
        Topic::Team(id) => format!("team:{id}"),
        Topic::Visitor(id) => format!("visitor:{id}"),
        Topic::User(id) => format!("user:{id}"),
        Topic::Bot(id) => format!("bot:{id}"),
    }
}

/// The topics the registry keeps: an agent's own inboxes and a visitor's widgets.
fn registered(topic: &Topic) -> bool {
    matches!(topic, Topic::User(_) | Topic::Visitor(_))
}

async fn timed<T>(what: &str, f: impl std::future::Future<Output = redis::RedisResult<T>>) -> Result<T, Error> {
    match tokio::time::timeout(COMMAND_TIMEOUT, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("redis {what}: {e}").into()),
        Err(_) => Err(format!("redis {what}: no answer within {COMMAND_TIMEOUT:?}").into()),
    }
}

impl Cluster {
    /// Connects to Redis, subscribes to the cluster's channel and starts the publisher, the
    /// subscriber and the registry. Fails (rather than starting alone) when Redis cannot be
    /// reached within a few seconds.
    pub async fn connect(url: &str, prefix: &str, hub: Arc<Hub>) -> Result<Arc<Self>, Error> {
        let client = redis::Client::open(url).map_err(|e| format!("--redis-url is not a Redis URL: {e}"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(COMMAND_TIMEOUT))
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let unreachable = |e: &dyn std::fmt::Display| format!("cannot reach Redis at {}: {e}", redacted(url));
        let mut commands = match tokio::time::timeout(CONNECT_TIMEOUT, client.get_connection_manager_with_config(config)).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return Err(unreachable(&e).into()),
            Err(_) => return Err(unreachable(&"no answer within 5 s").into()),
        };
        let _: String = timed("PING", redis::cmd("PING").query_async(&mut commands)).await.map_err(|e| unreachable(&e))?;
        let node = hub.node().clone();
        let channel = format!("{prefix}:events");
        // Subscribed before serving: nothing published after start-up is missed.
        let first = tokio::time::timeout(CONNECT_TIMEOUT, subscribe(&client, &channel))
            .await
            .map_err(|_| unreachable(&"no answer within 5 s"))?
            .map_err(|e| unreachable(&e))?;
        let (publish, queue) = mpsc::channel(PUBLISH_QUEUE);
        let (registry, changes) = mpsc::unbounded_channel();
        let owe_resync = Arc::new(AtomicBool::new(false));
        let cluster = Arc::new(Self {
            node: node.clone(),
            prefix: prefix.to_string(),
            commands: commands.clone(),
            hub: hub.clone(),
            publish,
            owe_resync: owe_resync.clone(),
            registry: registry.clone(),
            away_until: AtomicI64::new(0),
        });
        hub.watch(Box::new(move |topic: &Topic| {
            if registered(topic) {
                let _ = registry.send(Change::Topic(topic.clone(), None));
            }
        }));
        tokio::spawn(publisher(commands.clone(), channel.clone(), node.clone(), queue, owe_resync));
        tokio::spawn(subscriber(client, channel, node, Arc::downgrade(&hub), first, cluster.registry.clone()));
        tokio::spawn(keeper(commands, prefix.to_string(), cluster.node.clone(), Arc::downgrade(&hub), changes));
        Ok(cluster)
    }

    /// The Redis key for `topic`'s registry entry.
    fn entry(&self, topic: &Topic) -> String {
        format!("{}:here:{}", self.prefix, topic_key(topic))
    }

    /// Whether a connection listens on `topic` on any node: this node's own first, then the
    /// registry. `Err` when Redis does not answer (the caller decides what is safe).
    pub async fn listening(&self, topic: &Topic) -> Result<bool, Error> {
        if self.hub.has_subscribers(topic) {
            return Ok(true);
        }
        let mut c = self.commands.clone();
        let n: i64 = self.guarded(timed("ZCOUNT", c.zcount(self.entry(topic), wall_ms(), "+inf"))).await?;
        Ok(n > 0)
    }

    /// Runs a Redis call unless Redis failed within the last few seconds; a failure starts such a
    /// pause. So while Redis is away, requests that can do without it do not each wait for it.
    async fn guarded<T>(&self, call: impl std::future::Future<Output = Result<T, Error>>) -> Result<T, Error> {
        if wall_ms() < self.away_until.load(Ordering::Acquire) {
            return Err("redis: away (failed moments ago)".into());
        }
        let r = call.await;
        if r.is_err() {
            self.away_until.store(wall_ms() + BACK_OFF.as_millis() as i64, Ordering::Release);
        }
        r
    }

    /// Waits (a bounded time) until this node's connections on `topics` are in the registry,
    /// so a socket that was just answered counts everywhere at once.
    pub async fn announce(&self, topics: &[Topic]) {
        let mut acks = Vec::new();
        for t in topics.iter().filter(|t| registered(t)) {
            let (tx, rx) = oneshot::channel();
            if self.registry.send(Change::Topic(t.clone(), Some(tx))).is_ok() {
                acks.push(rx);
            }
        }
        // One bound for all of them: while Redis is away a socket opens a second late, not more.
        let _ = tokio::time::timeout(ANNOUNCE_WITHIN, futures_util::future::join_all(acks)).await;
    }

    /// Redis answers a PING (readiness).
    pub async fn ping(&self) -> Result<(), Error> {
        let mut c = self.commands.clone();
        let _: String = timed("PING", redis::cmd("PING").query_async(&mut c)).await?;
        Ok(())
    }

    /// Counts one event in a fixed window shared by every node and returns the window's count.
    /// `key` is hashed, so no address or email is stored in Redis.
    pub async fn count(&self, name: &str, key: &str, window: i64, ttl: Duration) -> Result<u64, Error> {
        let mut c = self.commands.clone();
        let k = self.counter(name, key, window);
        let (n, _): (u64, bool) =
            self.guarded(timed("INCR", redis::pipe().incr(&k, 1u64).pexpire(&k, ttl.as_millis() as i64).query_async(&mut c))).await?;
        Ok(n)
    }

    /// Takes back one count (a request another budget refused).
    pub async fn uncount(&self, name: &str, key: &str, window: i64) -> Result<(), Error> {
        let mut c = self.commands.clone();
        let k = self.counter(name, key, window);
        self.guarded(timed("DECR", c.decr::<_, _, i64>(&k, 1u64))).await.map(drop)
    }

    /// The current count of a window, without counting.
    pub async fn peek(&self, name: &str, key: &str, window: i64) -> Result<u64, Error> {
        let mut c = self.commands.clone();
        let n: Option<u64> = self.guarded(timed("GET", c.get(self.counter(name, key, window)))).await?;
        Ok(n.unwrap_or(0))
    }

    fn counter(&self, name: &str, key: &str, window: i64) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(key.as_bytes());
        let short: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        format!("{}:rate:{name}:{short}:{window}", self.prefix)
    }
}

/// The URL without its password, for messages.
fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "<unparsable URL>".into(),
    }
}

async fn subscribe(client: &redis::Client, channel: &str) -> redis::RedisResult<redis::aio::PubSub> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel).await?;
    Ok(pubsub)
}

/// Events of this node's to every other node, in order, batched per round trip.
async fn publisher(
    mut commands: ConnectionManager,
    channel: String,
    node: NodeId,
    mut queue: mpsc::Receiver<Arc<Event>>,
    owe_resync: Arc<AtomicBool>,
) {
    let mut batch = Vec::with_capacity(PUBLISH_BATCH);
    // A resync owed after a failed publish is sent on its own when no event comes to carry it.
    let mut retry = tokio::time::interval(RESYNC_RETRY);
    retry.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            n = queue.recv_many(&mut batch, PUBLISH_BATCH) => if n == 0 { return },
            _ = retry.tick() => if !owe_resync.load(Ordering::Acquire) { continue },
        }
        let mut pipe = redis::pipe();
        if owe_resync.swap(false, Ordering::AcqRel) {
            let env: Envelope<&Event> = Envelope { node: node.clone(), event: None };
            pipe.publish(&channel, serde_json::to_vec(&env).unwrap_or_default()).ignore();
        }
        for ev in &batch {
            let env = Envelope { node: node.clone(), event: Some(&**ev) };
            pipe.publish(&channel, serde_json::to_vec(&env).unwrap_or_default()).ignore();
        }
        match timed("PUBLISH", pipe.query_async::<()>(&mut commands)).await {
            Ok(()) => metrics::counter!("baton_bus_published_total").increment(batch.len() as u64),
            Err(e) => {
                tracing::warn!(error = %e, events = batch.len(), "publishing to the other nodes failed; they will resync");
                metrics::counter!("baton_bus_dropped_total", "reason" => "publish_failed").increment(batch.len() as u64);
                owe_resync.store(true, Ordering::Release);
            }
        }
        batch.clear();
    }
}

/// Other nodes' events to this node's hub. Reconnects for as long as the hub lives; after every
/// reconnection every local connection resyncs, since events published meanwhile are gone.
async fn subscriber(
    client: redis::Client,
    channel: String,
    node: NodeId,
    hub: Weak<Hub>,
    first: redis::aio::PubSub,
    registry: mpsc::UnboundedSender<Change>,
) {
    let mut pubsub = Some(first);
    let last_undecodable = AtomicI64::new(0);
    let mut backoff = Duration::from_millis(100);
    loop {
        let conn = match pubsub.take() {
            Some(p) => p,
            None => match tokio::time::timeout(CONNECT_TIMEOUT, subscribe(&client, &channel)).await {
                Ok(Ok(p)) => {
                    backoff = Duration::from_millis(100);
                    let Some(h) = hub.upgrade() else { return };
                    tracing::info!("subscribed to the cluster's events again; every connection resyncs");
                    metrics::counter!("baton_bus_reconnects_total").increment(1);
                    h.resync_all();
                    let _ = registry.send(Change::All);
                    p
                }
                Ok(Err(_)) | Err(_) => {
                    if hub.strong_count() == 0 {
                        return;
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                    continue;
                }
            },
        };
        let (mut sink, mut stream) = conn.split();
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        loop {
            tokio::select! {
                msg = stream.next() => {
                    let Some(msg) = msg else { break };
                    let Some(h) = hub.upgrade() else { return };
                    receive(&h, &node, msg.get_payload_bytes(), &last_undecodable);
                }
                _ = ping.tick() => {
                    if hub.strong_count() == 0 {
                        return;
                    }
                    if alive(&mut sink).await.is_err() {
                        break;
                    }
                }
            }
        }
        tracing::warn!("lost the cluster's event channel; reconnecting");
    }
}

/// Whether the subscribed connection still answers. In RESP2's subscribed mode PING answers
/// `["pong", ""]`, in RESP3 `PONG`: any answer will do.
async fn alive(sink: &mut redis::aio::PubSubSink) -> Result<(), Error> {
    timed("PING", sink.ping::<redis::Value>()).await.map(drop)
}

fn receive(hub: &Hub, me: &NodeId, bytes: &[u8], last_undecodable: &AtomicI64) {
    match serde_json::from_slice::<Envelope<Event>>(bytes) {
        Ok(env) if &env.node == me => {}
        Ok(Envelope { event: Some(ev), .. }) => {
            metrics::counter!("baton_bus_received_total").increment(1);
            hub.deliver(Arc::new(ev));
        }
        Ok(Envelope { event: None, .. }) => {
            tracing::info!("another node missed publishing events; every connection resyncs");
            hub.resync_all();
        }
        Err(e) => {
            // Another version's event, or garbage: never guessed at. It may have been meant for
            // a connection here, so every connection resyncs (at most once per few seconds).
            tracing::warn!(error = %e, "an undecodable event on the cluster's channel was dropped; connections resync");
            metrics::counter!("baton_bus_dropped_total", "reason" => "undecodable").increment(1);
            let now = wall_ms();
            let last = last_undecodable.load(Ordering::Acquire);
            if now - last >= UNDECODABLE_RESYNC_EVERY.as_millis() as i64
                && last_undecodable.compare_exchange(last, now, Ordering::AcqRel, Ordering::Acquire).is_ok()
            {
                hub.resync_all();
            }
        }
    }
}

/// Keeps this node's registry entries: written when a topic gains its first local connection,
/// removed when it loses its last, refreshed before they expire. Each change re-reads the hub,
/// so changes applied out of order still leave the truth.
async fn keeper(mut commands: ConnectionManager, prefix: String, node: NodeId, hub: Weak<Hub>, mut changes: mpsc::UnboundedReceiver<Change>) {
    let key = |t: &Topic| format!("{prefix}:here:{}", topic_key(t));
    let member = serde_json::to_string(&node).unwrap_or_default();
    let mut refresh = tokio::time::interval(REFRESH_EVERY);
    let mut pending = Vec::with_capacity(1024);
    loop {
        tokio::select! {
            n = changes.recv_many(&mut pending, 1024) => {
                if n == 0 {
                    return;
                }
                let Some(h) = hub.upgrade() else { return };
                // Everything waiting goes in one round trip, each topic once, as the hub says now.
                let mut topics = std::collections::HashSet::new();
                let mut acks = vec![];
                for change in pending.drain(..) {
                    match change {
                        Change::All => refresh.reset_immediately(),
                        Change::Topic(topic, ack) => {
                            topics.insert(topic);
                            acks.extend(ack);
                        }
                    }
                }
                let expires = wall_ms() + ENTRY_TTL.as_millis() as i64;
                let mut pipe = redis::pipe();
                for topic in &topics {
                    let k = key(topic);
                    if h.has_subscribers(topic) {
                        pipe.zadd(&k, &member, expires).ignore().pexpire(&k, 2 * ENTRY_TTL.as_millis() as i64).ignore();
                    } else {
                        pipe.zrem(&k, &member).ignore();
                    }
                }
                drop(h);
                if !topics.is_empty() {
                    if let Err(e) = timed("registry write", pipe.query_async::<()>(&mut commands)).await {
                        tracing::debug!(error = %e, "registry write failed; the next refresh repairs it");
                    }
                }
                for ack in acks {
                    let _ = ack.send(());
                }
            }
            _ = refresh.tick() => {
                let Some(h) = hub.upgrade() else { return };
                let topics: Vec<Topic> = h.topics().into_iter().filter(registered).collect();
                drop(h);
                let now = wall_ms();
                let expires = now + ENTRY_TTL.as_millis() as i64;
                for chunk in topics.chunks(500) {
                    let mut pipe = redis::pipe();
                    for t in chunk {
                        let k = key(t);
                        pipe.zrembyscore(&k, "-inf", now).ignore().zadd(&k, &member, expires).ignore().pexpire(&k, 2 * ENTRY_TTL.as_millis() as i64).ignore();
                    }
                    if let Err(e) = timed("registry refresh", pipe.query_async::<()>(&mut commands)).await {
                        tracing::debug!(error = %e, "registry refresh failed");
                        break;
                    }
                }
            }
        }
    }
}

/// The bus of a node in a cluster: each event reaches this node's hub at once and every other
/// node's through Redis.
pub struct RedisBus(pub Arc<Cluster>);

impl Bus for RedisBus {
    fn publish(&self, event: Event) {
        let ev = Arc::new(event);
        self.0.hub.deliver(ev.clone());
        if self.0.publish.try_send(ev).is_err() {
            metrics::counter!("baton_bus_dropped_total", "reason" => "queue_full").increment(1);
            self.0.owe_resync.store(true, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(redacted("redis://:s3cret@cache:6379/0"), "redis://:***@cache:6379/0");
        assert_eq!(redacted("redis://cache:6379"), "redis://cache:6379");
        assert!(!redacted("::nonsense").contains("nonsense"));
    }

    /// The machine's Redis (the test suite's), in both protocols: a subscribed connection's
    /// health check must pass in each, or the subscriber would reconnect every few seconds.
    #[tokio::test]
    async fn a_subscribed_connection_answers_the_health_check_in_resp2_and_resp3() {
        let base = std::env::var("BATON_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
        let base = base.split('?').next().unwrap_or_default().to_string();
        for url in [base.clone(), format!("{base}?protocol=resp3")] {
            let client = redis::Client::open(url.as_str()).unwrap();
            let (mut sink, _stream) = subscribe(&client, "baton-test:health").await.expect("the test Redis").split();
            alive(&mut sink).await.unwrap_or_else(|e| panic!("{url}: {e}"));
        }
    }

    #[test]
    fn only_inboxes_and_widgets_are_registered() {
        use crate::domain::ids::{BotId, TeamId, UserId, VisitorId};
        assert!(registered(&Topic::User(UserId::new())));
        assert!(registered(&Topic::Visitor(VisitorId::new())));
        assert!(!registered(&Topic::Team(TeamId::new())));
        assert!(!registered(&Topic::Bot(BotId::new())));
    }
}
