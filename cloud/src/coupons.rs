//! Coupons: a shopper claims one online from a live campaign (the O2O part) and a lane redeems
//! it with the payment.
//!
//! A claim is idempotent by `claim_id`, and a wallet holds at most one coupon per campaign
//! (both UNIQUE in the database). Authorize redeems its coupons in the payment's own
//! transaction ([`redeem`]); a payment that ends CANCELLED or DECLINED gives them back
//! ([`restore`]). A coupon shows EXPIRED while it is CLAIMED but its campaign is no longer live.

use sqlx::AnyConnection;

use crate::catalog::offers::{is_live, live_sql};
use crate::clock::to_rfc3339;
use crate::context::{Context, require_id};
use crate::error::ServiceError;

/// Coupon statuses as the wire shows them.
pub mod status {
    /// Held by the wallet, not yet used.
    pub const CLAIMED: &str = "CLAIMED";
    /// Used by a payment (a succeeded one, or one pending the shopper's confirmation).
    pub const REDEEMED: &str = "REDEEMED";
    /// Not used, and its campaign has ended or was withdrawn (never stored).
    pub const EXPIRED: &str = "EXPIRED";
}

/// The prefix of what a lane scans: `OMOC1:{campaign_id}:{coupon_id}`.
pub const CODE_PREFIX: &str = "OMOC1:";

/// A coupon as the shopper sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CouponView {
    /// Cloud-assigned id.
    pub coupon_id: String,
    /// Its campaign.
    pub campaign_id: String,
    /// The wallet that holds it.
    pub wallet_id: String,
    /// One of [`status`].
    pub status: &'static str,
    /// What a lane scans.
    pub code: String,
    /// RFC 3339 UTC.
    pub claimed_at: String,
    /// RFC 3339 UTC, empty unless redeemed.
    pub redeemed_at: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct CouponRow {
    coupon_id: String,
    campaign_id: String,
    wallet_id: String,
    status: String,
    claimed_at: String,
    redeemed_at: String,
    starts_at: String,
    ends_at: String,
    withdrawn: i64,
}

/// `SELECT` a coupon with its campaign's dates; `<tail>` filters on `c.`.
macro_rules! select_coupons {
    ($tail:literal) => {
        concat!(
            "SELECT c.coupon_id, c.campaign_id, c.wallet_id, c.status, c.claimed_at, ",
            "c.redeemed_at, k.starts_at, k.ends_at, k.withdrawn FROM coupons c ",
            "JOIN coupon_campaigns k ON k.campaign_id = c.campaign_id ",
            $tail
        )
    };
}

/// The coupon code a lane scans.
pub fn coupon_code(campaign_id: &str, coupon_id: &str) -> String {
    format!("{CODE_PREFIX}{campaign_id}:{coupon_id}")
}

/// A scanned `OMOC1:{campaign_id}:{coupon_id}` code as (campaign id, coupon id); `None` for
/// anything else (no prefix, or an empty part).
pub fn parse_coupon_code(text: &str) -> Option<(&str, &str)> {
    let (campaign, coupon) = text.trim().strip_prefix(CODE_PREFIX)?.rsplit_once(':')?;
    (!campaign.is_empty() && !coupon.is_empty()).then_some((campaign, coupon))
}

/// A coupon id from what a lane sends: the id itself, or the scanned `OMOC1:` code.
pub fn coupon_id_of(text: &str) -> &str {
    match text.strip_prefix(CODE_PREFIX) {
        Some(rest) => rest.rsplit(':').next().unwrap_or(rest),
        None => text,
    }
}

