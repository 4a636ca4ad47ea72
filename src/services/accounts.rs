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
