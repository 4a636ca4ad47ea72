//! Canned replies: team-wide (managed by owners/admins) and personal.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::{Agent, AppJson, AppPath, AppQuery};
use super::openapi::Error;
use crate::domain::ids::ShortcutId;
use crate::domain::values::{MessageBody, ShortcutName};
use crate::services::AppState;
use crate::store::{AgentScope, Membership, Shortcut};
use crate::views;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(get_one, update, remove))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Matches names and bodies (at most 100 characters).
    q: Option<String>,
}

/// The team's shortcuts and my personal ones.
#[utoipa::path(get, path = "/api/shortcuts", tag = "shortcuts", params(ListQuery),
    responses((status = 200, body = Vec<views::ShortcutView>), (status = 400, response = Error), (status = 401, response = Error), (status = 403, response = Error)))]
async fn list(State(state): State<AppState>, agent: Agent, AppQuery(q): AppQuery<ListQuery>) -> ApiResult<Json<Vec<views::ShortcutView>>> {
    let (scope, _) = agent.chat_scope(&state).await?;
    let q = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if q.is_some_and(|q| q.chars().count() > 100) {
        return Err(ApiError::invalid("q", "must be at most 100 characters"));
    }
    let items = state.store.shortcuts(&scope.team, &scope.user, q).await?;
    Ok(Json(items.iter().map(views::shortcut).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ShortcutInput)]
struct CreateBody {
    #[schema(min_length = 1, max_length = 60)]
    name: String,
    #[schema(min_length = 1, max_length = 5000)]
    body: String,
    /// `personal` (the default) or `team`.
    #[schema(pattern = "^(personal|team)$")]
    scope: Option<String>,
}

fn parse_body(raw: &str) -> ApiResult<String> {
    if raw.chars().count() > 5000 {
        return Err(ApiError::invalid("body", "must be at most 5000 characters"));
    }
    Ok(MessageBody::parse_html(raw)?.html().to_string())
}

/// A shortcut: `scope` `team` (owners/admins) or `personal`.
///
/// 409: `shortcut_exists`.
#[utoipa::path(post, path = "/api/shortcuts", tag = "shortcuts", request_body = CreateBody,
    responses((status = 201, body = views::ShortcutView), (status = 400, response = Error), (status = 401, response = Error), (status = 403, response = Error), (status = 409, response = Error)))]
async fn create(State(state): State<AppState>, agent: Agent, AppJson(b): AppJson<CreateBody>) -> ApiResult<(StatusCode, Json<views::ShortcutView>)> {
    let (scope, m) = agent.chat_scope(&state).await?;
    let name = ShortcutName::parse(&b.name)?;
    let body = parse_body(&b.body)?;
    let owner_id = match b.scope.as_deref().unwrap_or("personal") {
        "personal" => Some(scope.user.clone()),
        "team" if m.role.is_admin() => None,
        "team" => {
            return Err(ApiError::Forbidden("only owners and admins can create team shortcuts"));
        }
        _ => return Err(ApiError::invalid("scope", "must be team or personal")),
    };
    let s = Shortcut { id: ShortcutId::new(), team_id: scope.team, owner_id, name: name.into_inner(), body, created_at: state.now() };
    state.store.create_shortcut(&s).await?;
    crate::services::events::shortcuts_changed(&state, &s);
    Ok((StatusCode::CREATED, Json(views::shortcut(&s))))
}

/// A shortcut the caller can see: in their active team, team-wide or their own.
async fn visible(state: &AppState, agent: &Agent, raw: &str) -> ApiResult<(Shortcut, AgentScope, Membership)> {
    let (scope, m) = agent.chat_scope(state).await?;
    let id = ShortcutId::parse(raw).ok_or(ApiError::NotFound)?;
    let s = state.store.shortcut(&id).await?.ok_or(ApiError::NotFound)?;
    if s.team_id != scope.team || s.owner_id.as_ref().is_some_and(|o| *o != scope.user) {
        return Err(ApiError::NotFound);
    }
    Ok((s, scope, m))
}

fn may_edit(s: &Shortcut, m: &Membership) -> ApiResult<()> {
    if s.owner_id.is_none() && !m.role.is_admin() {
        return Err(ApiError::Forbidden("only owners and admins can change team shortcuts"));
    }
    Ok(())
}

/// One shortcut.
#[utoipa::path(get, path = "/api/shortcuts/{id}", tag = "shortcuts", params(("id" = String, Path)),
    responses((status = 200, body = views::ShortcutView), (status = 401, response = Error), (status = 404, response = Error)))]
async fn get_one(State(state): State<AppState>, agent: Agent, AppPath(id): AppPath<String>) -> ApiResult<Json<views::ShortcutView>> {
    let (s, _, _) = visible(&state, &agent, &id).await?;
    Ok(Json(views::shortcut(&s)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    #[schema(min_length = 1, max_length = 60)]
    name: Option<String>,
    #[schema(min_length = 1, max_length = 5000)]
    body: Option<String>,
}

/// Changes a shortcut's name or body.
///
/// 409: `shortcut_exists`.
#[utoipa::path(patch, path = "/api/shortcuts/{id}", tag = "shortcuts", params(("id" = String, Path)), request_body = UpdateBody,
    responses((status = 200, body = views::ShortcutView), (status = 400, response = Error), (status = 401, response = Error), (status = 403, response = Error), (status = 404, response = Error), (status = 409, response = Error)))]
async fn update(
    State(state): State<AppState>,
    agent: Agent,
    AppPath(id): AppPath<String>,
    AppJson(b): AppJson<UpdateBody>,
) -> ApiResult<Json<views::ShortcutView>> {
    let (mut s, _, m) = visible(&state, &agent, &id).await?;
    may_edit(&s, &m)?;
    if let Some(n) = b.name {
        s.name = ShortcutName::parse(&n)?.into_inner();
    }
    if let Some(body) = b.body {
        s.body = parse_body(&body)?;
    }
    state.store.update_shortcut(&s).await?;
    crate::services::events::shortcuts_changed(&state, &s);
    Ok(Json(views::shortcut(&s)))
}

/// Deletes a shortcut.
#[utoipa::path(delete, path = "/api/shortcuts/{id}", tag = "shortcuts", params(("id" = String, Path)),
    responses((status = 204), (status = 401, response = Error), (status = 403, response = Error), (status = 404, response = Error)))]
async fn remove(State(state): State<AppState>, agent: Agent, AppPath(id): AppPath<String>) -> ApiResult<StatusCode> {
    let (s, _, m) = visible(&state, &agent, &id).await?;
    may_edit(&s, &m)?;
    state.store.delete_shortcut(&s.id).await?;
    crate::services::events::shortcuts_changed(&state, &s);
    Ok(StatusCode::NO_CONTENT)
}
