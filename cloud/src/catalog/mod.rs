//! The product catalog: products by GTIN, promotions and coupon campaigns by id, each change
//! stamped with the next version of ONE catalog-wide sequence, so edges replicate all three as
//! one stream and resume from the last version they applied.
//!
//! | file | holds |
//! | --- | --- |
//! | `mod.rs` | products (with member prices), [`Catalog::upsert_all`], [`Catalog::changes_all`] |
//! | [`offers`] | promotions and coupon campaigns: their rules (pure) and rows |

pub mod offers;

use omo_proto::catalog::{CouponCampaign, Product, Promotion, Unit};
use sqlx::AnyConnection;

use self::offers::{CampaignRow, PromotionRow};

use crate::context::Context;
use crate::error::ServiceError;
use crate::gtin;

/// A product row as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct ProductRow {
    gtin: String,
    name: String,
    price_fen: i64,
    unit: i64,
    weight_g: i64,
    tolerance_g: i64,
    min_age: i64,
    origin: String,
    plu: String,
    withdrawn: i64,
    member_price_fen: i64,
    priced_by_label: i64,
    version: i64,
}

const SELECT_PRODUCTS: &str = "SELECT gtin, name, price_fen, unit, weight_g, tolerance_g, \
    min_age, origin, plu, withdrawn, member_price_fen, priced_by_label, version FROM products";

impl ProductRow {
    fn into_proto(self) -> Product {
        Product {
            gtin: self.gtin,
            name: self.name,
            price_fen: self.price_fen,
            unit: i32::try_from(self.unit).unwrap_or_default(),
            weight_g: i32::try_from(self.weight_g).unwrap_or_default(),
            tolerance_g: i32::try_from(self.tolerance_g).unwrap_or_default(),
            min_age: i32::try_from(self.min_age).unwrap_or_default(),
            origin: self.origin,
            version: self.version,
            withdrawn: self.withdrawn != 0,
            plu: self.plu,
            member_price_fen: self.member_price_fen,
            priced_by_label: self.priced_by_label != 0,
        }
    }

    /// Same content, whatever the version.
    fn same_as(&self, other: &ProductRow) -> bool {
        ProductRow {
            version: 0,
            ..self.clone()
        } == ProductRow {
            version: 0,
            ..other.clone()
        }
    }
}

/// Check a product and bring it to its stored form (GTIN normalised to 14 digits).
pub fn validate(p: &Product, index: usize) -> Result<Product, ServiceError> {
    let field = |f: &str, why: String| {
        ServiceError::invalid(
            "products",
            format!("product {index} ({}): {f}: {why}", p.gtin),
        )
    };
    let gtin = gtin::normalize(&p.gtin).map_err(|e| field("gtin", e.to_string()))?;
    let name = p.name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(field("name", "must be 1 to 200 bytes".into()));
    }
    if p.price_fen < 0 || p.price_fen > crate::context::MAX_AMOUNT_FEN {
        return Err(field("price_fen", "must be between 0 and 10^11 fen".into()));
    }
    if !matches!(Unit::try_from(p.unit), Ok(Unit::Each | Unit::Kg)) {
        return Err(field("unit", "must be UNIT_EACH or UNIT_KG".into()));
    }
    if p.weight_g < 0 || p.tolerance_g < 0 {
        return Err(field("weight_g/tolerance_g", "must not be negative".into()));
    }
    if !(0..=150).contains(&p.min_age) {
        return Err(field("min_age", "must be between 0 and 150".into()));
    }
    if !p.plu.is_empty() && (p.plu.len() != 5 || !p.plu.bytes().all(|b| b.is_ascii_digit())) {
        return Err(field("plu", "must be empty or 5 digits".into()));
    }
    if p.member_price_fen < 0 || p.member_price_fen > p.price_fen {
        return Err(field(
            "member_price_fen",
            "must be 0 (none) or at most price_fen".into(),
        ));
    }
    if p.origin.len() > 200 {
        return Err(field("origin", "longer than 200 bytes".into()));
    }
    Ok(Product {
        gtin,
        name: name.to_owned(),
        version: 0,
        ..p.clone()
    })
}

fn to_row(p: &Product, version: i64) -> ProductRow {
    ProductRow {
        gtin: p.gtin.clone(),
        name: p.name.clone(),
        price_fen: p.price_fen,
        unit: i64::from(p.unit),
        weight_g: i64::from(p.weight_g),
        tolerance_g: i64::from(p.tolerance_g),
        min_age: i64::from(p.min_age),
        origin: p.origin.clone(),
        plu: p.plu.clone(),
        withdrawn: i64::from(p.withdrawn),
        member_price_fen: p.member_price_fen,
        priced_by_label: i64::from(p.priced_by_label),
        version,
    }
}

/// What one `Upsert` brings.
#[derive(Debug, Clone, Default)]
pub struct CatalogInput {
    /// Products by GTIN.
    pub products: Vec<Product>,
    /// Promotions by id.
    pub promotions: Vec<Promotion>,
    /// Coupon campaigns by id.
    pub campaigns: Vec<CouponCampaign>,
}

