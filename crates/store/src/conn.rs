//! One connection or transaction of either backend. SQL is written once and
//! run through the `run!` macro, which expands the same query-building
//! expression for each backend so that sqlx infers the database type per arm.

use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, Postgres, Sqlite, SqliteConnection, Transaction};

pub(crate) enum Conn<'a> {
    Sqlite(&'a mut SqliteConnection),
    Pg(&'a mut PgConnection),
}

impl Conn<'_> {
    /// The operator that treats NULLs as comparable values.
    pub(crate) fn is_distinct(&self) -> &'static str {
        match self {
            Conn::Sqlite(_) => "IS NOT",
            Conn::Pg(_) => "IS DISTINCT FROM",
        }
    }
}

/// Runs `$query.$method(executor)` on whichever backend `$conn` holds.
/// `execute` yields the number of rows affected (the result types differ per backend).
macro_rules! run {
    ($conn:expr, $query:expr, execute) => {
        match $conn {
            $crate::conn::Conn::Sqlite(c) => {
                $query.execute(&mut **c).await.map(|r| r.rows_affected())
            }
            $crate::conn::Conn::Pg(c) => $query.execute(&mut **c).await.map(|r| r.rows_affected()),
        }
    };
    ($conn:expr, $query:expr, $method:ident) => {
        match $conn {
            $crate::conn::Conn::Sqlite(c) => $query.$method(&mut **c).await,
            $crate::conn::Conn::Pg(c) => $query.$method(&mut **c).await,
        }
    };
}
pub(crate) use run;

/// A write transaction. Dropping it without `commit` rolls back.
pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Pg(Transaction<'static, Postgres>),
}

impl Tx {
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(t) => Conn::Sqlite(t),
            Tx::Pg(t) => Conn::Pg(t),
        }
    }

    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(t) => t.commit().await,
            Tx::Pg(t) => t.commit().await,
        }
    }
}

/// A pooled connection for reads.
pub(crate) enum Pooled {
    Sqlite(PoolConnection<Sqlite>),
    Pg(PoolConnection<Postgres>),
}

impl Pooled {
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            Pooled::Sqlite(c) => Conn::Sqlite(c),
            Pooled::Pg(c) => Conn::Pg(c),
        }
    }
}
