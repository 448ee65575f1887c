//! Hands each paid basket's exit pass to the cloud (`PaymentService.AttachExitPass`), so the
//! paying wallet's app shows it in its receipts and no one else sees it.
//!
//! The sale row the lane commits with its exit pass is the durable to-do: this task attaches
//! every sale whose `pass_attached_at` is still empty, oldest first, and notes the time once the
//! cloud took it. A cloud outage or an edge restart only delays it (the RPC is idempotent, so a
//! pass attached twice is one pass). A definitive refusal (another store's order, a payment the
//! cloud does not know) is noted as `refused: ...` and not asked again.

use std::sync::Arc;
use std::time::Duration;

use sqlx::Row;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::context::EdgeContext;
use crate::payment::AttachError;

/// How often the task looks for passes to attach when all are attached.
pub const POLL: Duration = Duration::from_millis(500);

/// Attaches exit passes until `cancel`.
pub async fn run(ctx: Arc<EdgeContext>, cancel: CancellationToken) {
    let mut backoff = POLL;
    loop {
        let wait = match attach_due(&ctx).await {
            Ok(()) => {
                backoff = POLL;
                POLL
            }
            Err(error) => {
                debug!(%error, "exit passes not attached yet; trying again");
                backoff = (backoff * 2).min(Duration::from_secs(30));
                backoff
            }
        };
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// Attaches every pass not yet attached; stops at the first transient failure.
async fn attach_due(ctx: &EdgeContext) -> Result<(), String> {
    let rows = sqlx::query(
        "SELECT order_id, exit_pass FROM sales WHERE pass_attached_at = '' AND exit_pass != '' \
         ORDER BY paid_at LIMIT 50",
    )
    .fetch_all(ctx.db.pool())
    .await
    .map_err(|e| e.to_string())?;
    for row in rows {
        let (order_id, pass): (String, String) = (row.get(0), row.get(1));
        let noted = match ctx.payments.attach_exit_pass(&order_id, &pass).await {
            Ok(()) => {
                info!(order = %order_id, "exit pass attached to its payment in the cloud");
                chrono::Utc::now().to_rfc3339()
            }
            Err(AttachError::Refused(message)) => {
                warn!(order = %order_id, %message, "the cloud refused the exit pass; not asked again");
                format!("refused: {message}").chars().take(200).collect()
            }
            Err(AttachError::Unreachable(message)) => return Err(message),
        };
        sqlx::query("UPDATE sales SET pass_attached_at = $1 WHERE order_id = $2")
            .bind(noted)
            .bind(&order_id)
            .execute(ctx.db.pool())
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
