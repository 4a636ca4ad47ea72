//! What the store reads and writes: plain records, already in domain types.

use crate::clock::Millis;
use crate::domain::chat::{ChatState, EventDetail, SystemEvent, SystemKind};
use crate::domain::ids::*;
use crate::domain::knowledge::Entry;
use crate::domain::presence::{self, Reason, Source, Status};
use crate::domain::team::{BotAccess, Role};
use crate::domain::values::MessageBody;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// Set when an avatar was uploaded; part of its URL so browsers refetch a new one.
    pub avatar_version: Option<Millis>,
}

impl User {
    /// "First Last", or the email when both names are blank.
    pub fn display_name(&self) -> String {
        let full = format!("{} {}", self.first_name, self.last_name);
        let full = full.trim();
        if full.is_empty() { self.email.clone() } else { full.to_string() }
    }

    pub fn avatar_url(&self) -> Option<String> {
        self.avatar_version.map(|v| format!("/api/avatars/{}?v={v}", self.id))
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub password_hash: String,
    pub first_name: String,
    pub last_name: String,
}

#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub token_hash: String,
    pub user_id: UserId,
    pub csrf_token: String,
    pub expires_at: Millis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Presence {
    pub status: Status,
    pub source: Source,
    pub reason: Option<Reason>,
    pub last_active_at: Option<Millis>,
}

/// The result of a presence signal.
#[derive(Debug, Clone, Copy)]
pub struct PresenceChange {
    pub before: presence::State,
    pub after: presence::State,
    pub last_active_at: Option<Millis>,
}

impl PresenceChange {
    /// Status, source or reason changed: announce it.
    pub fn changed(&self) -> bool {
        self.before.differs(&self.after)
    }

    pub fn presence(&self) -> Presence {
        Presence { status: self.after.status, source: self.after.source, reason: self.after.reason, last_active_at: self.last_active_at }
    }
}

#[derive(Debug, Clone)]
pub struct Me {
    pub user: User,
    pub teams: Vec<(Team, Role)>,
    pub active_team_id: Option<TeamId>,
    pub presence: Presence,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    pub settings: TeamSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TeamSettings {
    pub auto_away_minutes: i64,
    pub heartbeat_timeout_seconds: i64,
    pub visitor_email_delay_seconds: i64,
    pub orphan_grace_seconds: i64,
    /// How visitors rate a resolved chat.
    pub csat: Csat,
    /// Agents are reminded this often while a chat waits unclaimed; 0: no reminders.
    pub pending_alert_seconds: i64,
    /// The largest file agents and visitors may send (bytes); 0: no files.
    pub attachment_max_bytes: i64,
    pub attachment_kinds: crate::domain::attachment::Kinds,
    /// Resolved conversations older than this many days are deleted by the timers; 0 keeps
    /// them.
    pub retention_days: i64,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SettingsPatch {
    pub auto_away_minutes: Option<i64>,
    pub heartbeat_timeout_seconds: Option<i64>,
    pub visitor_email_delay_seconds: Option<i64>,
    pub orphan_grace_seconds: Option<i64>,
    pub csat: Option<Csat>,
    pub pending_alert_seconds: Option<i64>,
    pub attachment_max_bytes: Option<i64>,
    pub attachment_kinds: Option<crate::domain::attachment::Kinds>,
    pub retention_days: Option<i64>,
}

/// The satisfaction question after a resolved chat: five stars, a thumb up or down, or none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Csat {
    #[default]
    Stars,
    Thumbs,
    Off,
}

impl Csat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stars => "stars",
            Self::Thumbs => "thumbs",
            Self::Off => "off",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Stars, Self::Thumbs, Self::Off].into_iter().find(|c| c.as_str() == s)
    }
}

/// A visitor's rating of a resolved chat: 1–5 (a thumb up is 5, down is 1) on the scale asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rating {
    pub score: i64,
    pub scale: Csat,
    pub comment: Option<String>,
    pub created_at: Millis,
}

/// A user's standing in one team.
#[derive(Debug, Clone)]
pub struct Membership {
    pub team_id: TeamId,
    pub user_id: UserId,
    pub role: Role,
    /// Effective access: always `All` for owners and admins.
    pub bot_access: BotAccess,
    pub capacity: Option<i64>,
}

/// A member as the team's member list shows them.
#[derive(Debug, Clone)]
pub struct Member {
    pub user: User,
    pub membership: Membership,
    pub presence: Presence,
}

#[derive(Debug, Clone)]
pub struct NewMember {
    pub email: String,
    pub role: Role,
    pub first_name: String,
    pub last_name: String,
    /// Required when the email is new; ignored for an existing user.
    pub password_hash: Option<String>,
}

