//! Property: whatever the disconnect pattern, a client that resyncs by `seq` after reconnecting
//! ends with every message it may see exactly once, in order.

use std::collections::BTreeSet;

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::helpers::*;

/// One client's view: the socket and the seqs it has read.
struct Client {
    ws: Option<Ws>,
    seen: Vec<i64>,
}

impl Client {
    fn record(&mut self, frames: &[Value], chat: &str) {
        for f in frames {
            if f["type"] == "message.created" && f["data"]["conversation_id"] == chat {
                self.seen.push(f["data"]["seq"].as_i64().unwrap());
            }
        }
    }

    async fn read_until(&mut self, text: &str, chat: &str) {
        let frames = self.ws.as_mut().unwrap().until(|f| f["type"] == "message.created" && f["data"]["text"] == text).await;
        self.record(&frames, chat);
    }

    async fn resync(&mut self, ws: Ws, chat: &str) {
        let mut ws = ws;
        ws.send(json!({"type": "sync", "conversation_id": chat, "after_seq": self.seen.last().copied().unwrap_or(0)})).await;
        self.ws = Some(ws);
    }
}

async fn scenario(backend: Backend, cuts: BTreeSet<usize>, notes: Vec<bool>) {
    let app = TestApp::spawn(backend).await;
    let owner = app.setup().await;
    owner.set_status(&app, "available").await;
    let bot = app.shop_bot(&owner).await;
    let (visitor, chat) = app.pending_chat(&bot).await;
    owner.post(&app, &format!("/api/live-chats/{chat}/claim"), json!({})).await;
    let mut agent = Client { ws: None, seen: vec![] };
    let mut widget = Client { ws: None, seen: vec![] };
    agent.resync(Ws::agent(&app, &owner).await, &chat).await;
    widget.resync(Ws::visitor(&app, &visitor).await, &chat).await;

    let send = |i: usize, note: bool| {
        let (app, owner, visitor, chat) = (&app, &owner, &visitor, &chat);
        async move {
            let text = format!("m{i}");
            let r = match (i % 2, note) {
                (0, _) => visitor.post(app, "/api/widget/messages", json!({"body": text})).await,
                (_, true) => owner.post(app, &format!("/api/live-chats/{chat}/notes"), json!({"body": text})).await,
                (_, false) => owner.post(app, &format!("/api/live-chats/{chat}/messages"), json!({"body": text})).await,
            };
            assert_eq!(r.status, 201, "{}", r.body);
            (text, i % 2 == 1 && note)
        }
    };
    for (i, note) in notes.iter().copied().enumerate() {
        let (text, internal) = send(i, note).await;
        if cuts.contains(&i) {
            // drop both sockets with this message possibly unread, miss one more, come back
            agent.ws.take().unwrap().close().await;
            widget.ws.take().unwrap().close().await;
            send(1000 + i, false).await;
            agent.resync(Ws::agent(&app, &owner).await, &chat).await;
            widget.resync(Ws::visitor(&app, &visitor).await, &chat).await;
        } else {
            agent.read_until(&text, &chat).await;
            if !internal {
                widget.read_until(&text, &chat).await;
            }
        }
    }
    visitor.post(&app, "/api/widget/messages", json!({"body": "the end"})).await;
    agent.read_until("the end", &chat).await;
    widget.read_until("the end", &chat).await;

    let history = owner.get(&app, &format!("/api/live-chats/{chat}")).await.body["messages"].as_array().unwrap().clone();
    let all: Vec<i64> = history.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    let public: Vec<i64> = history.iter().filter(|m| m["visibility"] == "public").map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(agent.seen, all, "the agent sees every message exactly once, in order");
    assert_eq!(widget.seen, public, "the visitor sees every public message exactly once, in order");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_disconnect_pattern_ends_with_every_message_exactly_once(
        cuts in prop::collection::btree_set(0usize..10, 0..4),
        notes in prop::collection::vec(any::<bool>(), 10),
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(scenario(Backend::Sqlite, cuts, notes));
    }
}

/// The same walk on PostgreSQL with a fixed pattern.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_resync_with_cuts_at_the_start_middle_and_end() {
    scenario(Backend::Postgres, [0, 4, 9].into_iter().collect(), vec![false, true, true, false, true, true, false, false, true, true]).await;
}
