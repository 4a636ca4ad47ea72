//! Storage: one interface, two engines.
//!
//! [`Store`] is the whole interface, split by area into supertraits so each area's SQL lives in
//! its own file. Both engines ([`sqlite::SqliteStore`], the embedded default, on rusqlite, and
//! [`postgres::PgStore`], on sqlx) run the same SQL text through the small query layer in
//! [`db`]: SQLite accepts PostgreSQL's `$1` placeholders, ids are TEXT and times are BIGINT
//! milliseconds in both, so only row locks (`FOR UPDATE` on PostgreSQL) differ, and those are
//! macro parameters of [`sql`].
//!
//! Each store method is one *job*: a block of statements run on one connection, inside a
//! transaction when it writes. SQLite runs a job on its own threads (the writer group-commits
//! every job waiting); PostgreSQL runs it on a pooled connection. Callers publish real-time
//! events only after a method returns, i.e. after commit.

pub mod blobs;
#[macro_use]
mod db;
pub mod postgres;
pub mod records;
mod sql;
pub mod sqlite;
mod write;

use async_trait::async_trait;

use crate::clock::Millis;
use crate::domain::chat::{RequeueReason, TransitionError, Trigger};
use crate::domain::ids::*;
use crate::domain::presence::Status;
use crate::domain::team::BotAccess;
use crate::domain::values::{ClientId, MessageBody};
pub use records::*;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A refused write: the code is API.md's (`already_set_up`, `email_taken`, ...).
    #[error("{1}")]
    Conflict(&'static str, String),
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// Input that only the store can check (a bot id from another team, ...).
    #[error("{0}")]
    Invalid(String),
    /// The database failed (unreachable, a constraint no refusal maps, a migration).
    #[error("database error: {0}")]
    Db(Box<dyn std::error::Error + Send + Sync>),
    /// A stored value does not decode (an unknown state, a malformed id or list): the row is
    /// refused rather than read as a default.
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Migrations embedded in the binary: (version, description, SQL).
fn migrator(files: &[(i64, &'static str, &'static str)]) -> sqlx::migrate::Migrator {
    use sqlx::SqlSafeStr;
    use sqlx::migrate::{Migration, MigrationType, Migrator};
    let migrations =
        files.iter().map(|(v, d, sql)| Migration::new(*v, (*d).into(), MigrationType::Simple, sql.into_sql_str(), false)).collect::<Vec<_>>();
    Migrator { migrations: migrations.into(), ..Migrator::DEFAULT }
}

/// The whole storage interface.
pub trait Store:
    AccountStore
    + TeamStore
    + BotStore
    + ChatStore
    + PresenceStore
    + NotifyStore
    + ShortcutStore
    + AttachmentStore
    + SearchStore
    + VisitorStore
    + AuditStore
    + DataStore
    + WebhookStore
    + ReportStore
    + Send
    + Sync
    + 'static
{
}
impl<
    T: AccountStore
        + TeamStore
        + BotStore
        + ChatStore
        + PresenceStore
        + NotifyStore
        + ShortcutStore
        + AttachmentStore
        + SearchStore
        + VisitorStore
        + AuditStore
        + DataStore
        + WebhookStore
        + ReportStore
        + ReportStore
        + WebhookStore
        + ReportStore
        + ReportStore
        + DataStore
        + WebhookStore
        + ReportStore
        + ReportStore
        + WebhookStore
        + ReportStore
        + ReportStore
        + Send
        + Sync
        + 'static,
> Store for T
{
}

/// Users, credentials, sessions, profile and presence.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// The database answers a query.
    async fn ping(&self) -> Result<()>;
    async fn user_count(&self) -> Result<i64>;
    /// First-run: creates the first user, their team, and marks the instance set up.
    /// `Conflict("already_set_up")` once any user exists, even under concurrent calls.
    async fn setup(&self, user: NewUser, team_name: &str, now: Millis) -> Result<(User, Team)>;
    async fn user(&self, id: &UserId) -> Result<Option<User>>;
    async fn credentials(&self, email: &str) -> Result<Option<(User, String)>>;
    async fn update_user(&self, id: &UserId, patch: UserPatch) -> Result<User>;
    async fn set_avatar(&self, id: &UserId, png: Vec<u8>, version: Millis) -> Result<()>;
    async fn avatar(&self, id: &UserId) -> Result<Option<Vec<u8>>>;
    async fn create_session(&self, session: &Session, now: Millis) -> Result<()>;
    async fn session(&self, token_hash: &str, now: Millis) -> Result<Option<Session>>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
    async fn create_api_token(
        &self,
        id: &TokenId,
        user: &UserId,
        name: &str,
        token_hash: &str,
        now: Millis,
        expires_at: Option<Millis>,
    ) -> Result<()>;
    /// The owner of an unexpired token; notes its use (at most once a minute).
    async fn api_token_user(&self, token_hash: &str, now: Millis) -> Result<Option<UserId>>;
    /// Deletes a personal API token; whether it existed.
    async fn revoke_api_token(&self, token_hash: &str) -> Result<bool>;
    /// The user's personal API tokens, newest first (never their secret).
    async fn api_tokens(&self, user: &UserId) -> Result<Vec<ApiToken>>;
    /// Deletes one of the user's tokens by id; whether it existed.
    async fn revoke_api_token_id(&self, user: &UserId, id: &TokenId) -> Result<bool>;
    /// Ends every session of the user but `keep` (a session token hash).
    async fn end_sessions(&self, user: &UserId, keep: Option<&str>) -> Result<()>;
    /// Notes a successful login from `address`, and forgets the user's addresses not seen
    /// since `forget_before`.
    async fn remember_login_address(&self, user: &UserId, address: &str, now: Millis, forget_before: Millis) -> Result<()>;
    /// Whether the user has logged in from `address` since `since`.
    async fn known_login_address(&self, user: &UserId, address: &str, since: Millis) -> Result<bool>;
    async fn password_hash(&self, user: &UserId) -> Result<Option<String>>;
    async fn set_password(&self, user: &UserId, hash: &str) -> Result<()>;
    /// A new reset link for the user (their earlier ones stop working).
    async fn create_password_reset(&self, user: &UserId, token_hash: &str, now: Millis, expires_at: Millis) -> Result<()>;
    /// Uses a reset link: sets the password, ends every session, and uses up the user's links.
    /// The user, or `None` for a link unknown, used or expired.
    async fn use_password_reset(&self, token_hash: &str, password_hash: &str, now: Millis) -> Result<Option<User>>;
    /// An OpenID Connect sign-in under way, by the hash of its `state`, bound to the browser
    /// that started it (the hash of a cookie set there).
    async fn save_oidc_login(&self, state_hash: &str, binding_hash: &str, verifier: &str, nonce: &str, now: Millis) -> Result<()>;
    /// Takes (once) the sign-in started at most ten minutes ago in this browser: (PKCE
    /// verifier, nonce).
    async fn take_oidc_login(&self, state_hash: &str, binding_hash: &str, now: Millis) -> Result<Option<(String, String)>>;
    async fn me(&self, id: &UserId) -> Result<Me>;
    /// The user's membership in their stored active team, if they are still a member of it.
    async fn active_membership(&self, user: &UserId) -> Result<Option<Membership>>;
    /// `NotFound` unless the user is a member of the team.
    async fn set_active_team(&self, user: &UserId, team: &TeamId) -> Result<()>;
}