/// A pending invitation to join a team.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub id: InvitationId,
    pub team_id: TeamId,
    pub team_name: String,
    pub email: String,
    /// The account invited, when the email had (or got) one.
    pub user_id: Option<UserId>,
    pub role: Role,
    pub first_name: String,
    pub last_name: String,
    /// Who invited, by display name (gone if they deleted their account).
    pub invited_by: Option<String>,
    pub created_account: bool,
    pub created_at: Millis,
    pub expires_at: Millis,
}

#[derive(Debug, Clone, Default)]
pub struct MemberPatch {
    pub role: Option<Role>,
    pub bot_access: Option<BotAccess>,
    /// `Some(None)` removes the limit.
    pub capacity: Option<Option<i64>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotSettings {
    pub human_escalation: bool,
    pub human_only: bool,
    pub show_agent_availability: bool,
    pub auto_escalate_unanswered: bool,
    pub allowed_origins: Vec<String>,
    /// Business hours, what happens when nobody can answer, the pre-chat form, look and words.
    pub widget: crate::domain::widget::WidgetSettings,
}

/// How a bot answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Responder {
    /// The built-in knowledge base.
    Knowledge,
    /// POST to the team's endpoint; `secret` signs the request body.
    Webhook { url: String, secret: Option<String> },
}

#[derive(Debug, Clone)]
pub struct BotInput {
    pub name: String,
    pub greeting: String,
    pub settings: BotSettings,
    pub responder: Responder,
    pub knowledge: Vec<Entry>,
}

#[derive(Debug, Clone)]
pub struct Bot {
    pub id: BotId,
    pub team_id: TeamId,
    pub name: String,
    pub greeting: String,
    pub settings: BotSettings,
    pub responder: Responder,
    pub knowledge: Vec<Entry>,
    /// Set when a logo was uploaded; part of its URL so browsers refetch a new one.
    pub logo_version: Option<Millis>,
    pub created_at: Millis,
}

