//! The SQL layer under the store: one small interface over the two backends.
//!
//! - **SQLite** (the embedded default): one file, three connections (writes, the API's reads,
//!   the index follower's change feed), WAL so they overlap.
//! - **PostgreSQL** (several nodes, one database): a pool of `tokio-postgres` clients driven
//!   by a small runtime of the store's own, so that the store's interface stays synchronous
//!   and may be called from anywhere, async workers included (see [`pg`]).
//!
//! The store's SQL is written once, in SQLite's dialect; the PostgreSQL backend rewrites
//! the few idioms that differ when it prepares a statement ([`pg::translate`]): `?N`
//! placeholders, `strftime(…, 'now')`, `json_extract(x, '$.key')`, `json_each`, `instr`, and in schema
//! text the column types (`INTEGER PRIMARY KEY` becomes an identity column). Everything
//! else must be SQL both understand (`ON CONFLICT … DO …`, `RETURNING`, `COALESCE`,
//! `CASE`); the store's test suite runs on both backends to hold that.
//!
//! Writes are serialised on both: SQLite has one writer, and on PostgreSQL every write
//! transaction first takes one transaction-scoped advisory lock. So the change log's
//! sequence numbers are handed out in commit order: a follower that reads `seq > watermark`
//! can never miss a row that commits late (see ARCHITECTURE.md, "The change log on several
//! nodes").

use std::sync::{Mutex, MutexGuard};

use crate::{Result, StoreError};

pub(crate) mod pg;

/// A parameter of a statement, borrowed from the caller.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

/// What can be a statement's parameter (see [`args!`]).
pub(crate) trait ToArg {
    fn to_arg(&self) -> Arg<'_>;
}

macro_rules! to_arg_int {
    ($($t:ty),*) => {$(
        impl ToArg for $t {
            fn to_arg(&self) -> Arg<'_> {
                Arg::Int(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
to_arg_int!(i64, i32, u32, u64, usize, u16, u8);

impl ToArg for bool {
    fn to_arg(&self) -> Arg<'_> {
        Arg::Int(i64::from(*self))
    }
}

impl ToArg for f64 {
    fn to_arg(&self) -> Arg<'_> {
        Arg::Real(*self)
    }
}

impl ToArg for str {
    fn to_arg(&self) -> Arg<'_> {
        Arg::Text(self)
    }
}

impl ToArg for String {
    fn to_arg(&self) -> Arg<'_> {
        Arg::Text(self)
    }
}

impl ToArg for [u8] {
    fn to_arg(&self) -> Arg<'_> {
        Arg::Blob(self)
    }
}

impl ToArg for Vec<u8> {
    fn to_arg(&self) -> Arg<'_> {
        Arg::Blob(self)
    }
}

impl<T: ToArg> ToArg for Option<T> {
    fn to_arg(&self) -> Arg<'_> {
        self.as_ref().map_or(Arg::Null, ToArg::to_arg)
    }
}

impl<T: ToArg + ?Sized> ToArg for &T {
    fn to_arg(&self) -> Arg<'_> {
        (**self).to_arg()
    }
}

/// The parameters of a statement: `args![id, title]` borrows each.
macro_rules! args {
    ($($value:expr),* $(,)?) => {
        &[$($crate::db::ToArg::to_arg(&$value)),*][..]
    };
}
pub(crate) use args;

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match *self {
            Arg::Null => ValueRef::Null,
            Arg::Int(n) => ValueRef::Integer(n),
            Arg::Real(x) => ValueRef::Real(x),
            Arg::Text(s) => ValueRef::Text(s.as_bytes()),
            Arg::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

/// One column's value as read, borrowed from the row.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

impl Value<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Int(_) => "an integer",
            Value::Real(_) => "a real",
            Value::Text(_) => "text",
            Value::Blob(_) => "a blob",
        }
    }
}

/// What a column can be read as. The message of an error says what was found instead.
pub(crate) trait FromValue: Sized {
    fn from_value(value: Value<'_>) -> Result<Self, String>;
}

fn wrong(value: Value<'_>, wanted: &str) -> String {
    format!("{} where {wanted} was expected", value.kind())
}

impl FromValue for i64 {
    fn from_value(value: Value<'_>) -> Result<Self, String> {
        match value {
            Value::Int(n) => Ok(n),
            other => Err(wrong(other, "an integer")),
        }
    }
}

macro_rules! from_value_int {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(value: Value<'_>) -> Result<Self, String> {
                let n = i64::from_value(value)?;
                <$t>::try_from(n).map_err(|_| format!("{n} is out of range for {}", stringify!($t)))
            }
        }
    )*};
}
from_value_int!(i32, u32, u64, usize, u16, u8);

