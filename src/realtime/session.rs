//! One WebSocket connection: hub events out (filtered, ordered and de-duplicated by `seq`),
//! client frames in. Generic over the socket so the logic does not depend on axum's type.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, close_code};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use serde_json::json;
use tokio::time::Instant;

use super::frames::{self, ClientFrame};
use crate::domain::ids::{BotId, ConversationId, UserId, VisitorId};
use crate::domain::values::{ClientId, MessageBody};
use crate::hub::{Event, EventKind, Frame, Subscription, Topic};
use crate::services::{AppState, SessionGuard, chats, events};
use crate::store::{AgentScope, Membership, PresenceInput, StoreError};
use crate::views;

/// Events queued per connection before it counts as lagging (and resyncs from the database).
const QUEUE: usize = 256;
/// A client that cannot take a frame for this long is dropped.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
const PING_EVERY: Duration = Duration::from_secs(30);
/// Typing indicators are forwarded at most this often (ms of the app clock) per conversation
/// and connection.
const TYPING_EVERY: i64 = 2_000;
/// "Viewing" is forwarded at most this often (ms of the app clock) per conversation and socket.
const VIEWING_EVERY: i64 = 2_000;
/// An empty range of seqs.
const NOTHING: std::ops::RangeInclusive<i64> = 1..=0;
/// Activity frames count at most this often (ms of the app clock) per connection.
const ACTIVITY_EVERY: i64 = 20_000;
/// Client frames a connection may send per window (ms of the app clock); past that it is closed
/// as abusive (1008). A real inbox or widget sends a few per minute. Off with the widget limits
/// (`--widget-per-minute 0`, as the load benchmark runs).
const FLOOD_FRAMES: u32 = 120;
const FLOOD_WINDOW: i64 = 10_000;
/// Messages a connection may have replayed by `sync` per window (ms of the app clock). A sync
/// is served up to what is left of the budget (then `sync_throttled` says where to go on from);
/// past it, syncs are refused until the window turns, so repeated syncs cannot multiply the
/// history into the socket. Gap fills and lag recovery replay at most this much at a time.
const REPLAY_BUDGET: usize = 1000;
/// Messages read from the database at a time while replaying.
const REPLAY_PAGE: usize = 200;
const REPLAY_WINDOW: i64 = 10_000;
/// A client that answered no ping for this long is gone.
const PONG_WITHIN: Duration = Duration::from_secs(75);

/// What an agent's socket was opened with, re-checked when the user's credentials change.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A cookie session (its token hash).
    Session(String),
    /// A personal API token (its hash).
    Token(String),
}

/// Who is on the other end. Kept small: an idle widget socket holds only this.
pub enum Peer {
    Agent {
        user: UserId,
        display_name: String,
        scope: AgentScope,
        membership: Membership,
        credential: Option<Credential>,
    },
    /// `address`: the client address its widget writes count against.
    Visitor {
        visitor: VisitorId,
        name: Option<String>,
        bot: BotId,
        address: String,
    },
}

/// Kept small: an idle socket holds one of these (ordered maps: an empty one is half the size of
/// an empty hash map, and a socket follows few conversations).
struct Session {
    state: AppState,
    peer: Peer,
    sub: Subscription,
    /// Highest `seq` sent per conversation: later duplicates are dropped, gaps filled from the
    /// database.
    sent: BTreeMap<ConversationId, i64>,
    /// The first `seq` sent on this connection per conversation: everything from it up to
    /// `sent` went out (live or replayed), so a later sync skips that range.
    live_from: BTreeMap<ConversationId, i64>,
    /// Conversations this connection first heard of through a live frame rather than a sync,
    /// with that frame's `seq`: an older message arriving after it (written on another node,
    /// overtaken on the way) still goes out, since the client cannot have it.
    first_live: BTreeMap<ConversationId, i64>,
    typing: BTreeMap<ConversationId, i64>,
    /// When each conversation's "viewing" was last forwarded.
    viewing: BTreeMap<ConversationId, i64>,
    activity: Option<i64>,
    /// A visitor's current conversation, remembered between messages (re-read when a write finds
    /// it resolved: the visitor may have started a new one).
    current: Option<ConversationId>,
    /// Client frames in the current flood window: (window start, count).
    frames: (i64, u32),
    /// Messages replayed by sync in the current window: (window start, count).
    replayed: (i64, usize),
    /// Set when the socket must close after the frames at hand (its credential ended).
    close: Option<CloseFrame>,
}

