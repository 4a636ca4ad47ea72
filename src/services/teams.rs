//! Membership changes that reach open inboxes: invitations and joining, access, capacity,
//! removal (whose live chats go back to the queue) and the active team.

use super::AppState;
use super::events;
use crate::domain::ids::{InvitationId, TeamId, UserId};
use crate::store::{Invitation, Member, MemberPatch, NewMember, PresenceInput, Result};

/// Changes a member's role, bot access or capacity; their open inboxes re-read their access.
pub async fn update_member(state: &AppState, team: &TeamId, user: &UserId, patch: MemberPatch) -> Result<Member> {
    let capacity_changed = patch.capacity.is_some();
    let member = state.store.update_member(team, user, patch).await?;
    events::access_changed(state, user);
    events::team_changed(state, team, "members");
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
    events::team_changed(state, team, "members");
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

/// How long an invitation stays open.
pub const INVITATION_DAYS: i64 = 14;

/// Invites an email to the team (see [`crate::store::TeamStore::invite`]). The answer is the
/// same whether or not the email has an account, and the invitee's teams are untouched until
/// they accept.
pub async fn invite(state: &AppState, team: &TeamId, new: NewMember, invited_by: &UserId) -> Result<Invitation> {
    let now = state.now();
    let invitation = state.store.invite(team, new, invited_by, now, now + INVITATION_DAYS * 24 * 3600 * 1000).await?;
    events::team_changed(state, team, "members");
    if let Some(user) = &invitation.user_id {
        events::invitations_changed(state, user);
    }
    Ok(invitation)
}

/// Withdraws a pending invitation; the invitee's open inboxes drop it. Whether there was one.
pub async fn withdraw(state: &AppState, team: &TeamId, id: &InvitationId) -> Result<bool> {
    let Some(user) = state.store.withdraw_invitation(team, id).await? else { return Ok(false) };
    events::team_changed(state, team, "members");
    if let Some(user) = &user {
        events::invitations_changed(state, user);
    }
    Ok(true)
}

/// The user turns an invitation down; their other open inboxes drop it. Whether there was one.
pub async fn decline(state: &AppState, id: &InvitationId, user: &UserId) -> Result<bool> {
    let declined = state.store.decline_invitation(id, user).await?;
    if declined {
        events::invitations_changed(state, user);
    }
    Ok(declined)
}

/// The user joins the team they were invited to; their open inboxes re-read their teams.
pub async fn accept(state: &AppState, id: &InvitationId, user: &UserId) -> Result<Member> {
    let member = state.store.accept_invitation(id, user, state.now()).await?;
    events::access_changed(state, user);
    events::team_changed(state, &member.membership.team_id, "members");
    events::invitations_changed(state, user);
    Ok(member)
}

/// Accepts the invitations that made this user's account: its first login joins the team it
/// was made for.
pub async fn accept_own_invitations(state: &AppState, user: &UserId) -> Result<()> {
    for invitation in state.store.invitations_for(user, state.now()).await? {
        if invitation.created_account {
            match accept(state, &invitation.id, user).await {
                Ok(_) | Err(crate::store::StoreError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}
