//! The query layer both engines run: SQL text with `$n` placeholders, bound [`Value`]s, and
//! rows of [`Cell`]s decoded by name into plain structs.
//!
//! The store's SQL is written once against [`Conn`]; each engine implements it (rusqlite on
//! SQLite's own threads, sqlx on PostgreSQL) and decides how a whole unit of work meets a
//! transaction. Nothing here knows which engine runs it.

use std::borrow::Cow;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use super::{Result, StoreError};

/// A bound parameter. `None` is a typed NULL: PostgreSQL wants to know what it stands for.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    Int(Option<i64>),
    Bool(Option<bool>),
    Text(Option<String>),
    Blob(Option<Vec<u8>>),
}

/// A value read from a row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Null,
    Int(i64),
    Bool(bool),
    Text(String),
    Blob(Vec<u8>),
    /// Already decoded into a field (each column is read once).
    Taken,
}

/// One result row: column names shared by every row of the result, cells owned.
#[derive(Debug)]
pub(crate) struct Row {
    names: Arc<[Box<str>]>,
    cells: Vec<Cell>,
}

impl Row {
    pub(crate) fn new(names: Arc<[Box<str>]>, cells: Vec<Cell>) -> Self {
        Self { names, cells }
    }

    /// Moves the named column's value out, decoded.
    pub(crate) fn take<T: FromCell>(&mut self, name: &str) -> Result<T> {
        let i = self.names.iter().position(|n| &**n == name).ok_or_else(|| StoreError::Corrupt(format!("no column {name:?} in the result")))?;
        self.take_at(i)
    }

    /// Moves the value of the column at `i` out, decoded.
    pub(crate) fn take_at<T: FromCell>(&mut self, i: usize) -> Result<T> {
        let name = self.names.get(i).ok_or_else(|| StoreError::Corrupt(format!("no column {i} in the result")))?;
        let cell = std::mem::replace(&mut self.cells[i], Cell::Taken);
        if cell == Cell::Taken {
            return Err(StoreError::Corrupt(format!("column {name:?} read twice")));
        }
        T::from_cell(cell).map_err(|e| {
            tracing::error!(column = %name, error = %e, "a stored row does not decode");
            StoreError::Corrupt(format!("column {name:?}: {e}"))
        })
    }
}

/// A Rust value from one cell; `Err` names what was wrong (a stored value that does not parse
/// fails its row rather than reading as a default).
pub(crate) trait FromCell: Sized {
    fn from_cell(cell: Cell) -> Result<Self, String>;
}

/// A Rust value from a whole row.
pub(crate) trait FromRow: Sized {
    fn from_row(row: &mut Row) -> Result<Self>;
}

/// A Rust value as a parameter.
pub(crate) trait Bind {
    fn value(self) -> Value;
    /// This type's NULL.
    fn null() -> Value;
}

fn wrong(what: &str, cell: &Cell) -> String {
    format!("expected {what}, found {cell:?}")
}

impl FromCell for i64 {
    fn from_cell(cell: Cell) -> Result<Self, String> {
        match cell {
            Cell::Int(v) => Ok(v),
            other => Err(wrong("an integer", &other)),
        }
    }
}

impl FromCell for bool {
    fn from_cell(cell: Cell) -> Result<Self, String> {
        match cell {
            Cell::Bool(v) => Ok(v),
            // SQLite keeps booleans as 0 and 1.
            Cell::Int(0) => Ok(false),
            Cell::Int(1) => Ok(true),
            other => Err(wrong("a boolean", &other)),
        }
    }
}

impl FromCell for String {
    fn from_cell(cell: Cell) -> Result<Self, String> {
        match cell {
            Cell::Text(v) => Ok(v),
            other => Err(wrong("text", &other)),
        }
    }
}

impl FromCell for Vec<u8> {
    fn from_cell(cell: Cell) -> Result<Self, String> {
        match cell {
            Cell::Blob(v) => Ok(v),
            other => Err(wrong("bytes", &other)),
        }
    }
}

impl<T: FromCell> FromCell for Option<T> {
    fn from_cell(cell: Cell) -> Result<Self, String> {
        match cell {
            Cell::Null => Ok(None),
            other => T::from_cell(other).map(Some),
        }
    }
}

impl Bind for i64 {
    fn value(self) -> Value {
        Value::Int(Some(self))
    }
    fn null() -> Value {
        Value::Int(None)
    }
}

impl Bind for bool {
    fn value(self) -> Value {
        Value::Bool(Some(self))
    }
    fn null() -> Value {
        Value::Bool(None)
    }
}

impl Bind for String {
    fn value(self) -> Value {
        Value::Text(Some(self))
    }
    fn null() -> Value {
        Value::Text(None)
    }
}

impl Bind for &String {
    fn value(self) -> Value {
        Value::Text(Some(self.clone()))
    }
    fn null() -> Value {
        Value::Text(None)
    }
}

impl Bind for &str {
    fn value(self) -> Value {
        Value::Text(Some(self.to_owned()))
    }
    fn null() -> Value {
        Value::Text(None)
    }
}

