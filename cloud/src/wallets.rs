//! Shopper wallets: enrolment (wallet number and TOTP secret), top-ups, freezing, reading.
//!
//! A wallet opens empty. Money enters only by [`Wallets::top_up`], which the gRPC layer allows
//! only to the funding authority ([`crate::funding::FundingAuth`]); each top-up is a ledger
//! movement from the funding account, once per top-up id (the `top_ups` primary key).

use rand::Rng;
use sqlx::AnyConnection;

use crate::clock::to_rfc3339;
use crate::context::{Context, require_amount, require_id};
use crate::db::ledger::{self, FUNDING_ACCOUNT, Movement};
use crate::error::ServiceError;
use crate::paycode;

/// A wallet as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WalletRow {
    /// 8 digits.
    pub wallet_id: String,
    /// The shopper's chosen name.
    pub display_name: String,
    /// Balance in fen, never negative.
    pub balance_fen: i64,
    /// 1 when frozen.
    pub frozen: i64,
    /// Payments above this wait for confirmation.
    pub no_confirm_limit_fen: i64,
}

/// What enrolment hands the phone app.
#[derive(Debug, Clone)]
pub struct Enrolled {
    /// The new wallet.
    pub wallet: WalletRow,
    /// RFC 4648 base32 (no padding) of the 20-byte secret, shown once.
    pub secret_base32: String,
}

const SELECT_WALLET: &str = "SELECT wallet_id, display_name, balance_fen, frozen, no_confirm_limit_fen \
                             FROM wallets WHERE wallet_id = $1";

/// Wallet operations.
#[derive(Clone)]
pub struct Wallets {
    ctx: Context,
}

impl Wallets {
    /// Wallet operations over the shared context.
    pub fn new(ctx: Context) -> Self {
        Self { ctx }
    }

    /// Create an empty wallet with a fresh 8-digit number and a 20-byte secret.
    ///
    /// `initial_balance_fen` is what the (old) request asked to open with: anything but 0 is
    /// refused, since a wallet's balance grows only by the funding authority's top-ups.
    pub async fn enroll(
        &self,
        display_name: &str,
        initial_balance_fen: i64,
    ) -> Result<Enrolled, ServiceError> {
        if display_name.len() > 100 || display_name.chars().any(char::is_control) {
            return Err(ServiceError::invalid(
                "display_name",
                "at most 100 bytes, no control characters",
            ));
        }
        if initial_balance_fen != 0 {
            tracing::warn!(
                initial_balance_fen,
                "an enrolment asking for an opening balance was refused"
            );
            return Err(ServiceError::invalid(
                "initial_balance_fen",
                "a wallet opens empty; money enters only through a top-up by the funding \
                 authority (`omo shopper fund`)",
            ));
        }
        let mut secret = [0u8; 20];
        rand::rng().fill(&mut secret[..]);
        let secret_base32 = paycode::encode_secret(&secret);
        let now = to_rfc3339(self.ctx.now());
        let mut tx = self.ctx.db.begin().await?;
        let mut wallet_id = None;
        for _ in 0..32 {
            let candidate = format!("{:08}", rand::rng().random_range(0..100_000_000u32));
            let inserted = sqlx::query(
                "INSERT INTO wallets (wallet_id, display_name, secret_base32, balance_fen, frozen, \
                 no_confirm_limit_fen, created_at, updated_at) VALUES ($1, $2, $3, 0, 0, $4, $5, $5) \
                 ON CONFLICT (wallet_id) DO NOTHING",
            )
            .bind(&candidate)
            .bind(display_name)
            .bind(&secret_base32)
            .bind(self.ctx.config.no_confirm_limit_fen)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() == 1 {
                wallet_id = Some(candidate);
                break;
            }
        }
        let wallet_id = wallet_id
            .ok_or_else(|| ServiceError::Aborted("no free wallet number found; retry".into()))?;
        let wallet = fetch(&mut tx, &wallet_id)
            .await?
            .ok_or_else(|| ServiceError::Aborted("wallet vanished".into()))?;
        tx.commit().await.map_err(ServiceError::from)?;
        self.ctx.metrics.wallet_enrolled(&wallet_id);
        Ok(Enrolled {
            wallet,
            secret_base32,
        })
    }

