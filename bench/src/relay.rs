//! The physical-limit baseline: a bare tokio WebSocket relay. A visitor socket (`/v/{chat}`)
//! sends a message frame; the relay parses it and hands a `message.created`-shaped frame to the
//! agent socket of that chat (`/a/{chat}`). No persistence, no auth, no fan-out: the cheapest
//! server that moves the same frames.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

type Agents = Arc<Mutex<HashMap<String, mpsc::UnboundedSender<Message>>>>;

#[tokio::main]
async fn main() {
    let listen = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".into());
    let listener = TcpListener::bind(&listen).await.expect("bind");
    println!("relay listening on http://{}", listener.local_addr().unwrap());
    let agents: Agents = Arc::default();
    while let Ok((tcp, _)) = listener.accept().await {
        let agents = agents.clone();
        tokio::spawn(async move {
            let mut path = String::new();
            // The same small buffers Baton uses, so memory per socket compares like for like.
            let config = WebSocketConfig::default().read_buffer_size(1024).write_buffer_size(0);
            let ws = tokio_tungstenite::accept_hdr_async_with_config(
                tcp,
                |req: &Request, res: Response| {
                    path = req.uri().path().to_string();
                    Ok(res)
                },
                Some(config),
            )
            .await;
            let Ok(ws) = ws else { return };
            let (mut sink, mut stream) = ws.split();
            if let Some(chat) = path.strip_prefix("/a/") {
                let (tx, mut rx) = mpsc::unbounded_channel();
                agents.lock().unwrap().insert(chat.to_string(), tx);
                let writer = tokio::spawn(async move {
                    while let Some(m) = rx.recv().await {
                        if sink.send(m).await.is_err() {
                            break;
                        }
                    }
                });
                while let Some(Ok(_)) = stream.next().await {}
                writer.abort();
            } else if let Some(chat) = path.strip_prefix("/v/") {
                let chat = chat.to_string();
                let mut seq = 0u64;
                while let Some(Ok(m)) = stream.next().await {
                    let Message::Text(t) = m else { continue };
                    let Ok(v) = serde_json::from_str::<serde_json::Value>(&t) else { continue };
                    seq += 1;
                    let frame = serde_json::json!({"type": "message.created", "at": "", "data": {
                        "seq": seq, "conversation_id": chat, "author": {"kind": "visitor"}, "body": v["body"], "text": v["body"], "visibility": "public"
                    }});
                    let agent = agents.lock().unwrap().get(&chat).cloned();
                    if let Some(a) = agent {
                        let _ = a.send(Message::Text(frame.to_string().into()));
                    }
                    let _ = sink.send(Message::Text(r#"{"ok":true}"#.into())).await;
                }
            } else {
                // idle sockets for the connection benchmark
                while let Some(Ok(_)) = stream.next().await {}
            }
        });
    }
}
