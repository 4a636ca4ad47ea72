//! The live-chat state machine. [`decide`] is the one function that owns every change of a
//! conversation's state: the store loads the facts inside a transaction, asks `decide`, and writes
//! exactly what the [`Decision`] says. Nothing here does I/O, so every state × command pair is
//! covered by the table test at the bottom.

use super::ids::UserId;
use super::presence::Status;

/// A conversation's state; `Bot` is "mode bot", the others are the live-chat states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChatState {
    Bot,
    Pending,
    Active,
    Transferred,
    Resolved,
}

impl ChatState {
    pub const ALL: [ChatState; 5] = [Self::Bot, Self::Pending, Self::Active, Self::Transferred, Self::Resolved];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bot => "bot",
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Transferred => "transferred",
            Self::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Pending, active or transferred: a human is (about to be) in charge.
    pub fn is_live(self) -> bool {
        matches!(self, Self::Pending | Self::Active | Self::Transferred)
    }

    /// The widget's `mode`: `bot` until escalated, then `live`.
    pub fn mode(self, escalated: bool) -> &'static str {
        if self == Self::Bot || (self == Self::Resolved && !escalated) { "bot" } else { "live" }
    }
}

/// Why a chat was escalated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The visitor clicked "Talk to a person".
    VisitorRequest,
    /// The bot is in human-only mode and the visitor wrote.
    HumanOnly,
    /// The bot had no answer and auto-escalation is on.
    Unanswered,
    /// The visitor left a message while nobody could answer (the team replies later).
    LeftMessage,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VisitorRequest => "visitor_request",
            Self::HumanOnly => "human_only",
            Self::Unanswered => "unanswered",
            Self::LeftMessage => "left_message",
        }
    }
}

/// What `decide` needs to know about an agent, read in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentFacts {
    pub id: UserId,
    pub display_name: String,
    /// Is a chat-capable member of the chat's team with access to its bot.
    pub has_access: bool,
    /// Owner or admin of the chat's team.
    pub is_admin: bool,
    pub status: Status,
}

/// The conversation as `decide` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatFacts {
    pub state: ChatState,
    pub assignee: Option<(UserId, String)>,
    pub human_escalation: bool,
    pub human_only: bool,
    pub auto_escalate_unanswered: bool,
    /// No newer conversation of the visitor exists (only the newest can be reopened).
    pub newest: bool,
    /// The assignee put the chat aside (see [`Snooze`]).
    pub snoozed: bool,
}

/// An active chat put aside by its agent: out of the inbox until `until` (milliseconds), or
/// with `until: None` until the visitor writes. The visitor writing always wakes it, as does
/// anything that hands it on or ends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snooze {
    pub until: Option<i64>,
}

/// What a command does to a chat's snooze.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnoozeChange {
    Keep,
    Set(Snooze),
    Clear,
}

/// Everything that can happen to a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Escalate(Trigger),
    VisitorMessage,
    /// A message left while nobody could answer: stored, and the chat goes to the queue (the
    /// bot does not answer it).
    LeaveMessage,
    /// The responder's answer; `unanswered` when it had nothing better than the fallback line.
    BotReply {
        unanswered: bool,
    },
    /// On a transferred chat, a claim by the new assignee is their "accept".
    Claim(AgentFacts),
    AgentMessage(AgentFacts),
    Note(AgentFacts),
    Transfer {
        by: AgentFacts,
        to: AgentFacts,
    },
    Resolve(Resolver),
    /// An agent takes a resolved chat up again: it is theirs and active.
    Reopen(AgentFacts),
    /// The assignee can no longer handle the chat; it goes back to the queue.
    Requeue(RequeueReason),
    /// The assignee (or an admin) puts an active chat aside.
    Snooze {
        by: AgentFacts,
        snooze: Snooze,
    },
    /// Back before its time, by hand.
    Unsnooze(AgentFacts),
    /// The snooze's time came (the timers).
    Wake,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequeueReason {
    /// The assignee was removed from the team.
    LeftTeam,
    /// The assignee went offline and stayed away past the grace period.
    WentOffline,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolver {
    Agent(AgentFacts),
    Visitor,
}

/// A refused command. Each maps to one API error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("human escalation is turned off for this bot")]
    EscalationDisabled,
    #[error("another agent has already claimed this chat")]
    AlreadyClaimed,
    #[error("the agent is not available for this chat")]
    AgentNotAvailable,
    #[error("claim the chat before replying")]
    ClaimFirst,
    #[error("only the assigned agent or an admin can do this")]
    NotAssignee,
    #[error("the chat is resolved")]
    ChatResolved,
    #[error("a person is already handling this chat")]
    AlreadyEscalated,
    #[error("the chat is already with that agent")]
    SameAgent,
    /// The caller cannot see this chat (no access, or it is still a bot conversation): the edge
    /// answers 404 so that nothing leaks.
    #[error("not found")]
    NotVisible,
    /// A bot reply or automatic escalation that lost a race with a human taking over; dropped.
    #[error("the bot no longer answers this chat")]
    BotSilenced,
    /// An orphan requeue that lost a race with the assignee coming back; dropped.
    #[error("the assignee is back")]
    AssigneeReturned,
    #[error("only a resolved chat can be reopened")]
    NotResolved,
    #[error("the visitor has started a newer chat; continue there")]
    NewerConversation,
    #[error("the chat is not snoozed")]
    NotSnoozed,
}

