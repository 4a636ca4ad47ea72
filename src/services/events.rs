//! Turning committed changes into real-time events. Called only after the store returned, i.e.
//! after commit; looking up extra display data never fails the request.

use serde_json::{Value, json};

use crate::domain::chat::SystemEvent;
use crate::domain::ids::UserId;
use crate::hub::{Event, EventKind, Frame, Origin, Topic};
use crate::services::AppState;
use crate::store::{Applied, Conversation, Presence, User};
use crate::views;

/// `message.created` for each written message, and the chat event for a state change.
pub async fn applied(state: &AppState, a: &Applied) {
    if a.replayed {
        return;
    }
    let c = &a.conversation;
    for m in &a.messages {
        // One frame for the visitor and the team alike: serialised once.
        let frame = Frame::new(EventKind::MessageCreated.as_str(), m.created_at, views::message(m));
        if !m.internal {
            state.bus.publish(
                Event::sharing(EventKind::MessageCreated, m.created_at, Topic::Visitor(c.visitor_id.clone()), frame.clone())
                    .about_chat(&c.bot_id, &c.id)
                    .with_seq(m.seq),
            );
        }
        state.bus.publish(
            Event::sharing(EventKind::MessageCreated, m.created_at, Topic::Team(c.team_id.clone()), frame)
                .about_chat(&c.bot_id, &c.id)
                .with_seq(m.seq),
        );
    }
    if a.snooze_changed {
        let data = json!({
            "conversation_id": c.id,
            "state": c.state.as_str(),
            "bot_id": c.bot_id,
            "assignee_id": c.assignee_id,
            "snoozed": c.snooze.is_some(),
            "snoozed_until": c.snooze.and_then(|z| z.until).map(views::time),
            "last_seq": c.last_seq,
            "version": c.last_seq,
        });
        state.bus.publish(Event::new(EventKind::ChatSnoozed, c.last_activity_at, Topic::Team(c.team_id.clone()), data).about_chat(&c.bot_id, &c.id));
    }
    if !a.state_changed {
        return;
    }
    let kind = match &a.event {
        Some(SystemEvent::Escalated(_)) => EventKind::ChatEscalated,
        Some(SystemEvent::Claimed { .. } | SystemEvent::Accepted { .. }) => EventKind::ChatClaimed,
        Some(SystemEvent::Transferred { .. }) => EventKind::ChatTransferred,
        Some(SystemEvent::Resolved { .. }) => EventKind::ChatResolved,
        Some(SystemEvent::Requeued { .. }) => EventKind::ChatRequeued,
        Some(SystemEvent::Reopened { .. }) => EventKind::ChatReopened,
        None => return,
    };
    let assignee: Option<User> = match &c.assignee_id {
        Some(id) => state.store.user(id).await.ok().flatten(),
        None => None,
    };
    let agent_data = json!({
        "conversation_id": c.id,
        "state": c.state.as_str(),
        "bot_id": c.bot_id,
        "assignee": assignee.as_ref().map(views::user),
        "previous_assignee_id": a.previous_assignee,
        "escalated_at": views::opt_time(c.escalated_at),
        "last_seq": c.last_seq,
        "version": c.last_seq,
    });
    let visitor_data = json!({
        "conversation_id": c.id,
        "state": c.state.as_str(),
        "mode": views::mode(c),
        "agent": if c.state.is_live() { assignee.as_ref().map(views::public_agent) } else { None },
        "version": c.last_seq,
    });
    let at = c.last_activity_at;
    state.bus.publish(Event::new(kind, at, Topic::Team(c.team_id.clone()), agent_data).about_chat(&c.bot_id, &c.id));
    state.bus.publish(Event::new(kind, at, Topic::Visitor(c.visitor_id.clone()), visitor_data).about_chat(&c.bot_id, &c.id));
}

/// `agent.status` to every team the agent belongs to, and the new availability to the widgets
/// of the team's bots (whether a person can answer; who is online only where the bot shows it).
pub async fn agent_status(state: &AppState, user: &UserId, p: &Presence) {
    let Ok(me) = state.store.me(user).await else { return };
    let data = json!({
        "agent_id": user,
        "status": p.status,
        "source": p.source,
        "reason": p.reason,
        "last_active_at": views::opt_time(p.last_active_at),
    });
    for (team, _) in &me.teams {
        state.bus.publish(Event::new(EventKind::AgentStatus, state.now(), Topic::Team(team.id.clone()), data.clone()));
        let Ok(bots) = state.store.bots(&team.id, &crate::domain::team::BotAccess::All).await else { continue };
        for bot in &bots {
            super::visitors::announce_availability(state, bot).await;
        }
    }
}

/// Tells the user's open sockets that sessions or tokens of theirs ended: each re-checks the
/// credential it was opened with and closes if it is gone.
pub fn credentials_changed(state: &AppState, user: &UserId) {
    state.bus.publish(Event::new(EventKind::CredentialsChanged, state.now(), Topic::User(user.clone()), Value::Object(Default::default())));
}

