//! Extractors: JSON bodies and query strings that fail in our error shape, and the two kinds of
//! caller (agents, visitors) with their authorisation.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, header};
use serde::de::DeserializeOwned;

use super::error::{ApiError, ApiResult};
use crate::domain::ids::{TeamId, UserId};
use crate::services::AppState;
use crate::services::auth::{API_TOKEN_PREFIX, VISITOR_TOKEN_PREFIX, constant_time_eq, hash_secret};
use crate::services::clients::address_key;
use crate::store::{AgentScope, Bot, Membership, Session, Visitor};

pub const SESSION_COOKIE: &str = "baton_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A raw body that could not be read: too large (413), too slow (408) or broken off (400), in
/// our error shape.
pub fn body_rejection(e: axum::extract::rejection::BytesRejection) -> ApiError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(c) = cause {
        if c.is::<super::server::BodyTimedOut>() {
            return ApiError::BodyTimeout;
        }
        cause = c.source();
    }
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge
    } else {
        ApiError::InvalidInput(format!("body: {}", e.body_text()))
    }
}

/// A path parameter. One that cannot even be decoded (invalid UTF-8 after percent-decoding)
/// names nothing Baton has: 404 in our error shape rather than axum's plain-text 400.
pub struct AppPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for AppPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state).await.map(|axum::extract::Path(t)| AppPath(t)).map_err(|_| ApiError::NotFound)
    }
}

/// A JSON object body. It must say it is JSON (`Content-Type: application/json`, else 415: a
/// plain HTML form cannot post one across sites) and be an object; a malformed body, a missing
/// field or a wrong type is a 400 naming the problem, an oversized one a 413.
pub struct AppJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for AppJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = declares_json(req.headers());
        let bytes = Bytes::from_request(req, state).await.map_err(body_rejection)?;
        json_object(is_json, &bytes).map(AppJson)
    }
}

/// Whether the request's content type is JSON (`application/json` or `application/*+json`).
pub fn declares_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(v) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = v.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses a body that must be a JSON object.
pub fn json_object<T: DeserializeOwned>(is_json: bool, bytes: &[u8]) -> ApiResult<T> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::InvalidInput("body: a JSON object is required".into()));
    }
    if !is_json {
        return Err(ApiError::NotJson);
    }
    // serde reads a struct from an array too; the contract says objects.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::InvalidInput("body: must be a JSON object".into()));
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::InvalidInput(format!("body: {e}")))
}

/// A query string, rejected in our error shape.
pub struct AppQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for AppQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        parse_query(q).map(AppQuery)
    }
}

fn parse_query<T: DeserializeOwned>(q: &str) -> ApiResult<T> {
    axum::extract::Query::<T>::try_from_uri(&format!("/?{q}").parse().map_err(|_| ApiError::InvalidInput("query: malformed".into()))?)
        .map(|axum::extract::Query(t)| t)
        .map_err(|e| ApiError::InvalidInput(format!("query: {}", e.body_text())))
}

/// The caller's address as limits count it (see [`crate::services::clients`]): the connection's,
/// or behind a trusted proxy the one it forwarded for; an IPv6 client by its /64. Empty when the
/// server runs without connect info.
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(peer) = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()) else { return Ok(ClientIp(String::new())) };
        let forwarded = parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
        Ok(ClientIp(address_key(state.settings.trusted_proxies.client(peer, forwarded))))
    }
}

pub fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

/// A logged-in person: by session cookie (writes need the CSRF header) or by personal API token.
#[derive(Debug, Clone)]
pub struct Agent {
    pub user_id: UserId,
    /// Present when authenticated by cookie.
    pub session: Option<Session>,
    /// The hash of the personal API token, when authenticated by one.
    pub token_hash: Option<String>,
    /// The client's address as [`ClientIp`] reads it (for the audit log).
    pub address: String,
}

impl FromRequestParts<AppState> for Agent {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(token) = bearer(parts) {
            if !token.starts_with(API_TOKEN_PREFIX) {
                return Err(ApiError::Unauthenticated);
            }
            let token_hash = hash_secret(token);
            let user_id = state.store.api_token_user(&token_hash, state.now()).await?.ok_or(ApiError::Unauthenticated)?;
            let ClientIp(address) = ClientIp::from_request_parts(parts, state).await.unwrap_or_else(|n| match n {});
            return Ok(Agent { user_id, session: None, token_hash: Some(token_hash), address });
        }
        let token = cookie(parts, SESSION_COOKIE).ok_or(ApiError::Unauthenticated)?;
        let session = state.store.session(&hash_secret(token), state.now()).await?.ok_or(ApiError::Unauthenticated)?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
            if !constant_time_eq(sent, &session.csrf_token) {
                return Err(ApiError::Forbidden("missing or wrong X-CSRF-Token header"));
            }
        }
        let ClientIp(address) = ClientIp::from_request_parts(parts, state).await.unwrap_or_else(|n| match n {});
        Ok(Agent { user_id: session.user_id.clone(), session: Some(session), token_hash: None, address })
    }
}