impl TransitionError {
    pub fn code(self) -> &'static str {
        match self {
            Self::EscalationDisabled => "escalation_disabled",
            Self::AlreadyClaimed => "already_claimed",
            Self::AgentNotAvailable => "agent_not_available",
            Self::ClaimFirst => "claim_first",
            Self::NotAssignee => "not_assignee",
            Self::ChatResolved => "chat_resolved",
            Self::AlreadyEscalated => "already_escalated",
            Self::SameAgent => "same_agent",
            Self::NotVisible => "not_found",
            Self::BotSilenced => "bot_silenced",
            Self::AssigneeReturned => "assignee_returned",
            Self::NotResolved => "not_resolved",
            Self::NewerConversation => "newer_conversation",
            Self::NotSnoozed => "not_snoozed",
        }
    }
}

/// A state change worth a line in the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SystemEvent {
    Escalated(Trigger),
    Claimed { agent: String },
    Accepted { agent: String },
    Transferred { from: String, to: String },
    Resolved { by: Option<String> },
    Requeued { agent: String, reason: RequeueReason },
    Reopened { agent: String },
}

impl SystemEvent {
    /// The system message stored in the history.
    pub fn text(&self) -> String {
        match self {
            Self::Escalated(Trigger::VisitorRequest) => "The visitor asked for a person".into(),
            Self::Escalated(Trigger::HumanOnly) => "Chat handed to the team".into(),
            Self::Escalated(Trigger::Unanswered) => "The bot could not answer; chat handed to the team".into(),
            Self::Escalated(Trigger::LeftMessage) => "The visitor left a message while nobody was available".into(),
            Self::Claimed { agent } => format!("{agent} claimed the chat"),
            Self::Accepted { agent } => format!("{agent} joined the chat"),
            Self::Transferred { from, to } => format!("Transferred from {from} to {to}"),
            Self::Resolved { by: Some(agent) } => format!("{agent} resolved the chat"),
            Self::Resolved { by: None } => "The visitor ended the chat".into(),
            Self::Requeued { agent, reason: RequeueReason::LeftTeam } => format!("{agent} left the team; the chat is back in the queue"),
            Self::Requeued { agent, reason: RequeueReason::WentOffline } => format!("{agent} went offline; the chat is back in the queue"),
            Self::Reopened { agent } => format!("{agent} reopened the chat"),
        }
    }

    /// Who and what the line is about, so that each audience can word it its own way (the
    /// widget speaks to the visitor: "Alice joined" where agents read "Alice claimed the chat").
    pub fn detail(&self) -> EventDetail {
        let named = |agent: &str| EventDetail { agent: Some(agent.to_string()), ..EventDetail::default() };
        match self {
            Self::Escalated(t) => EventDetail { trigger: Some(t.as_str().to_string()), ..EventDetail::default() },
            Self::Claimed { agent } | Self::Accepted { agent } | Self::Requeued { agent, .. } | Self::Reopened { agent } => named(agent),
            Self::Transferred { from, to } => EventDetail { from: Some(from.clone()), agent: Some(to.clone()), ..EventDetail::default() },
            Self::Resolved { by: Some(agent) } => named(agent),
            Self::Resolved { by: None } => EventDetail { by_visitor: Some(true), ..EventDetail::default() },
        }
    }

    /// The machine-readable kind, carried beside the text.
    pub fn kind(&self) -> SystemKind {
        match self {
            Self::Escalated(_) => SystemKind::Escalated,
            Self::Claimed { .. } => SystemKind::Claimed,
            Self::Accepted { .. } => SystemKind::Accepted,
            Self::Transferred { .. } => SystemKind::Transferred,
            Self::Resolved { .. } => SystemKind::Resolved,
            Self::Requeued { .. } => SystemKind::Requeued,
            Self::Reopened { .. } => SystemKind::Reopened,
        }
    }
}

/// What a system line is about: the agent it names (the one who joined, took over, resolved,
/// or was requeued away from), the one a transfer came from, why a chat was escalated, and
/// whether the visitor ended it. Stored as JSON beside the line.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct EventDetail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// `visitor_request`, `human_only`, `unanswered` or `left_message`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_visitor: Option<bool>,
}

/// The kind of a [`SystemEvent`], as stored beside a system message and shown to clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SystemKind {
    Escalated,
    Claimed,
    Accepted,
    Transferred,
    Resolved,
    Requeued,
    Reopened,
}