/// Teams, membership and settings.
#[async_trait]
pub trait TeamStore: Send + Sync {
    async fn create_team(&self, owner: &UserId, name: &str, now: Millis) -> Result<Team>;
    async fn membership(&self, team: &TeamId, user: &UserId) -> Result<Option<Membership>>;
    async fn members(&self, team: &TeamId) -> Result<Vec<Member>>;
    async fn member(&self, team: &TeamId, user: &UserId) -> Result<Option<Member>>;
    /// Adds an existing user (found by email) or creates one. `Conflict("already_member")`.
    async fn add_member(&self, team: &TeamId, new: NewMember, now: Millis) -> Result<Member>;
    /// Invites `new.email` to the team, replacing a pending invitation for it; makes the
    /// account when the email has none and a password hash is given (never touches an existing
    /// account). `already_member` when the email's user is in the team.
    async fn invite(&self, team: &TeamId, new: NewMember, invited_by: &UserId, now: Millis, expires_at: Millis) -> Result<Invitation>;
    /// The team's pending, unexpired invitations, oldest first.
    async fn team_invitations(&self, team: &TeamId, now: Millis) -> Result<Vec<Invitation>>;
    /// The pending, unexpired invitations of a user, oldest first.
    async fn invitations_for(&self, user: &UserId, now: Millis) -> Result<Vec<Invitation>>;
    /// Deletes a pending invitation of the team: `None` when there was none, else the account
    /// it was for (if any).
    async fn withdraw_invitation(&self, team: &TeamId, id: &InvitationId) -> Result<Option<Option<UserId>>>;
    /// Deletes a pending invitation of the user; whether it existed.
    async fn decline_invitation(&self, id: &InvitationId, user: &UserId) -> Result<bool>;
    /// Gives a pending invitation (for an email with no account) the hash of its join link.
    async fn set_invitation_token(&self, id: &InvitationId, token_hash: &str) -> Result<()>;
    /// The pending, unexpired invitation whose join link this is.
    async fn invitation_by_token(&self, token_hash: &str, now: Millis) -> Result<Option<Invitation>>;
    /// Makes the invited account (with the invitation's email) and ties the invitation to it,
    /// its link used up; `NotFound` for a link withdrawn, expired or used, `email_taken` when
    /// the email got an account meanwhile. The caller then accepts the invitation.
    async fn join_by_invitation(&self, token_hash: &str, user: NewUser, now: Millis) -> Result<(User, InvitationId)>;
    /// Makes the user a member as invited (if the invitation is theirs and has not expired) and
    /// deletes it; the user's active team becomes it if they had none.
    async fn accept_invitation(&self, id: &InvitationId, user: &UserId, now: Millis) -> Result<Member>;
    /// `Conflict("last_owner")` if the team would be left without an owner.
    async fn update_member(&self, team: &TeamId, user: &UserId, patch: MemberPatch) -> Result<Member>;
    /// Removes the member; their live chats in the team go back to the queue (returned so the
    /// caller can announce them). `Conflict("last_owner")`.
    async fn remove_member(&self, team: &TeamId, user: &UserId, now: Millis) -> Result<Vec<Applied>>;
    async fn team(&self, team: &TeamId) -> Result<Option<Team>>;
    async fn update_team_settings(&self, team: &TeamId, patch: SettingsPatch) -> Result<Team>;
}

