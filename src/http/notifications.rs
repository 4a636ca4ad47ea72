//! The agent's notification settings: preferences, push devices, a test, the VAPID key.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{ApiError, ApiResult};
use super::extract::{Agent, AppJson};
use crate::domain::notify::Prefs;
use crate::services::AppState;
use crate::store::PushSubscription;
use crate::views;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/me/notification-preferences", get(get_prefs).put(put_prefs))
        .route("/api/me/push-subscriptions", get(list_subscriptions).post(subscribe).delete(unsubscribe))
        .route("/api/me/notifications/test", post(send_test))
        .route("/api/push/vapid-public-key", get(vapid_public_key))
}

async fn get_prefs(State(state): State<AppState>, agent: Agent) -> ApiResult<Json<Prefs>> {
    Ok(Json(state.store.prefs(&agent.user_id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrefsBody {
    while_online: bool,
    while_offline: bool,
    new_escalation: bool,
    visitor_message: bool,
    transfer: bool,
}

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

fn subscription(s: &PushSubscription) -> Value {
    json!({
        "id": s.id,
        "endpoint": s.endpoint,
        "user_agent": s.user_agent,
        "created_at": views::time(s.created_at),
        "last_success_at": views::opt_time(s.last_success_at),
        "last_error": s.last_error,
        "last_error_at": views::opt_time(s.last_error_at),
    })
}

async fn list_subscriptions(State(state): State<AppState>, agent: Agent) -> ApiResult<Json<Value>> {
    let subs = state.store.push_subscriptions(&agent.user_id).await?;
    Ok(Json(Value::Array(subs.iter().map(subscription).collect())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Keys {
    p256dh: String,
    auth: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubscribeBody {
    endpoint: String,
    keys: Keys,
    /// Browsers also send this; Baton does not use it.
    #[serde(rename = "expirationTime", default)]
    _expiration_time: Option<Value>,
}

/// Push services are https; plain http only to this machine (development and tests), so a
/// subscription cannot make Baton post to arbitrary internal addresses.
fn check_endpoint(raw: &str) -> ApiResult<()> {
    let url = reqwest::Url::parse(raw).map_err(|_| ApiError::invalid("endpoint", "must be a URL"))?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if raw.len() > 2000 || !(url.scheme() == "https" || (url.scheme() == "http" && loopback)) {
        return Err(ApiError::invalid("endpoint", "must be an https push service URL"));
    }
    Ok(())
}

async fn subscribe(
    State(state): State<AppState>,
    agent: Agent,
    headers: HeaderMap,
    AppJson(b): AppJson<SubscribeBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    check_endpoint(&b.endpoint)?;
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnsubscribeBody {
    endpoint: String,
}

async fn unsubscribe(State(state): State<AppState>, agent: Agent, AppJson(b): AppJson<UnsubscribeBody>) -> ApiResult<StatusCode> {
    if state.store.remove_push_subscription(&agent.user_id, &b.endpoint).await? { Ok(StatusCode::NO_CONTENT) } else { Err(ApiError::NotFound) }
}

async fn send_test(State(state): State<AppState>, agent: Agent) -> ApiResult<(StatusCode, Json<Value>)> {
    let devices = crate::services::notify::test(&state, &agent.user_id).await;
    Ok((StatusCode::ACCEPTED, Json(json!({"push_devices": devices}))))
}

async fn vapid_public_key(State(state): State<AppState>) -> Json<Value> {
    Json(json!({"key": state.notifier.vapid.public_key}))
}