impl SystemKind {
    pub const ALL: [Self; 7] = [Self::Escalated, Self::Claimed, Self::Accepted, Self::Transferred, Self::Resolved, Self::Requeued, Self::Reopened];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Escalated => "escalated",
            Self::Claimed => "claimed",
            Self::Accepted => "accepted",
            Self::Transferred => "transferred",
            Self::Resolved => "resolved",
            Self::Requeued => "requeued",
            Self::Reopened => "reopened",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Whether the command's own message is stored, and seen by whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Post {
    Nothing,
    Public,
    Internal,
}

/// What to write. `state`/`assignee` are the values after the command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub state: ChatState,
    pub assignee: Option<UserId>,
    pub post: Post,
    /// Recorded as a system message beside the posted one.
    pub event: Option<SystemEvent>,
    /// The event is written before the posted message (an agent "joins", then speaks).
    pub event_first: bool,
    /// The bot should answer the visitor's message.
    pub bot_replies: bool,
    pub snooze: SnoozeChange,
}

impl Decision {
    fn keep(chat: &ChatFacts, post: Post) -> Self {
        Self {
            state: chat.state,
            assignee: chat.assignee.as_ref().map(|a| a.0.clone()),
            post,
            event: None,
            event_first: false,
            bot_replies: false,
            snooze: SnoozeChange::Keep,
        }
    }

    fn to(chat: &ChatFacts, state: ChatState, event: SystemEvent) -> Self {
        Self { state, event: Some(event), ..Self::keep(chat, Post::Nothing) }
    }

    pub fn changes_state(&self, chat: &ChatFacts) -> bool {
        self.state != chat.state || self.assignee.as_ref() != chat.assignee.as_ref().map(|a| &a.0)
    }
}

/// The transition function: the lifecycle table of PRODUCT.md.
pub fn decide(chat: &ChatFacts, cmd: &Command) -> Result<Decision, TransitionError> {
    let mut d = transition(chat, cmd)?;
    // A snoozed chat wakes when the visitor writes, and whenever it is handed on or ended.
    let wakes = matches!(
        cmd,
        Command::VisitorMessage
            | Command::LeaveMessage
            | Command::AgentMessage(_)
            | Command::Transfer { .. }
            | Command::Resolve(_)
            | Command::Requeue(_)
    );
    if chat.snoozed && d.snooze == SnoozeChange::Keep && (wakes || d.state != chat.state) {
        d.snooze = SnoozeChange::Clear;
    }
    Ok(d)
}

