//! The embedded default engine: one SQLite file in WAL mode, driven by rusqlite on threads of
//! its own.
//!
//! - **One writer thread** owns the only write connection. Every write (a message, a claim, a
//!   new session ...) is a job sent to it; it runs everything waiting as one *group-committed*
//!   transaction: each job inside a savepoint (a refused job leaves nothing behind), one
//!   `COMMIT` and, with `synchronous=FULL`, one fsync for the lot. Nobody hears back before the
//!   batch is on disk.
//! - **A checkpoint thread** copies the WAL back into the database every few hundred writes,
//!   beside the writer rather than inside one of its commits.
//! - **A small pool of reader threads**, each with a read-only connection, answers queries
//!   concurrently with the writer (WAL).
//! - An async caller crosses a channel **once per job**, never per statement: a job is a whole
//!   unit of work (all the statements of a claim, say), run on the connection's thread with
//!   cached prepared statements. The SQL is the store's shared text ([`super::db`]); its futures
//!   complete without waiting, since every call under them is synchronous.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use rusqlite::types::{Null, ValueRef};
use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use super::db::{Cell, Conn, DbError, Each, Row, RowRef, Value};
use super::{Result, StoreError};

/// This engine's schema history, embedded in the binary.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../../migrations/sqlite/0001_init.sql")),
    (2, "presence", include_str!("../../migrations/sqlite/0002_presence.sql")),
    (3, "notifications", include_str!("../../migrations/sqlite/0003_notifications.sql")),
    (4, "credentials", include_str!("../../migrations/sqlite/0004_credentials.sql")),
    (5, "login_addresses", include_str!("../../migrations/sqlite/0005_login_addresses.sql")),
    (6, "invitations", include_str!("../../migrations/sqlite/0006_invitations.sql")),
    (7, "visitor side", include_str!("../../migrations/sqlite/0007_visitor_side.sql")),
    (8, "pending alerts", include_str!("../../migrations/sqlite/0008_pending_alerts.sql")),
    (9, "attachments", include_str!("../../migrations/sqlite/0009_attachments.sql")),
    (10, "search", include_str!("../../migrations/sqlite/0010_search.sql")),
    (11, "visitor context", include_str!("../../migrations/sqlite/0011_visitor_context.sql")),
    (12, "snooze", include_str!("../../migrations/sqlite/0012_snooze.sql")),
    (13, "audit log", include_str!("../../migrations/sqlite/0013_audit.sql")),
    (14, "data rights", include_str!("../../migrations/sqlite/0014_data_rights.sql")),
    (15, "webhooks", include_str!("../../migrations/sqlite/0015_webhooks.sql")),
    (16, "reports", include_str!("../../migrations/sqlite/0016_reports.sql")),
    (17, "accounts", include_str!("../../migrations/sqlite/0017_accounts.sql")),
    (18, "report tallies", include_str!("../../migrations/sqlite/0018_report_tallies.sql")),
];

/// Most jobs one transaction carries.
const MAX_BATCH: usize = 256;
/// Reader threads (each with its own connection).
const READERS: usize = 4;
/// Prepared statements kept per connection (the store has about 150 distinct ones).
const STATEMENT_CACHE: usize = 256;
/// Committed write jobs between two checkpoints (a message writes a handful of pages, so this
/// keeps the WAL around a thousand pages, SQLite's own default).
const CHECKPOINT_EVERY: usize = 256;

/// A handle on the engine; clones share it. The threads end when the last handle is gone.
#[derive(Clone)]
pub struct SqliteStore {
    writes: mpsc::Sender<Box<dyn WriteTask>>,
    reads: mpsc::Sender<ReadTask>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteStore")
    }
}

