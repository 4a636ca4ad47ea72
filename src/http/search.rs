//! Search across the chats I may see: messages and notes by their words, visitors by name or
//! email, with highlighted snippets.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::{Agent, AppQuery};
use super::openapi::Error;
use crate::domain::chat::ChatState;
use crate::domain::search::{Query, snippet};
use crate::services::AppState;
use crate::store::{AuthorKind, ChatHit, Visitor};
use crate::views::{self, BotRef};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct SearchQuery {
    /// Words to find (at most 8 words, 200 characters). Messages, and visitors' names and
    /// emails, match when they have every word, each also as the start of a longer word.
    q: String,
    /// Results of each kind, 1–50 (default 20).
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = SearchResults)]
struct SearchView {
    /// Conversations whose visitor's name or email has every word, latest activity first.
    conversations: Vec<ChatHitView>,
    /// Messages and internal notes with every word, newest first.
    messages: Vec<MessageHitView>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = SearchChat)]
struct ChatHitView {
    id: crate::domain::ids::ConversationId,
    state: ChatState,
    bot: BotRef,
    visitor: SearchVisitor,
    #[serde(skip_serializing_if = "Option::is_none")]
    escalated_at: Option<String>,
    last_activity_at: String,
}

#[derive(Serialize, ToSchema)]
struct SearchVisitor {
    id: crate::domain::ids::VisitorId,
    display_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = SearchMessage)]
struct MessageHitView {
    conversation: ChatHitView,
    message_id: crate::domain::ids::MessageId,
    /// Where the message is in its conversation.
    seq: i64,
    author_kind: AuthorKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    author_name: Option<String>,
    visibility: views::Visibility,
    /// A piece of the message around the match, HTML-escaped, the matched words in `<mark>`.
    snippet: String,
    created_at: String,
}

fn chat(c: &ChatHit) -> ChatHitView {
    ChatHitView {
        id: c.id.clone(),
        state: c.state,
        bot: BotRef { id: c.bot_id.clone(), name: c.bot_name.clone() },
        visitor: SearchVisitor {
            id: c.visitor_id.clone(),
            display_name: Visitor::label(c.visitor_name.as_deref(), c.visitor_id.as_str()),
            email: c.visitor_email.clone(),
        },
        escalated_at: views::opt_time(c.escalated_at),
        last_activity_at: views::time(c.last_activity_at),
    }
}

/// Searches the chats I may see (team and bot access; conversations that never reached the team
/// are not chats).
#[utoipa::path(get, path = "/api/search", tag = "live chats", params(SearchQuery),
    responses((status = 200, body = SearchView), (status = 400, response = Error), (status = 401, response = Error), (status = 403, response = Error)))]
async fn search(State(state): State<AppState>, agent: Agent, AppQuery(p): AppQuery<SearchQuery>) -> ApiResult<Json<SearchView>> {
    let (scope, _) = agent.chat_scope(&state).await?;
    let q = Query::parse(&p.q)?;
    let limit = match p.limit {
        None => 20,
        Some(n) if (1..=50).contains(&n) => n,
        Some(_) => return Err(ApiError::invalid("limit", "must be between 1 and 50")),
    };
    let found = state.store.search(&scope, &q, limit).await?;
    Ok(Json(SearchView {
        conversations: found.conversations.iter().map(chat).collect(),
        messages: found
            .messages
            .iter()
            .map(|m| MessageHitView {
                conversation: chat(&m.chat),
                message_id: m.message_id.clone(),
                seq: m.seq,
                author_kind: m.author_kind,
                author_name: m.author_name.clone(),
                visibility: if m.internal { views::Visibility::Internal } else { views::Visibility::Public },
                snippet: snippet(&m.text, &q, 160),
                created_at: views::time(m.created_at),
            })
            .collect(),
    }))
}
