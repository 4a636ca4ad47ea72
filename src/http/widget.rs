//! The visitor's API, used by the embeddable widget. Cross-origin by design: authenticated by
//! visitor token (never cookies), with the bot's origin allow-list enforced on every call.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::{
    AppJson, AppPath, AppQuery, ClientIp, VisitorCaller, VisitorWrite, body_rejection, check_origin, declares_json, double_option, json_object,
};
use super::openapi::Error;
use std::collections::BTreeMap;

use crate::domain::chat::ChatState;
use crate::domain::ids::{BotId, ConversationId, VisitorId};
use crate::domain::values::{ClientId, Email, MessageBody, PersonName};
use crate::domain::widget::{PreChat, Reach, WhenUnavailable};
use crate::domain::words;
use crate::services::auth;
use crate::services::{AppState, chats, visitors};
use crate::store::{Act, Conversation, Csat};
use crate::views;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(config))
        .routes(routes!(create_visitor))
        .routes(routes!(resume))
        .routes(routes!(mark_read))
        .routes(routes!(update_visitor))
        .routes(routes!(current))
        .routes(routes!(new_conversation))
        .routes(routes!(send_message))
        .routes(routes!(escalate))
        .routes(routes!(end))
        .routes(routes!(leave_message))
        .routes(routes!(rate))
        .routes(routes!(transcript))
        .routes(routes!(strings))
        .routes(routes!(logo))
}

/// The widget runs on other sites: browsers may call `/api/widget/*` from any origin (each call
/// then checks the bot's allow-list itself). Every other path stays same-origin.
pub fn cors() -> tower_http::cors::CorsLayer {
    use axum::http::{Method, header};
    tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::AllowOrigin::predicate(|_, parts| parts.uri.path().starts_with("/api/widget/")))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(std::time::Duration::from_secs(3600))
}

async fn public_bot(state: &AppState, parts: &Parts, raw: &str) -> ApiResult<crate::store::Bot> {
    let id = BotId::parse(raw).ok_or(ApiError::NotFound)?;
    let bot = state.store.bot(&id).await?.ok_or(ApiError::NotFound)?;
    check_origin(parts, &bot)?;
    Ok(bot)
}

#[derive(Serialize, ToSchema)]
struct Availability {
    /// An agent with access is `available`.
    online: bool,
    last_active_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = WidgetConfig)]
struct ConfigView {
    name: String,
    greeting: String,
    human_escalation: bool,
    human_only: bool,
    show_agent_availability: bool,
    /// Present when the bot shows agent availability.
    #[serde(skip_serializing_if = "Option::is_none")]
    availability: Option<Availability>,
    /// Whether a person can answer now: `open`, `closed` (outside business hours) or `away`
    /// (nobody with access is available). Updated live by `availability` frames.
    reach: Reach,
    /// When business hours next open or close (ask again then); `null` without a schedule.
    next_change_at: Option<String>,
    /// What the widget offers when the reach is not `open`.
    when_unavailable: WhenUnavailable,
    pre_chat: PreChat,
    appearance: AppearanceView,
    /// After a resolved chat with the team, the visitor is asked to rate it on this scale.
    csat: Csat,
    /// The server sends email: replies to left messages and transcripts can be offered.
    email_enabled: bool,
    /// Files the visitor may send once a person handles the chat; `null` when the team accepts
    /// none.
    attachments: Option<AttachmentLimits>,
    /// The language of `strings`: the first of `lang` (or `Accept-Language`) the widget speaks.
    language: &'static str,
    /// The widget's words in that language, with the bot's overrides.
    #[schema(value_type = Object)]
    strings: BTreeMap<String, String>,
}

#[derive(Serialize, ToSchema)]
struct AttachmentLimits {
    /// Bytes.
    max_bytes: i64,
    kinds: Vec<crate::domain::attachment::Kind>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = WidgetAppearance)]
struct AppearanceView {
    #[serde(flatten)]
    appearance: crate::domain::widget::Appearance,
    logo_url: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ConfigQuery {
    /// The visitor's languages, most wanted first (`navigator.languages` joined by commas);
    /// `Accept-Language` is used without it.
    lang: Option<String>,
}

/// What the widget shows before the visitor writes.
///
/// 403: an `Origin` outside the bot's allow-list.
#[utoipa::path(get, path = "/api/widget/bots/{bot}/config", tag = "widget", params(("bot" = String, Path), ConfigQuery),
    responses((status = 200, body = ConfigView), (status = 400, response = Error), (status = 403, response = Error), (status = 404, response = Error)))]