fn transition(chat: &ChatFacts, cmd: &Command) -> Result<Decision, TransitionError> {
    use ChatState::*;
    use TransitionError as E;
    let is_assignee = |a: &AgentFacts| chat.assignee.as_ref().is_some_and(|(id, _)| *id == a.id);
    let assignee_name = || chat.assignee.as_ref().map(|a| a.1.clone()).unwrap_or_default();

    // Agents only see live (or resolved, escalated) chats of bots they can access.
    let agent = match cmd {
        Command::Claim(a)
        | Command::AgentMessage(a)
        | Command::Note(a)
        | Command::Transfer { by: a, .. }
        | Command::Resolve(Resolver::Agent(a))
        | Command::Reopen(a)
        | Command::Snooze { by: a, .. }
        | Command::Unsnooze(a) => Some(a),
        _ => None,
    };
    if let Some(a) = agent {
        if !a.has_access || chat.state == Bot {
            return Err(E::NotVisible);
        }
        if chat.state == Resolved && !matches!(cmd, Command::Reopen(_)) {
            return Err(E::ChatResolved);
        }
    }

    match (cmd, chat.state) {
        (Command::Escalate(trigger), Bot) => {
            if matches!(trigger, Trigger::VisitorRequest | Trigger::LeftMessage) && !(chat.human_escalation || chat.human_only) {
                return Err(E::EscalationDisabled);
            }
            Ok(Decision { assignee: None, ..Decision::to(chat, Pending, SystemEvent::Escalated(*trigger)) })
        }
        (Command::Escalate(Trigger::VisitorRequest), Pending) => Ok(Decision::keep(chat, Post::Nothing)),
        (Command::Escalate(Trigger::LeftMessage), Pending) => Ok(Decision::keep(chat, Post::Nothing)),
        (Command::Escalate(Trigger::VisitorRequest | Trigger::LeftMessage), Active | Transferred) => Err(E::AlreadyEscalated),
        (Command::Escalate(_), Resolved) => Err(E::ChatResolved),
        (Command::Escalate(_), _) => Err(E::BotSilenced),

        (Command::LeaveMessage, Bot) => {
            if !(chat.human_escalation || chat.human_only) {
                return Err(E::EscalationDisabled);
            }
            Ok(Decision { post: Post::Public, ..Decision::to(chat, Pending, SystemEvent::Escalated(Trigger::LeftMessage)) })
        }
        // Already with the team: the message is simply added.
        (Command::LeaveMessage, Pending | Active | Transferred) => Ok(Decision::keep(chat, Post::Public)),
        (Command::LeaveMessage | Command::VisitorMessage, Resolved) => Err(E::ChatResolved),
        (Command::VisitorMessage, Bot) if chat.human_only => {
            Ok(Decision { post: Post::Public, ..Decision::to(chat, Pending, SystemEvent::Escalated(Trigger::HumanOnly)) })
        }
        (Command::VisitorMessage, Bot) => Ok(Decision { bot_replies: true, ..Decision::keep(chat, Post::Public) }),
        (Command::VisitorMessage, _) => Ok(Decision::keep(chat, Post::Public)),

        (Command::BotReply { unanswered }, Bot) => {
            if *unanswered && chat.auto_escalate_unanswered {
                Ok(Decision { post: Post::Public, ..Decision::to(chat, Pending, SystemEvent::Escalated(Trigger::Unanswered)) })
            } else {
                Ok(Decision::keep(chat, Post::Public))
            }
        }
        (Command::BotReply { .. }, _) => Err(E::BotSilenced),

        (Command::Claim(a), Pending) => {
            if !a.status.may_claim() {
                return Err(E::AgentNotAvailable);
            }
            Ok(Decision { assignee: Some(a.id.clone()), ..Decision::to(chat, Active, SystemEvent::Claimed { agent: a.display_name.clone() }) })
        }
        (Command::Claim(a), Transferred) if is_assignee(a) => Ok(Decision::to(chat, Active, SystemEvent::Accepted { agent: a.display_name.clone() })),
        (Command::Claim(_), _) => Err(E::AlreadyClaimed),

        (Command::AgentMessage(_), Pending) => Err(E::ClaimFirst),
        (Command::AgentMessage(a), Active) if is_assignee(a) => Ok(Decision::keep(chat, Post::Public)),
        (Command::AgentMessage(a), Transferred) if is_assignee(a) => Ok(Decision {
            post: Post::Public,
            event_first: true,
            ..Decision::to(chat, Active, SystemEvent::Accepted { agent: a.display_name.clone() })
        }),
        (Command::AgentMessage(_), _) => Err(E::NotAssignee),

        (Command::Note(_), _) => Ok(Decision::keep(chat, Post::Internal)),

        (Command::Transfer { .. }, Pending) => Err(E::ClaimFirst),
        (Command::Transfer { by, to }, _) => {
            if !(is_assignee(by) || by.is_admin) {
                return Err(E::NotAssignee);
            }
            if is_assignee(to) {
                return Err(E::SameAgent);
            }
            if !to.has_access || !to.status.may_receive_transfer() {
                return Err(E::AgentNotAvailable);
            }
            let event = SystemEvent::Transferred { from: assignee_name(), to: to.display_name.clone() };
            Ok(Decision { assignee: Some(to.id.clone()), ..Decision::to(chat, Transferred, event) })
        }

        (Command::Resolve(Resolver::Agent(a)), st) => {
            if st != Pending && !(is_assignee(a) || a.is_admin) {
                return Err(E::NotAssignee);
            }
            Ok(Decision::to(chat, Resolved, SystemEvent::Resolved { by: Some(a.display_name.clone()) }))
        }
        (Command::Reopen(a), Resolved) => {
            if !chat.newest {
                return Err(E::NewerConversation);
            }
            if !a.status.may_claim() {
                return Err(E::AgentNotAvailable);
            }
            Ok(Decision { assignee: Some(a.id.clone()), ..Decision::to(chat, Active, SystemEvent::Reopened { agent: a.display_name.clone() }) })
        }
        (Command::Reopen(_), _) => Err(E::NotResolved),
        (Command::Requeue(reason), Active | Transferred) => {
            Ok(Decision { assignee: None, ..Decision::to(chat, Pending, SystemEvent::Requeued { agent: assignee_name(), reason: *reason }) })
        }
        (Command::Requeue(_), Resolved) => Err(E::ChatResolved),
        (Command::Requeue(_), _) => Err(E::NotAssignee),

        (Command::Snooze { .. } | Command::Unsnooze(_), Pending) => Err(E::ClaimFirst),
        (Command::Snooze { by, snooze }, Active | Transferred) => {
            if !(is_assignee(by) || by.is_admin) {
                return Err(E::NotAssignee);
            }
            Ok(Decision { snooze: SnoozeChange::Set(*snooze), ..Decision::keep(chat, Post::Nothing) })
        }
        (Command::Unsnooze(by), Active | Transferred) => {
            if !(is_assignee(by) || by.is_admin) {
                return Err(E::NotAssignee);
            }
            if !chat.snoozed {
                return Err(E::NotSnoozed);
            }
            Ok(Decision { snooze: SnoozeChange::Clear, ..Decision::keep(chat, Post::Nothing) })
        }
        (Command::Snooze { .. } | Command::Unsnooze(_), _) => Err(E::NotVisible),
        (Command::Wake, Active | Transferred) if chat.snoozed => Ok(Decision { snooze: SnoozeChange::Clear, ..Decision::keep(chat, Post::Nothing) }),
        (Command::Wake, _) => Err(E::NotSnoozed),

        (Command::Resolve(Resolver::Visitor), Resolved) => Err(E::ChatResolved),
        // The visitor may also end a conversation that never left the bot.
        (Command::Resolve(Resolver::Visitor), _) => Ok(Decision::to(chat, Resolved, SystemEvent::Resolved { by: None })),
    }
}

