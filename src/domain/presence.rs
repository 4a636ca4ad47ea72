//! Agent presence: the four statuses, what each allows, and the rules that change them
//! automatically. [`step`] is the one function that decides every presence change; the store
//! runs it under a row lock and the sweeper feeds it timer ticks from the controllable clock.
//!
//! Precedence: a manual `offline` beats everything (nothing automatic touches it); a heartbeat
//! expiry beats auto-away; auto-away only ever moves an `available` agent. Each automatic change
//! remembers the status it displaced (`resume`), and undoing it restores exactly that, so an
//! agent who was manually busy and closed the laptop comes back busy, not available.

use serde::{Deserialize, Serialize};

use crate::clock::Millis;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Available,
    Away,
    Busy,
    Offline,
}

impl Status {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "available" => Some(Self::Available),
            "away" => Some(Self::Away),
            "busy" => Some(Self::Busy),
            "offline" => Some(Self::Offline),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "available",
            Self::Away => "away",
            Self::Busy => "busy",
            Self::Offline => "offline",
        }
    }

    /// May claim a pending chat: busy agents can still pick up work they choose.
    pub fn may_claim(self) -> bool {
        matches!(self, Self::Available | Self::Busy)
    }

    /// May be handed a chat by someone else: transfers never pull away/busy/offline agents.
    pub fn may_receive_transfer(self) -> bool {
        matches!(self, Self::Available)
    }
}

/// Whether the agent chose the status or Baton set it (heartbeat, idle, capacity). Automatic
/// statuses are undone automatically; manual ones only by the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Manual,
    Auto,
}

impl Source {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "manual" => Some(Self::Manual),
            "auto" => Some(Self::Auto),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Auto => "auto",
        }
    }
}

/// Why Baton changed a status by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// No heartbeat from any of the agent's inbox tabs for the team's timeout.
    HeartbeatExpired,
    /// No activity for the team's auto-away time.
    Idle,
    /// The agent reached their chat capacity.
    Capacity,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HeartbeatExpired => "heartbeat_expired",
            Self::Idle => "idle",
            Self::Capacity => "capacity",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::HeartbeatExpired, Self::Idle, Self::Capacity].into_iter().find(|r| r.as_str() == s)
    }
}

/// Everything the rules look at for one agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    pub status: Status,
    pub source: Source,
    /// Set exactly when `source` is `Auto`.
    pub reason: Option<Reason>,
    /// What an automatic change displaced, restored when it is undone.
    pub resume: Option<(Status, Source)>,
    pub last_heartbeat_at: Option<Millis>,
    pub last_activity_at: Option<Millis>,
}

impl State {
    /// A new agent: offline, by their own (default) choice.
    pub fn new() -> Self {
        Self { status: Status::Offline, source: Source::Manual, reason: None, resume: None, last_heartbeat_at: None, last_activity_at: None }
    }

    /// Whether the visible part (status, source, reason) differs.
    pub fn differs(&self, other: &State) -> bool {
        (self.status, self.source, self.reason) != (other.status, other.source, other.reason)
    }
}

impl Default for State {
    fn default() -> Self {
        Self::new()
    }
}

/// The team's timers, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub heartbeat_timeout: Millis,
    pub auto_away: Millis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// The agent picked a status in the inbox header.
    SetManual(Status),
    /// An open inbox tab is alive (every 20 s).
    Heartbeat,
    /// The agent did something in the inbox (at most once a minute).
    Activity,
    /// The sweeper's clock tick.
    Tick(Timing),
    /// The agent's number of active chats changed.
    Load { active: i64, capacity: Option<i64> },
}

