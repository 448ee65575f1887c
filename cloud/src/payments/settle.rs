//! Cancel, Refund and the shopper's confirmation: how a payment reaches its final state.
//!
//! Every change is a conditional UPDATE on the payment's current status (and refunded amount),
//! so two processes racing on one payment cannot both move money. A payment that ends
//! CANCELLED or DECLINED gives its coupons back in the same transaction.

use chrono::Duration;
use omo_proto::payment::DeclineReason;

use super::{
    PaymentRow, Payments, by_id, by_order, close_overdue, is_overdue, reason_name, status,
};
use crate::clock::to_rfc3339;
use crate::context::{require_amount, require_id};
use crate::coupons;
use crate::db::ledger::{self, Movement};
use crate::error::ServiceError;
use crate::wallets;

/// A refund as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RefundRow {
    /// The caller's idempotency key.
    pub refund_id: String,
    /// The refunded payment.
    pub payment_id: String,
    /// Amount given back, fen.
    pub amount_fen: i64,
}

impl Payments {
    /// Cancel an order's payment: an unknown order is recorded as cancelled (so a late Authorize
    /// is refused), a pending one is closed, a succeeded one within the cancel window is refunded
    /// in full. Final states are returned unchanged.
    pub async fn cancel(
        &self,
        store_id: &str,
        order_id: &str,
        reason: &str,
    ) -> Result<PaymentRow, ServiceError> {
        require_id("store_id", store_id, 64)?;
        require_id("order_id", order_id, 128)?;
        let now = self.ctx.now();
        let now_text = to_rfc3339(now);
        let mut tx = self.ctx.db.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO payments (payment_id, store_id, order_id, amount_fen, code_hash, wallet_id, \
             status, decline_reason, captured_fen, refunded_fen, description, created_at, updated_at, expires_at) \
             VALUES ($1, $2, $3, 0, '', '', 'CANCELLED', 0, 0, 0, '', $4, $4, '') \
             ON CONFLICT (store_id, order_id) DO NOTHING",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(store_id)
        .bind(order_id)
        .bind(&now_text)
        .execute(&mut *tx)
        .await?;
        let row = by_order(&mut tx, store_id, order_id)
            .await?
            .ok_or_else(|| ServiceError::Aborted("payment row vanished; retry".into()))?;
        if inserted.rows_affected() == 1 {
            tx.commit().await?;
            tracing::info!(
                store_id,
                order_id,
                reason,
                "unknown order cancelled; a late Authorize will be refused"
            );
            return Ok(row);
        }
        match row.status.as_str() {
            status::PENDING if is_overdue(&row, now) => {
                close_overdue(&mut tx, &row.payment_id, &now_text).await?;
            }
            status::PENDING => {
                let done = sqlx::query("UPDATE payments SET status = 'CANCELLED', updated_at = $1 WHERE payment_id = $2 AND status = 'PENDING'")
                    .bind(&now_text)
                    .bind(&row.payment_id)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(ServiceError::Aborted(
                        "the payment changed meanwhile; retry".into(),
                    ));
                }
                coupons::restore(&mut tx, &row.payment_id).await?;
                tracing::info!(store_id, order_id, reason, "pending payment cancelled");
            }
            status::SUCCEEDED => {
                let window = Duration::seconds(
                    i64::try_from(self.ctx.config.cancel_window_secs).unwrap_or(0),
                );
                let deadline = chrono::DateTime::parse_from_rfc3339(&row.created_at)
                    .map(|t| t.to_utc() + window);
                if !deadline.is_ok_and(|d| now <= d) {
                    return Err(ServiceError::FailedPrecondition(format!(
                        "payment for order {order_id} succeeded more than {} s ago; use Refund",
                        self.ctx.config.cancel_window_secs
                    )));
                }
                let back = row.captured_fen - row.refunded_fen;
                let done = sqlx::query(
                    "UPDATE payments SET status = 'CANCELLED', refunded_fen = captured_fen, updated_at = $1 \
                     WHERE payment_id = $2 AND status = 'SUCCEEDED' AND refunded_fen = $3",
                )
                .bind(&now_text)
                .bind(&row.payment_id)
                .bind(row.refunded_fen)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(ServiceError::Aborted(
                        "the payment changed meanwhile; retry".into(),
                    ));
                }
                if back > 0 {
                    self.give_back(&mut tx, &row, "cancel", back, &now_text)
                        .await?;
                }
                coupons::restore(&mut tx, &row.payment_id).await?;
                self.ctx.metrics.refunded(&row.payment_id, "cancel", back);
            }
            _ => {}
        }
        let row = by_id(&mut tx, &row.payment_id).await?.unwrap_or(row);
        tx.commit().await?;
        Ok(row)
    }

    /// Refund part or all of a succeeded payment, once per `refund_id`, never above what was paid.
    pub async fn refund(
        &self,
        store_id: &str,
        order_id: &str,
        refund_id: &str,
        amount_fen: i64,
        reason: &str,
    ) -> Result<(PaymentRow, RefundRow), ServiceError> {
        require_id("store_id", store_id, 64)?;
        require_id("order_id", order_id, 128)?;
        require_id("refund_id", refund_id, 128)?;
        require_amount("amount_fen", amount_fen)?;
        if reason.len() > 256 {
            return Err(ServiceError::invalid("reason", "longer than 256 bytes"));
        }
        let now_text = to_rfc3339(self.ctx.now());
        let mut tx = self.ctx.db.begin().await?;
        let (row, refund, new) = self
            .refund_in(
                &mut tx, store_id, order_id, refund_id, amount_fen, reason, &now_text,
            )
            .await?;
        tx.commit().await?;
        if new {
            self.ctx
                .metrics
                .refunded(&row.payment_id, refund_id, amount_fen);
        }
        Ok((row, refund))
    }

    /// [`Payments::refund`] inside the caller's transaction `tx` (so a refund can commit, or
    /// roll back, with another change); the arguments are checked by the caller. The flag is
    /// true when this call gave the money back (false: `refund_id` was already made).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn refund_in(
        &self,
        tx: &mut sqlx::AnyConnection,
        store_id: &str,
        order_id: &str,
        refund_id: &str,
        amount_fen: i64,
        reason: &str,
        now_text: &str,
    ) -> Result<(PaymentRow, RefundRow, bool), ServiceError> {
        let row = by_order(&mut *tx, store_id, order_id)
            .await?
            .ok_or_else(|| {
                ServiceError::NotFound(format!(
                    "no payment for order {order_id} of store {store_id}"
                ))
            })?;
        let inserted = sqlx::query(
            "INSERT INTO refunds (refund_id, payment_id, amount_fen, reason, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (refund_id) DO NOTHING",
        )
        .bind(refund_id)
        .bind(&row.payment_id)
        .bind(amount_fen)
        .bind(reason)
        .bind(now_text)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            let first: RefundRow = sqlx::query_as(
                "SELECT refund_id, payment_id, amount_fen FROM refunds WHERE refund_id = $1",
            )
            .bind(refund_id)
            .fetch_one(&mut *tx)
            .await?;
            if first.payment_id != row.payment_id || first.amount_fen != amount_fen {
                return Err(ServiceError::FailedPrecondition(format!(
                    "refund {refund_id} was already made for another payment or amount"
                )));
            }
            return Ok((row, first, false));
        }
        if row.status != status::SUCCEEDED {
            return Err(ServiceError::FailedPrecondition(format!(
                "the payment for order {order_id} is {}; only a succeeded payment can be refunded",
                row.status
            )));
        }
        let done = sqlx::query(
            "UPDATE payments SET refunded_fen = refunded_fen + $1, updated_at = $2, \
             status = CASE WHEN refunded_fen + $1 = captured_fen THEN 'REFUNDED' ELSE 'SUCCEEDED' END \
             WHERE payment_id = $3 AND status = 'SUCCEEDED' AND refunded_fen + $1 <= captured_fen",
        )
        .bind(amount_fen)
        .bind(now_text)
        .bind(&row.payment_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(ServiceError::FailedPrecondition(format!(
                "refund of {amount_fen} fen exceeds the refundable {} fen of order {order_id}",
                row.captured_fen - row.refunded_fen
            )));
        }
        self.give_back(&mut *tx, &row, "refund", amount_fen, now_text)
            .await?;
        let row = by_id(&mut *tx, &row.payment_id).await?.unwrap_or(row);
        let refund = RefundRow {
            refund_id: refund_id.to_owned(),
            payment_id: row.payment_id.clone(),
            amount_fen,
        };
        Ok((row, refund, true))
    }

    /// The shopper approves or rejects a pending payment from the app.
    pub async fn confirm(
        &self,
        wallet_id: &str,
        payment_id: &str,
        approve: bool,
    ) -> Result<PaymentRow, ServiceError> {
        require_id("wallet_id", wallet_id, 8)?;
        require_id("payment_id", payment_id, 64)?;
        let now = self.ctx.now();
        let now_text = to_rfc3339(now);
        let mut tx = self.ctx.db.begin().await?;
        let row = by_id(&mut tx, payment_id)
            .await?
            .filter(|p| p.wallet_id == wallet_id)
            .ok_or_else(|| {
                ServiceError::NotFound(format!("wallet {wallet_id} has no payment {payment_id}"))
            })?;
        if row.status != status::PENDING {
            tx.rollback().await?;
            return Ok(row);
        }
        let reason = if is_overdue(&row, now) {
            close_overdue(&mut tx, payment_id, &now_text).await?;
            Some(DeclineReason::ConfirmationTimeout)
        } else if !approve {
            self.set_declined(
                &mut tx,
                payment_id,
                DeclineReason::ShopperRejected,
                &now_text,
            )
            .await?;
            Some(DeclineReason::ShopperRejected)
        } else if !wallets::debit(&mut tx, wallet_id, row.amount_fen, &now_text).await? {
            self.set_declined(
                &mut tx,
                payment_id,
                DeclineReason::InsufficientFunds,
                &now_text,
            )
            .await?;
            Some(DeclineReason::InsufficientFunds)
        } else {
            let done = sqlx::query(
                "UPDATE payments SET status = 'SUCCEEDED', captured_fen = amount_fen, updated_at = $1 \
                 WHERE payment_id = $2 AND status = 'PENDING'",
            )
            .bind(&now_text)
            .bind(payment_id)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(ServiceError::Aborted(
                    "the payment changed meanwhile; retry".into(),
                ));
            }
            let from = ledger::wallet_account(wallet_id);
            let to = ledger::merchant_account(&row.store_id);
            ledger::post(
                &mut tx,
                &Movement {
                    kind: "payment",
                    ref_id: payment_id,
                    from: &from,
                    to: &to,
                    amount_fen: row.amount_fen,
                    at: &now_text,
                },
            )
            .await?;
            None
        };
        let row = by_id(&mut tx, payment_id).await?.unwrap_or(row);
        tx.commit().await?;
        let reason = reason
            .map(|r| reason_name(i64::from(r as i32)))
            .unwrap_or("");
        self.ctx.metrics.payment_decided(
            &row.store_id,
            &row.order_id,
            &row.payment_id,
            &row.status,
            reason,
            row.amount_fen,
        );
        Ok(row)
    }

    async fn set_declined(
        &self,
        conn: &mut sqlx::AnyConnection,
        payment_id: &str,
        reason: DeclineReason,
        now: &str,
    ) -> Result<(), ServiceError> {
        let done = sqlx::query(
            "UPDATE payments SET status = 'DECLINED', decline_reason = $1, updated_at = $2 \
             WHERE payment_id = $3 AND status = 'PENDING'",
        )
        .bind(i64::from(reason as i32))
        .bind(now)
        .bind(payment_id)
        .execute(&mut *conn)
        .await?;
        if done.rows_affected() == 0 {
            return Err(ServiceError::Aborted(
                "the payment changed meanwhile; retry".into(),
            ));
        }
        coupons::restore(conn, payment_id).await?;
        Ok(())
    }

    /// Move `amount_fen` from the store's merchant account back to the payer's wallet; the
    /// ledger rows carry the payment id, so the per-payment ledger check covers refunds.
    async fn give_back(
        &self,
        conn: &mut sqlx::AnyConnection,
        row: &PaymentRow,
        kind: &str,
        amount_fen: i64,
        now: &str,
    ) -> Result<(), ServiceError> {
        if !wallets::credit(conn, &row.wallet_id, amount_fen, now).await? {
            return Err(ServiceError::FailedPrecondition(format!(
                "wallet {} no longer exists",
                row.wallet_id
            )));
        }
        let from = ledger::merchant_account(&row.store_id);
        let to = ledger::wallet_account(&row.wallet_id);
        ledger::post(
            conn,
            &Movement {
                kind,
                ref_id: &row.payment_id,
                from: &from,
                to: &to,
                amount_fen,
                at: now,
            },
        )
        .await
        .map_err(ServiceError::from)
    }
}
