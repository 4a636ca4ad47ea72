//! Outgoing webhooks and their delivery log (owners and admins of the team).

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
use crate::domain::ids::{TeamId, WebhookId};
use crate::domain::webhook::{Event, check_url, events};
use crate::services::{AppState, webhooks};
use crate::store::{Delivery, Webhook, WebhookPatch};
use crate::views;

/// Webhooks one team may have.
const MAX_WEBHOOKS: usize = 10;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(rotate_secret))
        .routes(routes!(list_deliveries))
        .routes(routes!(redeliver))
}

#[derive(Serialize, ToSchema)]
#[schema(as = Webhook)]
struct WebhookView {
    id: WebhookId,
    team_id: TeamId,
    name: String,
    url: String,
    events: Vec<Event>,
    /// Off when an admin turned it off, or Baton did after a day of failures.
    enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    disabled_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disabled_reason: Option<String>,
    /// Since when every attempt has failed (absent while deliveries succeed).
    #[serde(skip_serializing_if = "Option::is_none")]
    failing_since: Option<String>,
    consecutive_failures: i64,
    created_at: String,
    /// Only in the answer that made it (or a new one): sign checks with it. Never shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

fn view(w: &Webhook, with_secret: bool) -> WebhookView {
    WebhookView {
        id: w.id.clone(),
        team_id: w.team_id.clone(),
        name: w.name.clone(),
        url: w.url.clone(),
        events: w.events.clone(),
        enabled: w.enabled,
        disabled_at: views::opt_time(w.disabled_at),
        disabled_reason: w.disabled_reason.clone(),
        failing_since: views::opt_time(w.failing_since),
        consecutive_failures: w.consecutive_failures,
        created_at: views::time(w.created_at),
        secret: with_secret.then(|| w.secret.clone()),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct WebhookBody {
    /// What it is for (1–100 characters).
    name: Option<String>,
    /// Where deliveries are posted: http or https, a public address unless Baton runs with
    /// `--allow-private-webhooks`.
    url: Option<String>,
    /// Any of `conversation.escalated`, `conversation.claimed`, `conversation.transferred`,
    /// `conversation.resolved`, `conversation.reopened`, `message.created`, `csat.given`.
    events: Option<Vec<String>>,
    /// Turning it back on forgets its failure run.
    enabled: Option<bool>,
}

fn checked_name(raw: &str) -> ApiResult<String> {
    let n = raw.trim();
    if n.is_empty() || n.chars().count() > 100 || n.chars().any(char::is_control) {
        return Err(ApiError::invalid("name", "must be 1-100 characters"));
    }
    Ok(n.to_string())
}

fn checked_url(state: &AppState, raw: &str) -> ApiResult<String> {
    let u = raw.trim();
    check_url(u).map_err(|e| ApiError::invalid("url", e))?;
    if !state.settings.allow_private_webhooks {
        let parsed = reqwest::Url::parse(u).map_err(|_| ApiError::invalid("url", "must be an http or https URL"))?;
        if let Some(why) = crate::services::outbound::refuse_url(&parsed) {
            return Err(ApiError::invalid(
                "url",
                format!("{why}; webhooks must be public addresses unless Baton runs with --allow-private-webhooks"),
            ));
        }
    }
    Ok(u.to_string())
}

fn checked_events(raw: &[String]) -> ApiResult<Vec<Event>> {
    events(raw).map_err(|e| ApiError::invalid("events", e))
}

/// The webhook, for an owner or admin of its team (404 for anyone else outside it).
async fn admin_webhook(state: &AppState, agent: &Agent, raw: &str) -> ApiResult<Webhook> {
    let id = WebhookId::parse(raw).ok_or(ApiError::NotFound)?;
    let w = state.store.webhook(&id).await?.ok_or(ApiError::NotFound)?;
    agent.admin_of(state, &w.team_id).await?;
    Ok(w)
}

/// The team's webhooks, oldest first.
#[utoipa::path(get, path = "/api/teams/{team}/webhooks", tag = "webhooks", params(("team" = String, Path)),
    responses((status = 200, body = Vec<WebhookView>), (status = 401, response = Error), (status = 403, response = Error), (status = 404, response = Error)))]
async fn list_webhooks(State(state): State<AppState>, agent: Agent, AppPath(team): AppPath<String>) -> ApiResult<Json<Vec<WebhookView>>> {
    let team = TeamId::parse(&team).ok_or(ApiError::NotFound)?;
    agent.admin_of(&state, &team).await?;
    Ok(Json(state.store.webhooks(&team).await?.iter().map(|w| view(w, false)).collect()))
}

/// A new webhook (at most 10 per team). The answer carries its signing `secret`, shown only
/// here: every delivery has `Baton-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
/// "<t>.<body>">` (see docs/OPERATIONS.md).
#[utoipa::path(post, path = "/api/teams/{team}/webhooks", tag = "webhooks", params(("team" = String, Path)), request_body = WebhookBody,
    responses((status = 201, body = WebhookView), (status = 400, response = Error), (status = 401, response = Error), (status = 403, response = Error), (status = 404, response = Error), (status = 409, response = Error)))]
