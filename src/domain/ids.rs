//! Typed identifiers. Every id is a UUIDv7 rendered as text: sortable by creation time, opaque to
//! clients, and stored as TEXT in both backends so one row type decodes from either.

use serde::{Deserialize, Serialize};

macro_rules! typed_id {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        #[schema(value_type = String)]
        pub struct $name(String);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7().to_string())
            }

            /// Accepts only the canonical UUID text form, so a malformed id in a URL is a
            /// plain "not found" and never reaches SQL as arbitrary text.
            pub fn parse(s: &str) -> Option<Self> {
                uuid::Uuid::parse_str(s).ok().map(|u| Self(u.to_string()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}

typed_id!(
    /// A person who can log in (agent or admin).
    UserId,
    TeamId,
    BotId,
    /// An anonymous widget visitor.
    VisitorId,
    ConversationId,
    MessageId,
    ShortcutId,
    /// A personal API token's public id (the secret is never stored).
    TokenId,
    /// An invitation to join a team.
    InvitationId,
    /// A file sent in a chat.
    AttachmentId,
    /// An audit log entry.
    AuditId,
    /// An outgoing webhook.
    WebhookId,
);
