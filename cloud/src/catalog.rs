//! The product catalog: products by GTIN, each change stamped with a new catalog version so
//! edges replicate it as a stream and resume from the last version they applied.

use omo_proto::catalog::{Product, Unit};

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
    version: i64,
}

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
            member_price_fen: 0,
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
        version,
    }
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

    /// Insert or update products by GTIN in one transaction; unchanged products keep their
    /// version. Returns how many changed and the newest version.
    pub async fn upsert(&self, products: &[Product]) -> Result<(u32, i64), ServiceError> {
        if products.len() > 10_000 {
            return Err(ServiceError::invalid("products", "at most 10000 per call"));
        }
        let products = products
            .iter()
            .enumerate()
            .map(|(i, p)| validate(p, i))
            .collect::<Result<Vec<_>, _>>()?;
        let mut tx = self.ctx.store.begin().await?;
        let mut changed = 0u32;
        for p in &products {
            let existing: Option<ProductRow> = sqlx::query_as(
                "SELECT gtin, name, price_fen, unit, weight_g, tolerance_g, min_age, origin, plu, withdrawn, version \
                 FROM products WHERE gtin = $1",
            )
            .bind(&p.gtin)
            .fetch_optional(&mut *tx)
            .await?;
            let candidate = to_row(p, 0);
            if existing.as_ref().is_some_and(|e| e.same_as(&candidate)) {
                continue;
            }
            let (version,): (i64,) = sqlx::query_as(
                "UPDATE catalog_version SET version = version + 1 WHERE id = 1 RETURNING version",
            )
            .fetch_one(&mut *tx)
            .await?;
            let row = ProductRow {
                version,
                ..candidate
            };
            sqlx::query(
                "INSERT INTO products (gtin, name, price_fen, unit, weight_g, tolerance_g, min_age, origin, plu, withdrawn, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                 ON CONFLICT (gtin) DO UPDATE SET name = excluded.name, price_fen = excluded.price_fen, \
                 unit = excluded.unit, weight_g = excluded.weight_g, tolerance_g = excluded.tolerance_g, \
                 min_age = excluded.min_age, origin = excluded.origin, plu = excluded.plu, \
                 withdrawn = excluded.withdrawn, version = excluded.version",
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
    /// configured page size), and the catalog's newest version.
    pub async fn changes(
        &self,
        since_version: i64,
        limit: u32,
    ) -> Result<(Vec<Product>, i64), ServiceError> {
        if since_version < 0 {
            return Err(ServiceError::invalid(
                "since_version",
                "must not be negative",
            ));
        }
        let page = self.ctx.config.catalog_page_limit.max(1);
        let limit = if limit == 0 { page } else { limit.min(page) };
        let mut conn = self.ctx.store.pool().acquire().await?;
        let rows: Vec<ProductRow> = sqlx::query_as(
            "SELECT gtin, name, price_fen, unit, weight_g, tolerance_g, min_age, origin, plu, withdrawn, version \
             FROM products WHERE version > $1 ORDER BY version LIMIT $2",
        )
        .bind(since_version)
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await?;
        // Read after the rows, so `latest` is never below a version handed out.
        let (latest,): (i64,) = sqlx::query_as("SELECT version FROM catalog_version WHERE id = 1")
            .fetch_one(&mut *conn)
            .await?;
        Ok((
            rows.into_iter().map(ProductRow::into_proto).collect(),
            latest,
        ))
    }
}