fn topics(state: &AppState, peer: &Peer) -> Vec<Topic> {
    let _ = state;
    match peer {
        Peer::Agent { user, scope, .. } => vec![Topic::Team(scope.team.clone()), Topic::User(user.clone())],
        // Every widget hears whether a person can answer (business hours and agents).
        Peer::Visitor { visitor, bot, .. } => vec![Topic::Visitor(visitor.clone()), Topic::Bot(bot.clone())],
    }
}

/// Runs the connection until either side closes.
pub async fn run<S>(state: AppState, peer: Peer, socket: S)
where
    S: Sink<Message, Error = axum::Error> + Stream<Item = Result<Message, axum::Error>> + Send + Unpin,
{
    let sub = subscribe(&state, &peer).await;
    run_subscribed(state, peer, sub, socket).await
}

/// The peer's hub subscription. Taken before the upgrade is answered, so nothing published
/// after the client learns it is connected can slip by before its session starts.
pub async fn subscribe(state: &AppState, peer: &Peer) -> Subscription {
    state.subscribe(topics(state, peer), QUEUE).await
}

/// Runs the connection with a subscription taken earlier (see [`subscribe`]).
///
/// Not an `async fn`: the session is built and boxed, and the socket split, before the task's
/// future exists. An `async fn` keeps its arguments in its future beside the locals made from
/// them, so every idle socket's task would carry a second, dead copy of its state and socket.
pub fn run_subscribed<S>(state: AppState, peer: Peer, sub: Subscription, socket: S) -> impl Future<Output = ()> + Send
where
    S: Sink<Message, Error = axum::Error> + Stream<Item = Result<Message, axum::Error>> + Send + Unpin,
{
    // Counted while it runs, so stopping waits for this socket's goodbye.
    let open = state.shutdown.session();
    let (sink, stream) = socket.split();
    let s = Box::new(Session {
        state,
        peer,
        sub,
        sent: BTreeMap::new(),
        live_from: BTreeMap::new(),
        first_live: BTreeMap::new(),
        typing: BTreeMap::new(),
        viewing: BTreeMap::new(),
        activity: None,
        current: None,
        frames: (0, 0),
        replayed: (0, 0),
        close: None,
    });
    drive(s, open, sink, stream)
}

async fn drive<S>(mut s: Box<Session>, _open: SessionGuard, mut sink: SplitSink<S, Message>, mut stream: SplitStream<S>)
where
    S: Sink<Message, Error = axum::Error> + Stream<Item = Result<Message, axum::Error>> + Send + Unpin,
{
    if let Peer::Agent { user, .. } = &s.peer {
        // Opening the inbox is a sign of life.
        logged("presence heartbeat", crate::services::presence::signal(&s.state, user, PresenceInput::Heartbeat).await);
    }
    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    let mut last_pong = Instant::now();
    loop {
        let out: Vec<Frame> = tokio::select! {
            biased;
            // Stopping: "going away", which clients answer by reconnecting.
            _ = s.state.shutdown.stopped() => {
                let close = CloseFrame { code: close_code::AWAY, reason: "Baton is restarting".into() };
                send(&mut sink, Message::Close(Some(close))).await;
                break;
            }
            // The client's frames first: a `sync` it sent is handled before live events queued
            // behind it, so a reconnecting client gets its history before anything newer.
            // The handlers are boxed: an idle socket's task is as large as its largest state, and
            // it should not carry the deepest handler's inline.
            msg = stream.next() => match msg {
                Some(Ok(Message::Text(_) | Message::Binary(_) | Message::Ping(_))) if s.flooded() => {
                    tracing::info!("closing a socket that floods frames");
                    let close = CloseFrame { code: close_code::POLICY, reason: "too many frames".into() };
                    send(&mut sink, Message::Close(Some(close))).await;
                    break;
                }
                Some(Ok(Message::Text(text))) => Box::pin(s.on_client(text.as_str())).await,
                Some(Ok(Message::Binary(_))) => vec![frames::error(s.state.now(), "invalid_frame", "frames are JSON text")],
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {
                    last_pong = Instant::now();
                    vec![]
                }
                Some(Err(e)) => {
                    if too_large(e) {
                        let close = CloseFrame { code: close_code::SIZE, reason: "frame larger than 64 KiB".into() };
                        send(&mut sink, Message::Close(Some(close))).await;
                    }
                    break;
                }
                Some(Ok(Message::Close(_))) | None => break,
            },
            ev = s.sub.rx.recv() => {
                let Some(ev) = ev else { break };
                let mut out = Box::pin(s.on_event(&ev)).await;
                if s.sub.lagged.swap(false, Ordering::AcqRel) {
                    out.extend(Box::pin(s.resync()).await);
                }
                out
            }
            _ = ping.tick() => {
                if last_pong.elapsed() > PONG_WITHIN {
                    tracing::debug!("closing a socket that answers no pings");
                    break;
                }
                if !send(&mut sink, Message::Ping(Default::default())).await { break }
                vec![]
            }
        };
        for f in out {
            // The frame's shared bytes: no copy per receiver.
            let Ok(text) = axum::extract::ws::Utf8Bytes::try_from(f.bytes()) else { continue };
            if !send(&mut sink, Message::Text(text)).await {
                return;
            }
        }
        if let Some(close) = s.close.take() {
            send(&mut sink, Message::Close(Some(close))).await;
            break;
        }
    }
}