async fn config(
    State(state): State<AppState>,
    parts: Parts,
    AppPath(bot): AppPath<String>,
    AppQuery(q): AppQuery<ConfigQuery>,
) -> ApiResult<Json<ConfigView>> {
    let bot = public_bot(&state, &parts, &bot).await?;
    let s = &bot.settings;
    let a = visitors::availability(&state, &bot).await?;
    let availability = s.show_agent_availability.then(|| Availability { online: a.online, last_active_at: views::opt_time(a.last_active_at) });
    let team = state.store.team(&bot.team_id).await?.ok_or(ApiError::NotFound)?;
    let asked = match &q.lang {
        Some(l) if l.len() > 500 => return Err(ApiError::invalid("lang", "must be at most 500 characters")),
        Some(l) => l.clone(),
        None => parts.headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("").chars().take(500).collect(),
    };
    let language = words::pick(&asked);
    Ok(Json(ConfigView {
        name: bot.name.clone(),
        greeting: bot.greeting.clone(),
        human_escalation: s.human_escalation,
        human_only: s.human_only,
        show_agent_availability: s.show_agent_availability,
        availability,
        reach: a.reach,
        next_change_at: views::opt_time(a.next_change_at),
        when_unavailable: s.widget.when_unavailable,
        pre_chat: s.widget.pre_chat.clone(),
        appearance: AppearanceView { appearance: s.widget.appearance.clone(), logo_url: bot.logo_url() },
        csat: team.settings.csat,
        email_enabled: state.notifier.mailer.is_some(),
        attachments: (team.settings.attachment_max_bytes > 0 && !team.settings.attachment_kinds.list().is_empty())
            .then(|| AttachmentLimits { max_bytes: team.settings.attachment_max_bytes, kinds: team.settings.attachment_kinds.list() }),
        language,
        strings: words::for_language(language, &s.widget.texts),
    }))
}

/// The widget's words in every language it speaks (the keys a bot's `widget.texts` may
/// override).
#[utoipa::path(get, path = "/api/widget/strings", tag = "widget", responses((status = 200, body = Object)))]
async fn strings() -> Json<&'static BTreeMap<String, BTreeMap<String, String>>> {
    Json(words::all())
}

/// The bot's logo. Public, like avatars: the widget shows it on any site.
#[utoipa::path(get, path = "/api/widget/bots/{bot}/logo", tag = "widget", params(("bot" = String, Path)),
    responses((status = 200, content_type = "image/png", body = Vec<u8>), (status = 404, response = Error)))]
async fn logo(State(state): State<AppState>, AppPath(bot): AppPath<String>) -> ApiResult<axum::response::Response> {
    use axum::http::{HeaderMap, HeaderValue, header};
    use axum::response::IntoResponse;
    let id = BotId::parse(&bot).ok_or(ApiError::NotFound)?;
    let png = state.store.bot_logo(&id).await?.ok_or(ApiError::NotFound)?;
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    // The URL changes with every upload (?v=), so the bytes behind one URL never change.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    headers.insert("cross-origin-resource-policy", HeaderValue::from_static("cross-origin"));
    Ok((headers, png).into_response())
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = VisitorPatch)]
struct VisitorBody {
    /// `null` or blank clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    name: Option<Option<String>>,
    /// `null` or blank clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    email: Option<Option<String>>,
    /// Answers to the bot's pre-chat questions, by key; replaces the earlier answers.
    #[schema(value_type = Option<Object>)]
    fields: Option<BTreeMap<String, String>>,
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

#[derive(Deserialize, Default, ToSchema)]
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

#[derive(Serialize, ToSchema)]
struct NewVisitor {
    visitor_id: VisitorId,
    /// Send it as `Authorization: Bearer <visitor_token>` (or `?token=` on the socket).
    visitor_token: String,
    conversation_id: ConversationId,
}

/// A new visitor with a conversation; the body is optional.
#[utoipa::path(post, path = "/api/widget/bots/{bot}/visitors", tag = "widget", params(("bot" = String, Path)), request_body(content = Option<NewVisitorBody>),
    responses((status = 201, body = NewVisitor), (status = 400, response = Error), (status = 403, response = Error), (status = 404, response = Error), (status = 413, response = Error), (status = 429, response = Error)))]
