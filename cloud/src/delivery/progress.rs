//! The rider's progress with an order, as the store's edge reports it on
//! `omo/v1/stores/{store}/delivery/progress` (edge → cloud): a rider accepted it (who, and the
//! dispatcher's ETA), picked it up, delivered it. The edge is the authority (it checks that the
//! event came from the rider the order is with); the cloud only follows.
//!
//! Each step is one conditional UPDATE that moves the order forward only (ACCEPTED →
//! PICKED_UP → DELIVERED), so a repeated or late message (a `picked_up` after `delivered`)
//! changes nothing, and two cloud processes agree.

use serde_json::Value;

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
    /// changed.
    pub async fn store_progress(
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
