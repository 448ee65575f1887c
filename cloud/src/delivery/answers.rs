//! The stores' answers to orders placed in the app, and what happens without one: the relay's
//! claim of the orders to forward, acceptance (or an order placed at the store itself, learnt from
//! its message), refusal with a full refund, and the time-out for a store that never answers.
//! Each is idempotent: a repeated answer changes nothing.

use sqlx::Row;

use super::order::{Deliveries, DeliveryOrder, payment_order_id, status};
use super::payloads::StoreOrder;
use super::rows::{from_row, insert};
use crate::clock::to_rfc3339;
use crate::error::ServiceError;
use crate::payments::Payments;

/// Why an order the store never answered was refused.
pub const UNANSWERED: &str =
    "the store did not answer in time; nothing was delivered and the order is refunded";

/// What a store's acceptance did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acceptance {
    /// The order became ACCEPTED (or, placed at the store, was recorded).
    Recorded,
    /// Already accepted: a repeat changes nothing.
    Repeat,
    /// Another store's order: ignored.
    Ignored,
    /// The order was already refused and refunded: it must not be delivered, so the relay
    /// publishes a cancellation to the store (see [`super::payloads::cancellation_payload`]).
    Late {
        /// Why it was refused.
        refusal: String,
    },
}

impl Deliveries {
    /// Claims the orders still to be forwarded whose last forward is older than
    /// `resend_before` (or never), noting `now` as their forward: the caller publishes them.
    /// The claim is a conditional UPDATE per order, so of several cloud processes forwarding at
    /// once exactly one gets each order (PostgreSQL re-checks the condition after the row lock;
    /// SQLite runs one writer at a time). A process that dies before publishing leaves the order
    /// due again after the resend interval.
    pub async fn claim_due(
        &self,
        resend_before: &str,
        now: &str,
    ) -> Result<Vec<DeliveryOrder>, ServiceError> {
        let rows = sqlx::query(select_orders!(
            "WHERE status = $1 AND forwarded_at < $2 ORDER BY placed_at LIMIT 500"
        ))
        .bind(status::PLACED)
        .bind(resend_before)
        .fetch_all(self.ctx.db.pool())
        .await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in &rows {
            let order = from_row(row)?;
            let done = sqlx::query(
                "UPDATE delivery_orders SET forwarded_at = $1 \
                 WHERE order_id = $2 AND status = $3 AND forwarded_at < $4",
            )
            .bind(now)
            .bind(&order.order_id)
            .bind(status::PLACED)
            .bind(resend_before)
            .execute(self.ctx.db.pool())
            .await?;
            if done.rows_affected() == 1 {
                claimed.push(order);
            }
        }
        Ok(claimed)
    }

