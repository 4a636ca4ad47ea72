//! First-run setup, login/logout, API tokens, and the caller's own profile, avatar, active team
//! and status.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::{Agent, AppJson, AppPath, ClientIp, SESSION_COOKIE, body_rejection};
use super::openapi::Error;
use crate::domain::ids::{TeamId, TokenId, UserId};
use crate::domain::presence::{Source, Status};
use crate::domain::values::{Email, Password, PersonName, TeamName, TokenName};
use crate::services::AppState;
use crate::services::auth;
use crate::store::{NewUser, PresenceInput, Session, UserPatch};
use crate::views;

/// Largest accepted avatar upload.
pub const AVATAR_MAX_BYTES: usize = 2 * 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    let (schemas, paths, avatar_upload) = routes!(upload_avatar);
    OpenApiRouter::new()
        .routes(routes!(setup_status, setup))
        .routes(routes!(login))
        .routes(routes!(sign_in_methods))
        .routes(routes!(oidc_start))
        .routes(routes!(oidc_callback))
        .routes(routes!(join_preview))
        .routes(routes!(join))
        .routes(routes!(request_reset))
        .routes(routes!(confirm_reset))
        .routes(routes!(logout))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(logout_everywhere))
        .routes(routes!(change_password))
        .routes(routes!(me, update_me))
        .routes((schemas, paths, avatar_upload.layer(axum::extract::DefaultBodyLimit::max(AVATAR_MAX_BYTES))))
        .routes(routes!(avatar))
        .routes(routes!(set_active_team))
        .routes(routes!(set_status))
}

async fn hash(password: Password) -> ApiResult<String> {
    auth::hash(password.expose().to_string()).await.map_err(ApiError::internal)
}

#[derive(Serialize, ToSchema)]
struct SetupStatus {
    set_up: bool,
}

/// Whether first-run setup is done (the UI shows login or setup).
#[utoipa::path(get, path = "/api/setup", tag = "accounts", responses((status = 200, body = SetupStatus)))]
async fn setup_status(State(state): State<AppState>) -> ApiResult<Json<SetupStatus>> {
    Ok(Json(SetupStatus { set_up: state.store.user_count().await? > 0 }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SetupBody {
    #[schema(format = Email, max_length = 254)]
    email: String,
    #[schema(min_length = 8, max_length = 256)]
    password: String,
    #[schema(max_length = 100)]
    first_name: String,
    #[schema(max_length = 100)]
    last_name: String,
    #[schema(min_length = 1, max_length = 100)]
    team_name: String,
}

#[derive(Serialize, ToSchema)]
struct SetupDone {
    user: views::UserView,
    team: views::TeamView,
}

/// First run: the first user and their team. Refused once anyone exists.
///
/// 409: `already_set_up`.
#[utoipa::path(post, path = "/api/setup", tag = "accounts", request_body = SetupBody,
    responses((status = 201, body = SetupDone), (status = 400, response = Error), (status = 409, response = Error)))]
async fn setup(State(state): State<AppState>, AppJson(b): AppJson<SetupBody>) -> ApiResult<(StatusCode, Json<SetupDone>)> {
    let email = Email::parse(&b.email)?;
    let password = Password::parse(&b.password)?;
    let first = PersonName::parse_as("first_name", &b.first_name)?;
    let last = PersonName::parse_as("last_name", &b.last_name)?;
    let team = TeamName::parse_as("team_name", &b.team_name)?;
    // Cheap check first so a set-up instance does not spend a password hash on every probe.
    if state.store.user_count().await? > 0 {
        return Err(ApiError::Conflict("already_set_up", "Baton is already set up; log in instead".into()));
    }
    let new =
        NewUser { email: email.as_str().into(), password_hash: hash(password).await?, first_name: first.into_inner(), last_name: last.into_inner() };
    let (user, team) = state.store.setup(new, team.as_str(), state.now()).await?;
    Ok((StatusCode::CREATED, Json(SetupDone { user: views::user(&user), team: views::team(&team) })))
}

#[derive(Deserialize, ToSchema)]
struct LoginBody {
    email: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
struct LoggedIn {
    user: views::UserView,
    /// Send it as `X-CSRF-Token` with every cookie-authenticated write.
    csrf_token: String,
}

/// Sets the HttpOnly session cookie. Only failed attempts count against the rate limit: per
/// address, and per email from addresses the user has never logged in from.
///
/// 401: `invalid_credentials`.
#[utoipa::path(post, path = "/api/auth/login", tag = "accounts", request_body = LoginBody,
    responses((status = 200, body = LoggedIn), (status = 400, response = Error), (status = 401, response = Error), (status = 429, response = Error)))]
