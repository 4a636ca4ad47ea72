//! Starting the servers under test and finding their address: Baton on SQLite, on PostgreSQL,
//! and as two nodes on PostgreSQL + Redis; the relay; Socket.IO.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Baton,
    Relay,
    SocketIo,
    /// One Baton node on the machine's PostgreSQL.
    BatonPg,
    /// Two Baton nodes on PostgreSQL and Redis: visitors on the first, agents on the second.
    BatonCluster,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Baton => "Baton",
            Self::Relay => "bare relay",
            Self::SocketIo => "Socket.IO + SQLite",
            Self::BatonPg => "Baton on PostgreSQL",
            Self::BatonCluster => "Baton, 2 nodes (PostgreSQL + Redis)",
        }
    }
}

/// The PostgreSQL server the PostgreSQL targets use (a database of their own each run).
fn pg_admin() -> String {
    std::env::var("BENCH_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn redis_url() -> String {
    std::env::var("BENCH_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/?protocol=resp3".into())
}

fn psql(sql: &str) {
    let ok = std::process::Command::new("psql")
        .arg(pg_admin())
        .args(["-q", "-c", sql])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "psql {sql}: is PostgreSQL running (BENCH_PG_URL)?");
}

/// `baton serve` with the benchmark's limits off, on `data_dir`, plus `extra` arguments.
fn baton(root: &Path, data_dir: &Path, extra: &[String]) -> Command {
    let mut c = Command::new(root.join("target/release/baton"));
    c.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--widget-per-minute",
        "0",
        "--widget-address-per-minute",
        "0",
        "--login-per-minute",
        "0",
        "--max-sockets",
        "0",
        "--sockets-per-address",
        "0",
        "--sockets-per-agent",
        "0",
        // The load comes from a few addresses, thousands of handshakes at once.
        "--max-connections",
        "0",
        "--connections-per-address",
        "0",
        "--data-dir",
    ])
    .arg(data_dir)
    .args(extra)
    .env("BATON_LOG", "warn");
    c
}

/// Starts `cmd` and reads the address it prints.
async fn spawn(mut cmd: Command, what: &str) -> (Child, String) {
    let mut child =
        cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()).kill_on_drop(true).spawn().unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let url = loop {
        let line = lines.next_line().await.expect("server output").unwrap_or_else(|| panic!("{what} exited before listening"));
        if let Some(i) = line.find("http://127.0.0.1:") {
            let rest = &line[i..];
            let end = rest[7..].find(|c: char| c == '/' || c.is_whitespace()).map(|e| e + 7).unwrap_or(rest.len());
            break rest[..end].to_string();
        }
    };
    // Keep draining its output so the pipe never blocks it.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url)
}

pub struct Server {
    pub kind: Kind,
    /// `http://127.0.0.1:PORT`: where visitors (and set-up) go.
    pub url: String,
    /// Where agents connect: another node for the two-node target.
    pub agent_url: String,
    /// Every process of the target (CPU and memory are their sum).
    pub pids: Vec<u32>,
    pub data_dir: PathBuf,
    children: Vec<Child>,
    /// The PostgreSQL database made for this run.
    database: Option<String>,
}

impl Server {
    pub async fn start(kind: Kind, root: &Path) -> Server {
        let data_dir = std::env::temp_dir().join(format!("baton-bench-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&data_dir).expect("data dir");
        let mut database = None;
        let mut children = vec![];
        let mut urls = vec![];
        match kind {
            Kind::Baton => {
                let (c, u) = spawn(baton(root, &data_dir, &[]), kind.name()).await;
                children.push(c);
                urls.push(u);
            }
            Kind::BatonPg | Kind::BatonCluster => {
                let name = format!("baton_bench_{}", uuid::Uuid::now_v7().simple());
                psql(&format!("CREATE DATABASE \"{name}\""));
                let mut url = reqwest::Url::parse(&pg_admin()).expect("BENCH_PG_URL is a URL");
                url.set_path(&name);
                database = Some(name.clone());
                let mut args = vec!["--database-url".to_string(), url.to_string()];
                if kind == Kind::BatonCluster {
                    args.extend(["--redis-url".to_string(), redis_url(), "--redis-prefix".to_string(), name.clone()]);
                }
                let nodes = if kind == Kind::BatonCluster { 2 } else { 1 };
                for i in 0..nodes {
                    let dir = data_dir.join(format!("node{i}"));
                    std::fs::create_dir_all(&dir).expect("node dir");
                    let (c, u) = spawn(baton(root, &dir, &args), kind.name()).await;
                    children.push(c);
                    urls.push(u);
                }
            }
            Kind::Relay => {
                let mut c = Command::new(root.join("target/release/bare-relay"));
                c.arg("127.0.0.1:0");
                let (c, u) = spawn(c, kind.name()).await;
                children.push(c);
                urls.push(u);
            }
            Kind::SocketIo => {
                let mut c = Command::new("node");
                c.arg(root.join("bench/socketio/server.js")).env("DATA_DIR", &data_dir);
                let (c, u) = spawn(c, kind.name()).await;
                children.push(c);
                urls.push(u);
            }
        }
        let pids = children.iter().map(|c| c.id().expect("pid")).collect();
        let url = urls[0].clone();
        let agent_url = urls.last().expect("a process").clone();
        Server { kind, url, agent_url, pids, data_dir, children, database }
    }

    /// CPU time of every process of the target, in microseconds.
    pub fn cpu_us(&self) -> u64 {
        self.pids.iter().map(|p| crate::proc::cpu_us(*p)).sum()
    }

    /// Resident memory of every process of the target.
    pub fn rss_bytes(&self) -> u64 {
        self.pids.iter().map(|p| crate::proc::rss_bytes(*p)).sum()
    }

    pub fn agent_ws(&self) -> String {
        self.agent_url.replacen("http://", "ws://", 1)
    }

    pub fn ws(&self) -> String {
        self.url.replacen("http://", "ws://", 1)
    }

    pub async fn stop(mut self) {
        for c in &mut self.children {
            let _ = c.kill().await;
        }
        if let Some(name) = &self.database {
            psql(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
        }
        // BATON_BENCH_KEEP=1 keeps the data for a look at it afterwards (query plans, sizes).
        if std::env::var_os("BATON_BENCH_KEEP").is_some() {
            eprintln!("  kept {}", self.data_dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
    }
}
