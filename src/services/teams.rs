//! Membership changes that reach open inboxes: access, capacity, removal (whose live chats go
//! back to the queue) and the active team.

use super::AppState;
use super::events;
use crate::domain::ids::{TeamId, UserId};
use crate::store::{Member, MemberPatch, PresenceInput, Result};

/// Changes a member's role, bot access or capacity; their open inboxes re-read their access.
pub async fn update_member(state: &AppState, team: &TeamId, user: &UserId, patch: MemberPatch) -> Result<Member> {
    let capacity_changed = patch.capacity.is_some();
    let member = state.store.update_member(team, user, patch).await?;
    events::access_changed(state, user);
    if capacity_changed {
        super::presence::signal(state, user, PresenceInput::Load).await?;
    }
    Ok(member)
}

/// Removes a member; their live chats in the team go back to the queue, announced like any
/// other chat change.
pub async fn remove_member(state: &AppState, team: &TeamId, user: &UserId) -> Result<()> {
    let requeued = state.store.remove_member(team, user, state.now()).await?;
    events::access_changed(state, user);
    for a in &requeued {
        super::chats::announce(state, a).await;
    }
    Ok(())
}

/// Switches the user's active team; their open inboxes follow it.
pub async fn set_active_team(state: &AppState, user: &UserId, team: &TeamId) -> Result<()> {
    state.store.set_active_team(user, team).await?;
    events::access_changed(state, user);
    Ok(())
}