impl Bot {
    pub fn logo_url(&self) -> Option<String> {
        self.logo_version.map(|v| format!("/api/widget/bots/{}/logo?v={v}", self.id))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visitor {
    pub id: VisitorId,
    pub bot_id: BotId,
    pub name: Option<String>,
    pub email: Option<String>,
    /// The page the visitor started on: an unread-reply email links back there.
    pub page_url: Option<String>,
    /// Answers to the bot's pre-chat questions, by key.
    pub fields: std::collections::BTreeMap<String, String>,
    pub created_at: Millis,
}

impl Visitor {
    /// The name, or "Visitor 4F2A" from the id's tail.
    pub fn display_name(&self) -> String {
        Self::label(self.name.as_deref(), self.id.as_str())
    }

    /// What a visitor is called, from their name (if any) and id.
    pub fn label(name: Option<&str>, id: &str) -> String {
        match name {
            Some(n) if !n.is_empty() => n.to_string(),
            _ => format!("Visitor {}", id[id.len().saturating_sub(4)..].to_uppercase()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub id: ConversationId,
    pub team_id: TeamId,
    pub bot_id: BotId,
    pub visitor_id: VisitorId,
    pub state: ChatState,
    pub assignee_id: Option<UserId>,
    pub escalated_at: Option<Millis>,
    pub resolved_at: Option<Millis>,
    pub created_at: Millis,
    pub last_activity_at: Millis,
    pub last_seq: i64,
    /// Put aside by its agent, until a time or the visitor's next message.
    pub snooze: Option<crate::domain::chat::Snooze>,
    /// When an agent first took it (claim or accepted transfer), for reports.
    pub claimed_at: Option<Millis>,
    /// When an agent first answered the visitor (not a note), for reports.
    pub first_response_at: Option<Millis>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthorKind {
    Visitor,
    Bot,
    Agent,
    System,
}

impl AuthorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Visitor => "visitor",
            Self::Bot => "bot",
            Self::Agent => "agent",
            Self::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Visitor, Self::Bot, Self::Agent, Self::System].into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub kind: AuthorKind,
    /// User id for agents, visitor id for visitors.
    pub id: Option<String>,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
}

/// A personal API token as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: TokenId,
    pub name: String,
    pub created_at: Millis,
    pub last_used_at: Option<Millis>,
    pub expires_at: Option<Millis>,
}

impl Author {
    /// The author of system lines.
    pub fn system() -> Self {
        Self { kind: AuthorKind::System, id: None, display_name: None, avatar_url: None }
    }

    /// An agent, as their messages show them.
    pub fn agent(u: &User) -> Self {
        Self { kind: AuthorKind::Agent, id: Some(u.id.to_string()), display_name: Some(u.display_name()), avatar_url: u.avatar_url() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub seq: i64,
    pub author: Author,
    pub body: MessageBody,
    pub internal: bool,
    pub client_id: Option<String>,
    /// For system messages: the kind of state change.
    pub event: Option<SystemKind>,
    /// For system messages: who and what the change is about.
    pub detail: Option<EventDetail>,
    /// Files sent with the message.
    pub attachments: Vec<Attachment>,
    pub created_at: Millis,
}

/// What a file sent in a chat is (its bytes are in the blob store under its id).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attachment {
    pub id: AttachmentId,
    pub name: String,
    pub kind: crate::domain::attachment::Kind,
    pub content_type: String,
    pub size: i64,
    /// Images: their size in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<i64>,
}

/// A stored file with what decides who may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAttachment {
    pub attachment: Attachment,
    pub conversation_id: ConversationId,
    /// The user's or the visitor's id.
    pub uploader: String,
    /// `None` until sent in a message.
    pub message_id: Option<MessageId>,
    /// The message is an internal note (agents only).
    pub internal: bool,
    pub visitor_id: VisitorId,
    pub created_at: Millis,
}

/// The result of [`super::ChatStore::apply`].
#[derive(Debug, Clone)]
pub struct Applied {
    /// The conversation after the write.
    pub conversation: Conversation,
    /// Messages written, in `seq` order (the command's own, then a system message).
    pub messages: Vec<Message>,
    /// The state changed (claim, transfer, ...): announce it.
    pub state_changed: bool,
    /// The chat was snoozed or woken: announce it.
    pub snooze_changed: bool,
    /// The bot should answer the visitor's message just stored.
    pub bot_replies: bool,
    /// A repeated `client_id`: `messages` holds the original, nothing was written.
    pub replayed: bool,
    /// The assignee before the write (to re-check their capacity when it changed).
    pub previous_assignee: Option<UserId>,
    /// The state change decided, when there was one (its line is among `messages`).
    pub event: Option<SystemEvent>,
}

impl Applied {
    /// The message the command itself stored (not the system line beside it).
    pub fn posted(&self) -> Option<&Message> {
        self.messages.iter().find(|m| m.author.kind != AuthorKind::System)
    }
}

#[derive(Debug, Clone)]
pub struct LastMessage {
    pub preview: String,
    pub author_kind: AuthorKind,
    pub at: Millis,
}

/// A live chat as the inbox lists it.
#[derive(Debug, Clone)]
pub struct ChatSummary {
    pub conversation: Conversation,
    pub bot_name: String,
    pub visitor: Visitor,
    pub assignee: Option<User>,
    pub last_message: Option<LastMessage>,
    pub unread_count: i64,
    pub rating: Option<Rating>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortcut {
    pub id: ShortcutId,
    pub team_id: TeamId,
    /// `None` for team-wide shortcuts.
    pub owner_id: Option<UserId>,
    pub name: String,
    pub body: String,
    pub created_at: Millis,
}

/// A browser or device that receives Web Push for an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSubscription {
    pub id: String,
    pub user_id: UserId,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub user_agent: Option<String>,
    pub created_at: Millis,
    pub last_success_at: Option<Millis>,
    pub last_error: Option<String>,
    pub last_error_at: Option<Millis>,
}

/// One push waiting to be delivered to one device.
#[derive(Debug, Clone)]
pub struct PushJob {
    pub id: String,
    pub subscription: PushSubscription,
    pub payload: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

/// An unread-reply email waiting for its time.
#[derive(Debug, Clone)]
pub struct EmailJob {
    pub id: String,
    pub kind: EmailKind,
    /// For a transcript: the address asked for.
    pub to: Option<String>,
    pub conversation_id: ConversationId,
    /// The first agent message of the burst.
    pub from_seq: i64,
    pub attempts: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailKind {
    /// The team replied and the visitor has not read it.
    Reply,
    /// The visitor asked for a copy of the chat.
    Transcript,
}

/// An agent who may be notified, with what decides it.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub user_id: UserId,
    pub status: Status,
    pub prefs: crate::domain::notify::Prefs,
}

/// A conversation found by search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatHit {
    pub id: ConversationId,
    pub state: ChatState,
    pub escalated_at: Option<Millis>,
    pub last_activity_at: Millis,
    pub bot_id: BotId,
    pub bot_name: String,
    pub visitor_id: VisitorId,
    pub visitor_name: Option<String>,
    pub visitor_email: Option<String>,
}

/// A message found by search, with its conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageHit {
    pub chat: ChatHit,
    pub message_id: MessageId,
    pub seq: i64,
    pub author_kind: AuthorKind,
    /// An agent author's current name.
    pub author_name: Option<String>,
    pub internal: bool,
    pub text: String,
    pub created_at: Millis,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchResults {
    /// Conversations whose visitor's name or email matched.
    pub conversations: Vec<ChatHit>,
    pub messages: Vec<MessageHit>,
}

/// A visitor's context and attributes, as last reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VisitorContext {
    pub context: crate::domain::visitor::Context,
    pub attributes: std::collections::BTreeMap<String, String>,
    pub updated_at: Millis,
}

/// One of a visitor's chats with the team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastChat {
    pub id: ConversationId,
    pub state: ChatState,
    pub created_at: Millis,
    pub escalated_at: Option<Millis>,
    pub resolved_at: Option<Millis>,
    pub preview: Option<String>,
    pub bot_name: String,
    /// The assignee's current name (the last one, for a resolved chat).
    pub assignee: Option<String>,
    pub rating: Option<Rating>,
}

/// One audit log entry (see [`crate::domain::audit`]).
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: AuditId,
    /// `None` for an account's own entry when its user is in no team.
    pub team_id: Option<TeamId>,
    pub at: Millis,
    /// `None` when Baton did it (the timers).
    pub actor_id: Option<UserId>,
    /// The actor's name or email at the time; "Baton" for the timers.
    pub actor_label: String,
    pub action: crate::domain::audit::Action,
    pub target_kind: crate::domain::audit::TargetKind,
    pub target_id: Option<String>,
    /// What the target was called at the time.
    pub target_label: String,
    pub detail: serde_json::Value,
    /// The client address the change came from (empty for the timers).
    pub address: String,
}

