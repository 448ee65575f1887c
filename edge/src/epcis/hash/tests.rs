//! The event hash against the reference implementation's vector, and its normalisations.

use super::values::time;
use super::*;
use serde_json::json;

/// The reference implementation's `tests/examples/epcisDocWithSingleEvent.jsonld` (its one
/// event), with its published pre-hash string and hash.
fn single_event() -> Value {
    json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                     { "gs1": "https://gs1.org/voc/" }],
        "type": "ObjectEvent",
        "action": "OBSERVE",
        "bizStep": "shipping",
        "disposition": "in_transit",
        "epcList": ["urn:epc:id:sgtin:0614141.107346.2017", "urn:epc:id:sgtin:0614141.107346.2018"],
        "eventTime": "2022-02-16T20:33:31.116000-06:00",
        "eventTimeZoneOffset": "-06:00",
        "readPoint": { "id": "urn:epc:id:sgln:0614141.07346.1234" },
        "bizTransactionList": [
            { "type": "po", "bizTransaction": "http://transaction.acme.com/po/12345678" }
        ]
    })
}

const SINGLE_EVENT_PREHASH: &str = "eventType=ObjectEventeventTime=2022-02-17T02:33:31.116ZeventTimeZoneOffset=-06:00epcListepc=https://id.gs1.org/01/10614141073464/21/2017epc=https://id.gs1.org/01/10614141073464/21/2018action=OBSERVEbizStep=https://ref.gs1.org/cbv/BizStep-shippingdisposition=https://ref.gs1.org/cbv/Disp-in_transitreadPointid=https://id.gs1.org/414/0614141073467/254/1234bizTransactionListbizTransaction=http://transaction.acme.com/po/12345678type=https://ref.gs1.org/cbv/BTT-po";

#[test]
fn the_reference_single_event_gives_the_published_prehash_and_hash() {
    assert_eq!(prehash(&single_event()).unwrap(), SINGLE_EVENT_PREHASH);
    assert_eq!(
        event_hash(&single_event()).unwrap(),
        "ni:///sha-256;3e0f2437f4cb5e8a1b832b769c0eed1bf3e1421f14061132e9800ded03f10182?ver=CBV2.0"
    );
}

#[test]
fn order_time_zone_ids_and_record_time_do_not_change_the_hash() {
    let a = single_event();
    let mut b = json!({
        "type": "ObjectEvent",
        "eventID": "urn:uuid:6f1c3c1e-0000-4000-8000-000000000000",
        "recordTime": "2030-01-01T00:00:00Z",
        "eventTime": "2022-02-17T02:33:31.116Z",
        "eventTimeZoneOffset": "-06:00",
        "epcList": ["https://id.gs1.org/01/10614141073464/21/2018",
                    "https://example.com/shop/01/10614141073464/21/2017?linkType=gs1:pip"],
        "action": "OBSERVE",
        "bizStep": "urn:epcglobal:cbv:bizstep:shipping",
        "disposition": "https://ref.gs1.org/cbv/Disp-in_transit",
        "readPoint": { "id": "https://id.gs1.org/414/0614141073467/254/1234" },
        "bizTransactionList": [
            { "bizTransaction": "http://transaction.acme.com/po/12345678", "type": "urn:epcglobal:cbv:btt:po" }
        ]
    });
    assert_eq!(event_hash(&a).unwrap(), event_hash(&b).unwrap());
    b["disposition"] = json!("in_progress");
    assert_ne!(event_hash(&a).unwrap(), event_hash(&b).unwrap());
}

#[test]
fn quantities_are_sorted_and_numbers_lose_trailing_zeros() {
    let event = json!({
        "type": "ObjectEvent",
        "eventTime": "2019-10-21T12:58:56Z",
        "eventTimeZoneOffset": "+02:00",
        "quantityList": [
            { "epcClass": "urn:epc:class:lgtin:4054739.099914.20160711", "quantity": 600.0, "uom": "KGM" },
            { "epcClass": "urn:epc:class:lgtin:4012345.099988.2014-02-10", "quantity": 2030, "uom": "KGM" }
        ],
        "action": "ADD",
        "ilmd": { "cbvmda:bestBeforeDate": "2019-10-21" }
    });
    assert_eq!(
        prehash(&event).unwrap(),
        "eventType=ObjectEventeventTime=2019-10-21T12:58:56.000ZeventTimeZoneOffset=+02:00\
         quantityListquantityElementepcClass=https://id.gs1.org/01/04012345999884/10/2014-02-10quantity=2030uom=KGM\
         quantityElementepcClass=https://id.gs1.org/01/04054739999148/10/20160711quantity=600uom=KGM\
         action=ADDilmd{urn:epcglobal:cbv:mda}bestBeforeDate=2019-10-21"
    );
}

#[test]
fn sensor_reports_are_normalised_and_sorted() {
    let event = json!({
        "type": "ObjectEvent",
        "eventTime": "2019-04-02T15:00:00.000+01:00",
        "eventTimeZoneOffset": "+01:00",
        "action": "OBSERVE",
        "sensorElementList": [{
            "sensorMetadata": { "time": "2019-04-02T14:05:00.000+01:00", "deviceID": "urn:epc:id:giai:4000001.111" },
            "sensorReport": [
                { "type": "Temperature", "value": 26.0, "uom": "CEL" },
                { "type": "gs1:AbsoluteHumidity", "value": 12.1, "uom": "A93" }
            ]
        }]
    });
    assert_eq!(
        prehash(&event).unwrap(),
        "eventType=ObjectEventeventTime=2019-04-02T14:00:00.000ZeventTimeZoneOffset=+01:00action=OBSERVE\
         sensorElementListsensorElementsensorMetadatatime=2019-04-02T13:05:00.000ZdeviceID=https://id.gs1.org/8004/4000001111\
         sensorReporttype=https://gs1.org/voc/AbsoluteHumidityvalue=12.1uom=A93\
         sensorReporttype=https://gs1.org/voc/Temperaturevalue=26uom=CEL"
    );
}

#[test]
fn milliseconds_are_rounded() {
    assert_eq!(
        time("t", &json!("2020-01-01T00:00:00.1235+00:00")).unwrap(),
        "2020-01-01T00:00:00.124Z"
    );
    assert_eq!(
        time("t", &json!("2020-01-01T00:00:00Z")).unwrap(),
        "2020-01-01T00:00:00.000Z"
    );
    assert!(prehash(&json!({"type": "ObjectEvent", "eventTime": "yesterday"})).is_err());
}

#[test]
fn epc_urns_become_digital_links() {
    assert_eq!(
        epc_urn_to_digital_link("urn:epc:id:sscc:4012345.0000000333").unwrap(),
        "https://id.gs1.org/00/040123450000003338"
    );
    assert_eq!(
        epc_urn_to_digital_link("urn:epc:id:sgln:4012345.00005.0").unwrap(),
        "https://id.gs1.org/414/4012345000054"
    );
    assert_eq!(
        epc_urn_to_digital_link("urn:epc:id:pgln:4012345.00000").unwrap(),
        "https://id.gs1.org/417/4012345000009"
    );
    assert_eq!(epc_urn_to_digital_link("urn:epc:id:grai:1.2.3"), None);
}
