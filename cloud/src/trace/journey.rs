//! A lot's journey, as a shopper reads it: where it came from (farm, country, harvest date,
//! certificates) and each step with its time and place, from the farm to the shelf. Pure: built
//! from the events the trace store returns, so the resolver page and `omo trace` tell the same
//! story.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::link::{self, LotKey};

/// Where a lot was grown or caught (from a receiving event's ILMD).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub farm: String,
    pub farm_id: Option<String>,
    pub country: Option<String>,
    pub harvest_date: Option<NaiveDate>,
    pub certificates: Vec<String>,
    /// The lot this origin was recorded for (an input of the lot asked about, perhaps).
    pub lot: Option<String>,
}

/// One step of the journey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// When, as the event recorded it (RFC 3339).
    pub time: String,
    /// What happened, in words (`Received`, `Cut into portions`, `Sold`).
    pub what: String,
    /// Where, in words (`store SH-001, fish-counter`).
    pub place: String,
    /// Details in words (quantities, lots, temperatures).
    pub details: Vec<String>,
    /// The EPCIS `bizStep` and `eventID`, for readers who want the event itself.
    pub biz_step: String,
    pub event_id: String,
}

/// Everything a page or `omo trace` shows about a lot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journey {
    pub gtin: String,
    pub lot: String,
    pub origin: Option<Origin>,
    pub steps: Vec<Step>,
}

impl Journey {
    /// The journey of `lot` from its events and its input lots' events (any order).
    pub fn from_events(lot: &LotKey, events: &[Value]) -> Journey {
        let mut sorted: Vec<&Value> = events.iter().collect();
        sorted.sort_by_key(|e| {
            (
                time_of(e),
                e.get("eventID").and_then(Value::as_str).map(str::to_string),
            )
        });
        let origin = sorted.iter().find_map(|e| lot_origin(e));
        let mut steps = Vec::new();
        if let Some(origin) = &origin
            && let Some(date) = origin.harvest_date
        {
            let mut place = origin.farm.clone();
            if let Some(country) = &origin.country {
                place = if place.is_empty() {
                    country.clone()
                } else {
                    format!("{place}, {country}")
                };
            }
            steps.push(Step {
                time: date.format("%Y-%m-%d").to_string(),
                what: "Harvested".into(),
                place,
                details: origin
                    .certificates
                    .iter()
                    .map(|c| format!("certified: {c}"))
                    .collect(),
                biz_step: String::new(),
                event_id: String::new(),
            });
        }
        steps.extend(sorted.iter().map(|e| step_of(e, lot)));
        Journey {
            gtin: lot.gtin.clone(),
            lot: lot.lot.clone(),
            origin,
            steps,
        }
    }
}

fn time_of(event: &Value) -> Option<DateTime<FixedOffset>> {
    event
        .get("eventTime")
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
}

fn str_at<'a>(event: &'a Value, pointer: &str) -> &'a str {
    event.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// A bare CBV word of a value that may be a Web URI or URN (`https://ref.gs1.org/cbv/BizStep-receiving` → `receiving`).
fn cbv_word(value: &str) -> &str {
    value
        .rsplit(['-', ':', '/'])
        .next()
        .filter(|_| value.contains("cbv"))
        .unwrap_or(value)
}

fn step_of(event: &Value, lot: &LotKey) -> Step {
    let kind = str_at(event, "/type");
    let biz_step = cbv_word(str_at(event, "/bizStep")).to_string();
    let what = match (kind, biz_step.as_str()) {
        ("TransformationEvent", _) => {
            let outputs = event
                .get("outputQuantityList")
                .and_then(Value::as_array)
                .map_or(0, Vec::len)
                + event
                    .get("outputEPCList")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
            if outputs > 1 {
                "Cut into portions".to_string()
            } else {
                "Packed and labelled".to_string()
            }
        }
        (_, "receiving") => "Received".into(),
        (_, "retail_selling") => "Sold".into(),
        (_, "shipping") => "Shipped".into(),
        (_, "commissioning") => "Packed".into(),
        (_, "") => kind.to_string(),
        (_, other) => {
            let mut words = other.replace('_', " ");
            if let Some(first) = words.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            words
        }
    };
    let mut details = Vec::new();
    let describe = |list: &str, prefix: &str, details: &mut Vec<String>| {
        for item in event
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(key) = item
                .get("epcClass")
                .and_then(Value::as_str)
                .and_then(link::parse)
            else {
                continue;
            };
            let quantity = match (
                item.get("quantity").and_then(Value::as_f64),
                item.get("uom").and_then(Value::as_str),
            ) {
                (Some(q), Some("KGM")) => format!("{q} kg of "),
                (Some(q), Some(uom)) => format!("{q} {uom} of "),
                (Some(q), None) => format!("{q} × "),
                _ => String::new(),
            };
            let mark = if key == *lot { " (this lot)" } else { "" };
            let name = if key.lot.is_empty() {
                format!("GTIN {}", key.gtin)
            } else {
                format!("lot {}", key.lot)
            };
            details.push(format!("{prefix}{quantity}{name}{mark}"));
        }
    };
    if kind == "TransformationEvent" {
        describe("inputQuantityList", "from ", &mut details);
        describe("outputQuantityList", "into ", &mut details);
    } else if biz_step != "retail_selling" {
        describe("quantityList", "", &mut details);
    }
    let temperatures: Vec<f64> = event
        .get("sensorElementList")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|e| {
            e.get("sensorReport")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .filter(|r| {
            r.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.ends_with("Temperature"))
        })
        .filter_map(|r| r.get("value").and_then(Value::as_f64))
        .collect();
    if !temperatures.is_empty() {
        let min = temperatures.iter().copied().fold(f64::INFINITY, f64::min);
        let max = temperatures
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        details.push(format!(
            "cold chain {min} to {max} °C ({} readings)",
            temperatures.len()
        ));
    }
    for source in event
        .get("sourceList")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(party) = source.get("source").and_then(Value::as_str) {
            details.push(format!("from {}", place_words(party)));
        }
    }
    let place = [
        str_at(event, "/readPoint/id"),
        str_at(event, "/bizLocation/id"),
    ]
    .into_iter()
    .find(|p| !p.is_empty())
    .map(place_words)
    .unwrap_or_default();
    Step {
        time: str_at(event, "/eventTime").to_string(),
        what,
        place,
        details,
        biz_step,
        event_id: str_at(event, "/eventID").to_string(),
    }
}

