//! Reports, the pure part: the local days a date range covers in a time zone (summer time
//! included), the counts and sums the store adds up per day, bot and agent ([`Tally`]), and how
//! they become averages, rates and per-day series.
//!
//! What is measured, for conversations that reached the team (escalated) in the range:
//! - time to claim: from the hand-off to the first agent taking it (claim or accepted transfer);
//! - first response: from the hand-off to the first agent message to the visitor (not a note);
//! - resolution: from the hand-off to its end, for resolved chats;
//! - missed: ended without any agent answering — *abandoned* (never taken) or *unanswered*
//!   (taken, never answered);
//! - CSAT: the share of ratings that were satisfied (4–5 stars, or a thumb up), and the average
//!   of star ratings.

use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::domain::ids::{BotId, UserId};

/// The longest range a report covers.
pub const MAX_DAYS: i64 = 366;
const DAY_MS: i64 = 86_400_000;

/// A range of whole local days `[from, to]` in a time zone, as instants, with where the zone's
/// offset changes inside it (so a chat at 00:30 local time after the clocks changed still counts
/// on its own day).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    pub from: Date,
    pub to: Date,
    pub tz_name: String,
    /// The first local day's midnight, as an instant (ms).
    pub start_ms: i64,
    /// The midnight after the last local day, as an instant (ms).
    pub end_ms: i64,
    /// The zone's offset (ms) from `start_ms` on, then from each later instant on.
    pub offsets: Vec<(i64, i64)>,
    /// The first day's midnight on the local clock, as ms since 1970-01-01 00:00 local: where
    /// local day 0 starts (also where a zone's clocks jump over midnight itself).
    pub local_origin: i64,
}

impl Range {
    /// Every local day from `from` to `to` (both included) in the IANA zone `tz`.
    pub fn new(from: Date, to: Date, tz: &str) -> Result<Self, String> {
        let zone = TimeZone::get(tz).map_err(|_| format!("{tz:?} is not a time zone (e.g. Europe/Berlin or UTC)"))?;
        if to < from {
            return Err("the range ends before it starts".into());
        }
        let span_days = from.until(to).map_err(|e| e.to_string())?.get_days() as i64;
        if span_days + 1 > MAX_DAYS {
            return Err(format!("a report covers at most {MAX_DAYS} days"));
        }
        let midnight =
            |d: Date| -> Result<i64, String> { Ok(d.to_zoned_datetime(zone.clone()).map_err(|e| e.to_string())?.timestamp().as_millisecond()) };
        let start_ms = midnight(from)?;
        let end_ms = midnight(to.tomorrow().map_err(|e| e.to_string())?)?;
        // The offset at each local midnight; a change between two midnights is found by the
        // zone's own transitions.
        let offset_at = |ms: i64| -> i64 {
            let ts = jiff::Timestamp::from_millisecond(ms).expect("in range");
            i64::from(zone.to_offset(ts).seconds()) * 1000
        };
        let mut offsets = vec![(start_ms, offset_at(start_ms))];
        let mut cursor = jiff::Timestamp::from_millisecond(start_ms).map_err(|e| e.to_string())?;
        while let Some(t) = zone.following(cursor).next() {
            let at = t.timestamp().as_millisecond();
            if at >= end_ms {
                break;
            }
            let off = i64::from(t.offset().seconds()) * 1000;
            if offsets.last().map(|(_, o)| *o) != Some(off) {
                offsets.push((at, off));
            }
            cursor = t.timestamp();
        }
        let local_origin = from.to_zoned_datetime(TimeZone::UTC).map_err(|e| e.to_string())?.timestamp().as_millisecond();
        Ok(Self { from, to, tz_name: tz.to_string(), start_ms, end_ms, offsets, local_origin })
    }

    /// How many local days the range covers.
    pub fn days(&self) -> i64 {
        self.from.until(self.to).map(|s| s.get_days() as i64).unwrap_or(0) + 1
    }

    /// The local day (0 = `from`) an instant falls on.
    pub fn day_of(&self, ms: i64) -> i64 {
        let off = self.offsets.iter().rev().find(|(at, _)| ms >= *at).map(|(_, o)| *o).unwrap_or(self.offsets[0].1);
        (ms + off - self.local_origin).div_euclid(DAY_MS)
    }

    /// The date of local day `i`.
    pub fn date(&self, i: i64) -> Date {
        self.from.checked_add(jiff::Span::new().days(i)).unwrap_or(self.to)
    }
}

/// Counts and sums over some conversations (ms for times).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub conversations: i64,
    pub claimed: i64,
    pub claim_ms: i64,
    pub answered: i64,
    pub response_ms: i64,
    pub resolved: i64,
    pub resolution_ms: i64,
    pub abandoned: i64,
    pub unanswered: i64,
    pub waiting: i64,
    pub rated: i64,
    pub satisfied: i64,
    pub star_ratings: i64,
    pub star_sum: i64,
}

