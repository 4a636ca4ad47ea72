//! The SQL behind both engines. Each area's `impl` is a macro expanded once per engine with
//! that engine's connection type; the SQL text is the same for both (see the module doc of
//! [`crate::store`]). Row types here are plain structs that decode from either ([`row!`]).
//!
//! Macro parameters: `$Store` (the engine, with `read`/`write` to run a job), `$Db` (its
//! connection type, which implements [`super::db::Conn`]), `lock` (the suffix that locks a
//! selected row until commit) and `skip_locked` (the same, passing over rows another node holds).

mod columns;

#[macro_use]
mod accounts;
#[macro_use]
mod attachments;
#[macro_use]
mod audit;
#[macro_use]
mod bots;
#[macro_use]
mod chats;
#[macro_use]
mod data;
#[macro_use]
mod notify;
#[macro_use]
mod presence;
#[macro_use]
mod reports;
#[macro_use]
mod search;
#[macro_use]
mod shortcuts;
#[macro_use]
mod teams;
#[macro_use]
mod visitors;
#[macro_use]
mod webhooks;

use super::db::{is_unique_violation, query, query_as, query_scalar};
use super::{Act, AgentScope, ChatCursor, ChatQuery, ChatView, PresenceInput, StoreError};
use crate::domain::chat::{ChatState, RequeueReason};
use crate::domain::ids::*;
use crate::domain::knowledge::Entry;
use crate::domain::notify::Prefs;
use crate::domain::presence::{Reason, Source, Status};
use crate::domain::team::{BotAccess, Role};
use crate::domain::values::MessageBody;

use super::records::*;

/// Columns of [`UserRow`] from `users u`.
macro_rules! user_cols {
    () => {
        "u.id, u.email, u.first_name, u.last_name, u.avatar_version"
    };
}

/// Columns of [`PresenceRow`] from `users u`.
macro_rules! presence_cols {
    () => {
        "u.status, u.status_source, u.status_reason, u.last_active_at"
    };
}

macro_rules! team_cols {
    () => {
        "t.id, t.name, t.auto_away_minutes, t.heartbeat_timeout_seconds, t.visitor_email_delay_seconds, t.orphan_grace_seconds, t.csat, t.pending_alert_seconds, t.attachment_max_bytes, t.attachment_kinds, t.retention_days"
    };
}

macro_rules! conversation_cols {
    () => {
        "c.id, c.team_id, c.bot_id, c.visitor_id, c.state, c.assignee_id, c.escalated_at, c.resolved_at, c.created_at, c.last_activity_at, c.last_seq, c.snoozed, c.snoozed_until, c.claimed_at, c.first_response_at"
    };
}

macro_rules! visitor_cols {
    () => {
        "v.id, v.bot_id, v.name, v.email, v.page_url, v.fields, v.created_at"
    };
}

/// Columns of [`AttachmentRow`] (unqualified: `attachments` alone or in `RETURNING`).
macro_rules! attachment_cols {
    () => {
        "id, name, kind, content_type, size, width, height"
    };
}

/// A message with its author's current name and avatar.
macro_rules! message_select {
    () => {
        "SELECT m.id, m.conversation_id, m.seq, m.author_kind, m.author_id, m.body, m.text, m.internal, m.client_id, m.event, m.event_detail, m.created_at, m.attachments,
                u.first_name AS u_first, u.last_name AS u_last, u.email AS u_email, u.avatar_version AS u_avatar, v.name AS v_name
         FROM messages m
         LEFT JOIN users u ON m.author_kind = 'agent' AND u.id = m.author_id
         LEFT JOIN visitors v ON m.author_kind = 'visitor' AND v.id = m.author_id"
    };
}

/// The one access rule, as SQL: the member `$me` of the conversation's team `c` may see chats
/// of bot `c.bot_id`. Owners and admins reach every bot; `member`s have no chats.
macro_rules! chat_scope {
    ($me:literal) => {
        concat!(
            " EXISTS (SELECT 1 FROM members sm WHERE sm.team_id = c.team_id AND sm.user_id = ", $me,
            " AND sm.role <> 'member' AND (sm.all_bots OR sm.role IN ('owner', 'admin')
                OR EXISTS (SELECT 1 FROM member_bots smb WHERE smb.team_id = sm.team_id AND smb.user_id = sm.user_id AND smb.bot_id = c.bot_id))) "
        )
    };
}