/// Bots, their knowledge and their visitors.
#[async_trait]
pub trait BotStore: Send + Sync {
    async fn create_bot(&self, team: &TeamId, bot: BotInput, now: Millis) -> Result<Bot>;
    async fn bot(&self, id: &BotId) -> Result<Option<Bot>>;
    /// The team's bots the member reaches.
    async fn bots(&self, team: &TeamId, access: &BotAccess) -> Result<Vec<Bot>>;
    async fn update_bot(&self, id: &BotId, bot: BotInput) -> Result<Bot>;
    async fn delete_bot(&self, id: &BotId) -> Result<()>;
    /// Whether an agent with access to the bot is `available`, and the latest activity of any.
    async fn availability(&self, bot: &BotId) -> Result<(bool, Option<Millis>)>;
    async fn create_visitor(
        &self,
        bot: &BotId,
        name: Option<&str>,
        email: Option<&str>,
        page_url: Option<&str>,
        token_hash: &str,
        now: Millis,
    ) -> Result<Visitor>;
    async fn visitor_by_token(&self, token_hash: &str) -> Result<Option<Visitor>>;
    /// The visitor a token belongs to, with their bot (its `knowledge` left empty: load it with
    /// [`BotStore::bot`] when the bot has to answer). One query for the widget's hot path.
    async fn visitor_session(&self, token_hash: &str) -> Result<Option<(Visitor, Bot)>>;
    async fn visitor(&self, id: &VisitorId) -> Result<Option<Visitor>>;
    async fn update_visitor(&self, id: &VisitorId, name: Option<Option<&str>>, email: Option<Option<&str>>) -> Result<Visitor>;
    /// Replaces the visitor's pre-chat answers.
    async fn set_visitor_fields(&self, id: &VisitorId, fields: &std::collections::BTreeMap<String, String>) -> Result<Visitor>;
    /// Stores the bot's logo (a PNG) and its new version.
    async fn set_bot_logo(&self, bot: &BotId, png: Vec<u8>, version: Millis) -> Result<()>;
    async fn bot_logo(&self, bot: &BotId) -> Result<Option<Vec<u8>>>;
    /// Removes the logo; whether there was one.
    async fn delete_bot_logo(&self, bot: &BotId) -> Result<bool>;
}