async fn create_webhook(
    State(state): State<AppState>,
    agent: Agent,
    AppPath(team): AppPath<String>,
    AppJson(b): AppJson<WebhookBody>,
) -> ApiResult<(StatusCode, Json<WebhookView>)> {
    let team = TeamId::parse(&team).ok_or(ApiError::NotFound)?;
    agent.admin_of(&state, &team).await?;
    let name = checked_name(b.name.as_deref().ok_or_else(|| ApiError::invalid("name", "is required"))?)?;
    let url = checked_url(&state, b.url.as_deref().ok_or_else(|| ApiError::invalid("url", "is required"))?)?;
    let events = checked_events(b.events.as_deref().ok_or_else(|| ApiError::invalid("events", "is required"))?)?;
    if b.enabled == Some(false) {
        return Err(ApiError::invalid("enabled", "a new webhook starts on; turn it off afterwards"));
    }
    if state.store.webhooks(&team).await?.len() >= MAX_WEBHOOKS {
        return Err(ApiError::Conflict("too_many_webhooks", "a team can have at most 10 webhooks".into()));
    }
    let w = webhooks::create(&state, &team, name, url, events, &agent.actor(), &agent.user_id).await?;
    Ok((StatusCode::CREATED, Json(view(&w, true))))
}

/// One webhook.
#[utoipa::path(get, path = "/api/webhooks/{webhook}", tag = "webhooks", params(("webhook" = String, Path)),
    responses((status = 200, body = WebhookView), (status = 401, response = Error), (status = 403, response = Error), (status = 404, response = Error)))]
async fn get_webhook(State(state): State<AppState>, agent: Agent, AppPath(id): AppPath<String>) -> ApiResult<Json<WebhookView>> {
    Ok(Json(view(&admin_webhook(&state, &agent, &id).await?, false)))
}

/// Changes a webhook; fields left out stay. `enabled: true` turns it back on after Baton turned
/// it off (its waiting deliveries had failed: send them again from the log).
#[utoipa::path(patch, path = "/api/webhooks/{webhook}", tag = "webhooks", params(("webhook" = String, Path)), request_body = WebhookBody,
    responses((status = 200, body = WebhookView), (status = 400, response = Error), (status = 401, response = Error), (status = 403, response = Error), (status = 404, response = Error)))]
async fn update_webhook(
    State(state): State<AppState>,
    agent: Agent,
    AppPath(id): AppPath<String>,
    AppJson(b): AppJson<WebhookBody>,
) -> ApiResult<Json<WebhookView>> {
    let w = admin_webhook(&state, &agent, &id).await?;
    let patch = WebhookPatch {
        name: b.name.as_deref().map(checked_name).transpose()?,
        url: b.url.as_deref().map(|u| checked_url(&state, u)).transpose()?,
        events: b.events.as_deref().map(checked_events).transpose()?,
        enabled: b.enabled,
        secret: None,
    };
    let w = webhooks::update(&state, &w, patch, &agent.actor()).await?;
    Ok(Json(view(&w, false)))
}

/// Removes a webhook and its delivery log.
#[utoipa::path(delete, path = "/api/webhooks/{webhook}", tag = "webhooks", params(("webhook" = String, Path)),
    responses((status = 204), (status = 401, response = Error), (status = 403, response = Error), (status = 404, response = Error)))]
async fn delete_webhook(State(state): State<AppState>, agent: Agent, AppPath(id): AppPath<String>) -> ApiResult<StatusCode> {
    let w = admin_webhook(&state, &agent, &id).await?;
    if webhooks::delete(&state, &w, &agent.actor()).await? { Ok(StatusCode::NO_CONTENT) } else { Err(ApiError::NotFound) }
}

/// A new signing secret; the old one stops at once. The answer carries it, shown only here.
#[utoipa::path(post, path = "/api/webhooks/{webhook}/secret", tag = "webhooks", params(("webhook" = String, Path)),
    responses((status = 200, body = WebhookView), (status = 401, response = Error), (status = 403, response = Error), (status = 404, response = Error)))]
