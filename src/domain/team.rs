//! Roles and bot access: who may do what inside a team.

use serde::{Deserialize, Serialize};

use super::ids::BotId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    ChatAgent,
    Member,
}

impl Role {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "owner" => Some(Self::Owner),
            "admin" => Some(Self::Admin),
            "chat_agent" => Some(Self::ChatAgent),
            "member" => Some(Self::Member),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::ChatAgent => "chat_agent",
            Self::Member => "member",
        }
    }

    /// Handles live chats (has an inbox).
    pub fn can_chat(self) -> bool {
        !matches!(self, Self::Member)
    }

    /// Manages members, bots, team shortcuts and settings; may act on any chat of the team.
    pub fn is_admin(self) -> bool {
        matches!(self, Self::Owner | Self::Admin)
    }
}

/// Which of the team's bots a member reaches. Owners and admins manage every bot, so their
/// access is always `All` whatever was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BotAccess {
    All,
    Only(Vec<BotId>),
}

impl BotAccess {
    pub fn effective(role: Role, stored: BotAccess) -> BotAccess {
        if role.is_admin() { BotAccess::All } else { stored }
    }

    pub fn reaches(&self, bot: &BotId) -> bool {
        match self {
            Self::All => true,
            Self::Only(list) => list.contains(bot),
        }
    }
}

impl Serialize for BotAccess {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::All => s.serialize_str("all"),
            Self::Only(list) => list.serialize(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_and_grant_what_product_md_says() {
        for (s, chat, admin) in [("owner", true, true), ("admin", true, true), ("chat_agent", true, false), ("member", false, false)] {
            let r = Role::parse(s).unwrap();
            assert_eq!((r.as_str(), r.can_chat(), r.is_admin()), (s, chat, admin));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn admins_reach_every_bot_whatever_was_stored() {
        let b = BotId::new();
        let none = BotAccess::Only(vec![]);
        assert!(BotAccess::effective(Role::Admin, none.clone()).reaches(&b));
        assert!(!BotAccess::effective(Role::ChatAgent, none).reaches(&b));
        assert!(BotAccess::effective(Role::ChatAgent, BotAccess::Only(vec![b.clone()])).reaches(&b));
    }
}
