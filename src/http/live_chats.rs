//! The agents' live-chat API: lists, detail, and every lifecycle action. Each action is one
//! `Store::apply` (one transaction through the pure transition function), then events.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::{Agent, AppJson, AppPath, AppQuery};
use super::openapi::Error;
use crate::domain::ids::{AttachmentId, BotId, ConversationId, UserId};
use crate::domain::values::{ClientId, MessageBody};
use crate::services::{AppState, attachments, chats};
use crate::store::{Act, AgentScope, Applied, ChatCursor, ChatQuery, ChatView};
use crate::views;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(detail))
        .routes(routes!(claim))
        .routes(routes!(reopen))
        .routes(routes!(snooze))
        .routes(routes!(unsnooze))
        .routes(routes!(send_message))
        .routes(routes!(add_note))
        .routes(routes!(transfer))
        .routes(routes!(resolve))
        .routes(routes!(mark_read))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// `inbox` (default: pending, active, transferred, not snoozed), `mine` (not snoozed),
    /// `resolved`, or `snoozed` (mine).
    view: Option<String>,
    bot_id: Option<String>,
    cursor: Option<String>,
    /// 1–100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

fn encode_cursor(c: &ChatCursor) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", c.at, c.id))
}

fn decode_cursor(raw: &str) -> ApiResult<ChatCursor> {
    let bad = || ApiError::invalid("cursor", "is not a cursor this server returned");
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
    let s = String::from_utf8(bytes).map_err(|_| bad())?;
    let (at, id) = s.split_once(':').ok_or_else(bad)?;
    let id = ConversationId::parse(id).ok_or_else(bad)?;
    Ok(ChatCursor { at: at.parse().map_err(|_| bad())?, id: id.to_string() })
}

#[derive(Serialize, ToSchema)]
struct ChatPage {
    items: Vec<views::ChatSummaryView>,
    /// Pass as `?cursor=` for the next page; `null` on the last one.
    next_cursor: Option<String>,
}

/// Live chats of the active team that the caller may see, newest activity first.
#[utoipa::path(get, path = "/api/live-chats", tag = "live chats", params(ListQuery),
    responses((status = 200, body = ChatPage), (status = 400, response = Error), (status = 401, response = Error), (status = 403, response = Error)))]
async fn list(State(state): State<AppState>, agent: Agent, AppQuery(q): AppQuery<ListQuery>) -> ApiResult<Json<ChatPage>> {
    let (scope, _) = agent.chat_scope(&state).await?;
    let view = match q.view.as_deref().unwrap_or("inbox") {
        "inbox" => ChatView::Inbox,
        "mine" => ChatView::Mine,
        "resolved" => ChatView::Resolved,
        "snoozed" => ChatView::Snoozed,
        _ => return Err(ApiError::invalid("view", "must be inbox, mine, resolved or snoozed")),
    };
    let bot = match q.bot_id.as_deref().filter(|s| !s.is_empty()) {
        Some(b) => Some(BotId::parse(b).ok_or_else(|| ApiError::invalid("bot_id", "is not a bot id"))?),
        None => None,
    };
    let limit = q.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 100"));
    }
    let after = q.cursor.as_deref().filter(|s| !s.is_empty()).map(decode_cursor).transpose()?;
    let (items, next) = state.store.live_chats(&scope, &ChatQuery { view, bot, after, limit }).await?;
    Ok(Json(ChatPage { items: items.iter().map(views::chat_summary).collect(), next_cursor: next.as_ref().map(encode_cursor) }))
}

fn chat_id(raw: &str) -> ApiResult<ConversationId> {
    ConversationId::parse(raw).ok_or(ApiError::NotFound)
}

/// The chat as the agent sees it, with its whole history (notes included).
async fn chat_view(state: &AppState, scope: &AgentScope, id: &ConversationId) -> ApiResult<views::ChatView> {
    let summary = state.store.live_chat(scope, id).await?.ok_or(ApiError::NotFound)?;
    let messages = state.store.messages(id, 0, true).await?;
    Ok(views::chat(&summary, &messages))
}

/// A chat with its whole history, internal notes included.
#[utoipa::path(get, path = "/api/live-chats/{id}", tag = "live chats", params(("id" = String, Path)),
    responses((status = 200, body = views::ChatView), (status = 401, response = Error), (status = 404, response = Error)))]
async fn detail(State(state): State<AppState>, agent: Agent, AppPath(id): AppPath<String>) -> ApiResult<Json<views::ChatView>> {
    let (scope, _) = agent.chat_scope(&state).await?;
    Ok(Json(chat_view(&state, &scope, &chat_id(&id)?).await?))
}

/// Runs one action on a chat of the caller's active team, publishes what it changed.
async fn act(state: &AppState, agent: &Agent, raw_id: &str, make: impl FnOnce(UserId) -> Act) -> ApiResult<(AgentScope, ConversationId, Applied)> {
    let (scope, _) = agent.chat_scope(state).await?;
    let id = chat_id(raw_id)?;
    // Chats of the user's other teams are out of scope here: same answer as a missing one.
    let conv = state.store.conversation(&id).await?.ok_or(ApiError::NotFound)?;
    if conv.team_id != scope.team {
        return Err(ApiError::NotFound);
    }
    let applied = chats::apply(state, &id, make(agent.user_id.clone())).await?;
    Ok((scope, id, applied))
}