impl Bind for Vec<u8> {
    fn value(self) -> Value {
        Value::Blob(Some(self))
    }
    fn null() -> Value {
        Value::Blob(None)
    }
}

impl<T: Bind> Bind for Option<T> {
    fn value(self) -> Value {
        match self {
            Some(v) => v.value(),
            None => T::null(),
        }
    }
    fn null() -> Value {
        T::null()
    }
}

impl<'a, T> Bind for &'a Option<T>
where
    &'a T: Bind,
{
    fn value(self) -> Value {
        match self {
            Some(v) => v.value(),
            None => <&T>::null(),
        }
    }
    fn null() -> Value {
        <&T>::null()
    }
}

/// Tuples decode by position: `SELECT a, b` into `(A, B)`.
macro_rules! tuple_rows {
    ($(($($T:ident $i:tt),+)),+ $(,)?) => {$(
        impl<$($T: FromCell),+> FromRow for ($($T,)+) {
            fn from_row(row: &mut Row) -> Result<Self> {
                Ok(($(row.take_at::<$T>($i)?,)+))
            }
        }
    )+};
}

tuple_rows!((A 0), (A 0, B 1), (A 0, B 1, C 2), (A 0, B 1, C 2, D 3), (A 0, B 1, C 2, D 3, E 4));

