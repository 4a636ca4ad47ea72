//! Agent presence: the four statuses and what each allows. Timer-driven rules (heartbeat expiry,
//! auto-away) build on these types.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_available_and_busy_agents_claim_and_only_available_receive_transfers() {
        use Status::*;
        for (s, claim, transfer) in [
            (Available, true, true),
            (Busy, true, false),
            (Away, false, false),
            (Offline, false, false),
        ] {
            assert_eq!(
                (s.may_claim(), s.may_receive_transfer()),
                (claim, transfer),
                "{s:?}"
            );
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
    }
}
