//! Notifications: telling agents about chats that need them (in the open inbox, or by Web Push
//! when it is closed), and emailing visitors a reply they have not read.
//!
//! Everything here runs after commit. Pushes and emails go through durable outboxes in the
//! database, drained by the sweeper with retries; nothing is sent inside a transaction.

pub mod email;
pub mod push;

use serde_json::{Value, json};

use crate::domain::chat::SystemEvent;
use crate::domain::ids::UserId;
use crate::domain::notify::{Kind, should_notify};
use crate::domain::values::preview;
use crate::hub::{Event, EventKind, Topic};
use crate::services::AppState;
use crate::store::{Applied, AuthorKind, Recipient, Visitor};

/// What the notification side needs for the life of the process.
pub struct Notifier {
    pub vapid: push::Vapid,
    /// `None` when SMTP is not configured: no visitor emails are scheduled.
    pub mailer: Option<email::Mailer>,
}

/// Sends `payload` to the agent: as an in-page notification when an inbox of theirs is open on
/// any node, by Web Push otherwise (and when that cannot be told: a push too many beats a
/// missed chat).
async fn deliver(state: &AppState, user: &UserId, payload: &Value) {
    let open = state.listening(&Topic::User(user.clone())).await.unwrap_or_else(|e| {
        tracing::warn!(%user, error = %e, "cannot tell whether the agent's inbox is open; pushing");
        false
    });
    if open {
        state.bus.publish(Event::new(EventKind::Notification, state.now(), Topic::User(user.clone()), payload.clone()));
    } else if let Err(e) = state.store.enqueue_push(user, &payload.to_string(), state.now()).await {
        tracing::warn!(%user, error = %e, "queueing a push failed");
    }
}

fn payload(kind: Kind, title: String, body: String, conversation: &str) -> Value {
    json!({"kind": kind.as_str(), "title": title, "body": body, "conversation_id": conversation, "url": format!("/app/inbox/{conversation}"), "tag": format!("baton-{conversation}")})
}

/// After a committed chat change: notify the agents it concerns, schedule a visitor email for an
/// agent's reply.
pub async fn after_chat_change(state: &AppState, a: &Applied) {
    if a.replayed {
        return;
    }
    let c = &a.conversation;
    let posted = a.posted();
    let id = c.id.to_string();
    let mut targets: Vec<(Recipient, Kind, Value)> = vec![];

    // The common case first, and without extra reads: a visitor writing in an assigned chat.
    if let (Some(m), Some(assignee)) = (posted, &c.assignee_id) {
        if m.author.kind == AuthorKind::Visitor && c.state.is_live() {
            if let Ok(Some(r)) = state.store.recipient(assignee).await {
                let who = Visitor::label(m.author.display_name.as_deref(), c.visitor_id.as_str());
                targets.push((
                    r,
                    Kind::VisitorMessage,
                    payload(Kind::VisitorMessage, format!("New message from {who}"), preview(m.body.text(), 120), &id),
                ));
            }
        }
    }
    if matches!(a.event, Some(SystemEvent::Escalated(_) | SystemEvent::Requeued { .. } | SystemEvent::Transferred { .. })) {
        let (Ok(Some(visitor)), Ok(bot)) = (state.store.visitor(&c.visitor_id).await, state.store.bot(&c.bot_id).await) else { return };
        let who = visitor.display_name();
        let bot_name = bot.map(|b| b.name).unwrap_or_default();
        if matches!(a.event, Some(SystemEvent::Transferred { .. })) {
            if let Some(to) = &c.assignee_id {
                if let Ok(Some(r)) = state.store.recipient(to).await {
                    targets.push((
                        r,
                        Kind::Transfer,
                        payload(Kind::Transfer, "A chat was transferred to you".into(), format!("{who} via {bot_name}"), &id),
                    ));
                }
            }
        } else {
            // What the visitor last said, from the recent history (the escalation itself may be
            // a button press with no words of its own).
            let recent = state.store.messages(&c.id, (c.last_seq - 20).max(0), false).await.unwrap_or_default();
            let said = recent.iter().rev().find(|m| m.author.kind == AuthorKind::Visitor).map(|m| preview(m.body.text(), 120));
            let text = match said {
                Some(words) => format!("{words} · via {bot_name}"),
                None => format!("via {bot_name}"),
            };
            let recipients = state.store.recipients(&c.bot_id).await.unwrap_or_else(|e| {
                tracing::error!(conversation = %c.id, error = %e, "cannot read who to notify of an escalation");
                vec![]
            });
            for r in recipients {
                targets.push((r, Kind::NewEscalation, payload(Kind::NewEscalation, format!("{who} is waiting for a person"), text.clone(), &id)));
            }
        }
    }
    for (r, kind, p) in targets {
        if should_notify(&r.prefs, r.status, kind) {
            deliver(state, &r.user_id, &p).await;
        }
    }

    // An agent's public reply: email it to the visitor if it stays unread.
    if let Some(m) = posted {
        if m.author.kind == AuthorKind::Agent && !m.internal && state.notifier.mailer.is_some() {
            let delay = state.store.team(&c.team_id).await.ok().flatten().map(|t| t.settings.visitor_email_delay_seconds).unwrap_or(120);
            if let Err(e) = state.store.schedule_email(&c.id, m.seq, state.now() + delay * 1000, state.now()).await {
                tracing::warn!(conversation = %c.id, error = %e, "scheduling an email failed");
            }
        }
    }
}

