//! Transformation: input lots become output lots at the store (a fish cut into portions at the
//! fish counter, produce packed and labelled at the store's scale). One `TransformationEvent`,
//! `bizStep` `commissioning` (new lots come into being), `disposition` `active`; each output lot
//! points to every input lot, and that link is how a shopper's portion leads back to the farm.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{EPCIS_CONTEXT, digital_link, percent_encode, rfc3339, store_location};

/// A quantity of one lot of one product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LotQuantity {
    pub gtin: String,
    pub lot: String,
    pub quantity: Option<f64>,
    /// `KGM` for kilograms; none for pieces.
    pub uom: Option<String>,
}

impl LotQuantity {
    fn element(&self) -> Value {
        let mut element = json!({ "epcClass": digital_link(&self.gtin, Some(&self.lot)) });
        if let Some(quantity) = self.quantity {
            element["quantity"] = json!(quantity);
        }
        if let Some(uom) = &self.uom {
            element["uom"] = json!(uom);
        }
        element
    }
}

/// What was transformed, where and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transformation {
    pub inputs: Vec<LotQuantity>,
    pub outputs: Vec<LotQuantity>,
    pub at: DateTime<Utc>,
    /// The station within the store (`fish-counter`, `scale-3`).
    pub station: String,
    /// Links this event to others of the same transformation, if it spans several events.
    pub transformation_id: Option<String>,
}

/// The transformation event, without `eventID` (see [`super::with_event_hash`]).
pub fn transformation_event(t: &Transformation, store_id: &str) -> Value {
    let mut event = json!({
        "@context": [EPCIS_CONTEXT],
        "type": "TransformationEvent",
        "eventTime": rfc3339(t.at),
        "eventTimeZoneOffset": "+00:00",
        "inputQuantityList": t.inputs.iter().map(LotQuantity::element).collect::<Vec<_>>(),
        "outputQuantityList": t.outputs.iter().map(LotQuantity::element).collect::<Vec<_>>(),
        "bizStep": "commissioning",
        "disposition": "active",
        "readPoint": { "id": format!("{}:{}", store_location(store_id), percent_encode(&t.station)) },
        "bizLocation": { "id": store_location(store_id) },
    });
    if let Some(id) = &t.transformation_id {
        event["transformationID"] = json!(id);
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn cutting() -> Transformation {
        Transformation {
            inputs: vec![LotQuantity {
                gtin: "02000420000008".into(),
                lot: "NO-LOF-2611".into(),
                quantity: Some(5.2),
                uom: Some("KGM".into()),
            }],
            outputs: vec![
                LotQuantity {
                    gtin: "02000420000008".into(),
                    lot: "P-2611-1".into(),
                    quantity: Some(0.532),
                    uom: Some("KGM".into()),
                },
                LotQuantity {
                    gtin: "02000420000008".into(),
                    lot: "P-2611-2".into(),
                    quantity: Some(0.611),
                    uom: Some("KGM".into()),
                },
            ],
            at: "2026-11-23T02:00:00Z".parse().unwrap(),
            station: "fish-counter".into(),
            transformation_id: None,
        }
    }

    #[test]
    fn outputs_point_to_their_inputs() {
        let event = transformation_event(&cutting(), "SH-001");
        assert_eq!(event["type"], "TransformationEvent");
        assert_eq!(
            event["inputQuantityList"][0]["epcClass"],
            "https://id.gs1.org/01/02000420000008/10/NO-LOF-2611"
        );
        assert_eq!(event["outputQuantityList"].as_array().unwrap().len(), 2);
        assert_eq!(
            event["readPoint"]["id"],
            "urn:omo:store:SH-001:fish-counter"
        );
        assert!(event.get("action").is_none());
    }
}
