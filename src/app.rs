//! Wiring: settings, shared state, start-up and shutdown. `Application::build` binds the
//! listener first (port 0 in tests), so `port()` is known before `run_until_stopped`.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::hub::{Bus, Hub, LocalBus};
use crate::ratelimit::RateLimiter;
use crate::store::Store;
use crate::store::postgres::PgStore;
use crate::store::sqlite::SqliteStore;

#[derive(Clone)]
pub struct Settings {
    /// Address to listen on; port 0 picks a free one.
    pub listen: String,
    /// Where the SQLite file lives when no database URL is given.
    pub data_dir: PathBuf,
    /// `postgres://...` to use PostgreSQL instead of the embedded SQLite file.
    pub database_url: Option<String>,
    /// The address people reach Baton at, for links; defaults to the listen address.
    pub public_url: Option<String>,
    /// Failed login attempts allowed per minute, per address and per email.
    pub login_per_minute: u32,
    /// Widget requests per minute per address (visitor creation and messages).
    pub widget_per_minute: u32,
    pub session_ttl: Duration,
    /// How long a webhook bot may take to answer.
    pub webhook_timeout: Duration,
    /// How often the presence sweeper runs (heartbeat expiry, auto-away, orphaned chats);
    /// `None` runs none (tests call `sweeper::sweep` after moving their clock).
    pub sweep_every: Option<Duration>,
    /// SQLite only: fsync every commit (`synchronous=FULL`) rather than at checkpoints.
    pub sqlite_full_sync: bool,
    /// SMTP for visitor emails; `None` turns them off.
    pub smtp: Option<crate::notify::email::SmtpSettings>,
    /// Contact URL sent to push services with every push (mailto: or https:); defaults to the
    /// public URL.
    pub vapid_subject: Option<String>,
}

impl std::fmt::Debug for Settings {
    // The database URL may carry a password: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url.as_ref().map(|_| "<redacted>"))
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            public_url: None,
            login_per_minute: 10,
            widget_per_minute: 120,
            session_ttl: Duration::from_secs(14 * 24 * 3600),
            webhook_timeout: Duration::from_secs(10),
            sweep_every: Some(Duration::from_secs(1)),
            smtp: None,
            vapid_subject: None,
            sqlite_full_sync: true,
        }
    }
}

/// Everything a handler may need; cheap to clone (all shared behind `Arc`s).
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// This node's connections by topic.
    pub hub: Arc<Hub>,
    /// Where handlers publish; delivers to the hub (of every node, for a multi-node bus).
    pub bus: Arc<dyn Bus>,
    pub settings: Arc<Settings>,
    /// The URL links point at (no trailing slash).
    pub base_url: Arc<str>,
    pub login_limit: RateLimiter,
    pub widget_limit: RateLimiter,
    /// Outbound HTTP (webhook bots, push services).
    pub http: reqwest::Client,
    pub notifier: Arc<crate::notify::Notifier>,
}

impl AppState {
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Session cookies are `Secure` only when Baton is reached over https, so plain-http local
    /// runs can still log in.
    pub fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }
}

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Opens the configured store and runs its migrations.
pub async fn open_store(settings: &Settings) -> Result<Arc<dyn Store>, BoxError> {
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

pub struct Application {
    listener: TcpListener,
    state: AppState,
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
        let http = reqwest::Client::builder().timeout(settings.webhook_timeout).redirect(reqwest::redirect::Policy::none()).build()?;
        let subject = settings.vapid_subject.clone().unwrap_or_else(|| base_url.to_string());
        let vapid = crate::notify::push::Vapid::load(store.as_ref(), subject).await?;
        let mailer = settings.smtp.as_ref().map(crate::notify::email::Mailer::new).transpose()?;
        let notifier = Arc::new(crate::notify::Notifier { vapid, mailer });
        let hub = Hub::new();
        let state = AppState {
            notifier,
            store,
            bus: Arc::new(LocalBus::new(hub.clone())),
            hub,
            login_limit: RateLimiter::new(settings.login_per_minute, 60_000, clock.clone()),
            widget_limit: RateLimiter::new(settings.widget_per_minute, 60_000, clock.clone()),
            clock,
            settings: Arc::new(settings),
            base_url,
            http,
        };
        Ok(Self { listener, state })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let sweeper = self.state.settings.sweep_every.map(|every| crate::sweeper::spawn(self.state.clone(), every));
        let router = crate::http::router(self.state);
        let served = axum::serve(self.listener, router.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(shutdown).await;
        if let Some(s) = sweeper {
            s.abort();
        }
        served
    }
}

/// rustls needs one process-wide crypto provider; Baton uses ring everywhere.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
