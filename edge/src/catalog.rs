//! The edge's copy of the cloud's catalog: products by GTIN and by in-store item number (PLU).
//!
//! The edge applies the cloud's versioned change stream ([`Catalog::apply`]) and keeps the result in
//! its SQLite store, so lanes keep scanning from the cached catalog when the cloud is unreachable.
//! Lookups are pure and take no lock longer than a hash-map read.

use std::collections::HashMap;

use omo_proto::catalog::{CouponCampaign, Product, Promotion, Unit};

/// Products known to the store, at one catalog version.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    by_gtin: HashMap<String, Product>,
    /// In-store item number (the `IIIII` of a variable-measure label) to GTIN.
    by_plu: HashMap<String, String>,
    promotions: HashMap<String, Promotion>,
    campaigns: HashMap<String, CouponCampaign>,
    version: i64,
}

impl Catalog {
    /// The newest catalog version applied.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// Number of products on sale.
    pub fn len(&self) -> usize {
        self.by_gtin.len()
    }

    /// Whether no product is on sale.
    pub fn is_empty(&self) -> bool {
        self.by_gtin.is_empty()
    }

    /// Applies changed products (new, updated or withdrawn), in version order.
    pub fn apply(&mut self, products: impl IntoIterator<Item = Product>) {
        for product in products {
            self.version = self.version.max(product.version);
            if let Some(old) = self.by_gtin.remove(&product.gtin)
                && !old.plu.is_empty()
            {
                self.by_plu.remove(&old.plu);
            }
            if product.withdrawn {
                continue;
            }
            if !product.plu.is_empty() {
                self.by_plu
                    .insert(product.plu.clone(), product.gtin.clone());
            }
            self.by_gtin.insert(product.gtin.clone(), product);
        }
    }

    /// Applies changed promotions and coupon campaigns (withdrawn ones are removed).
    pub fn apply_promotions(
        &mut self,
        promotions: impl IntoIterator<Item = Promotion>,
        campaigns: impl IntoIterator<Item = CouponCampaign>,
    ) {
        // The version is not bumped here: a page of products may stop below a promotion's
        // version, and the replica sets the version it reached.
        for promotion in promotions {
            if promotion.withdrawn {
                self.promotions.remove(&promotion.promotion_id);
            } else {
                self.promotions
                    .insert(promotion.promotion_id.clone(), promotion);
            }
        }
        for campaign in campaigns {
            if campaign.withdrawn {
                self.campaigns.remove(&campaign.campaign_id);
            } else {
                self.campaigns
                    .insert(campaign.campaign_id.clone(), campaign);
            }
        }
    }

    /// Promotions in force or scheduled, in id order.
    pub fn promotions(&self) -> Vec<&Promotion> {
        let mut all: Vec<_> = self.promotions.values().collect();
        all.sort_by(|a, b| a.promotion_id.cmp(&b.promotion_id));
        all
    }

    /// A coupon campaign by id.
    pub fn campaign(&self, id: &str) -> Option<&CouponCampaign> {
        self.campaigns.get(id)
    }

    /// Marks the catalog as up to date with `version` even if no product changed at it.
    pub fn set_version(&mut self, version: i64) {
        self.version = self.version.max(version);
    }

    /// A product by its 14-digit GTIN.
    pub fn by_gtin(&self, gtin: &str) -> Option<&Product> {
        self.by_gtin.get(gtin)
    }

    /// A variable-measure product by its in-store item number.
    pub fn by_plu(&self, plu: &str) -> Option<&Product> {
        self.by_plu.get(plu).and_then(|gtin| self.by_gtin.get(gtin))
    }

    /// Every product, in GTIN order (for the API and the demo shopper).
    pub fn products(&self) -> Vec<&Product> {
        let mut all: Vec<_> = self.by_gtin.values().collect();
        all.sort_by(|a, b| a.gtin.cmp(&b.gtin));
        all
    }
}

/// Whether a product is sold by weight.
pub fn is_by_weight(product: &Product) -> bool {
    product.unit == Unit::Kg as i32
}

/// The price in fen of `grams` of a product priced per kilogram, rounded half up to the fen.
pub fn price_by_weight(price_per_kg_fen: i64, grams: i64) -> i64 {
    (price_per_kg_fen * grams + 500).div_euclid(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(gtin: &str, version: i64) -> Product {
        Product {
            gtin: gtin.into(),
            name: format!("p{gtin}"),
            price_fen: 100,
            unit: Unit::Each as i32,
            version,
            ..Default::default()
        }
    }

    #[test]
    fn applying_changes_updates_withdraws_and_tracks_the_version() {
        let mut catalog = Catalog::default();
        catalog.apply([product("1", 1), product("2", 2)]);
        assert_eq!(catalog.len(), 2);
        let mut withdrawn = product("1", 3);
        withdrawn.withdrawn = true;
        catalog.apply([withdrawn]);
        assert!(catalog.by_gtin("1").is_none());
        assert_eq!(catalog.version(), 3);
    }

    #[test]
    fn plu_lookup_follows_updates() {
        let mut catalog = Catalog::default();
        let mut fish = product("2", 1);
        fish.plu = "00042".into();
        catalog.apply([fish.clone()]);
        assert_eq!(catalog.by_plu("00042").map(|p| p.gtin.as_str()), Some("2"));
        fish.plu = "00043".into();
        fish.version = 2;
        catalog.apply([fish]);
        assert!(catalog.by_plu("00042").is_none());
        assert!(catalog.by_plu("00043").is_some());
    }

    #[test]
    fn weight_pricing_rounds_half_up_to_the_fen() {
        assert_eq!(price_by_weight(3980, 532), 2117); // 21.1736 yuan
        assert_eq!(price_by_weight(1000, 1), 1); // 0.5 fen rounds up... to 1
        assert_eq!(price_by_weight(999, 1), 1);
        assert_eq!(price_by_weight(499, 1), 0);
        assert_eq!(price_by_weight(0, 1000), 0);
    }
}