async fn rotate_secret(State(state): State<AppState>, agent: Agent, AppPath(id): AppPath<String>) -> ApiResult<Json<WebhookView>> {
    let w = admin_webhook(&state, &agent, &id).await?;
    let patch = WebhookPatch { secret: Some(webhooks::new_secret()), ..Default::default() };
    let w = webhooks::update(&state, &w, patch, &agent.actor()).await?;
    Ok(Json(view(&w, true)))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct LogQuery {
    cursor: Option<String>,
    /// 1–100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = WebhookDelivery)]
struct DeliveryView {
    id: String,
    event: Event,
    /// The same for every webhook told of this event: receivers drop repeats by it.
    event_id: String,
    /// `pending` (waiting for its next attempt), `delivered` or `failed`.
    state: String,
    attempts: i64,
    /// The HTTP status of the last attempt, if it got one.
    #[serde(skip_serializing_if = "Option::is_none")]
    last_status: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_attempt_at: Option<String>,
    /// When the next attempt is due (pending only).
    #[serde(skip_serializing_if = "Option::is_none")]
    next_attempt_at: Option<String>,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    done_at: Option<String>,
    /// The document sent (the request body).
    #[schema(value_type = Object)]
    payload: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
struct DeliveryPage {
    items: Vec<DeliveryView>,
    /// Pass as `?cursor=` for the next page; `null` on the last one.
    next_cursor: Option<String>,
}

fn delivery_view(d: Delivery) -> DeliveryView {
    DeliveryView {
        payload: serde_json::from_str(&d.payload).unwrap_or(serde_json::Value::Null),
        next_attempt_at: (d.state == "pending").then(|| views::time(d.next_attempt_at)),
        id: d.id,
        event: d.event,
        event_id: d.event_id,
        state: d.state,
        attempts: d.attempts,
        last_status: d.last_status,
        last_error: d.last_error,
        last_attempt_at: views::opt_time(d.last_attempt_at),
        created_at: views::time(d.created_at),
        done_at: views::opt_time(d.done_at),
    }
}

/// The webhook's deliveries, newest first (kept 30 days once finished).
#[utoipa::path(get, path = "/api/webhooks/{webhook}/deliveries", tag = "webhooks", params(("webhook" = String, Path), LogQuery),
    responses((status = 200, body = DeliveryPage), (status = 400, response = Error), (status = 401, response = Error), (status = 403, response = Error), (status = 404, response = Error)))]
async fn list_deliveries(
    State(state): State<AppState>,
    agent: Agent,
    AppPath(id): AppPath<String>,
    AppQuery(q): AppQuery<LogQuery>,
) -> ApiResult<Json<DeliveryPage>> {
    let w = admin_webhook(&state, &agent, &id).await?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 100"));
    }
    let before = match q.cursor.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => {
            let bad = || ApiError::invalid("cursor", "is not a cursor this server returned");
            let s = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?).map_err(|_| bad())?;
            let (at, id) = s.split_once(':').ok_or_else(bad)?;
            Some((at.parse::<i64>().map_err(|_| bad())?, id.to_string()))
        }
    };
    let mut items = state.store.deliveries(&w.id, before, limit + 1).await?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|d| URL_SAFE_NO_PAD.encode(format!("{}:{}", d.created_at, d.id)))
    } else {
        None
    };
    Ok(Json(DeliveryPage { items: items.into_iter().map(delivery_view).collect(), next_cursor }))
}

/// Sends a delivery again now (with a fresh signature; same event id), whatever became of it.
#[utoipa::path(post, path = "/api/webhooks/{webhook}/deliveries/{delivery}/redeliver", tag = "webhooks", params(("webhook" = String, Path), ("delivery" = String, Path)),
    responses((status = 202), (status = 401, response = Error), (status = 403, response = Error), (status = 404, response = Error), (status = 409, response = Error)))]
async fn redeliver(State(state): State<AppState>, agent: Agent, AppPath((id, delivery)): AppPath<(String, String)>) -> ApiResult<StatusCode> {
    let w = admin_webhook(&state, &agent, &id).await?;
    if delivery.len() > 100 {
        return Err(ApiError::NotFound);
    }
    if !w.enabled {
        return Err(ApiError::Conflict("webhook_disabled", "turn the webhook back on first".into()));
    }
    if webhooks::redeliver(&state, &w, &delivery).await? { Ok(StatusCode::ACCEPTED) } else { Err(ApiError::NotFound) }
}
