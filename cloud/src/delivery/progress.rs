//! The rider's progress with an order, as the store's edge reports it on
//! `omo/v1/stores/{store}/delivery/progress` (edge → cloud): a rider accepted it (who, and the
//! dispatcher's ETA), picked it up, delivered it. The edge is the authority (it checks that the
//! event came from the rider the order is with); the cloud only follows.
//!
//! Each step is one conditional UPDATE that moves the order forward only (ACCEPTED →
//! PICKED_UP → DELIVERED), so a repeated or late message (a `picked_up` after `delivered`)
//! changes nothing, and two cloud processes agree.
//!
//! In a share group the acceptance (`delivery/orders`) and the progress of an order may reach
//! different processes, so a step can arrive before the order is ACCEPTED (or, placed at the
//! store, known at all). Such a step is parked (`delivery_progress_parked`) and applied when the
//! acceptance is recorded; whichever of the two commits second applies it (each re-reads after
//! its own write), so neither order of arrival loses it.

use serde_json::Value;
use sqlx::Row;

pub use super::order::Progress;
use super::order::{Deliveries, status};
use super::payloads::PayloadError;
use crate::clock::to_rfc3339;
use crate::error::ServiceError;

/// What the store says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A rider accepted the order (it stays ACCEPTED; the rider and ETA are recorded).
    Accepted,
    PickedUp,
    Delivered,
}

impl Step {
    /// Its place in the order's life (and its key among parked steps).
    fn rank(self) -> i64 {
        match self {
            Step::Accepted => 1,
            Step::PickedUp => 2,
            Step::Delivered => 3,
        }
    }

    fn from_rank(rank: i64) -> Option<Step> {
        [Step::Accepted, Step::PickedUp, Step::Delivered]
            .into_iter()
            .find(|s| s.rank() == rank)
    }
}

/// A store's `delivery/progress` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressReport {
    pub id: String,
    pub order_id: String,
    pub step: Step,
    pub rider_id: String,
    /// RFC 3339, or empty when the store has none.
    pub eta: String,
    /// When it happened at the store, RFC 3339.
    pub at: String,
}

fn text(v: &Value, key: &'static str, max: usize) -> Result<String, PayloadError> {
    match v.get(key).and_then(Value::as_str) {
        Some(s) if !s.is_empty() && s.len() <= max => Ok(s.to_owned()),
        _ => Err(PayloadError::Missing(key)),
    }
}

/// An RFC 3339 time as UTC text, or None.
fn time(v: &Value, key: &str) -> Option<String> {
    let text = v.get(key)?.as_str()?;
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| to_rfc3339(t.with_timezone(&chrono::Utc)))
}

/// Parses a store's `delivery/progress` message (sent on `topic_store`'s topic).
pub fn parse_progress(bytes: &[u8], topic_store: &str) -> Result<ProgressReport, PayloadError> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| PayloadError::Json(e.to_string()))?;
    if let Some(store) = v.get("store_id").and_then(Value::as_str)
        && store != topic_store
    {
        return Err(PayloadError::OtherStore {
            payload: store.into(),
            topic: topic_store.into(),
        });
    }
    let step = match v.get("status").and_then(Value::as_str) {
        Some("accepted") => Step::Accepted,
        Some("picked_up") => Step::PickedUp,
        Some("delivered") => Step::Delivered,
        _ => return Err(PayloadError::Missing("status")),
    };
    Ok(ProgressReport {
        id: text(&v, "id", 256)?,
        order_id: text(&v, "order_id", 128)?,
        step,
        rider_id: text(&v, "rider_id", 128)?,
        eta: time(&v, "eta").unwrap_or_default(),
        at: time(&v, "at").ok_or(PayloadError::Missing("at"))?,
    })
}

impl Deliveries {
    /// Applies the store's report of `report.order_id` (its own order only); true if the order
    /// changed. A report too early for its order (still PLACED, or not known yet) is parked.
    pub async fn store_progress(
        &self,
        store_id: &str,
        report: &ProgressReport,
    ) -> Result<bool, ServiceError> {
        if self.apply_step(store_id, report).await? {
            return Ok(true);
        }
        let row = sqlx::query("SELECT store_id, status FROM delivery_orders WHERE order_id = $1")
            .bind(&report.order_id)
            .fetch_optional(self.ctx.db.pool())
            .await?;
        let early = match &row {
            None => true,
            Some(row) => {
                row.get::<String, _>(0) == store_id && row.get::<String, _>(1) == status::PLACED
            }
        };
        if !early {
            // A repeat, a step already passed, or another store's order, or the acceptance was
            // recorded since the first try (by another process, before this step was parked):
            // the step is tried once more, and changes nothing in the other cases.
            return self.apply_step(store_id, report).await;
        }
        sqlx::query(
            "INSERT INTO delivery_progress_parked (order_id, store_id, step_rank, message_id, \
             rider_id, eta, at, parked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (order_id, store_id, step_rank) DO NOTHING",
        )
        .bind(&report.order_id)
        .bind(store_id)
        .bind(report.step.rank())
        .bind(&report.id)
        .bind(&report.rider_id)
        .bind(&report.eta)
        .bind(&report.at)
        .bind(to_rfc3339(self.ctx.now()))
        .execute(self.ctx.db.pool())
        .await?;
        tracing::info!(store = store_id, order = %report.order_id, step = ?report.step,
            "delivery progress before the order's acceptance: parked until it arrives");
        // The acceptance may have been recorded meanwhile, before it could see this row.
        self.apply_parked(store_id, &report.order_id).await
    }

