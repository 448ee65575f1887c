//! Parser tests against published examples, plus property tests that no input panics.

use super::*;
use proptest::prelude::*;

fn p(data: &str) -> Result<Parsed, BarcodeError> {
    parse(data, &VariableMeasureFormats::default())
}

fn product_of(data: &str) -> (String, GtinFormat) {
    match p(data).map(|p| p.barcode) {
        Ok(Barcode::Product { gtin, format }) => (gtin, format),
        other => panic!("{data}: expected a product, got {other:?}"),
    }
}

#[test]
fn ean13_published_examples() {
    assert_eq!(
        product_of("4006381333931"),
        ("04006381333931".into(), GtinFormat::Ean13)
    );
    assert_eq!(
        product_of("5901234123457"),
        ("05901234123457".into(), GtinFormat::Ean13)
    );
}

#[test]
fn ean13_with_aim_reports_identifier_and_symbology() {
    let parsed = p("]E04006381333931").unwrap();
    assert_eq!(parsed.aim.as_deref(), Some("]E0"));
    assert_eq!(parsed.symbology.as_deref(), Some("EAN-13"));
    assert_eq!(parsed.barcode.gtin(), Some("04006381333931"));
}

#[test]
fn upc_a_upc_e_and_ean8() {
    assert_eq!(
        product_of("036000291452"),
        ("00036000291452".into(), GtinFormat::UpcA)
    );
    assert_eq!(
        product_of("04252614"),
        ("00042100005264".into(), GtinFormat::UpcE)
    );
    assert_eq!(
        product_of("96385074"),
        ("00000096385074".into(), GtinFormat::Ean8)
    );
    let parsed = p("]E496385074").unwrap();
    assert_eq!(parsed.symbology.as_deref(), Some("EAN-8"));
}

#[test]
fn bad_check_digit_is_rejected_with_reason() {
    let err = p("4006381333932").unwrap_err();
    assert_eq!(
        err,
        BarcodeError::BadCheckDigit {
            what: "EAN-13".into(),
            expected: 1,
            found: 2
        }
    );
    assert!(err.to_string().contains("expected 1, found 2"));
}

#[test]
fn variable_measure_price_and_weight() {
    // 21 00042 01234 C: item 00042 priced 12.34 yuan.
    let body = "210004201234";
    let code = format!("{body}{}", gtin::check_digit(body).unwrap());
    match p(&code).unwrap().barcode {
        Barcode::VariableMeasure {
            item,
            price_fen,
            weight_g,
            raw,
        } => {
            assert_eq!(
                (item.as_str(), price_fen, weight_g),
                ("00042", Some(1234), None)
            );
            assert_eq!(raw, code);
        }
        other => panic!("{other:?}"),
    }
    let body = "220004200750";
    let code = format!("{body}{}", gtin::check_digit(body).unwrap());
    match p(&code).unwrap().barcode {
        Barcode::VariableMeasure {
            weight_g,
            price_fen,
            ..
        } => assert_eq!((weight_g, price_fen), (Some(750), None)),
        other => panic!("{other:?}"),
    }
    let wrong = (gtin::check_digit("210004201234").unwrap() + 1) % 10;
    assert!(matches!(
        p(&format!("210004201234{wrong}")),
        Err(BarcodeError::BadCheckDigit { .. })
    ));
}

#[test]
fn variable_measure_formats_are_configurable() {
    let none = VariableMeasureFormats::none();
    let body = "210004201234";
    let code = format!("{body}{}", gtin::check_digit(body).unwrap());
    assert!(matches!(
        parse(&code, &none).unwrap().barcode,
        Barcode::Product { .. }
    ));
}

#[test]
fn payment_code_is_told_from_products_by_shape() {
    let parsed = p("281234567887654321").unwrap();
    assert_eq!(
        parsed.barcode,
        Barcode::PaymentCode {
            wallet: "12345678".into(),
            code: "87654321".into()
        }
    );
    assert!(parsed.barcode.is_payment_code());
    assert!(p("291234567887654321").is_err());
    assert!(p("2812345678876543").is_err());
}