/// The agent's "send test notification": to every open inbox and every push device.
pub async fn test(state: &AppState, user: &UserId) -> usize {
    let p = json!({"kind": "test", "title": "Baton test notification", "body": "Notifications work on this device.", "url": "/app/notifications", "tag": "baton-test"});
    state.bus.publish(Event::new(EventKind::Notification, state.now(), Topic::User(user.clone()), p.clone()));
    state.store.enqueue_push(user, &p.to_string(), state.now()).await.unwrap_or(0)
}

/// Drains the push and email outboxes (called by the sweeper).
pub async fn deliver_due(state: &AppState) {
    remind_waiting(state).await;
    push::drain(state).await;
    email::drain(state).await;
    email::drain_mail(state).await;
}

/// Chats still waiting for a person past the team's interval: the agents who would hear of a new
/// escalation hear again, in the page or by push, until someone claims it. Each reminder is
/// taken by one node (the store moves the chat's `alerted_at` forward only once).
pub async fn remind_waiting(state: &AppState) {
    let now = state.now();
    let due = match state.store.due_pending_alerts(now, 50).await {
        Ok(d) => d,
        Err(e) => return tracing::warn!(error = %e, "reading the chats still waiting failed"),
    };
    for id in due {
        if !matches!(state.store.take_pending_alert(&id, now).await, Ok(true)) {
            continue;
        }
        let Ok(Some(c)) = state.store.conversation(&id).await else { continue };
        let Ok(recipients) = state.store.recipients(&c.bot_id).await else { continue };
        let who = match state.store.visitor(&c.visitor_id).await {
            Ok(Some(v)) => v.display_name(),
            _ => Visitor::label(None, c.visitor_id.as_str()),
        };
        let bot_name = state.store.bot(&c.bot_id).await.ok().flatten().map(|b| b.name).unwrap_or_default();
        let minutes = ((now - c.escalated_at.unwrap_or(now)) / 60_000).max(1);
        let p = payload(
            Kind::NewEscalation,
            format!("{who} is still waiting for a person"),
            format!("Waiting {minutes} min · via {bot_name}"),
            id.as_str(),
        );
        for r in recipients {
            if should_notify(&r.prefs, r.status, Kind::NewEscalation) {
                deliver(state, &r.user_id, &p).await;
            }
        }
    }
}
