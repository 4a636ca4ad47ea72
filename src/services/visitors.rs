//! The visitor's side of a chat beyond messages: whether a person can answer now (business
//! hours and agent availability), the queue a pending chat waits in and the expected wait, a
//! message left while nobody can answer, the satisfaction rating, and the transcript by email.

use serde_json::json;

use super::AppState;
use super::chats;
use crate::clock::Millis;
use crate::domain::chat::{SystemEvent, TransitionError};
use crate::domain::ids::{BotId, ConversationId};
use crate::domain::values::{ClientId, MessageBody};
use crate::domain::widget::{Reach, WhenUnavailable, reach};
use crate::hub::{Event, EventKind, Topic};
use crate::store::{Act, Applied, Bot, Conversation, Csat, Rating, Result, StoreError, Visitor};

/// How far back the expected wait looks, and how many claims it takes the median of.
const WAIT_WINDOW_MS: Millis = 14 * 24 * 3600 * 1000;
const WAIT_SAMPLE: i64 = 50;
/// Queue updates go to at most this many waiting visitors per change (the rest read their
/// place when they reconnect or reload).
const QUEUE_FANOUT: i64 = 500;
/// A conversation's transcript is sent at most this many times.
pub const MAX_TRANSCRIPTS: i64 = 3;

/// Whether a person can answer the bot's chats now.
#[derive(Debug, Clone, Copy)]
pub struct Availability {
    pub reach: Reach,
    /// An agent with access is available (told to the widget only when the bot shows it).
    pub online: bool,
    pub last_active_at: Option<Millis>,
    /// When the business hours next open or close, so the widget looks again then.
    pub next_change_at: Option<Millis>,
}

pub async fn availability(state: &AppState, bot: &Bot) -> Result<Availability> {
    let now = state.now();
    let (online, last_active_at) = state.store.availability(&bot.id).await?;
    let w = &bot.settings.widget;
    Ok(Availability { reach: reach(w.open_at(now), online), online, last_active_at, next_change_at: w.next_change(now) })
}

/// The typical wait for this bot's chats (milliseconds), `None` without recent claims.
pub async fn expected_wait(state: &AppState, bot: &BotId) -> Result<Option<Millis>> {
    let waits = state.store.recent_waits(bot, state.now() - WAIT_WINDOW_MS, WAIT_SAMPLE).await?;
    Ok(crate::domain::widget::expected_wait(waits))
}

/// A pending chat's place in the queue and the expected wait.
pub async fn queue_place(state: &AppState, conv: &Conversation) -> Result<Option<(i64, Option<Millis>)>> {
    let Some(position) = state.store.queue_position(&conv.id).await? else { return Ok(None) };
    Ok(Some((position, expected_wait(state, &conv.bot_id).await?)))
}

fn queue_data(conversation: &ConversationId, position: i64, wait: Option<Millis>) -> serde_json::Value {
    json!({"conversation_id": conversation, "position": position, "expected_wait_seconds": wait.map(|w| (w + 999) / 1000)})
}

/// After a change that moved the bot's queue (an escalation joins it; a claim, resolve or
/// requeue changes who is ahead), every waiting visitor hears their place.
pub(super) async fn queue_moved(state: &AppState, applied: &Applied) {
    if !applied.state_changed || applied.replayed {
        return;
    }
    if !matches!(
        applied.event,
        Some(SystemEvent::Escalated(_) | SystemEvent::Claimed { .. } | SystemEvent::Resolved { .. } | SystemEvent::Requeued { .. })
    ) {
        return;
    }
    let bot = &applied.conversation.bot_id;
    let (queue, wait) = match (state.store.queue(bot, QUEUE_FANOUT).await, expected_wait(state, bot).await) {
        (Ok(q), Ok(w)) => (q, w),
        (Err(e), _) | (_, Err(e)) => return tracing::warn!(%bot, error = %e, "reading the queue failed"),
    };
    let now = state.now();
    for (i, (conversation, visitor)) in queue.iter().enumerate() {
        let data = queue_data(conversation, i as i64 + 1, wait);
        state.bus.publish(Event::new(EventKind::QueueUpdated, now, Topic::Visitor(visitor.clone()), data).about_chat(bot, conversation));
    }
}

