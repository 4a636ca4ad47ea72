//! The embedded default backend: one SQLite file in WAL mode.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use tokio::sync::{mpsc, oneshot};

use super::{Act, Applied, Result, StoreError, migrator};
use crate::domain::ids::ConversationId;

/// This backend's schema history, embedded in the binary.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../../migrations/sqlite/0001_init.sql")),
    (2, "presence", include_str!("../../migrations/sqlite/0002_presence.sql")),
    (3, "notifications", include_str!("../../migrations/sqlite/0003_notifications.sql")),
    (4, "credentials", include_str!("../../migrations/sqlite/0004_credentials.sql")),
    (5, "login_addresses", include_str!("../../migrations/sqlite/0005_login_addresses.sql")),
    (6, "invitations", include_str!("../../migrations/sqlite/0006_invitations.sql")),
];

/// SQLite allows one writer at a time. Writes go through a one-connection pool so they queue in
/// Baton (fairly, without busy-wait retries); reads use their own pool and run concurrently with
/// the writer thanks to WAL.
///
/// Conversation writes (every message and state change) are also *group-committed*: they queue
/// to one task that runs everything waiting in a single transaction, so concurrent messages share
/// one fsync instead of paying one each. Each command's refusal happens before it writes
/// anything, so refusals need no rollback inside a batch; a database error rolls the batch back
/// and re-runs its commands one transaction each.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    reader: SqlitePool,
    writer: SqlitePool,
    batches: mpsc::UnboundedSender<Job>,
}

/// A conversation write waiting for the next batch.
#[derive(Debug)]
struct Job {
    conversation: ConversationId,
    act: Act,
    now: i64,
    reply: oneshot::Sender<Result<Applied>>,
}

/// Most commands one transaction carries.
const MAX_BATCH: usize = 128;

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
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Db(format!("cannot create data directory {}: {e}", dir.display()).into()))?;
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
        let (batches, jobs) = mpsc::unbounded_channel();
        let store = Self { reader, writer, batches };
        // The committer holds a store without a queue of its own; it ends when every store that
        // can send to it is gone.
        tokio::spawn(store.clone().group_commit(jobs));
        Ok(store)
    }

    pub(crate) async fn apply_write(&self, conversation: &ConversationId, act: Act, now: i64) -> Result<Applied> {
        let (reply, answer) = oneshot::channel();
        let job = Job { conversation: conversation.clone(), act, now, reply };
        if let Err(mpsc::error::SendError(job)) = self.batches.send(job) {
            return self.apply_alone(&job.conversation, job.act, job.now).await;
        }
        answer.await.map_err(|_| StoreError::Db("the write queue is closed".into()))?
    }

    async fn group_commit(self, mut jobs: mpsc::UnboundedReceiver<Job>) {
        // Drop our own sender so the channel closes with the last store.
        let Self { reader, writer, .. } = self;
        let (dead, _) = mpsc::unbounded_channel();
        let store = Self { reader, writer, batches: dead };
        while let Some(first) = jobs.recv().await {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match jobs.try_recv() {
                    Ok(j) => batch.push(j),
                    Err(_) => break,
                }
            }
            store.run_batch(batch).await;
        }
    }

    async fn run_batch(&self, batch: Vec<Job>) {
        let retry: Vec<(ConversationId, Act, i64)> = batch.iter().map(|j| (j.conversation.clone(), j.act.clone(), j.now)).collect();
        let attempt = async {
            let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
            let mut results = Vec::with_capacity(batch.len());
            for job in &batch {
                match Self::apply_in(&mut tx, &job.conversation, job.act.clone(), job.now).await {
                    // Not a refusal: the batch is rolled back and its commands run one by one.
                    Err(e @ (StoreError::Db(_) | StoreError::Corrupt(_))) => return Err(e),
                    other => results.push(other),
                }
            }
            tx.commit().await?;
            Ok::<_, StoreError>(results)
        };
        match attempt.await {
            Ok(results) => {
                for (job, result) in batch.into_iter().zip(results) {
                    let _ = job.reply.send(result);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, size = retry.len(), "a write batch failed; retrying its commands one by one");
                for (job, (conversation, act, now)) in batch.into_iter().zip(retry) {
                    let _ = job.reply.send(self.apply_alone(&conversation, act, now).await);
                }
            }
        }
    }

    pub(crate) fn read(&self) -> &SqlitePool {
        &self.reader
    }

    pub(crate) fn write(&self) -> &SqlitePool {
        &self.writer
    }
}
