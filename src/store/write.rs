//! The one write path for conversations, in plain Rust: load the facts under the row lock, ask
//! [`decide`], number and write what it decided, save the conversation. It runs over
//! [`ChatTx`], a handful of statements each backend implements inside its own transaction, so
//! the same logic carries SQLite (group-committed batches), PostgreSQL, or any other engine.

use async_trait::async_trait;

use super::{Act, PresenceChange, PresenceInput, Result, StoreError};
use crate::clock::Millis;
use crate::domain::chat::{AgentFacts, ChatFacts, ChatState, Command, Post, RequeueReason, Resolver, SnoozeChange, TransitionError, Trigger, decide};
use crate::domain::ids::{AttachmentId, ConversationId, MessageId, UserId};
use crate::domain::presence::{Reason, Status};
use crate::domain::values::{ClientId, MessageBody};
use crate::domain::webhook::Event;
use crate::store::{Applied, Attachment, Author, AuthorKind, Conversation, Membership, Message, User};

/// The bot settings that take part in the lifecycle, read with the locked conversation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EscalationFlags {
    pub human_escalation: bool,
    pub human_only: bool,
    pub auto_escalate_unanswered: bool,
    /// Whether the team has a webhook turned on: without one, no event document is built.
    pub webhooks: bool,
}

/// The statements the write path needs, inside one open transaction.
#[async_trait]
pub(crate) trait ChatTx: Send {
    /// The conversation, locked until commit, with its bot's flags.
    async fn lock_conversation(&mut self, id: &ConversationId) -> Result<Option<(Conversation, EscalationFlags)>>;
    /// The message `author` already stored with `client_id` in the conversation.
    async fn message_by_client_id(&mut self, conversation: &ConversationId, author: &str, client_id: &str) -> Result<Option<Message>>;
    /// A user with their current status.
    async fn user_status(&mut self, id: &UserId) -> Result<Option<(User, Status, Option<Reason>)>>;
    async fn membership(&mut self, conversation: &Conversation, user: &UserId) -> Result<Option<Membership>>;
    async fn insert_message(&mut self, m: &Message) -> Result<()>;
    /// Makes the uploader's unsent files (uploaded to a conversation of the same visitor) part of
    /// the message just inserted, and notes them on it; `Invalid` when one is not theirs or was
    /// already sent.
    async fn take_uploads(
        &mut self,
        conversation: &ConversationId,
        uploader: &str,
        ids: &[AttachmentId],
        message: &MessageId,
    ) -> Result<Vec<Attachment>>;
    /// The visitor has a conversation newer than this one.
    async fn newer_conversation(&mut self, c: &Conversation) -> Result<bool>;
    /// Stores the conversation's new state; `said` (the last non-system message written, if
    /// any) becomes the list preview.
    async fn save_conversation(&mut self, c: &Conversation, said: Option<&Message>) -> Result<()>;
    /// Queues `doc` for every enabled webhook of the team that chose `event`, in this
    /// transaction: the change and its announcement commit together.
    async fn enqueue_webhooks(&mut self, c: &Conversation, event: Event, event_id: &str, doc: &str, now: Millis) -> Result<()>;
}

/// The document a webhook receives (the `data` varies by event; see docs/OPERATIONS.md).
pub(crate) fn webhook_doc(event: Event, event_id: &str, now: Millis, c: &Conversation, data: serde_json::Value) -> String {
    let mut data = data;
    data["conversation"] = serde_json::json!({
        "id": c.id,
        "bot_id": c.bot_id,
        "visitor_id": c.visitor_id,
        "state": c.state.as_str(),
        "assignee_id": c.assignee_id,
        "escalated_at": c.escalated_at.map(crate::clock::rfc3339),
        "resolved_at": c.resolved_at.map(crate::clock::rfc3339),
    });
    serde_json::json!({
        "id": event_id,
        "type": event.as_str(),
        "created_at": crate::clock::rfc3339(now),
        "team_id": c.team_id,
        "data": data,
    })
    .to_string()
}