/// Conversations, messages and the live-chat lifecycle.
#[async_trait]
pub trait ChatStore: Send + Sync {
    /// The visitor's newest conversation.
    async fn current_conversation(&self, visitor: &VisitorId) -> Result<Option<Conversation>>;
    /// Opens a conversation unless one is still open (`Conflict("conversation_open")`).
    async fn start_conversation(&self, visitor: &VisitorId, bot: &BotId, now: Millis) -> Result<Conversation>;
    async fn conversation(&self, id: &ConversationId) -> Result<Option<Conversation>>;
    /// Messages with `seq > after_seq`, in order; internal notes only when asked for.
    async fn messages(&self, conversation: &ConversationId, after_seq: i64, include_internal: bool) -> Result<Vec<Message>>;
    /// At most `limit` of those, the oldest first: a page of a long history.
    async fn messages_page(&self, conversation: &ConversationId, after_seq: i64, include_internal: bool, limit: i64) -> Result<Vec<Message>>;
    /// The one write path for conversations: loads the facts under a row lock, asks
    /// [`crate::domain::chat::decide`], writes what it decided, commits.
    async fn apply(&self, conversation: &ConversationId, act: Act, now: Millis) -> Result<Applied>;
    async fn live_chats(&self, scope: &AgentScope, query: &ChatQuery) -> Result<(Vec<ChatSummary>, Option<ChatCursor>)>;
    /// A chat the agent may see (team + bot access), or `None`.
    async fn live_chat(&self, scope: &AgentScope, id: &ConversationId) -> Result<Option<ChatSummary>>;
    /// Moves the reader's marker forward (never back).
    async fn mark_read(&self, conversation: &ConversationId, reader: &str, up_to_seq: i64) -> Result<()>;
    /// The bot's pending chats, the next to be claimed first: (conversation, visitor).
    async fn queue(&self, bot: &BotId, limit: i64) -> Result<Vec<(ConversationId, VisitorId)>>;
    /// A pending chat's place in its bot's queue (1: next); `None` when it is not pending.
    async fn queue_position(&self, conversation: &ConversationId) -> Result<Option<i64>>;
    /// How long the bot's most recent chats escalated since `since` waited for their first
    /// claim (milliseconds), newest first, at most `limit`.
    async fn recent_waits(&self, bot: &BotId, since: Millis, limit: i64) -> Result<Vec<Millis>>;
    /// Stores the visitor's rating of the conversation; `Conflict("already_rated")` the second
    /// time.
    async fn rate(&self, conversation: &ConversationId, rating: &Rating) -> Result<()>;
    async fn rating(&self, conversation: &ConversationId) -> Result<Option<Rating>>;
    /// The user's active and transferred chats, in every team.
    async fn assigned_chats(&self, user: &UserId) -> Result<Vec<Conversation>>;
    /// Snoozed chats whose time came by `now`, the earliest first.
    async fn due_snoozes(&self, now: Millis, limit: i64) -> Result<Vec<ConversationId>>;
}