row! {
pub(crate) struct UserRow {
    id: UserId,
    email: String,
    first_name: String,
    last_name: String,
    avatar_version: Option<i64>,
}
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User { id: r.id, email: r.email, first_name: r.first_name, last_name: r.last_name, avatar_version: r.avatar_version }
    }
}

row! {
pub(crate) struct PresenceRow {
    status: Status,
    status_source: Source,
    status_reason: Option<Reason>,
    last_active_at: Option<i64>,
}
}

impl From<PresenceRow> for Presence {
    fn from(r: PresenceRow) -> Self {
        Presence { status: r.status, source: r.status_source, reason: r.status_reason, last_active_at: r.last_active_at }
    }
}

row! {
pub(crate) struct TeamRow {
    id: TeamId,
    name: String,
    auto_away_minutes: i64,
    heartbeat_timeout_seconds: i64,
    visitor_email_delay_seconds: i64,
    orphan_grace_seconds: i64,
    csat: Csat,
    pending_alert_seconds: i64,
    attachment_max_bytes: i64,
    attachment_kinds: crate::domain::attachment::Kinds,
    retention_days: i64,
}
}

impl From<TeamRow> for Team {
    fn from(r: TeamRow) -> Self {
        Team {
            id: r.id,
            name: r.name,
            settings: TeamSettings {
                auto_away_minutes: r.auto_away_minutes,
                heartbeat_timeout_seconds: r.heartbeat_timeout_seconds,
                visitor_email_delay_seconds: r.visitor_email_delay_seconds,
                orphan_grace_seconds: r.orphan_grace_seconds,
                csat: r.csat,
                pending_alert_seconds: r.pending_alert_seconds,
                attachment_max_bytes: r.attachment_max_bytes,
                attachment_kinds: r.attachment_kinds,
                retention_days: r.retention_days,
            },
        }
    }
}

row! {
pub(crate) struct MembershipRow {
    team_id: TeamId,
    user_id: UserId,
    role: Role,
    all_bots: bool,
    capacity: Option<i64>,
    // The bots of a restricted member (`NULL`: none).
    bot_ids: Option<columns::BotIdList>,
}
}

impl From<MembershipRow> for Membership {
    fn from(r: MembershipRow) -> Self {
        let role = r.role;
        let stored = if r.all_bots {
            BotAccess::All
        } else {
            let mut ids: Vec<BotId> = r.bot_ids.map(|l| l.0).unwrap_or_default();
            ids.sort();
            BotAccess::Only(ids)
        };
        Membership { team_id: r.team_id, user_id: r.user_id, role, bot_access: BotAccess::effective(role, stored), capacity: r.capacity }
    }
}

/// Membership columns; needs `members m`.
macro_rules! membership_cols {
    () => {
        "m.team_id, m.user_id, m.role, m.all_bots, m.capacity,
         (SELECT STRING_AGG(mb.bot_id, ',') FROM member_bots mb WHERE mb.team_id = m.team_id AND mb.user_id = m.user_id) AS bot_ids"
    };
}

row! {
pub(crate) struct BotRow {
    id: BotId,
    team_id: TeamId,
    name: String,
    greeting: String,
    human_escalation: bool,
    human_only: bool,
    show_agent_availability: bool,
    auto_escalate_unanswered: bool,
    allowed_origins: columns::Origins,
    webhook_url: Option<String>,
    webhook_secret: Option<String>,
    widget: columns::Json<crate::domain::widget::WidgetSettings>,
    logo_version: Option<i64>,
    created_at: i64,
}
}

impl BotRow {
    fn into_bot(self, knowledge: Vec<Entry>) -> Bot {
        Bot {
            id: self.id,
            team_id: self.team_id,
            name: self.name,
            greeting: self.greeting,
            settings: BotSettings {
                human_escalation: self.human_escalation,
                human_only: self.human_only,
                show_agent_availability: self.show_agent_availability,
                auto_escalate_unanswered: self.auto_escalate_unanswered,
                allowed_origins: self.allowed_origins.0,
                widget: self.widget.0,
            },
            responder: match self.webhook_url {
                Some(url) => Responder::Webhook { url, secret: self.webhook_secret },
                None => Responder::Knowledge,
            },
            knowledge,
            logo_version: self.logo_version,
            created_at: self.created_at,
        }
    }
}

row! {
pub(crate) struct KnowledgeRow {
    bot_id: BotId,
    question: String,
    answer: String,
}
}

row! {
pub(crate) struct VisitorRow {
    id: VisitorId,
    bot_id: BotId,
    name: Option<String>,
    email: Option<String>,
    page_url: Option<String>,
    fields: columns::Json<std::collections::BTreeMap<String, String>>,
    created_at: i64,
}
}