async fn create_visitor(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    parts: Parts,
    AppPath(bot): AppPath<String>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<(StatusCode, Json<NewVisitor>)> {
    let body = body.map_err(body_rejection)?;
    let bot = public_bot(&state, &parts, &bot).await?;
    state.widget_arrival(&ip).await.map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;
    // The body is optional: a visitor may start anonymously.
    let b: NewVisitorBody =
        if body.iter().all(u8::is_ascii_whitespace) { NewVisitorBody::default() } else { json_object(declares_json(&parts.headers), &body)? };
    let (name, email) = parse_visitor(&VisitorBody { name: b.name.map(Some), email: b.email.map(Some), fields: None })?;
    let page_url = b.page_url.as_deref().map(parse_page_url).transpose()?;
    let token = auth::new_secret(auth::VISITOR_TOKEN_PREFIX);
    let now = state.now();
    let visitor = state
        .store
        .create_visitor(&bot.id, name.flatten().as_deref(), email.flatten().as_deref(), page_url.as_deref(), &auth::hash_secret(&token), now)
        .await?;
    let conv = chats::current(&state, &visitor.id, &bot.id).await?;
    Ok((StatusCode::CREATED, Json(NewVisitor { visitor_id: visitor.id, visitor_token: token, conversation_id: conv.id })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ResumeBody {
    token: String,
}

#[derive(Serialize, ToSchema)]
struct Resumed {
    visitor_id: VisitorId,
    visitor_token: String,
}

/// A visitor back from an email link (maybe on another device): the link's resume token buys
/// a fresh visitor token for the same visitor and conversation.
///
/// 401: `invalid_token`: expired.
#[utoipa::path(post, path = "/api/widget/bots/{bot}/resume", tag = "widget", params(("bot" = String, Path)), request_body = ResumeBody,
    responses((status = 200, body = Resumed), (status = 400, response = Error), (status = 401, response = Error), (status = 403, response = Error), (status = 404, response = Error), (status = 429, response = Error)))]
async fn resume(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    parts: Parts,
    AppPath(bot): AppPath<String>,
    AppJson(b): AppJson<ResumeBody>,
) -> ApiResult<Json<Resumed>> {
    let bot = public_bot(&state, &parts, &bot).await?;
    state.widget_arrival(&ip).await.map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;
    let visitor = state.store.resume_visitor(&auth::hash_secret(b.token.trim()), state.now()).await?.filter(|v| v.bot_id == bot.id);
    let visitor = visitor.ok_or(ApiError::Unauthorized("invalid_token", "this link has expired; start a new chat instead"))?;
    let token = auth::new_secret(auth::VISITOR_TOKEN_PREFIX);
    state.store.add_visitor_token(&visitor.id, &auth::hash_secret(&token), state.now()).await?;
    Ok(Json(Resumed { visitor_id: visitor.id, visitor_token: token }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = VisitorReadBody)]
struct ReadBody {
    #[schema(minimum = 0)]
    up_to_seq: i64,
}

/// The visitor saw the messages up to `up_to_seq` (the widget reports it while open): an
/// unread-reply email for them is no longer needed.
#[utoipa::path(post, path = "/api/widget/read", tag = "widget", request_body = ReadBody,
    responses((status = 204), (status = 400, response = Error), (status = 401, response = Error), (status = 429, response = Error)))]
async fn mark_read(State(state): State<AppState>, VisitorWrite(caller): VisitorWrite, AppJson(b): AppJson<ReadBody>) -> ApiResult<StatusCode> {
    let conv = current_conversation(&state, &caller).await?;
    if !(0..=conv.last_seq).contains(&b.up_to_seq) {
        return Err(ApiError::invalid("up_to_seq", format!("must be between 0 and the conversation's last seq ({})", conv.last_seq)));
    }
    state.store.mark_read(&conv.id, caller.visitor.id.as_str(), b.up_to_seq).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The visitor's name, email and pre-chat answers.
#[utoipa::path(patch, path = "/api/widget/visitor", tag = "widget", request_body = VisitorBody,
    responses((status = 200, body = views::VisitorView), (status = 400, response = Error), (status = 401, response = Error), (status = 429, response = Error)))]
