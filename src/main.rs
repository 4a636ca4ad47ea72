//! The `baton` binary: `serve` runs the server, `demo` seeds a team to try it with.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use baton::app::{Application, Settings};
use baton::clock::SystemClock;
use baton::services::notify::email::{SmtpSettings, Tls};
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "baton", version, about = "Self-hosted live-chat handoff: a bot answers first, people take over.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(Common),
    /// Seed a demo team, bot and agents on a fresh instance, and print their logins.
    Demo(Common),
}

#[derive(Args)]
struct Common {
    /// Address to listen on.
    #[arg(long, env = "BATON_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// Directory for the SQLite database (used when no database URL is set).
    #[arg(long, env = "BATON_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// Directory for files sent in chats (default: <data dir>/files). Several nodes share one
    /// (a network mount).
    #[arg(long, env = "BATON_FILES_DIR")]
    files_dir: Option<PathBuf>,
    /// PostgreSQL URL (postgres://user@host/db) to use instead of SQLite.
    #[arg(long, env = "BATON_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Redis URL (redis://host:6379/0; add ?protocol=resp3 to use RESP3) for several nodes on
    /// one PostgreSQL database: events, who is connected where, and rate limits are shared
    /// through it. Needs --database-url.
    #[arg(long, env = "BATON_REDIS_URL", hide_env_values = true)]
    redis_url: Option<String>,
    /// Prefix of Baton's Redis keys and channel, so several clusters can share one Redis.
    #[arg(long, env = "BATON_REDIS_PREFIX", default_value = "baton")]
    redis_prefix: String,
    /// Public address of this server, for links (defaults to http://<listen>).
    #[arg(long, env = "BATON_PUBLIC_URL")]
    public_url: Option<String>,
    /// Seconds a webhook bot may take to answer.
    #[arg(long, env = "BATON_WEBHOOK_TIMEOUT", default_value_t = 10)]
    webhook_timeout: u64,
    /// Failed logins allowed per minute, per address and per email (0: no limit).
    #[arg(long, env = "BATON_LOGIN_PER_MINUTE", default_value_t = 10)]
    login_per_minute: u32,
    /// Widget writes allowed per minute per visitor, and new visitors per minute per address
    /// (0: no limit).
    #[arg(long, env = "BATON_WIDGET_PER_MINUTE", default_value_t = 120)]
    widget_per_minute: u32,
    /// Widget writes (new visitors included) allowed per minute per address, over all its
    /// visitors (0: no limit).
    #[arg(long, env = "BATON_WIDGET_ADDRESS_PER_MINUTE", default_value_t = 600)]
    widget_address_per_minute: u32,
    /// Let bot webhooks (and push services) be private or loopback addresses, e.g. a bot
    /// running beside Baton. Off by default, so a bot's URL cannot reach Baton's own network.
    #[arg(long, env = "BATON_ALLOW_PRIVATE_WEBHOOKS")]
    allow_private_webhooks: bool,
    /// Open sockets allowed in all on this node (0: no limit); keep it below the process's
    /// file-descriptor limit, with room for HTTP and the database.
    #[arg(long, env = "BATON_MAX_SOCKETS", default_value_t = 16_000)]
    max_sockets: usize,
    /// Open sockets allowed per visitor (0: no limit).
    #[arg(long, env = "BATON_SOCKETS_PER_VISITOR", default_value_t = 5)]
    sockets_per_visitor: usize,
    /// Open sockets allowed per agent: their tabs and devices (0: no limit).
    #[arg(long, env = "BATON_SOCKETS_PER_AGENT", default_value_t = 20)]
    sockets_per_agent: usize,
    /// Open sockets allowed per client address (0: no limit).
    #[arg(long, env = "BATON_SOCKETS_PER_ADDRESS", default_value_t = 500)]
    sockets_per_address: usize,
    /// Seconds a client may take to send a request's headers; also how long an idle
    /// keep-alive connection stays open (0: no limit).
    #[arg(long, env = "BATON_HEADER_TIMEOUT", default_value_t = 15)]
    header_timeout: u64,
    /// Seconds a client may take to send a request's body (answered 408 after that).
    #[arg(long, env = "BATON_BODY_TIMEOUT", default_value_t = 30)]
    body_timeout: u64,
    /// Plain HTTP connections open at once on this node (0: no limit). Sockets that upgraded
    /// count under --max-sockets instead.
    #[arg(long, env = "BATON_MAX_CONNECTIONS", default_value_t = 2_000)]
    max_connections: usize,
    /// Plain HTTP connections open at once from one address (0: no limit; trusted proxies are
    /// exempt).
    #[arg(long, env = "BATON_CONNECTIONS_PER_ADDRESS", default_value_t = 100)]
    connections_per_address: usize,
    /// Reverse proxies (addresses or ranges, comma-separated: 10.0.0.0/8,::1) whose
    /// X-Forwarded-For names the client. Without it the header is ignored.
    #[arg(long, env = "BATON_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Vec<String>,
    /// SQLite durability: `full` syncs every commit to disk (survives power loss); `normal`
    /// syncs at checkpoints (survives a crash of Baton, may lose the last commits if the machine
    /// goes down) and is much cheaper per message.
    #[arg(long, env = "BATON_SQLITE_SYNC", default_value = "full")]
    sqlite_sync: String,
    /// Log as JSON lines instead of text.
    #[arg(long, env = "BATON_LOG_JSON")]
    log_json: bool,
    /// SMTP server for unread-reply emails to visitors (emails are off without it).
    #[arg(long, env = "BATON_SMTP_HOST")]
    smtp_host: Option<String>,
    #[arg(long, env = "BATON_SMTP_PORT", default_value_t = 587)]
    smtp_port: u16,
    /// starttls (port 587), tls (port 465) or none (a relay on this machine only).
    #[arg(long, env = "BATON_SMTP_TLS", default_value = "starttls")]
    smtp_tls: String,
    #[arg(long, env = "BATON_SMTP_USERNAME")]
    smtp_username: Option<String>,
    #[arg(long, env = "BATON_SMTP_PASSWORD", hide_env_values = true)]
    smtp_password: Option<String>,
    /// Sender of visitor emails, e.g. "Acme Support <support@acme.example>".
    #[arg(long, env = "BATON_SMTP_FROM")]
    smtp_from: Option<String>,
    /// Contact sent to push services (mailto: or https: URL); defaults to the public URL.
    #[arg(long, env = "BATON_VAPID_SUBJECT")]
    vapid_subject: Option<String>,
    /// Sign-in with an OpenID Connect provider: its issuer URL (discovery at
    /// `<issuer>/.well-known/openid-configuration`). Register `<public URL>/api/auth/oidc/callback`
    /// as the redirect URI there.
    #[arg(long, env = "BATON_OIDC_ISSUER")]
    oidc_issuer: Option<String>,
    #[arg(long, env = "BATON_OIDC_CLIENT_ID")]
    oidc_client_id: Option<String>,
    #[arg(long, env = "BATON_OIDC_CLIENT_SECRET", hide_env_values = true)]
    oidc_client_secret: Option<String>,
    /// What the sign-in button says after "Sign in with".
    #[arg(long, env = "BATON_OIDC_NAME", default_value = "single sign-on")]
    oidc_name: String,
}

