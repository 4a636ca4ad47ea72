//! The results table and docs/BENCHMARKS.md.

use std::collections::HashMap;
use std::fmt::Write;

use crate::Plan;
use crate::conns::ConnResult;
use crate::inbox::InboxResult;
use crate::live::{LiveResult, MaxRate};
use crate::search::SearchResult;
use crate::server::Kind;

pub struct Results {
    chats: usize,
    rate: u64,
    seconds: u64,
    probe_seconds: u64,
    idle: usize,
    inbox_size: usize,
    steady: HashMap<&'static str, LiveResult>,
    best: HashMap<&'static str, MaxRate>,
    idle_runs: HashMap<&'static str, ConnResult>,
    inbox: Option<InboxResult>,
    pub search: Option<SearchResult>,
}

const B: &str = "Baton";
const R: &str = "bare relay";
const S: &str = "Socket.IO + SQLite";
const P: &str = "Baton on PostgreSQL";
const C: &str = "Baton, 2 nodes (PostgreSQL + Redis)";

fn ms(us: u64) -> String {
    format!("{:.2} ms", us as f64 / 1000.0)
}

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 && a > 0.0 { format!("{:.2}×", a / b) } else { "—".into() }
}

impl Results {
    pub fn new(plan: &Plan) -> Self {
        Results {
            chats: plan.chats,
            rate: plan.rate,
            seconds: plan.seconds,
            probe_seconds: plan.probe_seconds,
            idle: plan.idle,
            inbox_size: plan.inbox,
            steady: HashMap::new(),
            best: HashMap::new(),
            idle_runs: HashMap::new(),
            inbox: None,
            search: None,
        }
    }

    pub fn add(&mut self, kind: Kind, steady: Option<LiveResult>, best: Option<MaxRate>, idle: Option<ConnResult>, inbox: Option<InboxResult>) {
        if let Some(steady) = steady {
            self.steady.insert(kind.name(), steady);
        }
        if let Some(best) = best {
            self.best.insert(kind.name(), best);
        }
        if let Some(idle) = idle {
            self.idle_runs.insert(kind.name(), idle);
        }
        if inbox.is_some() {
            self.inbox = inbox;
        }
    }

    fn cell<T>(&self, map: &HashMap<&'static str, T>, who: &str, f: impl Fn(&T) -> String) -> String {
        map.get(who).map(f).unwrap_or_else(|| "—".into())
    }