/// What agents see about a visitor beside the chat.
#[async_trait]
pub trait VisitorStore: Send + Sync {
    /// Replaces the visitor's context (their attributes stay).
    async fn set_visitor_context(&self, visitor: &VisitorId, context: &crate::domain::visitor::Context, now: Millis) -> Result<()>;
    /// Replaces the attributes the host page set (the context stays).
    async fn set_visitor_attributes(&self, visitor: &VisitorId, attributes: &std::collections::BTreeMap<String, String>, now: Millis) -> Result<()>;
    async fn visitor_context(&self, visitor: &VisitorId) -> Result<Option<VisitorContext>>;
    /// The visitor's chats with the team (conversations that reached it), newest first.
    async fn visitor_chats(&self, visitor: &VisitorId, limit: i64) -> Result<Vec<PastChat>>;
}

/// The audit log: entries are added, never changed or removed (the tables refuse it too).
#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn append_audit(&self, entries: Vec<AuditEntry>) -> Result<()>;
    /// The team's entries matching `filter`, newest first, at most `limit`.
    async fn audit_log(&self, team: &TeamId, filter: &AuditFilter, limit: i64) -> Result<Vec<AuditEntry>>;
}

/// A visitor's data, whole (to export or erase it), and the retention period's deletions.
#[async_trait]
pub trait DataStore: Send + Sync {
    /// Every conversation of the visitor, bot-only ones included, oldest first.
    async fn visitor_conversations(&self, visitor: &VisitorId) -> Result<Vec<Conversation>>;
    /// The team's visitors who gave this email (any case), newest first.
    async fn visitors_by_email(&self, team: &TeamId, email: &str, limit: i64) -> Result<Vec<Visitor>>;
    /// Deletes the visitor and everything of theirs in one transaction; what went (the files'
    /// bytes are the caller's to remove, after commit). `NotFound` when there is no such visitor.
    async fn erase_visitor(&self, visitor: &VisitorId) -> Result<Erased>;
    /// Whether any team has resolved conversations past its retention period (a read: the
    /// timers ask every pass, and write only when there is something to delete).
    async fn retention_due(&self, now: Millis) -> Result<bool>;
    /// Deletes resolved conversations older than their team's retention period, at most `limit`
    /// per team, and visitors left with none; what went, per team.
    async fn expire_resolved(&self, now: Millis, limit: i64) -> Result<Vec<Expired>>;
}

/// Outgoing webhooks, their outbox of deliveries, and the mail outbox.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    async fn create_webhook(&self, w: &Webhook, created_by: &UserId) -> Result<()>;
    /// The team's webhooks, oldest first.
    async fn webhooks(&self, team: &TeamId) -> Result<Vec<Webhook>>;
    async fn webhook(&self, id: &WebhookId) -> Result<Option<Webhook>>;
    async fn update_webhook(&self, id: &WebhookId, patch: WebhookPatch, now: Millis) -> Result<Webhook>;
    /// Whether there was one (its deliveries go with it).
    async fn delete_webhook(&self, id: &WebhookId) -> Result<bool>;
    /// The webhook's deliveries, newest first, before `(created_at, id)` when given.
    async fn deliveries(&self, webhook: &WebhookId, before: Option<(Millis, String)>, limit: i64) -> Result<Vec<Delivery>>;
    /// Sends a delivery of the webhook again, now; whether there was one.
    async fn redeliver(&self, webhook: &WebhookId, delivery: &str, now: Millis) -> Result<bool>;
    /// Takes up to `limit` due deliveries of enabled webhooks, moving each out of reach of other
    /// nodes for `lease` ms; each with its webhook.
    async fn claim_deliveries(&self, now: Millis, lease: Millis, limit: i64) -> Result<Vec<(Delivery, Webhook)>>;
    /// Records an attempt; updates the webhook's failure run and turns it off when
    /// [`crate::domain::webhook::should_disable`] says so (its waiting deliveries then fail).
    /// `Some(webhook)` when this attempt turned it off.
    async fn record_attempt(&self, delivery: &str, attempt: Attempt, now: Millis) -> Result<Option<Webhook>>;
    /// Forgets finished deliveries created before `before`; how many.
    async fn prune_deliveries(&self, before: Millis) -> Result<u64>;
    async fn queue_mail(&self, to: &str, subject: &str, body: &str, now: Millis) -> Result<()>;
    /// Takes due mails, each out of reach for a minute.
    async fn claim_mail(&self, now: Millis, limit: i64) -> Result<Vec<Mail>>;
    /// `sent` or `failed` (the body is blanked), or again at `retry_at`.
    async fn mail_done(&self, id: &str, state: &'static str, error: Option<&str>, retry_at: Option<Millis>, now: Millis) -> Result<()>;
}