/// A message as webhooks see it.
pub(crate) fn webhook_message(m: &Message) -> serde_json::Value {
    serde_json::json!({
        "id": m.id,
        "seq": m.seq,
        "author": {"kind": m.author.kind.as_str(), "id": m.author.id, "display_name": m.author.display_name},
        "text": m.body.text(),
        "visibility": if m.internal { "internal" } else { "public" },
        "attachments": m.attachments.iter().map(|a| serde_json::json!({"id": a.id, "name": a.name, "content_type": a.content_type, "size": a.size})).collect::<Vec<_>>(),
        "created_at": crate::clock::rfc3339(m.created_at),
    })
}

/// Runs one act inside the caller's transaction (so other writes, such as removing a member,
/// can requeue chats atomically with their own change). The caller commits unless the result
/// is a replay.
pub(crate) async fn apply<T: ChatTx + ?Sized>(tx: &mut T, id: &ConversationId, act: Act, now: Millis) -> Result<Applied> {
    let (conv, flags) = tx.lock_conversation(id).await?.ok_or(StoreError::NotFound)?;

    // A visitor token reaches that visitor's conversations only.
    if let Act::VisitorMessage { visitor, .. }
    | Act::LeaveMessage { visitor, .. }
    | Act::ResolveByVisitor { visitor }
    | Act::EscalateByVisitor { visitor } = &act
    {
        if conv.visitor_id != *visitor {
            return Err(StoreError::NotFound);
        }
    }

    // A repeated client_id from the same author returns the first message.
    let idempotency = match &act {
        Act::VisitorMessage { visitor, client_id: Some(c), .. } | Act::LeaveMessage { visitor, client_id: Some(c), .. } => {
            Some((visitor.to_string(), c))
        }
        Act::AgentMessage { agent, client_id: Some(c), .. } | Act::Note { agent, client_id: Some(c), .. } => Some((agent.to_string(), c)),
        _ => None,
    };
    if let Some((author, client_id)) = idempotency {
        if let Some(first) = tx.message_by_client_id(id, &author, client_id.as_str()).await? {
            return Ok(Applied {
                conversation: conv,
                messages: vec![first],
                state_changed: false,
                snooze_changed: false,
                bot_replies: false,
                replayed: true,
                previous_assignee: None,
                event: None,
            });
        }
    }

    // The assignee's name appears only in the lines transfers and requeues write.
    let named = matches!(act, Act::Transfer { .. } | Act::Requeue(_));
    let assignee = match &conv.assignee_id {
        Some(a) if !named => Some((a.clone(), String::new())),
        Some(a) => tx.user_status(a).await?.map(|(u, _, _)| (u.id.clone(), u.display_name())),
        None => None,
    };
    // Only a reopen asks whether the visitor has started a newer chat since.
    let newest = if matches!(act, Act::Reopen { .. }) { !tx.newer_conversation(&conv).await? } else { true };
    let facts = ChatFacts {
        state: conv.state,
        assignee,
        human_escalation: flags.human_escalation,
        human_only: flags.human_only,
        auto_escalate_unanswered: flags.auto_escalate_unanswered,
        newest,
        snoozed: conv.snooze.is_some(),
    };

    let (cmd, content) = command(tx, &conv, act).await?;
    let decision = decide(&facts, &cmd)?;

    // The command's own message and the system line, in the order decide asked for.
    struct Line {
        author: Author,
        body: MessageBody,
        internal: bool,
        client_id: Option<String>,
        event: Option<crate::domain::chat::SystemKind>,
        detail: Option<crate::domain::chat::EventDetail>,
        files: Vec<AttachmentId>,
    }
    let own = match (decision.post, content) {
        (Post::Nothing, _) => None,
        (post, Some(c)) => Some(Line {
            author: c.author,
            body: c.body,
            internal: post == Post::Internal,
            client_id: c.client_id.map(|c| c.as_str().to_string()),
            event: None,
            detail: None,
            files: c.files,
        }),
        (_, None) => return Err(StoreError::Invalid("body: required".into())),
    };
    let system = decision.event.as_ref().map(|e| Line {
        author: Author::system(),
        body: MessageBody::system(&e.text()),
        internal: false,
        client_id: None,
        event: Some(e.kind()),
        detail: Some(e.detail()),
        files: Vec::new(),
    });
    let ordered = if decision.event_first { [system, own] } else { [own, system] };
    let mut written = Vec::with_capacity(2);
    let mut seq = conv.last_seq;
    for line in ordered.into_iter().flatten() {
        seq += 1;
        let mut m = Message {
            id: MessageId::new(),
            conversation_id: conv.id.clone(),
            seq,
            author: line.author,
            body: line.body,
            internal: line.internal,
            client_id: line.client_id,
            event: line.event,
            detail: line.detail,
            attachments: Vec::new(),
            created_at: now,
        };
        tx.insert_message(&m).await?;
        if !line.files.is_empty() {
            let uploader = m.author.id.clone().unwrap_or_default();
            m.attachments = tx.take_uploads(&conv.id, &uploader, &line.files, &m.id).await?;
        }
        written.push(m);
    }

    let state_changed = decision.changes_state(&facts);
    let escalated_at = if conv.escalated_at.is_none() && decision.state.is_live() { Some(now) } else { conv.escalated_at };
    let resolved_at = if decision.state == ChatState::Resolved { conv.resolved_at.or(Some(now)) } else { None };
    let last_activity_at = if written.is_empty() && !state_changed { conv.last_activity_at } else { now };
    let previous_assignee = conv.assignee_id.clone();
    let snooze = match decision.snooze {
        SnoozeChange::Keep => conv.snooze,
        SnoozeChange::Set(z) => Some(z),
        SnoozeChange::Clear => None,
    };
    let snooze_changed = snooze != conv.snooze;
    // The firsts reports measure from: an agent taking the chat, and answering the visitor.
    let claimed_at = conv.claimed_at.or_else(|| {
        matches!(decision.event, Some(crate::domain::chat::SystemEvent::Claimed { .. } | crate::domain::chat::SystemEvent::Accepted { .. }))
            .then_some(now)
    });
    let first_response_at = conv
        .first_response_at
        .or_else(|| (escalated_at.is_some() && written.iter().any(|m| m.author.kind == AuthorKind::Agent && !m.internal)).then_some(now));
    let conversation = Conversation {
        claimed_at,
        first_response_at,
        snooze,
        state: decision.state,
        assignee_id: decision.assignee.clone(),
        escalated_at,
        resolved_at,
        last_activity_at,
        last_seq: seq,
        ..conv
    };
    // The list preview shows what the visitor or an agent said last: not system lines, and not
    // the bot's answers (agents want to see what the visitor asked).
    let said = written.iter().rev().find(|m| !matches!(m.author.kind, AuthorKind::System | AuthorKind::Bot));
    tx.save_conversation(&conversation, said).await?;
    // Event documents are built only for a team with a webhook turned on.
    if flags.webhooks {
        for m in &written {
            let event = match m.event {
                None => Event::MessageCreated,
                Some(kind) => match Event::of(kind) {
                    Some(e) => e,
                    None => continue,
                },
            };
            let event_id = uuid::Uuid::now_v7().to_string();
            let data = match event {
                Event::MessageCreated => serde_json::json!({"message": webhook_message(m)}),
                _ => serde_json::json!({"previous_assignee_id": previous_assignee, "detail": m.detail}),
            };
            tx.enqueue_webhooks(&conversation, event, &event_id, &webhook_doc(event, &event_id, now, &conversation, data), now).await?;
        }
    }
    Ok(Applied {
        conversation,
        messages: written,
        state_changed,
        snooze_changed,
        bot_replies: decision.bot_replies,
        replayed: false,
        previous_assignee,
        event: decision.event,
    })
}

