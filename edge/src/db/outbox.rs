//! The outbox: messages committed with the change that made them, kept until the broker
//! acknowledges them, read back in commit order by [`crate::outbox`].

use chrono::Utc;
use sqlx::Row;

use super::{Db, DbError};

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

impl Db {
    /// Queues messages on their own (device health, edge state).
    pub async fn enqueue(&self, messages: &[OutboxMessage]) -> Result<(), DbError> {
        let mut tx = self.pool.begin().await?;
        insert_messages(&mut tx, messages).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The oldest `limit` messages not yet acknowledged, in commit order.
    pub async fn outbox_peek(&self, limit: i64) -> Result<Vec<OutboxRow>, DbError> {
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
    pub async fn outbox_ack_range(&self, first: i64, last: i64) -> Result<(), DbError> {
        sqlx::query("DELETE FROM outbox WHERE seq >= $1 AND seq <= $2")
            .bind(first)
            .bind(last)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Messages waiting for the broker.
    pub async fn outbox_depth(&self) -> Result<i64, DbError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
            .fetch_one(&self.pool)
            .await?)
    }
}

pub(crate) async fn insert_messages(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    messages: &[OutboxMessage],
) -> Result<(), DbError> {
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
