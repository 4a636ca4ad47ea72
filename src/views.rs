//! How records look on the wire (API.md's shapes): `Serialize` structs, which also give the
//! OpenAPI document its schemas, so the two cannot drift. Times are RFC 3339 UTC.

use serde::Serialize;
use utoipa::ToSchema;

use crate::clock::rfc3339;
use crate::domain::chat::{ChatState, SystemKind};
use crate::domain::ids::*;
use crate::domain::presence::{Reason, Source, Status};
use crate::domain::team::{BotAccess, Role};
use crate::store::*;

pub fn time(ms: i64) -> String {
    rfc3339(ms)
}

pub fn opt_time(ms: Option<i64>) -> Option<String> {
    ms.map(rfc3339)
}

/// A person who can log in. `display_name` is "first last", or the email when both are blank.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = User)]
pub struct UserView {
    pub id: UserId,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub display_name: String,
    pub avatar_url: Option<String>,
}

pub fn user(u: &User) -> UserView {
    UserView {
        id: u.id.clone(),
        email: u.email.clone(),
        first_name: u.first_name.clone(),
        last_name: u.last_name.clone(),
        display_name: u.display_name(),
        avatar_url: u.avatar_url(),
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = TeamSettings)]
pub struct SettingsView {
    pub auto_away_minutes: i64,
    pub heartbeat_timeout_seconds: i64,
    pub visitor_email_delay_seconds: i64,
    pub orphan_grace_seconds: i64,
    /// How visitors rate a resolved chat: `stars` (1–5), `thumbs` (up or down) or `off`.
    pub csat: crate::store::Csat,
    /// Agents are reminded this often while a chat waits unclaimed (0: off).
    pub pending_alert_seconds: i64,
    /// The largest file agents and visitors may send, in bytes (0: no files).
    pub attachment_max_bytes: i64,
    /// The kinds of files accepted: `image`, `pdf`, `text`, `office`, `archive`.
    pub attachment_kinds: Vec<crate::domain::attachment::Kind>,
    /// Resolved conversations are deleted this many days after they ended (0: kept).
    pub retention_days: i64,
}

pub fn settings(s: &TeamSettings) -> SettingsView {
    SettingsView {
        auto_away_minutes: s.auto_away_minutes,
        heartbeat_timeout_seconds: s.heartbeat_timeout_seconds,
        visitor_email_delay_seconds: s.visitor_email_delay_seconds,
        orphan_grace_seconds: s.orphan_grace_seconds,
        csat: s.csat,
        pending_alert_seconds: s.pending_alert_seconds,
        attachment_max_bytes: s.attachment_max_bytes,
        attachment_kinds: s.attachment_kinds.list(),
        retention_days: s.retention_days,
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Team)]
pub struct TeamView {
    pub id: TeamId,
    pub name: String,
    pub settings: SettingsView,
}

pub fn team(t: &Team) -> TeamView {
    TeamView { id: t.id.clone(), name: t.name.clone(), settings: settings(&t.settings) }
}

