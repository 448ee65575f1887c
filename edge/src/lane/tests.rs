//! The lane's rules as fast unit tests of the pure state machine.

use chrono::{DateTime, Utc};
use omo_devices::barcode::{self, VariableMeasureFormats};
use omo_proto::catalog::{Product, Unit};

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
            version: 2,
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
    ids: u32,
}

impl Harness {
    fn new() -> Harness {
        Harness {
            lane: Lane::new("1", now()),
            catalog: catalog(),
            ids: 0,
        }
    }

    fn event(&mut self, event: LaneEvent) -> Step {
        self.ids += 1;
        let ctx = Context {
            now: now(),
            catalog: &self.catalog,
            new_id: format!("session-{}", self.ids),
        };
        self.lane.handle(event, &ctx)
    }

    fn scan(&mut self, data: &str) -> Step {
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
    assert_eq!(step.transition.unwrap().cause, "item scanned");
    h.scan("5901234123457");
    h.scan("4006381333931");
    assert_eq!(h.total(), 350 * 2 + 1290);
}

#[test]
fn an_unknown_or_unreadable_code_changes_nothing_but_the_prompt() {
    let mut h = Harness::new();
    h.scan("4006381333931");
    let before = h.lane.session.clone();
    h.scan("96385074"); // valid EAN-8, not in the catalog
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
