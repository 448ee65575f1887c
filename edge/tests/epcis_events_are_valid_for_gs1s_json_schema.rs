//! Every kind of EPCIS event the edge produces, with its hash-based eventID, is valid for GS1's
//! EPCIS 2.0 JSON schema (a copy in `tests/data/`, see its README), alone and in a document.

use omo_edge::epcis::{
    self, LotQuantity, Origin, Place, Reading, Receipt, Transformation, document,
};
use serde_json::{Value, json};

/// GS1's schema; `formats` also checks `"format"` keywords (`uri`, `date-time`), which Omo's
/// events pass but GS1's own examples do not all pass (blank-node ids such as `_:document1` are
/// not URIs), so those are checked for structure only.
fn validator(formats: bool) -> jsonschema::Validator {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/EPCIS-JSON-Schema.json"
    );
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::draft7::options()
        .should_validate_formats(formats)
        .build(&schema)
        .expect("GS1's schema compiles")
}

fn assert_valid(what: &str, instance: &Value) {
    assert_valid_with(what, instance, true)
}

fn assert_valid_with(what: &str, instance: &Value, formats: bool) {
    let validator = validator(formats);
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} is not valid EPCIS 2.0:\n{}\n{instance:#}",
        errors.join("\n")
    );
}

fn receipt() -> Receipt {
    Receipt {
        gtin: "02000420000008".into(),
        lot: "NO-LOF-2611".into(),
        quantity: 42.5,
        uom: Some("KGM".into()),
        received_at: "2026-11-23T01:30:00Z".parse().unwrap(),
        origin: Origin {
            farm: "Lofoten Sjømat".into(),
            farm_id: Some("https://id.gs1.org/414/7071234000008".into()),
            country: Some("NO".into()),
            harvest_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 20),
            certificates: vec!["ASC".into(), "GLOBALG.A.P.".into()],
        },
        temperatures: vec![
            Reading {
                at: "2026-11-21T06:00:00Z".parse().unwrap(),
                celsius: 1.5,
            },
            Reading {
                at: "2026-11-22T06:00:00Z".parse().unwrap(),
                celsius: 2.0,
            },
        ],
        supplier: Some("Nordic Fresh AS".into()),
        despatch_advice: Some("DA-77".into()),
    }
}

fn cutting() -> Transformation {
    Transformation {
        inputs: vec![LotQuantity {
            gtin: "02000420000008".into(),
            lot: "NO-LOF-2611".into(),
            quantity: Some(5.2),
            uom: Some("KGM".into()),
        }],
        outputs: vec![LotQuantity {
            gtin: "02000420000008".into(),
            lot: "P-2611-1".into(),
            quantity: None,
            uom: None,
        }],
        at: "2026-11-23T02:00:00Z".parse().unwrap(),
        station: "fish-counter".into(),
        transformation_id: Some("urn:omo:transformation:SH-001:1".into()),
    }
}

fn sale_event() -> Value {
    let sale: omo_edge::lane::Sale = serde_json::from_value(json!({
        "order_id": "o-1", "session_id": "s", "lane_id": "1", "payment_id": "p",
        "wallet_id": "12345678", "total_fen": 8406,
        "basket": { "items": [
            { "line": 1, "gtin": "06901234567892", "name": "Milk", "quantity": 2, "weight_g": null,
              "unit_price_fen": 50, "price_fen": 100, "lot": null },
            { "line": 2, "gtin": "02000420000008", "name": "Salmon", "quantity": 1, "weight_g": 532,
              "unit_price_fen": 15800, "price_fen": 8406, "lot": "P-2611-1" }
        ] },
        "paid_at": "2026-11-23T03:00:00Z"
    }))
    .expect("a sale as the edge stores it");
    let place = Place {
        store_id: "SH-001".into(),
        lane_id: "1".into(),
    };
    epcis::with_event_hash(epcis::sale_event(&sale, &place, ""))
}

#[test]
fn a_receiving_event_is_valid() {
    let event = epcis::with_event_hash(epcis::receiving_event(&receipt(), "SH-001"));
    assert!(
        event["eventID"]
            .as_str()
            .unwrap()
            .starts_with("ni:///sha-256;")
    );
    assert_valid("the receiving event", &event);
}

#[test]
fn a_transformation_event_is_valid() {
    let event = epcis::with_event_hash(epcis::transformation_event(&cutting(), "SH-001"));
    assert_valid("the transformation event", &event);
}

#[test]
fn a_sale_event_with_its_hash_id_is_valid() {
    let event = sale_event();
    assert!(event["eventID"].as_str().unwrap().ends_with("?ver=CBV2.0"));
    assert_valid("the sale event", &event);
}

#[test]
fn the_journey_as_a_query_document_is_valid() {
    let events = vec![
        epcis::with_event_hash(epcis::receiving_event(&receipt(), "SH-001")),
        epcis::with_event_hash(epcis::transformation_event(&cutting(), "SH-001")),
        sale_event(),
    ];
    let document = document::query_document("journey", events, chrono::Utc::now());
    assert_valid("the query document", &document);
}

#[test]
fn gs1s_own_examples_are_valid_and_hash() {
    for name in [
        "Example_9.6.1-ObjectEventWithDigitalLink.jsonld",
        "Example_9.6.4-TransformationEventWithDigitalLink.jsonld",
    ] {
        let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
        let document: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_valid_with(name, &document, false);
        for event in document::events_of(&document).unwrap() {
            assert!(
                epcis::event_hash(&event)
                    .unwrap()
                    .starts_with("ni:///sha-256;")
            );
        }
    }
}