impl CouponRow {
    fn view(self, now: chrono::DateTime<chrono::Utc>) -> CouponView {
        let status = match self.status.as_str() {
            status::REDEEMED => status::REDEEMED,
            _ if !is_live(&self.starts_at, &self.ends_at, self.withdrawn != 0, now) => {
                status::EXPIRED
            }
            _ => status::CLAIMED,
        };
        CouponView {
            code: coupon_code(&self.campaign_id, &self.coupon_id),
            coupon_id: self.coupon_id,
            campaign_id: self.campaign_id,
            wallet_id: self.wallet_id,
            status,
            claimed_at: self.claimed_at,
            redeemed_at: self.redeemed_at,
        }
    }
}

/// Coupon operations.
#[derive(Clone)]
pub struct Coupons {
    ctx: Context,
}

impl Coupons {
    /// Coupon operations over the shared context.
    pub fn new(ctx: Context) -> Self {
        Self { ctx }
    }

    /// Claim a coupon of a live campaign for a wallet. Repeating a claim returns its coupon;
    /// a second claim of the same campaign by the same wallet is `ALREADY_EXISTS`.
    pub async fn claim(
        &self,
        wallet_id: &str,
        campaign_id: &str,
        claim_id: &str,
    ) -> Result<CouponView, ServiceError> {
        require_id("wallet_id", wallet_id, 8)?;
        require_id("campaign_id", campaign_id, 64)?;
        require_id("claim_id", claim_id, 128)?;
        let now = self.ctx.now();
        let now_text = to_rfc3339(now);
        let mut tx = self.ctx.db.begin().await?;
        if let Some(first) = by_claim(&mut tx, claim_id).await? {
            tx.rollback().await?;
            return same_claim(first, wallet_id, campaign_id, claim_id, now);
        }
        let wallet: Option<(String,)> =
            sqlx::query_as("SELECT wallet_id FROM wallets WHERE wallet_id = $1")
                .bind(wallet_id)
                .fetch_optional(&mut *tx)
                .await?;
        if wallet.is_none() {
            return Err(ServiceError::NotFound(format!("no wallet {wallet_id}")));
        }
        let campaign: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT starts_at, ends_at, withdrawn FROM coupon_campaigns WHERE campaign_id = $1",
        )
        .bind(campaign_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((starts_at, ends_at, withdrawn)) = campaign else {
            return Err(ServiceError::NotFound(format!(
                "no coupon campaign {campaign_id}"
            )));
        };
        if !is_live(&starts_at, &ends_at, withdrawn != 0, now) {
            return Err(ServiceError::FailedPrecondition(format!(
                "coupon campaign {campaign_id} is not running now"
            )));
        }
        let inserted = sqlx::query(
            "INSERT INTO coupons (coupon_id, campaign_id, wallet_id, claim_id, status, payment_id, \
             claimed_at, redeemed_at) VALUES ($1, $2, $3, $4, 'CLAIMED', '', $5, '') \
             ON CONFLICT DO NOTHING",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(campaign_id)
        .bind(wallet_id)
        .bind(claim_id)
        .bind(&now_text)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            // A concurrent twin of this claim, or another claim of the same campaign.
            let first = by_claim(&mut tx, claim_id).await?;
            tx.rollback().await?;
            return match first {
                Some(first) => same_claim(first, wallet_id, campaign_id, claim_id, now),
                None => Err(ServiceError::AlreadyExists(format!(
                    "wallet {wallet_id} already holds a coupon of campaign {campaign_id}"
                ))),
            };
        }
        let row = by_claim(&mut tx, claim_id)
            .await?
            .ok_or_else(|| ServiceError::Aborted("coupon row vanished; retry".into()))?;
        tx.commit().await?;
        tracing::info!(wallet_id, campaign_id, coupon_id = %row.coupon_id, "coupon claimed");
        Ok(row.view(now))
    }

    /// The wallet's coupons, oldest claim first.
    /// The campaigns a shopper may claim now.
    pub async fn live_campaigns(
        &self,
    ) -> Result<Vec<omo_proto::catalog::CouponCampaign>, ServiceError> {
        crate::catalog::offers::live_campaigns(&self.ctx).await
    }

