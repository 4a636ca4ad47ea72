//! The audit log's vocabulary: what can be recorded, and about what. Pure: the service layer
//! writes entries, the store keeps them (append-only), the API filters by these names.

use serde::{Deserialize, Serialize};

macro_rules! actions {
    ($($(#[$doc:meta])* $variant:ident = $name:tt),* $(,)?) => {
        /// Something that happened, as the log names it (`member.removed`, ...).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        pub enum Action {
            $($(#[$doc])* #[serde(rename = $name)] $variant,)*
        }

        impl Action {
            /// Every action, in the order the docs list them.
            pub const ALL: &'static [Action] = &[$(Action::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)*
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($name => Some(Action::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

actions! {
    /// Someone was invited to the team (detail: `email`, `role`).
    MemberInvited = "member.invited",
    /// A pending invitation was withdrawn.
    InvitationWithdrawn = "invitation.withdrawn",
    /// An invitation was accepted: the person joined.
    MemberJoined = "member.joined",
    /// A member was removed from the team.
    MemberRemoved = "member.removed",
    /// A member's role changed (detail: `from`, `to`).
    MemberRoleChanged = "member.role_changed",
    /// A member's bot access changed (detail: `from`, `to`).
    MemberAccessChanged = "member.bot_access_changed",
    /// A member's chat capacity changed (detail: `from`, `to`).
    MemberCapacityChanged = "member.capacity_changed",
    /// A bot was created.
    BotCreated = "bot.created",
    /// A bot's settings changed (detail: `fields`, the names of what changed).
    BotUpdated = "bot.updated",
    /// A bot was deleted, with its conversations.
    BotDeleted = "bot.deleted",
    /// Team settings changed (detail: `fields`).
    TeamSettingsChanged = "team.settings_changed",
    /// A personal API token was created (detail: `name`).
    TokenCreated = "token.created",
    /// A personal API token was revoked.
    TokenRevoked = "token.revoked",
    /// Someone signed in from an address not seen for them in the last 90 days.
    LoginNewAddress = "login.new_address",
    /// A password was set through a reset or invitation link.
    PasswordReset = "password.reset",
    /// A visitor's data was erased (detail: counts of what went).
    VisitorErased = "visitor.erased",
    /// A visitor's data was exported.
    VisitorExported = "visitor.exported",
    /// Resolved conversations past the team's retention period were deleted (detail: `count`).
    RetentionDeleted = "retention.deleted",
    /// An outgoing webhook was added.
    WebhookCreated = "webhook.created",
    /// An outgoing webhook was changed (detail: `fields`).
    WebhookUpdated = "webhook.updated",
    /// An outgoing webhook was removed.
    WebhookDeleted = "webhook.deleted",
    /// An outgoing webhook was turned off after failing for too long.
    WebhookDisabled = "webhook.disabled",
}

/// What an entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    User,
    Invitation,
    Bot,
    Team,
    Token,
    Visitor,
    Webhook,
}

impl TargetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Invitation => "invitation",
            Self::Bot => "bot",
            Self::Team => "team",
            Self::Token => "token",
            Self::Visitor => "visitor",
            Self::Webhook => "webhook",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::User, Self::Invitation, Self::Bot, Self::Team, Self::Token, Self::Visitor, Self::Webhook].into_iter().find(|k| k.as_str() == s)
    }
}

/// The names of the fields that differ between two JSON objects, nested objects by dotted path
/// (`settings.human_only`), sorted: what an entry says changed, never the values themselves (a
/// webhook secret or an allow-list does not belong in a log every admin reads).
pub fn changed_fields(before: &serde_json::Value, after: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    diff("", before, after, &mut out);
    out.sort();
    out
}

fn diff(prefix: &str, before: &serde_json::Value, after: &serde_json::Value, out: &mut Vec<String>) {
    let (Some(a), Some(b)) = (before.as_object(), after.as_object()) else { return };
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match (a.get(k), b.get(k)) {
            (Some(x), Some(y)) if x == y => {}
            (Some(x @ serde_json::Value::Object(_)), Some(y @ serde_json::Value::Object(_))) => diff(&path, x, y, out),
            _ => out.push(path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_action_reads_back_from_its_name_and_names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(*a));
            assert_eq!(serde_json::to_value(a).unwrap(), json!(a.as_str()));
            assert!(seen.insert(a.as_str()), "{} twice", a.as_str());
        }
        assert_eq!(Action::parse("member.Removed"), None);
        assert_eq!(Action::parse(""), None);
    }

    #[test]
    fn target_kinds_read_back() {
        for k in ["user", "invitation", "bot", "team", "token", "visitor", "webhook"] {
            assert_eq!(TargetKind::parse(k).map(TargetKind::as_str), Some(k));
        }
        assert_eq!(TargetKind::parse("chat"), None);
    }

    #[test]
    fn changed_fields_names_what_differs_and_never_values() {
        let before = json!({"name": "Shop", "greeting": "Hi", "settings": {"a": 1}, "gone": true});
        let after = json!({"name": "Shop", "greeting": "Hello", "settings": {"a": 2}, "new": 1});
        assert_eq!(changed_fields(&before, &after), vec!["gone", "greeting", "new", "settings.a"]);
        assert!(changed_fields(&before, &before).is_empty());
        assert!(changed_fields(&json!(1), &after).is_empty());
    }
}
