//! Baton's benchmark suite. `baton-bench all` runs everything on this machine against Baton,
//! a bare tokio WebSocket relay (the physical limit) and a Socket.IO 4.8 server persisting to
//! SQLite (what a team would hand-roll), prints a table and writes docs/BENCHMARKS.md.
//! Run it through `bench/run.sh`, which builds what it needs first.

mod baton_api;
mod conns;
mod inbox;
mod live;
mod proc;
mod report;
mod search;
mod server;

use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, Subcommand};

use server::{Kind, Server};

#[derive(Parser)]
#[command(name = "baton-bench")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Every scenario against every target; writes docs/BENCHMARKS.md.
    All {
        /// A seconds-long run with tiny numbers (a smoke test of the suite itself).
        #[arg(long)]
        quick: bool,
        /// Only these targets (baton, relay, socketio, baton-pg, cluster); default all.
        #[arg(long, value_delimiter = ',')]
        targets: Vec<String>,
        /// Where to write the report (default docs/BENCHMARKS.md; "-" for none).
        #[arg(long)]
        out: Option<String>,
        /// Override the number of live chats.
        #[arg(long)]
        chats: Option<usize>,
        /// Override the steady rate (msg/s) and its duration (s).
        #[arg(long)]
        rate: Option<u64>,
        #[arg(long)]
        seconds: Option<u64>,
        /// Skip the idle-connection and inbox runs.
        #[arg(long)]
        live_only: bool,
        /// Skip the live runs.
        #[arg(long)]
        skip_live: bool,
        /// Override the number of idle sockets.
        #[arg(long)]
        idle: Option<usize>,
    },
    /// Internal: one process of the idle-connection run.
    ConnWorker {
        #[arg(long)]
        urls: PathBuf,
        #[arg(long)]
        from: usize,
        #[arg(long)]
        to: usize,
        #[arg(long)]
        source: String,
        #[arg(long)]
        socketio: bool,
    },
}

/// Sizes of one run.
pub struct Plan {
    pub chats: usize,
    pub rate: u64,
    pub seconds: u64,
    /// The max-rate search: first rate tried, the highest, and each probe's length.
    pub search_from: u64,
    pub search_cap: u64,
    pub probe_seconds: u64,
    pub idle: usize,
    pub workers: usize,
    pub inbox: usize,
    pub inbox_requests: usize,
    /// Stored messages for the search run, and the searches timed.
    pub search_messages: usize,
    pub search_requests: usize,
}

impl Plan {
    fn full() -> Self {
        Plan {
            chats: 1000,
            rate: 1000,
            seconds: 10,
            search_from: 2000,
            search_cap: 64_000,
            probe_seconds: 4,
            idle: 19_000,
            workers: 5,
            inbox: 100_000,
            inbox_requests: 2000,
            search_messages: 1_000_000,
            search_requests: 1200,
        }
    }

    fn quick() -> Self {
        Plan {
            chats: 20,
            rate: 100,
            seconds: 1,
            search_from: 200,
            search_cap: 400,
            probe_seconds: 1,
            idle: 200,
            workers: 2,
            inbox: 500,
            inbox_requests: 50,
            search_messages: 5_000,
            search_requests: 60,
        }
    }
}

