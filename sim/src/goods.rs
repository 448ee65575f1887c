//! The store's goods and the shoppers' plans: a small catalog (pieces with weights, one
//! age-restricted bottle, one unweighed item) loaded into the edge's real [`Catalog`], and what
//! each shopper will do at the lane (own bag, scans, bags, pay).

use std::collections::VecDeque;

use omo_edge::catalog::Catalog;
use omo_proto::catalog::{Product, Unit};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::options::Faults;

/// One product as the shoppers know it: its barcode (EAN-13) and what it really weighs.
#[derive(Debug, Clone)]
pub struct Good {
    pub ean13: String,
    pub price_fen: i64,
    /// Catalog weight (0: not weighed) and tolerance, in grams.
    pub weight_g: i64,
    pub tolerance_g: i64,
    pub min_age: i32,
}

/// (name, 12-digit body, price in fen, weight g, tolerance g, minimum age)
const GOODS: &[(&str, &str, i64, i64, i64, i32)] = &[
    ("Milk 1L", "690123456001", 12_90, 1030, 20, 0),
    ("Rice 2kg", "690123456002", 24_90, 2000, 40, 0),
    ("Eggs x10", "690123456003", 16_50, 620, 25, 0),
    ("Apples 1kg", "690123456004", 9_80, 1000, 40, 0),
    ("Tofu", "690123456005", 3_50, 400, 15, 0),
    ("Soy sauce", "690123456006", 8_90, 560, 15, 0),
    ("Tea 100g", "690123456007", 18_00, 110, 8, 0),
    ("Noodles", "690123456008", 4_20, 110, 8, 0),
    ("Baijiu 250ml", "690123456009", 39_00, 520, 20, 18),
    ("Gift card", "690123456010", 20_00, 0, 0, 0),
    ("Oil 900ml", "690123456011", 16_80, 850, 25, 0),
    ("Yoghurt", "690123456012", 6_60, 210, 10, 0),
];

/// The goods on sale.
pub fn goods() -> Vec<Good> {
    GOODS
        .iter()
        .map(
            |&(_, body, price_fen, weight_g, tolerance_g, min_age)| Good {
                ean13: omo_contract::gs1::with_check_digit(body).unwrap_or_default(),
                price_fen,
                weight_g,
                tolerance_g,
                min_age,
            },
        )
        .collect()
}

/// The edge's catalog of those goods.
pub fn catalog() -> Catalog {
    let mut catalog = Catalog::default();
    catalog.apply(
        GOODS
            .iter()
            .zip(goods())
            .enumerate()
            .map(|(i, (&(name, ..), good))| Product {
                gtin: omo_contract::gs1::pad14(&good.ean13),
                name: name.into(),
                price_fen: good.price_fen,
                unit: Unit::Each as i32,
                weight_g: i32::try_from(good.weight_g).unwrap_or(0),
                tolerance_g: i32::try_from(good.tolerance_g).unwrap_or(0),
                min_age: good.min_age,
                version: i as i64 + 1,
                ..Default::default()
            }),
    );
    catalog.apply_promotions(Vec::new(), crate::coupons::campaigns());
    catalog
}

/// One thing a shopper does at the lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// Press "I use my own bag" and put the bag on the scale.
    OwnBag,
    /// Scan good `n` (perhaps badly first).
    Scan(usize),
    /// Put good `n` in the bag on the scale.
    Bag(usize),
    /// Scan the payment code.
    Pay,
    /// Walk away with the basket unpaid.
    Leave,
}

/// What a shopper will do, in order.
pub fn plan(rng: &mut ChaCha8Rng, goods: &[Good], faults: &Faults) -> VecDeque<Move> {
    let mut moves = VecDeque::new();
    let items = rng.random_range(1..=7);
    let leave_after = rng
        .random_bool(faults.abandon)
        .then(|| rng.random_range(1..=items));
    for n in 0..items {
        let good = rng.random_range(0..goods.len());
        moves.push_back(Move::Scan(good));
        moves.push_back(Move::Bag(good));
        if n == 0 && rng.random_bool(faults.own_bag) {
            moves.push_back(Move::OwnBag);
        }
        if leave_after == Some(n + 1) {
            moves.push_back(Move::Leave);
            return moves;
        }
    }
    moves.push_back(Move::Pay);
    moves
}

/// What a good really weighs on the scale this time: within half its tolerance, or (a fault)
/// well outside it.
pub fn real_weight(rng: &mut ChaCha8Rng, good: &Good, off: bool) -> i64 {
    if good.weight_g == 0 {
        // Not weighed: it goes in a pocket, not on the scale.
        return 0;
    }
    let half = (good.tolerance_g / 2).max(1);
    let noise = rng.random_range(-half..=half);
    let fault = if off { 3 * good.tolerance_g + 30 } else { 0 };
    good.weight_g + noise + fault
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_good_scans_to_a_product_in_the_catalog() {
        let catalog = catalog();
        for good in goods() {
            let parsed = omo_devices::barcode::parse(&good.ean13, &Default::default()).unwrap();
            let omo_devices::barcode::Barcode::Product { gtin, .. } = parsed.barcode else {
                panic!("{} is not a product code", good.ean13);
            };
            assert_eq!(catalog.by_gtin(&gtin).unwrap().price_fen, good.price_fen);
        }
        assert_eq!(catalog.len(), GOODS.len());
    }
}
