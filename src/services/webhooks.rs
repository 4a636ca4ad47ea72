//! Outgoing webhooks: a team's admins choose events and an address; every change that matches
//! is written to the outbox in the change's own transaction (see `store::write`) and delivered
//! from here by the timers, signed, with retries and back-off. A webhook that has failed for a
//! day is turned off, its owners are emailed, and the audit log says so.

use futures_util::future::join_all;
use serde_json::json;

use super::AppState;
use super::audit::{self, Actor, Target};
use super::auth;
use super::events;
use crate::domain::audit::{Action, TargetKind, changed_fields};
use crate::domain::ids::{TeamId, UserId, WebhookId};
use crate::domain::team::Role;
use crate::domain::webhook::{Event, retry_after_ms, signature};
use crate::store::{Attempt, Delivery, Result, Webhook, WebhookPatch};

/// Deliveries sent at once per pass.
const BATCH: i64 = 20;
/// How long a claimed delivery is out of other nodes' reach.
const LEASE_MS: i64 = 120_000;
/// How long the delivery log keeps finished deliveries.
pub const LOG_DAYS: i64 = 30;

/// A new signing secret (shown to the admin once).
pub fn new_secret() -> String {
    auth::new_secret("whsec_")
}

/// Where a webhook posts, as the audit log keeps it: the host only (paths and queries of
/// services' hook URLs carry secrets, and the log is never purged).
fn host(url: &str) -> String {
    reqwest::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default()
}

fn target(w: &Webhook) -> Target {
    Target::new(TargetKind::Webhook, &w.id, &w.name)
}

/// What the log and the pages show of a webhook (never the secret).
fn summary(w: &Webhook) -> serde_json::Value {
    json!({"name": w.name, "url": w.url, "events": w.events, "enabled": w.enabled})
}

pub async fn create(state: &AppState, team: &TeamId, name: String, url: String, events: Vec<Event>, actor: &Actor, by: &UserId) -> Result<Webhook> {
    let w = Webhook {
        id: WebhookId::new(),
        team_id: team.clone(),
        name,
        url,
        secret: new_secret(),
        events,
        enabled: true,
        disabled_at: None,
        disabled_reason: None,
        failing_since: None,
        consecutive_failures: 0,
        created_at: state.now(),
    };
    state.store.create_webhook(&w, by).await?;
    events::team_changed(state, team, "webhooks");
    audit::record(state, team, actor, Action::WebhookCreated, target(&w), json!({"host": host(&w.url), "events": w.events})).await;
    Ok(w)
}

pub async fn update(state: &AppState, before: &Webhook, patch: WebhookPatch, actor: &Actor) -> Result<Webhook> {
    let rotated = patch.secret.is_some();
    let w = state.store.update_webhook(&before.id, patch, state.now()).await?;
    events::team_changed(state, &w.team_id, "webhooks");
    let mut fields = changed_fields(&summary(before), &summary(&w));
    if rotated {
        fields.push("secret".into());
    }
    if !fields.is_empty() {
        audit::record(state, &w.team_id, actor, Action::WebhookUpdated, target(&w), json!({"fields": fields})).await;
    }
    Ok(w)
}

pub async fn delete(state: &AppState, w: &Webhook, actor: &Actor) -> Result<bool> {
    let gone = state.store.delete_webhook(&w.id).await?;
    if gone {
        events::team_changed(state, &w.team_id, "webhooks");
        audit::record(state, &w.team_id, actor, Action::WebhookDeleted, target(w), json!({"host": host(&w.url)})).await;
    }
    Ok(gone)
}

/// Sends the delivery again now (from the log).
pub async fn redeliver(state: &AppState, w: &Webhook, delivery: &str) -> Result<bool> {
    let again = state.store.redeliver(&w.id, delivery, state.now()).await?;
    if again {
        events::team_changed(state, &w.team_id, "webhooks");
    }
    Ok(again)
}

/// Batches one pass takes at most (the next pass goes on).
const BATCHES_PER_PASS: usize = 5;