/// `"all"`, or the ids of the bots a member reaches.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = BotAccess)]
pub enum AccessView {
    All(AllBots),
    Only(Vec<BotId>),
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AllBots {
    All,
}

pub fn access(a: &BotAccess) -> AccessView {
    match a {
        BotAccess::All => AccessView::All(AllBots::All),
        BotAccess::Only(ids) => AccessView::Only(ids.clone()),
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Member)]
pub struct MemberView {
    pub user: UserView,
    pub role: Role,
    pub bot_access: AccessView,
    /// Most chats the member holds before counting as busy; `null` for no limit.
    pub capacity: Option<i64>,
    pub status: Status,
    pub status_source: Source,
    pub status_reason: Option<Reason>,
    pub last_active_at: Option<String>,
}

pub fn member(m: &Member) -> MemberView {
    MemberView {
        user: user(&m.user),
        role: m.membership.role,
        bot_access: access(&m.membership.bot_access),
        capacity: m.membership.capacity,
        status: m.presence.status,
        status_source: m.presence.source,
        status_reason: m.presence.reason,
        last_active_at: opt_time(m.presence.last_active_at),
    }
}

/// A pending invitation to join a team. The invitee's account (if any) is never described:
/// only what the inviter typed.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Invitation)]
pub struct InvitationView {
    pub id: InvitationId,
    pub team_id: TeamId,
    pub team_name: String,
    pub email: String,
    pub role: Role,
    pub first_name: String,
    pub last_name: String,
    /// Who sent it, by name.
    pub invited_by: Option<String>,
    pub created_at: String,
    pub expires_at: String,
}

/// A new invitation, as its sender sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Invited)]
pub struct InvitedView {
    #[serde(flatten)]
    pub invitation: InvitationView,
    /// Baton sends email: the invitee was emailed (someone without an account a link to choose
    /// a password and join; someone with one a note to sign in and accept). The answer is the
    /// same either way.
    pub emailed: bool,
}

pub fn invitation(i: &Invitation) -> InvitationView {
    InvitationView {
        id: i.id.clone(),
        team_id: i.team_id.clone(),
        team_name: i.team_name.clone(),
        email: i.email.clone(),
        role: i.role,
        first_name: i.first_name.clone(),
        last_name: i.last_name.clone(),
        invited_by: i.invited_by.clone(),
        created_at: time(i.created_at),
        expires_at: time(i.expires_at),
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = BotSettings)]
pub struct BotSettingsView {
    pub human_escalation: bool,
    pub human_only: bool,
    pub show_agent_availability: bool,
    pub auto_escalate_unanswered: bool,
    pub allowed_origins: Vec<String>,
}

/// Who answers for the bot. A webhook's secret is write-only: only whether one is set shows.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[schema(as = Responder)]
pub enum ResponderView {
    Knowledge,
    Webhook { url: String, has_secret: bool },
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = KnowledgeEntry)]
pub struct EntryView {
    pub question: String,
    pub answer: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Bot)]
pub struct BotView {
    pub id: BotId,
    pub team_id: TeamId,
    pub name: String,
    pub greeting: String,
    pub settings: BotSettingsView,
    pub responder: ResponderView,
    pub knowledge: Vec<EntryView>,
    /// The widget: business hours, when nobody can answer, pre-chat form, look and words.
    pub widget: crate::domain::widget::WidgetSettings,
    /// The uploaded logo, shown in the widget's header.
    pub logo_url: Option<String>,
    pub created_at: String,
}

pub fn bot(b: &Bot) -> BotView {
    let s = &b.settings;
    BotView {
        id: b.id.clone(),
        team_id: b.team_id.clone(),
        name: b.name.clone(),
        greeting: b.greeting.clone(),
        settings: BotSettingsView {
            human_escalation: s.human_escalation,
            human_only: s.human_only,
            show_agent_availability: s.show_agent_availability,
            auto_escalate_unanswered: s.auto_escalate_unanswered,
            allowed_origins: s.allowed_origins.clone(),
        },
        responder: match &b.responder {
            Responder::Knowledge => ResponderView::Knowledge,
            Responder::Webhook { url, secret } => ResponderView::Webhook { url: url.clone(), has_secret: secret.is_some() },
        },
        knowledge: b.knowledge.iter().map(|e| EntryView { question: e.question.clone(), answer: e.answer.clone() }).collect(),
        widget: s.widget.clone(),
        logo_url: b.logo_url(),
        created_at: time(b.created_at),
    }
}

/// A visitor; `display_name` is their name, or "Visitor 4F2A" from their id.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Visitor)]
pub struct VisitorView {
    pub id: VisitorId,
    pub name: Option<String>,
    pub email: Option<String>,
    pub display_name: String,
    /// Answers to the bot's pre-chat questions, by key.
    #[schema(value_type = Object)]
    pub fields: std::collections::BTreeMap<String, String>,
    /// The page the visitor started the chat on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_url: Option<String>,
}