    pub async fn list(&self, wallet_id: &str) -> Result<Vec<CouponView>, ServiceError> {
        require_id("wallet_id", wallet_id, 8)?;
        let now = self.ctx.now();
        let rows: Vec<CouponRow> = sqlx::query_as(select_coupons!(
            "WHERE c.wallet_id = $1 ORDER BY c.claimed_at, c.coupon_id LIMIT 500"
        ))
        .bind(wallet_id)
        .fetch_all(self.ctx.db.pool())
        .await?;
        Ok(rows.into_iter().map(|r| r.view(now)).collect())
    }
}

async fn by_claim(
    conn: &mut AnyConnection,
    claim_id: &str,
) -> Result<Option<CouponRow>, ServiceError> {
    Ok(sqlx::query_as(select_coupons!("WHERE c.claim_id = $1"))
        .bind(claim_id)
        .fetch_optional(&mut *conn)
        .await?)
}

fn same_claim(
    first: CouponRow,
    wallet_id: &str,
    campaign_id: &str,
    claim_id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<CouponView, ServiceError> {
    if first.wallet_id != wallet_id || first.campaign_id != campaign_id {
        return Err(ServiceError::FailedPrecondition(format!(
            "claim {claim_id} was already made for another wallet or campaign"
        )));
    }
    Ok(first.view(now))
}

/// Check and normalise the coupons of an Authorize: ids (or scanned codes), at most 20, no
/// repeats. Returns them sorted.
pub fn normalize_ids(coupon_ids: &[String]) -> Result<Vec<String>, ServiceError> {
    if coupon_ids.len() > 20 {
        return Err(ServiceError::invalid("coupon_ids", "at most 20 coupons"));
    }
    let mut ids = Vec::with_capacity(coupon_ids.len());
    for text in coupon_ids {
        let id = coupon_id_of(text.trim());
        require_id("coupon_ids", id, 64)?;
        if id.contains(',') {
            return Err(ServiceError::invalid(
                "coupon_ids",
                "a coupon id has no `,`",
            ));
        }
        ids.push(id.to_owned());
    }
    ids.sort();
    let n = ids.len();
    ids.dedup();
    if ids.len() != n {
        return Err(ServiceError::invalid(
            "coupon_ids",
            "a coupon is listed twice",
        ));
    }
    Ok(ids)
}

/// Redeem `coupon_ids` for `payment_id`, inside the payment's transaction: each must be the
/// wallet's, CLAIMED, and of a campaign live at `now`. False as soon as one is not (the caller
/// declines the payment and calls [`restore`], which undoes the ones already marked).
pub(crate) async fn redeem(
    conn: &mut AnyConnection,
    wallet_id: &str,
    coupon_ids: &[String],
    payment_id: &str,
    now: &str,
) -> Result<bool, ServiceError> {
    let sql = format!(
        "UPDATE coupons SET status = 'REDEEMED', payment_id = $1, redeemed_at = $2 \
         WHERE coupon_id = $3 AND wallet_id = $4 AND status = 'CLAIMED' AND campaign_id IN \
         (SELECT k.campaign_id FROM coupon_campaigns k WHERE {})",
        live_sql("k", "$2")
    );
    for id in coupon_ids {
        let done = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .bind(payment_id)
            .bind(now)
            .bind(id)
            .bind(wallet_id)
            .execute(&mut *conn)
            .await?;
        if done.rows_affected() != 1 {
            tracing::info!(wallet_id, coupon_id = %id, payment_id, "coupon not redeemable");
            return Ok(false);
        }
    }
    Ok(true)
}

/// One coupon's part in a payment, as the lane computed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub coupon_id: String,
    /// What the coupon applied to (the basket, or its campaign's products).
    pub base_fen: i64,
    pub discount_fen: i64,
}

/// A coupon's campaign rules, as [`check_shares`] needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub coupon_id: String,
    pub min_spend_fen: i64,
    pub amount_off_fen: i64,
    pub percent_off: i64,
}

