//! The edge's local store: SQLite (WAL) under the data directory.
//!
//! [`Store::commit_step`] writes a lane's new snapshot, its transition, a sale (or an abandoned
//! basket, see `recovery`) and the outgoing messages in one transaction: either all of a step is
//! durable or none of it is, and the edge acts only after the commit. The outbox is read back in commit order by [`crate::outbox`].

use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use omo_proto::catalog::{CouponCampaign, Product, Promotion};
use prost::Message as _;
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::lane::{
    AbandonedBasket, Lane, OperatorAction, Sale, Transition, WeightBook, WeightStats,
};

mod recovery;
pub use recovery::AuditBasket;

/// A message to publish, stored in the outbox until the broker acknowledges it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// Unique id carried in the payload; consumers drop repeats by it.
    pub id: String,
    pub topic: String,
    pub payload: Vec<u8>,
    pub retain: bool,
}

/// An outbox row: a message and its place in the queue.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub seq: i64,
    pub message: OutboxMessage,
}

/// Storage errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
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
pub struct Store {
    pool: SqlitePool,
}

/// `SELECT <every sale column> FROM sales <tail>` as one literal.
macro_rules! select_sales {
    ($tail:literal) => {
        concat!(
            "SELECT order_id, lane_id, session_id, payment_id, wallet_id, total_fen, basket, ",
            "paid_at, exit_pass FROM sales ",
            $tail
        )
    };
}

/// A sale from its row (as `select_sales!` reads it; [`crate::web::orders`] reads the same
/// columns in the same order).
pub(crate) fn sale_of(row: &sqlx::sqlite::SqliteRow) -> Result<Sale, StoreError> {
    let basket: String = row.get(6);
    let paid_at: String = row.get(7);
    Ok(Sale {
        order_id: row.get(0),
        lane_id: row.get(1),
        session_id: row.get(2),
        payment_id: row.get(3),
        wallet_id: row.get(4),
        total_fen: row.get(5),
        basket: serde_json::from_str(&basket)?,
        paid_at: DateTime::parse_from_rfc3339(&paid_at)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default(),
        exit_pass: row.get(8),
    })
}

impl Store {
    /// Opens (creating if needed) `edge.db` under `data_dir` and applies migrations.
    pub async fn open(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        let path = data_dir.join("edge.db");
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(std::time::Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store { pool })
    }

