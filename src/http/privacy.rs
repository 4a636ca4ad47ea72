//! Data rights: finding a visitor by email, exporting and erasing their data (owners and
//! admins of the visitor's team).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::{Agent, AppJson, AppPath, AppQuery};
use super::openapi::Error;
use crate::domain::ids::{TeamId, VisitorId};
use crate::domain::values::Email;
use crate::services::{AppState, privacy};
use crate::store::Visitor;
use crate::views;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(find_visitors)).routes(routes!(export_visitor)).routes(routes!(erase_visitor))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct FindQuery {
    /// The email the visitor gave (any case); required.
    email: Option<String>,
}

/// The team's visitors who gave this email, newest first (at most 50): the start of a data
/// request.
#[utoipa::path(get, path = "/api/teams/{team}/visitors", tag = "data rights", params(("team" = String, Path), FindQuery),
    responses((status = 200, body = Vec<views::VisitorView>), (status = 400, response = Error), (status = 401, response = Error), (status = 403, response = Error), (status = 404, response = Error)))]
async fn find_visitors(
    State(state): State<AppState>,
    agent: Agent,
    AppPath(team): AppPath<String>,
    AppQuery(q): AppQuery<FindQuery>,
) -> ApiResult<Json<Vec<views::VisitorView>>> {
    let team = TeamId::parse(&team).ok_or(ApiError::NotFound)?;
    agent.admin_of(&state, &team).await?;
    let email = Email::parse(q.email.as_deref().ok_or_else(|| ApiError::invalid("email", "is required"))?)?;
    let found = privacy::find(&state, &team, email.as_str()).await?;
    Ok(Json(found.iter().map(views::visitor).collect()))
}

/// The visitor and their team, for an owner or admin of it; 404 for anyone outside it.
async fn visitor_for_admin(state: &AppState, agent: &Agent, raw: &str) -> ApiResult<(Visitor, TeamId)> {
    let id = VisitorId::parse(raw).ok_or(ApiError::NotFound)?;
    let visitor = state.store.visitor(&id).await?.ok_or(ApiError::NotFound)?;
    let bot = state.store.bot(&visitor.bot_id).await?.ok_or(ApiError::NotFound)?;
    agent.admin_of(state, &bot.team_id).await?;
    Ok((visitor, bot.team_id))
}

/// Everything Baton keeps about the visitor, as a JSON file to hand over: their details, what
/// the widget reported and the site set, and every conversation with its messages (internal
/// notes marked `internal`), files (name, type, size, address) and rating. Recorded in the
/// audit log.
/// A POST (with the CSRF header for a cookie session), so that a link cannot make an admin's
/// browser export and log it.
#[utoipa::path(post, path = "/api/visitors/{visitor}/export", tag = "data rights", params(("visitor" = String, Path)),
    responses((status = 200, description = "The visitor's data (`format`: `baton.visitor-export.v1`)", content_type = "application/json", body = Object),
        (status = 401, response = Error), (status = 403, response = Error), (status = 404, response = Error)))]
async fn export_visitor(State(state): State<AppState>, agent: Agent, AppPath(visitor): AppPath<String>) -> ApiResult<Response> {
    let (visitor, team) = visitor_for_admin(&state, &agent, &visitor).await?;
    let doc = privacy::export(&state, &team, &visitor, &agent.actor()).await?;
    let mut res = Json(doc).into_response();
    let name = format!("attachment; filename=\"visitor-{}.json\"", visitor.id);
    res.headers_mut().insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&name).map_err(ApiError::internal)?);
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct EraseBody {
    /// Must be `"erase"`: erasing cannot be undone.
    confirm: String,
}

#[derive(Serialize, ToSchema)]
struct ErasedView {
    conversations: i64,
    messages: i64,
    files: usize,
}

/// Erases the visitor: their details, every conversation with its messages, notes, files,
/// rating and search entries, what the widget reported, and emails or pushes still waiting.
/// Open inboxes drop the chats (`chat.erased`); the audit log keeps that it happened (by the
/// visitor's id, never their name or email). Cannot be undone.
#[utoipa::path(post, path = "/api/visitors/{visitor}/erase", tag = "data rights", params(("visitor" = String, Path)), request_body = EraseBody,
    responses((status = 200, body = ErasedView), (status = 400, response = Error), (status = 401, response = Error), (status = 403, response = Error), (status = 404, response = Error)))]
async fn erase_visitor(
    State(state): State<AppState>,
    agent: Agent,
    AppPath(visitor): AppPath<String>,
    AppJson(b): AppJson<EraseBody>,
) -> ApiResult<Json<ErasedView>> {
    let (visitor, team) = visitor_for_admin(&state, &agent, &visitor).await?;
    if b.confirm != "erase" {
        return Err(ApiError::invalid("confirm", "must be \"erase\": erasing a visitor cannot be undone"));
    }
    let erased = privacy::erase(&state, &team, &visitor, &agent.actor()).await?;
    Ok(Json(ErasedView { conversations: erased.conversations, messages: erased.messages, files: erased.files.len() }))
}
