//! The PostgreSQL backend: a pool of `tokio-postgres` clients behind a synchronous face.
//!
//! Why `tokio-postgres` (and not `sqlx` or the sync `postgres` crate): the store's interface
//! is synchronous (SQLite's is, and the callers are written for it), and the sync `postgres`
//! crate runs its own runtime's `block_on`, which panics when called from an async worker,
//! where some store calls run (a search page's thumbnails). `tokio-postgres` splits a
//! connection into a `Connection` future, which the store's own one-thread runtime drives,
//! and a `Client`, whose requests are channel messages that any thread may wait on
//! (`futures_executor::block_on`). `sqlx` would have made the whole store async for one
//! backend. The pool is a few lines over a `Vec` (no crate's pool is synchronous without
//! owning a runtime of its own as well).
//!
//! Each pooled client keeps its prepared statements (by the SQL text), so a statement is
//! parsed and planned once per connection.

use std::collections::HashMap;
use std::error::Error;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{NoTls, Statement};

use super::{Arg, Value};
use crate::{Result, StoreError};

/// The key of the advisory lock every write transaction takes first.
const WRITE_LOCK: i64 = 0x6a69_6e63_6865_6e67; // "jincheng"

/// A connection and its prepared statements.
pub(crate) struct Client {
    client: tokio_postgres::Client,
    statements: HashMap<String, Statement>,
}

fn wait<F: std::future::Future>(future: F) -> F::Output {
    futures_executor::block_on(future)
}

impl Client {
    fn statement(&mut self, sql: &str) -> Result<Statement> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = wait(self.client.prepare(&translate(sql)))?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    fn params<'a>(args: &'a [Arg<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
        args.iter().map(|arg| arg as &(dyn ToSql + Sync)).collect()
    }

    pub(crate) fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<usize> {
        let statement = self.statement(sql)?;
        let n = wait(self.client.execute(&statement, &Self::params(args)))?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    pub(crate) fn query(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<tokio_postgres::Row>> {
        let statement = self.statement(sql)?;
        Ok(wait(self.client.query(&statement, &Self::params(args)))?)
    }

    pub(crate) fn batch(&mut self, sql: &str) -> Result<()> {
        Ok(wait(self.client.batch_execute(&translate(sql)))?)
    }

    /// `f` in a transaction that holds the write lock until it commits.
    pub(crate) fn write<T>(&mut self, f: impl FnOnce(&mut Client) -> Result<T>) -> Result<T> {
        self.batch("BEGIN")?;
        let out = self
            .execute("SELECT pg_advisory_xact_lock(?1)", &[Arg::Int(WRITE_LOCK)])
            .and_then(|_| f(self))
            .and_then(|out| self.batch("COMMIT").map(|()| out));
        if out.is_err() {
            // The transaction may be aborted or half done: nothing of it stays. A
            // connection that cannot even roll back is closed and leaves the pool.
            let _ = self.batch("ROLLBACK");
        }
        out
    }
}

/// A fixed number of connections to one database, handed out one caller at a time.
pub(crate) struct Pool {
    config: tokio_postgres::Config,
    runtime: Option<tokio::runtime::Runtime>,
    idle: Mutex<(Vec<Client>, usize)>,
    freed: Condvar,
    size: usize,
}

/// A client taken from the pool, given back when dropped (unless its connection closed).
pub(crate) struct Pooled<'p> {
    pool: &'p Pool,
    client: Option<Client>,
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.client
            .as_ref()
            .expect("a pooled client is present until dropped")
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.client
            .as_mut()
            .expect("a pooled client is present until dropped")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let mut idle = self.pool.idle.lock().unwrap_or_else(|e| e.into_inner());
        match self.client.take() {
            Some(client) if !client.client.is_closed() => idle.0.push(client),
            _ => idle.1 -= 1,
        }
        self.pool.freed.notify_one();
    }
}