pub fn visitor(v: &Visitor) -> VisitorView {
    VisitorView {
        id: v.id.clone(),
        name: v.name.clone(),
        email: v.email.clone(),
        display_name: v.display_name(),
        fields: v.fields.clone(),
        page_url: v.page_url.clone(),
    }
}

/// A visitor's rating of a resolved chat.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Rating)]
pub struct RatingView {
    /// 1–5; on the `thumbs` scale, 5 is a thumb up and 1 a thumb down.
    pub score: i64,
    pub scale: crate::store::Csat,
    pub comment: Option<String>,
    pub created_at: String,
}

pub fn rating(r: &crate::store::Rating) -> RatingView {
    RatingView { score: r.score, scale: r.scale, comment: r.comment.clone(), created_at: time(r.created_at) }
}

/// Where a pending chat stands in its bot's queue.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[schema(as = QueuePlace)]
pub struct QueueView {
    /// 1 for the next chat to be claimed.
    pub position: i64,
    /// The median wait of this bot's recent claimed chats; `null` without any (say "a few
    /// minutes").
    pub expected_wait_seconds: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Author)]
pub struct AuthorView {
    pub kind: AuthorKind,
    /// The agent's user id or the visitor's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    Public,
    /// An agent-only note: never reaches the visitor.
    Internal,
}

/// One message. `seq` grows by one per message within a conversation.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Message)]
pub struct MessageView {
    pub id: MessageId,
    pub seq: i64,
    pub conversation_id: ConversationId,
    pub author: AuthorView,
    /// Sanitised HTML, safe to insert as is.
    pub body: String,
    /// The body as plain text.
    pub text: String,
    pub visibility: Visibility,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// For system lines: which state change this one records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<SystemKind>,
    /// For system lines: who and what the change is about, so a client can word it itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_detail: Option<crate::domain::chat::EventDetail>,
    /// Files sent with the message (an empty `body` when the message is only files).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentView>,
    pub created_at: String,
}

/// A file sent in a chat. `url` serves it to those who may see the conversation (agents by
/// session or token, the visitor with their widget token as a bearer).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Attachment)]
pub struct AttachmentView {
    pub id: crate::domain::ids::AttachmentId,
    pub name: String,
    pub kind: crate::domain::attachment::Kind,
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<i64>,
    pub url: String,
}

pub fn attachment(a: &crate::store::Attachment) -> AttachmentView {
    AttachmentView {
        id: a.id.clone(),
        name: a.name.clone(),
        kind: a.kind,
        content_type: a.content_type.clone(),
        size: a.size,
        width: a.width,
        height: a.height,
        url: format!("/api/attachments/{}", a.id),
    }
}

pub fn message(m: &Message) -> MessageView {
    MessageView {
        id: m.id.clone(),
        seq: m.seq,
        conversation_id: m.conversation_id.clone(),
        author: AuthorView {
            kind: m.author.kind,
            id: m.author.id.clone(),
            display_name: m.author.display_name.clone(),
            avatar_url: m.author.avatar_url.clone(),
        },
        body: m.body.html().to_string(),
        text: m.body.text().to_string(),
        visibility: if m.internal { Visibility::Internal } else { Visibility::Public },
        client_id: m.client_id.clone(),
        event: m.event,
        event_detail: m.detail.clone(),
        attachments: m.attachments.iter().map(attachment).collect(),
        created_at: time(m.created_at),
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = BotRef)]
pub struct BotRef {
    pub id: BotId,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = LastMessage)]
pub struct LastMessageView {
    pub preview: String,
    pub author_kind: AuthorKind,
    pub at: String,
}

/// A row of the inbox. `last_seq` is also the version of the state it shows.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = ChatSummary)]
pub struct ChatSummaryView {
    pub id: ConversationId,
    pub state: ChatState,
    pub bot: BotRef,
    pub visitor: VisitorView,
    pub assignee: Option<UserView>,
    pub last_message: Option<LastMessageView>,
    pub escalated_at: Option<String>,
    pub resolved_at: Option<String>,
    pub last_activity_at: String,
    pub last_seq: i64,
    /// Visitor and agent messages after my read marker, not counting mine.
    pub unread_count: i64,
    /// The visitor's satisfaction rating, once given (resolved chats).
    pub rating: Option<RatingView>,
    /// Put aside by its agent (out of the inbox until it wakes).
    pub snoozed: bool,
    /// When a snoozed chat comes back; `null` while snoozed: when the visitor writes.
    pub snoozed_until: Option<String>,
}