/// The campaign rules of `coupon_ids` (a coupon that does not exist has none).
pub(crate) async fn rules(
    conn: &mut AnyConnection,
    coupon_ids: &[String],
) -> Result<Vec<Rule>, ServiceError> {
    let mut rules = Vec::with_capacity(coupon_ids.len());
    for id in coupon_ids {
        let row: Option<(i64, i64, i64)> = sqlx::query_as(
            "SELECT k.min_spend_fen, k.amount_off_fen, CAST(k.percent_off AS BIGINT) \
             FROM coupons c JOIN coupon_campaigns k ON k.campaign_id = c.campaign_id \
             WHERE c.coupon_id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some((min_spend_fen, amount_off_fen, percent_off)) = row {
            rules.push(Rule {
                coupon_id: id.clone(),
                min_spend_fen,
                amount_off_fen,
                percent_off,
            });
        }
    }
    Ok(rules)
}

/// Checks a payment's coupon arithmetic against the campaigns' rules (pure): one share per
/// coupon, each base within the basket and at least the minimum spend, each discount positive and
/// at most what the campaign gives (its amount, or its percent of the base rounded half up, never
/// more than the base), and `amount_fen` = `pre_coupon_fen` less the discounts. The lane's line
/// prices themselves are the store's (promotions and member prices); the coupons are the cloud's.
pub fn check_shares(
    amount_fen: i64,
    pre_coupon_fen: i64,
    shares: &[Share],
    rules: &[Rule],
) -> Result<(), String> {
    if shares.len() != rules.len() {
        return Err(format!(
            "{} coupon share(s) for {} known coupon(s)",
            shares.len(),
            rules.len()
        ));
    }
    let mut discounts: i64 = 0;
    for rule in rules {
        // A share may name its coupon by id or by the scanned `OMOC1:` code.
        let mut mine = shares
            .iter()
            .filter(|s| coupon_id_of(&s.coupon_id) == rule.coupon_id);
        let (Some(share), None) = (mine.next(), mine.next()) else {
            return Err(format!("coupon {} needs exactly one share", rule.coupon_id));
        };
        if share.base_fen <= 0 || share.base_fen > pre_coupon_fen {
            return Err(format!(
                "coupon {}: base {} outside the basket of {pre_coupon_fen}",
                rule.coupon_id, share.base_fen
            ));
        }
        if share.base_fen < rule.min_spend_fen {
            return Err(format!(
                "coupon {}: base {} below the minimum spend {}",
                rule.coupon_id, share.base_fen, rule.min_spend_fen
            ));
        }
        let most = if rule.amount_off_fen > 0 {
            rule.amount_off_fen
        } else {
            (share
                .base_fen
                .saturating_mul(rule.percent_off.clamp(0, 100))
                + 50)
                / 100
        }
        .min(share.base_fen);
        if share.discount_fen <= 0 || share.discount_fen > most {
            return Err(format!(
                "coupon {}: discount {} where the campaign gives at most {most}",
                rule.coupon_id, share.discount_fen
            ));
        }
        discounts = discounts.saturating_add(share.discount_fen);
    }
    if pre_coupon_fen.saturating_sub(discounts) != amount_fen {
        return Err(format!(
            "{pre_coupon_fen} less coupons {discounts} is not the amount {amount_fen}"
        ));
    }
    Ok(())
}

/// Give the coupons a payment redeemed back to their wallet (CLAIMED), inside the transaction
/// that cancels or declines it. Returns how many.
pub(crate) async fn restore(
    conn: &mut AnyConnection,
    payment_id: &str,
) -> Result<u64, ServiceError> {
    let done = sqlx::query(
        "UPDATE coupons SET status = 'CLAIMED', payment_id = '', redeemed_at = '' \
         WHERE payment_id = $1 AND status = 'REDEEMED'",
    )
    .bind(payment_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests;
