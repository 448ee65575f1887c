//! Unit tests of [`super`] (the `coupons` module), kept beside it to keep the module short.

use super::*;

fn rule(id: &str, min: i64, off: i64, pct: i64) -> Rule {
    Rule {
        coupon_id: id.into(),
        min_spend_fen: min,
        amount_off_fen: off,
        percent_off: pct,
    }
}

fn share(id: &str, base: i64, discount: i64) -> Share {
    Share {
        coupon_id: id.into(),
        base_fen: base,
        discount_fen: discount,
    }
}

#[test]
fn coupon_arithmetic_follows_the_campaigns() {
    let fixed = rule("a", 50_00, 10_00, 0);
    let pct = rule("b", 0, 0, 15);
    // 60.00 basket, 10.00 off, 15% of a 20.00 subtotal = 3.00 off.
    let shares = [share("a", 60_00, 10_00), share("b", 20_00, 3_00)];
    assert_eq!(
        check_shares(47_00, 60_00, &shares, &[fixed.clone(), pct.clone()]),
        Ok(())
    );
    // Less than the campaign gives is the lane's choice; the amount must still add up.
    assert_eq!(
        check_shares(
            52_00,
            60_00,
            &[share("a", 60_00, 8_00)],
            std::slice::from_ref(&fixed)
        ),
        Ok(())
    );
    let refused = [
        check_shares(
            40_00,
            50_00,
            &[share("a", 50_00, 10_01)],
            std::slice::from_ref(&fixed),
        ),
        check_shares(
            39_00,
            49_00,
            &[share("a", 49_00, 10_00)],
            std::slice::from_ref(&fixed),
        ),
        check_shares(
            50_00,
            60_00,
            &[share("a", 61_00, 10_00)],
            std::slice::from_ref(&fixed),
        ),
        check_shares(
            49_00,
            60_00,
            &[share("a", 60_00, 10_00)],
            std::slice::from_ref(&fixed),
        ),
        check_shares(60_00, 60_00, &[], std::slice::from_ref(&fixed)),
        check_shares(
            50_00,
            60_00,
            &[share("a", 60_00, 10_00), share("a", 60_00, 0)],
            std::slice::from_ref(&fixed),
        ),
        check_shares(
            16_99,
            20_00,
            &[share("b", 20_00, 3_01)],
            std::slice::from_ref(&pct),
        ),
        check_shares(60_00, 60_00, &[share("x", 60_00, 0)], &[]),
    ];
    for (i, r) in refused.iter().enumerate() {
        assert!(r.is_err(), "case {i}: {r:?}");
    }
    // A share naming its coupon by the scanned code counts as the coupon's.
    assert!(
        check_shares(
            50_00,
            60_00,
            &[share("OMOC1:w:a", 60_00, 10_00)],
            std::slice::from_ref(&fixed)
        )
        .is_ok()
    );
    // Never more than the base, whatever the campaign says.
    assert!(
        check_shares(
            0,
            5_00,
            &[share("a", 5_00, 5_00)],
            &[rule("a", 0, 10_00, 0)]
        )
        .is_ok()
    );
}

#[test]
fn a_scanned_code_names_its_coupon() {
    let code = coupon_code("demo-50-minus-10", "0193-abc");
    assert_eq!(code, "OMOC1:demo-50-minus-10:0193-abc");
    assert_eq!(
        parse_coupon_code(&code),
        Some(("demo-50-minus-10", "0193-abc"))
    );
    for bad in ["OMOC1:", "OMOC1:x", "OMOC1::a", "OMOC1:x:", "4006381333931"] {
        assert_eq!(parse_coupon_code(bad), None, "{bad}");
    }
    assert_eq!(coupon_id_of(&code), "0193-abc");
    assert_eq!(coupon_id_of("0193-abc"), "0193-abc");
}

#[test]
fn coupon_lists_are_checked() {
    let ids = normalize_ids(&["b".into(), "OMOC1:x:a".into()]).unwrap();
    assert_eq!(ids, vec!["a".to_owned(), "b".to_owned()]);
    assert!(normalize_ids(&["a".into(), "OMOC1:x:a".into()]).is_err());
    assert!(normalize_ids(&["".into()]).is_err());
    assert!(normalize_ids(&vec!["a".to_owned(); 21]).is_err());
}