async fn update_visitor(
    State(state): State<AppState>,
    VisitorWrite(caller): VisitorWrite,
    AppJson(b): AppJson<VisitorBody>,
) -> ApiResult<Json<views::VisitorView>> {
    let (name, email) = parse_visitor(&b)?;
    let fields = match b.fields {
        Some(given) => {
            let bot = state.store.bot(&caller.bot.id).await?.ok_or(ApiError::NotFound)?;
            Some(bot.settings.widget.pre_chat.answers(given).map_err(|e| ApiError::invalid(&e.field, e.message))?)
        }
        None => None,
    };
    let mut v = state.store.update_visitor(&caller.visitor.id, name.as_ref().map(|n| n.as_deref()), email.as_ref().map(|e| e.as_deref())).await?;
    if let Some(fields) = fields {
        v = state.store.set_visitor_fields(&caller.visitor.id, &fields).await?;
    }
    Ok(Json(views::visitor(&v)))
}

/// The visitor's current conversation; one always exists (made with the visitor).
async fn current_conversation(state: &AppState, caller: &VisitorCaller) -> ApiResult<Conversation> {
    Ok(chats::current(state, &caller.visitor.id, &caller.bot.id).await?)
}

async fn conversation_view(
    state: &AppState,
    caller: &VisitorCaller,
    conv: &Conversation,
    after_seq: i64,
) -> ApiResult<views::WidgetConversationView> {
    let agent = match &conv.assignee_id {
        Some(a) => state.store.user(a).await?,
        None => None,
    };
    let messages = state.store.messages(&conv.id, after_seq, false).await?;
    let queue = match conv.state {
        ChatState::Pending => visitors::queue_view(visitors::queue_place(state, conv).await?),
        _ => None,
    };
    let (rating, rating_asked) = match conv.state {
        ChatState::Resolved => {
            let rating = state.store.rating(&conv.id).await?;
            let csat = state.store.team(&conv.team_id).await?.map(|t| t.settings.csat).unwrap_or(Csat::Off);
            let asked = visitors::rating_asked(conv, csat, rating.is_some());
            (rating, asked)
        }
        _ => (None, None),
    };
    Ok(views::WidgetConversationView {
        id: conv.id.clone(),
        mode: views::mode(conv),
        state: conv.state,
        agent: agent.as_ref().map(views::public_agent),
        last_seq: conv.last_seq,
        messages: messages.iter().map(views::message).collect(),
        queue,
        rating_asked,
        rating: rating.as_ref().map(views::rating),
        visitor: views::widget_visitor(&caller.visitor),
    })
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct CurrentQuery {
    /// Only messages after this `seq`.
    #[param(minimum = 0)]
    after_seq: Option<i64>,
    /// The visitor token may come as `?token=` (read by the `VisitorCaller` extractor); it is
    /// allowed here so that unknown parameters can still be refused.
    #[serde(rename = "token")]
    #[param(rename = "token")]
    _token: Option<String>,
}

/// The visitor's current conversation, public messages only.
#[utoipa::path(get, path = "/api/widget/conversation", tag = "widget", params(CurrentQuery),
    responses((status = 200, body = views::WidgetConversationView), (status = 400, response = Error), (status = 401, response = Error)))]
async fn current(
    State(state): State<AppState>,
    caller: VisitorCaller,
    AppQuery(q): AppQuery<CurrentQuery>,
) -> ApiResult<Json<views::WidgetConversationView>> {
    let after = q.after_seq.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::invalid("after_seq", "must not be negative"));
    }
    let conv = current_conversation(&state, &caller).await?;
    Ok(Json(conversation_view(&state, &caller, &conv, after).await?))
}

/// "Start a new chat", once the last one is resolved.
///
/// 409: `conversation_open`.
#[utoipa::path(post, path = "/api/widget/conversations", tag = "widget",
    responses((status = 201, body = views::WidgetConversationView), (status = 401, response = Error), (status = 409, response = Error), (status = 429, response = Error)))]