impl Agent {
    /// Who did it, for the audit log.
    pub fn actor(&self) -> crate::services::audit::Actor {
        crate::services::audit::Actor::user(&self.user_id, &self.address)
    }

    /// The caller's membership in `team`; 404 when they are not a member (the team's existence
    /// is not revealed).
    pub async fn member_of(&self, state: &AppState, team: &TeamId) -> ApiResult<Membership> {
        state.store.membership(team, &self.user_id).await?.ok_or(ApiError::NotFound)
    }

    /// Owner or admin of `team`: 404 for outsiders, 403 for plain members.
    pub async fn admin_of(&self, state: &AppState, team: &TeamId) -> ApiResult<Membership> {
        let m = self.member_of(state, team).await?;
        if !m.role.is_admin() {
            return Err(ApiError::Forbidden("only owners and admins can do this"));
        }
        Ok(m)
    }

    /// The scope of every live-chat query: the active team, for a chat-capable member.
    pub async fn chat_scope(&self, state: &AppState) -> ApiResult<(AgentScope, Membership)> {
        // One statement in the common case; `me()` resolves a stored active team the user left.
        let m = match state.store.active_membership(&self.user_id).await? {
            Some(m) => m,
            None => {
                let me = state.store.me(&self.user_id).await?;
                let team = me.active_team_id.ok_or(ApiError::Forbidden("join a team to use the inbox"))?;
                self.member_of(state, &team).await?
            }
        };
        let team = m.team_id.clone();
        if !m.role.can_chat() {
            return Err(ApiError::Forbidden("your role has no access to live chats"));
        }
        Ok((AgentScope { team, user: self.user_id.clone() }, m))
    }
}

/// A widget visitor, with their bot (without its knowledge base); the request's `Origin` has
/// been checked against the bot's allow-list.
#[derive(Debug, Clone)]
pub struct VisitorCaller {
    pub visitor: Visitor,
    pub bot: Bot,
}

impl FromRequestParts<AppState> for VisitorCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = match bearer(parts) {
            Some(t) => Some(t.to_string()),
            // Browsers cannot set headers on WebSocket upgrades: the token comes as `?token=`.
            None => parts.uri.query().and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("token=").map(str::to_string))),
        };
        let token = token.filter(|t| t.starts_with(VISITOR_TOKEN_PREFIX)).ok_or(ApiError::Unauthenticated)?;
        let (visitor, bot) = state.store.visitor_session(&hash_secret(&token)).await?.ok_or(ApiError::Unauthenticated)?;
        check_origin(parts, &bot)?;
        Ok(VisitorCaller { visitor, bot })
    }
}

/// A visitor making a write: spends one from the visitor's and its address's widget budgets
/// ([`AppState::widget_write`]) before anything else is read; 429 when either is spent.
pub struct VisitorWrite(pub VisitorCaller);

impl FromRequestParts<AppState> for VisitorWrite {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let caller = VisitorCaller::from_request_parts(parts, state).await?;
        let Ok(ClientIp(address)) = ClientIp::from_request_parts(parts, state).await;
        state.widget_write(caller.visitor.id.as_str(), &address).await.map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;
        Ok(VisitorWrite(caller))
    }
}

/// Browsers send `Origin` on cross-site requests: it must be in the bot's allow-list when the
/// list is not empty. Requests without one (servers, curl) are not browsers and pass.
pub fn check_origin(parts: &Parts, bot: &Bot) -> ApiResult<()> {
    let Some(origin) = parts.headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let allowed = &bot.settings.allowed_origins;
    if allowed.is_empty() || allowed.iter().any(|a| a.eq_ignore_ascii_case(origin.trim_end_matches('/'))) {
        Ok(())
    } else {
        Err(ApiError::Forbidden("this site is not allowed to use this bot's widget"))
    }
}

/// For PATCH fields where `null` means "clear" and a missing field means "leave as is".
pub fn double_option<'de, T: serde::Deserialize<'de>, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    serde::Deserialize::deserialize(d).map(Some)
}
