//! The edge's database ([`Db`]): SQLite (WAL) under the data directory.
//!
//! [`Db::commit_step`] writes a lane's new snapshot, its transition, a sale (or an abandoned
//! basket, see `recovery`) and the outgoing messages in one transaction: either all of a step is
//! durable or none of it is, and the edge acts only after the commit. The outbox is read back in
//! commit order by [`crate::outbox`].
//!
//! The files, one per kind of row: `lanes` (snapshots, transitions, the step's commit),
//! `outbox` (messages until the broker acknowledges them), `sales` (sales, used exit passes,
//! gate openings), `secrets` (the exit key, the screen secret), `audit` (operator actions),
//! `recovery` (abandoned baskets and the recovery audit), `weights` (what the scales learned)
//! and `catalog` (the catalog cache).

mod audit;
mod catalog;
mod lanes;
mod outbox;
mod recovery;
mod sales;
mod secrets;
mod weights;

use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub(crate) use outbox::insert_messages;
pub use outbox::{OutboxMessage, OutboxRow};
pub use recovery::AuditBasket;
pub(crate) use sales::sale_of;

/// Storage errors.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("edge database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("edge database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("stored lane {lane} is unreadable: {source}")]
    Snapshot {
        lane: String,
        source: serde_json::Error,
    },
    #[error("cannot encode: {0}")]
    Encode(#[from] serde_json::Error),
}

/// The edge's database.
#[derive(Clone)]
pub struct Db {
    pool: SqlitePool,
}

/// How far a committed step is durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous = FULL`: a committed step survives a power cut. The edge's setting.
    PowerCut,
    /// `synchronous = OFF`: a committed step survives the process being killed (its WAL pages are
    /// in the operating system's cache), not a power cut. For the simulation, whose crashes are
    /// process crashes, and scratch stores.
    ProcessCrash,
}

impl Db {
    /// Opens (creating if needed) `edge.db` under `data_dir` and applies migrations.
    pub async fn open(data_dir: &Path) -> Result<Db, DbError> {
        Db::open_with(data_dir, Durability::PowerCut).await
    }

    /// [`Db::open`], durable as far as `durability` says.
    pub async fn open_with(data_dir: &Path, durability: Durability) -> Result<Db, DbError> {
        std::fs::create_dir_all(data_dir).map_err(|source| DbError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        let path = data_dir.join("edge.db");
        let synchronous = match durability {
            Durability::PowerCut => SqliteSynchronous::Full,
            Durability::ProcessCrash => SqliteSynchronous::Off,
        };
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .busy_timeout(std::time::Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Db { pool })
    }

    /// The pool, for modules that keep tables of their own (delivery).
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}
