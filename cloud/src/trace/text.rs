//! A lot's journey as plain text, what `omo trace URL` prints: the same [`Journey`] the
//! resolver's page ([`super::page`]) shows, rendered for a terminal.

use serde_json::Value;

use super::journey::{Journey, place_words};
use super::link::LotKey;

/// The journey of `key` told by an EPCIS query document (the resolver's JSON answer).
pub fn query_text(key: &LotKey, document: &Value) -> String {
    let events: Vec<Value> = document
        .pointer("/epcisBody/queryResults/resultsBody/eventList")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    journey_text(key, &events)
}

/// The journey of `key` as plain text (what `omo trace URL` prints).
pub fn journey_text(key: &LotKey, events: &[Value]) -> String {
    let journey = Journey::from_events(key, events);
    let mut out = format!("GTIN {}", journey.gtin);
    if !journey.lot.is_empty() {
        out.push_str(&format!(", lot {}", journey.lot));
    }
    out.push('\n');
    if let Some(origin) = &journey.origin {
        out.push_str(&format!("origin: {}", origin.farm));
        if let Some(country) = &origin.country {
            out.push_str(&format!(", {country}"));
        }
        if let Some(date) = origin.harvest_date {
            out.push_str(&format!(", harvested {date}"));
        }
        if !origin.certificates.is_empty() {
            out.push_str(&format!(", certified {}", origin.certificates.join(", ")));
        }
        out.push('\n');
    }
    if journey.steps.is_empty() {
        out.push_str("no events recorded\n");
    }
    for step in &journey.steps {
        out.push_str(&format!(
            "{}  {:<18} {}\n",
            step.time,
            step.what,
            place_words(&step.place)
        ));
        for detail in &step.details {
            out.push_str(&format!(
                "{:width$}    {detail}\n",
                "",
                width = step.time.len()
            ));
        }
    }
    out
}