impl Common {
    fn smtp(&self) -> Result<Option<SmtpSettings>, String> {
        let Some(host) = self.smtp_host.clone().filter(|h| !h.is_empty()) else { return Ok(None) };
        let from = self.smtp_from.clone().filter(|f| !f.is_empty()).ok_or("--smtp-from (BATON_SMTP_FROM) is required with --smtp-host")?;
        let tls = Tls::parse(&self.smtp_tls).ok_or_else(|| format!("--smtp-tls must be starttls, tls or none, not {:?}", self.smtp_tls))?;
        Ok(Some(SmtpSettings { host, port: self.smtp_port, tls, username: self.smtp_username.clone(), password: self.smtp_password.clone(), from }))
    }

    fn oidc(&self) -> Result<Option<baton::services::oidc::OidcSettings>, String> {
        let Some(issuer) = self.oidc_issuer.clone().filter(|i| !i.is_empty()) else { return Ok(None) };
        let client_id =
            self.oidc_client_id.clone().filter(|c| !c.is_empty()).ok_or("--oidc-client-id (BATON_OIDC_CLIENT_ID) is required with --oidc-issuer")?;
        let url = reqwest::Url::parse(&issuer).map_err(|e| format!("--oidc-issuer {issuer:?}: {e}"))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err("--oidc-issuer must be an https URL".into());
        }
        Ok(Some(baton::services::oidc::OidcSettings {
            issuer: issuer.trim_end_matches('/').to_string(),
            client_id,
            client_secret: self.oidc_client_secret.clone().filter(|c| !c.is_empty()),
            name: self.oidc_name.trim().to_string(),
        }))
    }

    fn settings(&self) -> Result<Settings, String> {
        Ok(Settings {
            oidc: self.oidc()?,
            listen: self.listen.clone(),
            data_dir: self.data_dir.clone(),
            files_dir: self.files_dir.clone(),
            database_url: self.database_url.clone().filter(|u| !u.is_empty()),
            redis_url: self.redis_url.clone().filter(|u| !u.is_empty()),
            redis_prefix: match self.redis_prefix.trim() {
                "" => return Err("--redis-prefix must not be empty".into()),
                p if p.len() > 64 || p.chars().any(|c| c.is_whitespace() || c.is_control()) => {
                    return Err("--redis-prefix must be at most 64 characters, with no spaces".into());
                }
                p => p.to_string(),
            },
            public_url: self.public_url.clone().filter(|u| !u.is_empty()),
            webhook_timeout: Duration::from_secs(self.webhook_timeout.clamp(1, 120)),
            smtp: self.smtp()?,
            sqlite_full_sync: match self.sqlite_sync.as_str() {
                "full" => true,
                "normal" => false,
                other => return Err(format!("--sqlite-sync must be full or normal, not {other:?}")),
            },
            login_per_minute: self.login_per_minute,
            widget_per_minute: self.widget_per_minute,
            widget_address_per_minute: self.widget_address_per_minute,
            vapid_subject: self.vapid_subject.clone().filter(|s| !s.is_empty()),
            sockets: baton::services::connections::Limits {
                per_visitor: self.sockets_per_visitor,
                per_agent: self.sockets_per_agent,
                per_address: self.sockets_per_address,
                total: self.max_sockets,
            },
            allow_private_webhooks: self.allow_private_webhooks,
            http: baton::services::connections::HttpLimits {
                header_timeout: Duration::from_secs(self.header_timeout),
                body_timeout: Duration::from_secs(self.body_timeout.max(1)),
                max_connections: self.max_connections,
                connections_per_address: self.connections_per_address,
            },
            trusted_proxies: baton::services::clients::TrustedProxies::new(
                self.trusted_proxies
                    .iter()
                    .filter(|r| !r.trim().is_empty())
                    .map(|r| r.parse().map_err(|e| format!("--trusted-proxies: {e}")))
                    .collect::<Result<_, _>>()?,
            ),
            ..Settings::default()
        })
    }
}

fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("BATON_LOG").unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if json { builder.json().init() } else { builder.init() }
}

fn main() -> std::process::ExitCode {
    return_big_blocks_to_the_system();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("baton: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(run())
}

async fn run() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(c) => {
            init_logs(c.log_json);
            match c.settings() {
                Ok(s) => serve(s).await,
                Err(e) => Err(e.into()),
            }
        }
        Command::Demo(c) => {
            init_logs(c.log_json);
            match c.settings() {
                Ok(s) => baton::demo::run(&s).await.map(|text| println!("{text}")),
                Err(e) => Err(e.into()),
            }
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("baton: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Makes the C allocator hand every block of 1 MiB or more straight back to the system when it
/// is freed.
///
/// glibc serves large blocks from fresh mappings, but after the first such block is freed it
/// raises that threshold (up to 32 MiB) and serves the next ones from its per-thread arenas,
/// which keep them. Each argon2id run takes a 19 MiB block: a few hundred logins spread over
/// the blocking threads left about 500 MiB resident for good (measured with the benchmark's
/// 1,000 live chats: 530 MiB before, 35 MiB after). A fixed threshold turns that adjustment off.
fn return_big_blocks_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes a tuning parameter of the allocator, and runs before any other
    // thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

async fn serve(settings: Settings) -> Result<(), baton::app::BoxError> {
    let smtp = settings.smtp.as_ref().map(|s| format!("{}:{}", s.host, s.port));
    let listen = settings.listen.clone();
    let app = Application::build(settings, Arc::new(SystemClock)).await?;
    let base = app.state().base_url.to_string();
    let host = listen.rsplit_once(':').map(|(h, _)| h).unwrap_or(&listen);
    tracing::info!("Baton is listening on {host}:{}; people reach it at {base}", app.port());
    match smtp {
        Some(server) => tracing::info!("Visitor emails go out through {server}"),
        None => tracing::warn!(
            "Visitor emails are off: set --smtp-host and --smtp-from (BATON_SMTP_HOST, BATON_SMTP_FROM) to email visitors replies they have not read"
        ),
    }
    if app.state().store.user_count().await? == 0 {
        println!("\n  Welcome to Baton. Finish setting up at: {base}/app/setup\n");
    } else {
        println!("\n  Baton is running: {base}/app\n");
    }
    app.run_until_stopped(async {
        stop_requested().await;
        tracing::info!("shutting down: closing sockets and finishing the work at hand");
    })
    .await?;
    tracing::info!("stopped");
    Ok(())
}

/// Ctrl-C, or SIGTERM from a service manager.
async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; stop with Ctrl-C");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
