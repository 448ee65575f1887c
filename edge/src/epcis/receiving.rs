//! Receiving: a supplier's lot arrives at the store. One `ObjectEvent`, `action` ADD (the lot
//! starts its life in this store's records), `bizStep` `receiving`, `disposition`
//! `in_progress`, the lot as a class with its quantity, its origin as ILMD (farm, country,
//! harvest date, certificates: set once, where a lot's life begins, as EPCIS intends ILMD) and the
//! cold chain on the way as one sensor element of temperature reports.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::{context_with_prefixes, digital_link, percent_encode, rfc3339, store_location};

pub use omo_contract::origin::{Origin, origin_of};

/// One temperature reading of the cold chain.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    pub at: DateTime<Utc>,
    pub celsius: f64,
}

/// A lot as received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    pub gtin: String,
    pub lot: String,
    /// How much arrived: pieces, or `uom` units (`KGM` for kilograms).
    pub quantity: f64,
    pub uom: Option<String>,
    pub received_at: DateTime<Utc>,
    pub origin: Origin,
    pub temperatures: Vec<Reading>,
    /// The supplier (owning party before the store), a URI or a name.
    pub supplier: Option<String>,
    /// The despatch advice (delivery note) number, if any.
    pub despatch_advice: Option<String>,
}

/// The receiving event of `receipt` at `store_id`, without `eventID` (see
/// [`super::with_event_hash`]).
pub fn receiving_event(receipt: &Receipt, store_id: &str) -> Value {
    let mut quantity = json!({
        "epcClass": digital_link(&receipt.gtin, Some(&receipt.lot)),
        "quantity": receipt.quantity,
    });
    if let Some(uom) = &receipt.uom {
        quantity["uom"] = json!(uom);
    }
    let mut event = json!({
        "@context": context_with_prefixes(),
        "type": "ObjectEvent",
        "eventTime": rfc3339(receipt.received_at),
        "eventTimeZoneOffset": "+00:00",
        "epcList": [],
        "quantityList": [quantity],
        "action": "ADD",
        "bizStep": "receiving",
        "disposition": "in_progress",
        "readPoint": { "id": format!("{}:receiving", store_location(store_id)) },
        "bizLocation": { "id": store_location(store_id) },
        "ilmd": ilmd(&receipt.origin),
    });
    if let Some(supplier) = &receipt.supplier {
        event["sourceList"] = json!([{ "type": "owning_party", "source": party(supplier) }]);
        event["destinationList"] =
            json!([{ "type": "owning_party", "destination": store_location(store_id) }]);
    }
    if let Some(advice) = &receipt.despatch_advice {
        event["bizTransactionList"] = json!([{
            "type": "desadv",
            "bizTransaction": format!("urn:omo:desadv:{}", percent_encode(advice)),
        }]);
    }
    if !receipt.temperatures.is_empty() {
        let reports: Vec<Value> = receipt
            .temperatures
            .iter()
            .map(|r| json!({ "type": "Temperature", "time": rfc3339(r.at), "value": r.celsius, "uom": "CEL" }))
            .collect();
        let first = receipt.temperatures.iter().map(|r| r.at).min();
        let last = receipt.temperatures.iter().map(|r| r.at).max();
        event["sensorElementList"] = json!([{
            "sensorMetadata": {
                "startTime": first.map(rfc3339),
                "endTime": last.map(rfc3339),
            },
            "sensorReport": reports,
        }]);
    }
    event
}

/// The origin as ILMD: CBV master data attributes where CBV has one, Omo's own otherwise.
fn ilmd(origin: &Origin) -> Value {
    let mut ilmd = Map::new();
    if !origin.farm.is_empty() {
        ilmd.insert("omo:farm".into(), json!(origin.farm));
    }
    if let Some(id) = &origin.farm_id {
        ilmd.insert("omo:farmID".into(), json!(id));
    }
    if let Some(country) = &origin.country {
        ilmd.insert("cbvmda:countryOfOrigin".into(), json!(country));
    }
    if let Some(date) = origin.harvest_date {
        ilmd.insert(
            "cbvmda:harvestStartDate".into(),
            json!(date.format("%Y-%m-%d").to_string()),
        );
    }
    if !origin.certificates.is_empty() {
        ilmd.insert("omo:certificate".into(), json!(origin.certificates));
    }
    Value::Object(ilmd)
}

/// A party as a URI: kept if it is one, else `urn:omo:party:{name}`.
fn party(name: &str) -> String {
    if name.contains(':') && !name.contains(' ') {
        name.to_string()
    } else {
        format!("urn:omo:party:{}", percent_encode(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    pub(crate) fn salmon() -> Receipt {
        Receipt {
            gtin: "02000420000008".into(),
            lot: "NO-LOF-2611".into(),
            quantity: 42.5,
            uom: Some("KGM".into()),
            received_at: "2026-11-23T01:30:00Z".parse().unwrap(),
            origin: Origin {
                farm: "Lofoten Sjømat".into(),
                farm_id: None,
                country: Some("NO".into()),
                harvest_date: NaiveDate::from_ymd_opt(2026, 11, 20),
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

    #[test]
    fn a_receipt_is_an_add_event_with_its_origin_and_cold_chain() {
        let event = receiving_event(&salmon(), "SH-001");
        assert_eq!(event["action"], "ADD");
        assert_eq!(event["bizStep"], "receiving");
        assert_eq!(
            event["quantityList"][0]["epcClass"],
            "https://id.gs1.org/01/02000420000008/10/NO-LOF-2611"
        );
        assert_eq!(event["ilmd"]["omo:farm"], "Lofoten Sjømat");
        assert_eq!(event["ilmd"]["cbvmda:harvestStartDate"], "2026-11-20");
        let reports = &event["sensorElementList"][0]["sensorReport"];
        assert_eq!(reports[1]["value"], 2.0);
        assert_eq!(reports[1]["uom"], "CEL");
        assert_eq!(
            event["sourceList"][0]["source"],
            "urn:omo:party:Nordic%20Fresh%20AS"
        );
        assert_eq!(origin_of(&event).unwrap(), salmon().origin);
    }

    #[test]
    fn the_same_receipt_hashes_to_the_same_id() {
        let a = super::super::with_event_hash(receiving_event(&salmon(), "SH-001"));
        let b = super::super::with_event_hash(receiving_event(&salmon(), "SH-001"));
        assert_eq!(a["eventID"], b["eventID"]);
        let mut other = salmon();
        other.temperatures[0].celsius = 9.0;
        let c = super::super::with_event_hash(receiving_event(&other, "SH-001"));
        assert_ne!(a["eventID"], c["eventID"]);
    }
}
