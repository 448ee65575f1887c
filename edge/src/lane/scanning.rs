//! Scanning rules: what a code adds to the basket, what the bagging scale must then see, and
//! which items need an attendant (age-restricted goods).

use chrono::Duration;
use omo_devices::barcode::{Barcode, Parsed};
use omo_devices::scale::WeightReading;
use omo_proto::catalog::Product;

use super::basket::{Basket, Measure};
use super::cause::Cause;
use super::intervention::InterventionKind;
use super::machine::{Action, Context, Handled, Lane, LaneState, Prompt, Session, fen};
use super::pricing::PresentedCoupon;
use super::weight::{Awaited, BaggingArea, Verdict};
use crate::catalog::{Catalog, is_by_weight};

impl Lane {
    pub(super) fn on_scan(
        &mut self,
        raw: String,
        parsed: Parsed,
        ctx: &Context<'_>,
        actions: &mut Vec<Action>,
    ) -> Handled {
        match self.state {
            LaneState::Idle | LaneState::Shopping => {}
            LaneState::Paying => {
                self.prompt = Prompt::new("paying", "Payment in progress, please wait.");
                return Ok(Cause::ScanIgnored);
            }
            LaneState::NeedsAttendant => {
                self.prompt =
                    Prompt::new("attendant_coming", "An attendant is coming to help you.");
                return Ok(Cause::ScanIgnored);
            }
            LaneState::Paid | LaneState::Exiting | LaneState::Closed | LaneState::OutOfService => {
                return Ok(Cause::ScanIgnored);
            }
        }
        if let Barcode::PaymentCode { .. } = parsed.barcode {
            return self.start_payment(raw, ctx, actions);
        }
        let (product, measure, lot) = match resolve(&parsed.barcode, ctx.catalog) {
            Resolved::Item(product, measure, lot) => (product, measure, lot),
            Resolved::Unknown => {
                self.prompt = Prompt::new(
                    "unknown_product",
                    format!("Unknown product {raw}: please ask an attendant."),
                );
                return Ok(Cause::UnknownProduct);
            }
            Resolved::PriceNotBelieved(product, price_fen) => {
                // A price printed into a code is the code-maker's word: believed only for goods
                // the store itself labels. Anyone can print `3922…` or `21…` onto a sticker.
                let opening = self.open_session(ctx);
                let detail = format!(
                    "{}: the code {raw} carries a price of {} but this product is not sold by \
                     label; scan its own barcode or check the label",
                    product.name,
                    fen(price_fen)
                );
                // The lane then stops and tells the shopper an attendant is coming.
                self.raise(InterventionKind::PriceNotBelieved, detail, None, ctx.now);
                if opening {
                    self.raise_if_not_empty(ctx);
                }
                return Ok(Cause::PriceOnTheCodeRefused);
            }
        };
        let opening = self.open_session(ctx);
        let Some(session) = self.session.as_mut() else {
            return Ok(Cause::ScanIgnored);
        };
        let item = session.basket.add(product, measure.clone(), lot);
        let (line, name, price) = (item.line, item.name.clone(), item.price_fen);
        session.reprice(ctx);
        let total = session.basket.total_fen();
        self.state = LaneState::Shopping;
        self.prompt = Prompt::new(
            "item_added",
            format!("{name} {} — total {}", fen(price), fen(total)),
        );

        if ctx.rules.enabled
            && let Some((expected_g, tolerance_g)) = expected_weight(product, &measure, ctx)
        {
            let awaited = Awaited {
                line,
                gtin: product.gtin.clone(),
                expected_g,
                tolerance_g,
                deadline: ctx.now + Duration::seconds(ctx.rules.bagging_timeout_secs),
            };
            let verdicts = session.bagging.expect(awaited);
            self.prompt = Prompt::new(
                "place_item",
                format!(
                    "{name} {} — total {}. Place the item in the bag.",
                    fen(price),
                    fen(total)
                ),
            );
            self.apply_verdicts(verdicts, ctx, actions);
        }
        if product.min_age > 0 {
            let detail = format!("{name}: check the shopper is at least {}", product.min_age);
            self.raise(InterventionKind::AgeRestricted, detail, Some(line), ctx.now);
        }
        if opening {
            self.raise_if_not_empty(ctx);
        }
        Ok(Cause::ItemScanned)
    }

    /// Opens the session in front of the lane if there is none yet; returns whether it did. A
    /// new basket's bagging area starts from the scale's weight, or from the lane's empty
    /// weight when goods are left behind on it.
    fn open_session(&mut self, ctx: &Context<'_>) -> bool {
        if self.session.is_some() {
            return false;
        }
        let mut bagging = BaggingArea::start(self.basket_start_g(ctx.rules));
        bagging.stable_g = self.scale_g.unwrap_or(bagging.stable_g);
        self.session = Some(Session {
            id: ctx.new_id.clone(),
            started_at: ctx.now,
            basket: Basket::default(),
            attempts: 0,
            payment: None,
            bagging,
            member: false,
            coupons: Vec::new(),
        });
        true
    }

