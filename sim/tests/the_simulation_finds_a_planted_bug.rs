//! The invariants are not decoration: a lane that gives up on a lost answer is caught within a
//! bounded number of checkouts, and the reported seed replays the same failure at the same step.

use omo_sim::{Failure, Invariant, PlantedBug, SimOptions};

fn with_bug(seed: u64, bug: PlantedBug) -> SimOptions {
    SimOptions {
        seed,
        checkouts: 3_000,
        planted_bug: Some(bug),
        ..SimOptions::default()
    }
}

#[test]
fn a_lane_that_gives_up_on_a_lost_answer_is_caught_and_replays() {
    let options = with_bug(1, PlantedBug::NoQueryAfterLostAnswer);
    let failure = omo_sim::run(&options).expect_err("the planted bug must break an invariant");
    let invariant = failure.invariant();
    assert!(
        matches!(
            invariant,
            Some(Invariant::NoPaidBasketLost | Invariant::NoBasketChargedTwice)
        ),
        "{failure}"
    );
    let text = failure.to_string();
    assert!(text.contains("seed 1, step "), "{text}");
    assert!(
        text.contains("omo sim --seed 1 --checkouts 3000 --planted-bug no-query-after-lost-answer"),
        "{text}"
    );
    let replay = omo_sim::run(&options).expect_err("the replay must fail too");
    assert_eq!(replay.step(), failure.step());
    assert_eq!(replay.invariant(), invariant);
    let (Failure::Invariant { detail: a, .. }, Failure::Invariant { detail: b, .. }) =
        (&failure, &replay)
    else {
        panic!("not invariant failures: {failure} / {replay}");
    };
    // The details name the simulation's own order ids, so they match too.
    assert_eq!(a, b);
}

#[test]
fn cancelling_without_a_query_costs_a_retry_but_no_money() {
    // The cloud's Cancel refunds a charge within its window, so skipping the query only makes
    // the shopper pay again: every invariant must hold.
    let report = omo_sim::run(&with_bug(2, PlantedBug::SkipQueryBeforeCancel))
        .unwrap_or_else(|failure| panic!("{failure}"));
    assert_eq!(report.checkouts, 3_000);
    assert!(report.payments.get("CANCELLED").copied().unwrap_or(0) > 0);
}
