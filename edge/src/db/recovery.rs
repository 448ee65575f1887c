//! Abandoned baskets and the lane recovery audit: a basket dropped without a sale is written in
//! the lane step's own transaction (once per session id: a repeat is ignored), and an operator
//! action is audited with the basket it concerned and what it dropped.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Db, DbError};
use crate::lane::{AbandonedBasket, OperatorAction};

/// Records `basket` as abandoned, inside the step's transaction; idempotent by session id.
pub(crate) async fn insert_abandoned(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    basket: &AbandonedBasket,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO abandoned_baskets (session_id, lane_id, reason, total_fen, item_count, basket, last_order_id, started_at, abandoned_at, scale_g)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (session_id) DO NOTHING",
    )
    .bind(&basket.session_id)
    .bind(&basket.lane_id)
    .bind(
        serde_json::to_value(basket.reason)?
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
    .bind(basket.total_fen)
    .bind(i64::from(basket.basket.item_count()))
    .bind(serde_json::to_string(&basket.basket)?)
    .bind(&basket.last_order_id)
    .bind(basket.started_at.to_rfc3339())
    .bind(basket.abandoned_at.to_rfc3339())
    .bind(basket.scale_g)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What an audited lane command concerned: the session in front of the lane, and what the
/// command dropped (JSON), if anything.
#[derive(Debug, Clone, Default)]
pub struct AuditBasket {
    pub session_id: Option<String>,
    pub dropped: Option<serde_json::Value>,
}

impl Db {
    /// Records an operator's lane command with its outcome, the basket it concerned and what it
    /// dropped.
    pub async fn audit_lane_action(
        &self,
        lane_id: &str,
        action: &OperatorAction,
        outcome: &str,
        basket: &AuditBasket,
        at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let command = serde_json::to_value(&action.command)?;
        sqlx::query(
            "INSERT INTO operator_actions (at, lane_id, operator, role, command, reason, outcome, session_id, dropped)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(at.to_rfc3339())
        .bind(lane_id)
        .bind(&action.operator)
        .bind(serde_json::to_value(action.role)?.as_str().unwrap_or_default().to_string())
        .bind(command.to_string())
        .bind(&action.reason)
        .bind(outcome)
        .bind(&basket.session_id)
        .bind(basket.dropped.as_ref().map(|d| d.to_string()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The baskets abandoned most recently, newest first.
    pub async fn abandoned_baskets(&self, limit: i64) -> Result<Vec<AbandonedBasket>, DbError> {
        let rows = sqlx::query(
            "SELECT session_id, lane_id, reason, total_fen, basket, last_order_id, started_at, abandoned_at, scale_g
             FROM abandoned_baskets ORDER BY abandoned_at DESC, session_id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                let time = |i: usize| {
                    DateTime::parse_from_rfc3339(&row.get::<String, _>(i))
                        .map(|t| t.with_timezone(&Utc))
                        .unwrap_or_default()
                };
                Ok(AbandonedBasket {
                    session_id: row.get(0),
                    lane_id: row.get(1),
                    reason: serde_json::from_value(serde_json::Value::String(row.get(2)))?,
                    total_fen: row.get(3),
                    basket: serde_json::from_str(&row.get::<String, _>(4))?,
                    last_order_id: row.get(5),
                    started_at: time(6),
                    abandoned_at: time(7),
                    scale_g: row.get(8),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lane::{AbandonReason, Lane, OperatorCommand, Role};

    #[tokio::test]
    async fn an_abandoned_basket_is_recorded_once_and_the_audit_names_what_was_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path()).await.unwrap();
        let now = Utc::now();
        let lane = Lane::new("1", now);
        let basket = AbandonedBasket {
            session_id: "s-1".into(),
            lane_id: "1".into(),
            reason: AbandonReason::ReturnedToService,
            basket: crate::lane::Basket::default(),
            total_fen: 0,
            started_at: now,
            abandoned_at: now,
            last_order_id: None,
            scale_g: Some(1030),
        };
        // A step retried after a crash commits the same abandoned basket again: one row.
        for _ in 0..2 {
            db.commit_step(&lane, None, None, Some(&basket), &[])
                .await
                .unwrap();
        }
        let stored = db.abandoned_baskets(10).await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].reason, AbandonReason::ReturnedToService);
        assert_eq!(stored[0].session_id, "s-1");
        assert_eq!(stored[0].scale_g, Some(1030));

        let action = OperatorAction {
            operator: "boss".into(),
            role: Role::Manager,
            reason: "cleaned".into(),
            command: OperatorCommand::ReturnToService,
        };
        let audit = AuditBasket {
            session_id: Some("s-1".into()),
            dropped: Some(serde_json::json!({ "session_id": "s-1", "item_count": 0 })),
        };
        db.audit_lane_action("1", &action, "ok", &audit, now)
            .await
            .unwrap();
        let rows = db.recent_actions(1).await.unwrap();
        assert_eq!(rows[0]["session_id"], "s-1");
        assert_eq!(rows[0]["dropped"]["item_count"], 0);
        assert_eq!(rows[0]["role"], "manager");
    }
}