#[cfg(test)]
mod tests {
    use super::ChatState::*;
    use super::TransitionError as E;
    use super::*;

    fn agent(name: &str, status: Status, access: bool, admin: bool) -> AgentFacts {
        AgentFacts {
            id: UserId::parse(&format!("00000000-0000-7000-8000-{:012}", name.len() * 7 + name.as_bytes()[0] as usize)).unwrap(),
            display_name: name.into(),
            has_access: access,
            is_admin: admin,
            status,
        }
    }

    fn alice() -> AgentFacts {
        agent("Alice", Status::Available, true, false)
    }
    fn bob() -> AgentFacts {
        agent("Bob", Status::Available, true, false)
    }
    fn carol() -> AgentFacts {
        agent("Carol", Status::Available, true, false)
    }
    fn admin() -> AgentFacts {
        agent("Root", Status::Offline, true, true)
    }
    fn outsider() -> AgentFacts {
        agent("Eve", Status::Available, false, true)
    }
    fn with(a: AgentFacts, status: Status) -> AgentFacts {
        AgentFacts { status, ..a }
    }

    /// Alice holds every active chat; Bob holds every transferred one (from Alice).
    fn chat(state: ChatState) -> ChatFacts {
        let assignee = match state {
            Active => Some((alice().id, "Alice".to_string())),
            Transferred => Some((bob().id, "Bob".to_string())),
            _ => None,
        };
        ChatFacts { state, assignee, human_escalation: true, human_only: false, auto_escalate_unanswered: true, newest: true, snoozed: false }
    }

    type Expect = Result<(ChatState, Post), E>;

    fn ok(s: ChatState) -> Expect {
        Ok((s, Post::Nothing))
    }
    fn posted(s: ChatState, p: Post) -> Expect {
        Ok((s, p))
    }

    /// A snoozed chat wakes when the visitor writes or it is handed on or ended, not for a note;
    /// by hand or by the timer it clears; snoozing again replaces the time.
    #[test]
    fn a_snoozed_chat_wakes_on_what_needs_its_agent() {
        let snoozed = |state| ChatFacts { snoozed: true, ..chat(state) };
        let change = |state, cmd: Command| decide(&snoozed(state), &cmd).map(|d| d.snooze);
        use SnoozeChange::*;
        assert_eq!(change(Active, Command::VisitorMessage), Ok(Clear));
        assert_eq!(change(Active, Command::LeaveMessage), Ok(Clear));
        assert_eq!(change(Active, Command::AgentMessage(alice())), Ok(Clear));
        assert_eq!(change(Transferred, Command::AgentMessage(bob())), Ok(Clear), "accepting by writing");
        assert_eq!(change(Active, Command::Transfer { by: alice(), to: carol() }), Ok(Clear));
        assert_eq!(change(Active, Command::Resolve(Resolver::Agent(alice()))), Ok(Clear));
        assert_eq!(change(Active, Command::Resolve(Resolver::Visitor)), Ok(Clear));
        assert_eq!(change(Active, Command::Requeue(RequeueReason::WentOffline)), Ok(Clear));
        assert_eq!(change(Active, Command::Note(carol())), Ok(Keep), "a note leaves it asleep");
        assert_eq!(change(Active, Command::Unsnooze(alice())), Ok(Clear));
        assert_eq!(change(Active, Command::Unsnooze(admin())), Ok(Clear));
        assert_eq!(change(Active, Command::Unsnooze(carol())), Err(E::NotAssignee));
        assert_eq!(change(Active, Command::Wake), Ok(Clear));
        let later = Snooze { until: Some(42) };
        assert_eq!(change(Active, Command::Snooze { by: alice(), snooze: later }), Ok(Set(later)));
        // Nothing here changes the chat's state or owner.
        for cmd in [Command::Wake, Command::Unsnooze(alice()), Command::Snooze { by: alice(), snooze: later }] {
            assert!(!decide(&snoozed(Active), &cmd).unwrap().changes_state(&snoozed(Active)));
        }
    }