impl Pool {
    /// A pool of up to `size` connections to `url` (`postgres://user@host:port/db` or the
    /// key-value form), with `password` if given. Connects once to check the URL.
    pub(crate) fn connect(url: &str, password: Option<&str>, size: usize) -> Result<Pool> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Config(format!("the PostgreSQL URL is not valid: {e}")))?;
        if let Some(password) = password {
            config.password(password);
        }
        config.connect_timeout(Duration::from_secs(10));
        config.application_name("jincheng");
        // Not the notices of every `CREATE … IF NOT EXISTS` at each start in the log.
        config.options("-c client_min_messages=warning");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("store-postgres")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Io("the store's runtime".into(), e))?;
        let pool = Pool {
            config,
            runtime: Some(runtime),
            idle: Mutex::new((Vec::new(), 0)),
            freed: Condvar::new(),
            size: size.max(1),
        };
        drop(pool.get()?);
        Ok(pool)
    }

    fn open(&self) -> Result<Client> {
        let config = self.config.clone();
        let runtime = self
            .runtime
            .as_ref()
            .expect("the runtime lives as long as the pool");
        let client = wait(runtime.spawn(async move {
            let (client, connection) = config.connect(NoTls).await?;
            // Ends when the client is dropped or the server goes away; the client then
            // reports itself closed and leaves the pool.
            tokio::spawn(connection);
            Ok::<_, tokio_postgres::Error>(client)
        }))
        .map_err(|e| StoreError::Config(format!("the store's runtime stopped: {e}")))??;
        Ok(Client {
            client,
            statements: HashMap::new(),
        })
    }

    /// An idle client, a new one while fewer than `size` are open, or the next one given
    /// back.
    pub(crate) fn get(&self) -> Result<Pooled<'_>> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(client) = idle.0.pop() {
                if client.client.is_closed() {
                    // Its server went away (a restart, a failover): open another.
                    idle.1 -= 1;
                    continue;
                }
                return Ok(Pooled {
                    pool: self,
                    client: Some(client),
                });
            }
            if idle.1 < self.size {
                idle.1 += 1;
                drop(idle);
                return match self.open() {
                    Ok(client) => Ok(Pooled {
                        pool: self,
                        client: Some(client),
                    }),
                    Err(e) => {
                        self.idle.lock().unwrap_or_else(|e| e.into_inner()).1 -= 1;
                        Err(e)
                    }
                };
            }
            idle = self.freed.wait(idle).unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // Dropping a runtime blocks until its tasks end, which panics inside another
        // runtime (a store dropped by an async task); the connections just close.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// SQLite's SQL as PostgreSQL's: placeholders `?N` (and `?`) become `$N`, and the idioms
