//! Teams, members, agents and team settings.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::{Agent, AppJson, AppPath, double_option};
use super::openapi::Error;
use crate::domain::ids::{BotId, InvitationId, TeamId, UserId};
use crate::domain::team::{BotAccess, Role};
use crate::domain::values::{Email, Password, PersonName, TeamName};
use crate::services::AppState;
use crate::services::teams;
use crate::store::{MemberPatch, NewMember, SettingsPatch};
use crate::views;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_team))
        .routes(routes!(get_team))
        .routes(routes!(list_members, add_member))
        .routes(routes!(team_invitations))
        .routes(routes!(withdraw_invitation))
        .routes(routes!(my_invitations))
        .routes(routes!(accept_invitation))
        .routes(routes!(decline_invitation))
        .routes(routes!(update_member, remove_member))
        .routes(routes!(list_agents))
        .routes(routes!(get_settings, update_settings))
}

fn team_id(raw: &str) -> ApiResult<TeamId> {
    TeamId::parse(raw).ok_or(ApiError::NotFound)
}

fn parse_role(raw: &str) -> ApiResult<Role> {
    Role::parse(raw).ok_or_else(|| ApiError::invalid("role", "must be one of owner, admin, chat_agent, member"))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TeamBody {
    #[schema(min_length = 1, max_length = 100)]
    name: String,
}

/// A new team; the caller becomes its owner.
#[utoipa::path(post, path = "/api/teams", tag = "teams", request_body = TeamBody,
    responses((status = 201, body = views::TeamView), (status = 400, response = Error), (status = 401, response = Error)))]
async fn create_team(State(state): State<AppState>, agent: Agent, AppJson(b): AppJson<TeamBody>) -> ApiResult<(StatusCode, Json<views::TeamView>)> {
    let name = TeamName::parse(&b.name)?;
    let team = state.store.create_team(&agent.user_id, name.as_str(), state.now()).await?;
    Ok((StatusCode::CREATED, Json(views::team(&team))))
}

#[derive(Serialize, ToSchema)]
struct MyTeamView {
    #[serde(flatten)]
    team: views::TeamView,
    /// The caller's role in it.
    role: Role,
}

/// A team the caller belongs to.
#[utoipa::path(get, path = "/api/teams/{team}", tag = "teams", params(("team" = String, Path)),
    responses((status = 200, body = MyTeamView), (status = 401, response = Error), (status = 404, response = Error)))]
async fn get_team(State(state): State<AppState>, agent: Agent, AppPath(team): AppPath<String>) -> ApiResult<Json<MyTeamView>> {
    let team = team_id(&team)?;
    let m = agent.member_of(&state, &team).await?;
    let t = state.store.team(&team).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(MyTeamView { team: views::team(&t), role: m.role }))
}

/// Every member with their role, bot access and presence (any member may look).
#[utoipa::path(get, path = "/api/teams/{team}/members", tag = "teams", params(("team" = String, Path)),
    responses((status = 200, body = Vec<views::MemberView>), (status = 401, response = Error), (status = 404, response = Error)))]
async fn list_members(State(state): State<AppState>, agent: Agent, AppPath(team): AppPath<String>) -> ApiResult<Json<Vec<views::MemberView>>> {
    let team = team_id(&team)?;
    agent.member_of(&state, &team).await?;
    let members = state.store.members(&team).await?;
    Ok(Json(members.iter().map(views::member).collect()))
}

/// The chat-capable members, with their status and last activity.
#[utoipa::path(get, path = "/api/teams/{team}/agents", tag = "teams", params(("team" = String, Path)),
    responses((status = 200, body = Vec<views::MemberView>), (status = 401, response = Error), (status = 404, response = Error)))]