/// One connection, on its own thread, with the column names of each statement it has run.
pub(crate) struct LiteConn {
    conn: Connection,
    names: HashMap<String, Arc<[Box<str>]>>,
    /// The writer's connection: its statements run only inside a batch's transaction.
    writer: bool,
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
        let dir = dir.to_path_buf();
        tokio::task::spawn_blocking(move || Self::start(&dir, full_sync))
            .await
            .map_err(|e| StoreError::db(format!("opening the database failed: {e}")))?
    }

    fn start(dir: &Path, full_sync: bool) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::db(format!("cannot create data directory {}: {e}", dir.display())))?;
        let path = dir.join("baton.db");
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(&path, flags).map_err(db_error)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(db_error)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(db_error)?;
        conn.pragma_update(None, "synchronous", if full_sync { "FULL" } else { "NORMAL" }).map_err(db_error)?;
        conn.pragma_update(None, "foreign_keys", true).map_err(db_error)?;
        // Deleted rows are overwritten with zeros, not left in free pages: an erased visitor's
        // words do not stay in the file (deletes are rare: erasures, retention, expired uploads).
        conn.pragma_update(None, "secure_delete", true).map_err(db_error)?;
        // Checkpoints run on a thread of their own (below), never inside a commit: copying the
        // WAL into the database and syncing it would stall every write waiting behind it.
        conn.pragma_update(None, "wal_autocheckpoint", 0).map_err(db_error)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        migrate(&mut conn)?;

        let checkpointer =
            Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX).map_err(db_error)?;
        checkpointer.busy_timeout(Duration::from_secs(10)).map_err(db_error)?;
        checkpointer.pragma_update(None, "wal_autocheckpoint", 0).map_err(db_error)?;
        let (nudge, nudged) = mpsc::sync_channel::<()>(1);
        std::thread::Builder::new()
            .name("baton-sqlite-checkpoint".into())
            .spawn(move || {
                // PASSIVE never blocks the writer or readers; what it cannot copy yet (a reader
                // still on old pages) waits for the next round.
                while nudged.recv().is_ok() {
                    if let Err(e) = checkpointer.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                        tracing::warn!(error = %e, "a WAL checkpoint failed");
                    }
                }
            })
            .map_err(|e| StoreError::db(format!("cannot start the checkpoint thread: {e}")))?;

        let (reads, read_queue) = mpsc::channel::<ReadTask>();
        let read_queue = Arc::new(Mutex::new(read_queue));
        for i in 0..READERS {
            let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            let reader = Connection::open_with_flags(&path, flags).map_err(db_error)?;
            reader.busy_timeout(Duration::from_secs(10)).map_err(db_error)?;
            reader.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
            let queue = read_queue.clone();
            let mut c = LiteConn { conn: reader, names: HashMap::new(), writer: false };
            std::thread::Builder::new()
                .name(format!("baton-sqlite-read-{i}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while waiting for the next job.
                        let next = queue.lock().map(|q| q.recv());
                        match next {
                            Ok(Ok(task)) => task(&mut c),
                            _ => break,
                        }
                    }
                })
                .map_err(|e| StoreError::db(format!("cannot start a reader thread: {e}")))?;
        }

        let (writes, write_queue) = mpsc::channel::<Box<dyn WriteTask>>();
        let mut c = LiteConn { conn, names: HashMap::new(), writer: true };
        std::thread::Builder::new()
            .name("baton-sqlite-write".into())
            .spawn(move || {
                let mut since_checkpoint = 0;
                while let Ok(first) = write_queue.recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match write_queue.try_recv() {
                            Ok(t) => batch.push(t),
                            Err(_) => break,
                        }
                    }
                    since_checkpoint += batch.len();
                    run_batch(&mut c, batch);
                    if since_checkpoint >= CHECKPOINT_EVERY {
                        since_checkpoint = 0;
                        // Full means a checkpoint is already due: nothing to add.
                        let _ = nudge.try_send(());
                    }
                }
            })
            .map_err(|e| StoreError::db(format!("cannot start the writer thread: {e}")))?;
        Ok(Self { writes, reads })
    }

    /// Runs `job` on a reader connection.
    pub(crate) async fn read<R, F>(&self, job: F) -> Result<R>
    where
        R: Send + 'static,
        F: for<'c> FnOnce(&'c mut LiteConn) -> BoxFuture<'c, Result<R>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let task: ReadTask = Box::new(move |c: &mut LiteConn| {
            let _ = reply.send(run_job(c, job));
        });
        self.reads.send(task).map_err(|_| StoreError::db("the database readers have stopped"))?;
        answer.await.map_err(|_| StoreError::db("a database reader stopped"))?
    }

    /// Runs `job` in the writer's next batch; answers once the batch is committed.
    pub(crate) async fn write<R, F>(&self, job: F) -> Result<R>
    where
        R: Send + 'static,
        F: for<'c> FnOnce(&'c mut LiteConn) -> BoxFuture<'c, Result<R>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let task = Box::new(Task { job: Some(job), result: None, reply });
        self.writes.send(task).map_err(|_| StoreError::db("the database writer has stopped"))?;
        answer.await.map_err(|_| StoreError::db("the database writer stopped"))?
    }
}