async fn login(State(state): State<AppState>, ClientIp(ip): ClientIp, AppJson(b): AppJson<LoginBody>) -> ApiResult<Response> {
    let email = b.email.trim().to_lowercase();
    let user = match auth::login(&state, &email, b.password, &ip).await {
        Ok(user) => user,
        Err(auth::LoginRefused::Invalid) => return Err(ApiError::Unauthorized("invalid_credentials", "wrong email or password")),
        Err(auth::LoginRefused::Throttled(retry_after_secs)) => return Err(ApiError::RateLimited { retry_after_secs }),
        Err(auth::LoginRefused::Store(e)) => return Err(e.into()),
    };
    signed_in(&state, &user).await
}

/// A new session for `user`: the HttpOnly cookie, and the user with the CSRF token.
pub async fn signed_in(state: &AppState, user: &crate::store::User) -> ApiResult<Response> {
    let (cookie, csrf) = new_session(state, user).await?;
    let mut res = Json(LoggedIn { user: views::user(user), csrf_token: csrf }).into_response();
    res.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(res)
}

/// Stores a session for `user`: its `Set-Cookie` header and CSRF token.
async fn new_session(state: &AppState, user: &crate::store::User) -> ApiResult<(HeaderValue, String)> {
    let token = auth::new_secret("");
    let csrf = auth::new_secret("");
    let ttl = state.settings.session_ttl;
    let session = Session {
        token_hash: auth::hash_secret(&token),
        user_id: user.id.clone(),
        csrf_token: csrf.clone(),
        expires_at: state.now() + ttl.as_millis() as i64,
    };
    state.store.create_session(&session, state.now()).await?;
    let secure = if state.secure_cookies() { "; Secure" } else { "" };
    let cookie = format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}", ttl.as_secs());
    Ok((HeaderValue::from_str(&cookie).map_err(ApiError::internal)?, csrf))
}

#[derive(Serialize, ToSchema)]
struct SignInMethods {
    /// Email and password (always).
    password: bool,
    /// Single sign-on with an OpenID provider, when Baton is set up for it: how to name it.
    #[serde(skip_serializing_if = "Option::is_none")]
    oidc: Option<OidcMethod>,
    /// Baton sends email (password reset links work).
    email: bool,
}

#[derive(Serialize, ToSchema)]
struct OidcMethod {
    /// e.g. "single sign-on", "Acme SSO".
    name: String,
    /// Send the browser here to sign in.
    start_url: String,
}

/// How people can sign in here (for the login page).
#[utoipa::path(get, path = "/api/auth/methods", tag = "accounts", responses((status = 200, body = SignInMethods)))]
async fn sign_in_methods(State(state): State<AppState>) -> Json<SignInMethods> {
    Json(SignInMethods {
        password: true,
        oidc: state.settings.oidc.as_ref().map(|o| OidcMethod { name: o.name.clone(), start_url: "/api/auth/oidc/start".into() }),
        email: state.notifier.mailer.is_some(),
    })
}

fn see_other(to: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Back to the login page, saying why (a code the page words; never text from the request).
fn sign_in_failed(code: &str) -> Response {
    let mut res = see_other(&format!("/app/login?sso_error={code}"));
    res.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_static("baton_oidc=; Path=/api/auth/oidc; HttpOnly; SameSite=Lax; Max-Age=0"));
    res
}

/// Starts single sign-on: a redirect to the OpenID provider (authorization code with PKCE),
/// with a cookie that binds the sign-in to this browser. 404 when Baton has no provider.
#[utoipa::path(get, path = "/api/auth/oidc/start", tag = "accounts",
    responses((status = 303, description = "To the provider's sign-in page"), (status = 404, response = Error)))]