impl FromValue for bool {
    fn from_value(value: Value<'_>) -> Result<Self, String> {
        Ok(i64::from_value(value)? != 0)
    }
}

impl FromValue for f64 {
    fn from_value(value: Value<'_>) -> Result<Self, String> {
        match value {
            Value::Real(x) => Ok(x),
            Value::Int(n) => Ok(n as f64),
            other => Err(wrong(other, "a number")),
        }
    }
}

impl FromValue for String {
    fn from_value(value: Value<'_>) -> Result<Self, String> {
        match value {
            Value::Text(s) => Ok(s.to_owned()),
            other => Err(wrong(other, "text")),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(value: Value<'_>) -> Result<Self, String> {
        match value {
            Value::Blob(b) => Ok(b.to_vec()),
            Value::Text(s) => Ok(s.as_bytes().to_vec()),
            other => Err(wrong(other, "a blob")),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: Value<'_>) -> Result<Self, String> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// Reads a stored vocabulary name (a run's status, an audit action, an image's state) with
/// the enum's `from_name`; a name this build does not know (a database written by another
/// version) is an error that names it.
pub(crate) fn stored_name<T>(value: Value<'_>, from_name: fn(&str) -> Option<T>) -> Result<T, String> {
    let name = String::from_value(value)?;
    from_name(&name).ok_or_else(|| format!("unknown stored name {name:?}"))
}

/// A row of a result.
pub(crate) enum Row<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r tokio_postgres::Row),
}

impl Row<'_> {
    /// Column `index`, read as `T`.
    pub(crate) fn get<T: FromValue>(&self, index: usize) -> Result<T> {
        let value = match self {
            Row::Sqlite(row) => {
                use rusqlite::types::ValueRef;
                match row.get_ref(index)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(n) => Value::Int(n),
                    ValueRef::Real(x) => Value::Real(x),
                    ValueRef::Text(t) => Value::Text(
                        std::str::from_utf8(t)
                            .map_err(|e| StoreError::Value(format!("column {index}: {e}")))?,
                    ),
                    ValueRef::Blob(b) => Value::Blob(b),
                }
            }
            Row::Postgres(row) => row.try_get::<_, pg::PgValue>(index)?.0,
        };
        T::from_value(value).map_err(|message| StoreError::Value(format!("column {index}: {message}")))
    }
}

/// Which SQL a connection speaks, for the few statements written per backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// A connection (inside a transaction for writes) that statements run on.
pub(crate) enum Conn<'c> {
    Sqlite(&'c rusqlite::Connection),
    Postgres(&'c mut pg::Client),
}

impl Conn<'_> {
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs a statement; returns the rows it changed.
    pub(crate) fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<usize> {
        match self {
            Conn::Sqlite(conn) => Ok(conn
                .prepare_cached(sql)?
                .execute(rusqlite::params_from_iter(args))?),
            Conn::Postgres(client) => client.execute(sql, args),
        }
    }

    /// Runs statements without parameters (schema text), separated by `;`.
    pub(crate) fn execute_batch(&mut self, sql: &str) -> Result<()> {
        match self {
            Conn::Sqlite(conn) => Ok(conn.execute_batch(sql)?),
            Conn::Postgres(client) => client.batch(sql),
        }
    }

    /// Each row of a query, read by `f`.
    pub(crate) fn query_map<T>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        mut f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        match self {
            Conn::Sqlite(conn) => {
                let mut stmt = conn.prepare_cached(sql)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
                let mut out = Vec::new();
                while let Some(row) = rows.next()? {
                    out.push(f(&Row::Sqlite(row))?);
                }
                Ok(out)
            }
            Conn::Postgres(client) => client
                .query(sql, args)?
                .iter()
                .map(|row| f(&Row::Postgres(row)))
                .collect(),
        }
    }