type ReadTask = Box<dyn FnOnce(&mut LiteConn) + Send>;

/// A job's future, polled to completion on this thread. It never waits on anything (every
/// statement under it is synchronous); a panic becomes an error instead of a dead thread.
fn run_job<R, F>(c: &mut LiteConn, job: F) -> Result<R>
where
    F: for<'c> FnOnce(&'c mut LiteConn) -> BoxFuture<'c, Result<R>>,
{
    match std::panic::catch_unwind(AssertUnwindSafe(|| futures_executor::block_on(job(c)))) {
        Ok(result) => result,
        Err(_) => {
            tracing::error!("a database job panicked");
            Err(StoreError::db("a database job panicked"))
        }
    }
}

/// A write waiting for its batch.
trait WriteTask: Send {
    /// Runs the job inside the open transaction; whether it succeeded (a failed job's writes
    /// are rolled back to its savepoint).
    fn run(&mut self, c: &mut LiteConn) -> bool;
    /// Answers the caller once the batch's fate is known.
    fn finish(self: Box<Self>, committed: std::result::Result<(), String>);
}

struct Task<R, F> {
    job: Option<F>,
    result: Option<Result<R>>,
    reply: oneshot::Sender<Result<R>>,
}

impl<R, F> WriteTask for Task<R, F>
where
    R: Send + 'static,
    F: for<'c> FnOnce(&'c mut LiteConn) -> BoxFuture<'c, Result<R>> + Send + 'static,
{
    fn run(&mut self, c: &mut LiteConn) -> bool {
        let Some(job) = self.job.take() else { return false };
        let result = run_job(c, job);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, committed: std::result::Result<(), String>) {
        let result = match (self.result, committed) {
            // A refusal wrote nothing: it stands whatever became of the batch.
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(v)), Ok(())) => Ok(v),
            (Some(Ok(_)), Err(e)) | (None, Err(e)) => Err(StoreError::db(e)),
            (None, Ok(())) => Err(StoreError::db("the write did not run")),
        };
        let _ = self.reply.send(result);
    }
}

/// One transaction for every job in `batch`, each in a savepoint. A job refused or failing on
/// its own is rolled back to its savepoint and the rest commit. When the transaction itself is
/// lost (its `COMMIT` fails, or SQLite rolls it back after a full disk or an I/O error), every
/// job of the batch is answered with the error: none was acknowledged, and clients repeat a
/// message safely with its `client_id`.
fn run_batch(c: &mut LiteConn, mut batch: Vec<Box<dyn WriteTask>>) {
    // The transaction statements are prepared once, like every other.
    let step = |c: &mut LiteConn, sql: &str| -> rusqlite::Result<()> { c.conn.prepare_cached(sql)?.execute([]).map(|_| ()) };
    let outcome = (|| -> std::result::Result<(), String> {
        step(c, "BEGIN IMMEDIATE").map_err(|e| format!("cannot begin a write: {e}"))?;
        for task in batch.iter_mut() {
            step(c, "SAVEPOINT job").map_err(|e| format!("write batch broken: {e}"))?;
            if !task.run(c) {
                // SQLite may already have rolled the whole transaction back (a full disk, say).
                if c.conn.is_autocommit() {
                    return Err("the write transaction was rolled back".into());
                }
                step(c, "ROLLBACK TO job").map_err(|e| format!("write batch broken: {e}"))?;
            }
            step(c, "RELEASE job").map_err(|e| format!("write batch broken: {e}"))?;
        }
        step(c, "COMMIT").map_err(|e| format!("commit failed: {e}"))
    })();
    if outcome.is_err() && !c.conn.is_autocommit() {
        if let Err(e) = c.conn.execute_batch("ROLLBACK") {
            tracing::error!(error = %e, "rolling back a failed write batch failed");
        }
    }
    if let Err(e) = &outcome {
        tracing::warn!(error = %e, size = batch.len(), "a write batch failed; none of it was acknowledged");
    }
    for task in batch {
        task.finish(outcome.clone());
    }
}

