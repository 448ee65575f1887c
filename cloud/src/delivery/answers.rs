//! The stores' answers to orders placed in the app, and what happens without one: forwarding
//! bookkeeping for the relay, acceptance (or an order placed at the store itself, learnt from
//! its message), refusal with a full refund, and the time-out for a store that never answers.
//! Each is idempotent: a repeated answer changes nothing.

use sqlx::Row;

use super::orders::{Deliveries, DeliveryOrder, from_row, insert, payment_order_id, status};
use super::payloads::StoreOrder;
use crate::clock::to_rfc3339;
use crate::error::ServiceError;
use crate::payments::Payments;

/// Why an order the store never answered was refused.
pub const UNANSWERED: &str =
    "the store did not answer in time; nothing was delivered and the order is refunded";

impl Deliveries {
    /// Orders still to be forwarded whose last forward is older than `resend_before` (or never).
    pub async fn due(&self, resend_before: &str) -> Result<Vec<DeliveryOrder>, ServiceError> {
        let rows = sqlx::query(select_orders!(
            "WHERE status = $1 AND forwarded_at < $2 ORDER BY placed_at LIMIT 500"
        ))
        .bind(status::PLACED)
        .bind(resend_before)
        .fetch_all(self.ctx.store.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Notes that `order_ids` were handed to the broker at `at` (one transaction).
    pub async fn forwarded(&self, order_ids: &[String], at: &str) -> Result<(), ServiceError> {
        if order_ids.is_empty() {
            return Ok(());
        }
        let mut tx = self.ctx.store.begin().await?;
        for order_id in order_ids {
            sqlx::query("UPDATE delivery_orders SET forwarded_at = $1 WHERE order_id = $2")
                .bind(at)
                .bind(order_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The store `store_id` accepted an order (its `delivery/orders` message): an order placed in
    /// the app becomes ACCEPTED; one placed at the store is recorded. Repeats change nothing.
    pub async fn store_accepted(
        &self,
        store_id: &str,
        accepted: &StoreOrder,
    ) -> Result<bool, ServiceError> {
        let now = to_rfc3339(self.ctx.now());
        let mut tx = self.ctx.store.begin().await?;
        let row =
            sqlx::query("SELECT store_id, status, lines FROM delivery_orders WHERE order_id = $1")
                .bind(&accepted.order_id)
                .fetch_optional(&mut *tx)
                .await?;
        let changed = match row {
            Some(row) => {
                let owner: String = row.get(0);
                let state: String = row.get(1);
                if owner != store_id {
                    tracing::warn!(store = store_id, order = %accepted.order_id, "a store reported another store's order; ignored");
                    false
                } else if state == status::PLACED {
                    let lines: String = row.get(2);
                    let lines = if lines == "[]" {
                        serde_json::to_string(&accepted.lines).unwrap_or(lines)
                    } else {
                        lines
                    };
                    sqlx::query(
                        "UPDATE delivery_orders SET status = $1, promised_by = $2, distance_m = $3, \
                         lines = $4, updated_at = $5 WHERE order_id = $6",
                    )
                    .bind(status::ACCEPTED)
                    .bind(&accepted.promised_by)
                    .bind(i64::from(accepted.distance_m))
                    .bind(lines)
                    .bind(&now)
                    .bind(&accepted.order_id)
                    .execute(&mut *tx)
                    .await?;
                    true
                } else {
                    if state == status::REFUSED {
                        tracing::error!(store = store_id, order = %accepted.order_id,
                            "a store accepted an order already refused and refunded: it must not be delivered");
                    }
                    false
                }
            }
            None => {
                let order = DeliveryOrder {
                    order_id: accepted.order_id.clone(),
                    store_id: store_id.into(),
                    wallet_id: String::new(),
                    source: "store".into(),
                    status: status::ACCEPTED.into(),
                    lines: accepted.lines.clone(),
                    purchase_order_id: String::new(),
                    lat: accepted.lat,
                    lon: accepted.lon,
                    address: accepted.address.clone(),
                    distance_m: accepted.distance_m,
                    radius_m: 0,
                    amount_fen: 0,
                    payment_id: String::new(),
                    placed_at: now.clone(),
                    promised_by: accepted.promised_by.clone(),
                    refusal: String::new(),
                };
                insert(&mut tx, &order).await?
            }
        };
        tx.commit().await?;
        if changed {
            tracing::info!(store = store_id, order = %accepted.order_id, promised_by = %accepted.promised_by, "store accepted a delivery order");
        }
        Ok(changed)
    }

    /// The store refused an order placed in the app: an app order is refunded in full (by the
    /// refund id `refused-{order}`), then the order is REFUSED. Repeats change nothing.
    pub async fn store_refused(
        &self,
        store_id: &str,
        order_id: &str,
        reason: &str,
    ) -> Result<bool, ServiceError> {
        let Some(order) = self.get_any(order_id).await? else {
            return Ok(false);
        };
        if order.store_id != store_id || order.status != status::PLACED {
            return Ok(false);
        }
        if order.amount_fen > 0 {
            let refund_id = format!("refused-{order_id}");
            let why: String = format!("store refused delivery: {reason}")
                .chars()
                .take(200)
                .collect();
            Payments::new(self.ctx.clone())
                .refund(
                    store_id,
                    &payment_order_id(order_id),
                    &refund_id,
                    order.amount_fen,
                    &why,
                )
                .await?;
        }
        let now = to_rfc3339(self.ctx.now());
        let mut tx = self.ctx.store.begin().await?;
        sqlx::query(
            "UPDATE delivery_orders SET status = $1, refusal = $2, updated_at = $3 \
             WHERE order_id = $4 AND status = $5",
        )
        .bind(status::REFUSED)
        .bind(reason.chars().take(300).collect::<String>())
        .bind(&now)
        .bind(order_id)
        .bind(status::PLACED)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::warn!(
            store = store_id,
            order = order_id,
            reason,
            "store refused a delivery order"
        );
        Ok(true)
    }

    /// Refuses (and refunds) every order still waiting for its store that was placed before
    /// `placed_before` (RFC 3339): the store never answered. Returns how many.
    pub async fn expire_unanswered(&self, placed_before: &str) -> Result<usize, ServiceError> {
        let rows = sqlx::query(
            "SELECT order_id, store_id FROM delivery_orders WHERE status = $1 AND placed_at < $2 \
             ORDER BY placed_at LIMIT 500",
        )
        .bind(status::PLACED)
        .bind(placed_before)
        .fetch_all(self.ctx.store.pool())
        .await?;
        let mut expired = 0;
        for row in rows {
            let (order_id, store_id): (String, String) = (row.get(0), row.get(1));
            if self.store_refused(&store_id, &order_id, UNANSWERED).await? {
                expired += 1;
            }
        }
        Ok(expired)
    }
}
