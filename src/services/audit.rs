//! The audit log: who did what to whom. Every change the people who run a team answer for
//! (membership, roles and bot access, bots and settings, tokens, sign-ins from a new address,
//! erasures and exports, webhooks) records an entry here right after it commits. Entries are
//! only ever added (the store's tables refuse anything else) and keep names as they were.
//!
//! An entry failing to write never undoes or fails the change it describes (that has committed);
//! it is logged as an error for the operator.

use serde_json::{Value, json};

use super::AppState;
use crate::domain::audit::{Action, TargetKind};
use crate::domain::ids::{AuditId, TeamId, UserId};
use crate::store::{AuditEntry, AuditFilter, Result};

/// Who did it: a person from an address, or Baton itself (the timers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user: Option<UserId>,
    pub address: String,
}

impl Actor {
    pub fn user(user: &UserId, address: &str) -> Self {
        Self { user: Some(user.clone()), address: address.to_string() }
    }

    /// Baton's own timers.
    pub fn system() -> Self {
        Self { user: None, address: String::new() }
    }
}

/// What an entry is about, named as it was at the time.
#[derive(Debug, Clone)]
pub struct Target {
    pub kind: TargetKind,
    pub id: Option<String>,
    pub label: String,
}

impl Target {
    pub fn new(kind: TargetKind, id: impl ToString, label: impl Into<String>) -> Self {
        Self { kind, id: Some(id.to_string()), label: label.into() }
    }

    /// A user, by their current display name.
    pub async fn user(state: &AppState, id: &UserId) -> Self {
        let label = match state.store.user(id).await {
            Ok(Some(u)) => u.display_name(),
            _ => id.to_string(),
        };
        Self::new(TargetKind::User, id, label)
    }
}

/// Records one entry in `team`'s log.
pub async fn record(state: &AppState, team: &TeamId, actor: &Actor, action: Action, target: Target, detail: Value) {
    let entry = entry(state, Some(team.clone()), actor, action, target, detail).await;
    write(state, vec![entry]).await;
}

/// Records an entry about a person's own account (a token, a sign-in) in the log of every team
/// they belong to, so each team's owners see it; kept without a team when they have none.
pub async fn record_account(state: &AppState, user: &UserId, actor: &Actor, action: Action, target: Target, detail: Value) {
    let teams: Vec<TeamId> = match state.store.me(user).await {
        Ok(me) => me.teams.into_iter().map(|(t, _)| t.id).collect(),
        Err(e) => {
            tracing::error!(error = %e, action = action.as_str(), "the audit log could not read the user's teams");
            Vec::new()
        }
    };
    let first = entry(state, teams.first().cloned(), actor, action, target, detail).await;
    let mut entries = vec![first.clone()];
    for team in teams.iter().skip(1) {
        entries.push(AuditEntry { id: AuditId::new(), team_id: Some(team.clone()), ..first.clone() });
    }
    write(state, entries).await;
}

async fn entry(state: &AppState, team: Option<TeamId>, actor: &Actor, action: Action, target: Target, detail: Value) -> AuditEntry {
    let actor_label = match &actor.user {
        None => "Baton".to_string(),
        Some(id) => match state.store.user(id).await {
            Ok(Some(u)) => u.display_name(),
            _ => id.to_string(),
        },
    };
    AuditEntry {
        id: AuditId::new(),
        team_id: team,
        at: state.now(),
        actor_id: actor.user.clone(),
        actor_label,
        action,
        target_kind: target.kind,
        target_id: target.id,
        target_label: target.label,
        detail: if detail.is_null() { json!({}) } else { detail },
        address: actor.address.clone(),
    }
}

async fn write(state: &AppState, entries: Vec<AuditEntry>) {
    let action = entries.first().map(|e| e.action.as_str()).unwrap_or_default();
    let teams: Vec<TeamId> = entries.iter().filter_map(|e| e.team_id.clone()).collect();
    match state.store.append_audit(entries).await {
        // Open audit pages show the new entry.
        Ok(()) => teams.iter().for_each(|t| super::events::team_changed(state, t, "audit")),
        Err(e) => tracing::error!(error = %e, action, "an audit entry could not be written"),
    }
}

/// The team's entries, newest first.
pub async fn list(state: &AppState, team: &TeamId, filter: &AuditFilter, limit: i64) -> Result<Vec<AuditEntry>> {
    state.store.audit_log(team, filter, limit).await
}
