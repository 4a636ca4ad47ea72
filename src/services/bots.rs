//! Bots as their team's admins manage them: creating, changing (widgets hear the new
//! availability at once), the logo, and deleting with every conversation and file. Each change
//! reaches open pages and the audit log.

use serde_json::json;

use super::AppState;
use super::audit::{self, Actor, Target};
use super::events;
use crate::domain::audit::{Action, TargetKind, changed_fields};
use crate::domain::ids::TeamId;
use crate::store::{Bot, BotInput, Result};
use crate::views;

fn target(bot: &Bot) -> Target {
    Target::new(TargetKind::Bot, &bot.id, &bot.name)
}

pub async fn create(state: &AppState, team: &TeamId, input: BotInput, actor: &Actor) -> Result<Bot> {
    let bot = state.store.create_bot(team, input, state.now()).await?;
    events::team_changed(state, team, "bots");
    audit::record(state, team, actor, Action::BotCreated, target(&bot), json!({})).await;
    Ok(bot)
}

pub async fn update(state: &AppState, before: &Bot, input: BotInput, actor: &Actor) -> Result<Bot> {
    let updated = state.store.update_bot(&before.id, input).await?;
    // Open widgets hear at once whether a person can answer under the new hours or rules.
    super::visitors::announce_availability(state, &updated).await;
    events::team_changed(state, &updated.team_id, "bots");
    let mut fields = changed_fields(&json!(views::bot(before)), &json!(views::bot(&updated)));
    if before.responder != updated.responder && !fields.iter().any(|f| f.starts_with("responder")) {
        // A new webhook secret shows in no view; the log still says the responder changed.
        fields.push("responder.secret".into());
    }
    if !fields.is_empty() {
        audit::record(state, &updated.team_id, actor, Action::BotUpdated, target(&updated), json!({"fields": fields})).await;
    }
    Ok(updated)
}

pub async fn set_logo(state: &AppState, bot: &Bot, png: Vec<u8>, actor: &Actor) -> Result<()> {
    state.store.set_bot_logo(&bot.id, png, state.now()).await?;
    events::team_changed(state, &bot.team_id, "bots");
    audit::record(state, &bot.team_id, actor, Action::BotUpdated, target(bot), json!({"fields": ["logo_url"]})).await;
    Ok(())
}

pub async fn delete_logo(state: &AppState, bot: &Bot, actor: &Actor) -> Result<()> {
    state.store.delete_bot_logo(&bot.id).await?;
    events::team_changed(state, &bot.team_id, "bots");
    audit::record(state, &bot.team_id, actor, Action::BotUpdated, target(bot), json!({"fields": ["logo_url"]})).await;
    Ok(())
}

pub async fn delete(state: &AppState, bot: &Bot, actor: &Actor) -> Result<()> {
    super::attachments::delete_bot(state, &bot.id).await?;
    events::team_changed(state, &bot.team_id, "bots");
    audit::record(state, &bot.team_id, actor, Action::BotDeleted, target(bot), json!({})).await;
    Ok(())
}
