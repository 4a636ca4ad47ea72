//! Real time over WebSocket: `GET /ws` for agents, `GET /api/widget/ws` for visitors.
//! The protocol is described in docs/REALTIME.md.

pub mod frames;
mod session;

use axum::extract::State;
use axum::extract::ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Agent, ClientIp, VisitorCaller};
use crate::http::openapi::Error;
use crate::services::AppState;
use crate::services::auth::{API_TOKEN_PREFIX, hash_secret};
use crate::services::connections::Refused;
pub use session::{Credential, Peer, run};

/// Largest frame a client may send.
pub const MAX_FRAME: usize = 64 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(agent_socket)).routes(routes!(visitor_socket))
}

/// Per-connection read buffer. Chat frames are small (a larger one is read in several pieces);
/// tungstenite's default (128 KiB, allocated up front) would cost far more memory per idle
/// socket than all the rest of the connection.
const READ_BUFFER: usize = 1024;

fn upgrade(ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>) -> ApiResult<WebSocketUpgrade> {
    let ws = ws.map_err(|e| ApiError::InvalidInput(format!("upgrade: {e}")))?;
    Ok(ws.max_message_size(MAX_FRAME).max_frame_size(MAX_FRAME).read_buffer_size(READ_BUFFER).write_buffer_size(0))
}

fn query_token(parts: &Parts) -> Option<String> {
    parts.uri.query()?.split('&').find_map(|kv| kv.strip_prefix("token=").map(str::to_string))
}

/// The upgrade is a GET, so the CSRF token cannot guard it: a browser's `Origin` must be this
/// server's own (scripts without an `Origin` authenticate with a token anyway).
fn same_origin(parts: &Parts) -> ApiResult<()> {
    let Some(origin) = parts.headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return Ok(()) };
    let host = parts.headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or("");
    if !host.is_empty() && origin_host.eq_ignore_ascii_case(host) {
        Ok(())
    } else {
        Err(ApiError::Forbidden("cross-site WebSocket connections are not allowed"))
    }
}

/// The agent's real-time socket: session cookie (same origin only) or `?token=` with a personal
/// API token.
#[utoipa::path(get, path = "/ws", tag = "real time", params(("token" = Option<String>, Query, description = "a personal API token, instead of the cookie")),
    responses((status = 101, description = "Switching to the WebSocket protocol"), (status = 400, response = Error), (status = 401, response = Error), (status = 403, response = Error), (status = 429, response = Error), (status = 503, response = Error)))]
async fn agent_socket(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    mut parts: Parts,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    same_origin(&parts)?;
    let agent = match query_token(&parts) {
        Some(token) if token.starts_with(API_TOKEN_PREFIX) => {
            let token_hash = hash_secret(&token);
            let user_id = state.store.api_token_user(&token_hash, state.now()).await?.ok_or(ApiError::Unauthenticated)?;
            Agent { user_id, session: None, token_hash: Some(token_hash), address: ip.clone() }
        }
        Some(_) => return Err(ApiError::Unauthenticated),
        None => <Agent as axum::extract::FromRequestParts<AppState>>::from_request_parts(&mut parts, &state).await?,
    };
    let peer = agent_peer(&state, &agent).await?;
    let ws = upgrade(ws)?;
    let place = state.connections.agent(agent.user_id.as_str(), &ip).map_err(refused)?;
    let sub = session::subscribe(&state, &peer).await;
    Ok(ws.on_upgrade(move |socket| {
        let session = session::run_subscribed(state, peer, sub, socket);
        async move {
            session.await;
            drop(place);
        }
    }))
}

/// A socket refused for the limits: 429 for this caller's own, 503 when the node is full.
fn refused(r: Refused) -> ApiError {
    match r {
        Refused::TooMany => ApiError::TooManyConnections,
        Refused::Full => ApiError::Busy,
    }
}

/// The agent as a socket peer: their active team, a chat-capable role, their bot access.
pub async fn agent_peer(state: &AppState, agent: &Agent) -> ApiResult<Peer> {
    let (scope, membership) = agent.chat_scope(state).await?;
    let user = state.store.user(&agent.user_id).await?.ok_or(ApiError::Unauthenticated)?;
    let credential = match (&agent.session, &agent.token_hash) {
        (Some(s), _) => Some(Credential::Session(s.token_hash.clone())),
        (None, Some(t)) => Some(Credential::Token(t.clone())),
        (None, None) => None,
    };
    Ok(Peer::Agent { user: agent.user_id.clone(), display_name: user.display_name(), scope, membership, credential })
}

/// The visitor's real-time socket.
#[utoipa::path(get, path = "/api/widget/ws", tag = "real time", params(("token" = String, Query, description = "the visitor token")),
    responses((status = 101, description = "Switching to the WebSocket protocol"), (status = 400, response = Error), (status = 401, response = Error), (status = 403, response = Error), (status = 429, response = Error), (status = 503, response = Error)))]
async fn visitor_socket(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    caller: VisitorCaller,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let ws = upgrade(ws)?;
    let place = state.connections.visitor(caller.visitor.id.as_str(), &ip).map_err(refused)?;
    let peer = Peer::Visitor { visitor: caller.visitor.id, name: caller.visitor.name, bot: caller.bot.id, address: ip };
    let sub = session::subscribe(&state, &peer).await;
    Ok(ws.on_upgrade(move |socket| {
        let session = session::run_subscribed(state, peer, sub, socket);
        async move {
            session.await;
            drop(place);
        }
    }))
}
