//! The scale-out engine: PostgreSQL, shared by every node.

use futures_util::future::BoxFuture;
use sqlx::postgres::{PgArguments, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{Arguments, Column, Row as _, TypeInfo};

use super::db::{Cell, Conn, Each, Row, RowRef, Value};
use super::{Result, StoreError, migrator};

/// This engine's schema history, embedded in the binary.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../../migrations/postgres/0001_init.sql")),
    (2, "presence", include_str!("../../migrations/postgres/0002_presence.sql")),
    (3, "notifications", include_str!("../../migrations/postgres/0003_notifications.sql")),
    (4, "credentials", include_str!("../../migrations/postgres/0004_credentials.sql")),
    (5, "login_addresses", include_str!("../../migrations/postgres/0005_login_addresses.sql")),
    (6, "invitations", include_str!("../../migrations/postgres/0006_invitations.sql")),
    (7, "visitor side", include_str!("../../migrations/postgres/0007_visitor_side.sql")),
    (8, "pending alerts", include_str!("../../migrations/postgres/0008_pending_alerts.sql")),
    (9, "attachments", include_str!("../../migrations/postgres/0009_attachments.sql")),
    (10, "search", include_str!("../../migrations/postgres/0010_search.sql")),
    (11, "visitor context", include_str!("../../migrations/postgres/0011_visitor_context.sql")),
    (12, "snooze", include_str!("../../migrations/postgres/0012_snooze.sql")),
    (13, "audit log", include_str!("../../migrations/postgres/0013_audit.sql")),
    (14, "data rights", include_str!("../../migrations/postgres/0014_data_rights.sql")),
    (15, "webhooks", include_str!("../../migrations/postgres/0015_webhooks.sql")),
    (16, "reports", include_str!("../../migrations/postgres/0016_reports.sql")),
    (17, "accounts", include_str!("../../migrations/postgres/0017_accounts.sql")),
    (18, "report tallies", include_str!("../../migrations/postgres/0018_report_tallies.sql")),
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

    /// Runs `job` on a pooled connection.
    pub(crate) async fn read<R, F>(&self, job: F) -> Result<R>
    where
        R: Send + 'static,
        F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<R>> + Send + 'static,
    {
        let mut c = self.pool.acquire().await?;
        job(&mut c).await
    }

    /// Runs `job` in a transaction of its own, committed when it succeeds (PostgreSQL groups
    /// concurrent commits itself).
    pub(crate) async fn write<R, F>(&self, job: F) -> Result<R>
    where
        R: Send + 'static,
        F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<R>> + Send + 'static,
    {
        let mut tx = self.pool.begin().await?;
        let out = job(&mut tx).await?;
        tx.commit().await?;
        Ok(out)
    }
}

fn arguments(args: Vec<Value>) -> Result<PgArguments> {
    let mut a = PgArguments::default();
    for v in args {
        let added = match v {
            Value::Int(v) => a.add(v),
            Value::Bool(v) => a.add(v),
            Value::Text(v) => a.add(v),
            Value::Blob(v) => a.add(v),
        };
        added.map_err(|e| StoreError::db(format!("cannot bind a parameter: {e}")))?;
    }
    Ok(a)
}

fn cells(row: &PgRow) -> Result<Vec<Cell>> {
    let mut out = Vec::with_capacity(row.len());
    for (i, col) in row.columns().iter().enumerate() {
        let cell = match col.type_info().name() {
            "INT8" => row.try_get::<Option<i64>, _>(i)?.map(Cell::Int),
            "INT4" => row.try_get::<Option<i32>, _>(i)?.map(|v| Cell::Int(v.into())),
            "INT2" => row.try_get::<Option<i16>, _>(i)?.map(|v| Cell::Int(v.into())),
            "BOOL" => row.try_get::<Option<bool>, _>(i)?.map(Cell::Bool),
            "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" => row.try_get::<Option<String>, _>(i)?.map(Cell::Text),
            "BYTEA" => row.try_get::<Option<Vec<u8>>, _>(i)?.map(Cell::Blob),
            other => return Err(StoreError::Corrupt(format!("column {:?} has an unexpected type {other}", col.name()))),
        };
        out.push(cell.unwrap_or(Cell::Null));
    }
    Ok(out)
}

impl Conn for PgConnection {
    async fn fetch(&mut self, sql: &str, args: Vec<Value>, one: bool) -> Result<Vec<Row>> {
        let q = sqlx::query_with(sqlx::AssertSqlSafe(sql), arguments(args)?);
        let rows = if one { q.fetch_optional(&mut *self).await?.into_iter().collect() } else { q.fetch_all(&mut *self).await? };
        let Some(first) = rows.first() else { return Ok(Vec::new()) };
        let names: std::sync::Arc<[Box<str>]> = first.columns().iter().map(|c| Box::from(c.name())).collect();
        rows.iter().map(|r| Ok(Row::new(names.clone(), cells(r)?))).collect()
    }

    async fn execute(&mut self, sql: &str, args: Vec<Value>) -> Result<u64> {
        Ok(sqlx::query_with(sqlx::AssertSqlSafe(sql), arguments(args)?).execute(&mut *self).await?.rows_affected())
    }

    async fn scan(&mut self, sql: &str, args: Vec<Value>, each: &mut Each<'_>) -> Result<()> {
        use futures_util::TryStreamExt;
        let mut rows = sqlx::query_with(sqlx::AssertSqlSafe(sql), arguments(args)?).fetch(&mut *self);
        while let Some(r) = rows.try_next().await? {
            each(&r)?;
        }
        Ok(())
    }
}

impl RowRef for PgRow {
    fn int(&self, i: usize) -> Result<Option<i64>> {
        let col = self.columns().get(i).ok_or_else(|| StoreError::Corrupt(format!("no column {i} in the result")))?;
        Ok(match col.type_info().name() {
            "INT8" => self.try_get::<Option<i64>, _>(i)?,
            "INT4" => self.try_get::<Option<i32>, _>(i)?.map(i64::from),
            "INT2" => self.try_get::<Option<i16>, _>(i)?.map(i64::from),
            other => return Err(StoreError::Corrupt(format!("column {:?}: expected an integer, found {other}", col.name()))),
        })
    }

    fn text(&self, i: usize) -> Result<Option<&str>> {
        Ok(self.try_get::<Option<&str>, _>(i)?)
    }
}