    /// The first row of a query, read by `f`, or `None`.
    pub(crate) fn query_opt<T>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        match self {
            Conn::Sqlite(conn) => {
                let mut stmt = conn.prepare_cached(sql)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
                rows.next()?.map(|row| f(&Row::Sqlite(row))).transpose()
            }
            Conn::Postgres(client) => client
                .query(sql, args)?
                .first()
                .map(|row| f(&Row::Postgres(row)))
                .transpose(),
        }
    }

    /// The first row of a query, read by `f`; no row is an error (for aggregates and
    /// `RETURNING`, which always give one).
    pub(crate) fn query_row<T>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        self.query_opt(sql, args, f)?
            .ok_or_else(|| StoreError::Value(format!("no row from {}", sql.trim())))
    }

    /// Whether a query has a row.
    pub(crate) fn exists(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<bool> {
        Ok(self.query_opt(sql, args, |_| Ok(()))?.is_some())
    }
}

/// The database: SQLite's three connections or PostgreSQL's pool.
pub(crate) enum Db {
    Sqlite {
        writer: Mutex<rusqlite::Connection>,
        reader: Mutex<rusqlite::Connection>,
        feed: Mutex<rusqlite::Connection>,
    },
    Postgres(pg::Pool),
}

fn lock(conn: &Mutex<rusqlite::Connection>) -> MutexGuard<'_, rusqlite::Connection> {
    // A poisoned lock only means another thread panicked mid-call; SQLite rolled its
    // transaction back, so the connection itself is fine to reuse.
    conn.lock().unwrap_or_else(|e| e.into_inner())
}

impl Db {
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite { .. } => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs `f` in a write transaction and commits it; on an error nothing of it is
    /// written. Write transactions run one at a time (see the module's documentation).
    pub(crate) fn write<T>(&self, f: impl FnOnce(&mut Conn<'_>) -> Result<T>) -> Result<T> {
        match self {
            Db::Sqlite { writer, .. } => {
                let mut conn = lock(writer);
                // IMMEDIATE takes the write lock at once: a second writer on the same file
                // (`jincheng harvest` beside `jincheng serve`) then waits under the busy
                // timeout; a deferred transaction would fail at once with `SQLITE_BUSY` when
                // its read snapshot could not be upgraded to a write.
                let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let out = f(&mut Conn::Sqlite(&tx))?;
                tx.commit()?;
                Ok(out)
            }
            Db::Postgres(pool) => pool.get()?.write(|client| f(&mut Conn::Postgres(client))),
        }
    }

    /// Runs `f` on the connection for the API's reads (no transaction: each statement sees
    /// what is committed when it runs).
    pub(crate) fn read<T>(&self, f: impl FnOnce(&mut Conn<'_>) -> Result<T>) -> Result<T> {
        match self {
            Db::Sqlite { reader, .. } => f(&mut Conn::Sqlite(&lock(reader))),
            Db::Postgres(pool) => f(&mut Conn::Postgres(&mut *pool.get()?)),
        }
    }

    /// Runs `f` on the connection for the index follower's change feed.
    pub(crate) fn feed<T>(&self, f: impl FnOnce(&mut Conn<'_>) -> Result<T>) -> Result<T> {
        match self {
            Db::Sqlite { feed, .. } => f(&mut Conn::Sqlite(&lock(feed))),
            Db::Postgres(pool) => f(&mut Conn::Postgres(&mut *pool.get()?)),
        }
    }
}

/// The `store::commit` failpoint (tests only, the `failpoints` feature), which fails a write
/// transaction that holds records as the database would fail its commit: `return(full)` as a
/// full disk, `return` as an I/O error; the transaction is rolled back. Every transaction
/// that takes change numbers passes here (`next_seq`), so harvest pages, imports and curated
/// writes fail, while the bookkeeping of runs and leases goes on (a test can then see the
/// run marked failed and why).
pub(crate) fn commit_failpoint() -> Result<()> {
    #[cfg(feature = "failpoints")]
    fail::fail_point!("store::commit", |arg| Err(injected_failure(arg)));
    Ok(())
}

#[cfg(feature = "failpoints")]
fn injected_failure(arg: Option<String>) -> StoreError {
    let (code, message) = match arg.as_deref() {
        Some("full") => (rusqlite::ffi::SQLITE_FULL, "database or disk is full"),
        _ => (rusqlite::ffi::SQLITE_IOERR, "disk I/O error"),
    };
    StoreError::from(rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(code),
        Some(format!("{message} (injected by a failpoint)")),
    ))
}