    /// Every command against every state: [bot, pending, active, transferred, resolved].
    #[test]
    fn every_state_and_command_follows_the_lifecycle_table() {
        use Post::{Internal, Public};
        let visitor_end = Command::Resolve(Resolver::Visitor);
        let rows: Vec<(&str, Command, [Expect; 5])> = vec![
            (
                "visitor escalates",
                Command::Escalate(Trigger::VisitorRequest),
                [ok(Pending), ok(Pending), Err(E::AlreadyEscalated), Err(E::AlreadyEscalated), Err(E::ChatResolved)],
            ),
            (
                "human-only escalation",
                Command::Escalate(Trigger::HumanOnly),
                [ok(Pending), Err(E::BotSilenced), Err(E::BotSilenced), Err(E::BotSilenced), Err(E::ChatResolved)],
            ),
            (
                "unanswered escalation",
                Command::Escalate(Trigger::Unanswered),
                [ok(Pending), Err(E::BotSilenced), Err(E::BotSilenced), Err(E::BotSilenced), Err(E::ChatResolved)],
            ),
            (
                "visitor leaves a message",
                Command::LeaveMessage,
                [posted(Pending, Public), posted(Pending, Public), posted(Active, Public), posted(Transferred, Public), Err(E::ChatResolved)],
            ),
            (
                "left-message escalation",
                Command::Escalate(Trigger::LeftMessage),
                [ok(Pending), ok(Pending), Err(E::AlreadyEscalated), Err(E::AlreadyEscalated), Err(E::ChatResolved)],
            ),
            (
                "visitor writes",
                Command::VisitorMessage,
                [posted(Bot, Public), posted(Pending, Public), posted(Active, Public), posted(Transferred, Public), Err(E::ChatResolved)],
            ),
            (
                "bot answers",
                Command::BotReply { unanswered: false },
                [posted(Bot, Public), Err(E::BotSilenced), Err(E::BotSilenced), Err(E::BotSilenced), Err(E::BotSilenced)],
            ),
            (
                "bot has no answer",
                Command::BotReply { unanswered: true },
                [posted(Pending, Public), Err(E::BotSilenced), Err(E::BotSilenced), Err(E::BotSilenced), Err(E::BotSilenced)],
            ),
            (
                "available agent claims",
                Command::Claim(carol()),
                [Err(E::NotVisible), ok(Active), Err(E::AlreadyClaimed), Err(E::AlreadyClaimed), Err(E::ChatResolved)],
            ),
            (
                "busy agent claims",
                Command::Claim(with(carol(), Status::Busy)),
                [Err(E::NotVisible), ok(Active), Err(E::AlreadyClaimed), Err(E::AlreadyClaimed), Err(E::ChatResolved)],
            ),
            (
                "away agent claims",
                Command::Claim(with(carol(), Status::Away)),
                [Err(E::NotVisible), Err(E::AgentNotAvailable), Err(E::AlreadyClaimed), Err(E::AlreadyClaimed), Err(E::ChatResolved)],
            ),
            (
                "offline agent claims",
                Command::Claim(with(carol(), Status::Offline)),
                [Err(E::NotVisible), Err(E::AgentNotAvailable), Err(E::AlreadyClaimed), Err(E::AlreadyClaimed), Err(E::ChatResolved)],
            ),
            (
                "transfer target accepts",
                Command::Claim(bob()),
                [Err(E::NotVisible), ok(Active), Err(E::AlreadyClaimed), ok(Active), Err(E::ChatResolved)],
            ),
            (
                "agent without access claims",
                Command::Claim(outsider()),
                [Err(E::NotVisible), Err(E::NotVisible), Err(E::NotVisible), Err(E::NotVisible), Err(E::NotVisible)],
            ),
            (
                "assignee-of-active writes",
                Command::AgentMessage(alice()),
                [Err(E::NotVisible), Err(E::ClaimFirst), posted(Active, Public), Err(E::NotAssignee), Err(E::ChatResolved)],
            ),
            (
                "transfer target writes",
                Command::AgentMessage(bob()),
                [Err(E::NotVisible), Err(E::ClaimFirst), Err(E::NotAssignee), posted(Active, Public), Err(E::ChatResolved)],
            ),
            (
                "bystander writes",
                Command::AgentMessage(carol()),
                [Err(E::NotVisible), Err(E::ClaimFirst), Err(E::NotAssignee), Err(E::NotAssignee), Err(E::ChatResolved)],
            ),
            (
                "admin writes",
                Command::AgentMessage(admin()),
                [Err(E::NotVisible), Err(E::ClaimFirst), Err(E::NotAssignee), Err(E::NotAssignee), Err(E::ChatResolved)],
            ),
            (
                "bystander adds a note",
                Command::Note(carol()),
                [Err(E::NotVisible), posted(Pending, Internal), posted(Active, Internal), posted(Transferred, Internal), Err(E::ChatResolved)],
            ),
            (
                "outsider adds a note",
                Command::Note(outsider()),
                [Err(E::NotVisible), Err(E::NotVisible), Err(E::NotVisible), Err(E::NotVisible), Err(E::NotVisible)],
            ),
            (
                "assignee-of-active snoozes",
                Command::Snooze { by: alice(), snooze: Snooze { until: Some(9) } },
                [Err(E::NotVisible), Err(E::ClaimFirst), ok(Active), Err(E::NotAssignee), Err(E::ChatResolved)],
            ),
            (
                "transfer target snoozes",
                Command::Snooze { by: bob(), snooze: Snooze { until: None } },
                [Err(E::NotVisible), Err(E::ClaimFirst), Err(E::NotAssignee), ok(Transferred), Err(E::ChatResolved)],
            ),
            (
                "admin snoozes",
                Command::Snooze { by: admin(), snooze: Snooze { until: None } },
                [Err(E::NotVisible), Err(E::ClaimFirst), ok(Active), ok(Transferred), Err(E::ChatResolved)],
            ),
            (
                "outsider snoozes",
                Command::Snooze { by: outsider(), snooze: Snooze { until: None } },
                [Err(E::NotVisible), Err(E::NotVisible), Err(E::NotVisible), Err(E::NotVisible), Err(E::NotVisible)],
            ),
            (
                "unsnooze what is not snoozed",
                Command::Unsnooze(alice()),
                [Err(E::NotVisible), Err(E::ClaimFirst), Err(E::NotSnoozed), Err(E::NotAssignee), Err(E::ChatResolved)],
            ),
            (
                "timer wakes what is not snoozed",
                Command::Wake,
                [Err(E::NotSnoozed), Err(E::NotSnoozed), Err(E::NotSnoozed), Err(E::NotSnoozed), Err(E::NotSnoozed)],
            ),
            (
                "assignee transfers to Carol",
                Command::Transfer { by: alice(), to: carol() },
                [Err(E::NotVisible), Err(E::ClaimFirst), ok(Transferred), Err(E::NotAssignee), Err(E::ChatResolved)],
            ),
            (
                "new assignee transfers on",
                Command::Transfer { by: bob(), to: carol() },
                [Err(E::NotVisible), Err(E::ClaimFirst), Err(E::NotAssignee), ok(Transferred), Err(E::ChatResolved)],
            ),
            (
                "admin transfers to Carol",
                Command::Transfer { by: admin(), to: carol() },
                [Err(E::NotVisible), Err(E::ClaimFirst), ok(Transferred), ok(Transferred), Err(E::ChatResolved)],
            ),
            (
                "bystander transfers",
                Command::Transfer { by: carol(), to: bob() },
                [Err(E::NotVisible), Err(E::ClaimFirst), Err(E::NotAssignee), Err(E::NotAssignee), Err(E::ChatResolved)],
            ),
            (
                "transfer to a busy agent",
                Command::Transfer { by: admin(), to: with(carol(), Status::Busy) },
                [Err(E::NotVisible), Err(E::ClaimFirst), Err(E::AgentNotAvailable), Err(E::AgentNotAvailable), Err(E::ChatResolved)],
            ),
            (
                "transfer to an away agent",
                Command::Transfer { by: admin(), to: with(carol(), Status::Away) },
                [Err(E::NotVisible), Err(E::ClaimFirst), Err(E::AgentNotAvailable), Err(E::AgentNotAvailable), Err(E::ChatResolved)],
            ),
            (
                "transfer to an agent without access",
                Command::Transfer { by: admin(), to: outsider() },
                [Err(E::NotVisible), Err(E::ClaimFirst), Err(E::AgentNotAvailable), Err(E::AgentNotAvailable), Err(E::ChatResolved)],
            ),
            (
                "transfer to the assignee",
                Command::Transfer { by: admin(), to: bob() },
                [Err(E::NotVisible), Err(E::ClaimFirst), ok(Transferred), Err(E::SameAgent), Err(E::ChatResolved)],
            ),
            (
                "assignee-of-active resolves",
                Command::Resolve(Resolver::Agent(alice())),
                [Err(E::NotVisible), ok(Resolved), ok(Resolved), Err(E::NotAssignee), Err(E::ChatResolved)],
            ),
            (
                "bystander resolves",
                Command::Resolve(Resolver::Agent(carol())),
                [Err(E::NotVisible), ok(Resolved), Err(E::NotAssignee), Err(E::NotAssignee), Err(E::ChatResolved)],
            ),
            (
                "admin resolves",
                Command::Resolve(Resolver::Agent(admin())),
                [Err(E::NotVisible), ok(Resolved), ok(Resolved), ok(Resolved), Err(E::ChatResolved)],
            ),
            (
                "assignee leaves the team",
                Command::Requeue(RequeueReason::LeftTeam),
                [Err(E::NotAssignee), Err(E::NotAssignee), ok(Pending), ok(Pending), Err(E::ChatResolved)],
            ),
            (
                "assignee stays offline",
                Command::Requeue(RequeueReason::WentOffline),
                [Err(E::NotAssignee), Err(E::NotAssignee), ok(Pending), ok(Pending), Err(E::ChatResolved)],
            ),
            (
                "available agent reopens",
                Command::Reopen(carol()),
                [Err(E::NotVisible), Err(E::NotResolved), Err(E::NotResolved), Err(E::NotResolved), ok(Active)],
            ),
            (
                "away agent reopens",
                Command::Reopen(with(carol(), Status::Away)),
                [Err(E::NotVisible), Err(E::NotResolved), Err(E::NotResolved), Err(E::NotResolved), Err(E::AgentNotAvailable)],
            ),
            (
                "outsider reopens",
                Command::Reopen(outsider()),
                [Err(E::NotVisible), Err(E::NotVisible), Err(E::NotVisible), Err(E::NotVisible), Err(E::NotVisible)],
            ),
            ("visitor ends the chat", visitor_end, [ok(Resolved), ok(Resolved), ok(Resolved), ok(Resolved), Err(E::ChatResolved)]),
        ];
        for (name, cmd, expected) in rows {
            for (state, want) in ChatState::ALL.into_iter().zip(expected) {
                let got = decide(&chat(state), &cmd).map(|d| (d.state, d.post));
                assert_eq!(got, want, "{name} in state {}", state.as_str());
            }
        }
    }

