//! The real-time hub. Handlers publish an [`Event`] after their transaction commits; the hub
//! hands it to the connections subscribed to its [`Topic`], each through a bounded queue.
//!
//! It is a best-effort wake-up: the database stays the truth. A connection whose queue is full
//! is not waited for (publishing never blocks); its `lagged` flag is set instead, and the
//! connection resyncs from the database by `seq` once it catches up. So a slow client never
//! delays others and never silently misses a message.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::mpsc;

use crate::clock::{Millis, rfc3339};
use crate::domain::ids::{BotId, ConversationId, TeamId, UserId, VisitorId};

/// Who an event is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Topic {
    /// Agents whose active team this is (further filtered by bot access).
    Team(TeamId),
    /// One visitor's widget.
    Visitor(VisitorId),
    /// One agent's own sockets (notifications, access changes).
    User(UserId),
    /// Every widget of a bot (agent availability).
    Bot(BotId),
}

/// What happened: the frame types of docs/REALTIME.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    #[serde(rename = "chat.escalated")]
    ChatEscalated,
    #[serde(rename = "chat.claimed")]
    ChatClaimed,
    #[serde(rename = "chat.transferred")]
    ChatTransferred,
    #[serde(rename = "chat.resolved")]
    ChatResolved,
    #[serde(rename = "chat.requeued")]
    ChatRequeued,
    #[serde(rename = "chat.reopened")]
    ChatReopened,
    /// A chat was snoozed or woken (to the team).
    #[serde(rename = "chat.snoozed")]
    ChatSnoozed,
    #[serde(rename = "message.created")]
    MessageCreated,
    #[serde(rename = "agent.status")]
    AgentStatus,
    #[serde(rename = "typing")]
    Typing,
    /// An agent has a chat open (to the team's other agents).
    #[serde(rename = "viewing")]
    Viewing,
    #[serde(rename = "notification")]
    Notification,
    #[serde(rename = "access.changed")]
    AccessChanged,
    /// Invitations waiting for the user were sent, withdrawn or answered.
    #[serde(rename = "invitations.changed")]
    InvitationsChanged,
    /// A user's sessions or tokens were ended: their sockets re-check what they were opened with.
    #[serde(rename = "credentials.changed")]
    CredentialsChanged,
    #[serde(rename = "availability")]
    Availability,
    /// A pending chat's place in the queue changed (to its visitor).
    #[serde(rename = "queue.updated")]
    QueueUpdated,
    /// A visitor rated a resolved chat (to the team).
    #[serde(rename = "chat.rated")]
    ChatRated,
    /// Something every member's pages show changed: `{what}` is `bots`, `shortcuts`, `members`
    /// or `settings`; open pages re-read it.
    #[serde(rename = "team.changed")]
    TeamChanged,
    /// The user's own name or picture changed (their other tabs redraw the header).
    #[serde(rename = "profile.changed")]
    ProfileChanged,
    /// A visitor in a live chat moved to another page, or the host page set their attributes
    /// (to the team, with bot access).
    #[serde(rename = "visitor.updated")]
    VisitorUpdated,
    /// The agent of a visitor's live chat changed their name or picture (to the visitor).
    #[serde(rename = "agent.updated")]
    AgentUpdated,
    /// A conversation was deleted (its visitor's data erased, or its retention period over):
    /// inboxes drop it (to the team, with bot access).
    #[serde(rename = "chat.erased")]
    ChatErased,
    /// Never sent to a client: wakes a connection marked lagged, so it resyncs (the cluster's
    /// bus reconnected and events may have been missed).
    #[serde(rename = "resync")]
    Resync,
}