    /// Applies the parked steps of `order_id` in order, once it is no longer PLACED, and drops
    /// them; true if one changed the order.
    pub(super) async fn apply_parked(
        &self,
        store_id: &str,
        order_id: &str,
    ) -> Result<bool, ServiceError> {
        let rows = sqlx::query(
            "SELECT step_rank, message_id, rider_id, eta, at FROM delivery_progress_parked \
             WHERE order_id = $1 AND store_id = $2 ORDER BY step_rank",
        )
        .bind(order_id)
        .bind(store_id)
        .fetch_all(self.ctx.db.pool())
        .await?;
        let mut changed = false;
        for row in &rows {
            let Some(step) = Step::from_rank(row.get(0)) else {
                continue;
            };
            let report = ProgressReport {
                id: row.get(1),
                order_id: order_id.to_owned(),
                step,
                rider_id: row.get(2),
                eta: row.get(3),
                at: row.get(4),
            };
            changed |= self.apply_step(store_id, &report).await?;
        }
        if !rows.is_empty() {
            sqlx::query(
                "DELETE FROM delivery_progress_parked WHERE order_id = $1 AND store_id = $2 \
                 AND EXISTS (SELECT 1 FROM delivery_orders WHERE order_id = $1 AND store_id = $2 \
                 AND status <> $3)",
            )
            .bind(order_id)
            .bind(store_id)
            .bind(status::PLACED)
            .execute(self.ctx.db.pool())
            .await?;
        }
        Ok(changed)
    }

    /// Drops parked steps older than `before`: by then their order was accepted (and they were
    /// applied), refused, or was never one (a store's report of an order it never placed), so a
    /// store cannot grow the table without bound.
    pub async fn drop_stale_parked(&self, before: &str) -> Result<u64, ServiceError> {
        let done = sqlx::query("DELETE FROM delivery_progress_parked WHERE parked_at < $1")
            .bind(before)
            .execute(self.ctx.db.pool())
            .await?;
        Ok(done.rows_affected())
    }

    /// One step as one conditional UPDATE; true if the order changed.
    async fn apply_step(
        &self,
        store_id: &str,
        report: &ProgressReport,
    ) -> Result<bool, ServiceError> {
        let now = to_rfc3339(self.ctx.now());
        let query = match report.step {
            Step::Accepted => sqlx::query(
                "UPDATE delivery_orders SET rider_id = $1, \
                 eta = CASE WHEN $2 = '' THEN eta ELSE $2 END, updated_at = $3 \
                 WHERE order_id = $4 AND store_id = $5 AND status = $6",
            )
            .bind(&report.rider_id)
            .bind(&report.eta)
            .bind(&now)
            .bind(&report.order_id)
            .bind(store_id)
            .bind(status::ACCEPTED),
            Step::PickedUp => sqlx::query(
                "UPDATE delivery_orders SET status = $1, rider_id = $2, \
                 eta = CASE WHEN $3 = '' THEN eta ELSE $3 END, picked_up_at = $4, updated_at = $5 \
                 WHERE order_id = $6 AND store_id = $7 AND status = $8",
            )
            .bind(status::PICKED_UP)
            .bind(&report.rider_id)
            .bind(&report.eta)
            .bind(&report.at)
            .bind(&now)
            .bind(&report.order_id)
            .bind(store_id)
            .bind(status::ACCEPTED),
            Step::Delivered => sqlx::query(
                "UPDATE delivery_orders SET status = $1, rider_id = $2, \
                 eta = CASE WHEN $3 = '' THEN eta ELSE $3 END, delivered_at = $4, \
                 picked_up_at = CASE WHEN picked_up_at = '' THEN $4 ELSE picked_up_at END, \
                 updated_at = $5 \
                 WHERE order_id = $6 AND store_id = $7 AND status IN ($8, $9)",
            )
            .bind(status::DELIVERED)
            .bind(&report.rider_id)
            .bind(&report.eta)
            .bind(&report.at)
            .bind(&now)
            .bind(&report.order_id)
            .bind(store_id)
            .bind(status::ACCEPTED)
            .bind(status::PICKED_UP),
        };
        let changed = query.execute(self.ctx.db.pool()).await?.rows_affected() == 1;
        if changed {
            tracing::info!(store = store_id, order = %report.order_id, step = ?report.step,
                rider = %report.rider_id, eta = %report.eta, "delivery progress from the store");
        }
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_progress_message_parses_and_bad_ones_are_named() {
        let report = parse_progress(
            br#"{"id":"progress-A1-delivered","order_id":"A1","store_id":"SH-1","status":"delivered",
                "rider_id":"rider-2","eta":"2026-12-03T10:30:00+08:00","at":"2026-12-03T02:29:00Z"}"#,
            "SH-1",
        )
        .unwrap();
        assert_eq!(report.step, Step::Delivered);
        assert_eq!(report.eta, "2026-12-03T02:30:00.000000Z");
        assert_eq!(report.rider_id, "rider-2");
        assert!(matches!(
            parse_progress(br#"{"id":"m","order_id":"A","store_id":"X"}"#, "S"),
            Err(PayloadError::OtherStore { .. })
        ));
        assert_eq!(
            parse_progress(
                br#"{"id":"m","order_id":"A","status":"lost","rider_id":"r","at":"x"}"#,
                "S"
            ),
            Err(PayloadError::Missing("status"))
        );
        assert!(parse_progress(b"\xff", "S").is_err());
    }
}