    #[test]
    fn visitor_escalation_needs_the_button_or_human_only_mode() {
        let off = ChatFacts { human_escalation: false, ..chat(Bot) };
        assert_eq!(decide(&off, &Command::Escalate(Trigger::VisitorRequest)), Err(E::EscalationDisabled));
        let human_only = ChatFacts { human_only: true, ..off };
        assert_eq!(decide(&human_only, &Command::Escalate(Trigger::VisitorRequest)).unwrap().state, Pending);
    }

    #[test]
    fn a_left_message_needs_escalation_and_never_gets_a_bot_reply() {
        let off = ChatFacts { human_escalation: false, ..chat(Bot) };
        assert_eq!(decide(&off, &Command::LeaveMessage), Err(E::EscalationDisabled));
        let d = decide(&chat(Bot), &Command::LeaveMessage).unwrap();
        assert_eq!((d.state, d.post, d.bot_replies, d.event_first), (Pending, Post::Public, false, false));
        assert_eq!(d.event.unwrap().detail().trigger.as_deref(), Some("left_message"));
    }

    #[test]
    fn only_the_visitors_newest_chat_is_reopened_and_it_becomes_the_reopeners() {
        let older = ChatFacts { newest: false, ..chat(Resolved) };
        assert_eq!(decide(&older, &Command::Reopen(carol())), Err(E::NewerConversation));
        let d = decide(&chat(Resolved), &Command::Reopen(carol())).unwrap();
        assert_eq!((d.state, d.assignee), (Active, Some(carol().id)));
        assert_eq!(d.event.unwrap().text(), "Carol reopened the chat");
    }

