//! Reports for a team's owners and admins: JSON for the Reports page, CSV for spreadsheets.

use std::collections::HashMap;
use std::fmt::Write as _;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::{Agent, AppPath, AppQuery};
use super::openapi::Error;
use crate::domain::ids::{BotId, TeamId, UserId};
use crate::domain::report::{Range, Tally};
use crate::services::{AppState, reports};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(report)).routes(routes!(report_csv))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ReportQuery {
    /// First day, `YYYY-MM-DD` (default: 29 days before `to`).
    from: Option<String>,
    /// Last day, included (default: today in `tz`). At most 366 days in all.
    to: Option<String>,
    /// IANA time zone the days are counted in (default `UTC`).
    tz: Option<String>,
    /// Only this bot's conversations.
    bot_id: Option<String>,
    /// Only conversations this agent had last.
    agent_id: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct CsvQuery {
    from: Option<String>,
    to: Option<String>,
    tz: Option<String>,
    bot_id: Option<String>,
    agent_id: Option<String>,
    /// One row per `day` (default), `bot`, `agent`, or `conversation` (at most 100,000).
    group: Option<String>,
}

struct Filter {
    range: Range,
    bot: Option<BotId>,
    agent: Option<UserId>,
}

fn filter(state: &AppState, from: Option<&str>, to: Option<&str>, tz: Option<&str>, bot: Option<&str>, agent: Option<&str>) -> ApiResult<Filter> {
    let tz = tz.filter(|s| !s.is_empty()).unwrap_or("UTC");
    if tz.len() > 64 {
        return Err(ApiError::invalid("tz", "is not a time zone"));
    }
    let zone = jiff::tz::TimeZone::get(tz).map_err(|_| ApiError::invalid("tz", format!("{tz:?} is not a time zone (e.g. Europe/Berlin or UTC)")))?;
    let date = |field: &str, raw: &str| -> ApiResult<jiff::civil::Date> {
        raw.parse().map_err(|_| ApiError::invalid(field, "must be a date as YYYY-MM-DD"))
    };
    let today = jiff::Timestamp::from_millisecond(state.now()).map_err(ApiError::internal)?.to_zoned_datetime(zone).date();
    let to = match to.filter(|s| !s.is_empty()) {
        Some(s) => date("to", s)?,
        None => today,
    };
    let from = match from.filter(|s| !s.is_empty()) {
        Some(s) => date("from", s)?,
        None => to.checked_sub(jiff::Span::new().days(29)).map_err(|_| ApiError::invalid("to", "is out of range"))?,
    };
    let range = Range::new(from, to, tz).map_err(|e| ApiError::invalid(if e.contains("time zone") { "tz" } else { "from" }, e))?;
    let bot = match bot.filter(|s| !s.is_empty()) {
        Some(b) => Some(BotId::parse(b).ok_or_else(|| ApiError::invalid("bot_id", "is not a bot id"))?),
        None => None,
    };
    let agent = match agent.filter(|s| !s.is_empty()) {
        Some(a) => Some(UserId::parse(a).ok_or_else(|| ApiError::invalid("agent_id", "is not a user id"))?),
        None => None,
    };
    Ok(Filter { range, bot, agent })
}

#[derive(Serialize, ToSchema)]
#[schema(as = ReportSummary)]
struct Summary {
    /// Conversations handed to the team.
    conversations: i64,
    /// Taken by an agent (claimed, or a transfer accepted).
    claimed: i64,
    /// Answered by an agent (a message to the visitor, not a note).
    answered: i64,
    resolved: i64,
    /// Still waiting for an agent now.
    waiting: i64,
    /// Ended without an agent answering: `abandoned` + `unanswered`.
    missed: i64,
    /// Ended before any agent took it.
    abandoned: i64,
    /// Taken but ended without an answer.
    unanswered: i64,
    /// Seconds from the hand-off to the first agent taking it, on average.
    avg_time_to_claim_seconds: Option<f64>,
    /// Seconds from the hand-off to the first answer, on average.
    avg_first_response_seconds: Option<f64>,
    /// Seconds from the hand-off to the end, on average (resolved chats).
    avg_resolution_seconds: Option<f64>,
    ratings: i64,
    /// Satisfied ratings (4–5 stars, a thumb up) in percent.
    csat_percent: Option<f64>,
    /// The average of star ratings (1–5).
    avg_stars: Option<f64>,
}

fn summary(t: &Tally) -> Summary {
    Summary {
        conversations: t.conversations,
        claimed: t.claimed,
        answered: t.answered,
        resolved: t.resolved,
        waiting: t.waiting,
        missed: t.missed(),
        abandoned: t.abandoned,
        unanswered: t.unanswered,
        avg_time_to_claim_seconds: t.avg_time_to_claim_s(),
        avg_first_response_seconds: t.avg_first_response_s(),
        avg_resolution_seconds: t.avg_resolution_s(),
        ratings: t.rated,
        csat_percent: t.csat_percent(),
        avg_stars: t.avg_stars(),
    }
}

#[derive(Serialize, ToSchema)]
struct RangeView {
    from: String,
    to: String,
    tz: String,
}

#[derive(Serialize, ToSchema)]
struct DayRow {
    date: String,
    /// Conversations the bot handled alone that day.
    bot_only: i64,
    #[serde(flatten)]
    summary: Summary,
}

#[derive(Serialize, ToSchema)]
struct Named {
    id: Option<String>,
    name: String,
}

#[derive(Serialize, ToSchema)]
struct BotRow {
    bot: Named,
    bot_only: i64,
    #[serde(flatten)]
    summary: Summary,
}

#[derive(Serialize, ToSchema)]
struct AgentRow {
    /// `id` is null for chats no agent took.
    agent: Named,
    #[serde(flatten)]
    summary: Summary,
}

#[derive(Serialize, ToSchema)]
#[schema(as = Report)]
struct ReportView {
    range: RangeView,
    totals: Summary,
    /// Conversations the bot handled alone.
    bot_only: i64,
    /// Every day of the range, oldest first.
    days: Vec<DayRow>,
    /// By bot, busiest first.
    bots: Vec<BotRow>,
    /// By the agent each chat was with last, busiest first.
    agents: Vec<AgentRow>,
}

async fn names(state: &AppState, team: &TeamId) -> ApiResult<(HashMap<BotId, String>, HashMap<UserId, String>)> {
    let bots = state.store.bots(team, &crate::domain::team::BotAccess::All).await?.into_iter().map(|b| (b.id, b.name)).collect();
    let members = state.store.members(team).await?.into_iter().map(|m| (m.user.id.clone(), m.user.display_name())).collect();
    Ok((bots, members))
}

fn bot_name(names: &HashMap<BotId, String>, id: &BotId) -> String {
    names.get(id).cloned().unwrap_or_else(|| "Deleted bot".into())
}

fn agent_name(names: &HashMap<UserId, String>, id: &Option<UserId>) -> String {
    match id {
        None => "No agent".into(),
        Some(u) => names.get(u).cloned().unwrap_or_else(|| "Former member".into()),
    }
}

/// Time to claim, first response and resolution times, chats per day, bot and agent, CSAT and
/// missed chats, for a range of days in a time zone (owners and admins).
#[utoipa::path(get, path = "/api/teams/{team}/reports", tag = "reports", params(("team" = String, Path), ReportQuery),
    responses((status = 200, body = ReportView), (status = 400, response = Error), (status = 401, response = Error), (status = 403, response = Error), (status = 404, response = Error)))]
