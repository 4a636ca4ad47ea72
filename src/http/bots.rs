//! Bots: settings, knowledge base and responder.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::{Agent, AppJson, AppPath, body_rejection, double_option};
use super::openapi::Error;
use crate::domain::ids::{BotId, TeamId};
use crate::domain::knowledge::Entry;
use crate::domain::values::{BotName, Origin};
use crate::domain::widget::{Appearance, Hours, PreChat, WhenUnavailable, WidgetSettings};
use crate::services::AppState;
use crate::store::{Bot, BotInput, BotSettings, Responder};
use crate::views;
use std::collections::BTreeMap;

const MAX_GREETING: usize = 1000;
const MAX_ENTRIES: usize = 500;
const MAX_QUESTION: usize = 500;
const MAX_ANSWER: usize = 5000;
const MAX_ORIGINS: usize = 50;

pub fn router() -> OpenApiRouter<AppState> {
    let (schemas, paths, logo_upload) = routes!(upload_logo, delete_logo);
    OpenApiRouter::new().routes(routes!(list_bots, create_bot)).routes(routes!(get_bot, update_bot, delete_bot)).routes((
        schemas,
        paths,
        logo_upload.layer(axum::extract::DefaultBodyLimit::max(super::accounts::AVATAR_MAX_BYTES)),
    ))
}

/// A change to the widget's settings: each part sent replaces that part (`hours: null` removes
/// the schedule); parts left out stay.
#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WidgetSettingsInput)]
struct WidgetBody {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Hours>)]
    hours: Option<Option<Hours>>,
    when_unavailable: Option<WhenUnavailable>,
    pre_chat: Option<PreChat>,
    appearance: Option<Appearance>,
    #[schema(value_type = Option<Object>)]
    texts: Option<BTreeMap<String, BTreeMap<String, String>>>,
}

fn merge_widget(base: WidgetSettings, w: Option<WidgetBody>) -> ApiResult<WidgetSettings> {
    let Some(w) = w else { return Ok(base) };
    let next = WidgetSettings {
        hours: w.hours.unwrap_or(base.hours),
        when_unavailable: w.when_unavailable.unwrap_or(base.when_unavailable),
        pre_chat: w.pre_chat.unwrap_or(base.pre_chat),
        appearance: w.appearance.unwrap_or(base.appearance),
        texts: w.texts.unwrap_or(base.texts),
    };
    next.checked(&crate::domain::words::known).map_err(|e| ApiError::invalid(&e.field, e.message))
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = BotSettingsInput)]
struct SettingsBody {
    human_escalation: Option<bool>,
    human_only: Option<bool>,
    show_agent_availability: Option<bool>,
    auto_escalate_unanswered: Option<bool>,
    #[schema(max_items = 50)]
    allowed_origins: Option<Vec<String>>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = KnowledgeEntryInput)]
struct EntryBody {
    #[schema(min_length = 1, max_length = 500)]
    question: String,
    #[schema(min_length = 1, max_length = 5000)]
    answer: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[schema(as = ResponderInput)]
enum ResponderBody {
    Knowledge,
    Webhook { url: String, secret: Option<String> },
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = BotInput)]
struct BotBody {
    #[schema(min_length = 1, max_length = 100)]
    name: Option<String>,
    #[schema(max_length = 1000)]
    greeting: Option<String>,
    settings: Option<SettingsBody>,
    #[schema(max_items = 500)]
    knowledge: Option<Vec<EntryBody>>,
    responder: Option<ResponderBody>,
    widget: Option<WidgetBody>,
}