/// A struct whose fields are columns of the same name; a `#[flatten]` field is itself a row
/// struct read from the same row.
macro_rules! row {
    ($(#[$m:meta])* $vis:vis struct $Name:ident { $($(#[$flat:ident])? $f:ident : $t:ty),* $(,)? }) => {
        $(#[$m])*
        $vis struct $Name {
            $($f: $t),*
        }

        impl $crate::store::db::FromRow for $Name {
            fn from_row(row: &mut $crate::store::db::Row) -> $crate::store::Result<Self> {
                Ok(Self { $($f: row_field!(row $f $($flat)?)),* })
            }
        }
    };
}

macro_rules! row_field {
    ($row:ident $f:ident flatten) => {
        $crate::store::db::FromRow::from_row($row)?
    };
    ($row:ident $f:ident) => {
        $row.take(stringify!($f))?
    };
}

/// One row of a [`Scan`], read where it lies: nothing is copied out but what is asked for.
pub(crate) trait RowRef {
    /// The integer (or NULL) at column `i`.
    fn int(&self, i: usize) -> Result<Option<i64>>;
    /// The text (or NULL) at column `i`, borrowed from the row.
    fn text(&self, i: usize) -> Result<Option<&str>>;
}

/// A row handed to a scan's closure.
pub(crate) type Each<'a> = dyn FnMut(&dyn RowRef) -> Result<()> + Send + 'a;

/// What an engine runs: SQL, its parameters, and whether one row is enough.
pub(crate) trait Conn: Send {
    /// The rows of a query; at most one when `one`.
    fn fetch(&mut self, sql: &str, args: Vec<Value>, one: bool) -> impl Future<Output = Result<Vec<Row>>> + Send;
    /// Hands each row of a query to `each` in turn, without collecting them: for reads that
    /// add many rows up and keep only the sums. The first error stops the scan.
    fn scan(&mut self, sql: &str, args: Vec<Value>, each: &mut Each<'_>) -> impl Future<Output = Result<()>> + Send;
    /// Runs a statement; how many rows it changed.
    fn execute(&mut self, sql: &str, args: Vec<Value>) -> impl Future<Output = Result<u64>> + Send;
}

/// A statement's outcome.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Done(u64);

impl Done {
    pub(crate) fn rows_affected(&self) -> u64 {
        self.0
    }
}

/// SQL and its bound parameters.
#[derive(Debug)]
pub(crate) struct Args {
    sql: Cow<'static, str>,
    args: Vec<Value>,
}

/// A statement run for its effect.
#[derive(Debug)]
pub(crate) struct Query(Args);

/// A query whose rows decode into `R`.
#[derive(Debug)]
pub(crate) struct QueryAs<R>(Args, PhantomData<fn() -> R>);

/// A query whose rows are seen one at a time (see [`Conn::scan`]).
#[derive(Debug)]
pub(crate) struct Scan(Args);

/// A query whose first column decodes into `T`.
#[derive(Debug)]
pub(crate) struct QueryScalar<T>(Args, PhantomData<fn() -> T>);

pub(crate) fn query(sql: impl Into<Cow<'static, str>>) -> Query {
    Query(Args { sql: sql.into(), args: Vec::new() })
}

pub(crate) fn query_as<R: FromRow>(sql: impl Into<Cow<'static, str>>) -> QueryAs<R> {
    QueryAs(Args { sql: sql.into(), args: Vec::new() }, PhantomData)
}

pub(crate) fn scan(sql: impl Into<Cow<'static, str>>) -> Scan {
    Scan(Args { sql: sql.into(), args: Vec::new() })
}

pub(crate) fn query_scalar<T: FromCell>(sql: impl Into<Cow<'static, str>>) -> QueryScalar<T> {
    QueryScalar(Args { sql: sql.into(), args: Vec::new() }, PhantomData)
}

impl Query {
    pub(crate) fn bind(mut self, v: impl Bind) -> Self {
        self.0.args.push(v.value());
        self
    }

    pub(crate) async fn execute<C: Conn + ?Sized>(self, c: &mut C) -> Result<Done> {
        Ok(Done(c.execute(&self.0.sql, self.0.args).await?))
    }
}

impl<R: FromRow> QueryAs<R> {
    pub(crate) fn bind(mut self, v: impl Bind) -> Self {
        self.0.args.push(v.value());
        self
    }

    pub(crate) async fn fetch_all<C: Conn + ?Sized>(self, c: &mut C) -> Result<Vec<R>> {
        let rows = c.fetch(&self.0.sql, self.0.args, false).await?;
        rows.into_iter().map(|mut r| R::from_row(&mut r)).collect()
    }

    pub(crate) async fn fetch_optional<C: Conn + ?Sized>(self, c: &mut C) -> Result<Option<R>> {
        let rows = c.fetch(&self.0.sql, self.0.args, true).await?;
        rows.into_iter().next().map(|mut r| R::from_row(&mut r)).transpose()
    }

    /// The first row; `NotFound` when there is none.
    pub(crate) async fn fetch_one<C: Conn + ?Sized>(self, c: &mut C) -> Result<R> {
        self.fetch_optional(c).await?.ok_or(StoreError::NotFound)
    }
}

impl Scan {
    pub(crate) fn bind(mut self, v: impl Bind) -> Self {
        self.0.args.push(v.value());
        self
    }

    /// Calls `f` with each row, in the query's order.
    pub(crate) async fn each<C: Conn + ?Sized>(self, c: &mut C, mut f: impl FnMut(&dyn RowRef) -> Result<()> + Send) -> Result<()> {
        c.scan(&self.0.sql, self.0.args, &mut f).await
    }
}

impl<T: FromCell> QueryScalar<T> {
    pub(crate) fn bind(mut self, v: impl Bind) -> Self {
        self.0.args.push(v.value());
        self
    }

    pub(crate) async fn fetch_all<C: Conn + ?Sized>(self, c: &mut C) -> Result<Vec<T>> {
        let rows = c.fetch(&self.0.sql, self.0.args, false).await?;
        rows.into_iter().map(|mut r| r.take_at(0)).collect()
    }

    pub(crate) async fn fetch_optional<C: Conn + ?Sized>(self, c: &mut C) -> Result<Option<T>> {
        let rows = c.fetch(&self.0.sql, self.0.args, true).await?;
        rows.into_iter().next().map(|mut r| r.take_at(0)).transpose()
    }

    /// The first row's value; `NotFound` when there is none.
    pub(crate) async fn fetch_one<C: Conn + ?Sized>(self, c: &mut C) -> Result<T> {
        self.fetch_optional(c).await?.ok_or(StoreError::NotFound)
    }
}

/// A database failure, with the one kind of refusal the store maps to a conflict.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub(crate) struct DbError {
    pub message: String,
    /// A unique constraint refused the write.
    pub unique: bool,
}

impl StoreError {
    pub(crate) fn db(message: impl Into<String>) -> Self {
        Self::Db(Box::new(DbError { message: message.into(), unique: false }))
    }
}

/// Whether a failed write broke a unique constraint (the same check on both engines).
pub(crate) fn is_unique_violation(e: &StoreError) -> bool {
    matches!(e, StoreError::Db(b) if b.downcast_ref::<DbError>().is_some_and(|d| d.unique))
}

/// Runs a block on one of the store's connections: `run!(self.read, |c| { ... })` for reads,
/// `run!(self.write, |c| { ... })` for a transaction. Everything the block uses is moved in.
macro_rules! run {
    ($store:ident . $mode:ident, |$c:ident| $body:block) => {
        $store.$mode(move |$c| Box::pin(async move $body)).await
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_reads_each_column_once_by_name_or_position() {
        let names: Arc<[Box<str>]> = vec!["a".into(), "b".into(), "c".into()].into();
        let mut row = Row::new(names, vec![Cell::Int(7), Cell::Text("x".into()), Cell::Null]);
        assert_eq!(row.take::<i64>("a").unwrap(), 7);
        assert_eq!(row.take::<Option<String>>("c").unwrap(), None);
        assert!(matches!(row.take::<i64>("a"), Err(StoreError::Corrupt(_))), "a column is moved out once");
        assert!(matches!(row.take::<i64>("b"), Err(StoreError::Corrupt(_))), "text is not an integer");
        assert!(matches!(row.take::<i64>("nope"), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn booleans_read_from_either_engine_and_nothing_else() {
        assert_eq!(bool::from_cell(Cell::Bool(true)), Ok(true));
        assert_eq!(bool::from_cell(Cell::Int(0)), Ok(false));
        assert!(bool::from_cell(Cell::Int(2)).is_err());
        assert!(bool::from_cell(Cell::Text("true".into())).is_err());
    }

    #[test]
    fn a_null_knows_its_type() {
        assert!(matches!(None::<i64>.value(), Value::Int(None)));
        assert!(matches!(Some("x").value(), Value::Text(Some(_))));
        assert!(matches!((&None::<String>).value(), Value::Text(None)));
    }
}