impl Conn for LiteConn {
    async fn fetch(&mut self, sql: &str, args: Vec<Value>, one: bool) -> Result<Vec<Row>> {
        self.in_transaction()?;
        self.fetch_now(sql, args, one).map_err(db_error)
    }

    async fn execute(&mut self, sql: &str, args: Vec<Value>) -> Result<u64> {
        self.in_transaction()?;
        self.execute_now(sql, args).map_err(db_error)
    }

    async fn scan(&mut self, sql: &str, args: Vec<Value>, each: &mut Each<'_>) -> Result<()> {
        self.in_transaction()?;
        let mut st = self.conn.prepare_cached(sql).map_err(db_error)?;
        bind(&mut st, args).map_err(db_error)?;
        let mut rows = st.raw_query();
        while let Some(r) = rows.next().map_err(db_error)? {
            each(r)?;
        }
        Ok(())
    }
}

impl RowRef for rusqlite::Row<'_> {
    fn int(&self, i: usize) -> Result<Option<i64>> {
        match self.get_ref(i).map_err(db_error)? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(v) => Ok(Some(v)),
            other => Err(StoreError::Corrupt(format!("column {i}: expected an integer, found {:?}", other.data_type()))),
        }
    }

    fn text(&self, i: usize) -> Result<Option<&str>> {
        match self.get_ref(i).map_err(db_error)? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(t) => std::str::from_utf8(t).map(Some).map_err(|e| StoreError::Corrupt(format!("column {i}: {e}"))),
            other => Err(StoreError::Corrupt(format!("column {i}: expected text, found {:?}", other.data_type()))),
        }
    }
}

impl LiteConn {
    /// Refuses a write job's statement once SQLite has rolled its transaction back (a full disk,
    /// say): run outside it, the statement would commit on its own while the job fails.
    fn in_transaction(&self) -> Result<()> {
        if self.writer && self.conn.is_autocommit() {
            return Err(StoreError::db("the write transaction was rolled back"));
        }
        Ok(())
    }

    fn fetch_now(&mut self, sql: &str, args: Vec<Value>, one: bool) -> rusqlite::Result<Vec<Row>> {
        let mut st = self.conn.prepare_cached(sql)?;
        bind(&mut st, args)?;
        let names = match self.names.get(sql) {
            Some(n) => n.clone(),
            None => {
                let n: Arc<[Box<str>]> = st.column_names().into_iter().map(Box::from).collect();
                self.names.insert(sql.to_owned(), n.clone());
                n
            }
        };
        let width = names.len();
        let mut out = Vec::new();
        let mut rows = st.raw_query();
        while let Some(r) = rows.next()? {
            let mut cells = Vec::with_capacity(width);
            for i in 0..width {
                cells.push(match r.get_ref(i)? {
                    ValueRef::Null => Cell::Null,
                    ValueRef::Integer(v) => Cell::Int(v),
                    ValueRef::Text(t) => Cell::Text(std::str::from_utf8(t).map_err(|e| rusqlite::Error::Utf8Error(i, e))?.to_owned()),
                    ValueRef::Blob(b) => Cell::Blob(b.to_vec()),
                    ValueRef::Real(_) => return Err(rusqlite::Error::InvalidColumnType(i, names[i].to_string(), rusqlite::types::Type::Real)),
                });
            }
            out.push(Row::new(names.clone(), cells));
            if one {
                break;
            }
        }
        Ok(out)
    }

