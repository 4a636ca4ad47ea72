//! The service layer: everything that follows a change. Edges (HTTP handlers, WebSocket
//! sessions), the timers and the bot come here for every change; services write through the
//! store, publish events to the hub and notify. They never import an edge.
//!
//! - [`chats`] — every conversation change: store write, events, capacity, notifications, the
//!   bot's reply.
//! - [`events`] — turning committed changes into real-time events.
//! - [`presence`] — presence signals and the presence timers.
//! - [`notify`] — agent notifications and visitor emails, from durable outboxes.
//! - [`visitors`] — availability, the queue, messages left, ratings and transcripts.
//! - [`bot`] — the bot's answer: knowledge base or webhook.
//! - [`sweeper`] — the timer loops; [`auth`] — secrets and password hashing; [`ratelimit`].

pub mod accounts;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod bot;
pub mod bots;
pub mod chats;
pub mod clients;
pub mod connections;
pub mod events;
pub mod notify;
pub mod oidc;
pub mod outbound;
pub mod presence;
pub mod privacy;
pub mod ratelimit;
pub mod reports;
pub mod sweeper;
pub mod teams;
pub mod visitors;
pub mod webhooks;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::cluster::Cluster;
use crate::hub::{Bus, Hub, Subscription, Topic};
use crate::store::Store;
use ratelimit::RateLimiter;

#[derive(Clone)]
pub struct Settings {
    /// Address to listen on; port 0 picks a free one.
    pub listen: String,
    /// Where the SQLite file lives when no database URL is given (and files sent in chats,
    /// under `files/`, unless `files_dir` says otherwise).
    pub data_dir: PathBuf,
    /// Where files sent in chats are kept; `None`: `<data_dir>/files`.
    pub files_dir: Option<PathBuf>,
    /// `postgres://...` to use PostgreSQL instead of the embedded SQLite file.
    pub database_url: Option<String>,
    /// `redis://...`: several nodes on one PostgreSQL database, with events, the connection
    /// registry and rate limits shared through Redis.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key and channel: several clusters (or tests) share one Redis.
    pub redis_prefix: String,
    /// The address people reach Baton at, for links; defaults to the listen address.
    pub public_url: Option<String>,
    /// Failed login attempts allowed per minute, per address and per email.
    pub login_per_minute: u32,
    /// Widget writes per minute per visitor, and visitor creations per minute per address.
    pub widget_per_minute: u32,
    /// Widget writes (visitor creations included) per minute per address, over all its visitors.
    pub widget_address_per_minute: u32,
    pub session_ttl: Duration,
    /// How long a webhook bot may take to answer.
    pub webhook_timeout: Duration,
    /// How often the presence sweeper runs (heartbeat expiry, auto-away, orphaned chats);
    /// `None` runs none (tests call `sweeper::sweep` after moving their clock).
    pub sweep_every: Option<Duration>,
    /// SQLite only: fsync every commit (`synchronous=FULL`) rather than at checkpoints.
    pub sqlite_full_sync: bool,
    /// SMTP for visitor emails; `None` turns them off.
    pub smtp: Option<crate::services::notify::email::SmtpSettings>,
    /// Contact URL sent to push services with every push (mailto: or https:); defaults to the
    /// public URL.
    pub vapid_subject: Option<String>,
    /// Sockets allowed per visitor, agent, address and in all.
    pub sockets: connections::Limits,
    /// Webhooks (and push services) may be private or loopback addresses: for a bot running
    /// beside Baton, or tests. Off by default: see [`outbound`].
    pub allow_private_webhooks: bool,
    /// Time limits and counts for plain HTTP connections.
    pub http: connections::HttpLimits,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: clients::TrustedProxies,
    /// Sign-in with an OpenID Connect provider; `None`: passwords only.
    pub oidc: Option<oidc::OidcSettings>,
}

impl std::fmt::Debug for Settings {
    // The database URL may carry a password: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url.as_ref().map(|_| "<redacted>"))
            .field("redis_url", &self.redis_url.as_ref().map(|_| "<redacted>"))
            .field("redis_prefix", &self.redis_prefix)
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            files_dir: None,
            database_url: None,
            redis_url: None,
            redis_prefix: "baton".into(),
            public_url: None,
            login_per_minute: 10,
            widget_per_minute: 120,
            widget_address_per_minute: 600,
            session_ttl: Duration::from_secs(14 * 24 * 3600),
            webhook_timeout: Duration::from_secs(10),
            sweep_every: Some(Duration::from_secs(1)),
            smtp: None,
            vapid_subject: None,
            sqlite_full_sync: true,
            sockets: connections::Limits::default(),
            allow_private_webhooks: false,
            http: connections::HttpLimits::default(),
            trusted_proxies: clients::TrustedProxies::default(),
            oidc: None,
        }
    }
}

