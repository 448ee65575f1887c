//! Authorize: charge the wallet behind a scanned payment code, exactly once per order.
//!
//! One transaction does it all. The payment row is inserted first with
//! `ON CONFLICT (store_id, order_id) DO NOTHING`: a duplicate (concurrent or late) finds the
//! first row and returns it, charging nothing. Then the code is checked (shape, wallet, frozen,
//! rate limit, TOTP step), its step is claimed in `used_codes` (UNIQUE per wallet and step, so a
//! code works once even across cloud processes), and the balance is taken by a conditional
//! UPDATE that cannot go below zero. Coupons named in the request are redeemed by conditional
//! UPDATEs in the same transaction (before the code's step is spent) and given back if the
//! payment is declined.
//!
//! The wallet's row is locked first (a no-op conditional UPDATE ... RETURNING), and a wrong code
//! is counted by one conditional UPDATE, so N concurrent wrong guesses count N. An unknown
//! wallet is declined CODE_INVALID, exactly like a wrong code.

use chrono::{DateTime, Duration, Utc};
use omo_proto::payment::DeclineReason;
use sqlx::AnyConnection;

use super::{PaymentRow, Payments, by_order, code_hash, reason_name, status};
use crate::clock::{to_rfc3339, unix_secs};
use crate::context::{require_amount, require_id};
use crate::coupons;
use crate::db::ledger::{self, Movement};
use crate::error::ServiceError;
use crate::paycode::{self, Verdict};
use crate::wallets;

/// What the lane asks.
#[derive(Debug, Clone)]
pub struct AuthorizeInput {
    /// The store acting.
    pub store_id: String,
    /// The store's order id (the idempotency key with `store_id`).
    pub order_id: String,
    /// The basket's total in fen.
    pub amount_fen: i64,
    /// The 18-digit code scanned from the shopper's app.
    pub payment_code: String,
    /// Receipt text.
    pub description: String,
    /// Coupons to redeem with this payment (ids, or the scanned `OMOC1:` codes).
    pub coupon_ids: Vec<String>,
    /// The basket before coupons, and each coupon's share, as the lane computed them (see
    /// [`coupons::check_shares`]).
    pub pre_coupon_fen: i64,
    pub coupon_shares: Vec<coupons::Share>,
}

/// What the rules decided for a new payment.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Decision {
    status: &'static str,
    reason: DeclineReason,
    wallet_id: String,
    captured_fen: i64,
    expires_at: String,
}

impl Decision {
    fn declined(reason: DeclineReason, wallet_id: &str) -> Self {
        Self {
            status: status::DECLINED,
            reason,
            wallet_id: wallet_id.to_owned(),
            captured_fen: 0,
            expires_at: String::new(),
        }
    }
}

/// A wallet's row as Authorize needs it (with the secret and the wrong-code counter).
#[derive(Debug, sqlx::FromRow)]
struct PayingWallet {
    secret_base32: String,
    balance_fen: i64,
    frozen: i64,
    no_confirm_limit_fen: i64,
    bad_codes: i64,
    bad_codes_since: String,
}

impl Payments {
    /// Authorize a payment; see the module doc. Returns the payment and whether it was a replay.
    pub async fn authorize(
        &self,
        input: &AuthorizeInput,
    ) -> Result<(PaymentRow, bool), ServiceError> {
        require_id("store_id", &input.store_id, 64)?;
        require_id("order_id", &input.order_id, 128)?;
        require_amount("amount_fen", input.amount_fen)?;
        require_id("payment_code", &input.payment_code, 64)?;
        if input.description.len() > 256 {
            return Err(ServiceError::invalid(
                "description",
                "longer than 256 bytes",
            ));
        }
        let coupon_ids = coupons::normalize_ids(&input.coupon_ids)?;
        let coupons_joined = coupon_ids.join(",");
        let now = self.ctx.now();
        let now_text = to_rfc3339(now);
        let hash = code_hash(&input.payment_code);
        let payment_id = uuid::Uuid::now_v7().to_string();

        let mut tx = self.ctx.db.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO payments (payment_id, store_id, order_id, amount_fen, code_hash, wallet_id, \
             status, decline_reason, captured_fen, refunded_fen, description, created_at, updated_at, expires_at, coupon_ids) \
             VALUES ($1, $2, $3, $4, $5, '', 'PROCESSING', 0, 0, 0, $6, $7, $7, '', $8) \
             ON CONFLICT (store_id, order_id) DO NOTHING",
        )
        .bind(&payment_id)
        .bind(&input.store_id)
        .bind(&input.order_id)
        .bind(input.amount_fen)
        .bind(&hash)
        .bind(&input.description)
        .bind(&now_text)
        .bind(&coupons_joined)
        .execute(&mut *tx)
        .await?;

