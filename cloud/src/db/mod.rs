//! The database: one [`Database`] over SQLite or PostgreSQL through the same SQL.
//!
//! Queries use `$N` placeholders, integers and TEXT timestamps only, which both backends accept,
//! through `sqlx::AnyPool`. Each backend has its own migration directory
//! (`migrations/sqlite`, `migrations/postgres`) embedded in the binary. Correctness lives in
//! the database: UNIQUE keys for idempotency and single use, conditional UPDATEs for balances,
//! one transaction per operation.

pub mod ledger;

use std::borrow::Cow;
use std::ops::{Deref, DerefMut};
use std::str::FromStr;
use std::sync::Arc;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{Any, AnyConnection, AnyPool, ConnectOptions, Connection, SqlStr, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

pub use ledger::{LedgerReport, ledger_check};

/// Which database engine a [`Database`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (a file, WAL journal).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// Why the database could not serve.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL is neither `sqlite:` nor `postgres:`.
    #[error("unsupported database URL (expected sqlite://PATH or postgres://...): {0}")]
    UnsupportedUrl(String),
    /// The SQLite file's directory could not be created.
    #[error("cannot create database directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: String,
        /// The IO error.
        source: std::io::Error,
    },
    /// A query failed.
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The ledger does not balance (see [`ledger_check`]).
    #[error("ledger check failed: {0}")]
    Unbalanced(String),
}

/// A handle on the database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Database {
    pool: AnyPool,
    backend: Backend,
    /// SQLite admits one writer: this process's writers queue here (fairly, without SQLite's
    /// sleeping busy handler); other processes still meet the busy timeout.
    write_gate: Arc<Mutex<()>>,
}

/// A write transaction; derefs to the connection, so `&mut *tx` executes queries in it.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    _gate: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    /// Commit, then let the next writer in.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    /// Roll back, then let the next writer in.
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

impl Deref for WriteTx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

impl Database {
    /// Open (and for SQLite create, with its directory) the database at `url` and migrate it.
    pub async fn open(url: &str, max_connections: u32) -> Result<Database, DbError> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            prepare_sqlite(url).await?;
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(DbError::UnsupportedUrl(redact(url)));
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .connect(url)
            .await?;
        let store = Database {
            pool,
            backend,
            write_gate: Arc::new(Mutex::new(())),
        };
        store.migrate().await?;
        tracing::info!(backend = ?backend, url = %redact(url), "database ready");
        Ok(store)
    }

    /// The engine behind this store.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The connection pool, for reads outside a transaction.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Begin a write transaction. On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`)
    /// so that concurrent writers queue on the busy timeout instead of failing to upgrade.
    pub async fn begin(&self) -> Result<WriteTx, DbError> {
        Ok(match self.backend {
            Backend::Sqlite => {
                let gate = self.write_gate.clone().lock_owned().await;
                WriteTx {
                    tx: self.pool.begin_with("BEGIN IMMEDIATE").await?,
                    _gate: Some(gate),
                }
            }
            Backend::Postgres => WriteTx {
                tx: self.pool.begin().await?,
                _gate: None,
            },
        })
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Prove the ledger balances (see [`ledger_check`]).
    pub async fn ledger_check(&self) -> Result<LedgerReport, DbError> {
        ledger_check(&self.pool).await
    }

    /// Close every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn migrate(&self) -> Result<(), DbError> {
        let list = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        let migrations = list
            .iter()
            .map(|&(version, name, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(name),
                    MigrationType::Simple,
                    SqlStr::from_static(sql),
                    false,
                )
            })
            .collect();
        Migrator::with_migrations(migrations)
            .run(&self.pool)
            .await?;
        Ok(())
    }
}

/// One migration: its version (the file's prefix), its name and its SQL.
type MigrationFile = (i64, &'static str, &'static str);

/// `migrations/sqlite`, in version order; the PostgreSQL list has the same versions.
const SQLITE_MIGRATIONS: &[MigrationFile] = &[
    (
        1,
        "initial",
        include_str!("../../migrations/sqlite/0001_initial.sql"),
    ),
    (
        20261123100000,
        "promotions_and_coupons",
        include_str!("../../migrations/sqlite/20261123100000_promotions_and_coupons.sql"),
    ),
    (
        20261123200000,
        "trace",
        include_str!("../../migrations/sqlite/20261123200000_trace.sql"),
    ),
    (
        20261124000000,
        "delivery",
        include_str!("../../migrations/sqlite/20261124000000_delivery.sql"),
    ),
    (
        20261203000000,
        "priced_by_label",
        include_str!("../../migrations/sqlite/20261203000000_priced_by_label.sql"),
    ),
    (
        20261203300000,
        "exit_passes",
        include_str!("../../migrations/sqlite/20261203300000_exit_passes.sql"),
    ),
    (
        20261203600000,
        "delivery_progress",
        include_str!("../../migrations/sqlite/20261203600000_delivery_progress.sql"),
    ),
    (
        20261204000000,
        "chain",
        include_str!("../../migrations/sqlite/20261204000000_chain.sql"),
    ),
];

/// `migrations/postgres`, in version order.
const POSTGRES_MIGRATIONS: &[MigrationFile] = &[
    (
        1,
        "initial",
        include_str!("../../migrations/postgres/0001_initial.sql"),
    ),
    (
        20261123100000,
        "promotions_and_coupons",
        include_str!("../../migrations/postgres/20261123100000_promotions_and_coupons.sql"),
    ),
    (
        20261123200000,
        "trace",
        include_str!("../../migrations/postgres/20261123200000_trace.sql"),
    ),
    (
        20261124000000,
        "delivery",
        include_str!("../../migrations/postgres/20261124000000_delivery.sql"),
    ),
    (
        20261203000000,
        "priced_by_label",
        include_str!("../../migrations/postgres/20261203000000_priced_by_label.sql"),
    ),
    (
        20261203300000,
        "exit_passes",
        include_str!("../../migrations/postgres/20261203300000_exit_passes.sql"),
    ),
    (
        20261203600000,
        "delivery_progress",
        include_str!("../../migrations/postgres/20261203600000_delivery_progress.sql"),
    ),
    (
        20261204000000,
        "chain",
        include_str!("../../migrations/postgres/20261204000000_chain.sql"),
    ),
];

/// Create the SQLite file (and its directory) in WAL mode before the pool opens it.
async fn prepare_sqlite(url: &str) -> Result<(), DbError> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Err(DbError::UnsupportedUrl(format!(
            "{url} (an in-memory database is not shared between connections; give a file)"
        )));
    }
    if let Some(dir) = std::path::Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|source| DbError::CreateDir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let mut conn = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .connect()
        .await?;
    sqlx::query("SELECT 1").execute(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

/// A database URL without its password, for logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://u:secret@h:5/db"),
            "postgres://u:***@h:5/db"
        );
        assert_eq!(redact("postgres://u@h:5/db"), "postgres://u@h:5/db");
        assert_eq!(redact("sqlite://./x.db"), "sqlite://./x.db");
    }

    #[tokio::test]
    async fn sqlite_file_and_directory_are_created_in_wal_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/cloud.db");
        let store = Database::open(&format!("sqlite://{}", path.display()), 2)
            .await
            .unwrap();
        assert!(path.exists());
        let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        store.ping().await.unwrap();
        // Opening again runs no migration twice.
        Database::open(&format!("sqlite://{}", path.display()), 2)
            .await
            .unwrap();
    }
}
