//! The scale-out backend: PostgreSQL, shared by every node.

use sqlx::postgres::{PgPool, PgPoolOptions};

use super::{Result, migrator};

/// This backend's schema history, embedded in the binary.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../../migrations/postgres/0001_init.sql")),
    (2, "presence", include_str!("../../migrations/postgres/0002_presence.sql")),
    (3, "notifications", include_str!("../../migrations/postgres/0003_notifications.sql")),
    (4, "credentials", include_str!("../../migrations/postgres/0004_credentials.sql")),
    (5, "login_addresses", include_str!("../../migrations/postgres/0005_login_addresses.sql")),
    (6, "invitations", include_str!("../../migrations/postgres/0006_invitations.sql")),
];

#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects and runs the migrations (PostgreSQL's advisory lock keeps concurrent nodes from
    /// migrating twice).
    pub async fn connect(url: &str) -> Result<Self> {
        let pool = PgPoolOptions::new().max_connections(16).connect(url).await?;
        migrator(MIGRATIONS).run(&pool).await?;
        Ok(Self { pool })
    }

    pub(crate) fn read(&self) -> &PgPool {
        &self.pool
    }

    pub(crate) fn write(&self) -> &PgPool {
        &self.pool
    }

    /// PostgreSQL groups concurrent commits itself: one transaction per command.
    pub(crate) async fn apply_write(&self, conversation: &crate::domain::ids::ConversationId, act: super::Act, now: i64) -> Result<super::Applied> {
        self.apply_alone(conversation, act, now).await
    }
}
