//! The embedded default backend: one SQLite file in WAL mode.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use super::{Result, migrator};

/// This backend's schema history, embedded in the binary.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../../migrations/sqlite/0001_init.sql")),
    (2, "presence", include_str!("../../migrations/sqlite/0002_presence.sql")),
    (3, "notifications", include_str!("../../migrations/sqlite/0003_notifications.sql")),
];

/// SQLite allows one writer at a time. Writes go through a one-connection pool so they queue in
/// Baton (fairly, without busy-wait retries); reads use their own pool and run concurrently with
/// the writer thanks to WAL.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    reader: SqlitePool,
    writer: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) `baton.db` in `dir` and runs the migrations, with
    /// `synchronous=FULL`.
    pub async fn open(dir: &Path) -> Result<Self> {
        Self::open_with(dir, true).await
    }

    /// `full_sync`: every commit is on disk before it is acknowledged, even through a power cut
    /// (`synchronous=FULL`). Without it (`NORMAL`), a commit survives a crash of Baton but the
    /// last ones may be lost if the machine itself goes down.
    pub async fn open_with(dir: &Path, full_sync: bool) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| sqlx::Error::Configuration(format!("cannot create data directory {}: {e}", dir.display()).into()))?;
        let url = format!("sqlite://{}", dir.join("baton.db").display());
        let options = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(if full_sync { SqliteSynchronous::Full } else { SqliteSynchronous::Normal })
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
        migrator(MIGRATIONS).run(&writer).await?;
        let reader = SqlitePoolOptions::new().max_connections(8).connect_with(options.read_only(true)).await?;
        Ok(Self { reader, writer })
    }

    pub(crate) fn read(&self) -> &SqlitePool {
        &self.reader
    }

    pub(crate) fn write(&self) -> &SqlitePool {
        &self.writer
    }
}