/// The body of a queue place, for views.
pub fn queue_view(place: Option<(i64, Option<Millis>)>) -> Option<crate::views::QueueView> {
    place.map(|(position, wait)| crate::views::QueueView { position, expected_wait_seconds: wait.map(|w| (w + 999) / 1000) })
}

/// A message left while nobody could answer: the visitor's name and email are kept (the reply
/// goes there through the email outbox), the message is stored and the chat queued for the
/// team, without a bot reply. Refused, changing nothing, when the server sends no email, when
/// the bot takes no chats for the team, and when it hides the way to the team while nobody can
/// answer.
pub async fn leave_message(
    state: &AppState,
    visitor: &Visitor,
    bot: &Bot,
    name: Option<String>,
    email: String,
    body: MessageBody,
    client_id: Option<ClientId>,
) -> Result<Applied> {
    if state.notifier.mailer.is_none() {
        return Err(StoreError::Conflict("email_unavailable", "this server does not send email, so a left message could not be answered".into()));
    }
    let s = &bot.settings;
    if !(s.human_escalation || s.human_only) {
        return Err(TransitionError::EscalationDisabled.into());
    }
    let conv = chats::current(state, &visitor.id, &bot.id).await?;
    if conv.state == crate::domain::chat::ChatState::Resolved {
        return Err(TransitionError::ChatResolved.into());
    }
    refuse_while_hidden(state, bot, &conv).await?;
    let name_patch = name.as_ref().map(|n| Some(n.as_str()));
    let visitor = state.store.update_visitor(&visitor.id, name_patch, Some(Some(&email))).await?;
    let act = Act::LeaveMessage { visitor: visitor.id.clone(), name: visitor.name.clone(), body, client_id };
    chats::apply(state, &conv.id, act).await
}

/// A bot set to hide the way to the team while nobody can answer refuses a chat with the bot
/// being handed over then (`team_unavailable`), however the request came.
async fn refuse_while_hidden(state: &AppState, bot: &Bot, conv: &Conversation) -> Result<()> {
    if bot.settings.widget.when_unavailable == WhenUnavailable::Hide
        && conv.state == crate::domain::chat::ChatState::Bot
        && availability(state, bot).await?.reach != Reach::Open
    {
        return Err(StoreError::Conflict("team_unavailable", "nobody can answer right now".into()));
    }
    Ok(())
}

/// "Talk to a person": the visitor's current chat goes to the queue, unless the bot hides that
/// while nobody can answer.
pub async fn escalate(state: &AppState, visitor: &Visitor, bot: &Bot) -> Result<Applied> {
    let conv = chats::current(state, &visitor.id, &bot.id).await?;
    refuse_while_hidden(state, bot, &conv).await?;
    chats::apply(state, &conv.id, Act::EscalateByVisitor { visitor: visitor.id.clone() }).await
}

/// Whether the visitor is asked to rate this conversation, and on which scale.
pub fn rating_asked(conv: &Conversation, csat: Csat, rated: bool) -> Option<Csat> {
    let asked = conv.state == crate::domain::chat::ChatState::Resolved && conv.escalated_at.is_some() && !rated && csat != Csat::Off;
    asked.then_some(csat)
}