async fn list_agents(State(state): State<AppState>, agent: Agent, AppPath(team): AppPath<String>) -> ApiResult<Json<Vec<views::MemberView>>> {
    let team = team_id(&team)?;
    agent.member_of(&state, &team).await?;
    let members = state.store.members(&team).await?;
    Ok(Json(members.iter().filter(|m| m.membership.role.can_chat()).map(views::member).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AddMemberBody {
    #[schema(format = Email, max_length = 254)]
    email: String,
    #[schema(value_type = Role)]
    role: String,
    #[schema(max_length = 100)]
    first_name: Option<String>,
    #[schema(max_length = 100)]
    last_name: Option<String>,
    /// Makes the account when the email has none; never applied to an existing one.
    #[schema(min_length = 8, max_length = 256)]
    password: Option<String>,
}

/// Invites someone to the team by email; they become a member when they accept. When the
/// email has no account and a `password` is given, the account is made too, and its first login
/// accepts. The answer is the same whether or not the email has an account (an existing
/// account is never changed, and nothing of it is shown); inviting an email again replaces its
/// pending invitation.
///
/// 409: `already_member`.
#[utoipa::path(post, path = "/api/teams/{team}/members", tag = "teams", params(("team" = String, Path)), request_body = AddMemberBody,
    responses((status = 201, body = views::InvitedView), (status = 400, response = Error), (status = 401, response = Error), (status = 403, response = Error), (status = 404, response = Error), (status = 409, response = Error)))]
async fn add_member(
    State(state): State<AppState>,
    agent: Agent,
    AppPath(team): AppPath<String>,
    AppJson(b): AppJson<AddMemberBody>,
) -> ApiResult<(StatusCode, Json<views::InvitedView>)> {
    let team = team_id(&team)?;
    let me = agent.admin_of(&state, &team).await?;
    let email = Email::parse(&b.email)?;
    let role = parse_role(&b.role)?;
    if role == Role::Owner && me.role != Role::Owner {
        return Err(ApiError::Forbidden("only owners can add owners"));
    }
    let first = PersonName::parse_as("first_name", b.first_name.as_deref().unwrap_or(""))?;
    let last = PersonName::parse_as("last_name", b.last_name.as_deref().unwrap_or(""))?;
    // Checked and hashed whether or not the email has an account: same answer, same time.
    let password_hash = match b.password.as_deref() {
        Some(p) => {
            let p = Password::parse(p)?;
            Some(crate::services::auth::hash(p.expose().to_string()).await.map_err(ApiError::internal)?)
        }
        None => None,
    };
    let new = NewMember { email: email.as_str().into(), role, first_name: first.into_inner(), last_name: last.into_inner(), password_hash };
    let invitation = teams::invite(&state, &team, new, &agent.user_id, &agent.actor()).await?;
    Ok((StatusCode::CREATED, Json(views::InvitedView { invitation: views::invitation(&invitation), emailed: state.notifier.mailer.is_some() })))
}

/// The team's pending invitations, oldest first (owners and admins).
#[utoipa::path(get, path = "/api/teams/{team}/invitations", tag = "teams", params(("team" = String, Path)),
    responses((status = 200, body = Vec<views::InvitationView>), (status = 401, response = Error), (status = 403, response = Error), (status = 404, response = Error)))]
async fn team_invitations(
    State(state): State<AppState>,
    agent: Agent,
    AppPath(team): AppPath<String>,
) -> ApiResult<Json<Vec<views::InvitationView>>> {
    let team = team_id(&team)?;
    agent.admin_of(&state, &team).await?;
    let list = state.store.team_invitations(&team, state.now()).await?;
    Ok(Json(list.iter().map(views::invitation).collect()))
}

fn invitation_id(raw: &str) -> ApiResult<InvitationId> {
    InvitationId::parse(raw).ok_or(ApiError::NotFound)
}

/// Withdraws a pending invitation (owners and admins).
#[utoipa::path(delete, path = "/api/teams/{team}/invitations/{invitation}", tag = "teams", params(("team" = String, Path), ("invitation" = String, Path)),
    responses((status = 204), (status = 401, response = Error), (status = 403, response = Error), (status = 404, response = Error)))]
async fn withdraw_invitation(State(state): State<AppState>, agent: Agent, AppPath((team, id)): AppPath<(String, String)>) -> ApiResult<StatusCode> {
    let team = team_id(&team)?;
    agent.admin_of(&state, &team).await?;
    if teams::withdraw(&state, &team, &invitation_id(&id)?, &agent.actor()).await? { Ok(StatusCode::NO_CONTENT) } else { Err(ApiError::NotFound) }
}

/// Invitations waiting for the caller, oldest first.
#[utoipa::path(get, path = "/api/invitations", tag = "teams", responses((status = 200, body = Vec<views::InvitationView>), (status = 401, response = Error)))]
async fn my_invitations(State(state): State<AppState>, agent: Agent) -> ApiResult<Json<Vec<views::InvitationView>>> {
    let list = state.store.invitations_for(&agent.user_id, state.now()).await?;
    Ok(Json(list.iter().map(views::invitation).collect()))
}

/// Joins the team: the caller becomes a member with the invited role (and, if they had no
/// team, it becomes their active one).
#[utoipa::path(post, path = "/api/invitations/{invitation}/accept", tag = "teams", params(("invitation" = String, Path)),
    responses((status = 200, body = views::MemberView), (status = 401, response = Error), (status = 404, response = Error)))]