async fn new_conversation(
    State(state): State<AppState>,
    VisitorWrite(caller): VisitorWrite,
) -> ApiResult<(StatusCode, Json<views::WidgetConversationView>)> {
    let conv = chats::start(&state, &caller.visitor.id, &caller.bot.id).await?;
    Ok((StatusCode::CREATED, Json(conversation_view(&state, &caller, &conv, 0).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = VisitorMessageBody)]
struct MessageIn {
    /// Plain text; may be empty when `attachments` are sent.
    #[schema(max_length = 10000)]
    #[serde(default)]
    body: String,
    /// Ids of files uploaded with `POST /api/widget/attachments`, at most 10.
    #[serde(default)]
    attachments: Vec<String>,
    /// 1–100 printable ASCII characters; a repeat returns the first message.
    #[schema(min_length = 1, max_length = 100)]
    client_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct Posted {
    #[serde(flatten)]
    message: views::MessageView,
    /// The bot's answer, when the bot answers (it also arrives as an event).
    #[serde(skip_serializing_if = "Option::is_none")]
    bot_reply: Option<Option<views::MessageView>>,
}

/// The visitor's message (plain text). A repeated `client_id` returns the first message.
///
/// 409: `chat_resolved`.
#[utoipa::path(post, path = "/api/widget/messages", tag = "widget", request_body = MessageIn,
    responses((status = 201, body = Posted), (status = 400, response = Error), (status = 401, response = Error), (status = 409, response = Error), (status = 429, response = Error)))]
async fn send_message(
    State(state): State<AppState>,
    VisitorWrite(caller): VisitorWrite,
    AppJson(b): AppJson<MessageIn>,
) -> ApiResult<(StatusCode, Json<Posted>)> {
    let client_id = b.client_id.as_deref().map(ClientId::parse).transpose()?;
    let (body, files) = crate::services::attachments::message_body(&state, &b.body, false, &b.attachments).await?;
    let author = chats::VisitorAuthor { id: &caller.visitor.id, bot: &caller.bot.id, name: caller.visitor.name.as_deref() };
    let posted = chats::visitor_message(&state, author, None, body, client_id, files).await?;
    let message = posted.applied.posted().ok_or_else(|| ApiError::internal("no message was written"))?;
    let mut out = Posted { message: views::message(message), bot_reply: None };
    if let Some(reply) = posted.bot_reply {
        let reply = reply.await.map_err(ApiError::internal)?;
        out.bot_reply = Some(reply.as_ref().map(views::message));
    }
    Ok((StatusCode::CREATED, Json(out)))
}

/// The conversation's state after a visitor's escalate or end, with the version it was
/// produced at (clients drop state they receive older than what they show).
#[derive(Serialize, ToSchema)]
struct StateView {
    state: ChatState,
    conversation_id: ConversationId,
    version: i64,
}

fn state_view(applied: &crate::store::Applied) -> StateView {
    let c = &applied.conversation;
    StateView { state: c.state, conversation_id: c.id.clone(), version: c.last_seq }
}

/// "Talk to a person".
///
/// 409: `escalation_disabled`, `already_escalated`, `chat_resolved`, `team_unavailable` (the bot
/// hides the button while nobody can answer).
#[utoipa::path(post, path = "/api/widget/escalate", tag = "widget",
    responses((status = 200, body = StateView), (status = 401, response = Error), (status = 409, response = Error), (status = 429, response = Error)))]
async fn escalate(State(state): State<AppState>, VisitorWrite(caller): VisitorWrite) -> ApiResult<Json<StateView>> {
    let applied = visitors::escalate(&state, &caller.visitor, &caller.bot).await?;
    Ok(Json(state_view(&applied)))
}

/// "End chat".
///
/// 409: `chat_resolved`.
#[utoipa::path(post, path = "/api/widget/end", tag = "widget",
    responses((status = 200, body = StateView), (status = 401, response = Error), (status = 409, response = Error), (status = 429, response = Error)))]
