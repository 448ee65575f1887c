//! The lane's rules as fast unit tests of the pure state machine.

use chrono::{DateTime, Utc};
use omo_devices::barcode::{self, VariableMeasureFormats};
use omo_proto::catalog::{Product, Unit};

use super::pricing::PresentedCoupon;
use super::*;
use crate::catalog::Catalog;

fn catalog() -> Catalog {
    let mut catalog = Catalog::default();
    catalog.apply([
        Product {
            gtin: "04006381333931".into(),
            name: "Stabilo pen".into(),
            price_fen: 350,
            unit: Unit::Each as i32,
            version: 1,
            ..Default::default()
        },
        Product {
            gtin: "05901234123457".into(),
            name: "Milk 1L".into(),
            price_fen: 1290,
            unit: Unit::Each as i32,
            weight_g: 1030,
            tolerance_g: 20,
            version: 2,
            ..Default::default()
        },
        Product {
            gtin: "00000096385074".into(),
            name: "Baijiu 500ml".into(),
            price_fen: 9900,
            unit: Unit::Each as i32,
            min_age: 18,
            version: 4,
            ..Default::default()
        },
        Product {
            gtin: "02000420000008".into(),
            name: "Salmon".into(),
            price_fen: 15800,
            unit: Unit::Kg as i32,
            plu: "00042".into(),
            version: 3,
            ..Default::default()
        },
    ]);
    catalog
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-23T02:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

struct Harness {
    lane: Lane,
    catalog: Catalog,
    rules: WeightRules,
    weights: WeightBook,
    ids: u32,
    clock_ms: i64,
}

impl Harness {
    fn new() -> Harness {
        Harness {
            lane: Lane::new("1", now()),
            catalog: catalog(),
            rules: WeightRules::default(),
            weights: WeightBook::default(),
            ids: 0,
            clock_ms: 0,
        }
    }

    fn event(&mut self, event: LaneEvent) -> Step {
        self.ids += 1;
        let ctx = Context {
            now: now() + chrono::Duration::milliseconds(self.clock_ms),
            store_id: "SH-T",
            exit_key: crate::exit_pass::Key {
                id: "T",
                secret: b"test key",
            },
            catalog: &self.catalog,
            rules: &self.rules,
            weights: &self.weights,
            new_id: format!("session-{}", self.ids),
        };
        self.lane.handle(event, &ctx)
    }

    fn weigh(&mut self, grams: i64) -> Step {
        self.event(LaneEvent::Weight(
            omo_devices::scale::WeightReading::Stable { grams },
        ))
    }

    fn later(&mut self, ms: i64) -> Step {
        self.clock_ms += ms;
        self.event(LaneEvent::Tick)
    }

    fn operator(&mut self, role: Role, command: OperatorCommand) -> Step {
        self.event(LaneEvent::Operator(OperatorAction {
            operator: "li".into(),
            role,
            reason: "checked".into(),
            command,
        }))
    }

    fn open(&self) -> Vec<InterventionKind> {
        self.lane.interventions.iter().map(|i| i.kind).collect()
    }

    /// Scans like a shopper; a payment code is answered as the runner would, with the wallet's
    /// app coupons (none here; see `scan_paying_with`).
    fn scan(&mut self, data: &str) -> Step {
        self.scan_paying_with(data, Vec::new())
    }

    fn scan_paying_with(&mut self, data: &str, coupons: Vec<PresentedCoupon>) -> Step {
        let step = self.scan_raw(data);
        if let [
            Action::FetchWalletCoupons {
                order_id,
                payment_code,
                ..
            },
        ] = step.actions.as_slice()
        {
            let event = LaneEvent::WalletCoupons {
                order_id: order_id.clone(),
                coupons,
                payment_code: payment_code.clone(),
            };
            return self.event(event);
        }
        step
    }

    fn scan_raw(&mut self, data: &str) -> Step {
        let event = match barcode::parse(data, &VariableMeasureFormats::default()) {
            Ok(parsed) => LaneEvent::Scan {
                raw: data.into(),
                parsed,
            },
            Err(error) => LaneEvent::BadScan {
                raw: data.into(),
                reason: error.to_string(),
            },
        };
        self.event(event)
    }

    fn total(&self) -> i64 {
        self.lane
            .session
            .as_ref()
            .map_or(0, |s| s.basket.total_fen())
    }

    fn pay(&mut self, order: &str, outcome: PaymentOutcome) -> Step {
        self.event(LaneEvent::Payment {
            order_id: order.into(),
            outcome,
        })
    }
}

const CODE: &str = "281234567812345678";

fn authorized_order(step: &Step) -> String {
    match step.actions.as_slice() {
        [Action::Authorize { order_id, .. }] => order_id.clone(),
        other => panic!("expected one Authorize, got {other:?}"),
    }
}

#[test]
fn a_first_scan_starts_a_session_and_totals_are_exact() {
    let mut h = Harness::new();
    assert_eq!(h.lane.state, LaneState::Idle);
    let step = h.scan("4006381333931");
    assert_eq!(h.lane.state, LaneState::Shopping);
    assert_eq!(step.transition.unwrap().cause, Cause::ItemScanned);
    h.scan("5901234123457");
    h.scan("4006381333931");
    assert_eq!(h.total(), 350 * 2 + 1290);
}

#[test]
fn an_unknown_or_unreadable_code_changes_nothing_but_the_prompt() {
    let mut h = Harness::new();
    h.scan("4006381333931");
    let before = h.lane.session.clone();
    h.scan("96385081"); // valid EAN-8, not in the catalog
    assert_eq!(h.lane.prompt.code, "unknown_product");
    h.scan("4006381333932"); // bad check digit
    assert_eq!(h.lane.prompt.code, "unreadable");
    assert_eq!(h.lane.session, before);
    assert_eq!(h.lane.state, LaneState::Shopping);
}

#[test]
fn a_weight_label_prices_by_weight() {
    let mut h = Harness::new();
    // 22 00042 00532 C: 532 g of salmon at 158.00/kg = 84.056 -> 84.06
    let body = "220004200532";
    let check = omo_devices::barcode::gtin::check_digit(body).unwrap();
    h.scan(&format!("{body}{check}"));
    assert_eq!(h.total(), 8406);
}

#[test]
fn a_payment_code_authorizes_the_total_and_success_opens_the_gate() {
    let mut h = Harness::new();
    h.scan("4006381333931");
    let step = h.scan(CODE);
    let order = authorized_order(&step);
    assert_eq!(h.lane.state, LaneState::Paying);
    assert!(
        matches!(&step.actions[0], Action::Authorize { amount_fen: 350, payment_code, .. } if payment_code == CODE)
    );
    // A scan while paying is ignored.
    h.scan("5901234123457");
    assert_eq!(h.total(), 350);
    let step = h.pay(
        &order,
        PaymentOutcome::Succeeded {
            payment_id: "p1".into(),
            wallet_id: "12345678".into(),
        },
    );
    assert!(matches!(
        step.actions[0],
        Action::RecordSale(Sale { total_fen: 350, .. })
    ));
    assert_eq!(step.actions[1], Action::OpenGate);
    assert_eq!(h.lane.state, LaneState::Paid);
    h.event(LaneEvent::GateOpened);
    assert_eq!(h.lane.state, LaneState::Exiting);
    h.event(LaneEvent::GatePassage);
    assert_eq!(h.lane.state, LaneState::Idle);
    assert!(h.lane.session.is_none());
    assert_eq!(h.lane.completed, 1);
}

#[test]
fn a_decline_returns_to_shopping_and_a_new_code_is_a_new_attempt() {
    let mut h = Harness::new();
    h.scan("4006381333931");
    let first = authorized_order(&h.scan(CODE));
    h.pay(
        &first,
        PaymentOutcome::Declined {
            reason: "payment code expired".into(),
        },
    );
    assert_eq!(h.lane.state, LaneState::Shopping);
    assert_eq!(h.lane.prompt.code, "declined");
    let second = authorized_order(&h.scan(CODE));
    assert_ne!(first, second);
    // A late answer for the first attempt changes nothing.
    let step = h.pay(
        &first,
        PaymentOutcome::Succeeded {
            payment_id: "late".into(),
            wallet_id: "1".into(),
        },
    );
    assert!(step.actions.is_empty());
    assert_eq!(h.lane.state, LaneState::Paying);
}

#[test]
fn pending_and_unknown_keep_the_lane_paying() {
    let mut h = Harness::new();
    h.scan("4006381333931");
    let order = authorized_order(&h.scan(CODE));
    h.pay(
        &order,
        PaymentOutcome::Pending {
            payment_id: "p".into(),
        },
    );
    assert_eq!(h.lane.state, LaneState::Paying);
    assert_eq!(h.lane.prompt.code, "confirm_in_app");
    h.pay(
        &order,
        PaymentOutcome::Unreachable {
            message: "down".into(),
        },
    );
    assert_eq!(h.lane.state, LaneState::Paying);
    assert_eq!(h.lane.order_in_flight(), Some(order.as_str()));
    h.pay(
        &order,
        PaymentOutcome::Cancelled {
            reason: "timeout".into(),
        },
    );
    assert_eq!(h.lane.state, LaneState::Shopping);
}

#[test]
fn a_payment_code_on_an_empty_basket_is_refused() {
    let mut h = Harness::new();
    let step = h.scan(CODE);
    assert!(step.actions.is_empty());
    assert_eq!(h.lane.state, LaneState::Idle);
    assert_eq!(h.lane.prompt.code, "basket_empty");
}

#[test]
fn the_lane_snapshot_round_trips_through_json() {
    let mut h = Harness::new();
    h.scan("4006381333931");
    h.scan(CODE);
    let text = serde_json::to_string(&h.lane).unwrap();
    let back: Lane = serde_json::from_str(&text).unwrap();
    assert_eq!(back, h.lane);
}

const MILK: &str = "5901234123457";
const BAIJIU: &str = "96385074";

#[test]
fn a_bagged_item_that_weighs_right_lets_the_shopper_pay() {
    let mut h = Harness::new();
    h.scan(MILK);
    assert_eq!(h.lane.prompt.code, "place_item");
    // Paying before the item is bagged is refused with a prompt.
    assert!(h.scan(CODE).actions.is_empty());
    let step = h.weigh(1035);
    assert!(matches!(
        &step.actions[..],
        [Action::LearnWeight { grams: 1035, .. }]
    ));
    assert!(h.open().is_empty());
    authorized_order(&h.scan(CODE));
}

#[test]
fn weight_with_no_scan_stops_the_lane_until_it_is_taken_off() {
    let mut h = Harness::new();
    h.scan("4006381333931"); // not weighed
    h.weigh(800);
    assert!(h.open().is_empty(), "a grace period for the scan");
    h.later(2000);
    assert_eq!(h.open(), vec![InterventionKind::UnexpectedItem]);
    assert_eq!(h.lane.state, LaneState::NeedsAttendant);
    // No payment, no scanning while blocked.
    assert!(h.scan(CODE).actions.is_empty());
    h.weigh(0);
    assert!(h.open().is_empty());
    assert_eq!(h.lane.state, LaneState::Shopping);
}

#[test]
fn an_item_not_bagged_in_time_needs_an_attendant_who_clears_it() {
    let mut h = Harness::new();
    h.scan(MILK);
    h.later(11_000);
    assert_eq!(h.open(), vec![InterventionKind::ItemNotBagged]);
    let id = h.lane.interventions[0].id;
    let step = h.operator(
        Role::Attendant,
        OperatorCommand::ClearIntervention { id, approve: true },
    );
    assert!(step.refused.is_none());
    assert!(h.open().is_empty());
    authorized_order(&h.scan(CODE));
}

#[test]
fn a_wrong_weight_is_a_mismatch_and_taking_something_off_is_a_removal() {
    let mut h = Harness::new();
    h.scan(MILK);
    h.weigh(400);
    assert_eq!(h.open(), vec![InterventionKind::WeightMismatch]);
    h.weigh(0);
    assert!(h.open().is_empty());
    h.weigh(1030);
    assert!(h.open().is_empty());
    h.weigh(20);
    assert_eq!(h.open(), vec![InterventionKind::ItemRemoved]);
}

#[test]
fn an_age_restricted_item_waits_for_an_attendant_and_a_rejection_voids_it() {
    let mut h = Harness::new();
    h.scan("4006381333931");
    h.scan(BAIJIU);
    assert_eq!(h.open(), vec![InterventionKind::AgeRestricted]);
    assert_eq!(h.lane.state, LaneState::NeedsAttendant);
    assert_eq!(h.total(), 350 + 9900);
    let id = h.lane.interventions[0].id;
    h.operator(
        Role::Attendant,
        OperatorCommand::ClearIntervention { id, approve: false },
    );
    assert_eq!(h.total(), 350);
    assert_eq!(h.lane.state, LaneState::Shopping);
}

#[test]
fn an_attendant_cannot_do_a_managers_action() {
    let mut h = Harness::new();
    h.scan("4006381333931");
    let step = h.operator(
        Role::Attendant,
        OperatorCommand::OverridePrice {
            line: 1,
            price_fen: 1,
        },
    );
    assert!(step.refused.is_some());
    assert_eq!(h.total(), 350);
    let step = h.operator(
        Role::Manager,
        OperatorCommand::OverridePrice {
            line: 1,
            price_fen: 200,
        },
    );
    assert!(step.refused.is_none());
    assert_eq!(h.total(), 200);
    let step = h.operator(Role::Attendant, OperatorCommand::VoidItem { line: 1 });
    assert!(step.refused.is_none());
    assert_eq!(h.total(), 0);
}

#[test]
fn a_lane_out_of_service_ignores_scans_and_cannot_be_closed_mid_payment() {
    let mut h = Harness::new();
    h.scan("4006381333931");
    authorized_order(&h.scan(CODE));
    assert!(
        h.operator(Role::Manager, OperatorCommand::OutOfService)
            .refused
            .is_some()
    );
    let mut h = Harness::new();
    assert!(
        h.operator(Role::Manager, OperatorCommand::OutOfService)
            .refused
            .is_none()
    );
    assert_eq!(h.lane.state, LaneState::OutOfService);
    h.scan("4006381333931");
    assert!(h.lane.session.is_none());
    h.operator(Role::Manager, OperatorCommand::ReturnToService);
    assert_eq!(h.lane.state, LaneState::Idle);
}

#[test]
fn gate_alerts_are_recorded_without_stopping_the_lane() {
    let mut h = Harness::new();
    h.event(LaneEvent::GateAlert {
        kind: InterventionKind::Tailgating,
        detail: "2".into(),
    });
    assert_eq!(h.open(), vec![InterventionKind::Tailgating]);
    h.scan("4006381333931");
    assert_eq!(h.lane.state, LaneState::Shopping);
    authorized_order(&h.scan(CODE));
}

#[test]
fn an_idle_tick_changes_nothing() {
    let mut h = Harness::new();
    let step = h.later(1000);
    assert!(!step.changed);
    assert_eq!(h.lane.seq, 0);
}

fn with_promotions(h: &mut Harness) {
    use omo_proto::catalog::{CouponCampaign, Promotion, PromotionKind};
    h.catalog.apply([Product {
        gtin: "04006381333931".into(),
        name: "Stabilo pen".into(),
        price_fen: 350,
        member_price_fen: 300,
        unit: Unit::Each as i32,
        version: 10,
        ..Default::default()
    }]);
    h.catalog.apply_promotions(
        [Promotion {
            promotion_id: "milk-2-for-20".into(),
            name: "Milk: 2 for ¥20".into(),
            gtins: vec!["05901234123457".into()],
            kind: PromotionKind::MultiBuy as i32,
            quantity: 2,
            price_fen: 2000,
            ..Default::default()
        }],
        [CouponCampaign {
            campaign_id: "welcome".into(),
            name: "¥3 off ¥20".into(),
            min_spend_fen: 2000,
            amount_off_fen: 300,
            ..Default::default()
        }],
    );
    h.rules.enabled = false;
}

#[test]
fn promotions_apply_as_items_are_scanned_and_member_prices_at_payment() {
    let mut h = Harness::new();
    with_promotions(&mut h);
    h.scan(MILK);
    h.scan(MILK);
    assert_eq!(h.total(), 2000);
    h.scan("4006381333931");
    assert_eq!(h.total(), 2350);
    let step = h.scan(CODE);
    // The payment code identifies a member: the pen at its member price.
    assert!(
        matches!(&step.actions[..], [Action::Authorize { amount_fen: 2300, coupon_ids, .. }] if coupon_ids.is_empty())
    );
    let discounts = &h.lane.session.as_ref().unwrap().basket.discounts;
    assert_eq!(discounts.len(), 2, "{discounts:?}");
}

#[test]
fn a_scanned_coupon_is_applied_and_redeemed_with_the_payment() {
    let mut h = Harness::new();
    with_promotions(&mut h);
    h.scan(MILK);
    h.event(LaneEvent::Coupon(PresentedCoupon {
        coupon_id: "c-1".into(),
        campaign_id: "welcome".into(),
    }));
    assert_eq!(h.lane.prompt.code, "coupon_pending"); // 12.90 < 20.00
    h.scan(MILK);
    h.scan("4006381333931");
    assert_eq!(h.total(), 2350 - 300);
    let step = h.scan(CODE);
    match &step.actions[..] {
        [
            Action::Authorize {
                amount_fen,
                coupon_ids,
                pre_coupon_fen,
                coupon_shares,
                ..
            },
        ] => {
            assert_eq!(*amount_fen, 2300 - 300);
            assert_eq!(coupon_ids, &vec!["c-1".to_string()]);
            // The step carries what the cloud checks the coupon against: the basket before
            // coupons, and the coupon's base and discount.
            assert_eq!(*pre_coupon_fen, 2300);
            assert_eq!(coupon_shares.len(), 1, "{coupon_shares:?}");
            assert_eq!(
                (coupon_shares[0].0.as_str(), coupon_shares[0].2),
                ("c-1", 300)
            );
        }
        other => panic!("{other:?}"),
    }
    // A coupon the cloud refuses is dropped: the next attempt pays full price.
    let order = h.lane.order_in_flight().unwrap().to_string();
    h.pay(
        &order,
        PaymentOutcome::Declined {
            reason: "a coupon is not valid".into(),
        },
    );
    assert_eq!(h.total(), 2300);
}

#[test]
fn an_unknown_coupon_is_refused_with_a_prompt() {
    let mut h = Harness::new();
    with_promotions(&mut h);
    h.scan(MILK);
    h.event(LaneEvent::Coupon(PresentedCoupon {
        coupon_id: "x".into(),
        campaign_id: "nope".into(),
    }));
    assert_eq!(h.lane.prompt.code, "coupon_invalid");
    assert!(h.lane.session.as_ref().unwrap().coupons.is_empty());
}

#[test]
fn coupons_claimed_in_the_app_are_fetched_before_the_amount_is_fixed() {
    let mut h = Harness::new();
    with_promotions(&mut h);
    h.scan(MILK);
    h.scan(MILK);
    let step = h.scan_raw(CODE);
    match step.actions.as_slice() {
        [Action::FetchWalletCoupons { wallet_id, .. }] => assert_eq!(wallet_id, "12345678"),
        other => panic!("{other:?}"),
    }
    assert_eq!(h.lane.state, LaneState::Paying);
    let order = h.lane.order_in_flight().unwrap().to_string();
    let step = h.event(LaneEvent::WalletCoupons {
        order_id: order.clone(),
        coupons: vec![PresentedCoupon {
            coupon_id: "app-1".into(),
            campaign_id: "welcome".into(),
        }],
        payment_code: CODE.into(),
    });
    match step.actions.as_slice() {
        [
            Action::Authorize {
                order_id,
                amount_fen,
                coupon_ids,
                ..
            },
        ] => {
            assert_eq!(order_id, &order);
            assert_eq!(*amount_fen, 2000 - 300);
            assert_eq!(coupon_ids, &vec!["app-1".to_string()]);
        }
        other => panic!("{other:?}"),
    }
    // A repeated answer changes nothing.
    let again = h.event(LaneEvent::WalletCoupons {
        order_id: order,
        coupons: vec![],
        payment_code: CODE.into(),
    });
    assert!(again.actions.is_empty());
}

mod label;
mod left_behind;
mod recovery;
mod walk;
