//! The visitor's API, used by the embeddable widget. Cross-origin by design: authenticated by
//! visitor token (never cookies), with the bot's origin allow-list enforced on every call.

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{ApiError, ApiResult};
use super::extract::{AppJson, AppPath, AppQuery, ClientIp, VisitorCaller, body_rejection, check_origin, double_option};
use crate::domain::ids::BotId;
use crate::domain::values::{ClientId, Email, MessageBody, PersonName};
use crate::services::auth;
use crate::services::{AppState, chats};
use crate::store::{Act, Conversation};
use crate::views;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/widget/bots/{bot}/config", get(config))
        .route("/api/widget/bots/{bot}/visitors", post(create_visitor))
        .route("/api/widget/bots/{bot}/resume", post(resume))
        .route("/api/widget/read", post(mark_read))
        .route("/api/widget/visitor", patch(update_visitor))
        .route("/api/widget/conversation", get(current))
        .route("/api/widget/conversations", post(new_conversation))
        .route("/api/widget/messages", post(send_message))
        .route("/api/widget/escalate", post(escalate))
        .route("/api/widget/end", post(end))
}

/// The widget runs on other sites: browsers may call `/api/widget/*` from any origin (each call
/// then checks the bot's allow-list itself). Every other path stays same-origin.
pub fn cors() -> tower_http::cors::CorsLayer {
    use axum::http::{Method, header};
    tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::AllowOrigin::predicate(|_, parts| parts.uri.path().starts_with("/api/widget/")))
        .allow_methods([Method::GET, Method::POST, Method::PATCH])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(std::time::Duration::from_secs(3600))
}

async fn public_bot(state: &AppState, parts: &Parts, raw: &str) -> ApiResult<crate::store::Bot> {
    let id = BotId::parse(raw).ok_or(ApiError::NotFound)?;
    let bot = state.store.bot(&id).await?.ok_or(ApiError::NotFound)?;
    check_origin(parts, &bot)?;
    Ok(bot)
}

