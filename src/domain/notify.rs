//! Which agent notifications fire: the event's kind, the agent's preferences and whether the
//! agent is online (any status but `offline`) or offline.

use serde::{Deserialize, Serialize};

use super::presence::Status;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = NotificationPreferences)]
pub struct Prefs {
    pub while_online: bool,
    pub while_offline: bool,
    pub new_escalation: bool,
    pub visitor_message: bool,
    pub transfer: bool,
}

impl Default for Prefs {
    /// Everything on: a new agent hears about every chat that needs them.
    fn default() -> Self {
        Self { while_online: true, while_offline: true, new_escalation: true, visitor_message: true, transfer: true }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A chat of a bot the agent can access is waiting for a person.
    NewEscalation,
    /// The visitor wrote in a chat assigned to the agent.
    VisitorMessage,
    /// A chat was transferred to the agent.
    Transfer,
    /// The agent asked for a test.
    Test,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NewEscalation => "new_escalation",
            Self::VisitorMessage => "visitor_message",
            Self::Transfer => "transfer",
            Self::Test => "test",
        }
    }
}

/// Whether to notify. A test notification always goes out: the agent asked for it.
pub fn should_notify(prefs: &Prefs, status: Status, kind: Kind) -> bool {
    let wanted = match kind {
        Kind::NewEscalation => prefs.new_escalation,
        Kind::VisitorMessage => prefs.visitor_message,
        Kind::Transfer => prefs.transfer,
        Kind::Test => return true,
    };
    let when = if status == Status::Offline { prefs.while_offline } else { prefs.while_online };
    wanted && when
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every preference combination × status × kind against a plain restatement of the rule.
    #[test]
    fn the_preference_matrix() {
        let kinds = [Kind::NewEscalation, Kind::VisitorMessage, Kind::Transfer];
        for bits in 0u8..32 {
            let p = Prefs {
                while_online: bits & 1 != 0,
                while_offline: bits & 2 != 0,
                new_escalation: bits & 4 != 0,
                visitor_message: bits & 8 != 0,
                transfer: bits & 16 != 0,
            };
            for status in [Status::Available, Status::Away, Status::Busy, Status::Offline] {
                for (i, kind) in kinds.into_iter().enumerate() {
                    let per_kind = [p.new_escalation, p.visitor_message, p.transfer][i];
                    let per_status = if status == Status::Offline { p.while_offline } else { p.while_online };
                    assert_eq!(should_notify(&p, status, kind), per_kind && per_status, "{p:?} {status:?} {kind:?}");
                }
                assert!(should_notify(&p, status, Kind::Test), "tests always go out");
            }
        }
    }
}