impl EventKind {
    /// The frame's `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ChatEscalated => "chat.escalated",
            Self::ChatClaimed => "chat.claimed",
            Self::ChatTransferred => "chat.transferred",
            Self::ChatResolved => "chat.resolved",
            Self::ChatRequeued => "chat.requeued",
            Self::ChatReopened => "chat.reopened",
            Self::ChatSnoozed => "chat.snoozed",
            Self::MessageCreated => "message.created",
            Self::AgentStatus => "agent.status",
            Self::Typing => "typing",
            Self::Viewing => "viewing",
            Self::Notification => "notification",
            Self::AccessChanged => "access.changed",
            Self::InvitationsChanged => "invitations.changed",
            Self::CredentialsChanged => "credentials.changed",
            Self::Availability => "availability",
            Self::QueueUpdated => "queue.updated",
            Self::ChatRated => "chat.rated",
            Self::TeamChanged => "team.changed",
            Self::VisitorUpdated => "visitor.updated",
            Self::AgentUpdated => "agent.updated",
            Self::ProfileChanged => "profile.changed",
            Self::ChatErased => "chat.erased",
            Self::Resync => "resync",
        }
    }
}

/// One running Baton process. Connection ids are only unique within a node, so an event's
/// origin names both.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeId(String);

impl NodeId {
    pub fn new() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }
}

impl Default for NodeId {
    fn default() -> Self {
        Self::new()
    }
}

/// The connection that caused an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub node: NodeId,
    pub connection: u64,
}

/// One thing that happened, as one audience sees it. Serialisable, so a bus can carry it
/// between nodes ([`Event::encode`], [`Event::decode`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub kind: EventKind,
    pub at: Millis,
    pub topic: Topic,
    /// Team events about a chat: only agents with access to this bot receive them.
    pub bot_id: Option<BotId>,
    pub conversation_id: Option<ConversationId>,
    /// For `message.created`: lets each connection order and de-duplicate by `seq`.
    pub seq: Option<i64>,
    /// The connection that caused it (typing), which does not get it back.
    pub origin: Option<Origin>,
    /// The frame as sent: `{"type", "at", "data"}`, serialised once for every receiver.
    pub frame: Frame,
}

/// A frame as it goes on the wire: JSON text, serialised once and shared by every receiver (a
/// clone is a reference count, not a copy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame(bytes::Bytes);

impl Frame {
    /// `{"type", "at", "data"}`, written straight from `data` (no intermediate JSON tree).
    pub fn new(kind: &str, at: Millis, data: impl Serialize) -> Self {
        #[derive(Serialize)]
        struct Wire<'a, T> {
            #[serde(rename = "type")]
            kind: &'a str,
            at: String,
            data: T,
        }
        // Every frame's data is plain values and strings: serialising cannot fail.
        let text = serde_json::to_string(&Wire { kind, at: rfc3339(at), data }).expect("a frame always serialises");
        Self::from(text)
    }

    pub fn as_str(&self) -> &str {
        // Built only from `String`s (below), so always UTF-8.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The shared bytes, for a socket to send without copying.
    pub fn bytes(&self) -> bytes::Bytes {
        self.0.clone()
    }
}

impl From<String> for Frame {
    fn from(text: String) -> Self {
        Self(bytes::Bytes::from(text))
    }
}

impl Serialize for Frame {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Frame {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self::from)
    }
}

impl Event {
    pub fn new(kind: EventKind, at: Millis, topic: Topic, data: impl Serialize) -> Self {
        Self::sharing(kind, at, topic, Frame::new(kind.as_str(), at, data))
    }

    /// An event whose frame is already serialised (the same message to several topics).
    pub fn sharing(kind: EventKind, at: Millis, topic: Topic, frame: Frame) -> Self {
        Self { kind, at, topic, bot_id: None, conversation_id: None, seq: None, origin: None, frame }
    }

    pub fn about_chat(mut self, bot: &BotId, conversation: &ConversationId) -> Self {
        self.bot_id = Some(bot.clone());
        self.conversation_id = Some(conversation.clone());
        self
    }

    pub fn with_seq(mut self, seq: i64) -> Self {
        self.seq = Some(seq);
        self
    }

    pub fn from_connection(mut self, origin: Origin) -> Self {
        self.origin = Some(origin);
        self
    }

    /// The event as bytes, for a bus between nodes.
    pub fn encode(&self) -> Vec<u8> {
        // Every field is a string, a number or an enum of those: serialising cannot fail.
        serde_json::to_vec(self).expect("an event always serialises")
    }

