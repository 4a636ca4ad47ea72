//! The `baton` binary itself: `demo` seeds a usable team, `serve` prints where to go and serves it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn baton() -> Command {
    // The tests' own HTTP client needs the same process-wide TLS provider as the server.
    baton::app::install_crypto_provider();
    Command::new(env!("CARGO_BIN_EXE_baton"))
}

#[tokio::test]
async fn demo_seeds_once_and_serve_prints_the_address_and_serves_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let first = baton().args(["demo", "--data-dir", data]).output().unwrap();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let out = String::from_utf8_lossy(&first.stdout);
    assert!(out.contains("Demo seeded.") && out.contains("alice@demo.test") && out.contains("bob@demo.test"), "{out}");
    let again = baton().args(["demo", "--data-dir", data]).output().unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("already seeded"));

    let mut server =
        baton().args(["serve", "--data-dir", data, "--listen", "127.0.0.1:0"]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let stdout = server.stdout.take().unwrap();
    let url = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.trim().strip_prefix("Baton is running: ").map(|u| u.trim_end_matches("/app").to_string()))
        .expect("serve prints its address");
    let http = reqwest::Client::new();
    let login = http
        .post(format!("{url}/api/auth/login"))
        .json(&serde_json::json!({"email": "bob@demo.test", "password": "baton-demo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let setup = http.get(format!("{url}/app/setup")).send().await.unwrap();
    assert!(setup.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    server.kill().unwrap();
    let _ = server.wait();
}

#[tokio::test]
async fn a_fresh_server_prints_the_setup_link() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = baton()
        .args(["serve", "--data-dir", dir.path().to_str().unwrap(), "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let line = BufReader::new(server.stdout.take().unwrap()).lines().map_while(Result::ok).find(|l| l.contains("/app/setup")).expect("setup link");
    let url = line.split_whitespace().last().unwrap().to_string();
    let page = reqwest::get(&url).await.unwrap().text().await.unwrap();
    assert!(page.contains("/app/js/main.js"), "the link opens the app, which shows the setup form");
    server.kill().unwrap();
    let _ = server.wait();
}

#[test]
fn a_database_url_of_an_unknown_kind_is_refused_clearly() {
    let out = baton().args(["serve", "--database-url", "mysql://x/y", "--listen", "127.0.0.1:0"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database URL"));
}