    fn execute_now(&mut self, sql: &str, args: Vec<Value>) -> rusqlite::Result<u64> {
        let mut st = self.conn.prepare_cached(sql)?;
        bind(&mut st, args)?;
        let mut rows = st.raw_query();
        while rows.next()?.is_some() {}
        drop(rows);
        Ok(self.conn.changes())
    }
}

/// Binds `$n` to `args[n - 1]` (SQLite numbers named parameters by first appearance, so the
/// name, not the position, says which argument each one is).
fn bind(st: &mut rusqlite::Statement<'_>, args: Vec<Value>) -> rusqlite::Result<()> {
    for i in 1..=st.parameter_count() {
        let n = st.parameter_name(i).and_then(|name| name.strip_prefix('$')).and_then(|n| n.parse::<usize>().ok()).unwrap_or(i);
        let v = args.get(n - 1).ok_or(rusqlite::Error::InvalidParameterCount(n, args.len()))?;
        match v {
            Value::Int(Some(v)) => st.raw_bind_parameter(i, v)?,
            Value::Bool(Some(v)) => st.raw_bind_parameter(i, v)?,
            Value::Text(Some(v)) => st.raw_bind_parameter(i, v.as_str())?,
            Value::Blob(Some(v)) => st.raw_bind_parameter(i, v.as_slice())?,
            Value::Int(None) | Value::Bool(None) | Value::Text(None) | Value::Blob(None) => st.raw_bind_parameter(i, Null)?,
        }
    }
    Ok(())
}

fn db_error(e: rusqlite::Error) -> StoreError {
    let unique = matches!(
        &e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    );
    StoreError::Db(Box::new(DbError { message: e.to_string(), unique }))
}

