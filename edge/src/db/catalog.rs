//! The catalog cache: products, promotions and coupon campaigns as the cloud last sent them, and
//! the catalog version they bring the cache to.

use omo_proto::catalog::{CouponCampaign, Product, Promotion};
use prost::Message as _;
use sqlx::Row;

use super::{Db, DbError};

impl Db {
    /// Stores changed catalog products, promotions and campaigns, and the version they bring the
    /// cache to, in one transaction.
    pub async fn save_catalog(
        &self,
        products: &[Product],
        promotions: &[Promotion],
        campaigns: &[CouponCampaign],
        version: i64,
    ) -> Result<(), DbError> {
        let mut tx = self.pool.begin().await?;
        let extras = promotions
            .iter()
            .map(|p| {
                (
                    "promotion",
                    p.promotion_id.as_str(),
                    p.encode_to_vec(),
                    p.version,
                )
            })
            .chain(campaigns.iter().map(|c| {
                (
                    "campaign",
                    c.campaign_id.as_str(),
                    c.encode_to_vec(),
                    c.version,
                )
            }));
        for (kind, id, body, version) in extras {
            sqlx::query(
                "INSERT INTO catalog_promotions (kind, id, body, version) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body, version = excluded.version",
            )
            .bind(kind)
            .bind(id)
            .bind(body)
            .bind(version)
            .execute(&mut *tx)
            .await?;
        }
        for product in products {
            sqlx::query(
                "INSERT INTO catalog_products (gtin, product, version) VALUES ($1, $2, $3)
                 ON CONFLICT (gtin) DO UPDATE SET product = excluded.product, version = excluded.version",
            )
            .bind(&product.gtin)
            .bind(product.encode_to_vec())
            .bind(product.version)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ('catalog_version', $1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(version.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The cached promotions and coupon campaigns.
    pub async fn load_promotions(&self) -> Result<(Vec<Promotion>, Vec<CouponCampaign>), DbError> {
        let rows = sqlx::query("SELECT kind, body FROM catalog_promotions ORDER BY version")
            .fetch_all(&self.pool)
            .await?;
        let mut promotions = Vec::new();
        let mut campaigns = Vec::new();
        for row in rows {
            let kind: String = row.get(0);
            let body: Vec<u8> = row.get(1);
            match kind.as_str() {
                "promotion" => promotions.extend(Promotion::decode(body.as_slice()).ok()),
                _ => campaigns.extend(CouponCampaign::decode(body.as_slice()).ok()),
            }
        }
        Ok((promotions, campaigns))
    }

    /// The cached catalog and its version.
    pub async fn load_catalog(&self) -> Result<(Vec<Product>, i64), DbError> {
        let rows = sqlx::query("SELECT product FROM catalog_products ORDER BY version")
            .fetch_all(&self.pool)
            .await?;
        let products = rows
            .into_iter()
            .filter_map(|row| Product::decode(row.get::<Vec<u8>, _>(0).as_slice()).ok())
            .collect();
        let version: Option<String> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'catalog_version'")
                .fetch_optional(&self.pool)
                .await?;
        Ok((products, version.and_then(|v| v.parse().ok()).unwrap_or(0)))
    }
}