async fn end(State(state): State<AppState>, VisitorWrite(caller): VisitorWrite) -> ApiResult<Json<StateView>> {
    let conv = current_conversation(&state, &caller).await?;
    let applied = chats::apply(&state, &conv.id, Act::ResolveByVisitor { visitor: caller.visitor.id.clone() }).await?;
    Ok(Json(state_view(&applied)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct LeaveMessageBody {
    #[schema(max_length = 100)]
    name: Option<String>,
    /// Where the team's reply is emailed.
    email: String,
    #[schema(min_length = 1, max_length = 10000)]
    body: String,
    /// 1–100 printable ASCII characters; a repeat returns the first message.
    #[schema(min_length = 1, max_length = 100)]
    client_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct LeftMessage {
    message: views::MessageView,
    #[serde(flatten)]
    state: StateView,
}

/// "Leave a message" while nobody can answer: keeps the visitor's name and email, stores the
/// message and queues the chat for the team (no bot reply); the team's reply is emailed when it
/// stays unread.
///
/// 409: `escalation_disabled`, `chat_resolved`, `team_unavailable` (the bot hides the way to the
/// team while nobody can answer), `email_unavailable` (the server sends no email).
#[utoipa::path(post, path = "/api/widget/leave-message", tag = "widget", request_body = LeaveMessageBody,
    responses((status = 201, body = LeftMessage), (status = 400, response = Error), (status = 401, response = Error), (status = 409, response = Error), (status = 429, response = Error)))]
async fn leave_message(
    State(state): State<AppState>,
    VisitorWrite(caller): VisitorWrite,
    AppJson(b): AppJson<LeaveMessageBody>,
) -> ApiResult<(StatusCode, Json<LeftMessage>)> {
    let name = b.name.as_deref().map(PersonName::parse).transpose()?.map(|n| n.into_inner()).filter(|n| !n.is_empty());
    let email = Email::parse(&b.email)?.as_str().to_string();
    let body = MessageBody::parse_text(&b.body)?;
    let client_id = b.client_id.as_deref().map(ClientId::parse).transpose()?;
    let applied = visitors::leave_message(&state, &caller.visitor, &caller.bot, name, email, body, client_id).await?;
    let message = applied.posted().ok_or_else(|| ApiError::internal("no message was written"))?;
    Ok((StatusCode::CREATED, Json(LeftMessage { message: views::message(message), state: state_view(&applied) })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RatingBody {
    /// 1–5 stars; on the `thumbs` scale 5 is a thumb up and 1 a thumb down.
    #[schema(minimum = 1, maximum = 5)]
    score: i64,
    #[schema(max_length = 2000)]
    comment: Option<String>,
}

/// The visitor rates their resolved chat, once, on the team's scale (`csat` in the widget
/// config).
///
/// 409: `rating_not_open` (not a resolved chat with the team, or ratings are off),
/// `already_rated`.
#[utoipa::path(post, path = "/api/widget/rating", tag = "widget", request_body = RatingBody,
    responses((status = 201, body = views::RatingView), (status = 400, response = Error), (status = 401, response = Error), (status = 409, response = Error), (status = 429, response = Error)))]
async fn rate(
    State(state): State<AppState>,
    VisitorWrite(caller): VisitorWrite,
    AppJson(b): AppJson<RatingBody>,
) -> ApiResult<(StatusCode, Json<views::RatingView>)> {
    let comment = match b.comment.as_deref().map(str::trim) {
        Some(c) if c.chars().count() > 2000 => return Err(ApiError::invalid("comment", "must be at most 2000 characters")),
        Some(c) if !c.is_empty() => Some(c.to_string()),
        _ => None,
    };
    let conv = current_conversation(&state, &caller).await?;
    let rating = visitors::rate(&state, &conv, b.score, comment).await?;
    Ok((StatusCode::CREATED, Json(views::rating(&rating))))
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
struct TranscriptBody {
    /// Defaults to the email the visitor gave.
    email: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct TranscriptQueued {
    email: String,
}

/// Emails the visitor a copy of their ended chat with the team (public messages only), through
/// the email outbox; a conversation's copy is sent at most 3 times.
///
/// 409: `chat_open`, `transcript_not_offered` (the chat never reached the team),
/// `transcript_pending` (a copy is on its way), `transcript_limit`, `email_unavailable` (the
/// server sends no email).
#[utoipa::path(post, path = "/api/widget/transcript", tag = "widget", request_body = TranscriptBody,
    responses((status = 202, body = TranscriptQueued), (status = 400, response = Error), (status = 401, response = Error), (status = 409, response = Error), (status = 429, response = Error)))]
async fn transcript(
    State(state): State<AppState>,
    VisitorWrite(caller): VisitorWrite,
    AppJson(b): AppJson<TranscriptBody>,
) -> ApiResult<(StatusCode, Json<TranscriptQueued>)> {
    let email = match (b.email.as_deref().map(str::trim), &caller.visitor.email) {
        (Some(e), _) if !e.is_empty() => Email::parse(e)?.as_str().to_string(),
        (_, Some(known)) => known.clone(),
        _ => return Err(ApiError::invalid("email", "is required: this visitor left no email")),
    };
    let conv = current_conversation(&state, &caller).await?;
    visitors::transcript(&state, &conv, &email).await?;
    Ok((StatusCode::ACCEPTED, Json(TranscriptQueued { email })))
}
