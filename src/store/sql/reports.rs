//! Reports: conversations that reached the team, added up per local day, bot and agent in one
//! pass over the range (`conversations_reports` index), and the bot's own conversations per day
//! and bot (`conversations_bot_only`). See [`crate::domain::report`] for what is measured.

/// The local day of `$col` (0 = the range's first), given the zone's first offset (`$4`) and up
/// to three later changes (`$5`/`$6`, `$7`/`$8`, `$9`/`$10`), from the first midnight `$11`.
macro_rules! local_day {
    ($col:literal) => {
        concat!(
            "((",
            $col,
            " + CASE WHEN ",
            $col,
            " >= $9 THEN $10 WHEN ",
            $col,
            " >= $7 THEN $8 WHEN ",
            $col,
            " >= $5 THEN $6 ELSE $4 END - $11) / 86400000)"
        )
    };
}

macro_rules! report_store {
    ($Store:ty, $Db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::ReportStore for $Store {
            async fn report(&self, team: &TeamId, range: &$crate::domain::report::Range, bot: Option<&BotId>, agent: Option<&UserId>) -> $crate::store::Result<ReportRows> {
                let team = team.clone();
                let range = range.clone();
                let (first, rest) = range.segments(3);
                let (start, end) = (range.start_ms, range.end_ms);
                // Local midnight of the first day, on the local clock.
                let origin = range.local_origin;
                let bot = bot.cloned();
                let agent = agent.cloned();
                run!(self.read, |c| {
                    row! {
                    struct ChatRow {
                        escalated_at: i64,
                        bot_id: BotId,
                        assignee_id: Option<UserId>,
                        state: ChatState,
                        claimed_at: Option<i64>,
                        first_response_at: Option<i64>,
                        resolved_at: Option<i64>,
                        rating_score: Option<i64>,
                        rating_scale: Option<String>,
                    }
                    }
                    // One pass over the covering index; added up here rather than by a GROUP BY,
                    // which would sort every row of the range first.
                    let rows: Vec<ChatRow> = query_as(
                        "SELECT c.escalated_at, c.bot_id, c.assignee_id, c.state, c.claimed_at, c.first_response_at, c.resolved_at, c.rating_score, c.rating_scale
                         FROM conversations c
                         WHERE c.team_id = $1 AND c.escalated_at IS NOT NULL AND c.escalated_at >= $2 AND c.escalated_at < $3
                           AND ($4 IS NULL OR c.bot_id = $4) AND ($5 IS NULL OR c.assignee_id = $5)",
                    )
                    .bind(&team)
                    .bind(start)
                    .bind(end)
                    .bind(&bot)
                    .bind(&agent)
                    .fetch_all(&mut *c)
                    .await?;
                    let mut by: std::collections::HashMap<(i64, BotId, Option<UserId>), $crate::domain::report::Tally> = std::collections::HashMap::new();
                    for r in rows {
                        let fact = $crate::domain::report::Chat {
                            escalated_at: r.escalated_at,
                            state: r.state,
                            claimed_at: r.claimed_at,
                            first_response_at: r.first_response_at,
                            resolved_at: r.resolved_at,
                            rating: r.rating_score.map(|s| (s, r.rating_scale.as_deref() == Some("stars"))),
                        };
                        by.entry((range.day_of(r.escalated_at), r.bot_id, r.assignee_id)).or_default().count(&fact);
                    }
                    let groups = by.into_iter().map(|((day, bot, agent), tally)| $crate::domain::report::Group { day, bot, agent, tally }).collect();
                    // The bot's own: not per agent, so none when one agent is asked for.
                    let bot_only: Vec<(i64, BotId, i64)> = if agent.is_some() {
                        Vec::new()
                    } else {
                        query_as(concat!(
                            "SELECT ",
                            local_day!("c.created_at"),
                            " AS day, c.bot_id, COUNT(*) AS n FROM conversations c
                             WHERE c.team_id = $1 AND c.escalated_at IS NULL AND c.created_at >= $2 AND c.created_at < $3 AND ($12 IS NULL OR c.bot_id = $12)
                               AND $13 IS NULL
                             GROUP BY 1, c.bot_id"
                        ))
                        .bind(&team)
                        .bind(start)
                        .bind(end)
                        .bind(first)
                        .bind(rest[0].0)
                        .bind(rest[0].1)
                        .bind(rest[1].0)
                        .bind(rest[1].1)
                        .bind(rest[2].0)
                        .bind(rest[2].1)
                        .bind(origin)
                        .bind(&bot)
                        .bind(&agent)
                        .fetch_all(&mut *c)
                        .await?
                    };
                    Ok(ReportRows { groups, bot_only })
                })
            }

            async fn report_conversations(
                &self,
                team: &TeamId,
                range: &$crate::domain::report::Range,
                bot: Option<&BotId>,
                agent: Option<&UserId>,
                limit: i64,
            ) -> $crate::store::Result<Vec<ReportConversation>> {
                let team = team.clone();
                let (start, end) = (range.start_ms, range.end_ms);
                let bot = bot.cloned();
                let agent = agent.cloned();
                run!(self.read, |c| {
                    row! {
                    struct Row {
                        id: ConversationId,
                        bot_id: BotId,
                        assignee_id: Option<UserId>,
                        state: ChatState,
                        escalated_at: i64,
                        claimed_at: Option<i64>,
                        first_response_at: Option<i64>,
                        resolved_at: Option<i64>,
                        score: Option<i64>,
                        scale: Option<String>,
                    }
                    }
                    let rows: Vec<Row> = query_as(
                        "SELECT c.id, c.bot_id, c.assignee_id, c.state, c.escalated_at, c.claimed_at, c.first_response_at, c.resolved_at, r.score, r.scale
                         FROM conversations c LEFT JOIN ratings r ON r.conversation_id = c.id
                         WHERE c.team_id = $1 AND c.escalated_at IS NOT NULL AND c.escalated_at >= $2 AND c.escalated_at < $3
                           AND ($4 IS NULL OR c.bot_id = $4) AND ($5 IS NULL OR c.assignee_id = $5)
                         ORDER BY c.escalated_at, c.id LIMIT $6",
                    )
                    .bind(&team)
                    .bind(start)
                    .bind(end)
                    .bind(&bot)
                    .bind(&agent)
                    .bind(limit)
                    .fetch_all(&mut *c)
                    .await?;
                    Ok(rows
                        .into_iter()
                        .map(|r| ReportConversation {
                            id: r.id,
                            bot_id: r.bot_id,
                            assignee_id: r.assignee_id,
                            state: r.state,
                            escalated_at: r.escalated_at,
                            claimed_at: r.claimed_at,
                            first_response_at: r.first_response_at,
                            resolved_at: if r.state == ChatState::Resolved { r.resolved_at } else { None },
                            rating: r.score.map(|s| (s, r.scale.unwrap_or_default())),
                        })
                        .collect())
                })
            }
        }
    };
}