/// Applies a body over `base` (the defaults for a new bot, the current bot for a PATCH).
fn merge(base: BotInput, b: BotBody, allow_private: bool) -> ApiResult<BotInput> {
    let name = match b.name {
        Some(n) => BotName::parse(&n)?.into_inner(),
        None => base.name,
    };
    let greeting = match b.greeting {
        Some(g) if g.chars().count() > MAX_GREETING => {
            return Err(ApiError::invalid("greeting", format!("must be at most {MAX_GREETING} characters")));
        }
        Some(g) => g.trim().to_string(),
        None => base.greeting,
    };
    let s = b.settings.unwrap_or_default();
    let allowed_origins = match s.allowed_origins {
        Some(list) if list.len() > MAX_ORIGINS => {
            return Err(ApiError::invalid("settings.allowed_origins", format!("at most {MAX_ORIGINS} origins")));
        }
        Some(list) => list.iter().map(|o| Origin::parse(o).map(|o| o.as_str().to_string())).collect::<Result<Vec<_>, _>>()?,
        None => base.settings.allowed_origins,
    };
    let settings = BotSettings {
        human_escalation: s.human_escalation.unwrap_or(base.settings.human_escalation),
        human_only: s.human_only.unwrap_or(base.settings.human_only),
        show_agent_availability: s.show_agent_availability.unwrap_or(base.settings.show_agent_availability),
        auto_escalate_unanswered: s.auto_escalate_unanswered.unwrap_or(base.settings.auto_escalate_unanswered),
        allowed_origins,
        widget: merge_widget(base.settings.widget, b.widget)?,
    };
    let knowledge = match b.knowledge {
        Some(entries) => {
            if entries.len() > MAX_ENTRIES {
                return Err(ApiError::invalid("knowledge", format!("at most {MAX_ENTRIES} entries")));
            }
            entries
                .into_iter()
                .enumerate()
                .map(|(i, e)| {
                    let (q, a) = (e.question.trim().to_string(), e.answer.trim().to_string());
                    if q.is_empty() || q.chars().count() > MAX_QUESTION {
                        return Err(ApiError::invalid("knowledge", format!("entry {i}: question must be 1-{MAX_QUESTION} characters")));
                    }
                    if a.is_empty() || a.chars().count() > MAX_ANSWER {
                        return Err(ApiError::invalid("knowledge", format!("entry {i}: answer must be 1-{MAX_ANSWER} characters")));
                    }
                    Ok(Entry { question: q, answer: a })
                })
                .collect::<ApiResult<Vec<_>>>()?
        }
        None => base.knowledge,
    };
    let responder = match b.responder {
        None => base.responder,
        Some(ResponderBody::Knowledge) => Responder::Knowledge,
        Some(ResponderBody::Webhook { url, secret }) => {
            let u = url.trim();
            let parsed = reqwest::Url::parse(u).ok().filter(|p| matches!(p.scheme(), "http" | "https") && u.len() <= 2000);
            let Some(parsed) = parsed else { return Err(ApiError::invalid("responder.url", "must be an http(s) URL")) };
            if !allow_private {
                if let Some(why) = crate::services::outbound::refuse_url(&parsed) {
                    return Err(ApiError::invalid(
                        "responder.url",
                        format!("{why}; webhooks must be public addresses unless Baton runs with --allow-private-webhooks"),
                    ));
                }
            }
            let secret = match (secret, &base.responder) {
                (Some(s), _) if s.len() > 200 => {
                    return Err(ApiError::invalid("responder.secret", "must be at most 200 characters"));
                }
                (Some(s), _) => Some(s).filter(|s| !s.is_empty()),
                // Keep the stored secret when a PATCH does not resend it.
                (None, Responder::Webhook { secret, .. }) => secret.clone(),
                (None, Responder::Knowledge) => None,
            };
            Responder::Webhook { url: u.to_string(), secret }
        }
    };
    Ok(BotInput { name, greeting, settings, responder, knowledge })
}

fn defaults() -> BotInput {
    BotInput {
        name: String::new(),
        greeting: String::new(),
        settings: BotSettings {
            human_escalation: true,
            human_only: false,
            show_agent_availability: false,
            auto_escalate_unanswered: false,
            allowed_origins: vec![],
            widget: WidgetSettings::default(),
        },
        responder: Responder::Knowledge,
        knowledge: vec![],
    }
}

/// A new bot (owners/admins).
#[utoipa::path(post, path = "/api/teams/{team}/bots", tag = "bots", params(("team" = String, Path)), request_body = BotBody,
    responses((status = 201, body = views::BotView), (status = 400, response = Error), (status = 401, response = Error), (status = 403, response = Error), (status = 404, response = Error)))]
async fn create_bot(
    State(state): State<AppState>,
    agent: Agent,
    AppPath(team): AppPath<String>,
    AppJson(b): AppJson<BotBody>,
) -> ApiResult<(StatusCode, Json<views::BotView>)> {
    let team = TeamId::parse(&team).ok_or(ApiError::NotFound)?;
    agent.admin_of(&state, &team).await?;
    if b.name.is_none() {
        return Err(ApiError::invalid("name", "is required"));
    }
    let input = merge(defaults(), b, state.settings.allow_private_webhooks)?;
    let bot = crate::services::bots::create(&state, &team, input, &agent.actor()).await?;
    Ok((StatusCode::CREATED, Json(views::bot(&bot))))
}

/// The team's bots the caller reaches.
#[utoipa::path(get, path = "/api/teams/{team}/bots", tag = "bots", params(("team" = String, Path)),
    responses((status = 200, body = Vec<views::BotView>), (status = 401, response = Error), (status = 404, response = Error)))]
async fn list_bots(State(state): State<AppState>, agent: Agent, AppPath(team): AppPath<String>) -> ApiResult<Json<Vec<views::BotView>>> {
    let team = TeamId::parse(&team).ok_or(ApiError::NotFound)?;
    let m = agent.member_of(&state, &team).await?;
    let bots = state.store.bots(&team, &m.bot_access).await?;
    Ok(Json(bots.iter().map(views::bot).collect()))
}

/// The bot, if the caller is a member of its team with access to it (404 otherwise).
async fn visible_bot(state: &AppState, agent: &Agent, raw: &str) -> ApiResult<(Bot, crate::store::Membership)> {
    let id = BotId::parse(raw).ok_or(ApiError::NotFound)?;
    let bot = state.store.bot(&id).await?.ok_or(ApiError::NotFound)?;
    let m = agent.member_of(state, &bot.team_id).await?;
    if !m.bot_access.reaches(&bot.id) {
        return Err(ApiError::NotFound);
    }
    Ok((bot, m))
}