impl From<VisitorRow> for Visitor {
    fn from(r: VisitorRow) -> Self {
        Visitor { id: r.id, bot_id: r.bot_id, name: r.name, email: r.email, page_url: r.page_url, fields: r.fields.0, created_at: r.created_at }
    }
}

row! {
pub(crate) struct ConversationRow {
    id: ConversationId,
    team_id: TeamId,
    bot_id: BotId,
    visitor_id: VisitorId,
    state: ChatState,
    assignee_id: Option<UserId>,
    escalated_at: Option<i64>,
    resolved_at: Option<i64>,
    created_at: i64,
    last_activity_at: i64,
    last_seq: i64,
    snoozed: bool,
    snoozed_until: Option<i64>,
    claimed_at: Option<i64>,
    first_response_at: Option<i64>,
}
}

impl From<ConversationRow> for Conversation {
    fn from(r: ConversationRow) -> Self {
        Conversation {
            id: r.id,
            team_id: r.team_id,
            bot_id: r.bot_id,
            visitor_id: r.visitor_id,
            state: r.state,
            assignee_id: r.assignee_id,
            escalated_at: r.escalated_at,
            resolved_at: r.resolved_at,
            created_at: r.created_at,
            last_activity_at: r.last_activity_at,
            last_seq: r.last_seq,
            snooze: r.snoozed.then_some(crate::domain::chat::Snooze { until: r.snoozed_until }),
            claimed_at: r.claimed_at,
            first_response_at: r.first_response_at,
        }
    }
}

row! {
pub(crate) struct MessageRow {
    id: MessageId,
    conversation_id: ConversationId,
    seq: i64,
    author_kind: AuthorKind,
    author_id: Option<String>,
    body: String,
    text: String,
    internal: bool,
    client_id: Option<String>,
    event: Option<crate::domain::chat::SystemKind>,
    event_detail: Option<columns::Json<crate::domain::chat::EventDetail>>,
    created_at: i64,
    attachments: Option<columns::Json<Vec<Attachment>>>,
    u_first: Option<String>,
    u_last: Option<String>,
    u_email: Option<String>,
    u_avatar: Option<i64>,
    v_name: Option<String>,
}
}

impl From<MessageRow> for Message {
    fn from(r: MessageRow) -> Self {
        let kind = r.author_kind;
        let (display_name, avatar_url) = match kind {
            AuthorKind::Agent => match (r.author_id.as_deref().and_then(UserId::parse), r.u_email) {
                (Some(id), Some(email)) => {
                    let u = User {
                        id,
                        email,
                        first_name: r.u_first.unwrap_or_default(),
                        last_name: r.u_last.unwrap_or_default(),
                        avatar_version: r.u_avatar,
                    };
                    (Some(u.display_name()), u.avatar_url())
                }
                _ => (Some("Former agent".to_string()), None),
            },
            AuthorKind::Visitor => (r.v_name.filter(|n| !n.is_empty()), None),
            AuthorKind::Bot | AuthorKind::System => (None, None),
        };
        Message {
            id: r.id,
            conversation_id: r.conversation_id,
            seq: r.seq,
            author: Author { kind, id: r.author_id, display_name, avatar_url },
            body: MessageBody::from_stored(r.body, r.text),
            internal: r.internal,
            client_id: r.client_id,
            event: r.event,
            detail: r.event_detail.map(|d| d.0),
            attachments: r.attachments.map(|a| a.0).unwrap_or_default(),
            created_at: r.created_at,
        }
    }
}

row! {
pub(crate) struct SummaryRow {
    #[flatten]
    conversation: ConversationRow,
    bot_name: String,
    v_id: VisitorId,
    v_name: Option<String>,
    v_email: Option<String>,
    v_page_url: Option<String>,
    v_fields: columns::Json<std::collections::BTreeMap<String, String>>,
    v_created_at: i64,
    r_score: Option<i64>,
    r_scale: Option<Csat>,
    r_comment: Option<String>,
    r_at: Option<i64>,
    a_id: Option<UserId>,
    a_email: Option<String>,
    a_first: Option<String>,
    a_last: Option<String>,
    a_avatar: Option<i64>,
    last_preview: Option<String>,
    last_author_kind: Option<AuthorKind>,
    last_message_at: Option<i64>,
    unread_count: i64,
}
}