    /// The store `store_id` accepted an order (its `delivery/orders` message): an order placed in
    /// the app becomes ACCEPTED (only from PLACED, by a conditional UPDATE, so it can never also
    /// be refused); one placed at the store is recorded. An acceptance of an order already
    /// refused and refunded is [`Acceptance::Late`]: the relay answers it with a cancellation.
    pub async fn store_accepted(
        &self,
        store_id: &str,
        accepted: &StoreOrder,
    ) -> Result<Acceptance, ServiceError> {
        let now = to_rfc3339(self.ctx.now());
        let mut tx = self.ctx.db.begin().await?;
        let lines = serde_json::to_string(&accepted.lines).unwrap_or_else(|_| "[]".into());
        let done = sqlx::query(
            "UPDATE delivery_orders SET status = $1, promised_by = $2, distance_m = $3, \
             lines = CASE WHEN lines = '[]' THEN $4 ELSE lines END, updated_at = $5 \
             WHERE order_id = $6 AND store_id = $7 AND status = $8",
        )
        .bind(status::ACCEPTED)
        .bind(&accepted.promised_by)
        .bind(i64::from(accepted.distance_m))
        .bind(lines)
        .bind(&now)
        .bind(&accepted.order_id)
        .bind(store_id)
        .bind(status::PLACED)
        .execute(&mut *tx)
        .await?;
        let outcome = if done.rows_affected() == 1 {
            Acceptance::Recorded
        } else {
            let row = sqlx::query(
                "SELECT store_id, status, refusal FROM delivery_orders WHERE order_id = $1",
            )
            .bind(&accepted.order_id)
            .fetch_optional(&mut *tx)
            .await?;
            match row {
                Some(row) if row.get::<String, _>(0) != store_id => {
                    tracing::warn!(store = store_id, order = %accepted.order_id, "a store reported another store's order; ignored");
                    Acceptance::Ignored
                }
                Some(row) if row.get::<String, _>(1) == status::REFUSED => {
                    let refusal: String = row.get(2);
                    tracing::error!(store = store_id, order = %accepted.order_id, %refusal,
                        "a store accepted an order already refused and refunded: cancelling its dispatch");
                    Acceptance::Late { refusal }
                }
                Some(_) => Acceptance::Repeat,
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
                        progress: Default::default(),
                    };
                    if insert(&mut tx, &order).await? {
                        Acceptance::Recorded
                    } else {
                        Acceptance::Repeat
                    }
                }
            }
        };
        tx.commit().await?;
        if outcome == Acceptance::Recorded {
            tracing::info!(store = store_id, order = %accepted.order_id, promised_by = %accepted.promised_by, "store accepted a delivery order");
        }
        if matches!(outcome, Acceptance::Recorded | Acceptance::Repeat) {
            // Also on a repeat: a process that died between the commit above and this line
            // left the parked steps; the broker's redelivery of the acceptance applies them.
            self.apply_parked(store_id, &accepted.order_id).await?;
        }
        Ok(outcome)
    }

    /// The store refused an order placed in the app (or it never answered): in ONE transaction,
    /// the order moves from PLACED to REFUSED by a conditional UPDATE and only then an app order
    /// is refunded in full (refund id `refused-{order}`). An order already accepted (or refused)
    /// changes nothing and returns false, so an order is never both refunded and accepted.
    pub async fn store_refused(
        &self,
        store_id: &str,
        order_id: &str,
        reason: &str,
    ) -> Result<bool, ServiceError> {
        let now = to_rfc3339(self.ctx.now());
        let mut tx = self.ctx.db.begin().await?;
        let refused: Option<(i64,)> = sqlx::query_as(
            "UPDATE delivery_orders SET status = $1, refusal = $2, updated_at = $3 \
             WHERE order_id = $4 AND store_id = $5 AND status = $6 RETURNING amount_fen",
        )
        .bind(status::REFUSED)
        .bind(reason.chars().take(300).collect::<String>())
        .bind(&now)
        .bind(order_id)
        .bind(store_id)
        .bind(status::PLACED)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((amount_fen,)) = refused else {
            tx.rollback().await?;
            return Ok(false);
        };
        let payments = Payments::new(self.ctx.clone());
        let refunded = if amount_fen > 0 {
            let why: String = format!("store refused delivery: {reason}")
                .chars()
                .take(200)
                .collect();
            let (row, _, new) = payments
                .refund_in(
                    &mut tx,
                    store_id,
                    &payment_order_id(order_id),
                    &format!("refused-{order_id}"),
                    amount_fen,
                    &why,
                    &now,
                )
                .await?;
            new.then_some(row.payment_id)
        } else {
            None
        };
        tx.commit().await?;
        if let Some(payment_id) = refunded {
            self.ctx
                .metrics
                .refunded(&payment_id, &format!("refused-{order_id}"), amount_fen);
        }
        tracing::warn!(
            store = store_id,
            order = order_id,
            reason,
            amount_fen,
            "store refused a delivery order; refunded"
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
        .fetch_all(self.ctx.db.pool())
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