/// One bot, with its knowledge base.
#[utoipa::path(get, path = "/api/bots/{bot}", tag = "bots", params(("bot" = String, Path)),
    responses((status = 200, body = views::BotView), (status = 401, response = Error), (status = 404, response = Error)))]
async fn get_bot(State(state): State<AppState>, agent: Agent, AppPath(bot): AppPath<String>) -> ApiResult<Json<views::BotView>> {
    let (bot, _) = visible_bot(&state, &agent, &bot).await?;
    Ok(Json(views::bot(&bot)))
}

/// Changes a bot (owners/admins); fields left out stay, a `knowledge` list replaces the old one.
#[utoipa::path(patch, path = "/api/bots/{bot}", tag = "bots", params(("bot" = String, Path)), request_body = BotBody,
    responses((status = 200, body = views::BotView), (status = 400, response = Error), (status = 401, response = Error), (status = 403, response = Error), (status = 404, response = Error)))]
async fn update_bot(
    State(state): State<AppState>,
    agent: Agent,
    AppPath(bot): AppPath<String>,
    AppJson(b): AppJson<BotBody>,
) -> ApiResult<Json<views::BotView>> {
    let (bot, m) = visible_bot(&state, &agent, &bot).await?;
    if !m.role.is_admin() {
        return Err(ApiError::Forbidden("only owners and admins can change bots"));
    }
    let base = BotInput {
        name: bot.name.clone(),
        greeting: bot.greeting.clone(),
        settings: bot.settings.clone(),
        responder: bot.responder.clone(),
        knowledge: bot.knowledge.clone(),
    };
    let input = merge(base, b, state.settings.allow_private_webhooks)?;
    let updated = crate::services::bots::update(&state, &bot, input, &agent.actor()).await?;
    Ok(Json(views::bot(&updated)))
}

/// Deletes a bot with its conversations (owners/admins).
#[utoipa::path(delete, path = "/api/bots/{bot}", tag = "bots", params(("bot" = String, Path)),
    responses((status = 204), (status = 401, response = Error), (status = 403, response = Error), (status = 404, response = Error)))]
async fn delete_bot(State(state): State<AppState>, agent: Agent, AppPath(bot): AppPath<String>) -> ApiResult<StatusCode> {
    let (bot, m) = visible_bot(&state, &agent, &bot).await?;
    if !m.role.is_admin() {
        return Err(ApiError::Forbidden("only owners and admins can delete bots"));
    }
    crate::services::bots::delete(&state, &bot, &agent.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Serialize, ToSchema)]
struct LogoUploaded {
    logo_url: Option<String>,
}

/// The bot's logo, shown in the widget's header (owners/admins): the raw image as the body (PNG,
/// JPEG, WebP or GIF, at most 2 MiB), stored re-encoded as PNG.
#[utoipa::path(put, path = "/api/bots/{bot}/logo", tag = "bots", params(("bot" = String, Path)),
    request_body(content = Vec<u8>, content_type = "image/*", description = "PNG, JPEG, WebP or GIF, at most 2 MiB"),
    responses((status = 200, body = LogoUploaded), (status = 400, response = Error), (status = 401, response = Error), (status = 403, response = Error), (status = 404, response = Error), (status = 413, response = Error)))]
async fn upload_logo(
    State(state): State<AppState>,
    agent: Agent,
    AppPath(bot): AppPath<String>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Json<LogoUploaded>> {
    let body = body.map_err(body_rejection)?;
    let (bot, m) = visible_bot(&state, &agent, &bot).await?;
    if !m.role.is_admin() {
        return Err(ApiError::Forbidden("only owners and admins can change bots"));
    }
    if body.is_empty() {
        return Err(ApiError::invalid("body", "send the image bytes as the request body"));
    }
    let png = tokio::task::spawn_blocking(move || super::accounts::normalise_avatar(&body))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::invalid("body", e))?;
    crate::services::bots::set_logo(&state, &bot, png, &agent.actor()).await?;
    let bot = state.store.bot(&bot.id).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(LogoUploaded { logo_url: bot.logo_url() }))
}

/// Removes the bot's logo (owners/admins).
#[utoipa::path(delete, path = "/api/bots/{bot}/logo", tag = "bots", params(("bot" = String, Path)),
    responses((status = 204), (status = 401, response = Error), (status = 403, response = Error), (status = 404, response = Error)))]
async fn delete_logo(State(state): State<AppState>, agent: Agent, AppPath(bot): AppPath<String>) -> ApiResult<StatusCode> {
    let (bot, m) = visible_bot(&state, &agent, &bot).await?;
    if !m.role.is_admin() {
        return Err(ApiError::Forbidden("only owners and admins can change bots"));
    }
    crate::services::bots::delete_logo(&state, &bot, &agent.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}
