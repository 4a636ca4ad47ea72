//! The audit log, read by a team's owners and admins.

use axum::Json;
use axum::extract::State;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::{Agent, AppPath, AppQuery};
use super::openapi::Error;
use crate::domain::audit::{Action, TargetKind};
use crate::domain::ids::{AuditId, TeamId, UserId};
use crate::services::{AppState, audit};
use crate::store::{AuditEntry, AuditFilter};
use crate::views;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(audit_log))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// Only this action (`member.removed`, `bot.updated`, ...; see docs/OPERATIONS.md).
    action: Option<String>,
    /// Only what this user did.
    actor: Option<String>,
    /// Only entries about this object (a user, bot, token, visitor, webhook or invitation id).
    target: Option<String>,
    /// RFC 3339: entries at or after this time.
    since: Option<String>,
    /// RFC 3339: entries before this time.
    until: Option<String>,
    cursor: Option<String>,
    /// 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
struct ActorView {
    /// `null` when Baton did it (the timers).
    id: Option<UserId>,
    /// As they were called at the time.
    display_name: String,
}

#[derive(Serialize, ToSchema)]
struct TargetView {
    kind: TargetKind,
    id: Option<String>,
    /// As it was called at the time.
    label: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = AuditEntry)]
struct AuditView {
    id: AuditId,
    at: String,
    action: Action,
    actor: ActorView,
    target: TargetView,
    /// What changed: names of fields (never secret values), from/to of a role, counts.
    #[schema(value_type = Object)]
    detail: serde_json::Value,
    /// The client address the change came from (empty for Baton's own).
    address: String,
}

#[derive(Serialize, ToSchema)]
struct AuditPage {
    items: Vec<AuditView>,
    /// Pass as `?cursor=` for the next page; `null` on the last one.
    next_cursor: Option<String>,
}

fn view(e: AuditEntry) -> AuditView {
    AuditView {
        id: e.id,
        at: views::time(e.at),
        action: e.action,
        actor: ActorView { id: e.actor_id, display_name: e.actor_label },
        target: TargetView { kind: e.target_kind, id: e.target_id, label: e.target_label },
        detail: e.detail,
        address: e.address,
    }
}

fn encode_cursor(e: &AuditEntry) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", e.at, e.id))
}

fn decode_cursor(raw: &str) -> ApiResult<(i64, AuditId)> {
    let bad = || ApiError::invalid("cursor", "is not a cursor this server returned");
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
    let s = String::from_utf8(bytes).map_err(|_| bad())?;
    let (at, id) = s.split_once(':').ok_or_else(bad)?;
    Ok((at.parse().map_err(|_| bad())?, AuditId::parse(id).ok_or_else(bad)?))
}

fn time_param(field: &str, raw: Option<&str>) -> ApiResult<Option<i64>> {
    match raw.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => {
            crate::clock::parse_rfc3339(s).map(Some).ok_or_else(|| ApiError::invalid(field, "must be an RFC 3339 time, e.g. 2026-12-01T00:00:00Z"))
        }
    }
}

/// Who did what to whom in the team, newest first (owners and admins). Entries are only ever
/// added: membership, roles and bot access, bots and settings, tokens, sign-ins from a new
/// address, visitor erasures and exports, retention, webhooks.
#[utoipa::path(get, path = "/api/teams/{team}/audit", tag = "teams", params(("team" = String, Path), AuditQuery),
    responses((status = 200, body = AuditPage), (status = 400, response = Error), (status = 401, response = Error), (status = 403, response = Error), (status = 404, response = Error)))]
async fn audit_log(
    State(state): State<AppState>,
    agent: Agent,
    AppPath(team): AppPath<String>,
    AppQuery(q): AppQuery<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    let team = TeamId::parse(&team).ok_or(ApiError::NotFound)?;
    agent.admin_of(&state, &team).await?;
    let action = match q.action.as_deref().filter(|s| !s.is_empty()) {
        Some(a) => Some(Action::parse(a).ok_or_else(|| ApiError::invalid("action", "is not an action the audit log records"))?),
        None => None,
    };
    let actor = match q.actor.as_deref().filter(|s| !s.is_empty()) {
        Some(a) => Some(UserId::parse(a).ok_or_else(|| ApiError::invalid("actor", "is not a user id"))?),
        None => None,
    };
    let target = match q.target.as_deref().filter(|s| !s.is_empty()) {
        Some(t) if t.len() <= 64 => Some(t.to_string()),
        Some(_) => return Err(ApiError::invalid("target", "must be at most 64 characters")),
        None => None,
    };
    let since = time_param("since", q.since.as_deref())?;
    let until = time_param("until", q.until.as_deref())?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 200"));
    }
    let before = q.cursor.as_deref().filter(|s| !s.is_empty()).map(decode_cursor).transpose()?;
    let filter = AuditFilter { action, actor, target, since, until, before };
    let mut items = audit::list(&state, &team, &filter, limit + 1).await?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(encode_cursor)
    } else {
        None
    };
    Ok(Json(AuditPage { items: items.into_iter().map(view).collect(), next_cursor }))
}
