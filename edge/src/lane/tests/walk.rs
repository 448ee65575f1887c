//! A property over the pure lane machine: from any state a random walk of shopper, device,
//! cloud and operator events reaches, an operator brings the lane back to idle with an empty
//! basket using operator commands only. The exceptions are the ones the rules demand: a payment
//! in flight is answered by the cloud first (no one may drop a basket whose money may be
//! moving), a paid basket leaves through the gate, and what is left on the bagging area goes
//! back to the shelf (it is never the next basket's tare). Along the walk: no "shopping with 0
//! items", and at most one intervention per cause and line.

use proptest::prelude::*;

use super::*;

const PEN: &str = "4006381333931";
const PRICE_STICKER: &str = "]C1010400638133393139221";

#[derive(Debug, Clone)]
enum Op {
    Scan(&'static str),
    /// A payment code whose wallet coupons are not answered yet (the lane stays pricing).
    PayCodeUnanswered,
    Weigh(i64),
    Later(i64),
    Answer(u8),
    Gate(u8),
    OwnBag,
    Operator(Role, u8, u32),
}

fn op() -> impl Strategy<Value = Op> {
    let role = prop_oneof![Just(Role::Attendant), Just(Role::Manager)];
    prop_oneof![
        4 => prop::sample::select(vec![PEN, MILK, BAIJIU, CODE, PRICE_STICKER, "96385075", "x"])
            .prop_map(Op::Scan),
        1 => Just(Op::PayCodeUnanswered),
        4 => prop_oneof![Just(0i64), Just(1030), Just(2060), 0i64..4000].prop_map(Op::Weigh),
        2 => prop_oneof![Just(100i64), Just(2000), Just(11_000)].prop_map(Op::Later),
        2 => (0u8..5).prop_map(Op::Answer),
        1 => (0u8..4).prop_map(Op::Gate),
        1 => Just(Op::OwnBag),
        3 => (role, 0u8..10, 0u32..4).prop_map(|(r, c, n)| Op::Operator(r, c, n)),
    ]
}

fn command(which: u8, n: u32, h: &Harness) -> OperatorCommand {
    let id = h.lane.interventions.first().map_or(n, |i| i.id);
    match which {
        0 => OperatorCommand::ClearIntervention {
            id,
            approve: n.is_multiple_of(2),
        },
        1 => OperatorCommand::VoidItem { line: n },
        2 => OperatorCommand::OverridePrice {
            line: n,
            price_fen: i64::from(n) * 100,
        },
        3 => OperatorCommand::OpenGate,
        4 => OperatorCommand::OutOfService,
        5 => OperatorCommand::ReturnToService,
        6 => OperatorCommand::OwnBag,
        7 => OperatorCommand::CancelBasket,
        _ => OperatorCommand::ResetLane,
    }
}

fn current_order(h: &Harness) -> String {
    h.lane
        .session
        .as_ref()
        .and_then(|s| s.payment.as_ref())
        .map_or_else(|| "stale".into(), |p| p.order_id.clone())
}

fn apply(h: &mut Harness, op: &Op) {
    match op {
        Op::Scan(code) => {
            h.scan(code);
        }
        Op::PayCodeUnanswered => {
            h.scan_raw(CODE);
        }
        Op::Weigh(grams) => {
            h.weigh(*grams);
        }
        Op::Later(ms) => {
            h.later(*ms);
        }
        Op::Answer(kind) => {
            let order = current_order(h);
            let outcome = match kind {
                0 => PaymentOutcome::Succeeded {
                    payment_id: "p".into(),
                    wallet_id: "w".into(),
                },
                1 => PaymentOutcome::Pending {
                    payment_id: "p".into(),
                },
                2 => PaymentOutcome::Declined {
                    reason: "no".into(),
                },
                3 => PaymentOutcome::Cancelled {
                    reason: "late".into(),
                },
                _ => PaymentOutcome::Unreachable {
                    message: "down".into(),
                },
            };
            h.pay(&order, outcome);
        }
        Op::Gate(kind) => {
            let event = match kind {
                0 => LaneEvent::GateOpened,
                1 => LaneEvent::GatePassage,
                2 => LaneEvent::GateClosed,
                _ => LaneEvent::GateAlert {
                    kind: InterventionKind::Tailgating,
                    detail: "2".into(),
                },
            };
            h.event(event);
        }
        Op::OwnBag => {
            h.event(LaneEvent::OwnBag);
        }
        Op::Operator(role, which, n) => {
            let command = command(*which, *n, h);
            h.operator(*role, command);
        }
    }
}

fn invariants(h: &Harness) {
    if h.lane.state == LaneState::Shopping {
        let session = h.lane.session.as_ref().expect("shopping without a session");
        assert!(!session.basket.items.is_empty(), "shopping with 0 items");
    }
    let mut keys: Vec<_> = h
        .lane
        .interventions
        .iter()
        .map(|i| (i.kind, i.line))
        .collect();
    keys.sort_by_key(|(k, l)| (format!("{k:?}"), *l));
    let before = keys.len();
    keys.dedup();
    assert_eq!(before, keys.len(), "{:?}", h.lane.interventions);
}

/// What the walk's operator does: wait out a payment in flight (the cloud answers), let a paid
/// shopper out, then reset the lane as a manager.
fn recover_as_manager(h: &mut Harness) {
    if h.lane.payment_in_flight().is_some() {
        let order = current_order(h);
        h.pay(
            &order,
            PaymentOutcome::Declined {
                reason: "no answer".into(),
            },
        );
    }
    let step = h.operator(Role::Manager, OperatorCommand::ResetLane);
    assert_eq!(step.refused, None, "{:?}", h.lane);
    // Whatever is left on the bagging area goes back to the shelf.
    h.weigh(0);
}

/// The same with an attendant's commands only: the normal exit for a paid basket, clear every
/// intervention and cancel the basket. An attendant cannot put a lane back in service, so a
/// lane out of service is left to the manager.
fn recover_as_attendant(h: &mut Harness) -> bool {
    if matches!(h.lane.state, LaneState::OutOfService | LaneState::Closed) {
        return false;
    }
    if h.lane.payment_in_flight().is_some() {
        let order = current_order(h);
        h.pay(
            &order,
            PaymentOutcome::Cancelled {
                reason: "no answer".into(),
            },
        );
    }
    if matches!(h.lane.state, LaneState::Paid | LaneState::Exiting) {
        h.event(LaneEvent::GateOpened);
        h.event(LaneEvent::GatePassage);
    }
    while let Some(id) = h.lane.interventions.first().map(|i| i.id) {
        let step = h.operator(
            Role::Attendant,
            OperatorCommand::ClearIntervention { id, approve: true },
        );
        assert_eq!(step.refused, None);
    }
    if h.lane.session.is_some() {
        let step = h.operator(Role::Attendant, OperatorCommand::CancelBasket);
        assert_eq!(step.refused, None, "{:?}", h.lane);
    }
    h.weigh(0);
    true
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn from_any_reachable_state_an_operator_brings_the_lane_back_to_idle(
        ops in prop::collection::vec(op(), 0..80)
    ) {
        let mut h = Harness::new();
        for op in &ops {
            apply(&mut h, op);
            invariants(&h);
        }
        let mut attendant = Harness { lane: h.lane.clone(), ..Harness::new() };
        recover_as_manager(&mut h);
        prop_assert_eq!(h.lane.state, LaneState::Idle);
        prop_assert!(h.lane.session.is_none());
        prop_assert!(h.lane.interventions.is_empty());
        if recover_as_attendant(&mut attendant) {
            prop_assert_eq!(attendant.lane.state, LaneState::Idle);
            prop_assert!(attendant.lane.session.is_none());
            prop_assert!(!attendant.lane.blocked());
        }
        // And the lane works again: a shopper buys a pen.
        h.scan(PEN);
        prop_assert_eq!(h.total(), 350);
    }
}