async fn oidc_start(State(state): State<AppState>) -> ApiResult<Response> {
    if state.settings.oidc.is_none() {
        return Err(ApiError::NotFound);
    }
    let binding = auth::new_secret("");
    match crate::services::oidc::start(&state, &binding).await {
        Ok(url) => {
            let mut res = see_other(&url);
            let secure = if state.secure_cookies() { "; Secure" } else { "" };
            let cookie = format!("baton_oidc={binding}; Path=/api/auth/oidc; HttpOnly; SameSite=Lax; Max-Age=600{secure}");
            res.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(ApiError::internal)?);
            Ok(res)
        }
        Err(e) => {
            tracing::warn!(error = %e, "single sign-on could not start");
            Ok(sign_in_failed(e.code()))
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    /// Set by the provider when the sign-in was refused or cancelled.
    error: Option<String>,
    error_description: Option<String>,
}

/// Where the provider sends the browser back: the sign-in is checked (in the browser that
/// started it) and a session made, then on to the inbox; on any failure back to the login page
/// with a reason code (`sso_error`).
#[utoipa::path(get, path = "/api/auth/oidc/callback", tag = "accounts", params(CallbackQuery),
    responses((status = 303, description = "To the inbox (signed in) or the login page (with the reason)"), (status = 404, response = Error)))]
async fn oidc_callback(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> ApiResult<Response> {
    if state.settings.oidc.is_none() {
        return Err(ApiError::NotFound);
    }
    let q = serde_urlencoded_query(raw.as_deref().unwrap_or(""));
    if let Some(e) = q.error {
        tracing::info!(error = %e, description = ?q.error_description, "the identity provider refused a sign-in");
        return Ok(sign_in_failed(if e == "access_denied" { "cancelled" } else { "refused" }));
    }
    let (Some(code), Some(login_state)) = (q.code.filter(|c| !c.is_empty() && c.len() <= 2048), q.state.filter(|s| !s.is_empty() && s.len() <= 200))
    else {
        return Ok(sign_in_failed("incomplete"));
    };
    let binding = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| kv.trim().strip_prefix("baton_oidc=").map(str::to_string))
        .unwrap_or_default();
    match crate::services::oidc::finish(&state, &code, &login_state, &binding).await {
        Ok(user) => {
            auth::after_sign_in(&state, &user, &ip).await?;
            let (cookie, _) = new_session(&state, &user).await?;
            let mut res = see_other("/app/inbox");
            res.headers_mut().append(header::SET_COOKIE, cookie);
            res.headers_mut()
                .append(header::SET_COOKIE, HeaderValue::from_static("baton_oidc=; Path=/api/auth/oidc; HttpOnly; SameSite=Lax; Max-Age=0"));
            Ok(res)
        }
        Err(crate::services::oidc::SignInError::Store(e)) => Err(e.into()),
        Err(e) => {
            tracing::info!(error = %e, "a single sign-on was refused");
            Ok(sign_in_failed(e.code()))
        }
    }
}

fn serde_urlencoded_query(raw: &str) -> CallbackQuery {
    let mut q = CallbackQuery { code: None, state: None, error: None, error_description: None };
    for (k, v) in url::form_urlencoded::parse(raw.as_bytes()) {
        let v = Some(v.into_owned());
        match k.as_ref() {
            "code" => q.code = v,
            "state" => q.state = v,
            "error" => q.error = v,
            "error_description" => q.error_description = v,
            _ => {}
        }
    }
    q
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TokenOnly {
    /// The secret from the link (after `#`).
    #[schema(max_length = 200)]
    token: String,
}

#[derive(Serialize, ToSchema)]
struct JoinPreview {
    team_name: String,
    email: String,
    first_name: String,
    last_name: String,
    invited_by: Option<String>,
    expires_at: String,
}

fn link_token(raw: &str) -> ApiResult<&str> {
    let t = raw.trim();
    if t.is_empty() || t.len() > 200 || !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(ApiError::invalid("token", "is not a link Baton sent"));
    }
    Ok(t)
}

const LINK_GONE: &str = "this link has expired, was withdrawn or was already used";

/// What an invitation link invites to (before the password is chosen).
#[utoipa::path(post, path = "/api/join/preview", tag = "accounts", request_body = TokenOnly,
    responses((status = 200, body = JoinPreview), (status = 400, response = Error), (status = 404, response = Error)))]
