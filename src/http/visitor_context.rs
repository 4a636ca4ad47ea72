//! The visitor beside the chat: the widget reports where the visitor is and what they use, the
//! host page sets attributes, and agents read it all with the visitor's earlier chats.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::{Agent, AppJson, AppPath, VisitorWrite};
use super::openapi::Error;
use crate::domain::chat::ChatState;
use crate::domain::ids::ConversationId;
use crate::domain::visitor::{Context, Reported, attributes};
use crate::services::{AppState, visitors};
use crate::views;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(report_context)).routes(routes!(set_attributes)).routes(routes!(visitor_of_chat))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ContextBody {
    /// The page the visitor is on (http or https, at most 2000 characters).
    page_url: Option<String>,
    /// Its title (longer than 300 characters is shortened).
    page_title: Option<String>,
    /// `document.referrer`.
    referrer: Option<String>,
    /// IANA time zone, e.g. `Europe/Berlin`.
    time_zone: Option<String>,
    /// BCP 47 language tag, e.g. `de-DE`.
    language: Option<String>,
}

/// Where the visitor is and what they use: the widget reports it on load and when the page
/// changes. The browser and system are read from the request's User-Agent. Agents with the
/// visitor's live chat open see it change (`visitor.updated`).
#[utoipa::path(put, path = "/api/widget/context", tag = "widget", request_body = ContextBody,
    responses((status = 204), (status = 400, response = Error), (status = 401, response = Error), (status = 429, response = Error)))]
async fn report_context(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    VisitorWrite(caller): VisitorWrite,
    AppJson(b): AppJson<ContextBody>,
) -> ApiResult<StatusCode> {
    let ua = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(|s| &s[..s.len().min(512)]);
    let context = Context::check(&Reported {
        page_url: b.page_url.as_deref(),
        page_title: b.page_title.as_deref(),
        referrer: b.referrer.as_deref(),
        time_zone: b.time_zone.as_deref(),
        language: b.language.as_deref(),
        user_agent: ua,
    })?;
    visitors::report_context(&state, &caller.visitor, &context).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AttributesBody {
    /// Up to 20 attributes: names of lower-case letters, digits and `_` (at most 40), values
    /// text, numbers or true/false (at most 500 characters); `null` leaves one out. Replaces the
    /// earlier set.
    #[schema(value_type = Object)]
    attributes: serde_json::Map<String, serde_json::Value>,
}

/// Attributes the host page knows about the visitor (`Baton.setUser({plan: "pro"})` or
/// `data-user-plan="pro"` on the script tag), shown to agents beside the chat.
#[utoipa::path(put, path = "/api/widget/attributes", tag = "widget", request_body = AttributesBody,
    responses((status = 204), (status = 400, response = Error), (status = 401, response = Error), (status = 429, response = Error)))]
async fn set_attributes(
    State(state): State<AppState>,
    VisitorWrite(caller): VisitorWrite,
    AppJson(b): AppJson<AttributesBody>,
) -> ApiResult<StatusCode> {
    let attributes = attributes(&b.attributes)?;
    visitors::set_attributes(&state, &caller.visitor, &attributes).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
#[schema(as = VisitorDetails)]
struct VisitorDetails {
    visitor: views::VisitorView,
    /// As the widget last reported it (empty until it has).
    context: Context,
    #[schema(value_type = Object)]
    attributes: std::collections::BTreeMap<String, String>,
    /// When the context or attributes last changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    updated_at: Option<String>,
    /// The visitor's chats with the team, this one included, newest first (at most 20).
    chats: Vec<PastChatView>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = PastChat)]
struct PastChatView {
    id: ConversationId,
    state: ChatState,
    bot_name: String,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    resolved_at: Option<String>,
    /// What was said last (visitor or agent).
    #[serde(skip_serializing_if = "Option::is_none")]
    preview: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    assignee: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rating: Option<views::RatingView>,
}

/// The chat's visitor: context, attributes and earlier chats (each openable by its id).
#[utoipa::path(get, path = "/api/live-chats/{id}/visitor", tag = "live chats", params(("id" = String, Path)),
    responses((status = 200, body = VisitorDetails), (status = 401, response = Error), (status = 403, response = Error), (status = 404, response = Error)))]
async fn visitor_of_chat(State(state): State<AppState>, agent: Agent, AppPath(id): AppPath<String>) -> ApiResult<Json<VisitorDetails>> {
    let (scope, _) = agent.chat_scope(&state).await?;
    let id = ConversationId::parse(&id).ok_or(ApiError::NotFound)?;
    let chat = state.store.live_chat(&scope, &id).await?.ok_or(ApiError::NotFound)?;
    let found = state.store.visitor_context(&chat.visitor.id).await?.unwrap_or_default();
    let chats = state.store.visitor_chats(&chat.visitor.id, 20).await?;
    Ok(Json(VisitorDetails {
        visitor: views::visitor(&chat.visitor),
        context: found.context,
        attributes: found.attributes,
        updated_at: (found.updated_at > 0).then(|| views::time(found.updated_at)),
        chats: chats
            .iter()
            .map(|c| PastChatView {
                id: c.id.clone(),
                state: c.state,
                bot_name: c.bot_name.clone(),
                created_at: views::time(c.created_at),
                resolved_at: views::opt_time(c.resolved_at),
                preview: c.preview.clone(),
                assignee: c.assignee.clone(),
                rating: c.rating.as_ref().map(views::rating),
            })
            .collect(),
    }))
}
