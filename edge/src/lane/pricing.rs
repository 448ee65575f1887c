//! Pricing at the lane (pure): member prices, multi-buy and percentage promotions, and coupons,
//! from the catalog stream. [`reprice`] recomputes every discount of a basket from scratch after
//! each change, so the receipt always shows each discount and the total is exact in fen.
//!
//! Rules, in order:
//! 1. Promotions apply to regular prices. A multi-buy groups the pieces of its products, dearest
//!    first, into sets of `quantity` sold for `price_fen`; a percentage takes whole percent off
//!    each matching line (rounded half up to the fen).
//! 2. A member price applies to lines no promotion touched (promotions and member prices do not
//!    stack); the shopper is a member once they identify with their Omo wallet (payment code).
//! 3. Coupons apply last, to the basket after line discounts (or to their products' subtotal):
//!    a fixed amount or a percentage, once the minimum spend is met, never below zero.

use chrono::{DateTime, Utc};
use omo_proto::catalog::{CouponCampaign, Promotion, PromotionKind};
use serde::{Deserialize, Serialize};

use super::basket::{Basket, Discount};
use crate::catalog::{Catalog, price_by_weight};

/// The basket after promotions and member prices, before coupons, and each coupon's base and
/// discount: what the cloud checks a payment's coupon arithmetic against.
pub fn coupon_shares(basket: &Basket) -> (i64, Vec<(String, i64, i64)>) {
    let before: i64 = basket
        .discounts
        .iter()
        .filter(|d| d.kind != "coupon")
        .map(|d| d.amount_fen)
        .sum();
    let shares = basket
        .discounts
        .iter()
        .filter(|d| d.kind == "coupon")
        .map(|d| (d.source_id.clone(), d.base_fen, d.amount_fen))
        .collect();
    ((basket.subtotal_fen() - before).max(0), shares)
}

/// A coupon the shopper presented (scanned, or claimed in the app).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresentedCoupon {
    pub coupon_id: String,
    pub campaign_id: String,
}

/// Recomputes the basket's discounts. Returns the coupons that applied (to redeem with the
/// payment).
pub fn reprice(
    basket: &mut Basket,
    catalog: &Catalog,
    member: bool,
    coupons: &[PresentedCoupon],
    now: DateTime<Utc>,
) -> Vec<String> {
    basket.discounts.clear();
    let mut promoted = std::collections::HashSet::new();
    for promotion in catalog.promotions() {
        if !live(
            &promotion.starts_at,
            &promotion.ends_at,
            promotion.withdrawn,
            now,
        ) || (promotion.members_only && !member)
        {
            continue;
        }
        if let Some(discount) = promotion_discount(basket, promotion) {
            promoted.extend(discount.lines.iter().copied());
            basket.discounts.push(discount);
        }
    }
    if member {
        for item in &basket.items {
            if promoted.contains(&item.line) {
                continue;
            }
            let Some(product) = catalog.by_gtin(&item.gtin) else {
                continue;
            };
            if product.member_price_fen <= 0 || product.member_price_fen >= item.unit_price_fen {
                continue;
            }
            let member_line = match item.weight_g {
                Some(grams) => price_by_weight(product.member_price_fen, grams),
                None => product.member_price_fen * i64::from(item.quantity),
            };
            let amount = item.price_fen - member_line;
            if amount > 0 {
                basket.discounts.push(Discount {
                    kind: "member".into(),
                    description: format!("Member price: {}", item.name),
                    lines: vec![item.line],
                    amount_fen: amount,
                    source_id: item.gtin.clone(),
                    base_fen: 0,
                });
            }
        }
    }
    let mut applied = Vec::new();
    for coupon in coupons {
        let Some(campaign) = catalog.campaign(&coupon.campaign_id) else {
            continue;
        };
        if !live(
            &campaign.starts_at,
            &campaign.ends_at,
            campaign.withdrawn,
            now,
        ) {
            continue;
        }
        if let Some(discount) = coupon_discount(basket, campaign, &coupon.coupon_id) {
            basket.discounts.push(discount);
            applied.push(coupon.coupon_id.clone());
        }
    }
    applied
}

fn live(starts_at: &str, ends_at: &str, withdrawn: bool, now: DateTime<Utc>) -> bool {
    let parse = |t: &str| {
        DateTime::parse_from_rfc3339(t)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    };
    !withdrawn
        && (starts_at.is_empty() || parse(starts_at).is_some_and(|t| t <= now))
        && (ends_at.is_empty() || parse(ends_at).is_some_and(|t| now < t))
}