/// What a command writes besides its system line.
struct Said {
    author: Author,
    body: MessageBody,
    client_id: Option<ClientId>,
    /// Uploaded files the message carries.
    files: Vec<AttachmentId>,
}
type Content = Option<Said>;

/// The act as a command with the facts `decide` needs, and the message it would post.
async fn command<T: ChatTx + ?Sized>(tx: &mut T, conv: &Conversation, act: Act) -> Result<(Command, Content)> {
    Ok(match act {
        Act::Escalate(trigger) => (Command::Escalate(trigger), None),
        Act::EscalateByVisitor { .. } => (Command::Escalate(Trigger::VisitorRequest), None),
        Act::ResolveByVisitor { .. } => (Command::Resolve(Resolver::Visitor), None),
        Act::Requeue(reason) => {
            // The sweeper found the assignee gone; make sure they still are, under the lock.
            if reason == RequeueReason::WentOffline {
                let gone = match &conv.assignee_id {
                    Some(a) => tx.user_status(a).await?,
                    None => None,
                };
                if !matches!(gone, Some((_, Status::Offline, Some(Reason::HeartbeatExpired)))) {
                    return Err(TransitionError::AssigneeReturned.into());
                }
            }
            (Command::Requeue(reason), None)
        }
        Act::VisitorMessage { visitor, name, body, client_id, files } => {
            let author =
                Author { kind: AuthorKind::Visitor, id: Some(visitor.to_string()), display_name: name.filter(|n| !n.is_empty()), avatar_url: None };
            (Command::VisitorMessage, Some(Said { author, body, client_id, files }))
        }
        Act::LeaveMessage { visitor, name, body, client_id } => {
            let author =
                Author { kind: AuthorKind::Visitor, id: Some(visitor.to_string()), display_name: name.filter(|n| !n.is_empty()), avatar_url: None };
            (Command::LeaveMessage, Some(Said { author, body, client_id, files: Vec::new() }))
        }
        Act::BotReply { body, unanswered } => {
            let author = Author { kind: AuthorKind::Bot, id: None, display_name: None, avatar_url: None };
            (Command::BotReply { unanswered }, Some(Said { author, body, client_id: None, files: Vec::new() }))
        }
        Act::Claim { agent } => (Command::Claim(agent_facts(tx, conv, &agent).await?.0), None),
        Act::ResolveByAgent { agent } => (Command::Resolve(Resolver::Agent(agent_facts(tx, conv, &agent).await?.0)), None),
        Act::Reopen { agent } => (Command::Reopen(agent_facts(tx, conv, &agent).await?.0), None),
        Act::Snooze { agent, until } => {
            (Command::Snooze { by: agent_facts(tx, conv, &agent).await?.0, snooze: crate::domain::chat::Snooze { until } }, None)
        }
        Act::Unsnooze { agent } => (Command::Unsnooze(agent_facts(tx, conv, &agent).await?.0), None),
        Act::Wake { due } => {
            // The timers found it due; make sure it still is, under the lock.
            if !conv.snooze.is_some_and(|z| z.until.is_some_and(|u| u <= due)) {
                return Err(TransitionError::NotSnoozed.into());
            }
            (Command::Wake, None)
        }
        Act::AgentMessage { agent, body, client_id, files } => {
            let (facts, user) = agent_facts(tx, conv, &agent).await?;
            (Command::AgentMessage(facts), Some(Said { author: Author::agent(&user), body, client_id, files }))
        }
        Act::Note { agent, body, client_id, files } => {
            let (facts, user) = agent_facts(tx, conv, &agent).await?;
            (Command::Note(facts), Some(Said { author: Author::agent(&user), body, client_id, files }))
        }
        Act::Transfer { by, to } => {
            let by = agent_facts(tx, conv, &by).await?.0;
            // An unknown target is "not available", not a 404 of the chat itself.
            let to = match agent_facts(tx, conv, &to).await {
                Ok((facts, _)) => facts,
                Err(StoreError::NotFound) => return Err(TransitionError::AgentNotAvailable.into()),
                Err(e) => return Err(e),
            };
            (Command::Transfer { by, to }, None)
        }
    })
}

