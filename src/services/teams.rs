//! Membership changes that reach open inboxes: invitations and joining, access, capacity,
//! removal (whose live chats go back to the queue) and the active team.

use serde_json::json;

use super::AppState;
use super::audit::{self, Actor, Target};
use super::events;
use crate::domain::audit::{Action, TargetKind, changed_fields};
use crate::domain::ids::{InvitationId, TeamId, UserId};
use crate::domain::team::BotAccess;
use crate::store::{Invitation, Member, MemberPatch, NewMember, PresenceInput, Result, SettingsPatch, Team};

fn access_json(a: &BotAccess) -> serde_json::Value {
    match a {
        BotAccess::All => json!("all"),
        BotAccess::Only(ids) => json!(ids),
    }
}

/// Changes a member's role, bot access or capacity; their open inboxes re-read their access.
pub async fn update_member(state: &AppState, team: &TeamId, user: &UserId, patch: MemberPatch, actor: &Actor) -> Result<Member> {
    let capacity_changed = patch.capacity.is_some();
    let before = state.store.membership(team, user).await?;
    let member = state.store.update_member(team, user, patch).await?;
    events::access_changed(state, user);
    events::team_changed(state, team, "members");
    if capacity_changed {
        super::presence::signal(state, user, PresenceInput::Load).await?;
    }
    if let Some(before) = before {
        let after = &member.membership;
        let target = Target::new(TargetKind::User, user, member.user.display_name());
        if before.role != after.role {
            let detail = json!({"from": before.role, "to": after.role});
            audit::record(state, team, actor, Action::MemberRoleChanged, target.clone(), detail).await;
        }
        if before.bot_access != after.bot_access {
            let detail = json!({"from": access_json(&before.bot_access), "to": access_json(&after.bot_access)});
            audit::record(state, team, actor, Action::MemberAccessChanged, target.clone(), detail).await;
        }
        if before.capacity != after.capacity {
            let detail = json!({"from": before.capacity, "to": after.capacity});
            audit::record(state, team, actor, Action::MemberCapacityChanged, target, detail).await;
        }
    }
    Ok(member)
}

/// Removes a member; their live chats in the team go back to the queue, announced like any
/// other chat change.
pub async fn remove_member(state: &AppState, team: &TeamId, user: &UserId, actor: &Actor) -> Result<()> {
    let target = Target::user(state, user).await;
    let requeued = state.store.remove_member(team, user, state.now()).await?;
    events::access_changed(state, user);
    events::team_changed(state, team, "members");
    for a in &requeued {
        super::chats::announce(state, a).await;
    }
    audit::record(state, team, actor, Action::MemberRemoved, target, json!({"chats_requeued": requeued.len()})).await;
    Ok(())
}

/// Changes the team's settings; open pages redraw, the log names what changed.
pub async fn update_settings(state: &AppState, team: &TeamId, patch: SettingsPatch, actor: &Actor) -> Result<Team> {
    let before = state.store.team(team).await?;
    let t = state.store.update_team_settings(team, patch).await?;
    events::team_changed(state, team, "settings");
    if let Some(before) = before {
        let fields = changed_fields(&json!(crate::views::settings(&before.settings)), &json!(crate::views::settings(&t.settings)));
        if !fields.is_empty() {
            audit::record(state, team, actor, Action::TeamSettingsChanged, Target::new(TargetKind::Team, team, &t.name), json!({"fields": fields}))
                .await;
        }
    }
    Ok(t)
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
/// Someone without an account is emailed a link to choose a password and join; someone with one
/// a note to sign in and accept (when Baton sends email).
pub async fn invite(state: &AppState, team: &TeamId, new: NewMember, invited_by: &UserId, actor: &Actor) -> Result<Invitation> {
    let now = state.now();
    let invitation = state.store.invite(team, new, invited_by, now, now + INVITATION_DAYS * 24 * 3600 * 1000).await?;
    events::team_changed(state, team, "members");
    if let Some(user) = &invitation.user_id {
        events::invitations_changed(state, user);
    }
    let target = Target::new(TargetKind::Invitation, &invitation.id, &invitation.email);
    audit::record(state, team, actor, Action::MemberInvited, target, json!({"email": invitation.email, "role": invitation.role})).await;
    super::accounts::invitation_sent(state, &invitation).await?;
    Ok(invitation)
}

/// Withdraws a pending invitation; the invitee's open inboxes drop it. Whether there was one.
pub async fn withdraw(state: &AppState, team: &TeamId, id: &InvitationId, actor: &Actor) -> Result<bool> {
    let email = state.store.team_invitations(team, i64::MIN).await?.into_iter().find(|i| &i.id == id).map(|i| i.email);
    let Some(user) = state.store.withdraw_invitation(team, id).await? else { return Ok(false) };
    events::team_changed(state, team, "members");
    if let Some(user) = &user {
        events::invitations_changed(state, user);
    }
    let label = email.clone().unwrap_or_else(|| id.to_string());
    audit::record(state, team, actor, Action::InvitationWithdrawn, Target::new(TargetKind::Invitation, id, label), json!({"email": email})).await;
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
pub async fn accept(state: &AppState, id: &InvitationId, user: &UserId, address: &str) -> Result<Member> {
    let member = state.store.accept_invitation(id, user, state.now()).await?;
    events::access_changed(state, user);
    events::team_changed(state, &member.membership.team_id, "members");
    events::invitations_changed(state, user);
    let target = Target::new(TargetKind::User, user, member.user.display_name());
    let actor = Actor { user: Some(user.clone()), address: address.to_string() };
    audit::record(state, &member.membership.team_id, &actor, Action::MemberJoined, target, json!({"role": member.membership.role})).await;
    Ok(member)
}

/// Accepts the invitations that made this user's account: its first login joins the team it
/// was made for.
pub async fn accept_own_invitations(state: &AppState, user: &UserId, address: &str) -> Result<()> {
    for invitation in state.store.invitations_for(user, state.now()).await? {
        if invitation.created_account {
            match accept(state, &invitation.id, user, address).await {
                Ok(_) | Err(crate::store::StoreError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}
