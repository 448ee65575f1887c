//! Barcode-pay payments: the rules of Authorize, Query, Cancel, Refund and the shopper's
//! confirmation, each one database transaction.
//!
//! | file | holds |
//! | --- | --- |
//! | `mod.rs` | the payment record, its statuses, Query, receipts and the pending time-out |
//! | [`authorize`] | Authorize: idempotency, code verification, single use, the charge |
//! | [`settle`] | Cancel, Refund and ConfirmPayment |
//! | [`exit_pass`] | AttachExitPass, and the passes a wallet's receipts show |

pub mod authorize;
pub mod exit_pass;
pub mod settle;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use crate::clock::to_rfc3339;
use crate::context::{Context, require_id};
use crate::coupons;
use crate::error::ServiceError;

pub use authorize::AuthorizeInput;
pub use settle::RefundRow;

/// Status names as stored (and as `Receipt.status` shows them).
pub mod status {
    /// Charged.
    pub const SUCCEEDED: &str = "SUCCEEDED";
    /// Waiting for the shopper's confirmation.
    pub const PENDING: &str = "PENDING";
    /// Refused, with a reason.
    pub const DECLINED: &str = "DECLINED";
    /// Reversed before or shortly after it was charged.
    pub const CANCELLED: &str = "CANCELLED";
    /// Refunded in full.
    pub const REFUNDED: &str = "REFUNDED";
}

/// A payment as stored. `decline_reason` holds `omo.payment.v1.DeclineReason` values.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PaymentRow {
    /// Cloud-assigned id, stable across retries.
    pub payment_id: String,
    /// The store that asked.
    pub store_id: String,
    /// The store's order id.
    pub order_id: String,
    /// Asked amount in fen.
    pub amount_fen: i64,
    /// SHA-256 (hex) of the payment code, to recognise a retry; empty if none was given.
    pub code_hash: String,
    /// The wallet the code belonged to (empty if unreadable).
    pub wallet_id: String,
    /// One of [`status`].
    pub status: String,
    /// `DeclineReason` value, 0 unless declined.
    pub decline_reason: i64,
    /// What was taken from the wallet.
    pub captured_fen: i64,
    /// What was given back.
    pub refunded_fen: i64,
    /// Free text for the shopper's receipt.
    pub description: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC.
    pub updated_at: String,
    /// When a pending payment times out (RFC 3339 UTC), empty otherwise.
    pub expires_at: String,
    /// The coupons it redeems, sorted and joined by `,` (empty if none).
    pub coupon_ids: String,
}

/// `SELECT <every payment column> FROM payments <tail>` as one literal.
macro_rules! select_payments {
    ($tail:literal) => {
        concat!(
            "SELECT payment_id, store_id, order_id, amount_fen, code_hash, wallet_id, status, ",
            "decline_reason, captured_fen, refunded_fen, description, created_at, updated_at, ",
            "expires_at, coupon_ids FROM payments ",
            $tail
        )
    };
}

/// Payment operations.
#[derive(Clone)]
pub struct Payments {
    pub(crate) ctx: Context,
}

impl Payments {
    /// Payment operations over the shared context.
    pub fn new(ctx: Context) -> Self {
        Self { ctx }
    }

    /// The current state of the payment for (store_id, order_id).
    pub async fn query(&self, store_id: &str, order_id: &str) -> Result<PaymentRow, ServiceError> {
        require_id("store_id", store_id, 64)?;
        require_id("order_id", order_id, 128)?;
        let mut conn = self.ctx.db.pool().acquire().await?;
        let row = by_order(&mut conn, store_id, order_id)
            .await?
            .ok_or_else(|| {
                ServiceError::NotFound(format!(
                    "no payment for order {order_id} of store {store_id}"
                ))
            })?;
        drop(conn);
        self.expire_if_due(row).await
    }

    /// The wallet's payments, newest first (at most 200).
    pub async fn receipts(&self, wallet_id: &str) -> Result<Vec<PaymentRow>, ServiceError> {
        require_id("wallet_id", wallet_id, 8)?;
        let sql = select_payments!("WHERE wallet_id = $1 ORDER BY created_at DESC LIMIT 200");
        Ok(sqlx::query_as::<_, PaymentRow>(sql)
            .bind(wallet_id)
            .fetch_all(self.ctx.db.pool())
            .await?)
    }

