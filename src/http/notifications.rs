//! The agent's notification settings: preferences, push devices, a test, the VAPID key.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::{Agent, AppJson};
use super::openapi::Error;
use crate::domain::notify::Prefs;
use crate::services::AppState;
use crate::store::PushSubscription;
use crate::views;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_prefs, put_prefs))
        .routes(routes!(list_subscriptions, subscribe, unsubscribe))
        .routes(routes!(send_test))
        .routes(routes!(vapid_public_key))
}

/// Which notifications I get, online and offline.
#[utoipa::path(get, path = "/api/me/notification-preferences", tag = "notifications",
    responses((status = 200, body = Prefs), (status = 401, response = Error)))]
async fn get_prefs(State(state): State<AppState>, agent: Agent) -> ApiResult<Json<Prefs>> {
    Ok(Json(state.store.prefs(&agent.user_id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PrefsBody {
    while_online: bool,
    while_offline: bool,
    new_escalation: bool,
    visitor_message: bool,
    transfer: bool,
}

/// Replaces my preferences (every field required).
#[utoipa::path(put, path = "/api/me/notification-preferences", tag = "notifications", request_body = PrefsBody,
    responses((status = 200, body = Prefs), (status = 400, response = Error), (status = 401, response = Error)))]
async fn put_prefs(State(state): State<AppState>, agent: Agent, AppJson(b): AppJson<PrefsBody>) -> ApiResult<Json<Prefs>> {
    let p = Prefs {
        while_online: b.while_online,
        while_offline: b.while_offline,
        new_escalation: b.new_escalation,
        visitor_message: b.visitor_message,
        transfer: b.transfer,
    };
    state.store.set_prefs(&agent.user_id, &p).await?;
    Ok(Json(p))
}

/// One of my browsers registered for Web Push, with how its last delivery went.
#[derive(Serialize, ToSchema)]
#[schema(as = PushSubscription)]
struct SubscriptionView {
    id: String,
    endpoint: String,
    user_agent: Option<String>,
    created_at: String,
    last_success_at: Option<String>,
    last_error: Option<String>,
    last_error_at: Option<String>,
}

fn subscription(s: &PushSubscription) -> SubscriptionView {
    SubscriptionView {
        id: s.id.clone(),
        endpoint: s.endpoint.clone(),
        user_agent: s.user_agent.clone(),
        created_at: views::time(s.created_at),
        last_success_at: views::opt_time(s.last_success_at),
        last_error: s.last_error.clone(),
        last_error_at: views::opt_time(s.last_error_at),
    }
}

/// My push devices.
#[utoipa::path(get, path = "/api/me/push-subscriptions", tag = "notifications",
    responses((status = 200, body = Vec<SubscriptionView>), (status = 401, response = Error)))]
async fn list_subscriptions(State(state): State<AppState>, agent: Agent) -> ApiResult<Json<Vec<SubscriptionView>>> {
    let subs = state.store.push_subscriptions(&agent.user_id).await?;
    Ok(Json(subs.iter().map(subscription).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Keys {
    p256dh: String,
    auth: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SubscribeBody {
    endpoint: String,
    keys: Keys,
    /// Browsers also send this; Baton does not use it.
    #[serde(rename = "expirationTime", default)]
    #[schema(value_type = Option<f64>)]
    _expiration_time: Option<Value>,
}

/// Push services are public https addresses. With `--allow-private-webhooks` (development,
/// tests) plain http to this machine and private addresses are accepted too, so a subscription
/// cannot otherwise make Baton post to its own network.
fn check_endpoint(raw: &str, allow_private: bool) -> ApiResult<()> {
    let url = reqwest::Url::parse(raw).map_err(|_| ApiError::invalid("endpoint", "must be a URL"))?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && loopback && allow_private);
    if raw.len() > 2000 || !scheme_ok {
        return Err(ApiError::invalid("endpoint", "must be an https push service URL"));
    }
    if !allow_private && crate::services::outbound::refuse_url(&url).is_some() {
        return Err(ApiError::invalid("endpoint", "must be a public push service"));
    }
    Ok(())
}

/// Registers this browser's push subscription (as `PushSubscription.toJSON()` gives it).
#[utoipa::path(post, path = "/api/me/push-subscriptions", tag = "notifications", request_body = SubscribeBody,
    responses((status = 201, body = SubscriptionView), (status = 400, response = Error), (status = 401, response = Error)))]
async fn subscribe(
    State(state): State<AppState>,
    agent: Agent,
    headers: HeaderMap,
    AppJson(b): AppJson<SubscribeBody>,
) -> ApiResult<(StatusCode, Json<SubscriptionView>)> {
    check_endpoint(&b.endpoint, state.settings.allow_private_webhooks)?;
    if !crate::services::notify::push::valid_keys(&b.keys.p256dh, &b.keys.auth) {
        return Err(ApiError::invalid("keys", "p256dh must be a P-256 public key and auth 16 bytes, both base64url"));
    }
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(|s| s.chars().take(300).collect());
    let s = PushSubscription {
        id: uuid::Uuid::now_v7().to_string(),
        user_id: agent.user_id.clone(),
        endpoint: b.endpoint,
        p256dh: b.keys.p256dh,
        auth: b.keys.auth,
        user_agent,
        created_at: state.now(),
        last_success_at: None,
        last_error: None,
        last_error_at: None,
    };
    state.store.add_push_subscription(&s).await?;
    Ok((StatusCode::CREATED, Json(subscription(&s))))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct UnsubscribeBody {
    endpoint: String,
}

/// Forgets a push device of mine.
#[utoipa::path(delete, path = "/api/me/push-subscriptions", tag = "notifications", request_body = UnsubscribeBody,
    responses((status = 204), (status = 400, response = Error), (status = 401, response = Error), (status = 404, response = Error)))]
async fn unsubscribe(State(state): State<AppState>, agent: Agent, AppJson(b): AppJson<UnsubscribeBody>) -> ApiResult<StatusCode> {
    if state.store.remove_push_subscription(&agent.user_id, &b.endpoint).await? { Ok(StatusCode::NO_CONTENT) } else { Err(ApiError::NotFound) }
}

#[derive(Serialize, ToSchema)]
struct TestSent {
    /// How many push devices it was queued for (open inboxes get it in page).
    push_devices: usize,
}

/// A test notification to my open inboxes and push devices.
#[utoipa::path(post, path = "/api/me/notifications/test", tag = "notifications",
    responses((status = 202, body = TestSent), (status = 401, response = Error)))]
async fn send_test(State(state): State<AppState>, agent: Agent) -> ApiResult<(StatusCode, Json<TestSent>)> {
    let push_devices = crate::services::notify::test(&state, &agent.user_id).await;
    Ok((StatusCode::ACCEPTED, Json(TestSent { push_devices })))
}

#[derive(Serialize, ToSchema)]
struct VapidKey {
    /// The server's VAPID public key, base64url: `applicationServerKey` for `pushManager.subscribe`.
    key: String,
}

#[utoipa::path(get, path = "/api/push/vapid-public-key", tag = "notifications", responses((status = 200, body = VapidKey)))]
async fn vapid_public_key(State(state): State<AppState>) -> Json<VapidKey> {
    Json(VapidKey { key: state.notifier.vapid.public_key.clone() })
}
