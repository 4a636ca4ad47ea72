//! Client WebSocket frames (docs/REALTIME.md): any text a client sends is parsed as a
//! `ClientFrame` and then checked the way `realtime::session` does (ids, message bodies, client
//! ids), and the error frames built from the outcome are valid JSON carrying what was put in.
//! Nothing may panic.

#![no_main]

use baton::domain::ids::ConversationId;
use baton::domain::values::{ClientId, MessageBody};
use libfuzzer_sys::{Corpus, fuzz_target};
use serde_json::{Value, json};

use baton::clock;
use baton::realtime::frames;
use frames::ClientFrame;

/// Largest text frame the socket accepts (`baton::realtime::MAX_FRAME`).
const MAX_FRAME: usize = baton::realtime::MAX_FRAME;

fuzz_target!(|data: &[u8]| -> Corpus {
    // A WebSocket text frame is valid UTF-8 (tungstenite checks before the session sees it).
    let Ok(text) = std::str::from_utf8(data) else { return Corpus::Reject };
    if text.len() > MAX_FRAME {
        return Corpus::Reject;
    }
    // Any time, including ones the calendar cannot print, must render without panicking.
    let at = data.get(..8).map_or(0, |b| i64::from_le_bytes(b.try_into().expect("8 bytes")));
    let stamp = clock::rfc3339(at);
    if (0..=253_402_300_799_999).contains(&at) {
        assert_eq!(stamp.len(), 24, "rfc3339({at}) = {stamp:?}");
    }
    let now = 1_767_259_800_000; // 2026-01-01T09:30:00.000Z

    match serde_json::from_str::<ClientFrame>(text) {
        Err(e) => {
            let message = e.to_string();
            let out = frames::error(now, "invalid_frame", &message);
            let v = reparse(&out);
            assert_eq!(v["type"], "error");
            assert_eq!(v["at"], "2026-01-01T09:30:00.000Z");
            assert_eq!(v["data"]["code"], "invalid_frame");
            assert_eq!(v["data"]["message"].as_str(), Some(message.as_str()));
        }
        Ok(frame) => {
            // Parsing is a function of the text.
            assert_eq!(serde_json::from_str::<ClientFrame>(text).as_ref().ok(), Some(&frame));
            match frame {
                ClientFrame::Heartbeat | ClientFrame::Activity => {}
                ClientFrame::Sync { conversation_id, after_seq: _ } | ClientFrame::Typing { conversation_id, note: _ } => {
                    check_id(&conversation_id);
                }
                ClientFrame::Message { body, client_id } => {
                    let refusal = match MessageBody::parse_text(&body) {
                        Ok(b) => {
                            assert!(!b.text().trim().is_empty());
                            None
                        }
                        Err(e) => Some(e.to_string()),
                    };
                    let refusal = refusal.or_else(|| match client_id.as_deref().map(ClientId::parse).transpose() {
                        Ok(Some(c)) => {
                            assert_eq!(c.as_str(), client_id.as_deref().unwrap_or_default().trim());
                            None
                        }
                        Ok(None) => None,
                        Err(e) => Some(e.to_string()),
                    });
                    // The session's refusal frame carries the client's id back verbatim.
                    let message = refusal.unwrap_or_default();
                    let out = frames::frame("error", at, json!({"code": "invalid_input", "message": message, "client_id": client_id}));
                    let v = reparse(&out);
                    assert_eq!(v["at"].as_str(), Some(stamp.as_str()));
                    assert_eq!(v["data"]["message"].as_str(), Some(message.as_str()));
                    assert_eq!(v["data"]["client_id"].as_str(), client_id.as_deref());
                }
            }
        }
    }
    Corpus::Keep
});

fn reparse(frame: &str) -> Value {
    serde_json::from_str(frame).unwrap_or_else(|e| panic!("a frame Baton sends is not JSON ({e}): {frame:?}"))
}

/// What the session does with a conversation id from a frame.
fn check_id(raw: &str) {
    if let Some(id) = ConversationId::parse(raw) {
        assert_eq!(ConversationId::parse(id.as_str()).as_ref(), Some(&id));
        assert_eq!(id.to_string(), id.as_str());
    }
}
