//! Answering visitors while a conversation is in bot mode: the built-in knowledge base, or a
//! webhook the team runs (the extension point for LLM bots).
//!
//! Webhook contract: Baton POSTs JSON `{bot_id, conversation_id, visitor: {id, name, email},
//! message: {text}, history: [{author_kind, text}]}` with `X-Baton-Signature: sha256=<hex HMAC of
//! the body>` when the bot has a secret, and expects `{"reply": "text"}` (or `{"reply": null}`
//! for "no answer") within the configured timeout. Anything else counts as no answer.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::AppState;
use crate::domain::knowledge::{self, FALLBACK, Reply};
use crate::domain::values::MessageBody;
use crate::store::{Bot, Conversation, Responder, Visitor};

/// The bot's answer to `text`: its body, and whether the bot had nothing to say (then the body
/// is the fallback line). Storing it is the chats service's business.
pub async fn reply(state: &AppState, bot: &Bot, visitor: &Visitor, conv: &Conversation, text: &str) -> (MessageBody, bool) {
    let (reply, unanswered) = match &bot.responder {
        Responder::Knowledge => match knowledge::answer(&knowledge_of(state, bot).await, text) {
            Reply::Answer { text, .. } => (text, false),
            Reply::Unanswered => (FALLBACK.to_string(), true),
        },
        Responder::Webhook { url, secret } => match call_webhook(state, bot, visitor, conv, text, url, secret.as_deref()).await {
            Ok(Some(text)) => (text, false),
            Ok(None) => (FALLBACK.to_string(), true),
            Err(e) => {
                tracing::warn!(bot = %bot.id, error = %e, "webhook bot failed; answering with the fallback");
                (FALLBACK.to_string(), true)
            }
        },
    };
    (MessageBody::parse_text(&reply).unwrap_or_else(|_| MessageBody::system(FALLBACK)), unanswered)
}

/// The bot's knowledge base (callers on the hot path hold the bot without it).
async fn knowledge_of(state: &AppState, bot: &Bot) -> Vec<knowledge::Entry> {
    if !bot.knowledge.is_empty() {
        return bot.knowledge.clone();
    }
    state.store.bot(&bot.id).await.ok().flatten().map(|b| b.knowledge).unwrap_or_default()
}

async fn call_webhook(
    state: &AppState,
    bot: &Bot,
    visitor: &Visitor,
    conv: &Conversation,
    text: &str,
    url: &str,
    secret: Option<&str>,
) -> Result<Option<String>, String> {
    // Saved while private targets were allowed, or typed as an address: checked at every call.
    if !state.settings.allow_private_webhooks {
        let parsed = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
        if let Some(why) = super::outbound::refuse_url(&parsed) {
            return Err(format!("the webhook URL {why}"));
        }
    }
    let history = state.store.messages(&conv.id, 0, false).await.map_err(|e| e.to_string())?;
    let history: Vec<Value> =
        history.iter().rev().take(20).rev().map(|m| json!({"author_kind": m.author.kind.as_str(), "text": m.body.text()})).collect();
    let payload = json!({
        "bot_id": bot.id,
        "conversation_id": conv.id,
        "visitor": {"id": visitor.id, "name": visitor.name, "email": visitor.email},
        "message": {"text": text},
        "history": history,
    });
    let body = serde_json::to_vec(&payload).map_err(|e| e.to_string())?;
    let mut req = state.http.post(url).header("content-type", "application/json");
    if let Some(secret) = secret {
        req = req.header("x-baton-signature", format!("sha256={}", sign(secret, &body)));
    }
    let res = req.body(body).send().await.map_err(|e| e.to_string())?;
    if !res.status().is_success() {
        return Err(format!("webhook answered {}", res.status()));
    }
    // Read up to the cap, never more: a hostile webhook could otherwise stream until the timeout.
    const CAP: usize = 64 * 1024;
    if res.content_length().is_some_and(|n| n > CAP as u64) {
        return Err("webhook reply larger than 64 KiB".into());
    }
    let mut res = res;
    let mut bytes = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(|e| e.to_string())? {
        if bytes.len() + chunk.len() > CAP {
            return Err("webhook reply larger than 64 KiB".into());
        }
        bytes.extend_from_slice(&chunk);
    }
    let v: Value = serde_json::from_slice(&bytes).map_err(|e| format!("webhook reply is not JSON: {e}"))?;
    Ok(v.get("reply").and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string))
}

/// Hex HMAC-SHA256 of `body`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}
