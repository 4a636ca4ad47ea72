//! A person's own credentials: personal API tokens (made and revoked, each in the audit log of
//! the person's teams).

use serde_json::json;

use super::AppState;
use super::audit::{self, Actor, Target};
use super::auth;
use super::events;
use crate::domain::audit::{Action, TargetKind};
use crate::domain::ids::{TokenId, UserId};
use crate::store::Result;

/// Makes a personal API token; the secret is returned once and only its hash is kept.
pub async fn create_token(state: &AppState, user: &UserId, name: &str, expires_at: Option<i64>, actor: &Actor) -> Result<(TokenId, String)> {
    let id = TokenId::new();
    let token = auth::new_secret(auth::API_TOKEN_PREFIX);
    state.store.create_api_token(&id, user, name, &auth::hash_secret(&token), state.now(), expires_at).await?;
    let detail = json!({"name": name, "expires_at": expires_at.map(crate::views::time)});
    audit::record_account(state, user, actor, Action::TokenCreated, Target::new(TargetKind::Token, &id, name), detail).await;
    Ok((id, token))
}

/// Revokes one of the user's tokens; its open sockets close. Whether there was one.
pub async fn revoke_token(state: &AppState, user: &UserId, id: &TokenId, actor: &Actor) -> Result<bool> {
    let name = state.store.api_tokens(user).await?.into_iter().find(|t| &t.id == id).map(|t| t.name);
    if !state.store.revoke_api_token_id(user, id).await? {
        return Ok(false);
    }
    events::credentials_changed(state, user);
    let label = name.unwrap_or_else(|| id.to_string());
    audit::record_account(state, user, actor, Action::TokenRevoked, Target::new(TargetKind::Token, id, label), json!({})).await;
    Ok(true)
}

/// Revokes the token a request was made with (logging out with it).
pub async fn revoke_token_by_hash(state: &AppState, user: &UserId, token_hash: &str, actor: &Actor) -> Result<()> {
    state.store.revoke_api_token(token_hash).await?;
    events::credentials_changed(state, user);
    let target = Target { kind: TargetKind::Token, id: None, label: "the token signed out with".into() };
    audit::record_account(state, user, actor, Action::TokenRevoked, target, json!({"by_logout": true})).await;
    Ok(())
}

/// How long a password reset link works.
pub const RESET_MINUTES: i64 = 60;

/// After an invitation is made, by email when Baton sends it: someone without an account gets
/// a link to choose a password and join; someone with one a note to sign in and accept. An
/// account the inviter made with a password hears nothing (they pass the password on).
pub async fn invitation_sent(state: &AppState, i: &crate::store::Invitation) -> Result<()> {
    if state.notifier.mailer.is_none() || i.created_account {
        return Ok(());
    }
    let by = i.invited_by.clone().unwrap_or_else(|| "Someone".into());
    let days = (i.expires_at - state.now()) / 86_400_000;
    let subject = format!("{by} invited you to {} on Baton", i.team_name);
    let body = if i.user_id.is_some() {
        format!(
            "Hi,\n\n{by} invited you to join {} on Baton.\n\nSign in to accept: {}/app\n\nThe invitation is open for {days} days.\n",
            i.team_name, state.base_url
        )
    } else {
        let token = auth::new_secret("");
        state.store.set_invitation_token(&i.id, &auth::hash_secret(&token)).await?;
        // In the fragment: never sent to a server or written to an access log.
        let url = format!("{}/app/join#{token}", state.base_url);
        format!(
            "Hi{},\n\n{by} invited you to join {} on Baton, where the team answers its website's chats.\n\nChoose your password and join:\n{url}\n\nThe link works for {days} days, once.\n",
            if i.first_name.is_empty() { String::new() } else { format!(" {}", i.first_name) },
            i.team_name
        )
    };
    state.store.queue_mail(&i.email, &subject, &body, state.now()).await
}

/// Joins through an invitation link: the account is made with the invitation's email (having
/// the link proves the address) and joins the team.
pub async fn join(
    state: &AppState,
    token: &str,
    password_hash: String,
    first_name: String,
    last_name: String,
    address: &str,
) -> Result<crate::store::User> {
    let new = crate::store::NewUser { email: String::new(), password_hash, first_name, last_name };
    let (user, invitation) = state.store.join_by_invitation(&auth::hash_secret(token), new, state.now()).await?;
    super::teams::accept(state, &invitation, &user.id, address).await?;
    if !address.is_empty() {
        let now = state.now();
        state.store.remember_login_address(&user.id, address, now, now - super::auth::KNOWN_ADDRESS_DAYS * 24 * 3600 * 1000).await?;
    }
    Ok(user)
}

/// Starts a password reset: an account with this email gets a link (the answer never says
/// whether one exists).
pub async fn request_reset(state: &AppState, email: &str) -> Result<()> {
    let Some((user, _)) = state.store.credentials(email).await? else { return Ok(()) };
    let token = auth::new_secret("");
    let now = state.now();
    state.store.create_password_reset(&user.id, &auth::hash_secret(&token), now, now + RESET_MINUTES * 60_000).await?;
    let body = format!(
        "Hi {},\n\nSomeone (hopefully you) asked to reset your Baton password. Choose a new one here:\n{}/app/reset#{token}\n\nThe link works for {RESET_MINUTES} minutes, once. If it was not you, ignore this email: your password stays as it is.\n",
        user.display_name(),
        state.base_url
    );
    state.store.queue_mail(&user.email, "Reset your Baton password", &body, now).await
}

/// Sets the new password from a reset link; every session of the account ends. The user, or
/// `None` for a link unknown, used or expired.
pub async fn reset(state: &AppState, token: &str, password_hash: &str, address: &str) -> Result<Option<crate::store::User>> {
    let Some(user) = state.store.use_password_reset(&auth::hash_secret(token), password_hash, state.now()).await? else { return Ok(None) };
    events::credentials_changed(state, &user.id);
    let actor = Actor::user(&user.id, address);
    audit::record_account(state, &user.id, &actor, Action::PasswordReset, Target::new(TargetKind::User, &user.id, user.display_name()), json!({}))
        .await;
    Ok(Some(user))
}
