//! Starting the three servers under test and finding their address.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Baton,
    Relay,
    SocketIo,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Baton => "Baton",
            Self::Relay => "bare relay",
            Self::SocketIo => "Socket.IO + SQLite",
        }
    }
}

pub struct Server {
    pub kind: Kind,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    pub pid: u32,
    pub data_dir: PathBuf,
    child: Child,
}

impl Server {
    pub async fn start(kind: Kind, root: &Path) -> Server {
        let data_dir = std::env::temp_dir().join(format!("baton-bench-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&data_dir).expect("data dir");
        let mut cmd = match kind {
            Kind::Baton => {
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
                    "--data-dir",
                ])
                .arg(&data_dir)
                .env("BATON_LOG", "warn");
                c
            }
            Kind::Relay => {
                let mut c = Command::new(root.join("target/release/bare-relay"));
                c.arg("127.0.0.1:0");
                c
            }
            Kind::SocketIo => {
                let mut c = Command::new("node");
                c.arg(root.join("bench/socketio/server.js")).env("DATA_DIR", &data_dir);
                c
            }
        };
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", kind.name()));
        let pid = child.id().expect("pid");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let url = loop {
            let line = lines.next_line().await.expect("server output").unwrap_or_else(|| panic!("{} exited before listening", kind.name()));
            if let Some(i) = line.find("http://127.0.0.1:") {
                let rest = &line[i..];
                let end = rest[7..].find(|c: char| c == '/' || c.is_whitespace()).map(|e| e + 7).unwrap_or(rest.len());
                break rest[..end].to_string();
            }
        };
        // Keep draining its output so the pipe never blocks it.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Server { kind, url, pid, data_dir, child }
    }

    pub fn ws(&self) -> String {
        self.url.replacen("http://", "ws://", 1)
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}
