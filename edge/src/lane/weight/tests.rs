//! The bagging scale's accounting, verdict by verdict.

use super::*;

fn t(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(1_800_000_000_000 + ms).unwrap()
}

fn awaited(line: u32, grams: i64) -> Awaited {
    Awaited {
        line,
        gtin: format!("g{line}"),
        expected_g: grams,
        tolerance_g: 10,
        deadline: t(10_000),
    }
}

#[test]
fn a_matching_weight_bags_the_item() {
    let rules = WeightRules::default();
    let mut area = BaggingArea::start(0);
    area.expect(awaited(1, 500));
    let v = area.on_stable(505, t(100), &rules);
    assert_eq!(
        v,
        vec![Verdict::Bagged {
            line: 1,
            gtin: "g1".into(),
            observed_g: 505
        }]
    );
    assert!(area.awaited.is_empty());
    assert_eq!(area.accounted_g, 505);
}

#[test]
fn a_wrong_weight_is_a_mismatch_and_the_item_stays_awaited() {
    let rules = WeightRules::default();
    let mut area = BaggingArea::start(0);
    area.expect(awaited(1, 500));
    let v = area.on_stable(900, t(100), &rules);
    assert_eq!(
        v,
        vec![Verdict::Mismatch {
            line: 1,
            expected_g: 500,
            observed_g: 900
        }]
    );
    assert_eq!(area.awaited.len(), 1);
    // Taking the wrong thing off settles the scale again.
    assert_eq!(area.on_stable(0, t(200), &rules), vec![Verdict::Settled]);
}

#[test]
fn weight_without_a_scan_is_unexpected_after_the_grace() {
    let rules = WeightRules::default();
    let mut area = BaggingArea::start(0);
    assert!(area.on_stable(700, t(0), &rules).is_empty());
    assert!(area.on_tick(t(1000), &rules).is_empty());
    assert_eq!(
        area.on_tick(t(1600), &rules),
        vec![Verdict::Unexpected { grams: 700 }]
    );
}

#[test]
fn weight_first_then_the_scan_within_the_grace_is_fine() {
    let rules = WeightRules::default();
    let mut area = BaggingArea::start(0);
    assert!(area.on_stable(500, t(0), &rules).is_empty());
    let v = area.expect(awaited(1, 495));
    assert!(matches!(
        v[..],
        [Verdict::Bagged {
            line: 1,
            observed_g: 500,
            ..
        }]
    ));
    assert!(area.on_tick(t(5000), &rules).is_empty());
}

#[test]
fn an_item_taken_back_off_is_removed() {
    let rules = WeightRules::default();
    let mut area = BaggingArea::start(0);
    area.expect(awaited(1, 500));
    area.on_stable(500, t(0), &rules);
    assert_eq!(
        area.on_stable(0, t(100), &rules),
        vec![Verdict::Removed { grams: 500 }]
    );
}

#[test]
fn an_item_never_bagged_times_out() {
    let rules = WeightRules::default();
    let mut area = BaggingArea::start(0);
    area.expect(awaited(1, 500));
    assert!(area.on_tick(t(9_999), &rules).is_empty());
    assert_eq!(
        area.on_tick(t(10_000), &rules),
        vec![Verdict::NotBagged { line: 1 }]
    );
    assert!(area.awaited.is_empty());
}

#[test]
fn two_items_bagged_together_match_their_sum() {
    let rules = WeightRules::default();
    let mut area = BaggingArea::start(100);
    area.expect(awaited(1, 300));
    area.expect(awaited(2, 450));
    let v = area.on_stable(100 + 752, t(0), &rules);
    assert_eq!(v.len(), 2);
    assert!(v.iter().all(|v| matches!(v, Verdict::Bagged { .. })));
}

#[test]
fn a_heavy_item_scanned_right_after_a_light_one_bags_both() {
    let rules = WeightRules::default();
    let mut area = BaggingArea::start(0);
    area.expect(Awaited {
        tolerance_g: 3,
        ..awaited(1, 12)
    });
    area.expect(Awaited {
        tolerance_g: 20,
        ..awaited(2, 1030)
    });
    let v = area.on_stable(1042, t(0), &rules);
    assert_eq!(v.len(), 2, "{v:?}");
    assert!(area.awaited.is_empty());
}

#[test]
fn drift_within_the_noise_band_is_ignored_and_own_bags_are_accepted() {
    let rules = WeightRules::default();
    let mut area = BaggingArea::start(0);
    assert_eq!(area.on_stable(4, t(0), &rules), vec![Verdict::Settled]);
    area.own_bag_allowed = true;
    assert_eq!(
        area.on_stable(60, t(10), &rules),
        vec![Verdict::OwnBag { grams: 60 }]
    );
    assert_eq!(area.accounted_g, 60);
    // A second "bag" is not.
    assert!(area.on_stable(120, t(20), &rules).is_empty());
    assert!(area.loose.is_some());
}

#[test]
fn learned_weights_replace_the_catalog_after_enough_observations() {
    let rules = WeightRules::default();
    let mut stats = WeightStats::default();
    for g in [1000, 1004, 996, 1002, 998, 1001, 999, 1003, 997, 1000] {
        stats.observe(g);
    }
    let (expected, tolerance) = stats.expectation(1030, 20, &rules);
    assert_eq!(expected, 1000);
    assert!(tolerance < 20 && tolerance > rules.noise_g, "{tolerance}");
    let fresh = WeightStats::default();
    assert_eq!(fresh.expectation(1030, 20, &rules), (1030, 20));
}