#[test]
fn gs1_128_published_element_string() {
    let parsed = p("]C101095011010209171719050810ABCD1234\u{1d}2110").unwrap();
    assert_eq!(parsed.symbology.as_deref(), Some("GS1-128"));
    match parsed.barcode {
        Barcode::Gs1 {
            gtin,
            lot,
            serial,
            expiry,
            elements,
            ..
        } => {
            assert_eq!(gtin.as_deref(), Some("09501101020917"));
            assert_eq!(lot.as_deref(), Some("ABCD1234"));
            assert_eq!(serial.as_deref(), Some("10"));
            assert_eq!(expiry.as_deref(), Some("2019-05-08"));
            assert_eq!(elements.len(), 4);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn gs1_with_leading_fnc1_text_separator_and_databar() {
    let a = p("\u{1d}01095011010209171719050810ABCD1234<GS>2110").unwrap();
    assert_eq!(a.barcode.gtin(), Some("09501101020917"));
    let b = p("]e0010950110102091731030012503922599").unwrap();
    match b.barcode {
        Barcode::Gs1 {
            net_weight_g,
            price_fen,
            ..
        } => assert_eq!((net_weight_g, price_fen), (Some(1250), Some(599))),
        other => panic!("{other:?}"),
    }
    assert_eq!(b.symbology.as_deref(), Some("GS1 DataBar"));
}

#[test]
fn gs1_errors_have_reasons() {
    assert!(matches!(
        p("]C19912345"),
        Err(BarcodeError::UnknownAi { .. })
    ));
    assert!(matches!(
        p("]C1010950110102"),
        Err(BarcodeError::Truncated { .. })
    ));
    assert!(matches!(
        p("]C10109501101020918"),
        Err(BarcodeError::BadCheckDigit { .. })
    ));
}

#[test]
fn digital_link_in_a_qr_code() {
    let parsed = p("]Q1https://trace.omo.example/01/09501101020917/10/ABCD%2F1234").unwrap();
    assert_eq!(parsed.symbology.as_deref(), Some("QR Code"));
    match parsed.barcode {
        Barcode::DigitalLink {
            gtin,
            lot,
            serial,
            uri,
        } => {
            assert_eq!(gtin, "09501101020917");
            assert_eq!(lot.as_deref(), Some("ABCD/1234"));
            assert_eq!(serial, None);
            assert!(uri.starts_with("https://"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn digital_link_under_a_gs1_qr_identifier() {
    let parsed = p("]Q3https://id.gs1.org/01/09501101020917/21/S1").unwrap();
    assert_eq!(parsed.symbology.as_deref(), Some("GS1 QR Code"));
    assert_eq!(parsed.barcode.gtin(), Some("09501101020917"));
}

#[test]
fn empty_and_junk_are_rejected() {
    assert_eq!(p(""), Err(BarcodeError::Empty));
    assert_eq!(p("]E0"), Err(BarcodeError::Empty));
    assert!(matches!(p("hello"), Err(BarcodeError::Unrecognised { .. })));
    assert!(matches!(p("12345"), Err(BarcodeError::BadLength { .. })));
}

#[test]
fn serializes_tagged_by_kind() {
    let json = serde_json::to_value(p("4006381333931").unwrap()).unwrap();
    assert_eq!(json["barcode"]["kind"], "product");
    assert_eq!(json["barcode"]["format"], "EAN-13");
    assert_eq!(json["barcode"]["gtin"], "04006381333931");
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(s in "\\PC*") {
        let _ = p(&s);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let s = String::from_utf8_lossy(&bytes);
        let _ = p(&s);
        let _ = p(&format!("]C1{s}"));
        let _ = p(&format!("https://x/01/{s}"));
    }

    #[test]
    fn gs1_like_digits_never_panic(s in "(\\]C1|\\]e0|\\(|)[0-9()A-Z\u{1d}]{0,60}") {
        let _ = p(&s);
    }

    #[test]
    fn valid_ean13_round_trips(body in "[013-9][0-9]{11}") {
        let code = format!("{body}{}", gtin::check_digit(&body).unwrap());
        let parsed = p(&code).unwrap();
        prop_assert_eq!(parsed.barcode.gtin().map(str::to_owned), Some(format!("0{code}")));
    }
}
