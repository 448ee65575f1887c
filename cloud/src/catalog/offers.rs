//! Promotions (multi-buy, percent off) and coupon campaigns: their rules (pure) and their rows.
//!
//! Both are keyed by their id, versioned with the products, and stored with their GTINs joined
//! by `,` and their dates as RFC 3339 UTC with microseconds (`''` = unbounded), so that the
//! same text comparison answers "is it live?" on SQLite and PostgreSQL.

use chrono::{DateTime, Utc};
use omo_proto::catalog::{CouponCampaign, Promotion, PromotionKind};

use crate::clock::to_rfc3339;
use crate::context::MAX_AMOUNT_FEN;
use crate::error::ServiceError;
use crate::gtin;

/// Most GTINs one promotion or campaign may list.
const MAX_GTINS: usize = 1000;

/// Check a promotion and bring it to its stored form (GTINs of 14 digits, dates in UTC).
pub fn validate_promotion(p: &Promotion, index: usize) -> Result<Promotion, ServiceError> {
    let field = |f: &str, why: String| {
        ServiceError::invalid(
            "promotions",
            format!("promotion {index} ({}): {f}: {why}", p.promotion_id),
        )
    };
    check_id(&p.promotion_id).map_err(|why| field("promotion_id", why))?;
    let name = check_name(&p.name).map_err(|why| field("name", why))?;
    if p.gtins.is_empty() {
        return Err(field("gtins", "must list at least one product".into()));
    }
    let gtins = gtins(&p.gtins).map_err(|why| field("gtins", why))?;
    match PromotionKind::try_from(p.kind) {
        Ok(PromotionKind::MultiBuy) => {
            if p.quantity < 2 {
                return Err(field("quantity", "a multi-buy needs at least 2".into()));
            }
            if p.price_fen <= 0 || p.price_fen > MAX_AMOUNT_FEN {
                return Err(field("price_fen", "must be positive".into()));
            }
            if p.percent_off != 0 {
                return Err(field("percent_off", "must be 0 for a multi-buy".into()));
            }
        }
        Ok(PromotionKind::PercentOff) => {
            check_percent(p.percent_off).map_err(|why| field("percent_off", why))?;
            if p.quantity != 0 || p.price_fen != 0 {
                return Err(field(
                    "quantity/price_fen",
                    "must be 0 for a percent-off promotion".into(),
                ));
            }
        }
        _ => {
            return Err(field(
                "kind",
                "must be PROMOTION_KIND_MULTI_BUY or PROMOTION_KIND_PERCENT_OFF".into(),
            ));
        }
    }
    let (starts_at, ends_at) = dates(&p.starts_at, &p.ends_at).map_err(|(f, why)| field(f, why))?;
    Ok(Promotion {
        name,
        gtins,
        starts_at,
        ends_at,
        version: 0,
        ..p.clone()
    })
}

/// Check a coupon campaign and bring it to its stored form.
pub fn validate_campaign(c: &CouponCampaign, index: usize) -> Result<CouponCampaign, ServiceError> {
    let field = |f: &str, why: String| {
        ServiceError::invalid(
            "campaigns",
            format!("campaign {index} ({}): {f}: {why}", c.campaign_id),
        )
    };
    check_id(&c.campaign_id).map_err(|why| field("campaign_id", why))?;
    if c.campaign_id.contains(':') {
        return Err(field(
            "campaign_id",
            "must not contain `:` (coupon codes are OMOC1:{campaign_id}:{coupon_id})".into(),
        ));
    }
    let name = check_name(&c.name).map_err(|why| field("name", why))?;
    if !(0..=MAX_AMOUNT_FEN).contains(&c.min_spend_fen) {
        return Err(field("min_spend_fen", "must be between 0 and 10^11".into()));
    }
    match (c.amount_off_fen, c.percent_off) {
        (0, 0) => {
            return Err(field(
                "amount_off_fen/percent_off",
                "give an amount off or a percent off".into(),
            ));
        }
        (a, 0) if !(0..=MAX_AMOUNT_FEN).contains(&a) => {
            return Err(field("amount_off_fen", "must be positive".into()));
        }
        (_, 0) => {}
        (0, percent) => check_percent(percent).map_err(|why| field("percent_off", why))?,
        _ => {
            return Err(field(
                "amount_off_fen/percent_off",
                "give an amount off or a percent off, not both".into(),
            ));
        }
    }
    let gtins = gtins(&c.gtins).map_err(|why| field("gtins", why))?;
    let (starts_at, ends_at) = dates(&c.starts_at, &c.ends_at).map_err(|(f, why)| field(f, why))?;
    Ok(CouponCampaign {
        name,
        gtins,
        starts_at,
        ends_at,
        version: 0,
        ..c.clone()
    })
}

