//! How records look on the wire (API.md's shapes). Times are RFC 3339 UTC.

use serde::Serialize;
use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::domain::knowledge::Entry;
use crate::domain::team::BotAccess;
use crate::store::*;

pub fn time(ms: i64) -> String {
    rfc3339(ms)
}

pub fn opt_time(ms: Option<i64>) -> Option<String> {
    ms.map(rfc3339)
}

pub fn user(u: &User) -> Value {
    json!({
        "id": u.id,
        "email": u.email,
        "first_name": u.first_name,
        "last_name": u.last_name,
        "display_name": u.display_name(),
        "avatar_url": u.avatar_url(),
    })
}

pub fn team(t: &Team) -> Value {
    json!({"id": t.id, "name": t.name, "settings": settings(&t.settings)})
}

pub fn settings(s: &TeamSettings) -> Value {
    json!({
        "auto_away_minutes": s.auto_away_minutes,
        "heartbeat_timeout_seconds": s.heartbeat_timeout_seconds,
        "visitor_email_delay_seconds": s.visitor_email_delay_seconds,
        "orphan_grace_seconds": s.orphan_grace_seconds,
    })
}

pub fn member(m: &Member) -> Value {
    json!({
        "user": user(&m.user),
        "role": m.membership.role,
        "bot_access": m.membership.bot_access,
        "capacity": m.membership.capacity,
        "status": m.presence.status,
        "status_source": m.presence.source,
        "status_reason": m.presence.reason,
        "last_active_at": opt_time(m.presence.last_active_at),
    })
}

#[derive(Serialize)]
struct EntryView<'a> {
    question: &'a str,
    answer: &'a str,
}

pub fn bot(b: &Bot) -> Value {
    let responder = match &b.responder {
        Responder::Knowledge => json!({"kind": "knowledge"}),
        // The secret is write-only: say whether one is set, never what it is.
        Responder::Webhook { url, secret } => {
            json!({"kind": "webhook", "url": url, "has_secret": secret.is_some()})
        }
    };
    json!({
        "id": b.id,
        "team_id": b.team_id,
        "name": b.name,
        "greeting": b.greeting,
        "settings": {
            "human_escalation": b.settings.human_escalation,
            "human_only": b.settings.human_only,
            "show_agent_availability": b.settings.show_agent_availability,
            "auto_escalate_unanswered": b.settings.auto_escalate_unanswered,
            "allowed_origins": b.settings.allowed_origins,
        },
        "responder": responder,
        "knowledge": b.knowledge.iter().map(|e: &Entry| EntryView { question: &e.question, answer: &e.answer }).collect::<Vec<_>>(),
        "created_at": time(b.created_at),
    })
}

pub fn visitor(v: &Visitor) -> Value {
    json!({"id": v.id, "name": v.name, "email": v.email, "display_name": v.display_name()})
}

pub fn message(m: &Message) -> Value {
    let mut author = json!({"kind": m.author.kind.as_str()});
    if let Some(id) = &m.author.id {
        author["id"] = json!(id);
    }
    if let Some(n) = &m.author.display_name {
        author["display_name"] = json!(n);
    }
    if let Some(a) = &m.author.avatar_url {
        author["avatar_url"] = json!(a);
    }
    let mut v = json!({
        "id": m.id,
        "seq": m.seq,
        "conversation_id": m.conversation_id,
        "author": author,
        "body": m.body.html(),
        "text": m.body.text(),
        "visibility": if m.internal { "internal" } else { "public" },
        "created_at": time(m.created_at),
    });
    if let Some(c) = &m.client_id {
        v["client_id"] = json!(c);
    }
    if let Some(e) = &m.event {
        v["event"] = json!(e.as_str());
    }
    v
}

pub fn chat_summary(s: &ChatSummary) -> Value {
    let c = &s.conversation;
    json!({
        "id": c.id,
        "state": c.state.as_str(),
        "bot": {"id": c.bot_id, "name": s.bot_name},
        "visitor": {"id": s.visitor.id, "name": s.visitor.name, "email": s.visitor.email, "display_name": s.visitor.display_name()},
        "assignee": s.assignee.as_ref().map(user),
        "last_message": s.last_message.as_ref().map(|l| json!({"preview": l.preview, "author_kind": l.author_kind.as_str(), "at": time(l.at)})),
        "escalated_at": opt_time(c.escalated_at),
        "resolved_at": opt_time(c.resolved_at),
        "last_activity_at": time(c.last_activity_at),
        "last_seq": c.last_seq,
        "unread_count": s.unread_count,
    })
}

pub fn chat(s: &ChatSummary, messages: &[Message]) -> Value {
    let mut v = chat_summary(s);
    v["messages"] = messages.iter().map(message).collect();
    v
}

/// The agent as the visitor sees them: name and avatar only.
pub fn public_agent(u: &User) -> Value {
    json!({"display_name": u.display_name(), "avatar_url": u.avatar_url()})
}

pub fn widget_conversation(c: &Conversation, agent: Option<&User>, messages: &[Message]) -> Value {
    json!({
        "id": c.id,
        "mode": c.state.mode(c.escalated_at.is_some()),
        "state": c.state.as_str(),
        "agent": agent.map(public_agent),
        "last_seq": c.last_seq,
        "messages": messages.iter().map(message).collect::<Vec<_>>(),
    })
}

pub fn shortcut(s: &Shortcut) -> Value {
    json!({
        "id": s.id,
        "name": s.name,
        "body": s.body,
        "scope": if s.owner_id.is_some() { "personal" } else { "team" },
        "created_at": time(s.created_at),
    })
}

pub fn access(a: &BotAccess) -> Value {
    serde_json::to_value(a).unwrap_or(Value::Null)
}