/// Whether a read failed because the client sent a frame over the size limit.
fn too_large(e: axum::Error) -> bool {
    matches!(e.into_inner().downcast_ref::<tungstenite::Error>(), Some(tungstenite::Error::Capacity(_)))
}

/// A failed read or presence signal does not end the session, but it is never silent.
fn logged<T>(what: &str, r: Result<T, StoreError>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::warn!(error = %e, "{what} failed in a socket session");
            None
        }
    }
}

async fn send<S: Sink<Message, Error = axum::Error> + Unpin>(sink: &mut S, m: Message) -> bool {
    matches!(tokio::time::timeout(SEND_TIMEOUT, sink.send(m)).await, Ok(Ok(())))
}

impl Session {
    /// Counts a client frame; true once the connection has sent too many in this window.
    fn flooded(&mut self) -> bool {
        if self.state.settings.widget_per_minute == 0 {
            return false;
        }
        let now = self.state.now();
        if now - self.frames.0 >= FLOOD_WINDOW {
            self.frames = (now, 0);
        }
        self.frames.1 += 1;
        self.frames.1 > FLOOD_FRAMES
    }

    fn is_agent(&self) -> bool {
        matches!(self.peer, Peer::Agent { .. })
    }

    async fn on_event(&mut self, ev: &Event) -> Vec<Frame> {
        if ev.kind == EventKind::Resync {
            // Only a wake-up: the lagged flag it came with makes the loop resync.
            return vec![];
        }
        if let (Peer::Agent { membership, .. }, Some(bot)) = (&self.peer, &ev.bot_id) {
            if matches!(ev.topic, Topic::Team(_)) && !membership.bot_access.reaches(bot) {
                return vec![];
            }
        }
        if ev.kind == EventKind::CredentialsChanged {
            self.check_credential().await;
            return vec![];
        }
        if ev.kind == EventKind::AccessChanged {
            return self.refresh_access(ev).await;
        }
        match (ev.kind, &ev.conversation_id, ev.seq) {
            (EventKind::MessageCreated, Some(conv), Some(seq)) => match self.sent.get(conv).copied() {
                Some(last) if seq <= last => match self.first_live.get(conv).copied() {
                    Some(first) if seq < first => {
                        if seq == first - 1 {
                            // The sent range grows down by one: still one range.
                            self.first_live.insert(conv.clone(), seq);
                            self.live_from.insert(conv.clone(), seq);
                        }
                        vec![ev.frame.clone()]
                    }
                    _ => vec![],
                },
                Some(last) if seq > last + 1 => self.replay(conv, last, NOTHING, REPLAY_BUDGET).await,
                last => {
                    if last.is_none() {
                        self.live_from.insert(conv.clone(), seq);
                        self.first_live.insert(conv.clone(), seq);
                    }
                    self.sent.insert(conv.clone(), seq);
                    vec![ev.frame.clone()]
                }
            },
            _ => vec![ev.frame.clone()],
        }
    }

