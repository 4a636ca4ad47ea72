//! Presence in motion: applying signals (and announcing what changed), capacity re-checks after
//! chat changes, and the sweeper that runs the timers — heartbeat expiry, auto-away, orphaned
//! chats — run by [`crate::services::sweeper`] against the application's clock.

use crate::domain::chat::RequeueReason;
use crate::domain::ids::UserId;
use crate::services::AppState;
use crate::services::events;
use crate::store::{Act, Applied, PresenceChange, PresenceInput, StoreError};

/// Applies one presence signal and publishes `agent.status` if the status changed.
pub async fn signal(state: &AppState, user: &UserId, input: PresenceInput) -> Result<PresenceChange, StoreError> {
    let change = state.store.presence_signal(user, input, state.now()).await?;
    if change.changed() {
        events::agent_status(state, user, &change.presence()).await;
    }
    Ok(change)
}

/// After a chat changed hands, re-checks capacity for whoever gained or lost it.
pub async fn chat_changed(state: &AppState, applied: &Applied) {
    if !applied.state_changed {
        return;
    }
    let mut agents: Vec<&UserId> = applied.previous_assignee.iter().chain(applied.conversation.assignee_id.iter()).collect();
    agents.dedup();
    for user in agents {
        if let Err(e) = signal(state, user, PresenceInput::Load).await {
            tracing::warn!(%user, error = %e, "capacity re-check failed");
        }
    }
}

/// One pass of every timer. Safe to run from several nodes at once: each change is decided
/// under the row lock, and a requeue re-checks that the assignee is still gone.
pub async fn sweep(state: &AppState) {
    match state.store.presence_due(state.now()).await {
        Ok(users) => {
            for user in users {
                if let Err(e) = signal(state, &user, PresenceInput::Tick).await {
                    tracing::warn!(%user, error = %e, "presence tick failed");
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "presence sweep failed"),
    }
    match state.store.orphaned_chats(state.now()).await {
        Ok(chats) => {
            for id in chats {
                match super::chats::apply(state, &id, Act::Requeue(RequeueReason::WentOffline)).await {
                    Ok(_) => {}
                    Err(StoreError::Transition(_)) => {} // the assignee came back meanwhile
                    Err(e) => tracing::warn!(conversation = %id, error = %e, "requeue failed"),
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "orphan sweep failed"),
    }
}