/// Applies the embedded migrations not yet applied, each in its own transaction, recorded in
/// the same table (and with the same SHA-384 checksums) earlier versions of Baton kept, so an
/// existing database carries on. A recorded migration whose text changed, or one that failed
/// half-way, stops the start.
fn migrate(conn: &mut Connection) -> Result<()> {
    use sha2::{Digest, Sha384};
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
            version BIGINT PRIMARY KEY,
            description TEXT NOT NULL,
            installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
            success BOOLEAN NOT NULL,
            checksum BLOB NOT NULL,
            execution_time BIGINT NOT NULL
        )",
    )
    .map_err(db_error)?;
    let applied: HashMap<i64, (bool, Vec<u8>)> = {
        let mut st = conn.prepare("SELECT version, success, checksum FROM _sqlx_migrations").map_err(db_error)?;
        st.query_map([], |r| Ok((r.get::<_, i64>(0)?, (r.get::<_, bool>(1)?, r.get::<_, Vec<u8>>(2)?))))
            .map_err(db_error)?
            .collect::<rusqlite::Result<_>>()
            .map_err(db_error)?
    };
    for (version, description, sql) in MIGRATIONS {
        let checksum = Sha384::digest(sql.as_bytes()).to_vec();
        match applied.get(version) {
            Some((false, _)) => return Err(StoreError::db(format!("migration {version} ({description}) failed part-way earlier; restore a backup"))),
            Some((true, stored)) if *stored != checksum => {
                return Err(StoreError::db(format!("migration {version} ({description}) differs from the one applied to this database")));
            }
            Some(_) => continue,
            None => {}
        }
        let started = Instant::now();
        let tx = conn.transaction().map_err(db_error)?;
        tx.execute_batch(sql).map_err(|e| StoreError::db(format!("migration {version} ({description}) failed: {e}")))?;
        tx.execute(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (?1, ?2, TRUE, ?3, ?4)",
            rusqlite::params![version, description, checksum, started.elapsed().as_nanos() as i64],
        )
        .map_err(db_error)?;
        tx.commit().map_err(db_error)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::db::{query, query_scalar};

    #[tokio::test]
    async fn a_refused_job_leaves_nothing_while_its_batch_mates_commit() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        let key = |name: &'static str, fail: bool| {
            let store = store.clone();
            async move {
                run!(store.write, |c| {
                    query("INSERT INTO instance_keys (name, value) VALUES ($1, 'v')").bind(name).execute(c).await?;
                    if fail { Err(StoreError::Invalid("refused".into())) } else { Ok(()) }
                })
            }
        };
        let (a, b, c) = tokio::join!(key("a", false), key("b", true), key("c", false));
        assert!(a.is_ok() && c.is_ok());
        assert!(matches!(b, Err(StoreError::Invalid(_))));
        let names: Vec<String> = run!(store.read, |c| { query_scalar("SELECT name FROM instance_keys ORDER BY name").fetch_all(c).await }).unwrap();
        assert_eq!(names, vec!["a".to_string(), "c".to_string()]);
    }

    #[tokio::test]
    async fn once_its_transaction_is_gone_a_write_job_writes_nothing_more() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        // What SQLite does on its own after a full disk or an I/O error, done by hand.
        let broken = run!(store.write, |c| {
            query("INSERT INTO instance_keys (name, value) VALUES ('a', 'v')").execute(c).await?;
            query("ROLLBACK").execute(c).await?;
            let after = query("INSERT INTO instance_keys (name, value) VALUES ('b', 'v')").execute(c).await;
            assert!(after.is_err(), "a statement after the rollback is refused");
            after.map(|_| ())
        });
        assert!(broken.is_err());
        run!(store.write, |c| { query("INSERT INTO instance_keys (name, value) VALUES ('c', 'v')").execute(c).await.map(|_| ()) }).unwrap();
        let names: Vec<String> = run!(store.read, |c| { query_scalar("SELECT name FROM instance_keys ORDER BY name").fetch_all(c).await }).unwrap();
        assert_eq!(names, vec!["c".to_string()], "nothing of the broken job was kept, and the writer goes on");
    }

    #[tokio::test]
    async fn writes_reach_the_database_file_without_a_commit_doing_the_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        let file = dir.path().join("baton.db");
        let before = std::fs::metadata(&file).unwrap().len();
        // Enough committed jobs to nudge the checkpoint thread, each with a few pages of data.
        let big = "x".repeat(8192);
        for i in 0..CHECKPOINT_EVERY + 1 {
            let (name, value) = (format!("k{i}"), big.clone());
            run!(store.write, |c| {
                query("INSERT INTO instance_keys (name, value) VALUES ($1, $2)").bind(name).bind(value).execute(c).await.map(|_| ())
            })
            .unwrap();
        }
        // SQLite's own checkpoint is off: only the checkpoint thread copies the WAL into the file.
        let grown = (CHECKPOINT_EVERY * 8192) as u64;
        for _ in 0..1000 {
            if std::fs::metadata(&file).unwrap().len() >= before + grown {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the database file did not grow: {} bytes", std::fs::metadata(&file).unwrap().len());
    }

    #[tokio::test]
    async fn placeholders_bind_by_number_whatever_their_order_in_the_text() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        let got: (i64, String, i64) =
            run!(store.read, |c| { crate::store::db::query_as("SELECT $2 + 0, $1, $2 * 2").bind("x").bind(21_i64).fetch_one(c).await }).unwrap();
        assert_eq!(got, (21, "x".to_string(), 42));
    }

    #[tokio::test]
    async fn a_reopened_database_keeps_its_migrations_and_refuses_a_changed_one() {
        let dir = tempfile::tempdir().unwrap();
        drop(SqliteStore::open(dir.path()).await.unwrap());
        drop(SqliteStore::open(dir.path()).await.unwrap());
        let conn = Connection::open(dir.path().join("baton.db")).unwrap();
        conn.execute("UPDATE _sqlx_migrations SET checksum = x'00' WHERE version = 1", []).unwrap();
        drop(conn);
        let err = SqliteStore::open(dir.path()).await.unwrap_err();
        assert!(err.to_string().contains("differs"), "{err}");
    }
}
