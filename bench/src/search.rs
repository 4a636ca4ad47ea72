//! Search with a large history: 1,000,000 stored messages in 10,000 conversations (seeded
//! straight into Baton's SQLite file, in the shape Baton writes; its own triggers keep the
//! full-text index), then `GET /api/search` timed over a mix of queries: a word in one message
//! of ten, a rare word, two words, a prefix, a word that is nowhere, and a visitor's name.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::baton_api::Api;
use crate::server::Server;

#[derive(Debug, Clone, Serialize)]
pub struct SearchResult {
    pub messages: u64,
    pub requests: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    /// Per query: (query, p99 µs, messages found in the first page).
    pub per_query: Vec<(String, u64, u64)>,
}

/// Words of the seeded messages: the first ten are common, the rest rare.
const COMMON: [&str; 10] = ["order", "parcel", "delivery", "refund", "size", "jacket", "boots", "return", "payment", "address"];
const FILLER: [&str; 24] = [
    "the", "my", "is", "where", "when", "can", "you", "please", "help", "with", "it", "arrived", "yet", "today", "thanks", "again", "still", "not",
    "a", "for", "about", "hello", "need", "how",
];
const QUERIES: [&str; 6] = ["parcel", "zx4821", "refund payment", "deliv", "nowhereword", "visitor 4242"];

pub async fn run(server: &Server, messages: usize, requests: usize) -> SearchResult {
    let api = Api::new(&server.url);
    let (owner, team) = api.owner().await;
    let bot =
        api.call(reqwest::Method::POST, &format!("/api/teams/{team}/bots"), Some(&owner), Some(serde_json::json!({"name": "Search bot"}))).await;
    let bot = bot["id"].as_str().unwrap().to_string();
    let db = server.data_dir.join("baton.db");
    let (team2, bot2) = (team.clone(), bot.clone());
    let started = Instant::now();
    tokio::task::spawn_blocking(move || seed(&db, &team2, &bot2, messages)).await.expect("seeding");
    eprintln!("  seeded {messages} messages in {:.0} s", started.elapsed().as_secs_f64());
    let mut all = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
    let mut each: Vec<Histogram<u64>> = QUERIES.iter().map(|_| Histogram::new_with_bounds(1, 60_000_000, 3).unwrap()).collect();
    let mut found = vec![0u64; QUERIES.len()];
    for i in 0..requests + 60 {
        let k = i % QUERIES.len();
        let url = format!("{}/api/search?q={}", server.url, QUERIES[k].replace(' ', "+"));
        let start = Instant::now();
        let r = api.http.get(&url).bearer_auth(&owner).send().await.unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        let body: serde_json::Value = r.json().await.unwrap();
        let took = start.elapsed().as_micros().max(1) as u64;
        if i >= 60 {
            // the first round of each query warms caches
            let _ = all.record(took);
            let _ = each[k].record(took);
            found[k] = (body["messages"].as_array().map_or(0, |a| a.len()) + body["conversations"].as_array().map_or(0, |a| a.len())) as u64;
        }
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
    SearchResult {
        messages: messages as u64,
        requests: requests as u64,
        p50_us: all.value_at_quantile(0.5),
        p99_us: all.value_at_quantile(0.99),
        max_us: all.max(),
        per_query: QUERIES.iter().zip(each.iter()).zip(found).map(|((q, h), n)| (q.to_string(), h.value_at_quantile(0.99), n)).collect(),
    }
}

/// A small deterministic generator: the same history every run.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// `messages` messages, 100 per conversation (all escalated, a quarter pending), visitor and
/// agent lines alternating; about one message in ten has a common word (one in a hundred two), one in a hundred thousand the
/// rare one.
fn seed(db: &std::path::Path, team: &str, bot: &str, messages: usize) {
    let mut conn = rusqlite::Connection::open(db).expect("open baton.db");
    conn.busy_timeout(Duration::from_secs(30)).unwrap();
    let per = 100usize;
    let conversations = messages.div_ceil(per);
    let mut rng = Lcg(42);
    let t0: i64 = 1_767_225_600_000;
    let owner: String = conn.query_row("SELECT id FROM users LIMIT 1", [], |r| r.get(0)).unwrap();
    for chunk in 0..conversations.div_ceil(500) {
        let tx = conn.transaction().unwrap();
        {
            let mut visitor =
                tx.prepare_cached("INSERT INTO visitors (id, bot_id, token_hash, name, created_at) VALUES (?1, ?2, ?3, ?4, ?5)").unwrap();
            let mut conversation = tx
                .prepare_cached(
                    "INSERT INTO conversations (id, team_id, bot_id, visitor_id, state, escalated_at, resolved_at, created_at, last_activity_at, last_seq, last_preview, last_author_kind, last_message_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?6, ?6, ?8, 'Thanks', 'visitor', ?6)",
                )
                .unwrap();
            let mut message = tx
                .prepare_cached(
                    "INSERT INTO messages (id, conversation_id, seq, author_kind, author_id, body, text, internal, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, FALSE, ?7)",
                )
                .unwrap();
            for c in chunk * 500..((chunk + 1) * 500).min(conversations) {
                let (v, id) = (uuid::Uuid::now_v7().to_string(), uuid::Uuid::now_v7().to_string());
                let at = t0 + c as i64 * 60_000;
                let state = ["pending", "resolved", "resolved", "resolved"][c % 4];
                visitor.execute(rusqlite::params![v, bot, format!("seed-{v}"), format!("Visitor {c}"), at]).unwrap();
                conversation
                    .execute(rusqlite::params![id, team, bot, v, state, at, if state == "resolved" { Some(at) } else { None }, per as i64])
                    .unwrap();
                for seq in 1..=per {
                    let n = c * per + seq;
                    if n > messages {
                        break;
                    }
                    let mut words: Vec<&str> = (0..8).map(|_| FILLER[(rng.next() % FILLER.len() as u64) as usize]).collect();
                    for _ in 0..2 {
                        if rng.next() % 10 == 0 {
                            words.push(COMMON[(rng.next() % COMMON.len() as u64) as usize]);
                        }
                    }
                    if n % 100_000 == 7 {
                        words.push("zx4821");
                    }
                    let text = words.join(" ");
                    let (kind, author) = if seq % 2 == 1 { ("visitor", v.as_str()) } else { ("agent", owner.as_str()) };
                    message
                        .execute(rusqlite::params![uuid::Uuid::now_v7().to_string(), id, seq as i64, kind, author, text, at + seq as i64])
                        .unwrap();
                }
            }
        }
        tx.commit().unwrap();
    }
}
