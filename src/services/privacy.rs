//! Data rights: a visitor's data exported or erased on request, and resolved conversations
//! deleted once the team's retention period is over. Each leaves an audit entry; an erased or
//! expired chat leaves the inboxes that show it (`chat.erased`).

use serde_json::{Value, json};

use super::AppState;
use super::audit::{self, Actor, Target};
use crate::domain::audit::{Action, TargetKind};
use crate::domain::ids::{TeamId, VisitorId};
use crate::hub::{Event, EventKind, Topic};
use crate::store::{Conversation, Erased, Result, Visitor};
use crate::views;

/// Conversations removed per team per timer pass (more wait for the next pass).
const RETENTION_BATCH: i64 = 200;

/// How the log names a visitor: never by their name or email, which an erasure removes.
fn target(visitor: &VisitorId) -> Target {
    Target::new(TargetKind::Visitor, visitor, Visitor::label(None, visitor.as_str()))
}

fn erased_frames(state: &AppState, conversations: &[Conversation]) {
    for c in conversations.iter().filter(|c| c.escalated_at.is_some()) {
        let data = json!({"conversation_id": c.id, "bot_id": c.bot_id});
        state.bus.publish(Event::new(EventKind::ChatErased, state.now(), Topic::Team(c.team_id.clone()), data).about_chat(&c.bot_id, &c.id));
    }
}

/// The team's visitors who gave this email.
pub async fn find(state: &AppState, team: &TeamId, email: &str) -> Result<Vec<Visitor>> {
    state.store.visitors_by_email(team, email, 50).await
}

/// Everything Baton keeps about the visitor as one JSON document: who they are, what the
/// widget reported, every conversation with its messages (internal notes marked), files (by
/// name, type, size and address) and ratings.
pub async fn export(state: &AppState, team: &TeamId, visitor: &Visitor, actor: &Actor) -> Result<Value> {
    let context = state.store.visitor_context(&visitor.id).await?;
    let mut conversations = Vec::new();
    let mut message_count = 0;
    for c in state.store.visitor_conversations(&visitor.id).await? {
        let messages = state.store.messages(&c.id, 0, true).await?;
        let rating = state.store.rating(&c.id).await?;
        message_count += messages.len();
        conversations.push(json!({
            "id": c.id,
            "bot_id": c.bot_id,
            "state": c.state.as_str(),
            "created_at": views::time(c.created_at),
            "escalated_at": views::opt_time(c.escalated_at),
            "resolved_at": views::opt_time(c.resolved_at),
            "rating": rating.as_ref().map(views::rating),
            "messages": messages.iter().map(|m| {
                let mut v = json!(views::message(m));
                v["internal"] = json!(m.internal);
                v
            }).collect::<Vec<_>>(),
        }));
    }
    let doc = json!({
        "format": "baton.visitor-export.v1",
        "exported_at": views::time(state.now()),
        "visitor": {
            "id": visitor.id,
            "bot_id": visitor.bot_id,
            "name": visitor.name,
            "email": visitor.email,
            "page_url": visitor.page_url,
            "pre_chat_answers": visitor.fields,
            "created_at": views::time(visitor.created_at),
        },
        "context": context.as_ref().map(|c| json!({"reported": c.context, "attributes": c.attributes, "updated_at": views::time(c.updated_at)})),
        "conversations": conversations,
    });
    let detail = json!({"conversations": doc["conversations"].as_array().map_or(0, Vec::len), "messages": message_count});
    audit::record(state, team, actor, Action::VisitorExported, target(&visitor.id), detail).await;
    Ok(doc)
}

/// Deletes the visitor and everything of theirs (conversations, messages and their search
/// entries, files and their bytes, ratings, context, waiting emails and pushes) in one
/// transaction; open inboxes drop the chats.
pub async fn erase(state: &AppState, team: &TeamId, visitor: &Visitor, actor: &Actor) -> Result<Erased> {
    let conversations = state.store.visitor_conversations(&visitor.id).await?;
    let erased = state.store.erase_visitor(&visitor.id).await?;
    super::attachments::forget(state, &erased.files).await;
    erased_frames(state, &conversations);
    let detail = json!({"conversations": erased.conversations, "messages": erased.messages, "files": erased.files.len()});
    audit::record(state, team, actor, Action::VisitorErased, target(&visitor.id), detail).await;
    Ok(erased)
}

/// The timers' part: resolved conversations past their team's retention period go, in batches.
pub async fn expire(state: &AppState) {
    match state.store.retention_due(state.now()).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::warn!(error = %e, "could not look for conversations past their retention period");
            return;
        }
    }
    loop {
        let batches = match state.store.expire_resolved(state.now(), RETENTION_BATCH).await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "could not delete conversations past their retention period");
                return;
            }
        };
        if batches.is_empty() {
            return;
        }
        let mut full = false;
        for b in batches {
            super::attachments::forget(state, &b.files).await;
            // Open lists and panes drop them.
            for (id, bot) in &b.conversations {
                let data = json!({"conversation_id": id, "bot_id": bot});
                state.bus.publish(Event::new(EventKind::ChatErased, state.now(), Topic::Team(b.team_id.clone()), data).about_chat(bot, id));
            }
            let count = b.conversations.len() as i64;
            let target = Target::new(TargetKind::Team, &b.team_id, "resolved conversations");
            let detail = json!({"count": count, "visitors": b.visitors, "files": b.files.len(), "days": b.days});
            audit::record(state, &b.team_id, &Actor::system(), Action::RetentionDeleted, target, detail).await;
            full |= count >= RETENTION_BATCH;
        }
        if !full || state.shutdown.is_stopping() {
            return;
        }
    }
}
