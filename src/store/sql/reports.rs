//! Reports: the quarter-hour tallies of a range (`report_tallies`, kept by the database's own
//! triggers as conversations change; see migration 0018), added up per local day, bot and agent;
//! and, for the CSV, the conversations themselves. See [`crate::domain::report`] for what is
//! measured.
//!
//! The tallies are read as a scan ([`crate::store::db::Conn::scan`]): each row is added where
//! it lies, ids copied once per distinct id.

/// Keyed by short ids and small integers many times per row: a fast hash (the keys are
/// the store's own, not chosen by a client).
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

use super::columns::TextColumn;
use crate::domain::ids::{BotId, UserId};
use crate::domain::report::{Group, Range, Tally};
use crate::store::db::RowRef;
use crate::store::{Result, StoreError};

/// The tallies of a range, in this column order. Rows left at zero (every chat in them moved
/// to another agent, or was deleted) are skipped; `agent_id` is '' for chats no agent had, and
/// only those rows hold the bot's own chats, so asking for one agent (`$5`) leaves them out.
pub(super) const TALLIES: &str = "SELECT t.bucket, t.bot_id, t.agent_id, t.conversations, t.claimed, t.claim_ms, t.answered, t.response_ms,
            t.resolved, t.resolution_ms, t.abandoned, t.unanswered, t.waiting, t.rated, t.satisfied, t.star_ratings, t.star_sum, t.bot_only
     FROM report_tallies t
     WHERE t.team_id = $1 AND t.bucket >= $2 AND t.bucket < $3
       AND ($4 IS NULL OR t.bot_id = $4) AND ($5 IS NULL OR t.agent_id = $5)
       AND (t.conversations <> 0 OR t.bot_only <> 0)";

/// Distinct ids of one column, each numbered the first time it is seen.
#[derive(Default)]
struct Seen(HashMap<Box<str>, u32>);

impl Seen {
    fn number(&mut self, id: &str) -> u32 {
        if let Some(n) = self.0.get(id) {
            return *n;
        }
        let n = self.0.len() as u32;
        self.0.insert(id.into(), n);
        n
    }

    /// The ids by number, each parsed (one that does not parse fails the report).
    fn ids<T: TextColumn>(self) -> Result<Vec<T>> {
        let mut out: Vec<(u32, T)> = Vec::with_capacity(self.0.len());
        for (text, n) in self.0 {
            let id = T::from_text(&text).ok_or_else(|| StoreError::Corrupt(format!("not a valid {}: {text:?}", T::WHAT)))?;
            out.push((n, id));
        }
        out.sort_unstable_by_key(|(n, _)| *n);
        Ok(out.into_iter().map(|(_, id)| id).collect())
    }
}

/// The sums of one report, filled row by row.
pub(super) struct Sums<'r> {
    range: &'r Range,
    bots: Seen,
    agents: Seen,
    /// (local day, bot, agent + 1 or 0 for none).
    chats: HashMap<(i64, u32, u32), Tally>,
    /// (local day, bot).
    bot_only: HashMap<(i64, u32), i64>,
}

fn missing(column: &str) -> StoreError {
    StoreError::Corrupt(format!("{column} is missing from a report row"))
}

impl<'r> Sums<'r> {
    pub(super) fn new(range: &'r Range) -> Self {
        Self { range, bots: Seen::default(), agents: Seen::default(), chats: HashMap::default(), bot_only: HashMap::default() }
    }

    /// Adds one row of [`TALLIES`] in, on the local day its quarter hour falls on.
    pub(super) fn tally(&mut self, r: &dyn RowRef) -> Result<()> {
        let n = |i: usize, name: &str| r.int(i)?.ok_or_else(|| missing(name));
        let day = self.range.day_of(n(0, "bucket")?);
        let bot = self.bots.number(r.text(1)?.ok_or_else(|| missing("bot_id"))?);
        let agent = match r.text(2)?.ok_or_else(|| missing("agent_id"))? {
            "" => 0,
            a => self.agents.number(a) + 1,
        };
        let tally = Tally {
            conversations: n(3, "conversations")?,
            claimed: n(4, "claimed")?,
            claim_ms: n(5, "claim_ms")?,
            answered: n(6, "answered")?,
            response_ms: n(7, "response_ms")?,
            resolved: n(8, "resolved")?,
            resolution_ms: n(9, "resolution_ms")?,
            abandoned: n(10, "abandoned")?,
            unanswered: n(11, "unanswered")?,
            waiting: n(12, "waiting")?,
            rated: n(13, "rated")?,
            satisfied: n(14, "satisfied")?,
            star_ratings: n(15, "star_ratings")?,
            star_sum: n(16, "star_sum")?,
        };
        if tally.conversations != 0 {
            self.chats.entry((day, bot, agent)).or_default().add(&tally);
        }
        let only = n(17, "bot_only")?;
        if only != 0 {
            *self.bot_only.entry((day, bot)).or_default() += only;
        }
        Ok(())
    }

    /// The groups and bot-only counts, with their ids.
    pub(super) fn finish(self) -> Result<(Vec<Group>, Vec<(i64, BotId, i64)>)> {
        let bots: Vec<BotId> = self.bots.ids()?;
        let agents: Vec<UserId> = self.agents.ids()?;
        let groups = self
            .chats
            .into_iter()
            .map(|((day, bot, agent), tally)| Group {
                day,
                bot: bots[bot as usize].clone(),
                agent: agent.checked_sub(1).map(|a| agents[a as usize].clone()),
                tally,
            })
            .collect();
        let bot_only = self.bot_only.into_iter().map(|((day, bot), n)| (day, bots[bot as usize].clone(), n)).collect();
        Ok((groups, bot_only))
    }
}

macro_rules! report_store {
    ($Store:ty, $Db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::ReportStore for $Store {
            async fn report(&self, team: &TeamId, range: &$crate::domain::report::Range, bot: Option<&BotId>, agent: Option<&UserId>) -> $crate::store::Result<ReportRows> {
                let team = team.clone();
                let range = range.clone();
                let bot = bot.cloned();
                let agent = agent.cloned();
                run!(self.read, |c| {
                    use $crate::store::sql::reports::{Sums, TALLIES};
                    let mut sums = Sums::new(&range);
                    $crate::store::db::scan(TALLIES)
                        .bind(&team)
                        .bind(range.start_ms)
                        .bind(range.end_ms)
                        .bind(&bot)
                        .bind(&agent)
                        .each(&mut *c, |r| sums.tally(r))
                        .await?;
                    let (groups, bot_only) = sums.finish()?;
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