/// Reports over a team's conversations.
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// The conversations that reached the team in the range, added up per local day, bot and
    /// agent; and the bot's own per day and bot. Optionally for one bot or one agent.
    async fn report(&self, team: &TeamId, range: &crate::domain::report::Range, bot: Option<&BotId>, agent: Option<&UserId>) -> Result<ReportRows>;
    /// The same conversations one by one, oldest first, at most `limit`.
    async fn report_conversations(
        &self,
        team: &TeamId,
        range: &crate::domain::report::Range,
        bot: Option<&BotId>,
        agent: Option<&UserId>,
        limit: i64,
    ) -> Result<Vec<ReportConversation>>;
}

/// Search in the chats an agent may see.
#[async_trait]
pub trait SearchStore: Send + Sync {
    /// Messages (not system lines; notes included) with every word of the query, newest first,
    /// and conversations whose visitor's name or email has every word; `limit` of each.
    async fn search(&self, scope: &AgentScope, q: &crate::domain::search::Query, limit: i64) -> Result<SearchResults>;
}

/// Unsent uploads one person may have waiting at once.
pub const MAX_UNSENT_UPLOADS: i64 = 20;

/// Files sent in chats: what each is and who may see it. The bytes are in the blob store
/// ([`blobs`]) under the same id.
#[async_trait]
pub trait AttachmentStore: Send + Sync {
    /// Notes an upload (not yet sent) to the conversation; `Conflict("too_many_uploads")` past
    /// [`MAX_UNSENT_UPLOADS`] unsent ones of the uploader, `NotFound` when the conversation is gone.
    async fn add_upload(&self, conversation: &ConversationId, uploader: &str, attachment: &Attachment, now: Millis) -> Result<()>;
    async fn attachment(&self, id: &AttachmentId) -> Result<Option<StoredAttachment>>;
    /// Deletes an unsent upload of the uploader; whether there was one.
    async fn discard_upload(&self, id: &AttachmentId, uploader: &str) -> Result<bool>;
    /// Deletes up to `limit` uploads never sent and older than `before`; their ids.
    async fn expire_uploads(&self, before: Millis, limit: i64) -> Result<Vec<AttachmentId>>;
    /// Those of `ids` that a row still names.
    async fn known_attachments(&self, ids: &[AttachmentId]) -> Result<Vec<AttachmentId>>;
    /// Every file of the bot's conversations (to remove their bytes with the bot).
    async fn bot_attachments(&self, bot: &BotId) -> Result<Vec<AttachmentId>>;
}

