//! Reports: the store adds up, the domain folds and averages (see [`crate::domain::report`]).

use super::AppState;
use crate::domain::ids::{BotId, TeamId, UserId};
use crate::domain::report::{Range, Report, assemble};
use crate::store::{ReportConversation, Result};

/// Conversations one CSV export lists at most.
pub const CSV_ROWS: i64 = 100_000;

pub async fn report(state: &AppState, team: &TeamId, range: &Range, bot: Option<&BotId>, agent: Option<&UserId>) -> Result<Report> {
    let rows = state.store.report(team, range, bot, agent).await?;
    Ok(assemble(range, &rows.groups, &rows.bot_only))
}

pub async fn conversations(
    state: &AppState,
    team: &TeamId,
    range: &Range,
    bot: Option<&BotId>,
    agent: Option<&UserId>,
) -> Result<Vec<ReportConversation>> {
    state.store.report_conversations(team, range, bot, agent, CSV_ROWS).await
}
