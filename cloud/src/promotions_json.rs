//! The promotions file (pure): `{"promotions": [...], "campaigns": [...]}` into
//! `omo.catalog.v1.Promotion`s and `CouponCampaign`s, checked by the same rules as `Upsert`.
//!
//! Field names are the proto's; `kind` is `"multi_buy"` or `"percent_off"`; absent fields are
//! 0, empty or false. Unknown fields are errors, so a typo never passes silently.
//! [`data/demo-promotions.json`](../data/demo-promotions.json) is the demo store's file.

use omo_proto::catalog::{CouponCampaign, Promotion, PromotionKind};
use serde::Deserialize;

use crate::catalog::offers::{validate_campaign, validate_promotion};

/// Why a promotions file was refused.
#[derive(Debug, thiserror::Error)]
pub enum PromotionsJsonError {
    /// Not JSON of the expected shape.
    #[error("promotions file: {0}")]
    Json(#[from] serde_json::Error),
    /// An entry breaks a rule (names the entry and the field).
    #[error("promotions file: {0}")]
    Invalid(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    promotions: Vec<PromotionJson>,
    #[serde(default)]
    campaigns: Vec<CampaignJson>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Kind {
    MultiBuy,
    PercentOff,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PromotionJson {
    promotion_id: String,
    name: String,
    kind: Kind,
    gtins: Vec<String>,
    #[serde(default)]
    quantity: i32,
    #[serde(default)]
    price_fen: i64,
    #[serde(default)]
    percent_off: i32,
    #[serde(default)]
    members_only: bool,
    #[serde(default)]
    starts_at: String,
    #[serde(default)]
    ends_at: String,
    #[serde(default)]
    withdrawn: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CampaignJson {
    campaign_id: String,
    name: String,
    #[serde(default)]
    min_spend_fen: i64,
    #[serde(default)]
    amount_off_fen: i64,
    #[serde(default)]
    percent_off: i32,
    #[serde(default)]
    gtins: Vec<String>,
    #[serde(default)]
    starts_at: String,
    #[serde(default)]
    ends_at: String,
    #[serde(default)]
    withdrawn: bool,
}

/// Parse and check a promotions file (versions 0; the cloud assigns them on `Upsert`).
pub fn parse_promotions_json(
    text: &str,
) -> Result<(Vec<Promotion>, Vec<CouponCampaign>), PromotionsJsonError> {
    let file: File = serde_json::from_str(text)?;
    let promotions = file
        .promotions
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let kind = match p.kind {
                Kind::MultiBuy => PromotionKind::MultiBuy,
                Kind::PercentOff => PromotionKind::PercentOff,
            };
            let promotion = Promotion {
                promotion_id: p.promotion_id,
                name: p.name,
                gtins: p.gtins,
                kind: kind as i32,
                quantity: p.quantity,
                price_fen: p.price_fen,
                percent_off: p.percent_off,
                members_only: p.members_only,
                starts_at: p.starts_at,
                ends_at: p.ends_at,
                version: 0,
                withdrawn: p.withdrawn,
            };
            validate_promotion(&promotion, i)
                .map_err(|e| PromotionsJsonError::Invalid(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let campaigns = file
        .campaigns
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let campaign = CouponCampaign {
                campaign_id: c.campaign_id,
                name: c.name,
                min_spend_fen: c.min_spend_fen,
                amount_off_fen: c.amount_off_fen,
                percent_off: c.percent_off,
                gtins: c.gtins,
                starts_at: c.starts_at,
                ends_at: c.ends_at,
                version: 0,
                withdrawn: c.withdrawn,
            };
            validate_campaign(&campaign, i).map_err(|e| PromotionsJsonError::Invalid(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((promotions, campaigns))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_promotions_parse_and_name_demo_products() {
        let (promotions, campaigns) =
            parse_promotions_json(include_str!("../data/demo-promotions.json")).unwrap();
        let catalog =
            crate::parse_catalog_csv(include_str!("../data/demo-catalog.csv").as_bytes()).unwrap();
        let known = |g: &String| catalog.iter().any(|p| &p.gtin == g);
        assert!(
            promotions
                .iter()
                .any(|p| p.kind == PromotionKind::MultiBuy as i32)
        );
        assert!(
            promotions
                .iter()
                .any(|p| p.kind == PromotionKind::PercentOff as i32)
        );
        assert!(!campaigns.is_empty());
        assert!(promotions.iter().flat_map(|p| &p.gtins).all(known));
        assert!(campaigns.iter().flat_map(|c| &c.gtins).all(known));
    }

    #[test]
    fn a_bad_entry_is_named() {
        let err = parse_promotions_json(
            r#"{"promotions": [{"promotion_id": "p1", "name": "x", "kind": "multi_buy",
                "gtins": ["6921168509256"], "quantity": 1, "price_fen": 100}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("p1") && err.contains("quantity"), "{err}");
        let err = parse_promotions_json(r#"{"promotions": [], "campains": []}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("campains"), "{err}");
    }
}
