//! Goods left on the bagging area are never the next shopper's tare (issue 13's review): a
//! shopper bags expensive goods, the basket is cancelled, the lane reset or taken out of service
//! and back, and an accomplice who scans one cheap item must not walk out with every bag.

use super::*;

const PEN: &str = "4006381333931";

fn left_behind(h: &Harness) -> bool {
    h.open().contains(&InterventionKind::BaggingAreaNotEmpty)
}

/// A shopper bags two milks (2060 g) on an empty lane.
fn two_milks_bagged(h: &mut Harness) {
    h.weigh(0);
    h.scan(MILK);
    h.weigh(1030);
    h.scan(MILK);
    h.weigh(2060);
    assert!(
        h.lane.interventions.is_empty(),
        "{:?}",
        h.lane.interventions
    );
}

#[test]
fn goods_left_after_a_cancel_reset_or_return_to_service_stop_the_lane_until_taken_off() {
    let commands: [&[(Role, OperatorCommand)]; 3] = [
        &[(Role::Attendant, OperatorCommand::CancelBasket)],
        &[(Role::Manager, OperatorCommand::ResetLane)],
        &[
            (Role::Manager, OperatorCommand::OutOfService),
            (Role::Manager, OperatorCommand::ReturnToService),
        ],
    ];
    for sequence in commands {
        let mut h = Harness::new();
        two_milks_bagged(&mut h);
        let mut dropped = Vec::new();
        for (role, command) in sequence {
            let step = h.operator(*role, command.clone());
            assert_eq!(step.refused, None, "{command:?}");
            dropped.extend(step.actions.into_iter().filter_map(|a| match a {
                Action::AbandonBasket(basket) => Some(basket),
                _ => None,
            }));
        }
        // The abandoned record shows what was still on the scale.
        assert_eq!(dropped.len(), 1, "{sequence:?}");
        assert_eq!(dropped[0].scale_g, Some(2060));
        assert!(left_behind(&h), "{sequence:?}: {:?}", h.lane);
        assert_eq!(h.lane.state, LaneState::NeedsAttendant);
        assert_eq!(h.lane.prompt.code, "bagging_area_not_empty");
        // The accomplice scans one cheap item and their payment code: both ignored.
        h.scan(PEN);
        h.scan(CODE);
        assert!(h.lane.session.is_none(), "{:?}", h.lane.session);
        assert_eq!(h.lane.state, LaneState::NeedsAttendant);
        // Taking the milk back off clears it: idle, welcoming, and the next basket is clean.
        h.weigh(3);
        assert!(
            h.lane.interventions.is_empty(),
            "{:?}",
            h.lane.interventions
        );
        assert_eq!(h.lane.state, LaneState::Idle);
        assert_eq!(h.lane.prompt.code, "welcome");
        h.scan(PEN);
        assert_eq!(h.lane.state, LaneState::Shopping);
    }
}

#[test]
fn a_basket_opened_on_goods_left_behind_counts_from_the_empty_weight() {
    let mut h = Harness::new();
    two_milks_bagged(&mut h);
    let order = authorized_order(&h.scan(CODE));
    h.pay(
        &order,
        PaymentOutcome::Succeeded {
            payment_id: "p".into(),
            wallet_id: "12345678".into(),
        },
    );
    h.event(LaneEvent::GateOpened);
    h.event(LaneEvent::GatePassage);
    assert_eq!((h.lane.state, h.lane.completed), (LaneState::Idle, 1));
    // The bags stay on the scale; the next shopper scans a pen.
    h.scan(PEN);
    assert!(left_behind(&h), "{:?}", h.lane.interventions);
    assert_eq!(h.lane.state, LaneState::NeedsAttendant);
    let session = h.lane.session.as_ref().unwrap();
    assert_eq!(session.bagging.accounted_g, 0, "not the bags as tare");
    assert!(h.scan(CODE).actions.is_empty(), "no payment while blocked");
    // The bags are taken away: the pen's basket goes on and pays for the pen only.
    h.weigh(0);
    assert!(
        h.lane.interventions.is_empty(),
        "{:?}",
        h.lane.interventions
    );
    assert_eq!(h.lane.state, LaneState::Shopping);
    assert_eq!(h.total(), 350);
    assert!(!authorized_order(&h.scan(CODE)).is_empty());
}

#[test]
fn an_attendant_clears_goods_left_behind_in_a_basket_and_they_are_accounted() {
    let mut h = Harness::new();
    h.weigh(0);
    h.weigh(1030); // the idle lane: something was put down
    h.scan(PEN);
    assert!(left_behind(&h));
    let id = h.lane.interventions[0].id;
    let step = h.operator(
        Role::Attendant,
        OperatorCommand::ClearIntervention { id, approve: true },
    );
    assert_eq!(step.refused, None);
    assert_eq!(h.lane.state, LaneState::Shopping);
    assert_eq!(h.lane.session.as_ref().unwrap().bagging.accounted_g, 1030);
    // Nothing more is raised while the basket stands as checked.
    h.weigh(1030);
    assert!(
        h.lane.interventions.is_empty(),
        "{:?}",
        h.lane.interventions
    );
}

#[test]
fn scale_drift_within_the_tolerance_is_not_goods_left_behind() {
    let mut h = Harness::new();
    h.weigh(0);
    h.weigh(15);
    h.scan(PEN);
    assert!(
        h.lane.interventions.is_empty(),
        "{:?}",
        h.lane.interventions
    );
    h.operator(Role::Attendant, OperatorCommand::CancelBasket);
    assert_eq!(h.lane.state, LaneState::Idle);
    // Without weight checks (no bagging scale) nothing is raised either.
    let mut h = Harness::new();
    h.rules.enabled = false;
    h.weigh(0);
    h.weigh(2060);
    h.scan(PEN);
    assert_eq!(h.lane.state, LaneState::Shopping);
}