/// Which entries to read: every given condition must hold. Newest first; `before` continues a
/// page after the entry at `(at, id)`.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub action: Option<crate::domain::audit::Action>,
    pub actor: Option<UserId>,
    pub target: Option<String>,
    pub since: Option<Millis>,
    pub until: Option<Millis>,
    pub before: Option<(Millis, AuditId)>,
}

/// What erasing a visitor removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erased {
    pub conversations: i64,
    pub messages: i64,
    /// Files whose bytes are to be removed now their rows are gone.
    pub files: Vec<AttachmentId>,
}

/// What the retention timer removed from one team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expired {
    pub team_id: TeamId,
    pub days: i64,
    /// The conversations deleted, with their bots.
    pub conversations: Vec<(ConversationId, BotId)>,
    pub visitors: i64,
    pub files: Vec<AttachmentId>,
}

/// An outgoing webhook of a team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: WebhookId,
    pub team_id: TeamId,
    pub name: String,
    pub url: String,
    /// Signs every delivery (never shown after it was made, but to sign).
    pub secret: String,
    pub events: Vec<crate::domain::webhook::Event>,
    pub enabled: bool,
    pub disabled_at: Option<Millis>,
    pub disabled_reason: Option<String>,
    /// When the current run of failed attempts began (`None` after a success).
    pub failing_since: Option<Millis>,
    pub consecutive_failures: i64,
    pub created_at: Millis,
}

#[derive(Debug, Clone, Default)]
pub struct WebhookPatch {
    pub name: Option<String>,
    pub url: Option<String>,
    pub events: Option<Vec<crate::domain::webhook::Event>>,
    /// Turning a webhook back on clears its failure run.
    pub enabled: Option<bool>,
    pub secret: Option<String>,
}

/// One event for one webhook, from the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: String,
    pub webhook_id: WebhookId,
    pub event_id: String,
    pub event: crate::domain::webhook::Event,
    pub payload: String,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: Millis,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub last_attempt_at: Option<Millis>,
    pub created_at: Millis,
    pub done_at: Option<Millis>,
}

/// How one attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Delivered {
        status: i64,
    },
    /// Failed; try again at `at`.
    Retry {
        at: Millis,
        status: Option<i64>,
        error: String,
    },
    /// Failed for the last time.
    Failed {
        status: Option<i64>,
        error: String,
    },
}

/// An email to someone with an account (or invited to have one), from the mail outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub attempts: i64,
}

/// What the report query adds up (see [`crate::domain::report`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRows {
    pub groups: Vec<crate::domain::report::Group>,
    /// (local day, bot, conversations the bot handled alone).
    pub bot_only: Vec<(i64, BotId, i64)>,
}

/// One conversation of a report, for the CSV export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportConversation {
    pub id: ConversationId,
    pub bot_id: BotId,
    pub assignee_id: Option<UserId>,
    pub state: ChatState,
    pub escalated_at: Millis,
    pub claimed_at: Option<Millis>,
    pub first_response_at: Option<Millis>,
    pub resolved_at: Option<Millis>,
    /// (score, scale).
    pub rating: Option<(i64, String)>,
}