    /// Add money to a wallet, once per `top_up_id`.
    pub async fn top_up(
        &self,
        wallet_id: &str,
        amount_fen: i64,
        top_up_id: &str,
    ) -> Result<WalletRow, ServiceError> {
        require_id("wallet_id", wallet_id, 8)?;
        require_amount("amount_fen", amount_fen)?;
        require_id("top_up_id", top_up_id, 128)?;
        let now = to_rfc3339(self.ctx.now());
        let mut tx = self.ctx.db.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO top_ups (top_up_id, wallet_id, amount_fen, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (top_up_id) DO NOTHING",
        )
        .bind(top_up_id)
        .bind(wallet_id)
        .bind(amount_fen)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            let (first_wallet, first_amount): (String, i64) =
                sqlx::query_as("SELECT wallet_id, amount_fen FROM top_ups WHERE top_up_id = $1")
                    .bind(top_up_id)
                    .fetch_one(&mut *tx)
                    .await?;
            if first_wallet != wallet_id || first_amount != amount_fen {
                return Err(ServiceError::FailedPrecondition(format!(
                    "top-up {top_up_id} was already made with a different wallet or amount"
                )));
            }
        } else {
            if !credit(&mut tx, wallet_id, amount_fen, &now).await? {
                return Err(ServiceError::NotFound(format!("no wallet {wallet_id}")));
            }
            let to = ledger::wallet_account(wallet_id);
            ledger::post(
                &mut tx,
                &Movement {
                    kind: "top_up",
                    ref_id: top_up_id,
                    from: FUNDING_ACCOUNT,
                    to: &to,
                    amount_fen,
                    at: &now,
                },
            )
            .await?;
        }
        let wallet = fetch(&mut tx, wallet_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no wallet {wallet_id}")))?;
        tx.commit().await.map_err(ServiceError::from)?;
        Ok(wallet)
    }

    /// The database (the funding account's audit reads it).
    pub fn db(&self) -> &crate::db::Database {
        &self.ctx.db
    }

    /// Read a wallet.
    pub async fn get(&self, wallet_id: &str) -> Result<WalletRow, ServiceError> {
        require_id("wallet_id", wallet_id, 8)?;
        sqlx::query_as::<_, WalletRow>(SELECT_WALLET)
            .bind(wallet_id)
            .fetch_optional(self.ctx.db.pool())
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no wallet {wallet_id}")))
    }

    /// Allow the request only if it carries the app token of `wallet_id`
    /// (`authorization: Bearer <token>`, see [`crate::paycode::app_token`]). An unknown wallet and a
    /// wrong token answer the same, so wallet numbers cannot be probed.
    pub async fn authenticate(
        &self,
        metadata: &tonic::metadata::MetadataMap,
        wallet_id: &str,
    ) -> Result<(), ServiceError> {
        require_id("wallet_id", wallet_id, 8)?;
        let token = crate::identity::bearer(metadata).ok_or_else(|| {
            ServiceError::Unauthenticated(
                "the wallet's app token is required (`authorization: Bearer <app token>`)".into(),
            )
        })?;
        let secret: Option<(String,)> =
            sqlx::query_as("SELECT secret_base32 FROM wallets WHERE wallet_id = $1")
                .bind(wallet_id)
                .fetch_optional(self.ctx.db.pool())
                .await?;
        let known = secret
            .and_then(|(s,)| paycode::decode_secret(&s).ok())
            .is_some_and(|secret| paycode::is_app_token(&secret, token));
        if !known {
            tracing::warn!(wallet_id, "shopper call with a wrong app token refused");
            return Err(ServiceError::Unauthenticated(format!(
                "not the app token of wallet {wallet_id}"
            )));
        }
        Ok(())
    }

    /// Freeze or unfreeze a wallet (an operator's action; payments are declined WALLET_FROZEN).
    pub async fn set_frozen(&self, wallet_id: &str, frozen: bool) -> Result<(), ServiceError> {
        let mut tx = self.ctx.db.begin().await?;
        let done =
            sqlx::query("UPDATE wallets SET frozen = $1, updated_at = $2 WHERE wallet_id = $3")
                .bind(i64::from(frozen))
                .bind(to_rfc3339(self.ctx.now()))
                .bind(wallet_id)
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() == 0 {
            return Err(ServiceError::NotFound(format!("no wallet {wallet_id}")));
        }
        tx.commit().await?;
        tracing::info!(wallet_id, frozen, "wallet freeze changed");
        Ok(())
    }
}

/// Read a wallet inside a transaction.
pub async fn fetch(
    conn: &mut AnyConnection,
    wallet_id: &str,
) -> Result<Option<WalletRow>, ServiceError> {
    Ok(sqlx::query_as::<_, WalletRow>(SELECT_WALLET)
        .bind(wallet_id)
        .fetch_optional(&mut *conn)
        .await?)
}

/// Add to a balance; false if there is no such wallet.
pub async fn credit(
    conn: &mut AnyConnection,
    wallet_id: &str,
    amount_fen: i64,
    now: &str,
) -> Result<bool, ServiceError> {
    let done = sqlx::query(
        "UPDATE wallets SET balance_fen = balance_fen + $1, updated_at = $2 WHERE wallet_id = $3",
    )
    .bind(amount_fen)
    .bind(now)
    .bind(wallet_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Take from a balance only if it covers the amount; false if it does not.
pub async fn debit(
    conn: &mut AnyConnection,
    wallet_id: &str,
    amount_fen: i64,
    now: &str,
) -> Result<bool, ServiceError> {
    let done = sqlx::query(
        "UPDATE wallets SET balance_fen = balance_fen - $1, updated_at = $2 \
         WHERE wallet_id = $3 AND balance_fen >= $1",
    )
    .bind(amount_fen)
    .bind(now)
    .bind(wallet_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