async fn report(
    State(state): State<AppState>,
    agent: Agent,
    AppPath(team): AppPath<String>,
    AppQuery(q): AppQuery<ReportQuery>,
) -> ApiResult<Json<ReportView>> {
    let team = TeamId::parse(&team).ok_or(ApiError::NotFound)?;
    agent.admin_of(&state, &team).await?;
    let f = filter(&state, q.from.as_deref(), q.to.as_deref(), q.tz.as_deref(), q.bot_id.as_deref(), q.agent_id.as_deref())?;
    let r = reports::report(&state, &team, &f.range, f.bot.as_ref(), f.agent.as_ref()).await?;
    let (bots, members) = names(&state, &team).await?;
    Ok(Json(ReportView {
        range: RangeView { from: f.range.from.to_string(), to: f.range.to.to_string(), tz: f.range.tz_name.clone() },
        totals: summary(&r.total),
        bot_only: r.bot_only,
        days: r.days.iter().map(|(d, t, only)| DayRow { date: d.to_string(), bot_only: *only, summary: summary(t) }).collect(),
        bots: r
            .bots
            .iter()
            .map(|(b, t, only)| BotRow { bot: Named { id: Some(b.to_string()), name: bot_name(&bots, b) }, bot_only: *only, summary: summary(t) })
            .collect(),
        agents: r
            .agents
            .iter()
            .map(|(a, t)| AgentRow { agent: Named { id: a.as_ref().map(ToString::to_string), name: agent_name(&members, a) }, summary: summary(t) })
            .collect(),
    }))
}

/// A CSV field: quoted when it needs to be, and never read as a formula by a spreadsheet.
fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

const SUMMARY_HEAD: &str = "conversations,claimed,answered,resolved,waiting,missed,abandoned,unanswered,avg_time_to_claim_seconds,avg_first_response_seconds,avg_resolution_seconds,ratings,csat_percent,avg_stars";