    /// Refuses anything that is not an event this version understands.
    pub fn decode(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

/// Where events go. The single-node [`LocalBus`] hands them straight to the hub; a multi-node
/// bus (Redis pub/sub) would forward them to every node's hub, without touching handlers.
pub trait Bus: Send + Sync + 'static {
    fn publish(&self, event: Event);
}

pub struct LocalBus {
    hub: Arc<Hub>,
}

impl LocalBus {
    pub fn new(hub: Arc<Hub>) -> Self {
        Self { hub }
    }
}

impl Bus for LocalBus {
    fn publish(&self, event: Event) {
        self.hub.deliver(Arc::new(event));
    }
}

struct Sub {
    id: u64,
    tx: mpsc::Sender<Arc<Event>>,
    lagged: Arc<AtomicBool>,
}

/// Told when a topic gains its first connection on this node or loses its last.
pub type Watcher = Box<dyn Fn(&Topic) + Send + Sync>;

/// The local registry of connections by topic.
#[derive(Default)]
pub struct Hub {
    /// This node, named in the origin of the events its connections cause.
    node: NodeId,
    /// Read-mostly: every publish reads it, only (un)subscribing writes. No lock is held across
    /// an await: delivery is `try_send`.
    topics: RwLock<HashMap<Topic, Vec<Sub>>>,
    next_id: AtomicU64,
    watcher: std::sync::OnceLock<Watcher>,
}

/// A connection's subscription; dropping it unsubscribes.
pub struct Subscription {
    pub id: u64,
    pub rx: mpsc::Receiver<Arc<Event>>,
    /// Set when an event could not be queued: the connection must resync from the database.
    pub lagged: Arc<AtomicBool>,
    topics: Vec<Topic>,
    hub: Arc<Hub>,
}

impl Hub {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn subscribe(self: &Arc<Self>, topics: Vec<Topic>, capacity: usize) -> Subscription {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let (tx, rx) = mpsc::channel(capacity);
        let lagged = Arc::new(AtomicBool::new(false));
        let mut map = self.topics.write().unwrap_or_else(|p| p.into_inner());
        let mut first = vec![];
        for t in &topics {
            let subs = map.entry(t.clone()).or_default();
            if subs.is_empty() {
                first.push(t);
            }
            subs.push(Sub { id, tx: tx.clone(), lagged: lagged.clone() });
        }
        drop(map);
        if let Some(w) = self.watcher.get() {
            first.into_iter().for_each(w);
        }
        Subscription { id, rx, lagged, topics, hub: self.clone() }
    }

    /// This node.
    pub fn node(&self) -> &NodeId {
        &self.node
    }

    /// Calls `watcher` whenever a topic gains its first connection or loses its last (after
    /// the change). Set once.
    pub fn watch(&self, watcher: Watcher) {
        let _ = self.watcher.set(watcher);
    }

    /// The topics with a connection on this node.
    pub fn topics(&self) -> Vec<Topic> {
        self.topics.read().unwrap_or_else(|p| p.into_inner()).keys().cloned().collect()
    }

    /// Marks every connection lagged and wakes it: each resyncs from the database. For when
    /// events may have been missed wholesale (the cluster's bus was away).
    pub fn resync_all(&self) {
        let map = self.topics.read().unwrap_or_else(|p| p.into_inner());
        let mut seen = std::collections::HashSet::new();
        let wake = Arc::new(Event::new(EventKind::Resync, 0, Topic::Team(TeamId::default()), json!({})));
        for sub in map.values().flatten() {
            if seen.insert(sub.id) {
                sub.lagged.store(true, Ordering::Release);
                // A full queue wakes the connection anyway.
                let _ = sub.tx.try_send(wake.clone());
            }
        }
    }

    pub fn deliver(&self, event: Arc<Event>) {
        let map = self.topics.read().unwrap_or_else(|p| p.into_inner());
        let Some(subs) = map.get(&event.topic) else { return };
        for sub in subs {
            if event.origin.as_ref().is_some_and(|o| o.connection == sub.id && o.node == self.node) {
                continue;
            }
            if sub.tx.try_send(event.clone()).is_err() {
                sub.lagged.store(true, Ordering::Release);
            }
        }
    }