fn promotion_discount(basket: &Basket, promotion: &Promotion) -> Option<Discount> {
    let matching: Vec<_> = basket
        .items
        .iter()
        .filter(|i| promotion.gtins.contains(&i.gtin))
        .collect();
    if matching.is_empty() {
        return None;
    }
    let (kind, amount, lines) = match PromotionKind::try_from(promotion.kind).ok()? {
        PromotionKind::MultiBuy => {
            let size = usize::try_from(promotion.quantity)
                .ok()
                .filter(|q| *q >= 2)?;
            // Every piece with its line and price, dearest first.
            let mut pieces: Vec<(i64, u32)> = matching
                .iter()
                .filter(|i| i.weight_g.is_none())
                .flat_map(|i| std::iter::repeat_n((i.unit_price_fen, i.line), i.quantity as usize))
                .collect();
            pieces.sort_by_key(|p| std::cmp::Reverse(p.0));
            let mut amount = 0;
            let mut lines = Vec::new();
            for set in pieces.chunks_exact(size) {
                let regular: i64 = set.iter().map(|p| p.0).sum();
                if regular > promotion.price_fen {
                    amount += regular - promotion.price_fen;
                    lines.extend(set.iter().map(|p| p.1));
                }
            }
            ("multi_buy", amount, lines)
        }
        PromotionKind::PercentOff => {
            let percent = i64::from(promotion.percent_off.clamp(0, 100));
            let amount = matching
                .iter()
                .map(|i| (i.price_fen * percent + 50) / 100)
                .sum();
            (
                "percent_off",
                amount,
                matching.iter().map(|i| i.line).collect(),
            )
        }
        PromotionKind::Unspecified => return None,
    };
    let mut lines: Vec<u32> = lines;
    lines.sort_unstable();
    lines.dedup();
    (amount > 0).then(|| Discount {
        kind: kind.into(),
        description: promotion.name.clone(),
        lines,
        amount_fen: amount,
        source_id: promotion.promotion_id.clone(),
        base_fen: 0,
    })
}

fn coupon_discount(
    basket: &Basket,
    campaign: &CouponCampaign,
    coupon_id: &str,
) -> Option<Discount> {
    let line_discount = |line: u32| -> i64 {
        basket
            .discounts
            .iter()
            .filter(|d| d.kind != "coupon" && d.lines.contains(&line))
            .map(|d| d.amount_fen / d.lines.len().max(1) as i64)
            .sum()
    };
    let (base, lines): (i64, Vec<u32>) = if campaign.gtins.is_empty() {
        (basket.total_fen(), Vec::new())
    } else {
        let matching: Vec<_> = basket
            .items
            .iter()
            .filter(|i| campaign.gtins.contains(&i.gtin))
            .collect();
        (
            matching
                .iter()
                .map(|i| i.price_fen - line_discount(i.line))
                .sum(),
            matching.iter().map(|i| i.line).collect(),
        )
    };
    if base <= 0 || base < campaign.min_spend_fen {
        return None;
    }
    let amount = if campaign.amount_off_fen > 0 {
        campaign.amount_off_fen
    } else {
        (base * i64::from(campaign.percent_off.clamp(0, 100)) + 50) / 100
    };
    let amount = amount.min(base);
    (amount > 0).then(|| Discount {
        kind: "coupon".into(),
        description: campaign.name.clone(),
        lines,
        amount_fen: amount,
        source_id: coupon_id.to_string(),
        base_fen: base,
    })
}