    /// Messages of `conv` after `after`, from the database, as frames; advances `sent` and never
    /// repeats what already went out live. Read in pages, and at most `max` messages: a longer
    /// history ends with `sync_throttled` naming where to sync from next, so no sync can make
    /// the server hold or send a whole long history at once.
    async fn replay(&mut self, conv: &ConversationId, after: i64, already: std::ops::RangeInclusive<i64>, max: usize) -> Vec<Frame> {
        let include_internal = self.is_agent();
        let mut out = Vec::new();
        let mut last = after;
        let mut read = 0usize;
        loop {
            let want = REPLAY_PAGE.min(max - read);
            let page = match self.state.store.messages_page(conv, last, include_internal, want as i64).await {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(conversation = %conv, error = %e, "replay failed");
                    out.push(frames::error(self.state.now(), "sync_failed", "could not read the history; sync again"));
                    break;
                }
            };
            read += page.len();
            let full = page.len() == want;
            last = page.last().map(|m| m.seq).unwrap_or(last);
            out.extend(page.iter().filter(|m| !already.contains(&m.seq)).map(|m| frames::frame("message.created", m.created_at, views::message(m))));
            if !full {
                break;
            }
            if read >= max {
                out.push(self.throttled(conv.as_str(), last));
                break;
            }
        }
        // What went out is now one range from `live_from` to `sent`; a client syncing from
        // beyond what this connection sent starts a new range (it holds the rest already).
        let sent = self.sent.get(conv).copied();
        let from = match (self.live_from.get(conv).copied(), sent) {
            (Some(from), Some(sent)) if after <= sent => from.min(after + 1),
            _ => after + 1,
        };
        self.live_from.insert(conv.clone(), from);
        self.sent.insert(conv.clone(), sent.unwrap_or(last).max(last));