impl Tally {
    pub fn add(&mut self, o: &Tally) {
        self.conversations += o.conversations;
        self.claimed += o.claimed;
        self.claim_ms += o.claim_ms;
        self.answered += o.answered;
        self.response_ms += o.response_ms;
        self.resolved += o.resolved;
        self.resolution_ms += o.resolution_ms;
        self.abandoned += o.abandoned;
        self.unanswered += o.unanswered;
        self.waiting += o.waiting;
        self.rated += o.rated;
        self.satisfied += o.satisfied;
        self.star_ratings += o.star_ratings;
        self.star_sum += o.star_sum;
    }

    fn avg_seconds(sum_ms: i64, n: i64) -> Option<f64> {
        (n > 0).then(|| (sum_ms as f64 / n as f64 / 1000.0 * 10.0).round() / 10.0)
    }

    pub fn avg_time_to_claim_s(&self) -> Option<f64> {
        Self::avg_seconds(self.claim_ms, self.claimed)
    }
    pub fn avg_first_response_s(&self) -> Option<f64> {
        Self::avg_seconds(self.response_ms, self.answered)
    }
    pub fn avg_resolution_s(&self) -> Option<f64> {
        Self::avg_seconds(self.resolution_ms, self.resolved)
    }
    pub fn missed(&self) -> i64 {
        self.abandoned + self.unanswered
    }
    /// Satisfied ratings as a share of all, in percent (one decimal).
    pub fn csat_percent(&self) -> Option<f64> {
        (self.rated > 0).then(|| (self.satisfied as f64 * 1000.0 / self.rated as f64).round() / 10.0)
    }
    pub fn avg_stars(&self) -> Option<f64> {
        (self.star_ratings > 0).then(|| (self.star_sum as f64 * 100.0 / self.star_ratings as f64).round() / 100.0)
    }
}

/// What a report reads of one conversation that reached the team.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chat {
    pub escalated_at: i64,
    pub state: crate::domain::chat::ChatState,
    pub claimed_at: Option<i64>,
    pub first_response_at: Option<i64>,
    pub resolved_at: Option<i64>,
    /// (score, on the star scale).
    pub rating: Option<(i64, bool)>,
}

impl Tally {
    /// Counts one conversation in. The database's quarter-hour tallies (migration 0018) count
    /// each conversation the same way; the reports API test holds them to this.
    pub fn count(&mut self, c: &Chat) {
        use crate::domain::chat::ChatState;
        self.conversations += 1;
        if let Some(at) = c.claimed_at {
            self.claimed += 1;
            self.claim_ms += at - c.escalated_at;
        }
        if let Some(at) = c.first_response_at {
            self.answered += 1;
            self.response_ms += at - c.escalated_at;
        }
        match c.state {
            ChatState::Resolved => {
                self.resolved += 1;
                self.resolution_ms += c.resolved_at.map_or(0, |at| at - c.escalated_at);
                if c.first_response_at.is_none() {
                    if c.claimed_at.is_none() { self.abandoned += 1 } else { self.unanswered += 1 }
                }
            }
            ChatState::Pending => self.waiting += 1,
            _ => {}
        }
        if let Some((score, stars)) = c.rating {
            self.rated += 1;
            if score >= 4 {
                self.satisfied += 1;
            }
            if stars {
                self.star_ratings += 1;
                self.star_sum += score;
            }
        }
    }
}

/// One group the store added up: a local day, a bot and the agent it ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub day: i64,
    pub bot: BotId,
    pub agent: Option<UserId>,
    pub tally: Tally,
}

/// A report: the whole range, each day (every day, empty ones too), each bot, each agent.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    pub total: Tally,
    /// Conversations the bot handled alone (never handed to the team).
    pub bot_only: i64,
    pub days: Vec<(Date, Tally, i64)>,
    pub bots: Vec<(BotId, Tally, i64)>,
    /// `None`: chats no agent has had (last).
    pub agents: Vec<(Option<UserId>, Tally)>,
}

