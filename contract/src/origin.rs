//! A lot's origin as EPCIS ILMD records it where the lot's life begins (receiving or
//! commissioning): farm (or vessel), its identifier, country, harvest date, certificates.
//!
//! [`origin_of`] reads any supplier's ILMD leniently: keys are matched by their local name,
//! whatever their prefix (`cbvmda:countryOfOrigin`, `omo:farm`, `{urn:x}farmName`); a value is a
//! string, a `#text`/`@value` object, or any other JSON value in its text form; `null` is none.
//! The edge writes the ILMD it reads here; the cloud's journey reads the same way.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where and how a lot was grown or caught.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Origin {
    /// The farm (or vessel, or fishery) by name, as a shopper reads it.
    pub farm: String,
    /// The farm's identifier, when the supplier gives one (a GLN Digital Link, a URN).
    pub farm_id: Option<String>,
    /// ISO 3166-1 alpha-2 country of origin.
    pub country: Option<String>,
    /// When it was harvested (or caught).
    pub harvest_date: Option<NaiveDate>,
    /// Certificates the lot carries (`ASC`, `GLOBALG.A.P. 4049928000000`, a URL ...).
    pub certificates: Vec<String>,
}

/// What an event's ILMD says about a lot's origin; `None` when it says nothing of it.
pub fn origin_of(event: &Value) -> Option<Origin> {
    let ilmd = event.get("ilmd")?.as_object()?;
    let local = |want: &[&str]| {
        ilmd.iter().find_map(|(k, v)| {
            let name = k.rsplit([':', '/', '#', '}']).next().unwrap_or(k);
            want.iter()
                .any(|w| name.eq_ignore_ascii_case(w))
                .then_some(v)
        })
    };
    let origin = Origin {
        farm: local(&["farm", "farmName", "producer", "vesselName"])
            .and_then(text)
            .unwrap_or_default(),
        farm_id: local(&["farmID", "farmIdentification"]).and_then(text),
        country: local(&["countryOfOrigin", "countryOfHarvest"]).and_then(text),
        harvest_date: local(&["harvestStartDate", "harvestDate", "catchStartDate"])
            .and_then(text)
            .and_then(|d| NaiveDate::parse_from_str(d.get(..10)?, "%Y-%m-%d").ok()),
        certificates: match local(&["certificate", "certificates", "certification"]) {
            Some(Value::Array(values)) => values.iter().filter_map(text).collect(),
            Some(v) => text(v).into_iter().collect(),
            None => Vec::new(),
        },
    };
    (origin != Origin::default()).then_some(origin)
}

/// An ILMD value as text: a string, a `#text`/`@value` object, any other value's JSON; not null.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o
            .get("#text")
            .or_else(|| o.get("@value"))
            .and_then(Value::as_str)
            .map(str::to_string),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn any_prefix_and_shape_of_ilmd_reads_the_same() {
        let event = json!({ "ilmd": {
            "omo:farm": "Fjord Farm", "{urn:x}farmID": "urn:farm:7",
            "cbvmda:countryOfOrigin": { "@value": "NO" },
            "example:harvestDate": "2026-11-20T06:00:00Z",
            "certification": ["ASC", 4049928000000u64],
        }});
        let origin = origin_of(&event).unwrap();
        assert_eq!(origin.farm, "Fjord Farm");
        assert_eq!(origin.farm_id.as_deref(), Some("urn:farm:7"));
        assert_eq!(origin.country.as_deref(), Some("NO"));
        assert_eq!(origin.harvest_date, NaiveDate::from_ymd_opt(2026, 11, 20));
        assert_eq!(origin.certificates, ["ASC", "4049928000000"]);
    }

    #[test]
    fn null_and_missing_ilmd_are_no_origin() {
        assert_eq!(origin_of(&json!({})), None);
        assert_eq!(origin_of(&json!({ "ilmd": { "omo:farm": null } })), None);
        assert_eq!(origin_of(&json!({ "ilmd": "farm" })), None);
    }
}
