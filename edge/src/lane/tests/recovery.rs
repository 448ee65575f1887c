//! Bringing a lane back to idle: cancel basket, reset lane, back in service after being taken
//! out mid-basket, voiding every line, and repeated alerts counted on one intervention.

use super::*;

const PEN: &str = "4006381333931";

fn abandoned(step: &Step) -> Vec<&AbandonedBasket> {
    step.actions
        .iter()
        .filter_map(|a| match a {
            Action::AbandonBasket(basket) => Some(basket),
            _ => None,
        })
        .collect()
}

fn idle_and_empty(h: &Harness) {
    assert_eq!(h.lane.state, LaneState::Idle, "{:?}", h.lane);
    assert!(h.lane.session.is_none(), "{:?}", h.lane.session);
    assert!(!h.lane.blocked(), "{:?}", h.lane.interventions);
}

#[test]
fn an_attendant_cancels_a_basket_and_it_is_recorded_as_abandoned() {
    let mut h = Harness::new();
    h.scan(PEN);
    h.scan(MILK);
    h.weigh(400); // a mismatch: the lane needs an attendant
    assert_eq!(h.lane.state, LaneState::NeedsAttendant);
    // The attendant takes the 400 g back off first (goods left on the bagging area would stop
    // the idle lane: see `left_behind`).
    h.weigh(0);
    let step = h.operator(Role::Attendant, OperatorCommand::CancelBasket);
    assert_eq!(step.refused, None);
    let dropped = abandoned(&step);
    assert_eq!(dropped.len(), 1);
    assert_eq!(dropped[0].scale_g, Some(0));
    assert_eq!(dropped[0].reason, AbandonReason::Cancelled);
    assert_eq!(dropped[0].session_id, "session-1");
    assert_eq!(dropped[0].total_fen, 350 + 1290);
    assert_eq!(step.transition.unwrap().cause, Cause::BasketCancelled);
    idle_and_empty(&h);
    // Nothing to cancel on an idle lane.
    assert!(
        h.operator(Role::Attendant, OperatorCommand::CancelBasket)
            .refused
            .is_some()
    );
}

#[test]
fn cancel_and_reset_are_refused_while_a_payment_is_in_flight() {
    let mut h = Harness::new();
    h.scan(PEN);
    let order = authorized_order(&h.scan(CODE));
    for (role, command) in [
        (Role::Attendant, OperatorCommand::CancelBasket),
        (Role::Manager, OperatorCommand::ResetLane),
    ] {
        let step = h.operator(role, command);
        let why = step.refused.clone().expect("refused while authorizing");
        assert!(why.contains("payment is in flight"), "{why}");
        assert!(abandoned(&step).is_empty());
    }
    h.pay(
        &order,
        PaymentOutcome::Pending {
            payment_id: "p".into(),
        },
    );
    let step = h.operator(Role::Manager, OperatorCommand::ResetLane);
    assert!(step.refused.unwrap().contains("confirmation"));
    assert_eq!(h.lane.state, LaneState::Paying);
    h.pay(
        &order,
        PaymentOutcome::Declined {
            reason: "no".into(),
        },
    );
    let step = h.operator(Role::Attendant, OperatorCommand::CancelBasket);
    assert_eq!(step.refused, None);
    assert_eq!(abandoned(&step)[0].last_order_id.as_deref(), Some(&*order));
    idle_and_empty(&h);
}

#[test]
fn an_attendant_may_not_reset_a_lane_and_a_paid_basket_is_not_cancelled() {
    let mut h = Harness::new();
    h.scan(PEN);
    assert!(
        h.operator(Role::Attendant, OperatorCommand::ResetLane)
            .refused
            .is_some()
    );
    let order = authorized_order(&h.scan(CODE));
    h.pay(
        &order,
        PaymentOutcome::Succeeded {
            payment_id: "p".into(),
            wallet_id: "w".into(),
        },
    );
    assert_eq!(h.lane.state, LaneState::Paid);
    assert!(
        h.operator(Role::Attendant, OperatorCommand::CancelBasket)
            .refused
            .is_some()
    );
    // A manager's reset finishes the paid checkout (its sale is recorded), not abandons it.
    let step = h.operator(Role::Manager, OperatorCommand::ResetLane);
    assert_eq!(step.refused, None);
    assert!(abandoned(&step).is_empty());
    assert_eq!(h.lane.completed, 1);
    idle_and_empty(&h);
}

