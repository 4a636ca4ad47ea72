//! Turning committed changes into real-time events. Called only after the store returned, i.e.
//! after commit; failures to look up extra display data never fail the request.

use serde_json::json;

use super::views;
use crate::app::AppState;
use crate::domain::ids::UserId;
use crate::hub::Event;
use crate::store::{Applied, Presence, User};

/// `message.created` for each written message, and the chat event for a state change.
pub async fn applied(state: &AppState, a: &Applied) {
    if a.replayed {
        return;
    }
    let c = &a.conversation;
    let assignee: Option<User> = match &c.assignee_id {
        Some(id) if a.state_changed => state.store.user(id).await.ok().flatten(),
        _ => None,
    };
    for m in &a.messages {
        let data = views::message(m);
        state.bus.publish(Event {
            kind: "message.created",
            at: m.created_at,
            team_id: c.team_id.clone(),
            bot_id: Some(c.bot_id.clone()),
            conversation_id: Some(c.id.clone()),
            visitor: (!m.internal).then(|| (c.visitor_id.clone(), data.clone())),
            agent_data: data,
            only_agent: None,
        });
    }
    if !a.state_changed {
        return;
    }
    let event = a
        .messages
        .iter()
        .rev()
        .find_map(|m| m.event.as_deref())
        .unwrap_or("");
    let kind = match event {
        "escalated" => "chat.escalated",
        "claimed" | "accepted" => "chat.claimed",
        "transferred" => "chat.transferred",
        "resolved" => "chat.resolved",
        "requeued" => "chat.requeued",
        _ => return,
    };
    let agent_data = json!({
        "conversation_id": c.id,
        "state": c.state.as_str(),
        "bot_id": c.bot_id,
        "assignee": assignee.as_ref().map(views::user),
        "escalated_at": views::opt_time(c.escalated_at),
        "last_seq": c.last_seq,
    });
    let visitor_data = json!({
        "conversation_id": c.id,
        "state": c.state.as_str(),
        "agent": assignee.as_ref().map(views::public_agent),
    });
    state.bus.publish(Event {
        kind,
        at: c.last_activity_at,
        team_id: c.team_id.clone(),
        bot_id: Some(c.bot_id.clone()),
        conversation_id: Some(c.id.clone()),
        agent_data,
        visitor: Some((c.visitor_id.clone(), visitor_data)),
        only_agent: None,
    });
}

/// `agent.status` to every team the agent belongs to.
pub async fn agent_status(state: &AppState, user: &UserId, p: &Presence, reason: Option<&str>) {
    let Ok(me) = state.store.me(user).await else {
        return;
    };
    for (team, _) in &me.teams {
        let mut data = json!({"agent_id": user, "status": p.status, "source": p.source, "last_active_at": views::opt_time(p.last_active_at)});
        if let Some(r) = reason {
            data["reason"] = json!(r);
        }
        state.bus.publish(Event {
            kind: "agent.status",
            at: state.now(),
            team_id: team.id.clone(),
            bot_id: None,
            conversation_id: None,
            agent_data: data,
            visitor: None,
            only_agent: None,
        });
    }
}
