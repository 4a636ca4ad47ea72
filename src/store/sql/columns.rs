//! How typed values meet columns. Ids and enums are TEXT in both backends; a stored value that
//! does not parse fails its row (a [`StoreError::Corrupt`], logged, a 500 without detail),
//! never a default: an unknown state read as `resolved` or an undecodable origin list read as
//! "allow all" would be silent and wrong.
//!
//! The domain types stay free of the database crate: these impls live here, beside the SQL.

use super::StoreError;
use crate::domain::audit::{Action, TargetKind};
use crate::domain::chat::{ChatState, SystemKind};
use crate::domain::ids::*;
use crate::domain::presence::{Reason, Source, Status};
use crate::domain::team::Role;
use crate::store::db::{Bind, Cell, DbError, FromCell, Value};
use crate::store::{AuthorKind, Csat};

/// A value stored as its text form.
pub(crate) trait TextColumn: Sized {
    /// What the value is, for the error naming a bad row.
    const WHAT: &'static str;
    fn to_text(&self) -> &str;
    fn from_text(s: &str) -> Option<Self>;
}

/// The cell and parameter impls of text-stored types.
macro_rules! text_columns {
    ($($T:ty),* $(,)?) => {$(
        impl FromCell for $T {
            fn from_cell(cell: Cell) -> Result<Self, String> {
                let text = String::from_cell(cell)?;
                <$T as TextColumn>::from_text(&text).ok_or_else(|| format!("not a valid {}: {text:?}", <$T as TextColumn>::WHAT))
            }
        }

        impl Bind for &$T {
            fn value(self) -> Value {
                Value::Text(Some(self.to_text().to_owned()))
            }
            fn null() -> Value {
                Value::Text(None)
            }
        }

        impl Bind for $T {
            fn value(self) -> Value {
                (&self).value()
            }
            fn null() -> Value {
                Value::Text(None)
            }
        }
    )*};
}

/// Stored as their canonical text: ids by `as_str`/`parse`, enums by their `snake_case` name.
macro_rules! text_values {
    ($($T:ty),* $(,)?) => {$(
        impl TextColumn for $T {
            const WHAT: &'static str = stringify!($T);
            fn to_text(&self) -> &str {
                self.as_str()
            }
            fn from_text(s: &str) -> Option<Self> {
                Self::parse(s)
            }
        }
    )*};
}

text_values!(UserId, TeamId, BotId, VisitorId, ConversationId, MessageId, ShortcutId, TokenId, InvitationId, AttachmentId, AuditId, WebhookId);
text_values!(ChatState, SystemKind, Role, Status, Source, Reason, AuthorKind, Csat, Action, TargetKind, crate::domain::webhook::Event);

/// A bot's origin allow-list, stored as a JSON array of strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origins(pub Vec<String>);

/// A restricted member's bots, aggregated from `member_bots` as comma-separated ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BotIdList(pub Vec<BotId>);

/// A JSON document stored as text, decoded strictly: one that does not decode fails its row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Json<T>(pub T);

impl<T: serde::de::DeserializeOwned> FromCell for Json<T> {
    fn from_cell(cell: Cell) -> Result<Self, String> {
        let text = String::from_cell(cell)?;
        Ok(Self(serde_json::from_str(&text).map_err(|e| format!("not a valid {}: {e}", std::any::type_name::<T>()))?))
    }
}

impl FromCell for Origins {
    fn from_cell(cell: Cell) -> Result<Self, String> {
        let text = String::from_cell(cell)?;
        Ok(Self(serde_json::from_str(&text).map_err(|e| format!("not a list of origins: {e}"))?))
    }
}

impl FromCell for crate::domain::attachment::Kinds {
    fn from_cell(cell: Cell) -> Result<Self, String> {
        let text = String::from_cell(cell)?;
        let names: Vec<String> = serde_json::from_str(&text).map_err(|e| format!("not a list of file kinds: {e}"))?;
        Self::parse(&names).map_err(|e| e.to_string())
    }
}

/// A team's file kinds as stored: a JSON array of names.
pub(crate) fn kinds_json(k: crate::domain::attachment::Kinds) -> String {
    serde_json::to_string(&k.list()).expect("kinds serialise")
}

impl FromCell for BotIdList {
    fn from_cell(cell: Cell) -> Result<Self, String> {
        let text = String::from_cell(cell)?;
        let ids = text.split(',').map(|s| BotId::parse(s).ok_or_else(|| format!("not a bot id: {s:?}"))).collect::<Result<_, _>>()?;
        Ok(Self(ids))
    }
}

text_columns!(UserId, TeamId, BotId, VisitorId, ConversationId, MessageId, ShortcutId, TokenId, InvitationId, AttachmentId, AuditId, WebhookId);
text_columns!(ChatState, SystemKind, Role, Status, Source, Reason, AuthorKind, Csat, Action, TargetKind, crate::domain::webhook::Event);

/// PostgreSQL's errors become the store's own; a unique violation is told apart so the store
/// can map it to a conflict. None names the database crate to callers.
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
                tracing::error!(error = %e, "a stored row does not decode");
                Self::Corrupt(e.to_string())
            }
            sqlx::Error::Database(d) if d.is_unique_violation() => Self::Db(Box::new(DbError { message: d.to_string(), unique: true })),
            other => Self::Db(Box::new(other)),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Self::Db(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_enum_reads_back_what_it_writes() {
        for s in [ChatState::Bot, ChatState::Pending, ChatState::Active, ChatState::Transferred, ChatState::Resolved] {
            assert_eq!(ChatState::from_text(s.to_text()), Some(s));
        }
        for k in SystemKind::ALL {
            assert_eq!(SystemKind::from_text(k.to_text()), Some(k));
        }
        assert_eq!(ChatState::from_text("exploded"), None);
        assert_eq!(UserId::from_text("not-a-uuid"), None);
    }
}