/// One page of the change stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    /// Products changed in `(since, reached_version]`, in version order.
    pub products: Vec<Product>,
    /// Promotions changed in `(since, reached_version]`, in version order.
    pub promotions: Vec<Promotion>,
    /// Campaigns changed in `(since, reached_version]`, in version order.
    pub campaigns: Vec<CouponCampaign>,
    /// Everything up to this version has been handed out; resume from it.
    pub reached_version: i64,
    /// The catalog's newest version.
    pub latest_version: i64,
}

/// Catalog operations.
#[derive(Clone)]
pub struct Catalog {
    ctx: Context,
}

impl Catalog {
    /// Catalog operations over the shared context.
    pub fn new(ctx: Context) -> Self {
        Self { ctx }
    }

    /// Insert or update products by GTIN in one transaction; see [`Catalog::upsert_all`].
    pub async fn upsert(&self, products: &[Product]) -> Result<(u32, i64), ServiceError> {
        self.upsert_all(&CatalogInput {
            products: products.to_vec(),
            ..Default::default()
        })
        .await
    }

    /// Insert or update products, promotions and campaigns in one transaction; each one that
    /// changed takes the next catalog version, unchanged ones keep theirs. Returns how many
    /// changed and the newest version.
    pub async fn upsert_all(&self, input: &CatalogInput) -> Result<(u32, i64), ServiceError> {
        if input.products.len() + input.promotions.len() + input.campaigns.len() > 10_000 {
            return Err(ServiceError::invalid(
                "products",
                "at most 10000 products, promotions and campaigns per call",
            ));
        }
        let products = input
            .products
            .iter()
            .enumerate()
            .map(|(i, p)| validate(p, i))
            .collect::<Result<Vec<_>, _>>()?;
        let promotions = input
            .promotions
            .iter()
            .enumerate()
            .map(|(i, p)| offers::validate_promotion(p, i))
            .collect::<Result<Vec<_>, _>>()?;
        let campaigns = input
            .campaigns
            .iter()
            .enumerate()
            .map(|(i, c)| offers::validate_campaign(c, i))
            .collect::<Result<Vec<_>, _>>()?;
        let mut tx = self.ctx.db.begin().await?;
        let mut changed = 0u32;
        for p in &products {
            let existing: Option<ProductRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{SELECT_PRODUCTS} WHERE gtin = $1"
            )))
            .bind(&p.gtin)
            .fetch_optional(&mut *tx)
            .await?;
            let candidate = to_row(p, 0);
            if existing.is_some_and(|e| e.same_as(&candidate)) {
                continue;
            }
            let row = ProductRow {
                version: next_version(&mut tx).await?,
                ..candidate
            };
            sqlx::query(
                "INSERT INTO products (gtin, name, price_fen, unit, weight_g, tolerance_g, min_age, origin, plu, withdrawn, member_price_fen, priced_by_label, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                 ON CONFLICT (gtin) DO UPDATE SET name = excluded.name, price_fen = excluded.price_fen, \
                 unit = excluded.unit, weight_g = excluded.weight_g, tolerance_g = excluded.tolerance_g, \
                 min_age = excluded.min_age, origin = excluded.origin, plu = excluded.plu, \
                 withdrawn = excluded.withdrawn, member_price_fen = excluded.member_price_fen, \
                 priced_by_label = excluded.priced_by_label, version = excluded.version",
            )
            .bind(&row.gtin)
            .bind(&row.name)
            .bind(row.price_fen)
            .bind(row.unit)
            .bind(row.weight_g)
            .bind(row.tolerance_g)
            .bind(row.min_age)
            .bind(&row.origin)
            .bind(&row.plu)
            .bind(row.withdrawn)
            .bind(row.member_price_fen)
            .bind(row.priced_by_label)
            .bind(row.version)
            .execute(&mut *tx)
            .await?;
            changed += 1;
        }
        for p in &promotions {
            let existing: Option<PromotionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{} WHERE promotion_id = $1",
                offers::SELECT_PROMOTIONS
            )))
            .bind(&p.promotion_id)
            .fetch_optional(&mut *tx)
            .await?;
            let candidate = PromotionRow::from_proto(p, 0);
            if existing.is_some_and(|e| PromotionRow { version: 0, ..e } == candidate) {
                continue;
            }
            let row = PromotionRow {
                version: next_version(&mut tx).await?,
                ..candidate
            };
            sqlx::query(offers::UPSERT_PROMOTION)
                .bind(&row.promotion_id)
                .bind(&row.name)
                .bind(&row.gtins)
                .bind(row.kind)
                .bind(row.quantity)
                .bind(row.price_fen)
                .bind(row.percent_off)
                .bind(row.members_only)
                .bind(&row.starts_at)
                .bind(&row.ends_at)
                .bind(row.withdrawn)
                .bind(row.version)
                .execute(&mut *tx)
                .await?;
            changed += 1;
        }
        for c in &campaigns {
            let existing: Option<CampaignRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{} WHERE campaign_id = $1",
                offers::SELECT_CAMPAIGNS
            )))
            .bind(&c.campaign_id)
            .fetch_optional(&mut *tx)
            .await?;
            let candidate = CampaignRow::from_proto(c, 0);
            if existing.is_some_and(|e| CampaignRow { version: 0, ..e } == candidate) {
                continue;
            }
            let row = CampaignRow {
                version: next_version(&mut tx).await?,
                ..candidate
            };
            sqlx::query(offers::UPSERT_CAMPAIGN)
                .bind(&row.campaign_id)
                .bind(&row.name)
                .bind(row.min_spend_fen)
                .bind(row.amount_off_fen)
                .bind(row.percent_off)
                .bind(&row.gtins)
                .bind(&row.starts_at)
                .bind(&row.ends_at)
                .bind(row.withdrawn)
                .bind(row.version)
                .execute(&mut *tx)
                .await?;
            changed += 1;
        }
        let (latest,): (i64,) = sqlx::query_as("SELECT version FROM catalog_version WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        if changed > 0 {
            self.ctx.metrics.catalog_changed(u64::from(changed), latest);
        }
        Ok((changed, latest))
    }

    /// Products changed after `since_version`, in version order, at most `limit` (0 = the
    /// configured page size), and the catalog's newest version. Promotions and campaigns are
    /// left out: see [`Catalog::changes_all`].
    pub async fn changes(
        &self,
        since_version: i64,
        limit: u32,
    ) -> Result<(Vec<Product>, i64), ServiceError> {
        let changes = self.changes_all(since_version, limit).await?;
        Ok((changes.products, changes.latest_version))
    }

    /// Products, promotions and campaigns changed after `since_version`: the first `limit`
    /// changes (0 = the configured page size) in version order across all three, so that
    /// everything up to `reached_version` is in the answer.
    pub async fn changes_all(
        &self,
        since_version: i64,
        limit: u32,
    ) -> Result<Changes, ServiceError> {
        if since_version < 0 {
            return Err(ServiceError::invalid(
                "since_version",
                "must not be negative",
            ));
        }
        let page = self.ctx.config.catalog_page_limit.max(1);
        let limit = if limit == 0 { page } else { limit.min(page) };
        let limit_i = i64::from(limit);
        let mut conn = self.ctx.db.pool().acquire().await?;
        // Read before the rows: upserts take versions under the counter's row lock and commit
        // with it, so every change up to `latest` is committed and visible below; rows above it
        // are left for the next call.
        let (latest,): (i64,) = sqlx::query_as("SELECT version FROM catalog_version WHERE id = 1")
            .fetch_one(&mut *conn)
            .await?;
        let tail = "WHERE version > $1 AND version <= $3 ORDER BY version LIMIT $2";
        let products: Vec<ProductRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_PRODUCTS} {tail}")))
                .bind(since_version)
                .bind(limit_i)
                .bind(latest)
                .fetch_all(&mut *conn)
                .await?;
        let promotions: Vec<PromotionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{} {tail}",
            offers::SELECT_PROMOTIONS
        )))
        .bind(since_version)
        .bind(limit_i)
        .bind(latest)
        .fetch_all(&mut *conn)
        .await?;
        let campaigns: Vec<CampaignRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{} {tail}",
            offers::SELECT_CAMPAIGNS
        )))
        .bind(since_version)
        .bind(limit_i)
        .bind(latest)
        .fetch_all(&mut *conn)
        .await?;
        // The first `limit` versions of the three lists together.
        let mut versions: Vec<i64> = products
            .iter()
            .map(|p| p.version)
            .chain(promotions.iter().map(|p| p.version))
            .chain(campaigns.iter().map(|c| c.version))
            .collect();
        versions.sort_unstable();
        let full_page = versions.len() >= limit as usize;
        versions.truncate(limit as usize);
        let reached = match versions.last() {
            Some(&last) if full_page => last,
            // Fewer than a page: everything up to `latest` is here.
            _ => latest,
        };
        Ok(Changes {
            products: products
                .into_iter()
                .filter(|p| p.version <= reached)
                .map(ProductRow::into_proto)
                .collect(),
            promotions: promotions
                .into_iter()
                .filter(|p| p.version <= reached)
                .map(PromotionRow::into_proto)
                .collect(),
            campaigns: campaigns
                .into_iter()
                .filter(|c| c.version <= reached)
                .map(CampaignRow::into_proto)
                .collect(),
            reached_version: reached,
            latest_version: latest,
        })
    }
}

/// Take the next catalog version, inside the caller's transaction.
async fn next_version(conn: &mut AnyConnection) -> Result<i64, ServiceError> {
    let (version,): (i64,) = sqlx::query_as(
        "UPDATE catalog_version SET version = version + 1 WHERE id = 1 RETURNING version",
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(version)
}
