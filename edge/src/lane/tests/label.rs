//! A price printed into a barcode (GS1 AI 392n/393n, in-store `21…` price codes) is believed
//! only for products the catalog marks as priced by label, and such goods still meet the scale.

use super::*;
use omo_devices::barcode::gtin::check_digit;

/// The harness's salmon (PLU 00042, 158.00/kg), sold by the store's own labels.
fn labelled_salmon(h: &mut Harness) {
    h.catalog.apply([Product {
        gtin: "02000420000008".into(),
        name: "Salmon".into(),
        price_fen: 15800,
        unit: Unit::Kg as i32,
        plu: "00042".into(),
        priced_by_label: true,
        version: 10,
        ..Default::default()
    }]);
}

/// `21 IIIII PPPPP C`: an in-store label with its price in fen.
fn price_label(plu: &str, price_fen: u32) -> String {
    let body = format!("21{plu}{price_fen:05}");
    let check = check_digit(&body).unwrap();
    format!("{body}{check}")
}

#[test]
fn a_price_label_for_a_product_not_sold_by_label_is_refused_and_calls_an_attendant() {
    let mut h = Harness::new();
    // The attack: a home-printed `21` sticker pricing 42 g... of salmon at one fen.
    let step = h.scan(&price_label("00042", 1));
    assert_eq!(h.total(), 0, "nothing may be added at the sticker's price");
    assert!(h.lane.session.as_ref().unwrap().basket.items.is_empty());
    assert_eq!(h.open(), vec![InterventionKind::PriceNotBelieved]);
    assert_eq!(h.lane.state, LaneState::NeedsAttendant);
    assert_eq!(step.transition.unwrap().cause, Cause::PriceOnTheCodeRefused);
    let detail = &h.lane.interventions[0].detail;
    assert!(
        detail.contains("not sold by label") && detail.contains("¥0.01"),
        "{detail}"
    );
}

#[test]
fn a_gs1_price_on_a_packaged_product_is_refused() {
    let mut h = Harness::new();
    // (01) the pen, (3922) 0.01 yuan: a GS1-128 element string a label printer makes in seconds.
    h.scan("]C1010400638133393139221");
    assert_eq!(h.total(), 0);
    assert_eq!(h.open(), vec![InterventionKind::PriceNotBelieved]);
    // The attendant clears it; the shopper scans the pen's own barcode at the catalog price.
    let id = h.lane.interventions[0].id;
    h.operator(
        Role::Attendant,
        OperatorCommand::ClearIntervention { id, approve: true },
    );
    // Nothing is left in the basket: the lane is idle again, not "shopping with 0 items".
    assert_eq!(h.lane.state, LaneState::Idle);
    assert!(h.lane.session.is_none());
    h.scan("4006381333931");
    assert_eq!(h.total(), 350);
}

#[test]
fn a_label_priced_product_takes_the_printed_price_and_still_meets_the_scale() {
    let mut h = Harness::new();
    labelled_salmon(&mut h);
    // 43.21 yuan at 158.00/kg stands for 273 g.
    h.scan(&price_label("00042", 4321));
    assert_eq!(h.total(), 4321);
    assert!(h.open().is_empty());
    h.weigh(275);
    assert!(h.open().is_empty(), "{:?}", h.lane.interventions);

    // A cheap label on a big piece: 1.58 yuan (10 g) for 500 g on the scale.
    h.scan(&price_label("00042", 158));
    h.weigh(275 + 500);
    assert_eq!(h.open(), vec![InterventionKind::WeightMismatch]);
}

#[test]
fn a_label_printing_both_weight_and_price_is_checked_by_its_weight() {
    let mut h = Harness::new();
    labelled_salmon(&mut h);
    // (01) salmon, (3103) 0.532 kg, (3922) 84.06 yuan.
    h.scan(concat!("]C1", "0102000420000008", "3103000532", "39228406"));
    assert_eq!(h.total(), 8406);
    h.weigh(900);
    assert_eq!(h.open(), vec![InterventionKind::WeightMismatch]);
}

#[test]
fn implied_grams_round_and_never_overflow() {
    assert_eq!(crate::lane::scanning::implied_grams(4321, 15800), 273);
    assert_eq!(crate::lane::scanning::implied_grams(i64::MAX, 1), i64::MAX);
}