        if inserted.rows_affected() == 0 {
            let first = by_order(&mut tx, &input.store_id, &input.order_id)
                .await?
                .ok_or_else(|| ServiceError::Aborted("payment row vanished; retry".into()))?;
            tx.rollback().await?;
            return self
                .replay(first, input.amount_fen, &hash, &coupons_joined)
                .await
                .map(|row| (row, true));
        }

        let decision = self
            .decide(&mut tx, input, &coupon_ids, &payment_id, now)
            .await?;
        if decision.status == status::DECLINED && !coupon_ids.is_empty() {
            // Undo the coupons marked before the decline (nothing is redeemed by a decline).
            coupons::restore(&mut tx, &payment_id).await?;
        }
        sqlx::query(
            "UPDATE payments SET status = $1, decline_reason = $2, wallet_id = $3, captured_fen = $4, \
             expires_at = $5 WHERE payment_id = $6",
        )
        .bind(decision.status)
        .bind(i64::from(decision.reason as i32))
        .bind(&decision.wallet_id)
        .bind(decision.captured_fen)
        .bind(&decision.expires_at)
        .bind(&payment_id)
        .execute(&mut *tx)
        .await?;
        let row = super::by_id(&mut tx, &payment_id)
            .await?
            .ok_or_else(|| ServiceError::Aborted("payment row vanished; retry".into()))?;
        tx.commit().await?;
        self.ctx.metrics.payment_decided(
            &row.store_id,
            &row.order_id,
            &row.payment_id,
            &row.status,
            reason_name(row.decline_reason),
            row.amount_fen,
        );
        Ok((row, false))
    }

    /// A repeat of an order already seen: the first result if the parameters match.
    async fn replay(
        &self,
        first: PaymentRow,
        amount_fen: i64,
        hash: &str,
        coupon_ids: &str,
    ) -> Result<PaymentRow, ServiceError> {
        if first.code_hash.is_empty() && first.status == status::CANCELLED {
            // Cancelled before any Authorize reached us: a late Authorize is refused as cancelled.
            return Ok(first);
        }
        if first.amount_fen != amount_fen
            || first.code_hash != hash
            || first.coupon_ids != coupon_ids
        {
            return Err(ServiceError::FailedPrecondition(format!(
                "order {} of store {} was already authorized with a different amount, payment code or coupons",
                first.order_id, first.store_id
            )));
        }
        self.ctx
            .metrics
            .authorize_replayed(&first.store_id, &first.order_id, &first.payment_id);
        self.expire_if_due(first).await
    }

    /// Apply the barcode-pay rules to a new payment, inside its transaction.
    async fn decide(
        &self,
        conn: &mut AnyConnection,
        input: &AuthorizeInput,
        coupon_ids: &[String],
        payment_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Decision, ServiceError> {
        let Ok((wallet_id, otp)) = paycode::split_code(&input.payment_code) else {
            return Ok(Decision::declined(DeclineReason::CodeInvalid, ""));
        };
        // Lock the wallet's row for the rest of the transaction (a no-op UPDATE, which both
        // PostgreSQL and SQLite serialise): concurrent payments with this wallet's codes are
        // decided one after the other on fresh values, so the wrong-code limit holds for a burst.
        let wallet: Option<PayingWallet> = sqlx::query_as(
            "UPDATE wallets SET bad_codes = bad_codes WHERE wallet_id = $1 \
             RETURNING secret_base32, balance_fen, frozen, no_confirm_limit_fen, bad_codes, bad_codes_since",
        )
        .bind(wallet_id)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(wallet) = wallet else {
            // An unknown wallet answers exactly like a wrong code (and costs the same work), so
            // wallet numbers cannot be probed at a lane.
            let _ = paycode::verify(&[0u8; 20], otp, unix_secs(now));
            tracing::warn!(wallet_id, "payment code of an unknown wallet presented");
            return Ok(Decision::declined(DeclineReason::CodeInvalid, wallet_id));
        };
        if wallet.frozen != 0 {
            return Ok(Decision::declined(DeclineReason::WalletFrozen, wallet_id));
        }
        let window = Duration::seconds(
            i64::try_from(self.ctx.config.wrong_code_window_secs)
                .unwrap_or(86_400)
                .min(86_400),
        );
        // The lock is time-bounded: it ends `window` after the window's first wrong code, and
        // codes presented while it holds are not counted, so they cannot extend it.
        let window_open = DateTime::parse_from_rfc3339(&wallet.bad_codes_since)
            .map(|since| now < since.with_timezone(&Utc) + window)
            .unwrap_or(false);
        let limit = i64::from(self.ctx.config.wrong_code_limit.max(1));
        if window_open && wallet.bad_codes >= limit {
            return Ok(Decision::declined(DeclineReason::RateLimited, wallet_id));
        }
        let Ok(secret) = paycode::decode_secret(&wallet.secret_base32) else {
            tracing::error!(
                wallet_id,
                "stored wallet secret is not base32; the wallet cannot pay"
            );
            return Ok(Decision::declined(DeclineReason::CodeInvalid, wallet_id));
        };
        let step = match paycode::verify(&secret, otp, unix_secs(now)) {
            Verdict::Valid { step } => step,
            Verdict::Expired => {
                return Ok(Decision::declined(DeclineReason::CodeExpired, wallet_id));
            }
            Verdict::Invalid => {
                let count = count_wrong_code(conn, wallet_id, now, window).await?;
                tracing::warn!(
                    wallet_id,
                    wrong_codes = count,
                    "wrong payment code presented"
                );
                return Ok(Decision::declined(DeclineReason::CodeInvalid, wallet_id));
            }
        };
        let now_text = to_rfc3339(now);
        // Coupons before the code's step is spent: a shopper whose coupon is refused pays
        // again (a new order) with the same code. The lane's arithmetic is checked against the
        // campaigns' rules first.
        if !coupon_ids.is_empty() {
            let rules = coupons::rules(conn, coupon_ids).await?;
            if let Err(why) = coupons::check_shares(
                input.amount_fen,
                input.pre_coupon_fen,
                &input.coupon_shares,
                &rules,
            ) {
                tracing::warn!(store = %input.store_id, order = %input.order_id, why, "coupon arithmetic refused");
                return Ok(Decision::declined(DeclineReason::CouponInvalid, wallet_id));
            }
            if !coupons::redeem(conn, wallet_id, coupon_ids, payment_id, &now_text).await? {
                return Ok(Decision::declined(DeclineReason::CouponInvalid, wallet_id));
            }
        }
        let claimed = sqlx::query(
            "INSERT INTO used_codes (wallet_id, step, payment_id, used_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (wallet_id, step) DO NOTHING",
        )
        .bind(wallet_id)
        .bind(i64::try_from(step).unwrap_or(i64::MAX))
        .bind(payment_id)
        .bind(&now_text)
        .execute(&mut *conn)
        .await?;
        if claimed.rows_affected() == 0 {
            return Ok(Decision::declined(
                DeclineReason::CodeAlreadyUsed,
                wallet_id,
            ));
        }
        if input.amount_fen > wallet.no_confirm_limit_fen {
            if wallet.balance_fen < input.amount_fen {
                return Ok(Decision::declined(
                    DeclineReason::InsufficientFunds,
                    wallet_id,
                ));
            }
            let timeout = Duration::seconds(
                i64::try_from(self.ctx.config.pending_timeout_secs).unwrap_or(86_400),
            );
            return Ok(Decision {
                status: status::PENDING,
                reason: DeclineReason::Unspecified,
                wallet_id: wallet_id.to_owned(),
                captured_fen: 0,
                expires_at: to_rfc3339(now + timeout),
            });
        }
        if !wallets::debit(conn, wallet_id, input.amount_fen, &now_text).await? {
            return Ok(Decision::declined(
                DeclineReason::InsufficientFunds,
                wallet_id,
            ));
        }
        let from = ledger::wallet_account(wallet_id);
        let to = ledger::merchant_account(&input.store_id);
        ledger::post(
            conn,
            &Movement {
                kind: "payment",
                ref_id: payment_id,
                from: &from,
                to: &to,
                amount_fen: input.amount_fen,
                at: &now_text,
            },
        )
        .await?;
        Ok(Decision {
            status: status::SUCCEEDED,
            reason: DeclineReason::Unspecified,
            wallet_id: wallet_id.to_owned(),
            captured_fen: input.amount_fen,
            expires_at: String::new(),
        })
    }
}

/// Count one wrong code for `wallet_id` in a single conditional UPDATE (so concurrent wrong
/// codes each count, even across cloud processes): within the window the count grows, after it
/// a new window starts at `now` with a count of 1. Returns the new count.
async fn count_wrong_code(
    conn: &mut AnyConnection,
    wallet_id: &str,
    now: DateTime<Utc>,
    window: Duration,
) -> Result<i64, ServiceError> {
    let (count,): (i64,) = sqlx::query_as(
        "UPDATE wallets SET \
           bad_codes = CASE WHEN bad_codes_since > $2 THEN bad_codes + 1 ELSE 1 END, \
           bad_codes_since = CASE WHEN bad_codes_since > $2 THEN bad_codes_since ELSE $3 END \
         WHERE wallet_id = $1 RETURNING CAST(bad_codes AS BIGINT)",
    )
    .bind(wallet_id)
    .bind(to_rfc3339(now - window))
    .bind(to_rfc3339(now))
    .fetch_one(&mut *conn)
    .await?;
    Ok(count)
}