/// Whether something running from `starts_at` to `ends_at` (stored form) is live at `now`.
pub fn is_live(starts_at: &str, ends_at: &str, withdrawn: bool, now: DateTime<Utc>) -> bool {
    let now = to_rfc3339(now);
    !withdrawn
        && (starts_at.is_empty() || starts_at <= now.as_str())
        && (ends_at.is_empty() || now.as_str() < ends_at)
}

/// The SQL condition "campaign `c` is live at `$now`" (the same rule as [`is_live`]).
pub fn live_sql(alias: &str, now_param: &str) -> String {
    format!(
        "{alias}.withdrawn = 0 AND ({alias}.starts_at = '' OR {alias}.starts_at <= {now_param}) \
         AND ({alias}.ends_at = '' OR {now_param} < {alias}.ends_at)"
    )
}

fn check_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > 64 {
        return Err("must be 1 to 64 bytes".into());
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err("only letters, digits, `-`, `_` and `.`".into());
    }
    Ok(())
}

fn check_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err("must be 1 to 200 bytes".into());
    }
    Ok(name.to_owned())
}

fn check_percent(percent: i32) -> Result<(), String> {
    if !(1..=99).contains(&percent) {
        return Err(format!("must be 1 to 99, got {percent}"));
    }
    Ok(())
}

fn gtins(list: &[String]) -> Result<Vec<String>, String> {
    if list.len() > MAX_GTINS {
        return Err(format!("at most {MAX_GTINS}"));
    }
    let mut out = list
        .iter()
        .map(|g| gtin::normalize(g).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    out.sort();
    out.dedup();
    Ok(out)
}

fn dates(starts_at: &str, ends_at: &str) -> Result<(String, String), (&'static str, String)> {
    let parse = |f: &'static str, text: &str| {
        let text = text.trim();
        if text.is_empty() {
            return Ok(String::new());
        }
        DateTime::parse_from_rfc3339(text)
            .map(|t| to_rfc3339(t.to_utc()))
            .map_err(|e| (f, format!("not RFC 3339 ({e}): {text:?}")))
    };
    let (starts, ends) = (parse("starts_at", starts_at)?, parse("ends_at", ends_at)?);
    if !starts.is_empty() && !ends.is_empty() && starts >= ends {
        return Err(("ends_at", "must be after starts_at".into()));
    }
    Ok((starts, ends))
}

/// A promotion row as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub(super) struct PromotionRow {
    pub promotion_id: String,
    pub name: String,
    pub gtins: String,
    pub kind: i64,
    pub quantity: i64,
    pub price_fen: i64,
    pub percent_off: i64,
    pub members_only: i64,
    pub starts_at: String,
    pub ends_at: String,
    pub withdrawn: i64,
    pub version: i64,
}

pub(super) const SELECT_PROMOTIONS: &str = "SELECT promotion_id, name, gtins, kind, quantity, \
    price_fen, percent_off, members_only, starts_at, ends_at, withdrawn, version FROM promotions";

pub(super) const UPSERT_PROMOTION: &str = "INSERT INTO promotions (promotion_id, name, gtins, \
    kind, quantity, price_fen, percent_off, members_only, starts_at, ends_at, withdrawn, version) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
    ON CONFLICT (promotion_id) DO UPDATE SET name = excluded.name, gtins = excluded.gtins, \
    kind = excluded.kind, quantity = excluded.quantity, price_fen = excluded.price_fen, \
    percent_off = excluded.percent_off, members_only = excluded.members_only, \
    starts_at = excluded.starts_at, ends_at = excluded.ends_at, withdrawn = excluded.withdrawn, \
    version = excluded.version";