/// The agent as `decide` needs them, plus their profile for message authorship.
async fn agent_facts<T: ChatTx + ?Sized>(tx: &mut T, conv: &Conversation, user: &UserId) -> Result<(AgentFacts, User)> {
    let (user, status, _) = tx.user_status(user).await?.ok_or(StoreError::NotFound)?;
    let membership = tx.membership(conv, &user.id).await?;
    let facts = AgentFacts {
        id: user.id.clone(),
        display_name: user.display_name(),
        has_access: membership.as_ref().is_some_and(|m| m.role.can_chat() && m.bot_access.reaches(&conv.bot_id)),
        is_admin: membership.as_ref().is_some_and(|m| m.role.is_admin()),
        status,
    };
    Ok((facts, user))
}

/// A user's presence as stored: the rules' state, the team they work in, when last seen.
#[derive(Debug, Clone)]
pub(crate) struct StoredPresence {
    pub state: crate::domain::presence::State,
    pub active_team: Option<crate::domain::ids::TeamId>,
    pub last_active_at: Option<Millis>,
}

/// The statements the presence write path needs, inside one open transaction.
#[async_trait]
pub(crate) trait PresenceTx: Send {
    /// The user's presence, locked until commit.
    async fn lock_presence(&mut self, user: &UserId) -> Result<Option<StoredPresence>>;
    /// The team's (heartbeat timeout in seconds, auto-away in minutes).
    async fn team_timers(&mut self, team: &crate::domain::ids::TeamId) -> Result<Option<(i64, i64)>>;
    /// The member's capacity (`None`: no limit) and how many live chats they hold in the team.
    async fn load(&mut self, team: &crate::domain::ids::TeamId, user: &UserId) -> Result<(Option<i64>, i64)>;
    /// Stores the new state; `changed_at` is set when the status, source or reason changed.
    async fn save_presence(&mut self, user: &UserId, p: &StoredPresence, changed_at: Option<Millis>) -> Result<()>;
}