/// Folds the groups (and the bot-only counts per day and bot) into a report.
pub fn assemble(range: &Range, groups: &[Group], bot_only: &[(i64, BotId, i64)]) -> Report {
    let n = range.days().max(0) as usize;
    let mut days: Vec<(Date, Tally, i64)> = (0..n as i64).map(|i| (range.date(i), Tally::default(), 0)).collect();
    let mut bots: Vec<(BotId, Tally, i64)> = Vec::new();
    let mut agents: Vec<(Option<UserId>, Tally)> = Vec::new();
    let mut total = Tally::default();
    for g in groups {
        total.add(&g.tally);
        if let Some(d) = usize::try_from(g.day).ok().and_then(|i| days.get_mut(i)) {
            d.1.add(&g.tally);
        }
        match bots.iter_mut().find(|(b, _, _)| *b == g.bot) {
            Some(b) => b.1.add(&g.tally),
            None => bots.push((g.bot.clone(), g.tally, 0)),
        }
        match agents.iter_mut().find(|(a, _)| *a == g.agent) {
            Some(a) => a.1.add(&g.tally),
            None => agents.push((g.agent.clone(), g.tally)),
        }
    }
    let mut only = 0;
    for (day, bot, count) in bot_only {
        only += count;
        if let Some(d) = usize::try_from(*day).ok().and_then(|i| days.get_mut(i)) {
            d.2 += count;
        }
        match bots.iter_mut().find(|(b, _, _)| b == bot) {
            Some(b) => b.2 += count,
            None => bots.push((bot.clone(), Tally::default(), *count)),
        }
    }
    bots.sort_by(|a, b| (b.1.conversations + b.2).cmp(&(a.1.conversations + a.2)).then(a.0.cmp(&b.0)));
    // Busiest first; chats no agent had come after the agents.
    agents.sort_by(|a, b| a.0.is_none().cmp(&b.0.is_none()).then(b.1.conversations.cmp(&a.1.conversations)).then(a.0.cmp(&b.0)));
    Report { total, bot_only: only, days, bots, agents }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn ms(s: &str) -> i64 {
        s.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn a_range_is_whole_local_days_in_its_zone() {
        let r = Range::new(date(2026, 11, 1), date(2026, 11, 30), "Europe/Berlin").unwrap();
        assert_eq!(r.days(), 30);
        assert_eq!(r.start_ms, ms("2026-10-31T23:00:00Z"), "midnight in Berlin (winter time)");
        assert_eq!(r.end_ms, ms("2026-11-30T23:00:00Z"));
        assert_eq!(r.day_of(ms("2026-10-31T23:00:00Z")), 0);
        assert_eq!(r.day_of(ms("2026-11-01T22:59:59Z")), 0);
        assert_eq!(r.day_of(ms("2026-11-01T23:00:00Z")), 1);
        assert_eq!(r.date(29), date(2026, 11, 30));
        let utc = Range::new(date(2026, 11, 1), date(2026, 11, 1), "UTC").unwrap();
        assert_eq!((utc.start_ms, utc.end_ms, utc.days()), (ms("2026-11-01T00:00:00Z"), ms("2026-11-02T00:00:00Z"), 1));
    }

    #[test]
    fn days_follow_the_clocks_changing() {
        // Berlin goes to summer time on 29 March 2026 at 02:00 (01:00 UTC): that day has 23 hours.
        let r = Range::new(date(2026, 3, 28), date(2026, 3, 30), "Europe/Berlin").unwrap();
        assert_eq!(r.offsets.len(), 2, "{:?}", r.offsets);
        assert_eq!(r.offsets[1], (ms("2026-03-29T01:00:00Z"), 2 * 3600 * 1000));
        assert_eq!(r.end_ms - r.start_ms, (3 * 24 - 1) * 3600 * 1000);
        // 23:30 on the 29th in Berlin (summer time) is 21:30 UTC: still the 29th.
        assert_eq!(r.day_of(ms("2026-03-29T21:30:00Z")), 1);
        // 00:30 on the 30th is 22:30 UTC on the 29th: the 30th.
        assert_eq!(r.day_of(ms("2026-03-29T22:30:00Z")), 2);
        assert_eq!(r.offsets[0], (r.start_ms, 3600 * 1000), "winter time first");
        // Where the clocks jump over midnight (Santiago, 2026-09-06 00:00 → 01:00), the day still
        // starts at the local midnight that would have been.
        let chile = Range::new(date(2026, 9, 6), date(2026, 9, 7), "America/Santiago").unwrap();
        assert_eq!(chile.start_ms, ms("2026-09-06T04:00:00Z"), "the 6th begins at 01:00");
        assert_eq!(chile.day_of(ms("2026-09-06T04:30:00Z")), 0);
        assert_eq!(chile.day_of(ms("2026-09-07T02:59:00Z")), 0, "23:59 on the 6th");
        assert_eq!(chile.day_of(ms("2026-09-07T03:30:00Z")), 1, "00:30 on the 7th");
        // Half-hour zones are exact too.
        let india = Range::new(date(2026, 1, 1), date(2026, 1, 2), "Asia/Kolkata").unwrap();
        assert_eq!(india.day_of(ms("2026-01-01T18:29:00Z")), 0);
        assert_eq!(india.day_of(ms("2026-01-01T18:30:00Z")), 1);
    }

    #[test]
    fn bad_ranges_are_refused() {
        assert!(Range::new(date(2026, 1, 2), date(2026, 1, 1), "UTC").is_err());
        assert!(Range::new(date(2026, 1, 1), date(2026, 1, 1), "Mars/Olympus").is_err());
        assert!(Range::new(date(2024, 12, 31), date(2026, 1, 1), "UTC").is_err(), "367 days");
        assert!(Range::new(date(2025, 1, 1), date(2026, 1, 1), "UTC").is_ok(), "366 days");
        assert!(Range::new(date(2025, 1, 2), date(2026, 1, 1), "UTC").is_ok(), "365 days");
    }

    #[test]
    fn tallies_become_averages_and_rates() {
        let t = Tally {
            conversations: 4,
            claimed: 3,
            claim_ms: 90_000,
            answered: 2,
            response_ms: 61_000,
            resolved: 3,
            resolution_ms: 3_600_000,
            abandoned: 1,
            unanswered: 1,
            waiting: 0,
            rated: 3,
            satisfied: 2,
            star_ratings: 2,
            star_sum: 9,
        };
        assert_eq!(t.avg_time_to_claim_s(), Some(30.0));
        assert_eq!(t.avg_first_response_s(), Some(30.5));
        assert_eq!(t.avg_resolution_s(), Some(1200.0));
        assert_eq!(t.missed(), 2);
        assert_eq!(t.csat_percent(), Some(66.7));
        assert_eq!(t.avg_stars(), Some(4.5));
        let empty = Tally::default();
        assert_eq!((empty.avg_time_to_claim_s(), empty.csat_percent(), empty.avg_stars()), (None, None, None));
    }

    #[test]
    fn each_state_counts_where_it_belongs() {
        use crate::domain::chat::ChatState;
        let chat = |state, claimed: Option<i64>, answered: Option<i64>, rating| Chat {
            escalated_at: 1000,
            state,
            claimed_at: claimed.map(|s| 1000 + s),
            first_response_at: answered.map(|s| 1000 + s),
            resolved_at: (state == ChatState::Resolved).then_some(1000 + 500),
            rating,
        };
        let mut t = Tally::default();
        for c in [
            chat(ChatState::Resolved, Some(10), Some(20), Some((5, true))),
            chat(ChatState::Resolved, None, None, None),
            chat(ChatState::Resolved, Some(30), None, Some((1, false))),
            chat(ChatState::Pending, None, None, None),
            chat(ChatState::Active, Some(50), Some(60), None),
            chat(ChatState::Transferred, Some(70), None, None),
        ] {
            t.count(&c);
        }
        assert_eq!(
            t,
            Tally {
                conversations: 6,
                claimed: 4,
                claim_ms: 160,
                answered: 2,
                response_ms: 80,
                resolved: 3,
                resolution_ms: 1500,
                abandoned: 1,
                unanswered: 1,
                waiting: 1,
                rated: 2,
                satisfied: 1,
                star_ratings: 1,
                star_sum: 5,
            }
        );
    }

    #[test]
    fn groups_fold_into_days_bots_and_agents() {
        let r = Range::new(date(2026, 11, 1), date(2026, 11, 3), "UTC").unwrap();
        let (a, b) = (BotId::new(), BotId::new());
        let ann = Some(UserId::new());
        let one = |n| Tally { conversations: n, ..Default::default() };
        let groups = vec![
            Group { day: 0, bot: a.clone(), agent: ann.clone(), tally: one(2) },
            Group { day: 2, bot: a.clone(), agent: None, tally: one(1) },
            Group { day: 2, bot: b.clone(), agent: ann.clone(), tally: one(4) },
        ];
        let report = assemble(&r, &groups, &[(1, a.clone(), 5), (1, b.clone(), 1)]);
        assert_eq!(report.total.conversations, 7);
        assert_eq!(report.bot_only, 6);
        assert_eq!(
            report.days.iter().map(|d| (d.0, d.1.conversations, d.2)).collect::<Vec<_>>(),
            vec![(date(2026, 11, 1), 2, 0), (date(2026, 11, 2), 0, 6), (date(2026, 11, 3), 5, 0)]
        );
        assert_eq!(report.bots.iter().map(|b| (b.0.clone(), b.1.conversations, b.2)).collect::<Vec<_>>(), vec![(a, 3, 5), (b, 4, 1)]);
        assert_eq!(report.agents.iter().map(|x| (x.0.clone(), x.1.conversations)).collect::<Vec<_>>(), vec![(ann, 6), (None, 1)]);
    }
}