impl From<SummaryRow> for ChatSummary {
    fn from(r: SummaryRow) -> Self {
        let assignee = match (r.a_id, r.a_email) {
            (Some(id), Some(email)) => Some(User {
                id,
                email,
                first_name: r.a_first.unwrap_or_default(),
                last_name: r.a_last.unwrap_or_default(),
                avatar_version: r.a_avatar,
            }),
            _ => None,
        };
        let last_message = match (r.last_preview, r.last_author_kind, r.last_message_at) {
            (Some(preview), Some(author_kind), Some(at)) => Some(LastMessage { preview, author_kind, at }),
            _ => None,
        };
        let conversation: Conversation = r.conversation.into();
        let visitor = Visitor {
            id: r.v_id,
            bot_id: conversation.bot_id.clone(),
            name: r.v_name,
            email: r.v_email,
            page_url: r.v_page_url,
            fields: r.v_fields.0,
            created_at: r.v_created_at,
        };
        let rating = match (r.r_score, r.r_scale, r.r_at) {
            (Some(score), Some(scale), Some(created_at)) => Some(Rating { score, scale, comment: r.r_comment, created_at }),
            _ => None,
        };
        ChatSummary { conversation, bot_name: r.bot_name, visitor, assignee, last_message, unread_count: r.unread_count, rating }
    }
}

row! {
pub(crate) struct AttachmentRow {
    id: AttachmentId,
    name: String,
    kind: String,
    content_type: String,
    size: i64,
    width: Option<i64>,
    height: Option<i64>,
}
}

impl TryFrom<AttachmentRow> for Attachment {
    type Error = StoreError;
    fn try_from(r: AttachmentRow) -> Result<Self, StoreError> {
        let kind = crate::domain::attachment::Kind::parse(&r.kind).ok_or_else(|| StoreError::Corrupt(format!("attachment kind {:?}", r.kind)))?;
        Ok(Attachment { id: r.id, name: r.name, kind, content_type: r.content_type, size: r.size, width: r.width, height: r.height })
    }
}

row! {
pub(crate) struct StoredAttachmentRow {
    #[flatten]
    attachment: AttachmentRow,
    conversation_id: ConversationId,
    uploader: String,
    message_id: Option<MessageId>,
    internal: bool,
    visitor_id: VisitorId,
    created_at: i64,
}
}

impl TryFrom<StoredAttachmentRow> for StoredAttachment {
    type Error = StoreError;
    fn try_from(r: StoredAttachmentRow) -> Result<Self, StoreError> {
        Ok(StoredAttachment {
            attachment: r.attachment.try_into()?,
            conversation_id: r.conversation_id,
            uploader: r.uploader,
            message_id: r.message_id,
            internal: r.internal,
            visitor_id: r.visitor_id,
            created_at: r.created_at,
        })
    }
}

row! {
pub(crate) struct SearchRow {
    conversation_id: ConversationId,
    state: ChatState,
    escalated_at: Option<i64>,
    last_activity_at: i64,
    bot_id: BotId,
    bot_name: String,
    visitor_id: VisitorId,
    visitor_name: Option<String>,
    visitor_email: Option<String>,
}
}

impl From<SearchRow> for ChatHit {
    fn from(r: SearchRow) -> Self {
        ChatHit {
            id: r.conversation_id,
            state: r.state,
            escalated_at: r.escalated_at,
            last_activity_at: r.last_activity_at,
            bot_id: r.bot_id,
            bot_name: r.bot_name,
            visitor_id: r.visitor_id,
            visitor_name: r.visitor_name,
            visitor_email: r.visitor_email,
        }
    }
}

row! {
pub(crate) struct MessageHitRow {
    #[flatten]
    chat: SearchRow,
    message_id: MessageId,
    seq: i64,
    author_kind: AuthorKind,
    internal: bool,
    text: String,
    created_at: i64,
    u_first: Option<String>,
    u_last: Option<String>,
    u_email: Option<String>,
}
}

impl From<MessageHitRow> for MessageHit {
    fn from(r: MessageHitRow) -> Self {
        let author_name = match (r.author_kind, r.u_email) {
            (AuthorKind::Agent, Some(email)) => Some(
                User {
                    id: UserId::new(),
                    email,
                    first_name: r.u_first.unwrap_or_default(),
                    last_name: r.u_last.unwrap_or_default(),
                    avatar_version: None,
                }
                .display_name(),
            ),
            _ => None,
        };
        MessageHit {
            chat: r.chat.into(),
            message_id: r.message_id,
            seq: r.seq,
            author_kind: r.author_kind,
            author_name,
            internal: r.internal,
            text: r.text,
            created_at: r.created_at,
        }
    }
}

