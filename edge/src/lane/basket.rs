//! A shopper's basket at a lane: the lines scanned so far and their exact total in fen.

use omo_proto::catalog::Product;
use serde::{Deserialize, Serialize};

use crate::catalog::{is_by_weight, price_by_weight};

/// One line of the basket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BasketItem {
    /// 1-based line number, stable for the life of the session.
    pub line: u32,
    pub gtin: String,
    pub name: String,
    /// Pieces, for items sold each; always 1 for a weighed item.
    pub quantity: u32,
    /// The weight sold, for items sold by weight (from the label or the GS1 code).
    pub weight_g: Option<i64>,
    /// Price per piece, or per kilogram for items sold by weight.
    pub unit_price_fen: i64,
    /// What this line costs.
    pub price_fen: i64,
    /// The lot (batch), when the code carried one (GS1 AI 10): traceability follows it.
    pub lot: Option<String>,
}

/// One discount on the receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discount {
    /// `member`, `multi_buy`, `percent_off` or `coupon`.
    pub kind: String,
    pub description: String,
    /// The basket lines it applies to (empty for a whole-basket coupon).
    pub lines: Vec<u32>,
    pub amount_fen: i64,
    /// The promotion, campaign or coupon behind it.
    pub source_id: String,
    /// For a coupon: what it applied to (the basket, or its products' subtotal), which the cloud
    /// checks against the campaign's rules.
    #[serde(default)]
    pub base_fen: i64,
}

/// How one scanned code is to be added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Measure {
    /// One piece at the catalog price.
    Piece,
    /// A weighed item: grams, priced at the catalog's price per kilogram.
    Weight(i64),
    /// A store-labelled item (catalog `priced_by_label`) whose label carries its price in fen,
    /// and its net weight in grams when the label prints one too (GS1 AI 310n beside 392n).
    LabelPrice {
        price_fen: i64,
        net_weight_g: Option<i64>,
    },
}

/// The basket of one session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Basket {
    pub items: Vec<BasketItem>,
    /// Discounts on the receipt, recomputed after every change (see [`super::pricing`]).
    #[serde(default)]
    pub discounts: Vec<Discount>,
}

impl Basket {
    /// What the lines cost before discounts.
    pub fn subtotal_fen(&self) -> i64 {
        self.items.iter().map(|item| item.price_fen).sum()
    }

    /// The total in fen: lines less discounts, never below zero.
    pub fn total_fen(&self) -> i64 {
        let discounts: i64 = self.discounts.iter().map(|d| d.amount_fen).sum();
        (self.subtotal_fen() - discounts).max(0)
    }

    /// Number of pieces (a weighed line counts as one).
    pub fn item_count(&self) -> u32 {
        self.items.iter().map(|item| item.quantity).sum()
    }

    /// Adds one scan of `product`; returns the line it went to. Repeated pieces of the same product
    /// and lot share a line; weighed and labelled items always get a line of their own.
    pub fn add(&mut self, product: &Product, measure: Measure, lot: Option<String>) -> &BasketItem {
        let stackable = matches!(measure, Measure::Piece) && !is_by_weight(product);
        if stackable
            && let Some(index) = self.items.iter().position(|item| {
                item.gtin == product.gtin && item.weight_g.is_none() && item.lot == lot
            })
        {
            let item = &mut self.items[index];
            item.quantity += 1;
            item.price_fen = item.unit_price_fen * i64::from(item.quantity);
            return &self.items[index];
        }
        let (weight_g, price_fen) = match measure {
            Measure::Piece => (None, product.price_fen),
            Measure::Weight(grams) => (Some(grams), price_by_weight(product.price_fen, grams)),
            // The label's price is final: no per-kilogram repricing of the line.
            Measure::LabelPrice { price_fen, .. } => (None, price_fen),
        };
        let line = self.items.last().map_or(1, |item| item.line + 1);
        self.items.push(BasketItem {
            line,
            gtin: product.gtin.clone(),
            name: product.name.clone(),
            quantity: 1,
            weight_g,
            unit_price_fen: product.price_fen,
            price_fen,
            lot,
        });
        &self.items[self.items.len() - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use omo_proto::catalog::Unit;

    fn milk() -> Product {
        Product {
            gtin: "06901234567892".into(),
            name: "Milk 1L".into(),
            price_fen: 1290,
            unit: Unit::Each as i32,
            ..Default::default()
        }
    }

    fn salmon() -> Product {
        Product {
            gtin: "02000420000008".into(),
            name: "Salmon".into(),
            price_fen: 15800,
            unit: Unit::Kg as i32,
            ..Default::default()
        }
    }

    #[test]
    fn pieces_of_one_product_stack_on_one_line() {
        let mut basket = Basket::default();
        basket.add(&milk(), Measure::Piece, None);
        basket.add(&milk(), Measure::Piece, None);
        assert_eq!(basket.items.len(), 1);
        assert_eq!(basket.items[0].quantity, 2);
        assert_eq!(basket.total_fen(), 2580);
        assert_eq!(basket.item_count(), 2);
    }

    #[test]
    fn weighed_items_get_their_own_lines_priced_by_weight() {
        let mut basket = Basket::default();
        basket.add(&salmon(), Measure::Weight(532), None);
        basket.add(&salmon(), Measure::Weight(250), None);
        assert_eq!(basket.items.len(), 2);
        assert_eq!(basket.items[0].price_fen, 8406); // 158.00 * 0.532 = 84.056
        assert_eq!(basket.items[1].price_fen, 3950);
        assert_eq!(basket.total_fen(), 12356);
    }

    #[test]
    fn label_price_is_taken_as_printed() {
        let mut basket = Basket::default();
        basket.add(
            &salmon(),
            Measure::LabelPrice {
                price_fen: 4321,
                net_weight_g: None,
            },
            None,
        );
        assert_eq!(basket.total_fen(), 4321);
        assert_eq!(basket.items[0].line, 1);
    }
}