/// Applies one presence signal through [`crate::domain::presence::step`] under the user's row
/// lock. The caller commits.
pub(crate) async fn presence<T: PresenceTx + ?Sized>(tx: &mut T, user: &UserId, input: PresenceInput, now: Millis) -> Result<PresenceChange> {
    use crate::domain::presence::{Signal, Timing, step};
    let stored = tx.lock_presence(user).await?.ok_or(StoreError::NotFound)?;
    let signal = match input {
        PresenceInput::SetManual(s) => Signal::SetManual(s),
        PresenceInput::Heartbeat => Signal::Heartbeat,
        PresenceInput::Activity => Signal::Activity,
        PresenceInput::Tick => {
            // The active team's timers; a user with no team keeps the defaults.
            let timers = match &stored.active_team {
                Some(team) => tx.team_timers(team).await?,
                None => None,
            };
            let (heartbeat, away) = timers.unwrap_or((60, 10));
            Signal::Tick(Timing { heartbeat_timeout: heartbeat * 1000, auto_away: away * 60_000 })
        }
        PresenceInput::Load => {
            let (capacity, active) = match &stored.active_team {
                Some(team) => tx.load(team, user).await?,
                None => (None, 0),
            };
            Signal::Load { active, capacity }
        }
    };
    let before = stored.state;
    let after = step(&before, signal, now);
    let changed = before.differs(&after);
    // Seen now: any sign of life, and every change of status.
    let seen = changed || matches!(input, PresenceInput::Heartbeat | PresenceInput::Activity | PresenceInput::SetManual(_));
    let last_active_at = if seen { Some(now) } else { stored.last_active_at };
    if after != before || seen {
        let next = StoredPresence { state: after, active_team: stored.active_team, last_active_at };
        tx.save_presence(user, &next, changed.then_some(now)).await?;
    }
    Ok(PresenceChange { before, after, last_active_at })
}

#[cfg(test)]
mod tests {
    //! The write path over an in-memory engine: it needs nothing of SQL.

    use super::*;
    use crate::domain::ids::{BotId, TeamId, VisitorId};
    use crate::domain::team::{BotAccess, Role};

    #[derive(Default)]
    struct Memory {
        conv: Option<Conversation>,
        agent: Option<User>,
        messages: Vec<Message>,
    }