/// The timers' part: every due delivery is attempted (a batch at a time, concurrently), and the
/// log forgets what finished long ago.
pub async fn deliver_due(state: &AppState) {
    for _ in 0..BATCHES_PER_PASS {
        let due = match state.store.claim_deliveries(state.now(), LEASE_MS, BATCH).await {
            Ok(d) if d.is_empty() => break,
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "claiming webhook deliveries failed");
                break;
            }
        };
        let n = due.len() as i64;
        join_all(due.into_iter().map(|(d, w)| attempt(state, d, w))).await;
        if n < BATCH || state.shutdown.is_stopping() {
            break;
        }
    }
    if let Err(e) = state.store.prune_deliveries(state.now() - LOG_DAYS * 86_400_000).await {
        tracing::warn!(error = %e, "pruning the webhook log failed");
    }
}

/// One attempt of one delivery, recorded.
async fn attempt(state: &AppState, d: Delivery, w: Webhook) {
    let outcome = send(state, &d, &w).await;
    let now = state.now();
    let result = match outcome {
        Ok(status) => Attempt::Delivered { status },
        Err((status, error)) => match retry_after_ms(d.attempts) {
            Some(wait) => Attempt::Retry { at: now + wait, status, error },
            None => Attempt::Failed { status, error },
        },
    };
    match state.store.record_attempt(&d.id, result, now).await {
        Ok(Some(off)) => turned_off(state, &off).await,
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, delivery = %d.id, "recording a webhook attempt failed; it is tried again after its lease"),
    }
}

/// Posts the delivery: the status on a 2xx, else the status (if any) and what went wrong.
async fn send(state: &AppState, d: &Delivery, w: &Webhook) -> Result<i64, (Option<i64>, String)> {
    let url = reqwest::Url::parse(&w.url).map_err(|e| (None, format!("the address is not a URL: {e}")))?;
    if !state.settings.allow_private_webhooks {
        if let Some(why) = super::outbound::refuse_url(&url) {
            return Err((None, format!("the address {why}")));
        }
    }
    let at = state.now().div_euclid(1000);
    let body = d.payload.clone().into_bytes();
    let res = state
        .http
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", concat!("Baton-Webhooks/", env!("CARGO_PKG_VERSION")))
        .header("baton-event", d.event.as_str())
        .header("baton-event-id", &d.event_id)
        .header("baton-delivery", &d.id)
        .header("baton-signature", signature(&w.secret, at, &body))
        .body(body)
        .send()
        .await
        .map_err(|e| (None, short(&describe(&e))))?;
    let status = i64::from(res.status().as_u16());
    if res.status().is_success() { Ok(status) } else { Err((Some(status), format!("answered {}", res.status()))) }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "no answer in time".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        let mut s = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(inner) = src {
            s.push_str(": ");
            s.push_str(&inner.to_string());
            src = inner.source();
        }
        s
    }
}

fn short(s: &str) -> String {
    s.chars().take(300).collect()
}

/// A webhook just turned off: its team's pages show it, the owners are told by email, the
/// audit log records it.
async fn turned_off(state: &AppState, w: &Webhook) {
    events::team_changed(state, &w.team_id, "webhooks");
    audit::record(state, &w.team_id, &Actor::system(), Action::WebhookDisabled, target(w), json!({"failures": w.consecutive_failures})).await;
    if state.notifier.mailer.is_none() {
        return;
    }
    let Ok(members) = state.store.members(&w.team_id).await else { return };
    let team = state.store.team(&w.team_id).await.ok().flatten().map(|t| t.name).unwrap_or_default();
    let link = format!("{}/app/team/webhooks", state.base_url);
    for m in members.iter().filter(|m| m.membership.role == Role::Owner) {
        let body = format!(
            "Hi {},\n\nBaton turned off the webhook \"{}\" of {team}: every delivery to {} failed for a day ({}).\n\nNothing more is sent to it until it is turned back on. Its delivery log shows each attempt; deliveries can be sent again from there:\n{link}\n",
            m.user.display_name(),
            w.name,
            w.url,
            w.disabled_reason.as_deref().unwrap_or("no answer"),
        );
        if let Err(e) = state.store.queue_mail(&m.user.email, &format!("Webhook \"{}\" was turned off", w.name), &body, state.now()).await {
            tracing::warn!(error = %e, "could not queue the webhook notice");
        }
    }
}