/// The visitor rates their resolved chat, once. `score` is 1–5 for stars, 1 or 5 for thumbs.
pub async fn rate(state: &AppState, conv: &Conversation, score: i64, comment: Option<String>) -> Result<Rating> {
    let team = state.store.team(&conv.team_id).await?.ok_or(StoreError::NotFound)?;
    let scale = team.settings.csat;
    if rating_asked(conv, scale, false).is_none() {
        return Err(StoreError::Conflict(
            "rating_not_open",
            "this chat cannot be rated: it is not a resolved chat with the team, or ratings are off".into(),
        ));
    }
    let valid = match scale {
        Csat::Stars => (1..=5).contains(&score),
        Csat::Thumbs => score == 1 || score == 5,
        Csat::Off => false,
    };
    if !valid {
        let why = if scale == Csat::Thumbs { "must be 5 (thumb up) or 1 (thumb down)" } else { "must be 1 to 5" };
        return Err(StoreError::Invalid(format!("score: {why}")));
    }
    let rating = Rating { score, scale, comment, created_at: state.now() };
    state.store.rate(&conv.id, &rating).await?;
    let data = json!({
        "conversation_id": conv.id,
        "bot_id": conv.bot_id,
        "rating": crate::views::rating(&rating),
        "version": conv.last_seq,
    });
    state
        .bus
        .publish(Event::new(EventKind::ChatRated, rating.created_at, Topic::Team(conv.team_id.clone()), data).about_chat(&conv.bot_id, &conv.id));
    Ok(rating)
}

/// The visitor asks for a copy of their ended chat with the team by email; it goes through the
/// email outbox. Only chats that reached the team are offered one: each then cost a chat in the
/// team's queue, which keeps the endpoint from being a free way to mail arbitrary text.
pub async fn transcript(state: &AppState, conv: &Conversation, to: &str) -> Result<()> {
    if state.notifier.mailer.is_none() {
        return Err(StoreError::Conflict("email_unavailable", "this server does not send email".into()));
    }
    if conv.state != crate::domain::chat::ChatState::Resolved {
        return Err(StoreError::Conflict("chat_open", "a transcript is sent once the chat has ended".into()));
    }
    if conv.escalated_at.is_none() {
        return Err(StoreError::Conflict("transcript_not_offered", "a transcript is offered for chats with the team".into()));
    }
    // Sent by the outbox's next round, like every email.
    if !state.store.queue_transcript(&conv.id, to, MAX_TRANSCRIPTS, state.now()).await? {
        return Err(StoreError::Conflict("transcript_pending", "a copy of this chat is already on its way".into()));
    }
    Ok(())
}

/// Tells the bot's open widgets whether a person can answer, after its hours or settings
/// changed.
pub async fn announce_availability(state: &AppState, bot: &Bot) {
    match availability(state, bot).await {
        Ok(a) => {
            let data = super::events::availability_data(bot, &a);
            state.bus.publish(Event::new(EventKind::Availability, state.now(), Topic::Bot(bot.id.clone()), data));
        }
        Err(e) => tracing::warn!(bot = %bot.id, error = %e, "reading the bot's availability failed"),
    }
}

/// The visitor's surroundings as the widget reports them (page, referrer, browser, time zone,
/// language); agents with their live chat open see them change.
pub async fn report_context(state: &AppState, visitor: &Visitor, context: &crate::domain::visitor::Context) -> Result<()> {
    state.store.set_visitor_context(&visitor.id, context, state.now()).await?;
    announce_visitor(state, visitor).await;
    Ok(())
}

/// The attributes the host page set (`Baton.setUser`), replacing earlier ones.
pub async fn set_attributes(state: &AppState, visitor: &Visitor, attributes: &std::collections::BTreeMap<String, String>) -> Result<()> {
    state.store.set_visitor_attributes(&visitor.id, attributes, state.now()).await?;
    announce_visitor(state, visitor).await;
    Ok(())
}

/// `visitor.updated` to the team when the visitor's current chat is with it (best effort).
async fn announce_visitor(state: &AppState, visitor: &Visitor) {
    let Ok(Some(conv)) = state.store.current_conversation(&visitor.id).await else { return };
    if conv.escalated_at.is_none() {
        return;
    }
    let Ok(Some(found)) = state.store.visitor_context(&visitor.id).await else { return };
    let data = json!({
        "conversation_id": conv.id,
        "visitor_id": visitor.id,
        "context": found.context,
        "attributes": found.attributes,
        "updated_at": crate::views::time(found.updated_at),
    });
    state.bus.publish(Event::new(EventKind::VisitorUpdated, state.now(), Topic::Team(conv.team_id.clone()), data).about_chat(&conv.bot_id, &conv.id));
}
