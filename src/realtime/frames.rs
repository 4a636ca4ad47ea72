//! The WebSocket protocol's frames (docs/REALTIME.md).

use serde::Deserialize;
use serde_json::json;

use crate::clock::Millis;
use crate::hub::Frame;

/// What clients may send.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    /// An open inbox is alive (agents, every 20 s).
    Heartbeat,
    /// The agent interacted with the inbox (at most once a minute).
    Activity,
    /// Someone is typing in a conversation; `note: true` when an agent writes an internal note
    /// (then the visitor is not told).
    Typing {
        conversation_id: String,
        #[serde(default)]
        note: bool,
    },
    /// An agent has the conversation open (sent on opening it and every 15 s while it stays
    /// open): the other agents see who else is there.
    Viewing { conversation_id: String },
    /// Replay every message with a greater `seq`, then continue live.
    Sync { conversation_id: String, after_seq: i64 },
    /// A visitor's message, as `POST /api/widget/messages` takes it (visitor sockets only). It
    /// comes back as `message.created` with the same `client_id`; a refusal as an `error` frame
    /// carrying the `client_id`.
    Message { body: String, client_id: Option<String> },
}

/// `{"type", "at", "data"}`.
pub fn frame(kind: &str, at: Millis, data: impl serde::Serialize) -> Frame {
    Frame::new(kind, at, data)
}

pub fn error(at: Millis, code: &str, message: &str) -> Frame {
    frame("error", at, json!({"code": code, "message": message}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_frames_parse_and_unknown_ones_are_refused() {
        let f: ClientFrame = serde_json::from_str(r#"{"type":"sync","conversation_id":"c","after_seq":3}"#).unwrap();
        assert_eq!(f, ClientFrame::Sync { conversation_id: "c".into(), after_seq: 3 });
        let t: ClientFrame = serde_json::from_str(r#"{"type":"typing","conversation_id":"c"}"#).unwrap();
        assert_eq!(t, ClientFrame::Typing { conversation_id: "c".into(), note: false });
        for bad in [r#"{"type":"dance"}"#, r#"{"type":"sync"}"#, r#"{"type":"sync","conversation_id":"c","after_seq":"x"}"#, "[]", "nope"] {
            assert!(serde_json::from_str::<ClientFrame>(bad).is_err(), "{bad}");
        }
    }
}