/// Takes a pending chat; exactly one of concurrent claims wins.
///
/// 409: `already_claimed`, `agent_not_available`, `chat_resolved`.
#[utoipa::path(post, path = "/api/live-chats/{id}/claim", tag = "live chats", params(("id" = String, Path)),
    responses((status = 200, body = views::ChatView), (status = 401, response = Error), (status = 404, response = Error), (status = 409, response = Error)))]
async fn claim(State(state): State<AppState>, agent: Agent, AppPath(id): AppPath<String>) -> ApiResult<Json<views::ChatView>> {
    let (scope, id, _) = act(&state, &agent, &id, |me| Act::Claim { agent: me }).await?;
    Ok(Json(chat_view(&state, &scope, &id).await?))
}

/// Takes a resolved chat up again: it becomes the caller's, active (the visitor sees who
/// reopened it). Only the visitor's newest chat can be reopened.
///
/// 409: `not_resolved`, `newer_conversation`, `agent_not_available`.
#[utoipa::path(post, path = "/api/live-chats/{id}/reopen", tag = "live chats", params(("id" = String, Path)),
    responses((status = 200, body = views::ChatView), (status = 401, response = Error), (status = 404, response = Error), (status = 409, response = Error)))]
async fn reopen(State(state): State<AppState>, agent: Agent, AppPath(id): AppPath<String>) -> ApiResult<Json<views::ChatView>> {
    let (scope, id, _) = act(&state, &agent, &id, |me| Act::Reopen { agent: me }).await?;
    Ok(Json(chat_view(&state, &scope, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SnoozeBody {
    /// When the chat comes back (RFC 3339, within 30 days); `null` or left out: when the visitor
    /// next writes. The visitor writing always brings it back earlier.
    #[serde(default)]
    until: Option<String>,
}

/// Puts an active chat aside (assignee or admin): it leaves the inbox and *Assigned to me* for
/// the `snoozed` view until its time comes or the visitor writes. Snoozing again replaces the time.
///
/// 409: `claim_first`, `not_assignee`, `chat_resolved`.
#[utoipa::path(post, path = "/api/live-chats/{id}/snooze", tag = "live chats", params(("id" = String, Path)), request_body = SnoozeBody,
    responses((status = 200, body = views::ChatView), (status = 400, response = Error), (status = 401, response = Error), (status = 404, response = Error), (status = 409, response = Error)))]
async fn snooze(
    State(state): State<AppState>,
    agent: Agent,
    AppPath(id): AppPath<String>,
    AppJson(b): AppJson<SnoozeBody>,
) -> ApiResult<Json<views::ChatView>> {
    let now = state.now();
    let until = match b.until.as_deref() {
        None => None,
        Some(raw) => {
            let at =
                crate::clock::parse_rfc3339(raw).ok_or_else(|| ApiError::invalid("until", "must be a date and time such as 2026-12-03T09:00:00Z"))?;
            if at <= now {
                return Err(ApiError::invalid("until", "must be in the future"));
            }
            if at > now + 30 * 24 * 3600 * 1000 {
                return Err(ApiError::invalid("until", "must be within 30 days"));
            }
            Some(at)
        }
    };
    let (scope, id, _) = act(&state, &agent, &id, |me| Act::Snooze { agent: me, until }).await?;
    Ok(Json(chat_view(&state, &scope, &id).await?))
}

/// Brings a snoozed chat back now (assignee or admin).
///
/// 409: `not_snoozed`, `not_assignee`, `claim_first`, `chat_resolved`.
#[utoipa::path(post, path = "/api/live-chats/{id}/unsnooze", tag = "live chats", params(("id" = String, Path)),
    responses((status = 200, body = views::ChatView), (status = 401, response = Error), (status = 404, response = Error), (status = 409, response = Error)))]
