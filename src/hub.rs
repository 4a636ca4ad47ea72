//! The real-time event bus. Handlers publish an [`Event`] after their transaction commits; the
//! bus fans it out to whoever listens. It is a best-effort wake-up: the database stays the truth,
//! and clients that miss events resync from it by `seq`.

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::broadcast;

use crate::clock::Millis;
use crate::domain::ids::{BotId, ConversationId, TeamId, UserId, VisitorId};

/// One thing that happened, with what each audience may see of it.
#[derive(Debug, Clone)]
pub struct Event {
    /// API.md's frame type (`chat.claimed`, `message.created`, ...).
    pub kind: &'static str,
    pub at: Millis,
    pub team_id: TeamId,
    /// Set for chat events: only agents with access to this bot receive them.
    pub bot_id: Option<BotId>,
    pub conversation_id: Option<ConversationId>,
    /// Agents' view of the event.
    pub agent_data: Value,
    /// The visitor's view, when the visitor should see it at all (never for internal notes).
    pub visitor: Option<(VisitorId, Value)>,
    /// Set for events addressed to one agent only (notifications).
    pub only_agent: Option<UserId>,
}

/// Where events go. A second implementation (Redis pub/sub between nodes) plugs in here without
/// touching handlers.
pub trait Bus: Send + Sync + 'static {
    fn publish(&self, event: Event);
    fn subscribe(&self) -> broadcast::Receiver<Arc<Event>>;
}

/// Single-node bus: one broadcast channel. A receiver that falls behind by more than the
/// capacity sees `Lagged` and must resync from the database.
pub struct LocalBus {
    tx: broadcast::Sender<Arc<Event>>,
}

impl LocalBus {
    pub fn new(capacity: usize) -> Self {
        Self {
            tx: broadcast::channel(capacity).0,
        }
    }
}

impl Bus for LocalBus {
    fn publish(&self, event: Event) {
        // No receivers is fine: nobody is connected.
        let _ = self.tx.send(Arc::new(event));
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }
}
