//! How typed values meet columns. Ids and enums are TEXT in both backends; a stored value that
//! does not parse fails its row (a [`StoreError::Corrupt`], logged, a 500 without detail),
//! never a default: an unknown state read as `resolved` or an undecodable origin list read as
//! "allow all" would be silent and wrong.
//!
//! The domain types stay free of the database crate: these impls live here, beside the SQL.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Decode, Encode, Postgres, Sqlite, Type};

use super::StoreError;
use crate::domain::chat::{ChatState, SystemKind};
use crate::domain::ids::*;
use crate::domain::presence::{Reason, Source, Status};
use crate::domain::team::Role;
use crate::store::AuthorKind;

/// A value stored as its text form.
pub(crate) trait TextColumn: Sized {
    /// What the value is, for the error naming a bad row.
    const WHAT: &'static str;
    fn to_text(&self) -> &str;
    fn from_text(s: &str) -> Option<Self>;
}

/// A Rust type stored as TEXT on one backend.
macro_rules! text_type {
    ($Db:ty: $T:ty) => {
        impl Type<$Db> for $T {
            fn type_info() -> <$Db as sqlx::Database>::TypeInfo {
                <str as Type<$Db>>::type_info()
            }

            fn compatible(ty: &<$Db as sqlx::Database>::TypeInfo) -> bool {
                <str as Type<$Db>>::compatible(ty)
            }
        }
    };
}

/// Implements the column traits of one backend for text-stored types.
macro_rules! text_columns {
    ($Db:ty: $($T:ty),* $(,)?) => {$(
        text_type!($Db: $T);

        impl Encode<'_, $Db> for $T {
            fn encode_by_ref(&self, buf: &mut <$Db as sqlx::Database>::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <&str as Encode<$Db>>::encode_by_ref(&self.to_text(), buf)
            }
        }

        impl<'r> Decode<'r, $Db> for $T {
            fn decode(value: <$Db as sqlx::Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                let text = <&str as Decode<$Db>>::decode(value)?;
                <$T as TextColumn>::from_text(text).ok_or_else(|| format!("not a valid {}: {text:?}", <$T as TextColumn>::WHAT).into())
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

text_values!(UserId, TeamId, BotId, VisitorId, ConversationId, MessageId, ShortcutId, TokenId, InvitationId);
text_values!(ChatState, SystemKind, Role, Status, Source, Reason, AuthorKind);

/// A bot's origin allow-list, stored as a JSON array of strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origins(pub Vec<String>);

/// A restricted member's bots, aggregated from `member_bots` as comma-separated ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BotIdList(pub Vec<BotId>);

macro_rules! decoded_columns {
    ($Db:ty) => {
        text_type!($Db: Origins);
        text_type!($Db: BotIdList);

        impl<'r> Decode<'r, $Db> for Origins {
            fn decode(value: <$Db as sqlx::Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                let text = <&str as Decode<$Db>>::decode(value)?;
                Ok(Self(serde_json::from_str(text).map_err(|e| format!("not a list of origins: {e}"))?))
            }
        }

        impl<'r> Decode<'r, $Db> for BotIdList {
            fn decode(value: <$Db as sqlx::Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                let text = <&str as Decode<$Db>>::decode(value)?;
                let ids = text.split(',').map(|s| BotId::parse(s).ok_or_else(|| format!("not a bot id: {s:?}"))).collect::<Result<_, _>>()?;
                Ok(Self(ids))
            }
        }
    };
}

macro_rules! all_columns {
    ($Db:ty) => {
        text_columns!($Db: UserId, TeamId, BotId, VisitorId, ConversationId, MessageId, ShortcutId, TokenId, InvitationId);
        text_columns!($Db: ChatState, SystemKind, Role, Status, Source, Reason, AuthorKind);
        decoded_columns!($Db);
    };
}

all_columns!(Sqlite);
all_columns!(Postgres);

/// Database errors become the store's own: a value that did not decode is corruption, anything
/// else a database failure. Neither names the database crate to callers.
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
                tracing::error!(error = %e, "a stored row does not decode");
                Self::Corrupt(e.to_string())
            }
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