        out
    }

    /// `sync_throttled`: where to sync `conversation` from next, and when the budget refills.
    fn throttled(&self, conversation: &str, after_seq: i64) -> Frame {
        let now = self.state.now();
        let retry_in_ms = (REPLAY_WINDOW - (now - self.replayed.0)).clamp(0, REPLAY_WINDOW);
        frames::frame(
            "error",
            now,
            json!({"code": "sync_throttled", "message": "more history to replay; sync again shortly", "conversation_id": conversation, "after_seq": after_seq, "retry_in_ms": retry_in_ms}),
        )
    }

    /// After a lag: every conversation this connection follows is replayed from the database,
    /// then `resync` tells the client that other events (state changes, statuses) may have been
    /// missed and lists should be re-read.
    async fn resync(&mut self) -> Vec<Frame> {
        metrics::counter!("baton_resyncs_total").increment(1);
        let followed: Vec<(ConversationId, i64)> = self.sent.iter().map(|(c, s)| (c.clone(), *s)).collect();
        let mut out = Vec::new();
        for (conv, after) in followed {
            out.extend(self.replay(&conv, after, NOTHING, REPLAY_BUDGET).await);
        }
        out.push(frames::frame("resync", self.state.now(), json!({"reason": "lagged"})));
        out
    }

    /// Closes the socket (1008) when the session or token it was opened with has ended.
    async fn check_credential(&mut self) {
        let Peer::Agent { credential: Some(c), .. } = &self.peer else { return };
        let now = self.state.now();
        let alive = match c {
            Credential::Session(hash) => self.state.store.session(hash, now).await.map(|s| s.is_some()),
            Credential::Token(hash) => self.state.store.api_token_user(hash, now).await.map(|u| u.is_some()),
        };
        match alive {
            Ok(true) => {}
            Ok(false) => self.close = Some(CloseFrame { code: close_code::POLICY, reason: "signed out".into() }),
            Err(e) => tracing::warn!(error = %e, "re-checking a socket's credential failed"),
        }
    }

    /// The agent's team or bot access changed: re-read it, and follow the new active team.
    async fn refresh_access(&mut self, ev: &Event) -> Vec<Frame> {
        let Peer::Agent { user, scope, membership, .. } = &mut self.peer else { return vec![] };
        let Some(me) = logged("re-reading access", self.state.store.me(user).await) else { return vec![] };
        let team = me.active_team_id.clone();
        let m = match &team {
            Some(t) => logged("re-reading access", self.state.store.membership(t, user).await).flatten(),
            None => None,
        };
        match (team, m) {
            (Some(team), Some(m)) if m.role.can_chat() => {
                let moved = team != scope.team;
                scope.team = team;
                *membership = m;
                if moved {
                    let topics = topics(&self.state, &self.peer);
                    self.sub = self.state.hub.subscribe(topics, QUEUE);
                    self.sent.clear();
                    self.live_from.clear();
                    self.first_live.clear();
                }
                vec![ev.frame.clone()]
            }
            // No inbox any more: nothing of the old team may reach this socket.
            _ => {
                membership.bot_access = crate::domain::team::BotAccess::Only(vec![]);
                let topics = vec![Topic::User(user.clone())];
                self.sub = self.state.hub.subscribe(topics, QUEUE);
                self.sent.clear();
                self.live_from.clear();
                self.first_live.clear();
                vec![ev.frame.clone()]
            }
        }
    }

    async fn on_client(&mut self, text: &str) -> Vec<Frame> {
        let now = self.state.now();
        let frame: ClientFrame = match serde_json::from_str(text) {
            Ok(f) => f,
            Err(e) => return vec![frames::error(now, "invalid_frame", &e.to_string())],
        };
        match frame {
            ClientFrame::Heartbeat => {
                if let Peer::Agent { user, .. } = &self.peer {
                    logged("presence heartbeat", crate::services::presence::signal(&self.state, user, PresenceInput::Heartbeat).await);
                }
                vec![]
            }
            ClientFrame::Activity => {
                if let Peer::Agent { user, .. } = &self.peer {
                    if self.activity.is_none_or(|t| now - t >= ACTIVITY_EVERY) {
                        self.activity = Some(now);
                        logged("presence activity", crate::services::presence::signal(&self.state, user, PresenceInput::Activity).await);
                    }
                }
                vec![]
            }
            ClientFrame::Sync { conversation_id, after_seq } => {
                if after_seq < 0 {
                    return vec![frames::error(now, "invalid_frame", "after_seq: must not be negative")];
                }
                if now - self.replayed.0 >= REPLAY_WINDOW {
                    self.replayed = (now, 0);
                }
                if self.replayed.1 >= REPLAY_BUDGET {
                    return vec![self.throttled(&conversation_id, after_seq)];
                }
                match self.visible(&conversation_id).await {
                    Some(conv) => {
                        // What already went out live before this sync is not sent again.
                        let already = match (self.live_from.get(&conv).copied(), self.sent.get(&conv)) {
                            (Some(from), Some(&to)) => from..=to,
                            _ => NOTHING,
                        };
                        let out = self.replay(&conv, after_seq, already, REPLAY_BUDGET - self.replayed.1).await;
                        // The client now holds everything up to here: nothing older is owed.
                        self.first_live.remove(&conv);
                        self.replayed.1 += out.len();
                        out
                    }
                    None => vec![frames::error(now, "not_found", "no such conversation")],
                }
            }
            ClientFrame::Typing { conversation_id, note } => self.typing(&conversation_id, note).await,
            ClientFrame::Viewing { conversation_id } => self.viewing(&conversation_id).await,
            ClientFrame::Message { body, client_id } => self.visitor_message(&body, client_id.as_deref()).await,
        }
    }

    /// A visitor's message over the socket: the same checks and effects as the HTTP endpoint.
    async fn visitor_message(&mut self, body: &str, client_id: Option<&str>) -> Vec<Frame> {
        let now = self.state.now();
        let refuse = |code: &str, message: &str| vec![frames::frame("error", now, json!({"code": code, "message": message, "client_id": client_id}))];
        let Peer::Visitor { visitor, name, bot, address, .. } = &self.peer else {
            return refuse("forbidden", "agents reply through the live-chat API");
        };
        if let Err(retry) = self.state.widget_write(visitor.as_str(), address).await {
            return refuse("rate_limited", &format!("too many messages; retry in {retry} s"));
        }
        let body = match MessageBody::parse_text(body) {
            Ok(b) => b,
            Err(e) => return refuse("invalid_input", &e.to_string()),
        };
        let client = match client_id.map(ClientId::parse).transpose() {
            Ok(c) => c,
            Err(e) => return refuse("invalid_input", &e.to_string()),
        };
        let author = chats::VisitorAuthor { id: visitor, bot, name: name.as_deref() };
        // The answer, if the bot is to answer, arrives as its own message.created.
        match chats::visitor_message(&self.state, author, self.current.as_ref(), body, client, Vec::new()).await {
            Ok(posted) => {
                self.current = Some(posted.applied.conversation.id.clone());
                vec![]
            }
            Err(StoreError::Transition(t)) => refuse(t.code(), &t.to_string()),
            Err(StoreError::NotFound) => refuse("not_found", "no conversation; start one first"),
            Err(e) => {
                tracing::warn!(error = %e, "a socket message failed");
                refuse("internal", "the message was not stored; send it again")
            }
        }
    }

    /// The conversation, if this peer may see it.
    async fn visible(&self, raw: &str) -> Option<ConversationId> {
        let id = ConversationId::parse(raw)?;
        match &self.peer {
            Peer::Agent { scope, .. } => logged("reading a chat", self.state.store.live_chat(scope, &id).await).flatten().map(|c| c.conversation.id),
            Peer::Visitor { visitor, .. } => logged("reading a conversation", self.state.store.conversation(&id).await)
                .flatten()
                .filter(|c| c.visitor_id == *visitor)
                .map(|c| c.id),
        }
    }

    /// An agent has a chat open: the team's other agents hear who (collision detection). Not
    /// stored; the inbox forgets a viewer not heard from for 40 s.
    async fn viewing(&mut self, raw: &str) -> Vec<Frame> {
        let now = self.state.now();
        let Peer::Agent { user, display_name, scope, .. } = &self.peer else {
            return vec![frames::error(now, "invalid_frame", "only agents report what they view")];
        };
        let Some(id) = ConversationId::parse(raw) else { return vec![frames::error(now, "not_found", "no such conversation")] };
        if self.viewing.get(&id).is_some_and(|t| now - t < VIEWING_EVERY) {
            return vec![];
        }
        let Some(chat) = logged("reading a chat", self.state.store.live_chat(scope, &id).await).flatten() else {
            return vec![frames::error(now, "not_found", "no such conversation")];
        };
        events::agent_viewing(&self.state, &chat.conversation, user, display_name, self.sub.origin());
        // Bounded: one entry per conversation this socket looked at recently.
        if self.viewing.len() >= 256 {
            self.viewing.retain(|_, t| now - *t < VIEWING_EVERY);
        }
        self.viewing.insert(id, now);
        vec![]
    }

    async fn typing(&mut self, raw: &str, note: bool) -> Vec<Frame> {
        let now = self.state.now();
        let Some(id) = ConversationId::parse(raw) else { return vec![frames::error(now, "not_found", "no such conversation")] };
        if self.typing.get(&id).is_some_and(|t| now - t < TYPING_EVERY) {
            return vec![];
        }
        let Some(conv) = logged("reading a conversation", self.state.store.conversation(&id).await).flatten() else {
            return vec![frames::error(now, "not_found", "no such conversation")];
        };
        match &self.peer {
            Peer::Visitor { visitor, .. } => {
                if conv.visitor_id != *visitor {
                    return vec![frames::error(now, "not_found", "no such conversation")];
                }
                events::visitor_typing(&self.state, &conv);
            }
            Peer::Agent { user, display_name, scope, .. } => {
                if logged("reading a chat", self.state.store.live_chat(scope, &id).await).flatten().is_none() {
                    return vec![frames::error(now, "not_found", "no such conversation")];
                }
                events::agent_typing(&self.state, &conv, user, display_name, note, self.sub.origin());
            }
        }
        self.typing.insert(id, now);
        vec![]
    }
}