async fn join_preview(State(state): State<AppState>, AppJson(b): AppJson<TokenOnly>) -> ApiResult<Json<JoinPreview>> {
    let token = link_token(&b.token)?;
    let i = state.store.invitation_by_token(&auth::hash_secret(token), state.now()).await?.ok_or(ApiError::NotFoundWith(LINK_GONE))?;
    Ok(Json(JoinPreview {
        team_name: i.team_name,
        email: i.email,
        first_name: i.first_name,
        last_name: i.last_name,
        invited_by: i.invited_by,
        expires_at: views::time(i.expires_at),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct JoinBody {
    #[schema(max_length = 200)]
    token: String,
    #[schema(min_length = 8, max_length = 256)]
    password: String,
    #[schema(max_length = 100)]
    first_name: Option<String>,
    #[schema(max_length = 100)]
    last_name: Option<String>,
}

/// Accepts an invitation link: makes the account (with the invited email and this password),
/// joins the team and signs in (the session cookie is set).
///
/// 404 for a link expired, withdrawn or used; 409 `email_taken` if the email got an account
/// meanwhile (sign in and accept instead).
#[utoipa::path(post, path = "/api/join", tag = "accounts", request_body = JoinBody,
    responses((status = 200, body = LoggedIn), (status = 400, response = Error), (status = 404, response = Error), (status = 409, response = Error)))]
async fn join(State(state): State<AppState>, ClientIp(ip): ClientIp, AppJson(b): AppJson<JoinBody>) -> ApiResult<Response> {
    let token = link_token(&b.token)?;
    let password = Password::parse(&b.password)?;
    let first = PersonName::parse_as("first_name", b.first_name.as_deref().unwrap_or(""))?;
    let last = PersonName::parse_as("last_name", b.last_name.as_deref().unwrap_or(""))?;
    let user = match crate::services::accounts::join(&state, token, hash(password).await?, first.into_inner(), last.into_inner(), &ip).await {
        Err(crate::store::StoreError::NotFound) => return Err(ApiError::NotFoundWith(LINK_GONE)),
        other => other?,
    };
    signed_in(&state, &user).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ResetRequest {
    #[schema(format = Email, max_length = 254)]
    email: String,
}

/// Emails a password reset link to the account with this email, if there is one (the answer is
/// the same either way). At most `login_per_minute` requests per address and per email.
///
/// 409 `email_not_configured` when Baton sends no email.
#[utoipa::path(post, path = "/api/auth/password-reset", tag = "accounts", request_body = ResetRequest,
    responses((status = 202), (status = 400, response = Error), (status = 409, response = Error), (status = 429, response = Error)))]
async fn request_reset(State(state): State<AppState>, ClientIp(ip): ClientIp, AppJson(b): AppJson<ResetRequest>) -> ApiResult<StatusCode> {
    let email = Email::parse(&b.email)?;
    if state.notifier.mailer.is_none() {
        return Err(ApiError::Conflict(
            "email_not_configured",
            "this Baton sends no email: ask an admin of your team to set a new password for you".into(),
        ));
    }
    for key in [format!("reset-ip:{ip}"), format!("reset-email:{}", email.as_str())] {
        state.login_limit.allow(&key).await.map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;
        state.login_limit.record(&key).await;
    }
    crate::services::accounts::request_reset(&state, email.as_str()).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ResetBody {
    #[schema(max_length = 200)]
    token: String,
    #[schema(min_length = 8, max_length = 256)]
    password: String,
}

/// Sets a new password with a reset link (once, within an hour); every session of the account
/// ends. 404 for a link expired or used.
#[utoipa::path(post, path = "/api/auth/password-reset/confirm", tag = "accounts", request_body = ResetBody,
    responses((status = 204), (status = 400, response = Error), (status = 404, response = Error)))]
async fn confirm_reset(State(state): State<AppState>, ClientIp(ip): ClientIp, AppJson(b): AppJson<ResetBody>) -> ApiResult<StatusCode> {
    let token = link_token(&b.token)?;
    let password = Password::parse(&b.password)?;
    match crate::services::accounts::reset(&state, token, &hash(password).await?, &ip).await? {
        Some(_) => Ok(StatusCode::NO_CONTENT),
        None => Err(ApiError::NotFoundWith(LINK_GONE)),
    }
}

/// 204 that also clears the session cookie in the browser.
fn signed_out() -> Response {
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_static("baton_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"));
    res
}

/// Ends the cookie session, or revokes the personal API token the request carries.
#[utoipa::path(post, path = "/api/auth/logout", tag = "accounts", responses((status = 204), (status = 401, response = Error)))]
async fn logout(State(state): State<AppState>, agent: Agent) -> ApiResult<Response> {
    // Logging out ends what the caller authenticated with: the cookie session, or the API token.
    if let Some(s) = &agent.session {
        state.store.delete_session(&s.token_hash).await?;
    }
    if let Some(token) = &agent.token_hash {
        crate::services::accounts::revoke_token_by_hash(&state, &agent.user_id, token, &agent.actor()).await?;
    }
    crate::services::events::credentials_changed(&state, &agent.user_id);
    Ok(signed_out())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    /// 1–3650; without it the token lasts until revoked.
    #[schema(minimum = 1, maximum = 3650)]
    expires_in_days: Option<i64>,
}