    pub fn markdown(&self, machine: &str) -> String {
        let mut s = String::new();
        let date = std::process::Command::new("date")
            .arg("-u")
            .arg("+%Y-%m-%d %H:%M UTC")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        let _ = writeln!(s, "# Baton benchmarks\n");
        let _ = writeln!(s, "- Command: `./bench/run.sh` (release builds; every target measured in the same run)");
        let _ = writeln!(s, "- Date: {date}");
        let _ = writeln!(s, "- Machine: {machine}; load generator, servers and baselines share it\n");
        let _ = writeln!(s, "Absolute numbers drift on shared machines; compare the ratios, which are taken within one run.");
        let _ = writeln!(
            s,
            "Targets: **Baton** (SQLite, the embedded default), a **bare relay** (tokio WebSocket relay, no persistence: the physical limit here) and **Socket.IO + SQLite** (Socket.IO 4.8 on Node persisting each message with better-sqlite3: what a team would hand-roll). Latency is one-way, visitor send → assigned agent receipt, counted from the intended send time of an open-loop schedule (coordinated omission does not hide stalls). Every target's visitors send over their WebSocket (Baton's widget does so while its socket is open; `POST /api/widget/messages` is the fallback) and each Baton agent is in a team of their own, so every message reaches one agent socket as with the baselines (Baton also echoes it to the visitor's socket and sends the agent an in-page notification frame).\n"
        );

        let _ = writeln!(
            s,
            "## Live chats: {} chats × {:.1} msg/s each ({} msg/s for {} s)\n",
            self.chats,
            self.rate as f64 / self.chats as f64,
            self.rate,
            self.seconds
        );
        let _ = writeln!(s, "| | {B} | {R} | {S} | Baton / relay | Baton / Socket.IO |\n|---|---|---|---|---|---|");
        let rows: [(&str, Box<dyn Fn(&LiveResult) -> f64>, bool); 7] = [
            ("p50 latency", Box::new(|r| r.p50_us as f64), true),
            ("p99 latency", Box::new(|r| r.p99_us as f64), true),
            ("p99.9 latency", Box::new(|r| r.p999_us as f64), true),
            ("max latency", Box::new(|r| r.max_us as f64), true),
            ("delivered msg/s", Box::new(|r| r.delivered_per_s), false),
            ("server CPU-µs per delivered message", Box::new(|r| r.cpu_us_per_msg), false),
            ("server RSS (MiB)", Box::new(|r| r.rss_bytes as f64 / 1048576.0), false),
        ];
        for (name, f, is_time) in &rows {
            let show = |who: &str| self.cell(&self.steady, who, |r| if *is_time { ms(f(r) as u64) } else { format!("{:.1}", f(r)) });
            let get = |who: &str| self.steady.get(who).map(|r| f(r)).unwrap_or(0.0);
            let _ = writeln!(s, "| {name} | {} | {} | {} | {} | {} |", show(B), show(R), show(S), ratio(get(B), get(R)), ratio(get(B), get(S)));
        }
        let lost = |who: &str| self.cell(&self.steady, who, |r| format!("{} / {}", r.sent - r.delivered.min(r.sent), r.errors));
        let _ = writeln!(s, "| lost / errors | {} | {} | {} | | |\n", lost(B), lost(R), lost(S));

        if self.steady.contains_key(P) || self.steady.contains_key(C) {
            let _ = writeln!(s, "## Several nodes: the same load on PostgreSQL, and over two nodes\n");
            let _ = writeln!(
                s,
                "The same {} chats × {:.1} msg/s. **Baton on PostgreSQL** is one node on the machine's PostgreSQL; **2 nodes** are two processes on that PostgreSQL and the machine's Redis, every visitor on the first node and every agent on the second, so each message crosses Redis. CPU and memory are summed over the target's processes; the database and Redis servers' own CPU is the row below them.\n",
                self.chats,
                self.rate as f64 / self.chats as f64
            );
            let _ = writeln!(s, "| | {B} | {P} | 2 nodes | 2 nodes / PostgreSQL | 2 nodes / {B} |\n|---|---|---|---|---|---|");
            let rows: [(&str, Box<dyn Fn(&LiveResult) -> f64>, bool); 6] = [
                ("p50 latency", Box::new(|r| r.p50_us as f64), true),
                ("p99 latency", Box::new(|r| r.p99_us as f64), true),
                ("max latency", Box::new(|r| r.max_us as f64), true),
                ("Baton CPU-µs per delivered message (all nodes)", Box::new(|r| r.cpu_us_per_msg), false),
                ("PostgreSQL + Redis CPU-µs per delivered message", Box::new(|r| r.backing_cpu_us_per_msg), false),
                ("Baton RSS (MiB, all nodes)", Box::new(|r| r.rss_bytes as f64 / 1048576.0), false),
            ];
            for (name, f, is_time) in &rows {
                let show = |who: &str| self.cell(&self.steady, who, |r| if *is_time { ms(f(r) as u64) } else { format!("{:.1}", f(r)) });
                let get = |who: &str| self.steady.get(who).map(|r| f(r)).unwrap_or(0.0);
                let _ = writeln!(s, "| {name} | {} | {} | {} | {} | {} |", show(B), show(P), show(C), ratio(get(C), get(P)), ratio(get(C), get(B)));
            }
            let lost = |who: &str| self.cell(&self.steady, who, |r| format!("{} / {}", r.sent - r.delivered.min(r.sent), r.errors));
            let _ = writeln!(s, "| lost / errors | {} | {} | {} | | |\n", lost(B), lost(P), lost(C));
        }

        let _ = writeln!(s, "## Maximum sustained rate (p99 ≤ 50 ms, nothing lost)\n");
        let _ = writeln!(
            s,
            "Found by search: the rate doubles until a {}-second probe fails (a failing probe is tried once more), then is bisected until the rate that failed is within 10 % of the one that held.\n",
            self.probe_seconds
        );
        let _ = writeln!(s, "| | {B} | {R} | {S} | {P} | Baton / relay | Baton / Socket.IO |\n|---|---|---|---|---|---|---|");
        let best = |who: &str| self.best.get(who).and_then(|b| b.best.as_ref()).map(|r| r.rate as f64).unwrap_or(0.0);
        let show = |who: &str| match self.best.get(who) {
            None => "—".into(),
            Some(MaxRate { best: Some(b), over: Some(o) }) => format!("{} msg/s (not {o})", b.rate),
            Some(MaxRate { best: Some(b), over: None }) => format!("≥ {} msg/s (the search's cap)", b.rate),
            Some(MaxRate { best: None, .. }) => "below the lowest probe".into(),
        };
        let _ = writeln!(
            s,
            "| persisted msgs/s | {} | {} | {} | {} | {} | {} |",
            show(B),
            show(R),
            show(S),
            show(P),
            ratio(best(B), best(R)),
            ratio(best(B), best(S))
        );
        let at_best =
            |who: &str, f: &dyn Fn(&LiveResult) -> String| self.best.get(who).and_then(|b| b.best.as_ref()).map(f).unwrap_or_else(|| "—".into());
        let _ = writeln!(
            s,
            "| p99 at that rate | {} | {} | {} | {} | | |",
            at_best(B, &|r| ms(r.p99_us)),
            at_best(R, &|r| ms(r.p99_us)),
            at_best(S, &|r| ms(r.p99_us)),
            at_best(P, &|r| ms(r.p99_us))
        );
        let _ = writeln!(
            s,
            "| server CPU-µs per message at that rate | {} | {} | {} | {} | | |\n",
            at_best(B, &|r| format!("{:.1}", r.cpu_us_per_msg)),
            at_best(R, &|r| format!("{:.1}", r.cpu_us_per_msg)),
            at_best(S, &|r| format!("{:.1}", r.cpu_us_per_msg)),
            at_best(P, &|r| format!("{:.1}", r.cpu_us_per_msg))
        );

        let _ = writeln!(s, "## Idle visitor sockets ({} opened over several generator processes and source addresses)\n", self.idle);
        let _ = writeln!(s, "| | {B} | {R} | {S} |\n|---|---|---|---|");
        let i = |who: &str, f: &dyn Fn(&ConnResult) -> String| self.cell(&self.idle_runs, who, f);
        let _ = writeln!(
            s,
            "| sockets held | {} | {} | {} |",
            i(B, &|r| r.held.to_string()),
            i(R, &|r| r.held.to_string()),
            i(S, &|r| r.held.to_string())
        );
        let _ = writeln!(
            s,
            "| server RSS per socket | {} | {} | {} |",
            i(B, &|r| format!("{:.1} KB", r.rss_per_conn_bytes / 1000.0)),
            i(R, &|r| format!("{:.1} KB", r.rss_per_conn_bytes / 1000.0)),
            i(S, &|r| format!("{:.1} KB", r.rss_per_conn_bytes / 1000.0))
        );
        let _ = writeln!(
            s,
            "| handshakes/s | {} | {} | {} |\n",
            i(B, &|r| format!("{:.0}", r.handshakes_per_s)),
            i(R, &|r| format!("{:.0}", r.handshakes_per_s)),
            i(S, &|r| format!("{:.0}", r.handshakes_per_s))
        );

        if let Some(x) = &self.inbox {
            let _ = writeln!(s, "## Inbox list with {} stored conversations\n", self.inbox_size);
            let _ = writeln!(
                s,
                "`GET /api/live-chats` (inbox and resolved views alternately, first page of 50), {} sequential requests after 50 warm-up ones:\n",
                x.requests
            );
            let _ = writeln!(s, "| p50 | p99 | max |\n|---|---|---|\n| {} | {} | {} |\n", ms(x.p50_us), ms(x.p99_us), ms(x.max_us));
            let _ = writeln!(s, "## Reports over {} conversations\n", self.inbox_size);
            let _ = writeln!(
                s,
                "`GET /api/teams/{{team}}/reports` for 30 days in Europe/Berlin holding every stored conversation (totals, every day, per bot and per agent; twenty agents share the resolved three quarters, half of those rated), {} sequential requests after 10 warm-up ones:\n",
                x.reports_requests
            );
            let _ = writeln!(
                s,
                "| p50 | p99 | max |\n|---|---|---|\n| {} | {} | {} |\n",
                ms(x.reports_p50_us),
                ms(x.reports_p99_us),
                ms(x.reports_max_us)
            );
        }

        if let Some(x) = &self.search {
            let _ = writeln!(s, "## Search with {} stored messages\n", x.messages);
            let _ = writeln!(
                s,
                "`GET /api/search?q=…` (the owner, every chat in scope; first page of 20 of each kind), {} sequential requests over six queries after a warm-up round. A common word is in one message of ten:\n",
                x.requests
            );
            let _ = writeln!(s, "| p50 | p99 | max |\n|---|---|---|\n| {} | {} | {} |\n", ms(x.p50_us), ms(x.p99_us), ms(x.max_us));
            let _ = writeln!(s, "| query | p99 | hits on the page |\n|---|---|---|");
            for (q, p99, n) in &x.per_query {
                let _ = writeln!(s, "| `{q}` | {} | {n} |", ms(*p99));
            }
            let _ = writeln!(s);
        }

        let _ = writeln!(s, "## Targets\n\n| target | measured | met |\n|---|---|---|");
        let st = |who: &str| self.steady.get(who);
        let mut t = |name: &str, measured: String, ok: Option<bool>| {
            let _ = writeln!(
                s,
                "| {name} | {measured} | {} |",
                match ok {
                    Some(true) => "yes",
                    Some(false) => "**no**",
                    None => "—",
                }
            );
        };
        if let Some(b) = st(B) {
            t("p99 visitor→agent ≤ 5 ms at 1,000 chats × 1 msg/s", ms(b.p99_us), Some(b.p99_us <= 5000));
            if let Some(r) = st(R) {
                t("… and ≤ 1.5× the relay", ratio(b.p99_us as f64, r.p99_us as f64), Some(b.p99_us as f64 <= 1.5 * r.p99_us as f64));
                t(
                    "CPU-µs per delivered message ≤ 3× the relay",
                    ratio(b.cpu_us_per_msg, r.cpu_us_per_msg),
                    Some(b.cpu_us_per_msg <= 3.0 * r.cpu_us_per_msg),
                );
            }
            if let Some(x) = st(S) {
                t(
                    "RSS at 1,000 live chats ≤ Socket.IO's",
                    format!("{:.1} MiB vs {:.1} MiB", b.rss_bytes as f64 / 1048576.0, x.rss_bytes as f64 / 1048576.0),
                    Some(b.rss_bytes <= x.rss_bytes),
                );
            }
        }
        if self.best.contains_key(B) && self.best.contains_key(R) {
            t("max sustained persisted msgs/s ≥ 35 % of the relay", ratio(best(B), best(R)), Some(best(R) > 0.0 && best(B) >= 0.35 * best(R)));
        }
        if self.best.contains_key(B) && self.best.contains_key(S) {
            t("… and ≥ 3× Socket.IO", ratio(best(B), best(S)), Some(best(S) > 0.0 && best(B) >= 3.0 * best(S)));
        }
        if let Some(c) = self.idle_runs.get(B) {
            t("≤ 8 KB RSS per idle visitor socket", format!("{:.1} KB", c.rss_per_conn_bytes / 1000.0), Some(c.rss_per_conn_bytes <= 8000.0));
            t(&format!("{} concurrent sockets held in one process", self.idle), format!("{} held", c.held), Some(c.held as usize >= self.idle));
        }
        if let Some(x) = &self.inbox {
            t(&format!("inbox list p99 ≤ 10 ms with {} conversations", self.inbox_size), ms(x.p99_us), Some(x.p99_us <= 10_000));
            t(&format!("reports p99 ≤ 100 ms with {} conversations", self.inbox_size), ms(x.reports_p99_us), Some(x.reports_p99_us <= 100_000));
        }
        if let Some(x) = &self.search {
            t(&format!("search p99 ≤ 50 ms with {} messages", x.messages), ms(x.p99_us), Some(x.p99_us <= 50_000));
        }
        s
    }
}