/// Everything a handler may need; cheap to clone (all shared behind `Arc`s).
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// The bytes of files sent in chats (under `<data dir>/files`).
    pub blobs: Arc<dyn crate::store::blobs::BlobStore>,
    pub clock: Arc<dyn Clock>,
    /// This node's connections by topic.
    pub hub: Arc<Hub>,
    /// Where handlers publish; delivers to the hub (of every node, for a multi-node bus).
    pub bus: Arc<dyn Bus>,
    /// With `--redis-url`: the other nodes (registry, shared counters).
    pub cluster: Option<Arc<Cluster>>,
    pub settings: Arc<Settings>,
    /// The URL links point at (no trailing slash).
    pub base_url: Arc<str>,
    pub login_limit: RateLimiter,
    pub widget_limit: RateLimiter,
    /// Widget writes per client address, over all its visitors.
    pub address_limit: RateLimiter,
    /// Outbound HTTP (webhook bots, push services).
    pub http: reqwest::Client,
    pub notifier: Arc<crate::services::notify::Notifier>,
    /// Set when the process is stopping: sockets close, timers finish the item at hand.
    pub shutdown: Shutdown,
    /// How many sockets are open, against the limits.
    pub connections: connections::Connections,
    /// The OpenID provider's discovery document and keys.
    pub oidc: Arc<oidc::Cache>,
}

impl AppState {
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Spends one widget write: from the visitor's budget and from its address's, so neither
    /// one visitor nor one address making visitors can flood a team. Every write a visitor makes
    /// costs one (messages, escalations, ends, new conversations, profile and read marks);
    /// `Err` carries the seconds until the emptier budget refills.
    pub async fn widget_write(&self, visitor: &str, address: &str) -> Result<(), u64> {
        self.spend_widget(&format!("visitor:{visitor}"), address).await
    }

    /// Spends one visitor creation (or resume) from `address`: its own budget, and one widget
    /// write of the address's.
    pub async fn widget_arrival(&self, address: &str) -> Result<(), u64> {
        self.spend_widget(&format!("visitor-ip:{address}"), address).await
    }

    /// One from `key` of the widget limit and one from the address's budget; neither is spent
    /// when the other is empty.
    async fn spend_widget(&self, key: &str, address: &str) -> Result<(), u64> {
        // Each budget counts and checks in one step (concurrent writes cannot all slip past a
        // check); one that refuses gives the other back what it took.
        self.widget_limit.take(key).await?;
        if !address.is_empty() {
            if let Err(retry) = self.address_limit.take(&format!("address:{address}")).await {
                self.widget_limit.give_back(key).await;
                return Err(retry);
            }
        }
        Ok(())
    }

    /// Whether a connection listens on `topic` on any node (an agent's inbox, a visitor's
    /// widget). `Err` when the cluster cannot tell; the caller picks the safe side.
    pub async fn listening(&self, topic: &Topic) -> Result<bool, BoxError> {
        match &self.cluster {
            Some(c) => c.listening(topic).await,
            None => Ok(self.hub.has_subscribers(topic)),
        }
    }

    /// Subscribes a connection to `topics` on this node and waits (a bounded time) until every
    /// node can see it is connected.
    pub async fn subscribe(&self, topics: Vec<Topic>, capacity: usize) -> Subscription {
        let sub = self.hub.subscribe(topics.clone(), capacity);
        if let Some(c) = &self.cluster {
            c.announce(&topics).await;
        }
        sub
    }

    /// Session cookies are `Secure` only when Baton is reached over https, so plain-http local
    /// runs can still log in.
    pub fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }
}

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Tells long-running work (sockets, timer loops) that the process is stopping, and counts the
/// open socket sessions so stopping can wait for their goodbyes. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Shutdown {
    stopping: tokio::sync::watch::Receiver<bool>,
    sessions: Arc<Sessions>,
}

#[derive(Debug, Default)]
struct Sessions {
    open: std::sync::atomic::AtomicUsize,
    closed: tokio::sync::Notify,
}

/// Held by a socket session while it runs.
pub struct SessionGuard(Arc<Sessions>);

impl Drop for SessionGuard {
    fn drop(&mut self) {
        if self.0.open.fetch_sub(1, std::sync::atomic::Ordering::AcqRel) == 1 {
            self.0.closed.notify_waiters();
        }
    }
}

impl Shutdown {
    /// The signal and the handle that raises it.
    pub fn new() -> (tokio::sync::watch::Sender<bool>, Self) {
        let (tx, rx) = tokio::sync::watch::channel(false);
        (tx, Self { stopping: rx, sessions: Arc::default() })
    }

    pub fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// Completes once stopping began (or the handle that raises it is gone).
    pub async fn stopped(&self) {
        let mut rx = self.stopping.clone();
        let _ = rx.wait_for(|stopping| *stopping).await;
    }

    /// Counts a socket session until the guard is dropped.
    pub fn session(&self) -> SessionGuard {
        self.sessions.open.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        SessionGuard(self.sessions.clone())
    }

    /// Completes when no socket session is open.
    pub async fn sessions_closed(&self) {
        loop {
            // Registered before the check, so a close in between is not missed.
            let closed = self.sessions.closed.notified();
            if self.sessions.open.load(std::sync::atomic::Ordering::Acquire) == 0 {
                return;
            }
            closed.await;
        }
    }
}
