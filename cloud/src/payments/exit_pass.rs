//! Exit passes attached to payments: a store's edge hands the cloud the signed pass of a basket
//! it was paid for (`PaymentService.AttachExitPass`), and the pass is shown only to the wallet
//! that paid, in its `ListReceipts`.
//!
//! Only a SUCCEEDED payment of the calling store takes a pass (the gRPC layer checks the store's
//! identity first; this checks the payment is that store's). Attaching is idempotent by payment:
//! the same pass again changes nothing, a newer pass for the same payment replaces the old one.

use std::collections::HashMap;

use sqlx::Row;

use super::{Payments, by_order, status};
use crate::clock::to_rfc3339;
use crate::context::require_id;
use crate::error::ServiceError;

/// Longest exit pass accepted, in bytes.
pub const MAX_PASS_LEN: usize = 1024;

impl Payments {
    /// Attaches `exit_pass` to the payment of `store_id`'s order `order_id`; returns the
    /// payment's id. NOT_FOUND if the store has no such payment, FAILED_PRECONDITION unless it
    /// succeeded.
    pub async fn attach_exit_pass(
        &self,
        store_id: &str,
        order_id: &str,
        exit_pass: &str,
    ) -> Result<String, ServiceError> {
        require_id("store_id", store_id, 64)?;
        require_id("order_id", order_id, 128)?;
        if exit_pass.is_empty()
            || exit_pass.len() > MAX_PASS_LEN
            || !exit_pass.chars().all(|c| c.is_ascii_graphic())
        {
            return Err(ServiceError::invalid(
                "exit_pass",
                format!("1-{MAX_PASS_LEN} printable ASCII characters"),
            ));
        }
        let now = to_rfc3339(self.ctx.now());
        let mut tx = self.ctx.db.begin().await?;
        let row = by_order(&mut tx, store_id, order_id)
            .await?
            .ok_or_else(|| {
                ServiceError::NotFound(format!(
                    "no payment for order {order_id} of store {store_id}"
                ))
            })?;
        if row.status != status::SUCCEEDED {
            return Err(ServiceError::FailedPrecondition(format!(
                "the payment for order {order_id} is {}; only a paid basket has an exit pass",
                row.status
            )));
        }
        sqlx::query(
            "INSERT INTO exit_passes (payment_id, store_id, order_id, wallet_id, exit_pass, attached_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (payment_id) DO UPDATE SET \
             exit_pass = excluded.exit_pass, attached_at = excluded.attached_at",
        )
        .bind(&row.payment_id)
        .bind(&row.store_id)
        .bind(&row.order_id)
        .bind(&row.wallet_id)
        .bind(exit_pass)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(store = store_id, order = order_id, payment = %row.payment_id, "exit pass attached to its payment");
        Ok(row.payment_id)
    }

    /// The exit passes of `wallet_id`'s payments, by payment id.
    pub async fn exit_passes(
        &self,
        wallet_id: &str,
    ) -> Result<HashMap<String, String>, ServiceError> {
        let rows =
            sqlx::query("SELECT payment_id, exit_pass FROM exit_passes WHERE wallet_id = $1")
                .bind(wallet_id)
                .fetch_all(self.ctx.db.pool())
                .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}