async fn accept_invitation(State(state): State<AppState>, agent: Agent, AppPath(id): AppPath<String>) -> ApiResult<Json<views::MemberView>> {
    let id = invitation_id(&id)?;
    let member = teams::accept(&state, &id, &agent.user_id, &agent.address).await?;
    Ok(Json(views::member(&member)))
}

/// Turns an invitation down.
#[utoipa::path(post, path = "/api/invitations/{invitation}/decline", tag = "teams", params(("invitation" = String, Path)),
    responses((status = 204), (status = 401, response = Error), (status = 404, response = Error)))]
async fn decline_invitation(State(state): State<AppState>, agent: Agent, AppPath(id): AppPath<String>) -> ApiResult<StatusCode> {
    let id = invitation_id(&id)?;
    if teams::decline(&state, &id, &agent.user_id).await? { Ok(StatusCode::NO_CONTENT) } else { Err(ApiError::NotFound) }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct UpdateMemberBody {
    role: Option<String>,
    /// `"all"` or a list of bot ids.
    #[schema(value_type = Option<views::AccessView>)]
    bot_access: Option<Value>,
    /// 1–100, or `null` for no limit.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 100)]
    capacity: Option<Option<i64>>,
}

fn parse_access(v: &Value) -> ApiResult<BotAccess> {
    let bad = || ApiError::invalid("bot_access", "must be \"all\" or a list of bot ids");
    match v {
        Value::String(s) if s == "all" => Ok(BotAccess::All),
        Value::Array(items) => {
            let ids = items.iter().map(|i| i.as_str().and_then(BotId::parse).ok_or_else(bad)).collect::<ApiResult<Vec<_>>>()?;
            Ok(BotAccess::Only(ids))
        }
        _ => Err(bad()),
    }
}

/// Changes a member's role, bot access or capacity (owners/admins; owners for owners).
///
/// 409: `last_owner`.
#[utoipa::path(patch, path = "/api/teams/{team}/members/{user}", tag = "teams", params(("team" = String, Path), ("user" = String, Path)), request_body = UpdateMemberBody,
    responses((status = 200, body = views::MemberView), (status = 400, response = Error), (status = 401, response = Error), (status = 403, response = Error), (status = 404, response = Error), (status = 409, response = Error)))]
async fn update_member(
    State(state): State<AppState>,
    agent: Agent,
    AppPath((team, user)): AppPath<(String, String)>,
    AppJson(b): AppJson<UpdateMemberBody>,
) -> ApiResult<Json<views::MemberView>> {
    let team = team_id(&team)?;
    let user = UserId::parse(&user).ok_or(ApiError::NotFound)?;
    let me = agent.admin_of(&state, &team).await?;
    let target = state.store.membership(&team, &user).await?.ok_or(ApiError::NotFound)?;
    let role = b.role.as_deref().map(parse_role).transpose()?;
    if me.role != Role::Owner && (target.role == Role::Owner || role == Some(Role::Owner)) {
        return Err(ApiError::Forbidden("only owners can change owners"));
    }
    if let Some(Some(c)) = b.capacity {
        if !(1..=100).contains(&c) {
            return Err(ApiError::invalid("capacity", "must be between 1 and 100, or null for no limit"));
        }
    }
    let patch = MemberPatch { role, bot_access: b.bot_access.as_ref().map(parse_access).transpose()?, capacity: b.capacity };
    let member = teams::update_member(&state, &team, &user, patch, &agent.actor()).await?;
    Ok(Json(views::member(&member)))
}

/// Removes a member (or leaves the team); their live chats go back to the queue.
///
/// 409: `last_owner`.
#[utoipa::path(delete, path = "/api/teams/{team}/members/{user}", tag = "teams", params(("team" = String, Path), ("user" = String, Path)),
    responses((status = 204), (status = 401, response = Error), (status = 403, response = Error), (status = 404, response = Error), (status = 409, response = Error)))]
async fn remove_member(State(state): State<AppState>, agent: Agent, AppPath((team, user)): AppPath<(String, String)>) -> ApiResult<StatusCode> {
    let team = team_id(&team)?;
    let user = UserId::parse(&user).ok_or(ApiError::NotFound)?;
    // Anyone may leave a team; removing someone else takes an admin (an owner for owners).
    if user != agent.user_id {
        let me = agent.admin_of(&state, &team).await?;
        let target = state.store.membership(&team, &user).await?.ok_or(ApiError::NotFound)?;
        if target.role == Role::Owner && me.role != Role::Owner {
            return Err(ApiError::Forbidden("only owners can remove owners"));
        }
    } else {
        agent.member_of(&state, &team).await?;
    }
    teams::remove_member(&state, &team, &user, &agent.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The team's presence and email timers.
#[utoipa::path(get, path = "/api/teams/{team}/settings", tag = "teams", params(("team" = String, Path)),
    responses((status = 200, body = views::SettingsView), (status = 401, response = Error), (status = 404, response = Error)))]
