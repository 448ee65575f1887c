//! Unit tests of [`super`] (the `offers` module), kept beside it to keep the module short.

use super::*;

fn multi_buy() -> Promotion {
    Promotion {
        promotion_id: "water-3-for-5".into(),
        name: "3 for 5 yuan".into(),
        gtins: vec!["6921168509256".into()],
        kind: PromotionKind::MultiBuy as i32,
        quantity: 3,
        price_fen: 5_00,
        ..Default::default()
    }
}

fn campaign() -> CouponCampaign {
    CouponCampaign {
        campaign_id: "welcome".into(),
        name: "10 off 50".into(),
        min_spend_fen: 50_00,
        amount_off_fen: 10_00,
        ..Default::default()
    }
}

#[test]
fn a_valid_promotion_is_normalised() {
    let p = validate_promotion(
        &Promotion {
            starts_at: "2026-01-01T08:00:00+08:00".into(),
            ..multi_buy()
        },
        0,
    )
    .unwrap();
    assert_eq!(p.gtins, vec!["06921168509256".to_owned()]);
    assert_eq!(p.starts_at, "2026-01-01T00:00:00.000000Z");
}

#[test]
fn promotion_rules_are_enforced() {
    let bad = [
        Promotion {
            quantity: 1,
            ..multi_buy()
        },
        Promotion {
            price_fen: 0,
            ..multi_buy()
        },
        Promotion {
            gtins: vec!["6921168509257".into()],
            ..multi_buy()
        },
        Promotion {
            gtins: vec![],
            ..multi_buy()
        },
        Promotion {
            kind: PromotionKind::PercentOff as i32,
            quantity: 0,
            price_fen: 0,
            percent_off: 100,
            ..multi_buy()
        },
        Promotion {
            kind: 0,
            ..multi_buy()
        },
        Promotion {
            ends_at: "tomorrow".into(),
            ..multi_buy()
        },
        Promotion {
            starts_at: "2026-02-01T00:00:00Z".into(),
            ends_at: "2026-01-01T00:00:00Z".into(),
            ..multi_buy()
        },
    ];
    for p in bad {
        assert!(validate_promotion(&p, 0).is_err(), "{p:?}");
    }
    let percent = Promotion {
        kind: PromotionKind::PercentOff as i32,
        quantity: 0,
        price_fen: 0,
        percent_off: 20,
        ..multi_buy()
    };
    assert!(validate_promotion(&percent, 0).is_ok());
}

#[test]
fn a_campaign_takes_an_amount_or_a_percent_not_both() {
    assert!(validate_campaign(&campaign(), 0).is_ok());
    let percent = CouponCampaign {
        amount_off_fen: 0,
        percent_off: 15,
        ..campaign()
    };
    assert!(validate_campaign(&percent, 0).is_ok());
    for bad in [
        CouponCampaign {
            percent_off: 15,
            ..campaign()
        },
        CouponCampaign {
            amount_off_fen: 0,
            ..campaign()
        },
        CouponCampaign {
            amount_off_fen: 0,
            percent_off: 0,
            ..campaign()
        },
        CouponCampaign {
            campaign_id: "a:b".into(),
            ..campaign()
        },
        CouponCampaign {
            min_spend_fen: -1,
            ..campaign()
        },
    ] {
        assert!(validate_campaign(&bad, 0).is_err(), "{bad:?}");
    }
}

#[test]
fn liveness_follows_the_dates() {
    let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
    let (from, to) = dates("2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z").unwrap();
    assert!(!is_live(&from, &to, false, t("2025-12-31T23:59:59Z")));
    assert!(is_live(&from, &to, false, t("2026-01-01T00:00:00Z")));
    assert!(!is_live(&from, &to, true, t("2026-01-15T00:00:00Z")));
    assert!(!is_live(&from, &to, false, t("2026-02-01T00:00:00Z")));
    assert!(is_live("", "", false, t("2030-01-01T00:00:00Z")));
}
