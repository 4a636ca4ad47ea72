//! The chats service: the one way to change a conversation. Every edge (the live-chat and widget
//! handlers, the widget socket), the timers and the bot come through here; each change is written
//! by the store (one transaction, decided by [`crate::domain::chat::decide`]) and, after commit,
//! followed by the same things in the same order: real-time events, a capacity re-check for
//! whoever gained or lost the chat, notifications, and the bot's reply when the bot is to answer.

use tokio::task::JoinHandle;

use super::AppState;
use crate::domain::chat::TransitionError;
use crate::domain::ids::{AttachmentId, BotId, ConversationId, VisitorId};
use crate::domain::values::{ClientId, MessageBody};
use crate::store::{Act, Applied, Conversation, Message, StoreError};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Runs one act on a conversation and everything that follows it.
pub async fn apply(state: &AppState, conversation: &ConversationId, act: Act) -> Result<Applied> {
    let applied = state.store.apply(conversation, act, state.now()).await?;
    announce(state, &applied).await;
    Ok(applied)
}

/// What follows a committed change (also for changes the store made as part of another write,
/// such as chats requeued when their assignee left the team).
pub(super) async fn announce(state: &AppState, applied: &Applied) {
    super::events::applied(state, applied).await;
    super::presence::chat_changed(state, applied).await;
    super::notify::after_chat_change(state, applied).await;
    super::visitors::queue_moved(state, applied).await;
}

/// The visitor's current conversation, opening one if the visitor has none yet.
pub async fn current(state: &AppState, visitor: &VisitorId, bot: &BotId) -> Result<Conversation> {
    match state.store.current_conversation(visitor).await? {
        Some(c) => Ok(c),
        None => state.store.start_conversation(visitor, bot, state.now()).await,
    }
}

/// "Start a new chat": a new conversation once the last one is resolved.
pub async fn start(state: &AppState, visitor: &VisitorId, bot: &BotId) -> Result<Conversation> {
    state.store.start_conversation(visitor, bot, state.now()).await
}

/// Who writes a visitor message: the widget's caller.
pub struct VisitorAuthor<'a> {
    pub id: &'a VisitorId,
    pub bot: &'a BotId,
    /// The name the visitor gave, shown as the message's author.
    pub name: Option<&'a str>,
}

/// A stored visitor message, and the bot's answer on its way when the bot is to answer.
pub struct Posted {
    pub applied: Applied,
    /// Runs on its own task, so a caller that goes away (a closed page) does not cancel it; the
    /// answer is published like any message, and the HTTP edge also awaits it for its response.
    pub bot_reply: Option<JoinHandle<Option<Message>>>,
}

/// A visitor's message, from the widget's HTTP call or its socket alike. `hint` is the
/// conversation the caller believes current (a socket remembers it between messages); when that
/// one was resolved meanwhile, the visitor's current conversation is read again and used.
pub async fn visitor_message(
    state: &AppState,
    author: VisitorAuthor<'_>,
    hint: Option<&ConversationId>,
    body: MessageBody,
    client_id: Option<ClientId>,
    files: Vec<AttachmentId>,
) -> Result<Posted> {
    let text = body.text().to_string();
    let act = Act::VisitorMessage { visitor: author.id.clone(), name: author.name.map(str::to_string), body, client_id, files };
    let applied = match hint {
        Some(conv) => match state.store.apply(conv, act.clone(), state.now()).await {
            Err(StoreError::Transition(TransitionError::ChatResolved)) => {
                let conv = current(state, author.id, author.bot).await?;
                state.store.apply(&conv.id, act, state.now()).await?
            }
            other => other?,
        },
        None => {
            let conv = current(state, author.id, author.bot).await?;
            state.store.apply(&conv.id, act, state.now()).await?
        }
    };
    announce(state, &applied).await;
    let bot_reply = applied.bot_replies.then(|| {
        let (state, conv) = (state.clone(), applied.conversation.clone());
        tokio::spawn(async move { bot_answer(&state, &conv, &text).await })
    });
    Ok(Posted { applied, bot_reply })
}

/// The bot answers `text` and its answer is stored (escalating when it has none and the bot is
/// set so). `None` when a person took over while the bot was thinking: the answer is dropped.
async fn bot_answer(state: &AppState, conv: &Conversation, text: &str) -> Option<Message> {
    let (bot, visitor) = match (state.store.bot(&conv.bot_id).await, state.store.visitor(&conv.visitor_id).await) {
        (Ok(Some(bot)), Ok(Some(visitor))) => (bot, visitor),
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!(conversation = %conv.id, error = %e, "the bot could not load its conversation");
            return None;
        }
        _ => return None,
    };
    let (body, unanswered) = super::bot::reply(state, &bot, &visitor, conv, text).await;
    match apply(state, &conv.id, Act::BotReply { body, unanswered }).await {
        Ok(applied) => applied.posted().cloned(),
        Err(e) => {
            tracing::debug!(conversation = %conv.id, error = %e, "bot reply not stored");
            None
        }
    }
}

/// The timers' part: snoozed chats whose time came are back (each announced like any change).
pub async fn wake_due(state: &AppState) {
    let now = state.now();
    let due = match state.store.due_snoozes(now, 200).await {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "could not read snoozed chats");
            return;
        }
    };
    for id in due {
        match apply(state, &id, Act::Wake { due: now }).await {
            Ok(_) | Err(StoreError::Transition(TransitionError::NotSnoozed)) | Err(StoreError::NotFound) => {}
            Err(e) => tracing::warn!(conversation = %id, error = %e, "could not wake a snoozed chat"),
        }
    }
}
