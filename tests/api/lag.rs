//! A client too slow to take its frames: its queue overflows, and it recovers every message from
//! the database (and is told to resync) instead of silently missing any.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::ws::Message;
use futures_channel::mpsc;
use futures_util::{Sink, Stream, StreamExt};
use serde_json::{Value, json};

use crate::helpers::*;

/// An in-memory socket: the test writes client frames into `incoming` and reads what the session
/// sends from `outgoing`, whose zero capacity makes the session wait for every read.
struct FakeSocket {
    incoming: mpsc::Receiver<Result<Message, axum::Error>>,
    outgoing: mpsc::Sender<Message>,
}

impl Stream for FakeSocket {
    type Item = Result<Message, axum::Error>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.incoming).poll_next(cx)
    }
}

impl Sink<Message> for FakeSocket {
    type Error = axum::Error;
    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.outgoing).poll_ready(cx).map_err(axum::Error::new)
    }
    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), Self::Error> {
        Pin::new(&mut self.outgoing).start_send(item).map_err(axum::Error::new)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.outgoing).poll_flush(cx).map_err(axum::Error::new)
    }
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.outgoing).poll_close(cx).map_err(axum::Error::new)
    }
}

async fn a_lagging_client_recovers_every_message_and_is_told_to_resync(app: TestApp) {
    let owner = app.setup().await;
    owner.set_status(&app, "available").await;
    let bot = app.shop_bot(&owner).await;
    let (visitor, chat) = app.pending_chat(&bot).await;
    owner.post(&app, &format!("/api/live-chats/{chat}/claim"), json!({})).await;

    let (mut to_session, incoming) = mpsc::channel(8);
    let (outgoing, mut from_session) = mpsc::channel(0);
    let agent = baton::http::extract::Agent {
        user_id: baton::domain::ids::UserId::parse(&owner.id).unwrap(),
        session: None,
        token_hash: None,
        address: String::new(),
    };
    let peer = baton::realtime::agent_peer(&app.state, &agent).await.unwrap();
    tokio::spawn(baton::realtime::run(app.state.clone(), peer, FakeSocket { incoming, outgoing }));
    let sync = json!({"type": "sync", "conversation_id": chat, "after_seq": 0}).to_string();
    futures_util::SinkExt::send(&mut to_session, Ok(Message::Text(sync.into()))).await.unwrap();

    // Far more than the connection's queue holds, while nobody reads.
    for i in 0..400 {
        let r = visitor.post(&app, "/api/widget/messages", json!({"body": format!("flood {i}")})).await;
        assert_eq!(r.status, 201);
    }
    let last = owner.get(&app, &format!("/api/live-chats/{chat}")).await.body["last_seq"].as_i64().unwrap();

    let mut seqs = vec![];
    let mut resynced = false;
    while seqs.last() != Some(&last) || !resynced {
        let m =
            tokio::time::timeout(std::time::Duration::from_secs(5), from_session.next()).await.expect("frames keep coming").expect("session alive");
        let Message::Text(t) = m else { continue };
        let f: Value = serde_json::from_str(t.as_str()).unwrap();
        match f["type"].as_str() {
            Some("message.created") => seqs.push(f["data"]["seq"].as_i64().unwrap()),
            Some("resync") => resynced = true,
            _ => {}
        }
    }
    assert!(resynced, "the client was told it lagged");
    assert_eq!(seqs, (1..=last).collect::<Vec<_>>(), "every message exactly once, in order, despite the overflow");
}

crate::backend_tests!(a_lagging_client_recovers_every_message_and_is_told_to_resync);
