//! The double-entry ledger: every movement of money is two rows that sum to zero.
//!
//! Accounts are `wallet:<id>` (a shopper), `merchant:<store>` (a store's takings) and `funding`
//! (money entering the system through enrolment and top-ups). [`ledger_check`] proves the books.

use sqlx::{Any, AnyConnection, AnyPool};

use super::DbError;

/// The account of a shopper's wallet.
pub fn wallet_account(wallet_id: &str) -> String {
    format!("wallet:{wallet_id}")
}

/// The account of a store's takings.
pub fn merchant_account(store_id: &str) -> String {
    format!("merchant:{store_id}")
}

/// The account money enters through (bank transfers into wallets).
pub const FUNDING_ACCOUNT: &str = "funding";

/// One balanced movement of `amount_fen` from `from` to `to`.
#[derive(Debug, Clone)]
pub struct Movement<'a> {
    /// What kind of movement: `payment`, `refund`, `cancel`, `top_up`, `enroll`.
    pub kind: &'a str,
    /// The payment, refund or top-up it belongs to.
    pub ref_id: &'a str,
    /// The debited account.
    pub from: &'a str,
    /// The credited account.
    pub to: &'a str,
    /// The amount, positive.
    pub amount_fen: i64,
    /// When, RFC 3339.
    pub at: &'a str,
}

/// Write a movement as two rows, inside the caller's transaction.
pub async fn post(conn: &mut AnyConnection, m: &Movement<'_>) -> Result<(), DbError> {
    let txn_id = uuid::Uuid::now_v7().to_string();
    for (account, amount) in [(m.from, -m.amount_fen), (m.to, m.amount_fen)] {
        sqlx::query(
            "INSERT INTO ledger_entries (txn_id, account, amount_fen, kind, ref_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&txn_id)
        .bind(account)
        .bind(amount)
        .bind(m.kind)
        .bind(m.ref_id)
        .bind(m.at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// What [`ledger_check`] found when the books balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerReport {
    /// Balanced transactions.
    pub transactions: i64,
    /// Ledger rows.
    pub entries: i64,
    /// Wallets whose balance equals their ledger account.
    pub wallets: i64,
    /// Sum of all wallet balances.
    pub wallet_total_fen: i64,
    /// Sum of all merchant accounts.
    pub merchant_total_fen: i64,
}

/// Prove the books: every transaction is two rows summing to zero, every wallet's balance
/// equals its ledger account and is not negative, and every payment moved exactly what it
/// captured minus what it refunded (so no order was ever charged twice).
pub async fn ledger_check(pool: &AnyPool) -> Result<LedgerReport, DbError> {
    let bad_txns: Vec<(String, i64, i64)> = sqlx::query_as::<Any, (String, i64, i64)>(
        "SELECT txn_id, CAST(SUM(amount_fen) AS BIGINT), CAST(COUNT(*) AS BIGINT) \
         FROM ledger_entries GROUP BY txn_id HAVING SUM(amount_fen) <> 0 OR COUNT(*) <> 2",
    )
    .fetch_all(pool)
    .await?;
    if let Some((txn, sum, rows)) = bad_txns.first() {
        return Err(DbError::Unbalanced(format!(
            "{} unbalanced transaction(s), e.g. {txn}: {rows} rows summing to {sum}",
            bad_txns.len()
        )));
    }
    let bad_wallets: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT w.wallet_id, w.balance_fen, CAST(COALESCE(SUM(l.amount_fen), 0) AS BIGINT) \
         FROM wallets w LEFT JOIN ledger_entries l ON l.account = 'wallet:' || w.wallet_id \
         GROUP BY w.wallet_id, w.balance_fen \
         HAVING w.balance_fen <> COALESCE(SUM(l.amount_fen), 0) OR w.balance_fen < 0",
    )
    .fetch_all(pool)
    .await?;
    if let Some((wallet, balance, booked)) = bad_wallets.first() {
        return Err(DbError::Unbalanced(format!(
            "{} wallet(s) disagree with the ledger, e.g. {wallet}: balance {balance}, ledger {booked}",
            bad_wallets.len()
        )));
    }
    let bad_payments: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT p.payment_id, p.captured_fen, p.refunded_fen, \
                CAST(COALESCE(SUM(l.amount_fen), 0) AS BIGINT) \
         FROM payments p LEFT JOIN ledger_entries l \
           ON l.ref_id = p.payment_id AND l.account = 'wallet:' || p.wallet_id \
         GROUP BY p.payment_id, p.captured_fen, p.refunded_fen \
         HAVING COALESCE(SUM(l.amount_fen), 0) <> p.refunded_fen - p.captured_fen",
    )
    .fetch_all(pool)
    .await?;
    if let Some((payment, captured, refunded, booked)) = bad_payments.first() {
        return Err(DbError::Unbalanced(format!(
            "{} payment(s) disagree with the ledger, e.g. {payment}: captured {captured}, \
             refunded {refunded}, wallet moved {booked}",
            bad_payments.len()
        )));
    }
    let (transactions, entries): (i64, i64) = sqlx::query_as(
        "SELECT CAST(COUNT(DISTINCT txn_id) AS BIGINT), CAST(COUNT(*) AS BIGINT) FROM ledger_entries",
    )
    .fetch_one(pool)
    .await?;
    let (wallets, wallet_total_fen): (i64, i64) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(balance_fen), 0) AS BIGINT) FROM wallets",
    )
    .fetch_one(pool)
    .await?;
    let (merchant_total_fen,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM ledger_entries \
         WHERE account LIKE 'merchant:%'",
    )
    .fetch_one(pool)
    .await?;
    Ok(LedgerReport {
        transactions,
        entries,
        wallets,
        wallet_total_fen,
        merchant_total_fen,
    })
}