/// the store uses that PostgreSQL spells otherwise are rewritten. Quoted text is left alone.
pub(crate) fn translate(sql: &str) -> String {
    const IDIOMS: [(&str, &str); 8] = [
        (
            "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
            "to_char(statement_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
        ),
        (
            "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
            "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
        ),
        (
            "INTEGER PRIMARY KEY",
            "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        ),
        ("INTEGER", "BIGINT"),
        ("REAL", "DOUBLE PRECISION"),
        ("BLOB", "BYTEA"),
        ("WITHOUT ROWID", ""),
        ("instr(", "strpos("),
    ];
    let mut out = String::with_capacity(sql.len() + 32);
    let mut rest = sql;
    let mut next_param = 1;
    'scan: while let Some(c) = rest.chars().next() {
        if c == '\'' || c == '"' {
            let end = rest[1..].find(c).map_or(rest.len(), |i| i + 2);
            out.push_str(&rest[..end]);
            rest = &rest[end..];
            continue;
        }
        if c == '?' {
            let digits = rest[1..].bytes().take_while(u8::is_ascii_digit).count();
            let n = if digits > 0 {
                rest[1..=digits].parse().unwrap_or(next_param)
            } else {
                next_param
            };
            out.push_str(&format!("${n}"));
            next_param = n + 1;
            rest = &rest[1 + digits..];
            continue;
        }
        let at_word_start = out
            .chars()
            .last()
            .is_none_or(|p| !(p.is_alphanumeric() || p == '_'));
        if at_word_start {
            if let Some(rewritten) = json_extract(rest).or_else(|| json_each(rest)) {
                out.push_str(&rewritten.0);
                rest = &rest[rewritten.1..];
                continue;
            }
            for (sqlite, postgres) in IDIOMS {
                let ends_word = |s: &str| {
                    s.chars()
                        .next()
                        .is_none_or(|n| !(n.is_alphanumeric() || n == '_'))
                };
                if rest.starts_with(sqlite) && (sqlite.ends_with('(') || ends_word(&rest[sqlite.len()..])) {
                    out.push_str(postgres);
                    rest = &rest[sqlite.len()..];
                    continue 'scan;
                }
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// `json_extract(column, '$.key')` as `(column::json ->> 'key')`, and how much it read.
fn json_extract(sql: &str) -> Option<(String, usize)> {
    let inner = sql.strip_prefix("json_extract(")?;
    let end = inner.find(')')?;
    let (column, path) = inner[..end].split_once(',')?;
    let key = path.trim().strip_prefix("'$.")?.strip_suffix('\'')?;
    Some((
        format!("({}::json ->> '{key}')", column.trim()),
        "json_extract(".len() + end + 1,
    ))
}

/// `json_each(x)` (a JSON array's values, in a column `value`) as
/// `json_array_elements_text(CAST(x AS json))`, and how much it read. `x` is a numbered
/// placeholder or a column. `json_each(x, '$.a.b')` (the array at that path) reads
/// `CAST(x AS json) #> '{a,b}'`, which is NULL, so no rows, where `x` has no such path.
fn json_each(sql: &str) -> Option<(String, usize)> {
    let inner = sql.strip_prefix("json_each(")?;
    let end = inner.find(')')?;
    let (json, path) = match inner[..end].split_once(',') {
        Some((json, path)) => {
            let keys = path.trim().strip_prefix("'$.")?.strip_suffix('\'')?;
            (json, format!(" #> '{{{}}}'", keys.replace('.', ",")))
        }
        None => (&inner[..end], String::new()),
    };
    Some((
        format!(
            "json_array_elements_text(CAST({} AS json){path})",
            translate(json.trim())
        ),
        "json_each(".len() + end + 1,
    ))
}

/// Any column PostgreSQL sends, as the store's [`Value`].
pub(crate) struct PgValue<'a>(pub(crate) Value<'a>);

type BoxError = Box<dyn Error + Sync + Send>;

impl<'a> FromSql<'a> for PgValue<'a> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let value = match *ty {
            Type::INT8 => Value::Int(i64::from_sql(ty, raw)?),
            Type::INT4 => Value::Int(i32::from_sql(ty, raw)?.into()),
            Type::INT2 => Value::Int(i16::from_sql(ty, raw)?.into()),
            Type::BOOL => Value::Int(bool::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => Value::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => Value::Real(f32::from_sql(ty, raw)?.into()),
            Type::NUMERIC => numeric(raw)?,
            Type::BYTEA => Value::Blob(raw),
            _ => Value::Text(std::str::from_utf8(raw)?),
        };
        Ok(PgValue(value))
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(PgValue(Value::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// A `NUMERIC` (what `SUM` of integers gives): base-10000 digits, as an integer when it has
/// no fraction, else as a real.
fn numeric(raw: &[u8]) -> Result<Value<'static>, BoxError> {
    let word = |i: usize| -> Result<i16, BoxError> {
        let bytes = raw.get(2 * i..2 * i + 2).ok_or("a truncated NUMERIC")?;
        Ok(i16::from_be_bytes([bytes[0], bytes[1]]))
    };
    let (ndigits, weight, sign, scale) = (word(0)?, word(1)?, word(2)?, word(3)?);
    if sign as u16 == 0xC000 {
        return Ok(Value::Real(f64::NAN));
    }
    let mut value = 0f64;
    for i in 0..ndigits.max(0) as usize {
        value += f64::from(word(4 + i)?) * 10000f64.powi(i32::from(weight) - i as i32);
    }
    if sign as u16 == 0x4000 {
        value = -value;
    }
    Ok(if scale == 0 && value.abs() < 9.0e15 {
        Value::Int(value as i64)
    } else {
        Value::Real(value)
    })
}

impl ToSql for Arg<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let text_like = matches!(
            *ty,
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN | Type::JSON
        );
        match (*self, ty) {
            (Arg::Null, _) => Ok(IsNull::Yes),
            (Arg::Int(n), &Type::INT8) => n.to_sql(ty, out),
            (Arg::Int(n), &Type::INT4) => i32::try_from(n)?.to_sql(ty, out),
            (Arg::Int(n), &Type::INT2) => i16::try_from(n)?.to_sql(ty, out),
            (Arg::Int(n), &Type::BOOL) => (n != 0).to_sql(ty, out),
            (Arg::Int(n), &Type::FLOAT8) => (n as f64).to_sql(ty, out),
            (Arg::Int(n), _) if text_like => n.to_string().to_sql(&Type::TEXT, out),
            (Arg::Real(x), &Type::FLOAT8) => x.to_sql(ty, out),
            (Arg::Real(x), &Type::FLOAT4) => (x as f32).to_sql(ty, out),
            (Arg::Text(s), _) if text_like => s.to_sql(&Type::TEXT, out),
            (Arg::Blob(b), &Type::BYTEA) => b.to_sql(ty, out),
            (arg, ty) => Err(format!("{arg:?} cannot be a parameter of type {ty}").into()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::translate;

    #[test]
    fn translates_placeholders_and_idioms_but_not_quoted_text() {
        assert_eq!(
            translate("SELECT a FROM t WHERE b = ?1 AND c = ?2 AND d = '?' AND e = ?"),
            "SELECT a FROM t WHERE b = $1 AND c = $2 AND d = '?' AND e = $3"
        );
        assert_eq!(
            translate(
                "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, x REAL, b BLOB, p INTEGERS) WITHOUT ROWID"
            ),
            "CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n BIGINT, \
             x DOUBLE PRECISION, b BYTEA, p INTEGERS) "
        );
        assert_eq!(
            translate("SELECT json_extract(record_json, '$.resource_type'), instr(a, ?)"),
            "SELECT (record_json::json ->> 'resource_type'), strpos(a, $1)"
        );
        assert_eq!(
            translate("x IN (SELECT value FROM json_each(?2))"),
            "x IN (SELECT value FROM json_array_elements_text(CAST($2 AS json)))"
        );
        assert_eq!(
            translate(
                "EXISTS (SELECT 1 FROM json_each(record_json, '$.curation.audiences') WHERE value = ?)"
            ),
            "EXISTS (SELECT 1 FROM json_array_elements_text(CAST(record_json AS json) #> '{curation,audiences}') \
             WHERE value = $1)"
        );
        assert!(
            translate("DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))")
                .contains("to_char(statement_timestamp()")
        );
    }
}