row! {
pub(crate) struct VisitorContextRow {
    context: columns::Json<crate::domain::visitor::Context>,
    attributes: columns::Json<std::collections::BTreeMap<String, String>>,
    updated_at: i64,
}
}

row! {
pub(crate) struct PastChatRow {
    id: ConversationId,
    state: ChatState,
    created_at: i64,
    escalated_at: Option<i64>,
    resolved_at: Option<i64>,
    last_preview: Option<String>,
    bot_name: String,
    u_first: Option<String>,
    u_last: Option<String>,
    u_email: Option<String>,
    r_score: Option<i64>,
    r_scale: Option<Csat>,
    r_comment: Option<String>,
    r_at: Option<i64>,
}
}

impl From<PastChatRow> for PastChat {
    fn from(r: PastChatRow) -> Self {
        let assignee = r.u_email.map(|email| {
            User {
                id: UserId::new(),
                email,
                first_name: r.u_first.unwrap_or_default(),
                last_name: r.u_last.unwrap_or_default(),
                avatar_version: None,
            }
            .display_name()
        });
        let rating = match (r.r_score, r.r_scale, r.r_at) {
            (Some(score), Some(scale), Some(created_at)) => Some(Rating { score, scale, comment: r.r_comment, created_at }),
            _ => None,
        };
        PastChat {
            id: r.id,
            state: r.state,
            created_at: r.created_at,
            escalated_at: r.escalated_at,
            resolved_at: r.resolved_at,
            preview: r.last_preview,
            bot_name: r.bot_name,
            assignee,
            rating,
        }
    }
}

/// Expands every area's implementation for one backend.
macro_rules! sql_store {
    ($Store:ty, $Db:ty, $engine:ident, lock = $lock:literal, skip_locked = $skip:literal) => {
        search_store!($Store, $Db, $engine);
        notify_store!($Store, $Db, skip_locked = $skip);
        account_store!($Store, $Db, lock = $lock);
        team_store!($Store, $Db, lock = $lock);
        bot_store!($Store, $Db, lock = $lock);
        chat_store!($Store, $Db, lock = $lock);
        presence_store!($Store, $Db, lock = $lock);
        shortcut_store!($Store, $Db, lock = $lock);
        attachment_store!($Store, $Db);
        visitor_store!($Store, $Db);
        audit_store!($Store, $Db);
        data_store!($Store, $Db, lock = $lock, skip_locked = $skip);
        report_store!($Store, $Db);
        webhook_store!($Store, $Db, skip_locked = $skip);
    };
}

sql_store!(super::sqlite::SqliteStore, super::sqlite::LiteConn, sqlite, lock = "", skip_locked = "");
sql_store!(super::postgres::PgStore, sqlx::PgConnection, postgres, lock = " FOR UPDATE", skip_locked = " FOR UPDATE SKIP LOCKED");

row! {
pub(crate) struct ShortcutRow {
    id: ShortcutId,
    team_id: TeamId,
    owner_id: Option<UserId>,
    name: String,
    body: String,
    created_at: i64,
}
}

impl From<ShortcutRow> for Shortcut {
    fn from(r: ShortcutRow) -> Self {
        Shortcut { id: r.id, team_id: r.team_id, owner_id: r.owner_id, name: r.name, body: r.body, created_at: r.created_at }
    }
}

row! {
pub(crate) struct PrefsRow {
    while_online: bool,
    while_offline: bool,
    new_escalation: bool,
    visitor_message: bool,
    transfer: bool,
}
}

impl From<PrefsRow> for Prefs {
    fn from(r: PrefsRow) -> Self {
        Prefs {
            while_online: r.while_online,
            while_offline: r.while_offline,
            new_escalation: r.new_escalation,
            visitor_message: r.visitor_message,
            transfer: r.transfer,
        }
    }
}

row! {
/// A user with optional preferences (`NULL` columns: never set, so the defaults).
pub(crate) struct RecipientRow {
    user_id: UserId,
    status: Status,
    while_online: Option<bool>,
    while_offline: Option<bool>,
    new_escalation: Option<bool>,
    visitor_message: Option<bool>,
    transfer: Option<bool>,
}
}