#[test]
fn a_lane_back_in_service_starts_clean_with_the_scale_as_its_tare() {
    let mut h = Harness::new();
    h.scan(MILK);
    h.weigh(1030);
    h.scan(MILK);
    h.operator(Role::Manager, OperatorCommand::OutOfService);
    // The shopper leaves; one milk stays on the bagging area; time passes.
    h.weigh(1030);
    h.later(60_000);
    let step = h.operator(Role::Manager, OperatorCommand::ReturnToService);
    assert_eq!(step.refused, None);
    let dropped = abandoned(&step);
    assert_eq!(dropped.len(), 1);
    assert_eq!(dropped[0].reason, AbandonReason::ReturnedToService);
    assert_eq!(dropped[0].basket.item_count(), 2);
    assert_eq!(dropped[0].scale_g, Some(1030));
    // The milk left behind is not the next shopper's tare: the lane stops until it is gone.
    assert_eq!(h.open(), vec![InterventionKind::BaggingAreaNotEmpty]);
    assert_eq!(h.lane.state, LaneState::NeedsAttendant);
    assert!(h.lane.session.is_none());
    // The stale basket does not come back from the stored snapshot.
    let stored: Lane = serde_json::from_str(&serde_json::to_string(&h.lane).unwrap()).unwrap();
    assert!(stored.session.is_none());
    // An attendant clears it with a reason (the milk stays, checked): the lane is idle and
    // what is on the scale is its empty weight from now on.
    let id = h.lane.interventions[0].id;
    h.operator(
        Role::Attendant,
        OperatorCommand::ClearIntervention { id, approve: true },
    );
    idle_and_empty(&h);
    assert_eq!(h.lane.empty_g, Some(1030));
    // The next shopper: their own milk is bagged on top.
    h.later(1000);
    h.scan(MILK);
    assert_eq!(h.total(), 1290);
    h.weigh(2060);
    h.later(20_000);
    assert!(
        h.lane.interventions.is_empty(),
        "{:?}",
        h.lane.interventions
    );
    assert_eq!(h.lane.state, LaneState::Shopping);
    let order = authorized_order(&h.scan(CODE));
    assert!(!order.is_empty());
}

#[test]
fn a_manager_resets_an_out_of_service_lane_with_open_alerts() {
    let mut h = Harness::new();
    h.scan(BAIJIU);
    h.event(LaneEvent::GateAlert {
        kind: InterventionKind::Tailgating,
        detail: "2".into(),
    });
    h.operator(Role::Manager, OperatorCommand::OutOfService);
    let step = h.operator(Role::Manager, OperatorCommand::ResetLane);
    assert_eq!(step.refused, None);
    assert_eq!(abandoned(&step)[0].reason, AbandonReason::LaneReset);
    idle_and_empty(&h);
    assert!(h.lane.interventions.is_empty());
}

#[test]
fn voiding_every_line_returns_the_lane_to_idle() {
    let mut h = Harness::new();
    h.scan(PEN);
    h.scan(MILK);
    h.weigh(1030);
    h.operator(Role::Attendant, OperatorCommand::VoidItem { line: 1 });
    assert_eq!(h.lane.state, LaneState::Shopping);
    let step = h.operator(Role::Attendant, OperatorCommand::VoidItem { line: 2 });
    assert_eq!(step.refused, None);
    assert_eq!(abandoned(&step)[0].reason, AbandonReason::Emptied);
    idle_and_empty(&h);
    // The attendant takes the milk away: the idle lane only notes the scale.
    h.weigh(0);
    idle_and_empty(&h);
    h.scan(MILK);
    h.weigh(1030);
    assert!(h.lane.interventions.is_empty());
}

#[test]
fn a_repeated_weight_mismatch_on_one_line_is_one_intervention_counting_repeats() {
    let mut h = Harness::new();
    h.scan(MILK);
    h.weigh(400);
    h.weigh(500);
    h.weigh(600);
    assert_eq!(h.open(), vec![InterventionKind::WeightMismatch]);
    let open = &h.lane.interventions[0];
    assert_eq!((open.id, open.repeats, open.line), (1, 2, Some(1)));
    assert!(open.detail.contains("600 g"), "{}", open.detail);
}
