//! Sales as the lanes recorded them, and what a sale opens once: its exit pass at a store exit
//! and its lane's gate.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Db, DbError};
use crate::lane::Sale;

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
pub(crate) fn sale_of(row: &sqlx::sqlite::SqliteRow) -> Result<Sale, DbError> {
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

impl Db {
    /// Sales recorded, newest first.
    pub async fn recent_sales(&self, limit: i64) -> Result<Vec<Sale>, DbError> {
        let rows = sqlx::query(select_sales!("ORDER BY paid_at DESC LIMIT $1"))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(sale_of).collect()
    }

    /// The sale of `order_id`, if this edge recorded one.
    pub async fn sale(&self, order_id: &str) -> Result<Option<Sale>, DbError> {
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
    ) -> Result<Option<Sale>, DbError> {
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
    pub async fn use_exit_pass(&self, order_id: &str, exit_id: &str) -> Result<bool, DbError> {
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
    pub async fn claim_gate_open(&self, order_id: &str, lane_id: &str) -> Result<bool, DbError> {
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
}