/// Agent presence: every change goes through [`crate::domain::presence::step`] under the user's
/// row lock.
#[async_trait]
pub trait PresenceStore: Send + Sync {
    /// Applies one signal; returns the state before and after.
    async fn presence_signal(&self, user: &UserId, input: PresenceInput, now: Millis) -> Result<PresenceChange>;
    /// Agents whose heartbeat or idle clock may have run out (the sweeper ticks them).
    async fn presence_due(&self, now: Millis) -> Result<Vec<UserId>>;
    /// Live chats whose assignee's heartbeat expired longer ago than the team's grace period.
    async fn orphaned_chats(&self, now: Millis) -> Result<Vec<ConversationId>>;
}

/// A presence signal; the store adds the facts (team timers, chat load) the rules need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresenceInput {
    SetManual(Status),
    Heartbeat,
    Activity,
    Tick,
    /// Re-check capacity after the agent's number of active chats changed.
    Load,
}

/// Agent notifications (preferences, push subscriptions, the push outbox), the visitor email
/// outbox, and the keys that outlive a restart.
#[async_trait]
pub trait NotifyStore: Send + Sync {
    async fn prefs(&self, user: &UserId) -> Result<crate::domain::notify::Prefs>;
    async fn set_prefs(&self, user: &UserId, prefs: &crate::domain::notify::Prefs) -> Result<()>;
    /// Adds a device, or moves an endpoint already known to this user.
    async fn add_push_subscription(&self, sub: &PushSubscription) -> Result<()>;
    async fn remove_push_subscription(&self, user: &UserId, endpoint: &str) -> Result<bool>;
    async fn push_subscriptions(&self, user: &UserId) -> Result<Vec<PushSubscription>>;
    /// Queues `payload` for every device of the user; returns how many.
    async fn enqueue_push(&self, user: &UserId, payload: &str, now: Millis) -> Result<usize>;
    /// Claims due pushes for a minute (another node skips them meanwhile).
    async fn claim_pushes(&self, now: Millis, limit: i64) -> Result<Vec<PushJob>>;
    async fn push_delivered(&self, job: &str, subscription: &str, now: Millis) -> Result<()>;
    /// Records the error; `retry_at: None` gives the job up.
    async fn push_failed(&self, job: &str, subscription: &str, error: &str, now: Millis, retry_at: Option<Millis>) -> Result<()>;
    /// The push service says the device is gone: forget it and its pending pushes.
    async fn push_gone(&self, subscription: &str) -> Result<()>;
    /// The stored value of a named key, storing `candidate` first if there is none (first start).
    async fn instance_key(&self, name: &str, candidate: &str) -> Result<String>;
    /// Chat-capable members with access to the bot, with their status and preferences.
    async fn recipients(&self, bot: &BotId) -> Result<Vec<Recipient>>;
    async fn recipient(&self, user: &UserId) -> Result<Option<Recipient>>;
    /// Queues the conversation's transcript for `to`. `false` when one is already waiting;
    /// `Conflict("transcript_limit")` after `max` for the conversation.
    async fn queue_transcript(&self, conversation: &ConversationId, to: &str, max: i64, now: Millis) -> Result<bool>;
    /// Schedules an unread-reply email unless one is already pending for the conversation.
    async fn schedule_email(&self, conversation: &ConversationId, from_seq: i64, due_at: Millis, now: Millis) -> Result<bool>;
    /// Pending chats whose team's reminder is due (waiting longer than its interval since the
    /// escalation or the last reminder).
    async fn due_pending_alerts(&self, now: Millis, limit: i64) -> Result<Vec<ConversationId>>;
    /// Takes the chat's reminder: `false` when another node took it, or it is no longer due or
    /// pending.
    async fn take_pending_alert(&self, conversation: &ConversationId, now: Millis) -> Result<bool>;
    /// Claims due emails for a minute.
    async fn claim_emails(&self, now: Millis, limit: i64) -> Result<Vec<EmailJob>>;
    /// Ends a job: `sent`, `cancelled` or `failed`.
    async fn email_done(&self, id: &str, state: &'static str, error: Option<&str>, now: Millis) -> Result<()>;
    async fn email_later(&self, id: &str, due_at: Millis, error: Option<&str>) -> Result<()>;
    /// The visitor's read marker in a conversation (0 when none).
    async fn read_marker(&self, conversation: &ConversationId, reader: &str) -> Result<i64>;
    async fn add_resume_token(&self, visitor: &VisitorId, token_hash: &str, expires_at: Millis) -> Result<()>;
    /// The visitor an unexpired resume token belongs to.
    async fn resume_visitor(&self, token_hash: &str, now: Millis) -> Result<Option<Visitor>>;
    /// Another token for the same visitor (a second device).
    async fn add_visitor_token(&self, visitor: &VisitorId, token_hash: &str, now: Millis) -> Result<()>;
}

/// Canned replies.
#[async_trait]
pub trait ShortcutStore: Send + Sync {
    /// Team-wide ones plus the user's personal ones, optionally filtered by `q`.
    async fn shortcuts(&self, team: &TeamId, user: &UserId, q: Option<&str>) -> Result<Vec<Shortcut>>;
    async fn shortcut(&self, id: &ShortcutId) -> Result<Option<Shortcut>>;
    /// `Conflict("shortcut_exists")` for a duplicate name in the same scope.
    async fn create_shortcut(&self, shortcut: &Shortcut) -> Result<()>;
    async fn update_shortcut(&self, shortcut: &Shortcut) -> Result<()>;
    async fn delete_shortcut(&self, id: &ShortcutId) -> Result<()>;
}

/// A conversation write, with ids instead of facts; the store loads the facts.
#[derive(Debug, Clone)]
pub enum Act {
    Escalate(Trigger),
    /// `name`: the visitor's name as the caller knows it (shown as the message's author).
    VisitorMessage {
        visitor: VisitorId,
        name: Option<String>,
        body: MessageBody,
        client_id: Option<ClientId>,
        /// Files the visitor uploaded for this message.
        files: Vec<AttachmentId>,
    },
    /// A message left while nobody could answer: stored, and the chat queued for the team.
    LeaveMessage {
        visitor: VisitorId,
        name: Option<String>,
        body: MessageBody,
        client_id: Option<ClientId>,
    },
    BotReply {
        body: MessageBody,
        unanswered: bool,
    },
    Claim {
        agent: UserId,
    },
    AgentMessage {
        agent: UserId,
        body: MessageBody,
        client_id: Option<ClientId>,
        files: Vec<AttachmentId>,
    },
    Note {
        agent: UserId,
        body: MessageBody,
        client_id: Option<ClientId>,
        files: Vec<AttachmentId>,
    },
    Transfer {
        by: UserId,
        to: UserId,
    },
    ResolveByAgent {
        agent: UserId,
    },
    /// An agent takes a resolved chat up again.
    Reopen {
        agent: UserId,
    },
    /// The assignee puts an active chat aside until `until` (or until the visitor writes).
    Snooze {
        agent: UserId,
        until: Option<Millis>,
    },
    Unsnooze {
        agent: UserId,
    },
    /// The timers: the snooze's time (at or before `due`) came.
    Wake {
        due: Millis,
    },
    ResolveByVisitor {
        visitor: VisitorId,
    },
    EscalateByVisitor {
        visitor: VisitorId,
    },
    /// `WentOffline` is refused (`AssigneeReturned`) if the assignee is back by the time it runs.
    Requeue(RequeueReason),
}

/// Who is asking for live chats: their active team and their identity (bot access is looked up
/// from the membership inside every query).
#[derive(Debug, Clone)]
pub struct AgentScope {
    pub team: TeamId,
    pub user: UserId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatView {
    Inbox,
    Mine,
    Resolved,
    /// My snoozed chats.
    Snoozed,
}

#[derive(Debug, Clone)]
pub struct ChatQuery {
    pub view: ChatView,
    pub bot: Option<BotId>,
    pub after: Option<ChatCursor>,
    pub limit: i64,
}

/// Keyset position: the last row's activity time and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatCursor {
    pub at: Millis,
    pub id: String,
}