async fn config(State(state): State<AppState>, parts: Parts, AppPath(bot): AppPath<String>) -> ApiResult<Json<Value>> {
    let bot = public_bot(&state, &parts, &bot).await?;
    let s = &bot.settings;
    let mut v = json!({
        "name": bot.name,
        "greeting": bot.greeting,
        "human_escalation": s.human_escalation,
        "human_only": s.human_only,
        "show_agent_availability": s.show_agent_availability,
    });
    if s.show_agent_availability {
        let (online, last) = state.store.availability(&bot.id).await?;
        v["availability"] = json!({"online": online, "last_active_at": views::opt_time(last)});
    }
    Ok(Json(v))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct VisitorBody {
    #[serde(default, deserialize_with = "double_option")]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    email: Option<Option<String>>,
}

/// `Some(None)` clears, `Some(Some(v))` sets (blank clears too), `None` leaves as is.
fn parse_visitor(b: &VisitorBody) -> ApiResult<(Option<Option<String>>, Option<Option<String>>)> {
    let name = match &b.name {
        Some(Some(n)) => Some(Some(PersonName::parse(n)?.into_inner()).filter(|n| !n.is_empty())),
        Some(None) => Some(None),
        None => None,
    };
    let email = match &b.email {
        Some(Some(e)) if e.trim().is_empty() => Some(None),
        Some(Some(e)) => Some(Some(Email::parse(e)?.as_str().to_string())),
        Some(None) => Some(None),
        None => None,
    };
    Ok((name, email))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NewVisitorBody {
    name: Option<String>,
    email: Option<String>,
    /// The page the widget runs on, so an email can link back to it.
    page_url: Option<String>,
}

fn parse_page_url(raw: &str) -> ApiResult<String> {
    let url = reqwest::Url::parse(raw.trim()).map_err(|_| ApiError::invalid("page_url", "must be a web address"))?;
    if !matches!(url.scheme(), "http" | "https") || raw.len() > 2000 {
        return Err(ApiError::invalid("page_url", "must be an http(s) address of at most 2000 characters"));
    }
    let mut url = url;
    url.set_fragment(None);
    Ok(url.to_string())
}

async fn create_visitor(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    parts: Parts,
    AppPath(bot): AppPath<String>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let body = body.map_err(body_rejection)?;
    let bot = public_bot(&state, &parts, &bot).await?;
    state.widget_limit.check(&format!("visitor-ip:{ip}")).map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;
    // The body is optional: a visitor may start anonymously.
    let b: NewVisitorBody = if body.iter().all(u8::is_ascii_whitespace) {
        NewVisitorBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::invalid("body", e))?
    };
    let (name, email) = parse_visitor(&VisitorBody { name: b.name.map(Some), email: b.email.map(Some) })?;
    let page_url = b.page_url.as_deref().map(parse_page_url).transpose()?;
    let token = auth::new_secret(auth::VISITOR_TOKEN_PREFIX);
    let now = state.now();
    let visitor = state
        .store
        .create_visitor(&bot.id, name.flatten().as_deref(), email.flatten().as_deref(), page_url.as_deref(), &auth::hash_secret(&token), now)
        .await?;
    let conv = chats::current(&state, &visitor.id, &bot.id).await?;
    Ok((StatusCode::CREATED, Json(json!({"visitor_id": visitor.id, "visitor_token": token, "conversation_id": conv.id}))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResumeBody {
    token: String,
}

/// A visitor back from an email link (maybe on another device): a resume token from the link
/// buys a fresh visitor token for the same visitor and conversation.
async fn resume(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    parts: Parts,
    AppPath(bot): AppPath<String>,
    AppJson(b): AppJson<ResumeBody>,
) -> ApiResult<Json<Value>> {
    let bot = public_bot(&state, &parts, &bot).await?;
    state.widget_limit.check(&format!("visitor-ip:{ip}")).map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;
    let visitor = state.store.resume_visitor(&auth::hash_secret(b.token.trim()), state.now()).await?.filter(|v| v.bot_id == bot.id);
    let visitor = visitor.ok_or(ApiError::Unauthorized("invalid_token", "this link has expired; start a new chat instead"))?;
    let token = auth::new_secret(auth::VISITOR_TOKEN_PREFIX);
    state.store.add_visitor_token(&visitor.id, &auth::hash_secret(&token), state.now()).await?;
    Ok(Json(json!({"visitor_id": visitor.id, "visitor_token": token})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadBody {
    up_to_seq: i64,
}

/// The visitor saw the messages up to `up_to_seq` (the widget reports it while open): an
/// unread-reply email for them is no longer needed.
async fn mark_read(State(state): State<AppState>, caller: VisitorCaller, AppJson(b): AppJson<ReadBody>) -> ApiResult<StatusCode> {
    let conv = current_conversation(&state, &caller).await?;
    if !(0..=conv.last_seq).contains(&b.up_to_seq) {
        return Err(ApiError::invalid("up_to_seq", format!("must be between 0 and the conversation's last seq ({})", conv.last_seq)));
    }
    state.store.mark_read(&conv.id, caller.visitor.id.as_str(), b.up_to_seq).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn update_visitor(State(state): State<AppState>, caller: VisitorCaller, AppJson(b): AppJson<VisitorBody>) -> ApiResult<Json<Value>> {
    let (name, email) = parse_visitor(&b)?;
    let v = state.store.update_visitor(&caller.visitor.id, name.as_ref().map(|n| n.as_deref()), email.as_ref().map(|e| e.as_deref())).await?;
    Ok(Json(views::visitor(&v)))
}

/// The visitor's current conversation; one always exists (made with the visitor).
async fn current_conversation(state: &AppState, caller: &VisitorCaller) -> ApiResult<Conversation> {
    Ok(chats::current(state, &caller.visitor.id, &caller.bot.id).await?)
}

async fn conversation_view(state: &AppState, conv: &Conversation, after_seq: i64) -> ApiResult<Value> {
    let agent = match &conv.assignee_id {
        Some(a) => state.store.user(a).await?,
        None => None,
    };
    let messages = state.store.messages(&conv.id, after_seq, false).await?;
    Ok(views::widget_conversation(conv, agent.as_ref(), &messages))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CurrentQuery {
    after_seq: Option<i64>,
    /// The visitor token may come as `?token=` (read by the `VisitorCaller` extractor); it is
    /// allowed here so that unknown parameters can still be refused.
    #[serde(rename = "token")]
    _token: Option<String>,
}

async fn current(State(state): State<AppState>, caller: VisitorCaller, AppQuery(q): AppQuery<CurrentQuery>) -> ApiResult<Json<Value>> {
    let after = q.after_seq.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::invalid("after_seq", "must not be negative"));
    }
    let conv = current_conversation(&state, &caller).await?;
    Ok(Json(conversation_view(&state, &conv, after).await?))
}

async fn new_conversation(State(state): State<AppState>, caller: VisitorCaller) -> ApiResult<(StatusCode, Json<Value>)> {
    let conv = chats::start(&state, &caller.visitor.id, &caller.bot.id).await?;
    Ok((StatusCode::CREATED, Json(conversation_view(&state, &conv, 0).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageIn {
    body: String,
    client_id: Option<String>,
}

async fn send_message(State(state): State<AppState>, caller: VisitorCaller, AppJson(b): AppJson<MessageIn>) -> ApiResult<(StatusCode, Json<Value>)> {
    state.widget_limit.check(&format!("visitor:{}", caller.visitor.id)).map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;
    let body = MessageBody::parse_text(&b.body)?;
    let client_id = b.client_id.as_deref().map(ClientId::parse).transpose()?;
    let author = chats::VisitorAuthor { id: &caller.visitor.id, bot: &caller.bot.id, name: caller.visitor.name.as_deref() };
    let posted = chats::visitor_message(&state, author, None, body, client_id).await?;
    let message = posted.applied.posted().ok_or_else(|| ApiError::internal("no message was written"))?;
    let mut out = views::message(message);
    if let Some(reply) = posted.bot_reply {
        let reply = reply.await.map_err(ApiError::internal)?;
        out["bot_reply"] = reply.as_ref().map(views::message).unwrap_or(Value::Null);
    }
    Ok((StatusCode::CREATED, Json(out)))
}

/// The conversation's state after a visitor's escalate or end, with the version it was
/// produced at (clients drop state they receive older than what they show).
fn state_view(applied: &crate::store::Applied) -> Value {
    let c = &applied.conversation;
    json!({"state": c.state.as_str(), "conversation_id": c.id, "version": c.last_seq})
}

async fn escalate(State(state): State<AppState>, caller: VisitorCaller) -> ApiResult<Json<Value>> {
    let conv = current_conversation(&state, &caller).await?;
    let applied = chats::apply(&state, &conv.id, Act::EscalateByVisitor { visitor: caller.visitor.id.clone() }).await?;
    Ok(Json(state_view(&applied)))
}

async fn end(State(state): State<AppState>, caller: VisitorCaller) -> ApiResult<Json<Value>> {
    let conv = current_conversation(&state, &caller).await?;
    let applied = chats::apply(&state, &conv.id, Act::ResolveByVisitor { visitor: caller.visitor.id.clone() }).await?;
    Ok(Json(state_view(&applied)))
}