async fn unsnooze(State(state): State<AppState>, agent: Agent, AppPath(id): AppPath<String>) -> ApiResult<Json<views::ChatView>> {
    let (scope, id, _) = act(&state, &agent, &id, |me| Act::Unsnooze { agent: me }).await?;
    Ok(Json(chat_view(&state, &scope, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct MessageBodyIn {
    /// Rich text: reduced to Baton's safe HTML subset. May be empty when `attachments` are sent.
    #[serde(default)]
    body: String,
    #[schema(min_length = 1, max_length = 100)]
    client_id: Option<String>,
    /// Ids of files uploaded to this chat (`POST /api/live-chats/{id}/attachments`), at most 10.
    #[serde(default)]
    attachments: Vec<String>,
}

async fn parse_message(state: &AppState, b: &MessageBodyIn) -> ApiResult<(MessageBody, Option<ClientId>, Vec<AttachmentId>)> {
    let client_id = b.client_id.as_deref().map(ClientId::parse).transpose()?;
    let (body, files) = attachments::message_body(state, &b.body, true, &b.attachments).await?;
    Ok((body, client_id, files))
}

/// 201 with the stored message (or, for a repeated `client_id`, the original).
fn created(applied: &Applied) -> ApiResult<(StatusCode, Json<views::MessageView>)> {
    let m = applied.posted().ok_or_else(|| ApiError::internal("no message was written"))?;
    Ok((StatusCode::CREATED, Json(views::message(m))))
}

/// The assignee's reply to the visitor. A repeated `client_id` returns the first message.
///
/// 409: `claim_first`, `not_assignee`, `chat_resolved`.
#[utoipa::path(post, path = "/api/live-chats/{id}/messages", tag = "live chats", params(("id" = String, Path)), request_body = MessageBodyIn,
    responses((status = 201, body = views::MessageView), (status = 400, response = Error), (status = 401, response = Error), (status = 404, response = Error), (status = 409, response = Error)))]
async fn send_message(
    State(state): State<AppState>,
    agent: Agent,
    AppPath(id): AppPath<String>,
    AppJson(b): AppJson<MessageBodyIn>,
) -> ApiResult<(StatusCode, Json<views::MessageView>)> {
    let (body, client_id, files) = parse_message(&state, &b).await?;
    let (_, _, applied) = act(&state, &agent, &id, |me| Act::AgentMessage { agent: me, body, client_id, files }).await?;
    created(&applied)
}

/// An internal note: agents only, never the visitor.
///
/// 409: `chat_resolved`.
#[utoipa::path(post, path = "/api/live-chats/{id}/notes", tag = "live chats", params(("id" = String, Path)), request_body = MessageBodyIn,
    responses((status = 201, body = views::MessageView), (status = 400, response = Error), (status = 401, response = Error), (status = 404, response = Error), (status = 409, response = Error)))]
async fn add_note(
    State(state): State<AppState>,
    agent: Agent,
    AppPath(id): AppPath<String>,
    AppJson(b): AppJson<MessageBodyIn>,
) -> ApiResult<(StatusCode, Json<views::MessageView>)> {
    let (body, client_id, files) = parse_message(&state, &b).await?;
    let (_, _, applied) = act(&state, &agent, &id, |me| Act::Note { agent: me, body, client_id, files }).await?;
    created(&applied)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TransferBody {
    agent_id: String,
}

/// Hands the chat to another available agent with access.
///
/// 409: `agent_not_available`, `not_assignee`, `claim_first`, `same_agent`.
#[utoipa::path(post, path = "/api/live-chats/{id}/transfer", tag = "live chats", params(("id" = String, Path)), request_body = TransferBody,
    responses((status = 200, body = views::ChatView), (status = 400, response = Error), (status = 401, response = Error), (status = 404, response = Error), (status = 409, response = Error)))]
async fn transfer(
    State(state): State<AppState>,
    agent: Agent,
    AppPath(id): AppPath<String>,
    AppJson(b): AppJson<TransferBody>,
) -> ApiResult<Json<views::ChatView>> {
    let to = UserId::parse(&b.agent_id).ok_or_else(|| ApiError::invalid("agent_id", "is not a user id"))?;
    let (scope, id, _) = act(&state, &agent, &id, |me| Act::Transfer { by: me, to }).await?;
    Ok(Json(chat_view(&state, &scope, &id).await?))
}

/// Ends the chat.
///
/// 409: `not_assignee`, `chat_resolved`.
#[utoipa::path(post, path = "/api/live-chats/{id}/resolve", tag = "live chats", params(("id" = String, Path)),
    responses((status = 200, body = views::ChatView), (status = 401, response = Error), (status = 404, response = Error), (status = 409, response = Error)))]
async fn resolve(State(state): State<AppState>, agent: Agent, AppPath(id): AppPath<String>) -> ApiResult<Json<views::ChatView>> {
    let (scope, id, _) = act(&state, &agent, &id, |me| Act::ResolveByAgent { agent: me }).await?;
    Ok(Json(chat_view(&state, &scope, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReadBody {
    #[schema(minimum = 0)]
    up_to_seq: i64,
}

/// Moves my read marker forward (never back).
#[utoipa::path(post, path = "/api/live-chats/{id}/read", tag = "live chats", params(("id" = String, Path)), request_body = ReadBody,
    responses((status = 204), (status = 400, response = Error), (status = 401, response = Error), (status = 404, response = Error)))]
async fn mark_read(
    State(state): State<AppState>,
    agent: Agent,
    AppPath(id): AppPath<String>,
    AppJson(b): AppJson<ReadBody>,
) -> ApiResult<StatusCode> {
    let (scope, _) = agent.chat_scope(&state).await?;
    let id = chat_id(&id)?;
    let chat = state.store.live_chat(&scope, &id).await?.ok_or(ApiError::NotFound)?;
    if !(0..=chat.conversation.last_seq).contains(&b.up_to_seq) {
        return Err(ApiError::invalid("up_to_seq", format!("must be between 0 and the chat's last seq ({})", chat.conversation.last_seq)));
    }
    state.store.mark_read(&id, agent.user_id.as_str(), b.up_to_seq).await?;
    Ok(StatusCode::NO_CONTENT)
}