    #[test]
    fn system_lines_carry_who_they_are_about() {
        let d = decide(&chat(Active), &Command::Transfer { by: alice(), to: carol() }).unwrap().event.unwrap().detail();
        assert_eq!((d.from.as_deref(), d.agent.as_deref()), (Some("Alice"), Some("Carol")));
        let d = decide(&chat(Pending), &Command::Claim(carol())).unwrap().event.unwrap().detail();
        assert_eq!(d.agent.as_deref(), Some("Carol"));
        let d = decide(&chat(Active), &Command::Resolve(Resolver::Visitor)).unwrap().event.unwrap().detail();
        assert_eq!(d.by_visitor, Some(true));
    }

    #[test]
    fn human_only_sends_the_first_visitor_message_to_pending_without_a_bot_reply() {
        let facts = ChatFacts { human_only: true, ..chat(Bot) };
        let d = decide(&facts, &Command::VisitorMessage).unwrap();
        assert_eq!((d.state, d.post, d.bot_replies), (Pending, Post::Public, false));
        assert_eq!(d.event, Some(SystemEvent::Escalated(Trigger::HumanOnly)));
        assert!(decide(&chat(Bot), &Command::VisitorMessage).unwrap().bot_replies);
    }

    #[test]
    fn an_unanswered_question_escalates_only_when_the_bot_is_told_to() {
        let facts = ChatFacts { auto_escalate_unanswered: false, ..chat(Bot) };
        assert_eq!(decide(&facts, &Command::BotReply { unanswered: true }).unwrap().state, Bot);
    }

    #[test]
    fn transitions_set_the_assignee_and_record_who_did_what() {
        let d = decide(&chat(Pending), &Command::Claim(carol())).unwrap();
        assert_eq!(d.assignee, Some(carol().id));
        assert_eq!(d.event.unwrap().text(), "Carol claimed the chat");

        let d = decide(&chat(Active), &Command::Transfer { by: alice(), to: carol() }).unwrap();
        assert_eq!(d.assignee, Some(carol().id));
        assert_eq!(d.event.unwrap().text(), "Transferred from Alice to Carol");

        let d = decide(&chat(Transferred), &Command::AgentMessage(bob())).unwrap();
        assert!(d.event_first, "the join is recorded before Bob's first words");
        assert_eq!(d.event.unwrap().text(), "Bob joined the chat");

        let d = decide(&chat(Active), &Command::Resolve(Resolver::Visitor)).unwrap();
        assert_eq!(d.event.unwrap().text(), "The visitor ended the chat");
        // the assignee is kept on resolve so history shows who handled it
        assert_eq!(d.assignee, Some(alice().id));
    }

    #[test]
    fn messages_and_notes_change_no_state() {
        for cmd in [Command::AgentMessage(alice()), Command::Note(carol())] {
            let d = decide(&chat(Active), &cmd).unwrap();
            assert!(!d.changes_state(&chat(Active)));
            assert_eq!(d.event, None);
        }
    }
}