fn root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().expect("bench/ sits in the repository").to_path_buf()
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    match cli.command {
        Cmd::ConnWorker { urls, from, to, source, socketio } => conns::worker(&urls, from, to, &source, socketio).await,
        Cmd::All { quick, targets, out, chats, rate, seconds, live_only, skip_live, idle } => {
            let fds = proc::raise_fd_limit();
            let mut plan = if quick { Plan::quick() } else { Plan::full() };
            plan.chats = chats.unwrap_or(plan.chats);
            plan.rate = rate.unwrap_or(plan.rate);
            plan.seconds = seconds.unwrap_or(plan.seconds);
            plan.idle = idle.unwrap_or(plan.idle);
            if live_only {
                plan.idle = 0;
                plan.inbox = 0;
                plan.search_messages = 0;
                plan.search_cap = 0;
            }
            let kinds: Vec<Kind> = [
                ("baton", Kind::Baton),
                ("relay", Kind::Relay),
                ("socketio", Kind::SocketIo),
                ("baton-pg", Kind::BatonPg),
                ("cluster", Kind::BatonCluster),
            ]
            .into_iter()
            .filter(|(n, _)| targets.is_empty() || targets.iter().any(|t| t == n))
            .map(|(_, k)| k)
            .collect();
            eprintln!("open-file limit {fds}; targets: {}", kinds.iter().map(|k| k.name()).collect::<Vec<_>>().join(", "));
            let exe = std::env::current_exe().expect("own path");
            let mut results = report::Results::new(&plan);
            for &kind in &kinds {
                let (steady, best) = if skip_live {
                    (None, None)
                } else {
                    let base = Instant::now();
                    let server = Server::start(kind, &root()).await;
                    eprintln!("{}: setting up {} live chats", kind.name(), plan.chats);
                    let mut lanes = live::lanes(&server, plan.chats, base).await;
                    let steady = live::run(&server, &mut lanes, base, plan.rate, plan.seconds).await;
                    eprintln!("  {} chats × {} msg/s: p99 {} µs, {:.1} CPU-µs/msg", plan.chats, plan.rate, steady.p99_us, steady.cpu_us_per_msg);
                    // The two-node target runs the steady load only: it is measured against the
                    // one-node figures of the same run.
                    let best = if kind == Kind::BatonCluster || plan.search_cap == 0 {
                        None
                    } else {
                        Some(live::max_rate(&server, &mut lanes, base, plan.search_from, plan.search_cap, plan.probe_seconds).await)
                    };
                    drop(lanes);
                    server.stop().await;
                    (Some(steady), best)
                };
                let idle = if plan.idle > 0 && !matches!(kind, Kind::BatonPg | Kind::BatonCluster) {
                    let server = Server::start(kind, &root()).await;
                    eprintln!("{}: {} idle sockets", kind.name(), plan.idle);
                    let idle = conns::run(&server, plan.idle, plan.workers, &exe).await;
                    eprintln!(
                        "  held {} ({} failed), {:.0} bytes each, {:.0} handshakes/s",
                        idle.held, idle.failed, idle.rss_per_conn_bytes, idle.handshakes_per_s
                    );
                    server.stop().await;
                    Some(idle)
                } else {
                    None
                };
                let inbox = if kind == Kind::Baton && plan.inbox > 0 {
                    let server = Server::start(kind, &root()).await;
                    eprintln!("Baton: inbox list with {} conversations", plan.inbox);
                    let r = inbox::run(&server, plan.inbox, plan.inbox_requests).await;
                    eprintln!("  p50 {} µs, p99 {} µs", r.p50_us, r.p99_us);
                    eprintln!("  reports: p50 {} µs, p99 {} µs", r.reports_p50_us, r.reports_p99_us);
                    server.stop().await;
                    Some(r)
                } else {
                    None
                };
                let search = if kind == Kind::Baton && plan.search_messages > 0 {
                    let server = Server::start(kind, &root()).await;
                    eprintln!("Baton: search with {} stored messages", plan.search_messages);
                    let r = search::run(&server, plan.search_messages, plan.search_requests).await;
                    eprintln!("  p50 {} µs, p99 {} µs", r.p50_us, r.p99_us);
                    server.stop().await;
                    Some(r)
                } else {
                    None
                };
                results.add(kind, steady, best, idle, inbox);
                results.search = search.or(results.search.take());
            }
            let mut table = results.markdown(&proc::machine());
            // The record of past profiling and fixes travels with every new report.
            if let Ok(history) = std::fs::read_to_string(root().join("bench/history.md")) {
                table.push('\n');
                table.push_str(&history);
            }
            println!("{table}");
            match out.as_deref() {
                Some("-") => {}
                other => {
                    let path = other.map(PathBuf::from).unwrap_or_else(|| root().join("docs/BENCHMARKS.md"));
                    std::fs::write(&path, table).expect("write report");
                    eprintln!("wrote {}", path.display());
                }
            }
        }
    }
}