impl PromotionRow {
    pub fn from_proto(p: &Promotion, version: i64) -> Self {
        Self {
            promotion_id: p.promotion_id.clone(),
            name: p.name.clone(),
            gtins: p.gtins.join(","),
            kind: i64::from(p.kind),
            quantity: i64::from(p.quantity),
            price_fen: p.price_fen,
            percent_off: i64::from(p.percent_off),
            members_only: i64::from(p.members_only),
            starts_at: p.starts_at.clone(),
            ends_at: p.ends_at.clone(),
            withdrawn: i64::from(p.withdrawn),
            version,
        }
    }

    pub fn into_proto(self) -> Promotion {
        Promotion {
            promotion_id: self.promotion_id,
            name: self.name,
            gtins: split(&self.gtins),
            kind: i32::try_from(self.kind).unwrap_or_default(),
            quantity: i32::try_from(self.quantity).unwrap_or_default(),
            price_fen: self.price_fen,
            percent_off: i32::try_from(self.percent_off).unwrap_or_default(),
            members_only: self.members_only != 0,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            version: self.version,
            withdrawn: self.withdrawn != 0,
        }
    }
}

/// A coupon campaign row as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub(super) struct CampaignRow {
    pub campaign_id: String,
    pub name: String,
    pub min_spend_fen: i64,
    pub amount_off_fen: i64,
    pub percent_off: i64,
    pub gtins: String,
    pub starts_at: String,
    pub ends_at: String,
    pub withdrawn: i64,
    pub version: i64,
}

pub(super) const SELECT_CAMPAIGNS: &str = "SELECT campaign_id, name, min_spend_fen, \
    amount_off_fen, percent_off, gtins, starts_at, ends_at, withdrawn, version FROM coupon_campaigns";

pub(super) const UPSERT_CAMPAIGN: &str = "INSERT INTO coupon_campaigns (campaign_id, name, \
    min_spend_fen, amount_off_fen, percent_off, gtins, starts_at, ends_at, withdrawn, version) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
    ON CONFLICT (campaign_id) DO UPDATE SET name = excluded.name, \
    min_spend_fen = excluded.min_spend_fen, amount_off_fen = excluded.amount_off_fen, \
    percent_off = excluded.percent_off, gtins = excluded.gtins, starts_at = excluded.starts_at, \
    ends_at = excluded.ends_at, withdrawn = excluded.withdrawn, version = excluded.version";

impl CampaignRow {
    pub fn from_proto(c: &CouponCampaign, version: i64) -> Self {
        Self {
            campaign_id: c.campaign_id.clone(),
            name: c.name.clone(),
            min_spend_fen: c.min_spend_fen,
            amount_off_fen: c.amount_off_fen,
            percent_off: i64::from(c.percent_off),
            gtins: c.gtins.join(","),
            starts_at: c.starts_at.clone(),
            ends_at: c.ends_at.clone(),
            withdrawn: i64::from(c.withdrawn),
            version,
        }
    }

    pub fn into_proto(self) -> CouponCampaign {
        CouponCampaign {
            campaign_id: self.campaign_id,
            name: self.name,
            min_spend_fen: self.min_spend_fen,
            amount_off_fen: self.amount_off_fen,
            percent_off: i32::try_from(self.percent_off).unwrap_or_default(),
            gtins: split(&self.gtins),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            version: self.version,
            withdrawn: self.withdrawn != 0,
        }
    }
}

fn split(joined: &str) -> Vec<String> {
    joined
        .split(',')
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests;

/// The coupon campaigns live at `ctx.now()`, ending soonest first.
pub async fn live_campaigns(
    ctx: &crate::context::Context,
) -> Result<Vec<CouponCampaign>, crate::error::ServiceError> {
    let rows: Vec<CampaignRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_CAMPAIGNS} k WHERE {} ORDER BY k.ends_at = '', k.ends_at, k.campaign_id LIMIT 200",
        live_sql("k", "$1")
    )))
    .bind(to_rfc3339(ctx.now()))
    .fetch_all(ctx.db.pool())
    .await?;
    Ok(rows.into_iter().map(CampaignRow::into_proto).collect())
}