/// The presence rules: the state after `signal` at `now`.
pub fn step(p: &State, signal: Signal, now: Millis) -> State {
    let auto = |status, reason, resume| State { status, source: Source::Auto, reason: Some(reason), resume, ..*p };
    // What an automatic change displaces: the agent's own choice, never another automatic state.
    let displaced = || if p.source == Source::Auto { p.resume } else { Some((p.status, p.source)) };
    let restore = |q: State| {
        let (status, source) = q.resume.unwrap_or((Status::Available, Source::Auto));
        State { status, source, reason: None, resume: None, ..q }
    };
    match signal {
        Signal::SetManual(status) => {
            State { status, source: Source::Manual, reason: None, resume: None, last_heartbeat_at: Some(now), last_activity_at: Some(now) }
        }
        Signal::Heartbeat => {
            let q = State { last_heartbeat_at: Some(now), ..*p };
            if p.reason == Some(Reason::HeartbeatExpired) { restore(q) } else { q }
        }
        Signal::Activity => {
            let q = State { last_heartbeat_at: Some(now), last_activity_at: Some(now), ..*p };
            match p.reason {
                Some(Reason::HeartbeatExpired | Reason::Idle) => restore(q),
                _ => q,
            }
        }
        Signal::Tick(t) => {
            let silent = p.last_heartbeat_at.is_none_or(|h| now - h >= t.heartbeat_timeout);
            let idle = p.last_activity_at.is_none_or(|a| now - a >= t.auto_away);
            if p.status != Status::Offline && silent {
                auto(Status::Offline, Reason::HeartbeatExpired, displaced())
            } else if p.status == Status::Available && idle {
                auto(Status::Away, Reason::Idle, displaced())
            } else {
                *p
            }
        }
        Signal::Load { active, capacity } => {
            let full = capacity.is_some_and(|c| active >= c);
            if full && p.status == Status::Available {
                auto(Status::Busy, Reason::Capacity, displaced())
            } else if !full && p.reason == Some(Reason::Capacity) {
                restore(*p)
            } else {
                *p
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_available_and_busy_agents_claim_and_only_available_receive_transfers() {
        use Status::*;
        for (s, claim, transfer) in [(Available, true, true), (Busy, true, false), (Away, false, false), (Offline, false, false)] {
            assert_eq!((s.may_claim(), s.may_receive_transfer()), (claim, transfer), "{s:?}");
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
    }

    const T: Timing = Timing { heartbeat_timeout: 60_000, auto_away: 600_000 };

    fn at(status: Status, source: Source, reason: Option<Reason>, resume: Option<(Status, Source)>) -> State {
        State { status, source, reason, resume, last_heartbeat_at: Some(0), last_activity_at: Some(0) }
    }

    fn manual(s: Status) -> State {
        at(s, Source::Manual, None, None)
    }

    /// Every starting state × signal, with the visible result (status, source, reason).
    #[test]
    fn every_state_and_signal_follows_the_presence_rules() {
        use Reason::*;
        use Source::{Auto, Manual};
        use Status::*;
        let auto_offline = at(Offline, Auto, Some(HeartbeatExpired), Some((Busy, Manual)));
        let auto_away = at(Away, Auto, Some(Idle), Some((Available, Manual)));
        let auto_busy = at(Busy, Auto, Some(Capacity), Some((Available, Manual)));
        let states = [
            ("manual available", manual(Available)),
            ("manual away", manual(Away)),
            ("manual busy", manual(Busy)),
            ("manual offline", manual(Offline)),
            ("expired (was busy)", auto_offline),
            ("idle away", auto_away),
            ("busy at capacity", auto_busy),
        ];
        type V = (Status, Source, Option<Reason>);
        let silent_tick = (Signal::Tick(T), 60_000); // heartbeat timed out, not yet idle
        let idle_tick = (Signal::Tick(Timing { heartbeat_timeout: 3_600_000, auto_away: 600_000 }), 600_000);
        let quiet_tick = (Signal::Tick(T), 30_000); // nothing due
        let signals: Vec<(&str, (Signal, Millis), [V; 7])> = vec![
            ("set busy", (Signal::SetManual(Busy), 5), [(Busy, Manual, None); 7]),
            (
                "heartbeat",
                (Signal::Heartbeat, 5),
                [
                    (Available, Manual, None),
                    (Away, Manual, None),
                    (Busy, Manual, None),
                    (Offline, Manual, None),
                    (Busy, Manual, None),
                    (Away, Auto, Some(Idle)),
                    (Busy, Auto, Some(Capacity)),
                ],
            ),
            (
                "activity",
                (Signal::Activity, 5),
                [
                    (Available, Manual, None),
                    (Away, Manual, None),
                    (Busy, Manual, None),
                    (Offline, Manual, None),
                    (Busy, Manual, None),
                    (Available, Manual, None),
                    (Busy, Auto, Some(Capacity)),
                ],
            ),
            (
                "heartbeat times out",
                silent_tick,
                [
                    (Offline, Auto, Some(HeartbeatExpired)),
                    (Offline, Auto, Some(HeartbeatExpired)),
                    (Offline, Auto, Some(HeartbeatExpired)),
                    (Offline, Manual, None),
                    (Offline, Auto, Some(HeartbeatExpired)),
                    (Offline, Auto, Some(HeartbeatExpired)),
                    (Offline, Auto, Some(HeartbeatExpired)),
                ],
            ),
            (
                "idle past auto-away",
                idle_tick,
                [
                    (Away, Auto, Some(Idle)),
                    (Away, Manual, None),
                    (Busy, Manual, None),
                    (Offline, Manual, None),
                    (Offline, Auto, Some(HeartbeatExpired)),
                    (Away, Auto, Some(Idle)),
                    (Busy, Auto, Some(Capacity)),
                ],
            ),
            (
                "nothing due",
                quiet_tick,
                [
                    (Available, Manual, None),
                    (Away, Manual, None),
                    (Busy, Manual, None),
                    (Offline, Manual, None),
                    (Offline, Auto, Some(HeartbeatExpired)),
                    (Away, Auto, Some(Idle)),
                    (Busy, Auto, Some(Capacity)),
                ],
            ),
            (
                "reaches capacity",
                (Signal::Load { active: 2, capacity: Some(2) }, 5),
                [
                    (Busy, Auto, Some(Capacity)),
                    (Away, Manual, None),
                    (Busy, Manual, None),
                    (Offline, Manual, None),
                    (Offline, Auto, Some(HeartbeatExpired)),
                    (Away, Auto, Some(Idle)),
                    (Busy, Auto, Some(Capacity)),
                ],
            ),
            (
                "drops below capacity",
                (Signal::Load { active: 1, capacity: Some(2) }, 5),
                [
                    (Available, Manual, None),
                    (Away, Manual, None),
                    (Busy, Manual, None),
                    (Offline, Manual, None),
                    (Offline, Auto, Some(HeartbeatExpired)),
                    (Away, Auto, Some(Idle)),
                    (Available, Manual, None),
                ],
            ),
        ];
        for (signal_name, (signal, now), expected) in signals {
            for ((state_name, state), want) in states.iter().zip(expected) {
                let got = step(state, signal, now);
                assert_eq!((got.status, got.source, got.reason), want, "{state_name} + {signal_name}");
                assert_eq!(got.reason.is_some(), got.source == Source::Auto, "reason iff automatic: {state_name} + {signal_name}");
            }
        }
    }

    #[test]
    fn undoing_an_automatic_change_restores_what_it_displaced() {
        let busy = manual(Status::Busy);
        let gone = step(&busy, Signal::Tick(T), 60_000);
        assert_eq!(gone.status, Status::Offline);
        let back = step(&gone, Signal::Heartbeat, 61_000);
        assert_eq!((back.status, back.source), (Status::Busy, Source::Manual));
    }

    #[test]
    fn an_idle_agent_whose_heartbeat_then_expires_comes_back_available() {
        let away = step(&manual(Status::Available), Signal::Tick(Timing { heartbeat_timeout: 3_600_000, auto_away: 600_000 }), 600_000);
        let gone = step(&away, Signal::Tick(T), 3_600_000);
        assert_eq!(gone.reason, Some(Reason::HeartbeatExpired));
        let back = step(&gone, Signal::Activity, 3_700_000);
        assert_eq!((back.status, back.source), (Status::Available, Source::Manual));
    }

    #[test]
    fn timers_count_from_the_last_heartbeat_and_activity() {
        let p = step(&State::new(), Signal::SetManual(Status::Available), 1_000);
        assert_eq!(step(&p, Signal::Tick(T), 60_999).status, Status::Available);
        let p = step(&p, Signal::Heartbeat, 50_000);
        assert_eq!(step(&p, Signal::Tick(T), 109_999).status, Status::Available);
        assert_eq!(step(&p, Signal::Tick(T), 110_000).status, Status::Offline);
        // heartbeats alone do not count as activity
        let long = Timing { heartbeat_timeout: 60_000, auto_away: 100_000 };
        let p = step(&p, Signal::Heartbeat, 100_000);
        assert_eq!(step(&p, Signal::Tick(long), 101_000).status, Status::Away);
    }
}