/// Tells the user's open inboxes that their team or bot access changed: they re-read it.
pub fn access_changed(state: &AppState, user: &UserId) {
    state.bus.publish(Event::new(EventKind::AccessChanged, state.now(), Topic::User(user.clone()), Value::Object(Default::default())));
}

/// Tells the user's open inboxes that the invitations waiting for them changed: they re-read
/// `GET /api/invitations`.
pub fn invitations_changed(state: &AppState, user: &UserId) {
    state.bus.publish(Event::new(EventKind::InvitationsChanged, state.now(), Topic::User(user.clone()), Value::Object(Default::default())));
}

/// A visitor is typing: the agents of the team who reach the bot see it.
pub fn visitor_typing(state: &AppState, conv: &Conversation) {
    let data = json!({"conversation_id": conv.id, "author": {"kind": "visitor"}});
    state.bus.publish(Event::new(EventKind::Typing, state.now(), Topic::Team(conv.team_id.clone()), data).about_chat(&conv.bot_id, &conv.id));
}

/// An agent is typing (`note`: an internal note). The other agents see it, the connection it
/// came from does not; the visitor sees it only for the assignee's public replies.
pub fn agent_typing(state: &AppState, conv: &Conversation, agent: &UserId, display_name: &str, note: bool, origin: Origin) {
    let now = state.now();
    let author = json!({"kind": "agent", "id": agent, "display_name": display_name});
    let data = json!({"conversation_id": conv.id, "author": author, "note": note});
    state.bus.publish(
        Event::new(EventKind::Typing, now, Topic::Team(conv.team_id.clone()), data).about_chat(&conv.bot_id, &conv.id).from_connection(origin),
    );
    if !note && conv.assignee_id.as_ref() == Some(agent) {
        let data = json!({"conversation_id": conv.id, "author": {"kind": "agent", "display_name": display_name}});
        state.bus.publish(Event::new(EventKind::Typing, now, Topic::Visitor(conv.visitor_id.clone()), data));
    }
}

/// What the widget hears of the bot's availability: the reach always, who is online only when
/// the bot shows it.
pub fn availability_data(bot: &crate::store::Bot, a: &super::visitors::Availability) -> Value {
    let mut data = json!({"reach": a.reach, "next_change_at": views::opt_time(a.next_change_at)});
    if bot.settings.show_agent_availability {
        data["online"] = json!(a.online);
        data["last_active_at"] = json!(views::opt_time(a.last_active_at));
    }
    data
}

/// Tells the team's open pages that its bots, shortcuts or members changed: they re-read them.
pub fn team_changed(state: &AppState, team: &crate::domain::ids::TeamId, what: &'static str) {
    state.bus.publish(Event::new(EventKind::TeamChanged, state.now(), Topic::Team(team.clone()), json!({"what": what})));
}

/// A shortcut was made, changed or deleted: the team's pages for a team shortcut, the owner's
/// for a personal one.
pub fn shortcuts_changed(state: &AppState, s: &crate::store::Shortcut) {
    match &s.owner_id {
        None => team_changed(state, &s.team_id, "shortcuts"),
        Some(owner) => state.bus.publish(Event::new(EventKind::TeamChanged, state.now(), Topic::User(owner.clone()), json!({"what": "shortcuts"}))),
    }
}

/// The user's name, email or picture changed: their own open tabs redraw the header, and the
/// pages of every team they are in show the new one.
pub async fn profile_changed(state: &AppState, user: &UserId) {
    state.bus.publish(Event::new(EventKind::ProfileChanged, state.now(), Topic::User(user.clone()), json!({})));
    // The visitors in the agent's chats see the new name and picture in the widget's header.
    if let (Ok(Some(u)), Ok(chats)) = (state.store.user(user).await, state.store.assigned_chats(user).await) {
        for c in chats {
            let data = json!({"conversation_id": c.id, "agent": views::public_agent(&u)});
            state
                .bus
                .publish(Event::new(EventKind::AgentUpdated, state.now(), Topic::Visitor(c.visitor_id.clone()), data).about_chat(&c.bot_id, &c.id));
        }
    }
    if let Ok(me) = state.store.me(user).await {
        for (team, _) in &me.teams {
            team_changed(state, &team.id, "members");
        }
    }
}

/// An agent has a chat open: the team's other agents (and the agent's other tabs) see who else
/// is there. The connection it came from does not hear it back.
pub fn agent_viewing(state: &AppState, conv: &Conversation, agent: &UserId, display_name: &str, origin: Origin) {
    let data = json!({"conversation_id": conv.id, "agent": {"id": agent, "display_name": display_name}});
    state.bus.publish(
        Event::new(EventKind::Viewing, state.now(), Topic::Team(conv.team_id.clone()), data)
            .about_chat(&conv.bot_id, &conv.id)
            .from_connection(origin),
    );
}