    /// Whether anyone listens on `topic` on this node (e.g. a visitor's widget is open).
    pub fn has_subscribers(&self, topic: &Topic) -> bool {
        self.topics.read().unwrap_or_else(|p| p.into_inner()).get(topic).is_some_and(|s| !s.is_empty())
    }

    fn unsubscribe(&self, id: u64, topics: &[Topic]) {
        let mut map = self.topics.write().unwrap_or_else(|p| p.into_inner());
        let mut last = vec![];
        for t in topics {
            if let Some(subs) = map.get_mut(t) {
                subs.retain(|s| s.id != id);
                if subs.is_empty() {
                    map.remove(t);
                    last.push(t);
                }
            }
        }
        drop(map);
        if let Some(w) = self.watcher.get() {
            last.into_iter().for_each(w);
        }
    }
}

impl Subscription {
    /// This connection, as the origin of an event it causes.
    pub fn origin(&self) -> Origin {
        Origin { node: self.hub.node.clone(), connection: self.id }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.unsubscribe(self.id, &self.topics);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(topic: Topic) -> Event {
        Event::new(EventKind::Typing, 0, topic, json!({}))
    }

    #[tokio::test]
    async fn events_reach_only_their_topic_and_not_their_origin() {
        let hub = Hub::new();
        let team = Topic::Team(TeamId::new());
        let mut a = hub.subscribe(vec![team.clone()], 8);
        let mut b = hub.subscribe(vec![team.clone()], 8);
        let mut other = hub.subscribe(vec![Topic::Team(TeamId::new())], 8);
        hub.deliver(Arc::new(ev(team.clone()).from_connection(a.origin())));
        assert!(b.rx.try_recv().is_ok());
        assert!(a.rx.try_recv().is_err(), "the sender does not get its own event back");
        assert!(other.rx.try_recv().is_err());
        // The same connection id on another node is another connection.
        hub.deliver(Arc::new(ev(team.clone()).from_connection(Origin { node: NodeId::new(), connection: a.id })));
        assert!(a.rx.try_recv().is_ok());
    }

    #[tokio::test]
    async fn a_full_queue_marks_the_connection_lagged_without_blocking() {
        let hub = Hub::new();
        let t = Topic::User(UserId::new());
        let slow = hub.subscribe(vec![t.clone()], 2);
        let mut fast = hub.subscribe(vec![t.clone()], 100);
        for _ in 0..10 {
            hub.deliver(Arc::new(ev(t.clone())));
        }
        assert!(slow.lagged.load(Ordering::Acquire));
        let mut n = 0;
        while fast.rx.try_recv().is_ok() {
            n += 1;
        }
        assert_eq!(n, 10, "others get everything");
    }

    #[test]
    fn an_event_survives_encoding_and_garbage_is_refused() {
        let origin = Origin { node: NodeId::new(), connection: 7 };
        let e = Event::new(EventKind::MessageCreated, 42, Topic::Team(TeamId::new()), json!({"seq": 3}))
            .about_chat(&BotId::new(), &ConversationId::new())
            .with_seq(3)
            .from_connection(origin);
        assert_eq!(Event::decode(&e.encode()).unwrap(), e);
        for t in [Topic::Visitor(VisitorId::new()), Topic::User(UserId::new()), Topic::Bot(BotId::new())] {
            let e = Event::new(EventKind::Availability, 1, t, json!({}));
            assert_eq!(Event::decode(&e.encode()).unwrap(), e);
        }
        for bad in [&b"{}"[..], b"[]", b"nope", br#"{"kind":"chat.exploded","at":1,"topic":{"kind":"team","id":"x"},"bot_id":null,"conversation_id":null,"seq":null,"origin":null,"frame":""}"#] {
            assert!(Event::decode(bad).is_err());
        }
    }

    #[tokio::test]
    async fn dropping_a_subscription_unsubscribes() {
        let hub = Hub::new();
        let t = Topic::Visitor(VisitorId::new());
        let s = hub.subscribe(vec![t.clone()], 1);
        assert!(hub.has_subscribers(&t));
        drop(s);
        assert!(!hub.has_subscribers(&t));
    }
}