#[derive(Serialize, ToSchema)]
struct NewToken {
    id: TokenId,
    name: String,
    /// Shown once: send it as `Authorization: Bearer <token>`.
    token: String,
    expires_at: Option<String>,
}

/// A personal API token.
#[utoipa::path(post, path = "/api/tokens", tag = "accounts", request_body = TokenBody,
    responses((status = 201, body = NewToken), (status = 400, response = Error), (status = 401, response = Error)))]
async fn create_token(State(state): State<AppState>, agent: Agent, AppJson(b): AppJson<TokenBody>) -> ApiResult<(StatusCode, Json<NewToken>)> {
    let name = TokenName::parse(&b.name)?;
    let expires_at = match b.expires_in_days {
        Some(d) if !(1..=3650).contains(&d) => return Err(ApiError::invalid("expires_in_days", "must be between 1 and 3650")),
        Some(d) => Some(state.now() + d * 86_400_000),
        None => None,
    };
    let (id, token) = crate::services::accounts::create_token(&state, &agent.user_id, name.as_str(), expires_at, &agent.actor()).await?;
    Ok((StatusCode::CREATED, Json(NewToken { id, name: name.as_str().to_string(), token, expires_at: views::opt_time(expires_at) })))
}

#[derive(Serialize, ToSchema)]
struct TokenView {
    id: TokenId,
    name: String,
    created_at: String,
    last_used_at: Option<String>,
    expires_at: Option<String>,
}

/// My personal API tokens (never their secret), with when each was last used.
#[utoipa::path(get, path = "/api/tokens", tag = "accounts", responses((status = 200, body = Vec<TokenView>), (status = 401, response = Error)))]
async fn list_tokens(State(state): State<AppState>, agent: Agent) -> ApiResult<Json<Vec<TokenView>>> {
    let tokens = state.store.api_tokens(&agent.user_id).await?;
    Ok(Json(
        tokens
            .into_iter()
            .map(|t| TokenView {
                id: t.id,
                name: t.name,
                created_at: views::time(t.created_at),
                last_used_at: views::opt_time(t.last_used_at),
                expires_at: views::opt_time(t.expires_at),
            })
            .collect(),
    ))
}

/// Revokes one of my tokens.
#[utoipa::path(delete, path = "/api/tokens/{id}", tag = "accounts", params(("id" = String, Path)),
    responses((status = 204), (status = 401, response = Error), (status = 404, response = Error)))]
async fn revoke_token(State(state): State<AppState>, agent: Agent, AppPath(id): AppPath<String>) -> ApiResult<StatusCode> {
    let id = TokenId::parse(&id).ok_or(ApiError::NotFound)?;
    if !crate::services::accounts::revoke_token(&state, &agent.user_id, &id, &agent.actor()).await? {
        return Err(ApiError::NotFound);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of mine, this one included (API tokens stay: revoke them one by one).
#[utoipa::path(post, path = "/api/auth/logout-everywhere", tag = "accounts", responses((status = 204), (status = 401, response = Error)))]
async fn logout_everywhere(State(state): State<AppState>, agent: Agent) -> ApiResult<Response> {
    state.store.end_sessions(&agent.user_id, None).await?;
    crate::services::events::credentials_changed(&state, &agent.user_id);
    Ok(signed_out())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    current_password: String,
    #[schema(min_length = 8, max_length = 256)]
    new_password: String,
}

/// Changes my password; my other sessions end.
#[utoipa::path(put, path = "/api/me/password", tag = "accounts", request_body = PasswordBody,
    responses((status = 204), (status = 400, response = Error), (status = 401, response = Error), (status = 403, response = Error), (status = 429, response = Error)))]