    /// Close every pending payment whose time-out has passed; returns how many.
    pub async fn sweep_expired(&self) -> Result<u64, ServiceError> {
        let now = to_rfc3339(self.ctx.now());
        let mut tx = self.ctx.db.begin().await?;
        let closed: Vec<(String, String, String, i64)> = sqlx::query_as(
            "UPDATE payments SET status = 'DECLINED', decline_reason = $1, updated_at = $2 \
             WHERE status = 'PENDING' AND expires_at <= $2 \
             RETURNING store_id, order_id, payment_id, amount_fen",
        )
        .bind(i64::from(
            omo_proto::payment::DeclineReason::ConfirmationTimeout as i32,
        ))
        .bind(&now)
        .fetch_all(&mut *tx)
        .await?;
        for (_, _, payment_id, _) in &closed {
            coupons::restore(&mut tx, payment_id).await?;
        }
        tx.commit().await?;
        for (store_id, order_id, payment_id, amount_fen) in &closed {
            self.ctx.metrics.payment_decided(
                store_id,
                order_id,
                payment_id,
                status::DECLINED,
                "CONFIRMATION_TIMEOUT",
                *amount_fen,
            );
        }
        Ok(closed.len() as u64)
    }

    /// If `row` is pending past its time-out, close it (declined, confirmation time-out).
    pub(crate) async fn expire_if_due(&self, row: PaymentRow) -> Result<PaymentRow, ServiceError> {
        if !is_overdue(&row, self.ctx.now()) {
            return Ok(row);
        }
        let now = to_rfc3339(self.ctx.now());
        let mut tx = self.ctx.db.begin().await?;
        let closed = close_overdue(&mut tx, &row.payment_id, &now).await?;
        let row = by_id(&mut tx, &row.payment_id).await?.unwrap_or(row);
        tx.commit().await?;
        if closed {
            self.ctx.metrics.payment_decided(
                &row.store_id,
                &row.order_id,
                &row.payment_id,
                status::DECLINED,
                "CONFIRMATION_TIMEOUT",
                row.amount_fen,
            );
        }
        Ok(row)
    }
}

/// Whether a pending payment's time-out has passed at `now`.
pub(crate) fn is_overdue(row: &PaymentRow, now: DateTime<Utc>) -> bool {
    row.status == status::PENDING && !row.expires_at.is_empty() && row.expires_at <= to_rfc3339(now)
}

/// Decline a still-pending payment for confirmation time-out; false if it was no longer pending.
pub(crate) async fn close_overdue(
    conn: &mut AnyConnection,
    payment_id: &str,
    now: &str,
) -> Result<bool, ServiceError> {
    let done = sqlx::query(
        "UPDATE payments SET status = 'DECLINED', decline_reason = $1, updated_at = $2 \
         WHERE payment_id = $3 AND status = 'PENDING'",
    )
    .bind(i64::from(
        omo_proto::payment::DeclineReason::ConfirmationTimeout as i32,
    ))
    .bind(now)
    .bind(payment_id)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    coupons::restore(conn, payment_id).await?;
    Ok(true)
}

/// Read the payment of an order.
pub(crate) async fn by_order(
    conn: &mut AnyConnection,
    store_id: &str,
    order_id: &str,
) -> Result<Option<PaymentRow>, ServiceError> {
    let sql = select_payments!("WHERE store_id = $1 AND order_id = $2");
    Ok(sqlx::query_as::<_, PaymentRow>(sql)
        .bind(store_id)
        .bind(order_id)
        .fetch_optional(&mut *conn)
        .await?)
}

/// Read a payment by its id.
pub(crate) async fn by_id(
    conn: &mut AnyConnection,
    payment_id: &str,
) -> Result<Option<PaymentRow>, ServiceError> {
    let sql = select_payments!("WHERE payment_id = $1");
    Ok(sqlx::query_as::<_, PaymentRow>(sql)
        .bind(payment_id)
        .fetch_optional(&mut *conn)
        .await?)
}

/// SHA-256 hex of a payment code: enough to recognise a retry, never the code itself.
pub(crate) fn code_hash(code: &str) -> String {
    let digest = Sha256::digest(code.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The proto name of a decline reason without its prefix, for logs and metrics.
pub(crate) fn reason_name(reason: i64) -> &'static str {
    use omo_proto::payment::DeclineReason;
    match i32::try_from(reason)
        .ok()
        .and_then(|r| DeclineReason::try_from(r).ok())
    {
        Some(DeclineReason::Unspecified) | None => "",
        Some(r) => r.as_str_name().trim_start_matches("DECLINE_REASON_"),
    }
}