pub fn chat_summary(s: &ChatSummary) -> ChatSummaryView {
    let c = &s.conversation;
    ChatSummaryView {
        id: c.id.clone(),
        state: c.state,
        bot: BotRef { id: c.bot_id.clone(), name: s.bot_name.clone() },
        visitor: visitor(&s.visitor),
        assignee: s.assignee.as_ref().map(user),
        last_message: s.last_message.as_ref().map(|l| LastMessageView { preview: l.preview.clone(), author_kind: l.author_kind, at: time(l.at) }),
        escalated_at: opt_time(c.escalated_at),
        resolved_at: opt_time(c.resolved_at),
        last_activity_at: time(c.last_activity_at),
        last_seq: c.last_seq,
        snoozed: c.snooze.is_some(),
        snoozed_until: c.snooze.and_then(|z| z.until).map(time),
        unread_count: s.unread_count,
        rating: s.rating.as_ref().map(rating),
    }
}

/// A chat with its whole history, internal notes included.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Chat)]
pub struct ChatView {
    #[serde(flatten)]
    pub summary: ChatSummaryView,
    pub messages: Vec<MessageView>,
}

pub fn chat(s: &ChatSummary, messages: &[Message]) -> ChatView {
    ChatView { summary: chat_summary(s), messages: messages.iter().map(message).collect() }
}

/// The agent as the visitor sees them: name and avatar only.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = PublicAgent)]
pub struct PublicAgentView {
    pub display_name: String,
    pub avatar_url: Option<String>,
}

pub fn public_agent(u: &User) -> PublicAgentView {
    PublicAgentView { display_name: u.display_name(), avatar_url: u.avatar_url() }
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Bot,
    Live,
}

pub fn mode(c: &Conversation) -> Mode {
    if c.state.mode(c.escalated_at.is_some()) == "bot" { Mode::Bot } else { Mode::Live }
}

/// The visitor's conversation: public messages only.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = WidgetConversation)]
pub struct WidgetConversationView {
    pub id: ConversationId,
    pub mode: Mode,
    pub state: ChatState,
    pub agent: Option<PublicAgentView>,
    pub last_seq: i64,
    pub messages: Vec<MessageView>,
    /// While pending: the place in the queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueueView>,
    /// Once resolved: whether the visitor is asked to rate the chat (`stars`, `thumbs`), or
    /// `null` (not asked, or already rated).
    pub rating_asked: Option<crate::store::Csat>,
    /// The visitor's rating, once given.
    pub rating: Option<RatingView>,
    /// What the visitor told us: name, email, pre-chat answers.
    pub visitor: WidgetVisitorView,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = WidgetVisitor)]
pub struct WidgetVisitorView {
    pub name: Option<String>,
    pub email: Option<String>,
    #[schema(value_type = Object)]
    pub fields: std::collections::BTreeMap<String, String>,
}

pub fn widget_visitor(v: &Visitor) -> WidgetVisitorView {
    WidgetVisitorView { name: v.name.clone(), email: v.email.clone(), fields: v.fields.clone() }
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ShortcutScope {
    Team,
    Personal,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Shortcut)]
pub struct ShortcutView {
    pub id: ShortcutId,
    pub name: String,
    pub body: String,
    pub scope: ShortcutScope,
    pub created_at: String,
}

pub fn shortcut(s: &Shortcut) -> ShortcutView {
    ShortcutView {
        id: s.id.clone(),
        name: s.name.clone(),
        body: s.body.clone(),
        scope: if s.owner_id.is_some() { ShortcutScope::Personal } else { ShortcutScope::Team },
        created_at: time(s.created_at),
    }
}
