//! Lanes as stored: each lane's latest snapshot, and the step commit that writes the snapshot,
//! its transition, a sale or an abandoned basket and the outgoing messages in one transaction.

use sqlx::Row;

use super::outbox::{OutboxMessage, insert_messages};
use super::{Db, DbError, recovery};
use crate::lane::{AbandonedBasket, Lane, Sale, Transition};

impl Db {
    /// The stored snapshot of a lane, if it ever ran.
    pub async fn load_lane(&self, lane_id: &str) -> Result<Option<Lane>, DbError> {
        let row = sqlx::query("SELECT snapshot FROM lanes WHERE lane_id = $1")
            .bind(lane_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            let text: String = row.get(0);
            serde_json::from_str(&text).map_err(|source| DbError::Snapshot {
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
    ) -> Result<(), DbError> {
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
            .bind(t.cause.as_str())
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
}
