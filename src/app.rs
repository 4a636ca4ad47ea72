//! Wiring: settings, shared state, start-up and shutdown. `Application::build` binds the
//! listener first (port 0 in tests), so `port()` is known before `run_until_stopped`.

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::cluster::{Cluster, RedisBus};
use crate::hub::{Bus, Hub, LocalBus};
use crate::services::Shutdown;
use crate::services::ratelimit::RateLimiter;
pub use crate::services::{AppState, BoxError, Settings};
use crate::store::Store;
use crate::store::postgres::PgStore;
use crate::store::sqlite::SqliteStore;

/// Opens the configured store and runs its migrations.
pub async fn open_store(settings: &Settings) -> Result<Arc<dyn Store>, BoxError> {
    if settings.redis_url.is_some() && settings.database_url.is_none() {
        return Err("--redis-url runs several nodes on one database, and the embedded SQLite file belongs to one node: \
                    give every node the same --database-url postgres://... as well"
            .into());
    }
    Ok(match &settings.database_url {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => Arc::new(PgStore::connect(url).await?),
        Some(url) => {
            return Err(format!(
                "unsupported database URL {:?}: use postgres://... or leave it unset for SQLite",
                url.split(':').next().unwrap_or("")
            )
            .into());
        }
        None => Arc::new(SqliteStore::open_with(&settings.data_dir, settings.sqlite_full_sync).await?),
    })
}

/// How long stopping waits for sockets to send their close frame.
const SOCKETS_CLOSE_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

pub struct Application {
    listener: TcpListener,
    state: AppState,
    /// Raised when `run_until_stopped`'s shutdown future completes.
    stop: tokio::sync::watch::Sender<bool>,
}

impl Application {
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> Result<Self, BoxError> {
        let store = open_store(&settings).await?;
        Self::with_store(settings, clock, store).await
    }

    pub async fn with_store(settings: Settings, clock: Arc<dyn Clock>, store: Arc<dyn Store>) -> Result<Self, BoxError> {
        install_crypto_provider();
        let listener = TcpListener::bind(&settings.listen).await.map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
        let addr = listener.local_addr()?;
        let base_url: Arc<str> = settings.public_url.clone().unwrap_or_else(|| format!("http://{addr}")).trim_end_matches('/').into();
        // No proxy from the environment: it would resolve names itself, around the address rule.
        let mut http = reqwest::Client::builder().timeout(settings.webhook_timeout).redirect(reqwest::redirect::Policy::none()).no_proxy();
        if !settings.allow_private_webhooks {
            http = http.dns_resolver(crate::services::outbound::PublicResolver);
        }
        let http = http.build()?;
        let subject = settings.vapid_subject.clone().unwrap_or_else(|| base_url.to_string());
        let vapid = crate::services::notify::push::Vapid::load(store.as_ref(), subject).await?;
        let mailer = settings.smtp.as_ref().map(crate::services::notify::email::Mailer::new).transpose()?;
        let notifier = Arc::new(crate::services::notify::Notifier { vapid, mailer });
        let hub = Hub::new();
        // Counters exist before anything counts.
        crate::http::ops::install_recorder();
        let cluster = match &settings.redis_url {
            Some(url) => Some(Cluster::connect(url, &settings.redis_prefix, hub.clone()).await?),
            None => None,
        };
        let bus: Arc<dyn Bus> = match &cluster {
            Some(c) => Arc::new(RedisBus(c.clone())),
            None => Arc::new(LocalBus::new(hub.clone())),
        };
        let (stop, shutdown) = Shutdown::new();
        let state = AppState {
            shutdown,
            connections: crate::services::connections::Connections::new(settings.sockets),
            oidc: crate::services::oidc::cache(),
            notifier,
            blobs: Arc::new(crate::store::blobs::FsBlobs::new(settings.files_dir.clone().unwrap_or_else(|| settings.data_dir.join("files")))),
            store,
            bus,
            hub,
            login_limit: RateLimiter::new(settings.login_per_minute, 60_000, clock.clone()).shared("login", cluster.clone()),
            widget_limit: RateLimiter::new(settings.widget_per_minute, 60_000, clock.clone()).shared("widget", cluster.clone()),
            address_limit: RateLimiter::new(settings.widget_address_per_minute, 60_000, clock.clone()).shared("address", cluster.clone()),
            cluster,
            clock,
            settings: Arc::new(settings),
            base_url,
            http,
        };
        Ok(Self { listener, state, stop })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `stop_requested` completes, then stops cleanly: no new connections, in-flight
    /// requests finish, every socket is closed with 1001 "going away" (clients reconnect, to
    /// this node once it is back or to another), and each timer loop finishes the item at hand.
    pub async fn run_until_stopped(self, stop_requested: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let Self { listener, state, stop } = self;
        let shutdown = state.shutdown.clone();
        let timers = state.settings.sweep_every.map(|every| crate::services::sweeper::spawn(state.clone(), every)).unwrap_or_default();
        let signalled = async move {
            stop_requested.await;
            let _ = stop.send(true);
        };
        let (limits, trusted) = (state.settings.http, state.settings.trusted_proxies.clone());
        let served = crate::http::server::serve(listener, router(state), limits, trusted, signalled).await;
        // Upgraded sockets outlive the HTTP server: wait (a bounded time) for each to say goodbye.
        if tokio::time::timeout(SOCKETS_CLOSE_WITHIN, shutdown.sessions_closed()).await.is_err() {
            tracing::warn!("some sockets did not close in time");
        }
        for t in timers {
            if let Err(e) = t.await {
                tracing::error!(error = %e, "a timer loop ended abnormally");
            }
        }
        served
    }
}

/// The whole application: the HTTP edge's routes and the WebSocket edge's upgrades, under the
/// layers every route shares.
pub fn router(state: AppState) -> axum::Router {
    let (api, mut doc) = crate::http::routes().merge(crate::realtime::router()).split_for_parts();
    crate::http::openapi::finish(&mut doc);
    let json = doc.to_json().unwrap_or_else(|e| {
        tracing::error!(error = %e, "the OpenAPI document does not render");
        "{}".into()
    });
    let doc = crate::http::openapi::Document(json.into());
    crate::http::layers(api.merge(crate::http::ui::router()).layer(axum::Extension(doc)), &state).with_state(state)
}

/// rustls needs one process-wide crypto provider; Baton uses ring everywhere.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