/// Reads a scanned coupon: `OMOC1:{campaign_id}:{coupon_id}`.
pub fn parse_coupon_code(text: &str) -> Option<PresentedCoupon> {
    let rest = text.trim().strip_prefix("OMOC1:")?;
    let (campaign, coupon) = rest.split_once(':')?;
    let ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
    };
    (ok(campaign) && ok(coupon)).then(|| PresentedCoupon {
        coupon_id: coupon.to_string(),
        campaign_id: campaign.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lane::basket::Measure;
    use omo_proto::catalog::{Product, Unit};

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-23T02:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn product(gtin: &str, price: i64, member: i64) -> Product {
        Product {
            gtin: gtin.into(),
            name: format!("p{gtin}"),
            price_fen: price,
            member_price_fen: member,
            unit: Unit::Each as i32,
            ..Default::default()
        }
    }

    fn catalog() -> Catalog {
        let mut c = Catalog::default();
        c.apply([
            product("A", 400, 0),
            product("B", 1000, 900),
            product("C", 250, 0),
        ]);
        c.apply_promotions(
            [
                Promotion {
                    promotion_id: "3for10".into(),
                    name: "3 for ¥10".into(),
                    gtins: vec!["A".into()],
                    kind: PromotionKind::MultiBuy as i32,
                    quantity: 3,
                    price_fen: 1000,
                    ..Default::default()
                },
                Promotion {
                    promotion_id: "c20".into(),
                    name: "20% off C".into(),
                    gtins: vec!["C".into()],
                    kind: PromotionKind::PercentOff as i32,
                    percent_off: 20,
                    ..Default::default()
                },
            ],
            [CouponCampaign {
                campaign_id: "new".into(),
                name: "¥5 off ¥30".into(),
                min_spend_fen: 3000,
                amount_off_fen: 500,
                ..Default::default()
            }],
        );
        c
    }

    fn basket(c: &Catalog, codes: &[&str]) -> Basket {
        let mut b = Basket::default();
        for code in codes {
            b.add(c.by_gtin(code).unwrap(), Measure::Piece, None);
        }
        b
    }

    #[test]
    fn multi_buy_sells_complete_sets_only() {
        let c = catalog();
        let mut b = basket(&c, &["A", "A", "A", "A"]);
        reprice(&mut b, &c, false, &[], now());
        assert_eq!(b.discounts.len(), 1);
        assert_eq!(b.discounts[0].amount_fen, 200); // 3 x 4.00 = 12.00 for 10.00
        assert_eq!(b.total_fen(), 1600 - 200);
    }

    #[test]
    fn percent_off_rounds_half_up_per_line() {
        let c = catalog();
        let mut b = basket(&c, &["C", "C", "C"]); // one line of 3 x 2.50 = 7.50, 20% = 1.50
        reprice(&mut b, &c, false, &[], now());
        assert_eq!(b.discounts[0].amount_fen, 150);
        assert_eq!(b.total_fen(), 600);
    }

    #[test]
    fn member_prices_apply_to_members_only_and_not_on_top_of_promotions() {
        let c = catalog();
        let mut b = basket(&c, &["B", "B"]);
        reprice(&mut b, &c, false, &[], now());
        assert!(b.discounts.is_empty());
        reprice(&mut b, &c, true, &[], now());
        assert_eq!(b.discounts[0].kind, "member");
        assert_eq!(b.total_fen(), 1800);
    }

    #[test]
    fn a_coupon_needs_its_minimum_spend_and_never_goes_below_zero() {
        let c = catalog();
        let coupon = PresentedCoupon {
            coupon_id: "cp1".into(),
            campaign_id: "new".into(),
        };
        let mut small = basket(&c, &["B"]);
        assert!(reprice(&mut small, &c, false, std::slice::from_ref(&coupon), now()).is_empty());
        let mut big = basket(&c, &["B", "B", "B", "C"]);
        let applied = reprice(&mut big, &c, false, std::slice::from_ref(&coupon), now());
        assert_eq!(applied, vec!["cp1".to_string()]);
        // 30.00 + 2.50 - 0.50 (20% of C) - 5.00 coupon
        assert_eq!(big.total_fen(), 3250 - 50 - 500);
    }

    #[test]
    fn expired_and_withdrawn_promotions_do_not_apply() {
        let mut c = catalog();
        c.apply_promotions(
            [Promotion {
                promotion_id: "3for10".into(),
                withdrawn: true,
                version: 9,
                ..Default::default()
            }],
            [],
        );
        let mut b = basket(&c, &["A", "A", "A"]);
        reprice(&mut b, &c, false, &[], now());
        assert!(b.discounts.is_empty());
        assert!(!live("2027-01-01T00:00:00Z", "", false, now()));
        assert!(!live("", "2026-01-01T00:00:00Z", false, now()));
        assert!(live(
            "2026-01-01T00:00:00Z",
            "2027-01-01T00:00:00Z",
            false,
            now()
        ));
    }

    #[test]
    fn coupon_codes_parse_strictly() {
        assert_eq!(
            parse_coupon_code("OMOC1:new:cp-1"),
            Some(PresentedCoupon {
                coupon_id: "cp-1".into(),
                campaign_id: "new".into()
            })
        );
        for bad in ["OMOC1:", "OMOC1:a", "OMOC1::b", "OMOC2:a:b", "OMOC1:a:b c"] {
            assert_eq!(parse_coupon_code(bad), None, "{bad}");
        }
    }
}