async fn change_password(State(state): State<AppState>, agent: Agent, AppJson(b): AppJson<PasswordBody>) -> ApiResult<StatusCode> {
    let new = Password::parse_as("new_password", &b.new_password)?;
    check_password(&state, &agent, b.current_password).await?;
    state.store.set_password(&agent.user_id, &hash(new).await?).await?;
    state.store.end_sessions(&agent.user_id, agent.session.as_ref().map(|s| s.token_hash.as_str())).await?;
    crate::services::events::credentials_changed(&state, &agent.user_id);
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's password, checked again before a sensitive change (403 `wrong_password`).
/// Failed checks count like failed logins, so a stolen session cannot guess the password.
async fn check_password(state: &AppState, agent: &Agent, given: String) -> ApiResult<()> {
    let key = format!("password:{}", agent.user_id);
    state.login_limit.allow(&key).await.map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;
    let stored = state.store.password_hash(&agent.user_id).await?.ok_or(ApiError::Unauthenticated)?;
    if auth::verify(stored, given).await {
        Ok(())
    } else {
        state.login_limit.record(&key).await;
        Err(ApiError::WrongPassword)
    }
}

#[derive(Serialize, ToSchema)]
struct MyTeam {
    id: TeamId,
    name: String,
    role: crate::domain::team::Role,
}

#[derive(Serialize, ToSchema)]
struct MeView {
    user: views::UserView,
    teams: Vec<MyTeam>,
    active_team_id: Option<TeamId>,
    status: Status,
    status_source: Source,
    last_active_at: Option<String>,
    /// With the session cookie only: lets a reloaded inbox page recover its CSRF token.
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf_token: Option<String>,
}

/// The signed-in user, their teams and status.
#[utoipa::path(get, path = "/api/me", tag = "accounts", responses((status = 200, body = MeView), (status = 401, response = Error)))]
async fn me(State(state): State<AppState>, agent: Agent) -> ApiResult<Json<MeView>> {
    let me = state.store.me(&agent.user_id).await?;
    Ok(Json(MeView {
        user: views::user(&me.user),
        teams: me.teams.iter().map(|(t, r)| MyTeam { id: t.id.clone(), name: t.name.clone(), role: *r }).collect(),
        active_team_id: me.active_team_id,
        status: me.presence.status,
        status_source: me.presence.source,
        last_active_at: views::opt_time(me.presence.last_active_at),
        csrf_token: agent.session.as_ref().map(|s| s.csrf_token.clone()),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct MeBody {
    #[schema(max_length = 100)]
    first_name: Option<String>,
    #[schema(max_length = 100)]
    last_name: Option<String>,
    #[schema(format = Email, max_length = 254)]
    email: Option<String>,
    /// Required when `email` changes.
    current_password: Option<String>,
}

/// Changes the profile; fields left out stay. A new email needs `current_password`.
///
/// 409: `email_taken`.
#[utoipa::path(patch, path = "/api/me", tag = "accounts", request_body = MeBody,
    responses((status = 200, body = views::UserView), (status = 400, response = Error), (status = 401, response = Error), (status = 403, response = Error), (status = 429, response = Error), (status = 409, response = Error)))]
async fn update_me(State(state): State<AppState>, agent: Agent, AppJson(b): AppJson<MeBody>) -> ApiResult<Json<views::UserView>> {
    let patch = UserPatch {
        first_name: b.first_name.as_deref().map(|s| PersonName::parse_as("first_name", s)).transpose()?.map(PersonName::into_inner),
        last_name: b.last_name.as_deref().map(|s| PersonName::parse_as("last_name", s)).transpose()?.map(PersonName::into_inner),
        email: b.email.as_deref().map(Email::parse).transpose()?.map(|e| e.as_str().to_string()),
    };
    // The email is how the account is recovered and logged into: changing it takes the password.
    if let Some(email) = &patch.email {
        let current = state.store.user(&agent.user_id).await?.ok_or(ApiError::Unauthenticated)?;
        if !current.email.eq_ignore_ascii_case(email) {
            let given = b.current_password.ok_or_else(|| ApiError::invalid("current_password", "is required to change the email"))?;
            check_password(&state, &agent, given).await?;
        }
    }
    let user = state.store.update_user(&agent.user_id, patch).await?;
    crate::services::events::profile_changed(&state, &agent.user_id).await;
    Ok(Json(views::user(&user)))
}

/// Decodes any supported image (refusing decompression bombs), fits it in 256×256 and
/// re-encodes it as PNG: what is stored and served is always a clean image Baton wrote.
pub(super) fn normalise_avatar(bytes: &[u8]) -> Result<Vec<u8>, String> {
    use image::{ImageFormat, ImageReader, Limits};
    let mut reader = ImageReader::new(std::io::Cursor::new(bytes)).with_guessed_format().map_err(|e| e.to_string())?;
    match reader.format() {
        Some(ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP | ImageFormat::Gif) => {}
        _ => return Err("not a PNG, JPEG, WebP or GIF image".into()),
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(8192);
    limits.max_image_height = Some(8192);
    limits.max_alloc = Some(128 * 1024 * 1024);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| format!("cannot decode the image: {e}"))?;
    let img = if img.width() > 256 || img.height() > 256 { img.thumbnail(256, 256) } else { img };
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

#[derive(Serialize, ToSchema)]
struct AvatarUploaded {
    avatar_url: Option<String>,
}

/// The raw image as the body (PNG, JPEG, WebP or GIF, at most 2 MiB); stored re-encoded as PNG.
#[utoipa::path(put, path = "/api/me/avatar", tag = "accounts",
    request_body(content = Vec<u8>, content_type = "image/*", description = "PNG, JPEG, WebP or GIF, at most 2 MiB"),
    responses((status = 200, body = AvatarUploaded), (status = 400, response = Error), (status = 401, response = Error), (status = 413, response = Error)))]
async fn upload_avatar(
    State(state): State<AppState>,
    agent: Agent,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Json<AvatarUploaded>> {
    let body = body.map_err(body_rejection)?;
    if body.is_empty() {
        return Err(ApiError::invalid("body", "send the image bytes as the request body"));
    }
    let png =
        tokio::task::spawn_blocking(move || normalise_avatar(&body)).await.map_err(ApiError::internal)?.map_err(|e| ApiError::invalid("body", e))?;
    let version = state.now();
    state.store.set_avatar(&agent.user_id, png, version).await?;
    crate::services::events::profile_changed(&state, &agent.user_id).await;
    let user = state.store.user(&agent.user_id).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(AvatarUploaded { avatar_url: user.avatar_url() }))
}

/// Avatars are public: visitors see their agent's picture.
#[utoipa::path(get, path = "/api/avatars/{user}", tag = "accounts", params(("user" = String, Path, description = "a user id")),
    responses((status = 200, content_type = "image/png", body = Vec<u8>), (status = 404, response = Error)))]