async fn get_settings(State(state): State<AppState>, agent: Agent, AppPath(team): AppPath<String>) -> ApiResult<Json<views::SettingsView>> {
    let team = team_id(&team)?;
    agent.member_of(&state, &team).await?;
    let t = state.store.team(&team).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(views::settings(&t.settings)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SettingsBody {
    #[schema(minimum = 1, maximum = 1440)]
    auto_away_minutes: Option<i64>,
    #[schema(minimum = 20, maximum = 3600)]
    heartbeat_timeout_seconds: Option<i64>,
    #[schema(minimum = 0, maximum = 86400)]
    visitor_email_delay_seconds: Option<i64>,
    #[schema(minimum = 0, maximum = 86400)]
    orphan_grace_seconds: Option<i64>,
    /// How visitors rate a resolved chat: `stars`, `thumbs` or `off`.
    csat: Option<crate::store::Csat>,
    /// Remind the team this often while a chat waits unclaimed; 0 turns reminders off.
    #[schema(minimum = 0, maximum = 86400)]
    pending_alert_seconds: Option<i64>,
    /// The largest file agents and visitors may send, in bytes: 0 (no files) or 1 KiB to 25 MiB.
    #[schema(minimum = 0, maximum = 26214400)]
    attachment_max_bytes: Option<i64>,
    /// The kinds of files accepted: any of `image`, `pdf`, `text`, `office`, `archive`.
    attachment_kinds: Option<Vec<String>>,
    /// Delete resolved conversations (with their messages and files) this many days after
    /// they ended: 1–3650, or 0 to keep them.
    #[schema(minimum = 0, maximum = 3650)]
    retention_days: Option<i64>,
}

fn in_range(field: &str, v: Option<i64>, lo: i64, hi: i64) -> ApiResult<Option<i64>> {
    match v {
        Some(n) if !(lo..=hi).contains(&n) => Err(ApiError::invalid(field, format!("must be between {lo} and {hi}"))),
        other => Ok(other),
    }
}

/// Changes the team's timers (owners/admins); fields left out stay.
#[utoipa::path(patch, path = "/api/teams/{team}/settings", tag = "teams", params(("team" = String, Path)), request_body = SettingsBody,
    responses((status = 200, body = views::SettingsView), (status = 400, response = Error), (status = 401, response = Error), (status = 403, response = Error), (status = 404, response = Error)))]
async fn update_settings(
    State(state): State<AppState>,
    agent: Agent,
    AppPath(team): AppPath<String>,
    AppJson(b): AppJson<SettingsBody>,
) -> ApiResult<Json<views::SettingsView>> {
    let team = team_id(&team)?;
    let me = agent.admin_of(&state, &team).await?;
    // Deleting history is the owners' call.
    if b.retention_days.is_some() && me.role != Role::Owner {
        return Err(ApiError::Forbidden("only owners can change how long conversations are kept"));
    }
    let patch = SettingsPatch {
        auto_away_minutes: in_range("auto_away_minutes", b.auto_away_minutes, 1, 1440)?,
        heartbeat_timeout_seconds: in_range("heartbeat_timeout_seconds", b.heartbeat_timeout_seconds, 20, 3600)?,
        visitor_email_delay_seconds: in_range("visitor_email_delay_seconds", b.visitor_email_delay_seconds, 0, 86_400)?,
        orphan_grace_seconds: in_range("orphan_grace_seconds", b.orphan_grace_seconds, 0, 86_400)?,
        csat: b.csat,
        pending_alert_seconds: match in_range("pending_alert_seconds", b.pending_alert_seconds, 0, 86_400)? {
            Some(n) if n > 0 && n < 30 => return Err(ApiError::invalid("pending_alert_seconds", "must be 0 (off) or at least 30")),
            other => other,
        },
        attachment_max_bytes: match in_range("attachment_max_bytes", b.attachment_max_bytes, 0, crate::domain::attachment::MAX_BYTES_LIMIT)? {
            Some(n) if n > 0 && n < 1024 => return Err(ApiError::invalid("attachment_max_bytes", "must be 0 (no files) or at least 1024")),
            other => other,
        },
        attachment_kinds: b.attachment_kinds.as_deref().map(crate::domain::attachment::Kinds::parse).transpose()?,
        retention_days: in_range("retention_days", b.retention_days, 0, 3650)?,
    };
    let t = teams::update_settings(&state, &team, patch, &agent.actor()).await?;
    Ok(Json(views::settings(&t.settings)))
}