    pub(super) fn on_coupon(&mut self, coupon: PresentedCoupon, ctx: &Context<'_>) -> Handled {
        if !matches!(self.state, LaneState::Shopping) {
            self.prompt = Prompt::new("coupon_later", "Scan your items first, then your coupon.");
            return Ok(Cause::CouponIgnored);
        }
        let Some(session) = self.session.as_mut() else {
            return Ok(Cause::CouponIgnored);
        };
        let Some(campaign) = ctx.catalog.campaign(&coupon.campaign_id) else {
            self.prompt = Prompt::new("coupon_invalid", "This coupon is not valid in this store.");
            return Ok(Cause::UnknownCoupon);
        };
        let name = campaign.name.clone();
        if session
            .coupons
            .iter()
            .any(|c| c.coupon_id == coupon.coupon_id || c.campaign_id == coupon.campaign_id)
        {
            self.prompt = Prompt::new("coupon_duplicate", format!("{name}: already applied."));
            return Ok(Cause::CouponRepeated);
        }
        session.coupons.push(coupon.clone());
        let applied = session.reprice(ctx);
        let total = session.basket.total_fen();
        self.prompt = if applied.contains(&coupon.coupon_id) {
            Prompt::new(
                "coupon_applied",
                format!("{name} applied — total {}", fen(total)),
            )
        } else {
            Prompt::new(
                "coupon_pending",
                format!("{name}: kept, it applies once the basket qualifies."),
            )
        };
        Ok(Cause::CouponScanned)
    }

    pub(super) fn on_weight(
        &mut self,
        reading: WeightReading,
        ctx: &Context<'_>,
        actions: &mut Vec<Action>,
    ) -> Handled {
        let WeightReading::Stable { grams } = reading else {
            return Ok(Cause::WeightUnstable);
        };
        self.scale_g = Some(grams);
        if ctx.rules.enabled
            && matches!(
                self.state,
                LaneState::Shopping | LaneState::NeedsAttendant | LaneState::Paying
            )
            && let Some(session) = self.session.as_mut()
        {
            let verdicts = session.bagging.on_stable(grams, ctx.now, ctx.rules);
            self.apply_verdicts(verdicts, ctx, actions);
        }
        self.track_empty(grams, ctx.rules);
        Ok(Cause::Weight)
    }

    pub(super) fn on_tick(&mut self, ctx: &Context<'_>) -> Handled {
        if !ctx.rules.enabled
            || !matches!(self.state, LaneState::Shopping | LaneState::NeedsAttendant)
        {
            return Ok(Cause::Tick);
        }
        let Some(session) = self.session.as_mut() else {
            return Ok(Cause::Tick);
        };
        let verdicts = session.bagging.on_tick(ctx.now, ctx.rules);
        let mut actions = Vec::new();
        self.apply_verdicts(verdicts, ctx, &mut actions);
        Ok(Cause::TimeOut)
    }

    /// Turns the scale's verdicts into alerts, cleared alerts and learning.
    fn apply_verdicts(
        &mut self,
        verdicts: Vec<Verdict>,
        ctx: &Context<'_>,
        actions: &mut Vec<Action>,
    ) {
        for verdict in verdicts {
            match verdict {
                Verdict::Bagged {
                    line,
                    gtin,
                    observed_g,
                } => {
                    actions.push(Action::LearnWeight {
                        gtin,
                        grams: observed_g,
                    });
                    self.interventions.retain(|i| {
                        !(i.kind == InterventionKind::ItemNotBagged && i.line == Some(line))
                    });
                    if self.prompt.code == "place_item" {
                        self.prompt = Prompt::new(
                            "item_bagged",
                            "Thank you. Scan your next item or your payment code.",
                        );
                    }
                }
                Verdict::Mismatch {
                    line,
                    expected_g,
                    observed_g,
                } => self.raise(
                    InterventionKind::WeightMismatch,
                    format!("line {line}: expected {expected_g} g, the scale saw {observed_g} g"),
                    Some(line),
                    ctx.now,
                ),
                Verdict::Unexpected { grams } => self.raise(
                    InterventionKind::UnexpectedItem,
                    format!("{grams} g on the scale with no scan"),
                    None,
                    ctx.now,
                ),
                Verdict::Removed { grams } => self.raise(
                    InterventionKind::ItemRemoved,
                    format!("{grams} g taken off the scale"),
                    None,
                    ctx.now,
                ),
                Verdict::NotBagged { line } => self.raise(
                    InterventionKind::ItemNotBagged,
                    format!("line {line} was not placed in the bag"),
                    Some(line),
                    ctx.now,
                ),
                Verdict::OwnBag { grams } => {
                    self.prompt = Prompt::new(
                        "bag_accepted",
                        format!("Your bag ({grams} g) is accepted. Scan your first item."),
                    );
                }
                Verdict::Settled => {
                    // The scale is back where the lane expects it: weight alerts caused by
                    // something put down or taken off are resolved.
                    self.interventions.retain(|i| {
                        !matches!(
                            i.kind,
                            InterventionKind::UnexpectedItem
                                | InterventionKind::ItemRemoved
                                | InterventionKind::WeightMismatch
                        )
                    });
                }
            }
        }
    }
}