fn summary_cells(t: &Tally) -> String {
    let s = summary(t);
    [
        s.conversations.to_string(),
        s.claimed.to_string(),
        s.answered.to_string(),
        s.resolved.to_string(),
        s.waiting.to_string(),
        s.missed.to_string(),
        s.abandoned.to_string(),
        s.unanswered.to_string(),
        opt(s.avg_time_to_claim_seconds),
        opt(s.avg_first_response_seconds),
        opt(s.avg_resolution_seconds),
        s.ratings.to_string(),
        opt(s.csat_percent),
        opt(s.avg_stars),
    ]
    .join(",")
}

/// The report as CSV: one row per day, bot, agent, or conversation.
#[utoipa::path(get, path = "/api/teams/{team}/reports/csv", tag = "reports", params(("team" = String, Path), CsvQuery),
    responses((status = 200, description = "CSV with a header row", content_type = "text/csv"), (status = 400, response = Error), (status = 401, response = Error), (status = 403, response = Error), (status = 404, response = Error)))]
async fn report_csv(
    State(state): State<AppState>,
    agent: Agent,
    AppPath(team): AppPath<String>,
    AppQuery(q): AppQuery<CsvQuery>,
) -> ApiResult<Response> {
    let team = TeamId::parse(&team).ok_or(ApiError::NotFound)?;
    agent.admin_of(&state, &team).await?;
    let f = filter(&state, q.from.as_deref(), q.to.as_deref(), q.tz.as_deref(), q.bot_id.as_deref(), q.agent_id.as_deref())?;
    let group = q.group.as_deref().filter(|s| !s.is_empty()).unwrap_or("day");
    let (bots, members) = names(&state, &team).await?;
    let mut out = String::new();
    match group {
        "day" | "bot" | "agent" => {
            let r = reports::report(&state, &team, &f.range, f.bot.as_ref(), f.agent.as_ref()).await?;
            match group {
                "day" => {
                    let _ = writeln!(out, "date,bot_only,{SUMMARY_HEAD}");
                    for (d, t, only) in &r.days {
                        let _ = writeln!(out, "{d},{only},{}", summary_cells(t));
                    }
                }
                "bot" => {
                    let _ = writeln!(out, "bot_id,bot,bot_only,{SUMMARY_HEAD}");
                    for (b, t, only) in &r.bots {
                        let _ = writeln!(out, "{b},{},{only},{}", field(&bot_name(&bots, b)), summary_cells(t));
                    }
                }
                _ => {
                    let _ = writeln!(out, "agent_id,agent,{SUMMARY_HEAD}");
                    for (a, t) in &r.agents {
                        let _ = writeln!(out, "{},{},{}", opt(a.as_ref()), field(&agent_name(&members, a)), summary_cells(t));
                    }
                }
            }
        }
        "conversation" => {
            let rows = reports::conversations(&state, &team, &f.range, f.bot.as_ref(), f.agent.as_ref()).await?;
            let _ = writeln!(
                out,
                "conversation_id,bot,agent,state,escalated_at,claimed_at,first_response_at,resolved_at,time_to_claim_seconds,first_response_seconds,resolution_seconds,missed,rating,rating_scale"
            );
            let secs = |a: Option<i64>, b: i64| a.map(|a| format!("{:.1}", (a - b) as f64 / 1000.0)).unwrap_or_default();
            for c in rows {
                let missed = c.state == crate::domain::chat::ChatState::Resolved && c.first_response_at.is_none();
                let _ = writeln!(
                    out,
                    "{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                    c.id,
                    field(&bot_name(&bots, &c.bot_id)),
                    field(&if c.assignee_id.is_some() { agent_name(&members, &c.assignee_id) } else { String::new() }),
                    c.state.as_str(),
                    crate::views::time(c.escalated_at),
                    opt(c.claimed_at.map(crate::views::time)),
                    opt(c.first_response_at.map(crate::views::time)),
                    opt(c.resolved_at.map(crate::views::time)),
                    secs(c.claimed_at, c.escalated_at),
                    secs(c.first_response_at, c.escalated_at),
                    secs(c.resolved_at, c.escalated_at),
                    missed,
                    opt(c.rating.as_ref().map(|r| r.0)),
                    opt(c.rating.as_ref().map(|r| r.1.clone())),
                );
            }
        }
        _ => return Err(ApiError::invalid("group", "must be day, bot, agent or conversation")),
    }
    let name = format!("attachment; filename=\"baton-report-{group}-{}-{}.csv\"", f.range.from, f.range.to);
    let mut res = ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response();
    res.headers_mut().insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&name).map_err(ApiError::internal)?);
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}