impl From<RecipientRow> for Recipient {
    fn from(r: RecipientRow) -> Self {
        let d = Prefs::default();
        Recipient {
            user_id: r.user_id,
            status: r.status,
            prefs: Prefs {
                while_online: r.while_online.unwrap_or(d.while_online),
                while_offline: r.while_offline.unwrap_or(d.while_offline),
                new_escalation: r.new_escalation.unwrap_or(d.new_escalation),
                visitor_message: r.visitor_message.unwrap_or(d.visitor_message),
                transfer: r.transfer.unwrap_or(d.transfer),
            },
        }
    }
}

row! {
pub(crate) struct SubscriptionRow {
    id: String,
    user_id: UserId,
    endpoint: String,
    p256dh: String,
    auth: String,
    user_agent: Option<String>,
    created_at: i64,
    last_success_at: Option<i64>,
    last_error: Option<String>,
    last_error_at: Option<i64>,
}
}

impl From<SubscriptionRow> for PushSubscription {
    fn from(r: SubscriptionRow) -> Self {
        PushSubscription {
            id: r.id,
            user_id: r.user_id,
            endpoint: r.endpoint,
            p256dh: r.p256dh,
            auth: r.auth,
            user_agent: r.user_agent,
            created_at: r.created_at,
            last_success_at: r.last_success_at,
            last_error: r.last_error,
            last_error_at: r.last_error_at,
        }
    }
}

row! {
/// A member with their profile and presence; needs `members m` and `users u`.
pub(crate) struct MemberRow {
    #[flatten]
    user: UserRow,
    #[flatten]
    membership: MembershipRow,
    #[flatten]
    presence: PresenceRow,
}
}

impl From<MemberRow> for Member {
    fn from(r: MemberRow) -> Self {
        Member { user: r.user.into(), membership: r.membership.into(), presence: r.presence.into() }
    }
}

/// The webhook columns of a responder: (url, secret), both `NULL` for the knowledge base.
pub(crate) fn responder_columns(r: &Responder) -> (Option<String>, Option<String>) {
    match r {
        Responder::Webhook { url, secret } => (Some(url.clone()), secret.clone()),
        Responder::Knowledge => (None, None),
    }
}

row! {
pub(crate) struct AuditRow {
    id: AuditId,
    team_id: Option<TeamId>,
    at: i64,
    actor_id: Option<UserId>,
    actor_label: String,
    action: crate::domain::audit::Action,
    target_kind: crate::domain::audit::TargetKind,
    target_id: Option<String>,
    target_label: String,
    detail: columns::Json<serde_json::Value>,
    address: String,
}
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        AuditEntry {
            id: r.id,
            team_id: r.team_id,
            at: r.at,
            actor_id: r.actor_id,
            actor_label: r.actor_label,
            action: r.action,
            target_kind: r.target_kind,
            target_id: r.target_id,
            target_label: r.target_label,
            detail: r.detail.0,
            address: r.address,
        }
    }
}

row! {
pub(crate) struct WebhookRow {
    id: WebhookId,
    team_id: TeamId,
    name: String,
    url: String,
    secret: String,
    events: columns::Json<Vec<crate::domain::webhook::Event>>,
    enabled: bool,
    disabled_at: Option<i64>,
    disabled_reason: Option<String>,
    failing_since: Option<i64>,
    consecutive_failures: i64,
    created_at: i64,
}
}

impl From<WebhookRow> for Webhook {
    fn from(r: WebhookRow) -> Self {
        Webhook {
            id: r.id,
            team_id: r.team_id,
            name: r.name,
            url: r.url,
            secret: r.secret,
            events: r.events.0,
            enabled: r.enabled,
            disabled_at: r.disabled_at,
            disabled_reason: r.disabled_reason,
            failing_since: r.failing_since,
            consecutive_failures: r.consecutive_failures,
            created_at: r.created_at,
        }
    }
}

row! {
pub(crate) struct DeliveryRow {
    id: String,
    webhook_id: WebhookId,
    event_id: String,
    event: crate::domain::webhook::Event,
    payload: String,
    state: String,
    attempts: i64,
    next_attempt_at: i64,
    last_status: Option<i64>,
    last_error: Option<String>,
    last_attempt_at: Option<i64>,
    created_at: i64,
    done_at: Option<i64>,
}
}

impl From<DeliveryRow> for Delivery {
    fn from(r: DeliveryRow) -> Self {
        Delivery {
            id: r.id,
            webhook_id: r.webhook_id,
            event_id: r.event_id,
            event: r.event,
            payload: r.payload,
            state: r.state,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            last_status: r.last_status,
            last_error: r.last_error,
            last_attempt_at: r.last_attempt_at,
            created_at: r.created_at,
            done_at: r.done_at,
        }
    }
}