/// What the bagging scale should see for one scan: expected grams and tolerance, or None when
/// the item is not weighed. A label-priced item sold by weight is checked against the weight its
/// label implies (the printed net weight, or the price over the price per kilogram), so a label
/// from a small portion stuck on a large one is caught on the scale.
fn expected_weight(product: &Product, measure: &Measure, ctx: &Context<'_>) -> Option<(i64, i64)> {
    let tolerance = if product.tolerance_g > 0 {
        i64::from(product.tolerance_g)
    } else {
        ctx.rules.default_tolerance_g
    };
    match measure {
        Measure::Weight(grams) => Some((*grams, tolerance)),
        Measure::Piece | Measure::LabelPrice { .. } if product.weight_g > 0 => {
            let stats = ctx.weights.get(&product.gtin).copied().unwrap_or_default();
            Some(stats.expectation(i64::from(product.weight_g), tolerance, ctx.rules))
        }
        Measure::LabelPrice {
            net_weight_g: Some(grams),
            ..
        } => Some((*grams, tolerance)),
        Measure::LabelPrice { price_fen, .. } if is_by_weight(product) && product.price_fen > 0 => {
            let grams = implied_grams(*price_fen, product.price_fen);
            // The label's price is rounded to the fen: allow the grams one fen stands for.
            let rounding = 1000 / product.price_fen + 1;
            Some((grams, tolerance + rounding))
        }
        _ => None,
    }
}

/// Grams a label's price stands for at a price per kilogram, rounded to the nearest gram.
pub(super) fn implied_grams(price_fen: i64, per_kg_fen: i64) -> i64 {
    let (price, per_kg) = (i128::from(price_fen), i128::from(per_kg_fen));
    i64::try_from((price * 1000 + per_kg / 2) / per_kg).unwrap_or(i64::MAX)
}

/// What a scanned code stands for.
#[derive(Debug)]
enum Resolved<'c> {
    /// A product, how to price it, and its lot.
    Item(&'c Product, Measure, Option<String>),
    /// No product in the catalog.
    Unknown,
    /// The code carries a price (in fen) for a product not sold by label: not believed.
    PriceNotBelieved(&'c Product, i64),
}

/// The product a code stands for, how to price it, and its lot.
fn resolve<'c>(barcode: &Barcode, catalog: &'c Catalog) -> Resolved<'c> {
    let found = |product: Option<&'c Product>| product.ok_or(Resolved::Unknown);
    let labelled = |product: &'c Product, price_fen: i64, net_weight_g: Option<i64>, lot| {
        if product.priced_by_label {
            Resolved::Item(
                product,
                Measure::LabelPrice {
                    price_fen,
                    net_weight_g,
                },
                lot,
            )
        } else {
            Resolved::PriceNotBelieved(product, price_fen)
        }
    };
    let resolved = match barcode {
        Barcode::Product { gtin, .. } => {
            found(catalog.by_gtin(gtin)).map(|p| Resolved::Item(p, Measure::Piece, None))
        }
        Barcode::VariableMeasure {
            item,
            price_fen,
            weight_g,
            ..
        } => found(catalog.by_plu(item)).map(|product| match (weight_g, price_fen) {
            (Some(grams), _) => Resolved::Item(product, Measure::Weight(*grams), None),
            (None, Some(fen)) => labelled(product, *fen, None, None),
            (None, None) => Resolved::Item(product, Measure::Piece, None),
        }),
        Barcode::Gs1 {
            gtin: Some(gtin),
            lot,
            net_weight_g,
            price_fen,
            ..
        } => found(catalog.by_gtin(gtin)).map(|product| match (net_weight_g, price_fen) {
            (grams, Some(fen)) => labelled(product, *fen, *grams, lot.clone()),
            (Some(grams), None) if is_by_weight(product) => {
                Resolved::Item(product, Measure::Weight(*grams), lot.clone())
            }
            _ => Resolved::Item(product, Measure::Piece, lot.clone()),
        }),
        Barcode::DigitalLink { gtin, lot, .. } => {
            found(catalog.by_gtin(gtin)).map(|p| Resolved::Item(p, Measure::Piece, lot.clone()))
        }
        _ => Err(Resolved::Unknown),
    };
    resolved.unwrap_or_else(|unknown| unknown)
}