    /// The pool, for modules that keep tables of their own (delivery).
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The stored snapshot of a lane, if it ever ran.
    pub async fn load_lane(&self, lane_id: &str) -> Result<Option<Lane>, StoreError> {
        let row = sqlx::query("SELECT snapshot FROM lanes WHERE lane_id = $1")
            .bind(lane_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            let text: String = row.get(0);
            serde_json::from_str(&text).map_err(|source| StoreError::Snapshot {
                lane: lane_id.to_string(),
                source,
            })
        })
        .transpose()
    }

    /// Commits one lane step: snapshot, transition, sale and messages, atomically.
    pub async fn commit_step(
        &self,
        lane: &Lane,
        transition: Option<&Transition>,
        sale: Option<&Sale>,
        abandoned: Option<&AbandonedBasket>,
        messages: &[OutboxMessage],
    ) -> Result<(), StoreError> {
        let snapshot = serde_json::to_string(lane)?;
        let now = lane.updated_at.to_rfc3339();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO lanes (lane_id, snapshot, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (lane_id) DO UPDATE SET snapshot = excluded.snapshot, updated_at = excluded.updated_at",
        )
        .bind(&lane.id)
        .bind(&snapshot)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        if let Some(t) = transition {
            sqlx::query(
                "INSERT INTO lane_transitions (lane_id, at, from_state, to_state, cause) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&lane.id)
            .bind(&now)
            .bind(serde_json::to_string(&t.from)?)
            .bind(serde_json::to_string(&t.to)?)
            .bind(&t.cause)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(sale) = sale {
            sqlx::query(
                "INSERT INTO sales (order_id, lane_id, session_id, payment_id, wallet_id, total_fen, basket, paid_at, exit_pass)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (order_id) DO NOTHING",
            )
            .bind(&sale.order_id)
            .bind(&sale.lane_id)
            .bind(&sale.session_id)
            .bind(&sale.payment_id)
            .bind(&sale.wallet_id)
            .bind(sale.total_fen)
            .bind(serde_json::to_string(&sale.basket)?)
            .bind(sale.paid_at.to_rfc3339())
            .bind(&sale.exit_pass)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(basket) = abandoned {
            recovery::insert_abandoned(&mut tx, basket).await?;
        }
        insert_messages(&mut tx, messages).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Queues messages on their own (device health, edge state).
    pub async fn enqueue(&self, messages: &[OutboxMessage]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        insert_messages(&mut tx, messages).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The oldest `limit` messages not yet acknowledged, in commit order.
    pub async fn outbox_peek(&self, limit: i64) -> Result<Vec<OutboxRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, message_id, topic, payload, retain FROM outbox ORDER BY seq LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| OutboxRow {
                seq: row.get(0),
                message: OutboxMessage {
                    id: row.get(1),
                    topic: row.get(2),
                    payload: row.get(3),
                    retain: row.get::<i64, _>(4) != 0,
                },
            })
            .collect())
    }

    /// Removes a window of messages the broker acknowledged (`first..=last` in commit order).
    pub async fn outbox_ack_range(&self, first: i64, last: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM outbox WHERE seq >= $1 AND seq <= $2")
            .bind(first)
            .bind(last)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Messages waiting for the broker.
    pub async fn outbox_depth(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Sales recorded, newest first.
    pub async fn recent_sales(&self, limit: i64) -> Result<Vec<Sale>, StoreError> {
        let rows = sqlx::query(select_sales!("ORDER BY paid_at DESC LIMIT $1"))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(sale_of).collect()
    }

    /// The sale of `order_id`, if this edge recorded one.
    pub async fn sale(&self, order_id: &str) -> Result<Option<Sale>, StoreError> {
        let row = sqlx::query(select_sales!("WHERE order_id = $1"))
            .bind(order_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(sale_of).transpose()
    }

    /// The latest sale at `lane_id` paid at or after `since`, if any.
    pub async fn latest_sale(
        &self,
        lane_id: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<Sale>, StoreError> {
        let row = sqlx::query(select_sales!(
            "WHERE lane_id = $1 AND paid_at >= $2 ORDER BY paid_at DESC LIMIT 1"
        ))
        .bind(lane_id)
        .bind(since.to_rfc3339())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(sale_of).transpose()
    }

    /// Marks an exit pass used; false if it was used before.
    pub async fn use_exit_pass(&self, order_id: &str, exit_id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO used_exit_passes (order_id, exit_id, used_at) VALUES ($1, $2, $3) ON CONFLICT (order_id) DO NOTHING",
        )
        .bind(order_id)
        .bind(exit_id)
        .bind(Utc::now().to_rfc3339())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records that lane `lane_id`'s gate opens for paid order `order_id`, before the relay is
    /// pulsed; true if this is the first time (the gate may open), false if it already opened.
    pub async fn claim_gate_open(&self, order_id: &str, lane_id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO lane_gate_opens (order_id, lane_id, opened_at) VALUES ($1, $2, $3) ON CONFLICT (order_id) DO NOTHING",
        )
        .bind(order_id)
        .bind(lane_id)
        .bind(Utc::now().to_rfc3339())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The key exit passes are signed with: made at random on first use, kept in the database.
    pub async fn exit_key(&self) -> Result<Vec<u8>, StoreError> {
        self.secret("exit_key").await
    }

    /// A 32-byte secret named `name` (`exit_key`, `screen_secret`): made at random on first use,
    /// kept in the database's `meta` table.
    pub async fn secret(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        let existing: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        if let Some(hex) = existing.and_then(|v| decode_hex(&v)) {
            return Ok(hex);
        }
        let key: Vec<u8> = (0..32).map(|_| rand::random::<u8>()).collect();
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(name)
            .bind(&hex)
            .execute(&self.pool)
            .await?;
        // Another process may have won the race: read back what is stored.
        let stored: String = sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await?;
        Ok(decode_hex(&stored).unwrap_or(key))
    }

    /// Records an operator action and its outcome (`ok` or the refusal).
    pub async fn audit(
        &self,
        lane_id: &str,
        action: &OperatorAction,
        outcome: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let command = serde_json::to_value(&action.command)?;
        sqlx::query(
            "INSERT INTO operator_actions (at, lane_id, operator, role, command, reason, outcome) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(at.to_rfc3339())
        .bind(lane_id)
        .bind(&action.operator)
        .bind(serde_json::to_value(action.role)?.as_str().unwrap_or_default().to_string())
        .bind(command.to_string())
        .bind(&action.reason)
        .bind(outcome)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The most recent operator actions, newest first, as JSON rows.
    pub async fn recent_actions(&self, limit: i64) -> Result<Vec<serde_json::Value>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, lane_id, operator, role, command, reason, outcome, session_id, dropped FROM operator_actions ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let command: String = row.get(5);
                serde_json::json!({
                    "id": row.get::<i64, _>(0),
                    "at": row.get::<String, _>(1),
                    "lane_id": row.get::<String, _>(2),
                    "operator": row.get::<String, _>(3),
                    "role": row.get::<String, _>(4),
                    "command": serde_json::from_str::<serde_json::Value>(&command).unwrap_or_default(),
                    "reason": row.get::<String, _>(6),
                    "outcome": row.get::<String, _>(7),
                    "session_id": row.get::<Option<String>, _>(8),
                    "dropped": row
                        .get::<Option<String>, _>(9)
                        .and_then(|d| serde_json::from_str::<serde_json::Value>(&d).ok()),
                })
            })
            .collect())
    }

    /// Saves what was learned about a product's weight.
    pub async fn save_weight(&self, gtin: &str, stats: &WeightStats) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO weight_stats (gtin, n, mean_g, m2) VALUES ($1, $2, $3, $4)
             ON CONFLICT (gtin) DO UPDATE SET n = excluded.n, mean_g = excluded.mean_g, m2 = excluded.m2",
        )
        .bind(gtin)
        .bind(i64::from(stats.n))
        .bind(stats.mean_g)
        .bind(stats.m2)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Everything learned about weights.
    pub async fn load_weights(&self) -> Result<WeightBook, StoreError> {
        let rows = sqlx::query("SELECT gtin, n, mean_g, m2 FROM weight_stats")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let n: i64 = row.get(1);
                (
                    row.get::<String, _>(0),
                    WeightStats {
                        n: u32::try_from(n).unwrap_or(u32::MAX),
                        mean_g: row.get(2),
                        m2: row.get(3),
                    },
                )
            })
            .collect())
    }

    /// Stores changed catalog products, promotions and campaigns, and the version they bring the
    /// cache to, in one transaction.
    pub async fn save_catalog(
        &self,
        products: &[Product],
        promotions: &[Promotion],
        campaigns: &[CouponCampaign],
        version: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let extras = promotions
            .iter()
            .map(|p| {
                (
                    "promotion",
                    p.promotion_id.as_str(),
                    p.encode_to_vec(),
                    p.version,
                )
            })
            .chain(campaigns.iter().map(|c| {
                (
                    "campaign",
                    c.campaign_id.as_str(),
                    c.encode_to_vec(),
                    c.version,
                )
            }));
        for (kind, id, body, version) in extras {
            sqlx::query(
                "INSERT INTO catalog_promotions (kind, id, body, version) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body, version = excluded.version",
            )
            .bind(kind)
            .bind(id)
            .bind(body)
            .bind(version)
            .execute(&mut *tx)
            .await?;
        }
        for product in products {
            sqlx::query(
                "INSERT INTO catalog_products (gtin, product, version) VALUES ($1, $2, $3)
                 ON CONFLICT (gtin) DO UPDATE SET product = excluded.product, version = excluded.version",
            )
            .bind(&product.gtin)
            .bind(product.encode_to_vec())
            .bind(product.version)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ('catalog_version', $1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(version.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The cached promotions and coupon campaigns.
    pub async fn load_promotions(
        &self,
    ) -> Result<(Vec<Promotion>, Vec<CouponCampaign>), StoreError> {
        let rows = sqlx::query("SELECT kind, body FROM catalog_promotions ORDER BY version")
            .fetch_all(&self.pool)
            .await?;
        let mut promotions = Vec::new();
        let mut campaigns = Vec::new();
        for row in rows {
            let kind: String = row.get(0);
            let body: Vec<u8> = row.get(1);
            match kind.as_str() {
                "promotion" => promotions.extend(Promotion::decode(body.as_slice()).ok()),
                _ => campaigns.extend(CouponCampaign::decode(body.as_slice()).ok()),
            }
        }
        Ok((promotions, campaigns))
    }

    /// The cached catalog and its version.
    pub async fn load_catalog(&self) -> Result<(Vec<Product>, i64), StoreError> {
        let rows = sqlx::query("SELECT product FROM catalog_products ORDER BY version")
            .fetch_all(&self.pool)
            .await?;
        let products = rows
            .into_iter()
            .filter_map(|row| Product::decode(row.get::<Vec<u8>, _>(0).as_slice()).ok())
            .collect();
        let version: Option<String> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'catalog_version'")
                .fetch_optional(&self.pool)
                .await?;
        Ok((products, version.and_then(|v| v.parse().ok()).unwrap_or(0)))
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

pub(crate) async fn insert_messages(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    messages: &[OutboxMessage],
) -> Result<(), StoreError> {
    let now = Utc::now().to_rfc3339();
    for m in messages {
        sqlx::query(
            "INSERT INTO outbox (message_id, topic, payload, retain, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(&m.id)
        .bind(&m.topic)
        .bind(&m.payload)
        .bind(i64::from(m.retain))
        .bind(&now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