/// Omo's place and party URNs in words (`urn:omo:store:SH-1:lane:2` → `store SH-1, lane 2`).
pub fn place_words(id: &str) -> String {
    if let Some(rest) = id.strip_prefix("urn:omo:store:") {
        let parts: Vec<String> = rest.split(':').map(link::decode).collect();
        let mut words = format!("store {}", parts[0]);
        match &parts[1..] {
            [] => {}
            [kind, n] if kind == "lane" => words.push_str(&format!(", lane {n}")),
            rest => words.push_str(&format!(", {}", rest.join(" "))),
        }
        return words;
    }
    if let Some(name) = id.strip_prefix("urn:omo:party:") {
        return link::decode(name);
    }
    id.to_string()
}

/// The origin a receiving (or commissioning) event records in its ILMD, as
/// [`omo_contract::origin::origin_of`] reads it (the edge reads it the same way), with the lot it
/// was recorded for. A journey shows an origin only with a farm, a country or a harvest date.
fn lot_origin(event: &Value) -> Option<Origin> {
    let read = omo_contract::origin::origin_of(event)?;
    if read.farm.is_empty() && read.country.is_none() && read.harvest_date.is_none() {
        return None;
    }
    Some(Origin {
        farm: read.farm,
        farm_id: read.farm_id,
        country: read.country,
        harvest_date: read.harvest_date,
        certificates: read.certificates,
        lot: super::store::lots_of(event)
            .into_iter()
            .map(|(_, k)| k.lot)
            .find(|l| !l.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_portion_tells_its_way_from_the_farm() {
        let events = vec![
            json!({ "type": "ObjectEvent", "eventID": "s", "eventTime": "2026-11-23T03:00:00.000Z",
                    "bizStep": "retail_selling", "readPoint": { "id": "urn:omo:store:SH-T:lane:1" },
                    "quantityList": [{ "epcClass": "https://id.gs1.org/01/02000420000008/10/P-1" }] }),
            json!({ "type": "ObjectEvent", "eventID": "r", "eventTime": "2026-11-23T01:00:00.000Z",
                    "bizStep": "receiving", "readPoint": { "id": "urn:omo:store:SH-T:receiving" },
                    "quantityList": [{ "epcClass": "https://id.gs1.org/01/02000420000008/10/FISH-1", "quantity": 5.2, "uom": "KGM" }],
                    "sensorElementList": [{ "sensorReport": [{ "type": "Temperature", "value": 1.5 }, { "type": "Temperature", "value": 2.5 }] }],
                    "ilmd": { "omo:farm": "Lofoten Sjømat", "cbvmda:countryOfOrigin": "NO",
                              "cbvmda:harvestStartDate": "2026-11-20", "omo:certificate": ["ASC"] } }),
            json!({ "type": "TransformationEvent", "eventID": "t", "eventTime": "2026-11-23T02:00:00.000Z",
                    "bizStep": "commissioning", "readPoint": { "id": "urn:omo:store:SH-T:fish-counter" },
                    "inputQuantityList": [{ "epcClass": "https://id.gs1.org/01/02000420000008/10/FISH-1" }],
                    "outputQuantityList": [{ "epcClass": "https://id.gs1.org/01/02000420000008/10/P-1" },
                                           { "epcClass": "https://id.gs1.org/01/02000420000008/10/P-2" }] }),
        ];
        let lot = LotKey {
            gtin: "02000420000008".into(),
            lot: "P-1".into(),
        };
        let journey = Journey::from_events(&lot, &events);
        let whats: Vec<&str> = journey.steps.iter().map(|s| s.what.as_str()).collect();
        assert_eq!(
            whats,
            ["Harvested", "Received", "Cut into portions", "Sold"]
        );
        assert_eq!(journey.steps[0].place, "Lofoten Sjømat, NO");
        assert_eq!(journey.steps[2].place, "store SH-T, fish-counter");
        assert_eq!(journey.steps[3].place, "store SH-T, lane 1");
        assert!(
            journey.steps[1]
                .details
                .iter()
                .any(|d| d.contains("1.5 to 2.5 °C")),
            "{:?}",
            journey.steps[1]
        );
        assert!(
            journey.steps[2]
                .details
                .contains(&"into lot P-1 (this lot)".to_string())
        );
        let origin = journey.origin.unwrap();
        assert_eq!(origin.lot.as_deref(), Some("FISH-1"));
        assert_eq!(origin.certificates, ["ASC"]);
    }
}