async fn avatar(State(state): State<AppState>, AppPath(user): AppPath<String>) -> ApiResult<Response> {
    let id = UserId::parse(&user).ok_or(ApiError::NotFound)?;
    let png = state.store.avatar(&id).await?.ok_or(ApiError::NotFound)?;
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    // The URL changes with every upload (?v=), so the bytes behind one URL never change.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    Ok((headers, png).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ActiveTeamBody {
    team_id: String,
}

#[derive(Serialize, ToSchema)]
struct ActiveTeam {
    active_team_id: TeamId,
}

/// The team the inbox, bots and queue follow.
#[utoipa::path(put, path = "/api/me/active-team", tag = "accounts", request_body = ActiveTeamBody,
    responses((status = 200, body = ActiveTeam), (status = 400, response = Error), (status = 401, response = Error), (status = 404, response = Error)))]
async fn set_active_team(State(state): State<AppState>, agent: Agent, AppJson(b): AppJson<ActiveTeamBody>) -> ApiResult<Json<ActiveTeam>> {
    let team = TeamId::parse(&b.team_id).ok_or(ApiError::NotFound)?;
    crate::services::teams::set_active_team(&state, &agent.user_id, &team).await?;
    Ok(Json(ActiveTeam { active_team_id: team }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    /// `available`, `away`, `busy` or `offline`.
    #[schema(value_type = crate::domain::presence::Status)]
    status: String,
}

#[derive(Serialize, ToSchema)]
struct StatusSet {
    status: Status,
    source: Source,
}

/// A manual status; a manual `offline` is sticky.
#[utoipa::path(put, path = "/api/me/status", tag = "accounts", request_body = StatusBody,
    responses((status = 200, body = StatusSet), (status = 400, response = Error), (status = 401, response = Error)))]
async fn set_status(State(state): State<AppState>, agent: Agent, AppJson(b): AppJson<StatusBody>) -> ApiResult<Json<StatusSet>> {
    let status = Status::parse(&b.status).ok_or_else(|| ApiError::invalid("status", "must be one of available, away, busy, offline"))?;
    let change = crate::services::presence::signal(&state, &agent.user_id, PresenceInput::SetManual(status)).await?;
    let presence = change.presence();
    Ok(Json(StatusSet { status: presence.status, source: presence.source }))
}
