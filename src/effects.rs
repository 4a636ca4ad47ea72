//! What follows a committed chat change, in one place: real-time events, a capacity re-check for
//! whoever gained or lost the chat, and notifications. Every handler that changes a conversation
//! calls this after the store returned.

use crate::app::AppState;
use crate::store::Applied;

pub async fn chat_changed(state: &AppState, applied: &Applied) {
    crate::http::publish::applied(state, applied).await;
    crate::presence::chat_changed(state, applied).await;
    crate::notify::after_chat_change(state, applied).await;
}