    #[async_trait]
    impl ChatTx for Memory {
        async fn lock_conversation(&mut self, id: &ConversationId) -> Result<Option<(Conversation, EscalationFlags)>> {
            let flags = EscalationFlags { human_escalation: true, human_only: false, auto_escalate_unanswered: false, webhooks: true };
            Ok(self.conv.clone().filter(|c| c.id == *id).map(|c| (c, flags)))
        }
        async fn message_by_client_id(&mut self, _: &ConversationId, author: &str, client_id: &str) -> Result<Option<Message>> {
            Ok(self.messages.iter().find(|m| m.author.id.as_deref() == Some(author) && m.client_id.as_deref() == Some(client_id)).cloned())
        }
        async fn user_status(&mut self, id: &UserId) -> Result<Option<(User, Status, Option<Reason>)>> {
            Ok(self.agent.clone().filter(|u| u.id == *id).map(|u| (u, Status::Available, None)))
        }
        async fn membership(&mut self, c: &Conversation, user: &UserId) -> Result<Option<Membership>> {
            Ok(Some(Membership {
                team_id: c.team_id.clone(),
                user_id: user.clone(),
                role: Role::ChatAgent,
                bot_access: BotAccess::All,
                capacity: None,
            }))
        }
        async fn insert_message(&mut self, m: &Message) -> Result<()> {
            self.messages.push(m.clone());
            Ok(())
        }
        async fn take_uploads(&mut self, _: &ConversationId, _: &str, ids: &[AttachmentId], _: &MessageId) -> Result<Vec<Attachment>> {
            Err(StoreError::Invalid(format!("attachments: {} unknown", ids.len())))
        }
        async fn newer_conversation(&mut self, _: &Conversation) -> Result<bool> {
            Ok(false)
        }
        async fn save_conversation(&mut self, c: &Conversation, _: Option<&Message>) -> Result<()> {
            self.conv = Some(c.clone());
            Ok(())
        }
        async fn enqueue_webhooks(&mut self, _: &Conversation, _: Event, _: &str, _: &str, _: Millis) -> Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_chat_runs_its_lifecycle_on_any_engine_with_consecutive_seqs_and_idempotent_messages() {
        let visitor = VisitorId::new();
        let agent = User { id: UserId::new(), email: "a@b.test".into(), first_name: "Ann".into(), last_name: String::new(), avatar_version: None };
        let conv = Conversation {
            id: ConversationId::new(),
            team_id: TeamId::new(),
            bot_id: BotId::new(),
            visitor_id: visitor.clone(),
            state: ChatState::Bot,
            assignee_id: None,
            escalated_at: None,
            resolved_at: None,
            created_at: 0,
            last_activity_at: 0,
            last_seq: 0,
            snooze: None,
            claimed_at: None,
            first_response_at: None,
        };
        let id = conv.id.clone();
        let mut tx = Memory { conv: Some(conv), agent: Some(agent.clone()), messages: vec![] };
        let hello = |c: &str| Act::VisitorMessage {
            visitor: visitor.clone(),
            name: None,
            body: MessageBody::parse_text("hello").unwrap(),
            client_id: Some(ClientId::parse(c).unwrap()),
            files: Vec::new(),
        };

        apply(&mut tx, &id, hello("c1"), 1).await.unwrap();
        let again = apply(&mut tx, &id, hello("c1"), 2).await.unwrap();
        assert!(again.replayed, "a repeated client_id returns the first message");
        assert_eq!(tx.messages.len(), 1);
        let escalated = apply(&mut tx, &id, Act::EscalateByVisitor { visitor: visitor.clone() }, 3).await.unwrap();
        assert!(matches!(escalated.event, Some(crate::domain::chat::SystemEvent::Escalated(_))));
        let claimed = apply(&mut tx, &id, Act::Claim { agent: agent.id.clone() }, 4).await.unwrap();
        assert_eq!(claimed.conversation.state, ChatState::Active);
        assert_eq!(claimed.conversation.escalated_at, Some(3));
        let refused = apply(&mut tx, &id, Act::Claim { agent: agent.id.clone() }, 5).await;
        assert!(matches!(refused, Err(StoreError::Transition(_))), "a second claim is refused and writes nothing");
        let seqs: Vec<i64> = tx.messages.iter().map(|m| m.seq).collect();
        assert_eq!(seqs, vec![1, 2, 3]);
        assert_eq!(tx.conv.as_ref().unwrap().last_seq, 3);
    }
}
