//! The inbox list with a large history: 100,000 stored conversations (seeded straight into
//! Baton's SQLite file, in the shape Baton writes), then `GET /api/live-chats` timed, and the
//! team's report over a 30-day range holding every one of them.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::baton_api::Api;
use crate::server::Server;

#[derive(Debug, Clone, Serialize)]
pub struct InboxResult {
    pub conversations: u64,
    pub requests: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    /// `GET /api/teams/{team}/reports` over all of them.
    pub reports_requests: u64,
    pub reports_p50_us: u64,
    pub reports_p99_us: u64,
    pub reports_max_us: u64,
}

pub async fn run(server: &Server, conversations: usize, requests: usize) -> InboxResult {
    let api = Api::new(&server.url);
    let (owner, team) = api.owner().await;
    let bot = api.call(reqwest::Method::POST, &format!("/api/teams/{team}/bots"), Some(&owner), Some(serde_json::json!({"name": "Busy bot"}))).await;
    let bot = bot["id"].as_str().unwrap().to_string();
    let db = server.data_dir.join("baton.db");
    // Seeded on a blocking thread: rusqlite is synchronous.
    let (team2, bot2) = (team.clone(), bot.clone());
    tokio::task::spawn_blocking(move || seed(&db, &team2, &bot2, conversations)).await.expect("seeding");
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
    let views = ["inbox", "resolved"];
    for i in 0..requests + 50 {
        let url = format!("{}/api/live-chats?view={}", server.url, views[i % 2]);
        let start = Instant::now();
        let r = api.http.get(&url).bearer_auth(&owner).send().await.unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        let _ = r.bytes().await;
        if i >= 50 {
            // the first 50 warm caches
            let _ = hist.record(start.elapsed().as_micros().max(1) as u64);
        }
    }
    // The report: a 30-day range in a zone with summer time, every seeded chat inside it.
    let reports = (requests / 10).max(20);
    let mut rhist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
    let url = format!("{}/api/teams/{team}/reports?from=2025-12-20&to=2026-01-18&tz=Europe/Berlin", server.url);
    for i in 0..reports + 10 {
        let start = Instant::now();
        let r = api.http.get(&url).bearer_auth(&owner).send().await.unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        let body: serde_json::Value = r.json().await.unwrap();
        if i == 0 {
            assert_eq!(body["totals"]["conversations"].as_u64(), Some(conversations as u64), "every seeded chat is in the range");
            let agents = body["agents"].as_array().map_or(0, Vec::len);
            assert_eq!(agents, 21, "the twenty agents and the chats no agent had");
        }
        if i >= 10 {
            let _ = rhist.record(start.elapsed().as_micros().max(1) as u64);
        }
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
    InboxResult {
        conversations: conversations as u64,
        requests: requests as u64,
        p50_us: hist.value_at_quantile(0.5),
        p99_us: hist.value_at_quantile(0.99),
        max_us: hist.max(),
        reports_requests: reports as u64,
        reports_p50_us: rhist.value_at_quantile(0.5),
        reports_p99_us: rhist.value_at_quantile(0.99),
        reports_max_us: rhist.max(),
    }
}

/// Writes `conversations` conversations (a quarter pending, the rest resolved), each with its
/// visitor and first message, in one transaction. Like a real history, twenty agents share the
/// resolved ones: each was claimed and answered (but for one in ten left unclaimed and one in
/// ten never answered) and every second one rated, on stars or thumbs.
fn seed(db: &std::path::Path, team: &str, bot: &str, conversations: usize) {
    let mut conn = rusqlite::Connection::open(db).expect("open baton.db");
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    let tx = conn.transaction().unwrap();
    {
        let t0: i64 = 1_767_225_600_000;
        let mut agents = Vec::new();
        {
            let mut user = tx.prepare("INSERT INTO users (id, email, password_hash, first_name, created_at) VALUES (?1, ?2, 'x', ?3, ?4)").unwrap();
            let mut member = tx.prepare("INSERT INTO members (team_id, user_id, role, created_at) VALUES (?1, ?2, 'chat_agent', ?3)").unwrap();
            for a in 0..20 {
                let id = uuid::Uuid::now_v7().to_string();
                user.execute(rusqlite::params![id, format!("agent{a}@bench.example"), format!("Agent {a}"), t0]).unwrap();
                member.execute(rusqlite::params![team, id, t0]).unwrap();
                agents.push(id);
            }
        }
        let mut visitor = tx.prepare("INSERT INTO visitors (id, bot_id, token_hash, name, created_at) VALUES (?1, ?2, ?3, ?4, ?5)").unwrap();
        let mut conversation = tx
            .prepare(
                "INSERT INTO conversations (id, team_id, bot_id, visitor_id, state, assignee_id, escalated_at, resolved_at, created_at, last_activity_at, last_seq, last_preview, last_author_kind, last_message_at,
                                            claimed_at, first_response_at, rating_score, rating_scale)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?7, ?7, 1, 'Where is my order?', 'visitor', ?7, ?9, ?10, ?11, ?12)",
            )
            .unwrap();
        let mut message = tx
            .prepare("INSERT INTO messages (id, conversation_id, seq, author_kind, author_id, body, text, internal, created_at) VALUES (?1, ?2, 1, 'visitor', ?3, 'Where is my order?', 'Where is my order?', FALSE, ?4)")
            .unwrap();
        let mut rating = tx.prepare("INSERT INTO ratings (conversation_id, score, scale, created_at) VALUES (?1, ?2, ?3, ?4)").unwrap();
        for i in 0..conversations as i64 {
            let (v, c) = (uuid::Uuid::now_v7().to_string(), uuid::Uuid::now_v7().to_string());
            let at = t0 + i * 1000;
            let state = ["pending", "resolved", "resolved", "resolved"][(i % 4) as usize];
            let resolved = state == "resolved";
            let taken = resolved && i % 10 != 1;
            let agent = taken.then(|| agents[((i / 4) % 20) as usize].clone());
            let claimed_at = taken.then_some(at + 15_000 + (i % 60) * 1000);
            let first_response_at = (taken && i % 10 != 2).then_some(at + 30_000 + (i % 120) * 1000);
            let resolved_at = resolved.then_some(at + 180_000 + (i % 1020) * 1000);
            let rated = resolved && i % 2 == 0;
            let (score, scale) = if !rated {
                (None, None)
            } else if i % 8 == 6 {
                (Some(if i % 3 == 0 { 1 } else { 5 }), Some("thumbs"))
            } else {
                (Some(1 + i % 5), Some("stars"))
            };
            visitor.execute(rusqlite::params![v, bot, format!("seed-{v}"), format!("Visitor {i}"), at]).unwrap();
            conversation
                .execute(rusqlite::params![c, team, bot, v, state, agent, at, resolved_at, claimed_at, first_response_at, score, scale])
                .unwrap();
            message.execute(rusqlite::params![uuid::Uuid::now_v7().to_string(), c, v, at]).unwrap();
            if let (Some(score), Some(scale)) = (score, scale) {
                rating.execute(rusqlite::params![c, score, scale, resolved_at]).unwrap();
            }
        }
    }
    tx.commit().unwrap();
    // Baton's own writes are checkpointed into the database file as they go (every few hundred
    // commits); this one transaction would otherwise leave the whole history in the WAL, which
    // a running Baton never has.
    let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0)).expect("checkpoint after seeding");
    assert_eq!(busy, 0, "the checkpoint after seeding was blocked: the run would read the history from the WAL");
}
