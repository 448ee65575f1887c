//! The CBV 2.0 "EPCIS event hash ID": a fingerprint of an event's content that does not depend
//! on how it was written (JSON or XML, field order, list order, time zone, URN or Digital Link).
//!
//! The algorithm, as the GS1 Core Business Vocabulary 2.0 (section "EPCIS Event Hash ID") and its
//! reference implementation describe it (github.com/RalphTro/epcis-event-hash-generator,
//! README "Algorithm" rules 1-24 and "Canonical property order"):
//!
//! 1. Build a *pre-hash string*: `eventType=...`, then the event's fields in the canonical property
//!    order (`eventTime`, `eventTimeZoneOffset`, `epcList`, `parentID`, `inputEPCList`,
//!    `childEPCs`, `quantityList`, `childQuantityList`, `inputQuantityList`, `outputEPCList`,
//!    `outputQuantityList`, `action`, `transformationID`, `bizStep`, `disposition`,
//!    `persistentDisposition`, `readPoint`, `bizLocation`, `bizTransactionList`, `sourceList`,
//!    `destinationList`, `sensorElementList`, `ilmd`, then user extensions), each value as
//!    `key=value`, parents as their bare key, no separators. Absent or empty fields add nothing.
//! 2. Normalise values: timestamps to UTC with milliseconds and `Z`; numbers without trailing
//!    zeros; bare CBV words (`receiving`) to their Web URIs (`https://ref.gs1.org/cbv/BizStep-receiving`),
//!    CBV URNs likewise; CURIEs (`gs1:`, `cbv:`, and prefixes the event's `@context` defines)
//!    expanded; EPC URNs (`urn:epc:id:sgtin:...`) to canonical GS1 Digital Link URIs; Digital Link
//!    URIs constrained to `https://id.gs1.org`, without query string.
//! 3. Sort the members of each list (and the parts of a list member) by their UTF-8 bytes; a
//!    type attribute (`bizTransaction` type, source/destination type) follows its value.
//! 4. ILMD and extension elements are written `{namespace}localName=value`, sorted.
//! 5. SHA-256 over the UTF-8 pre-hash string, as `ni:///sha-256;<lowercase hex>?ver=CBV2.0`
//!    (RFC 6920 named information).
//!
//! Tested against the reference implementation's published vector `epcisDocWithSingleEvent`
//! (pre-hash string and `ni:///sha-256;3e0f2437…0182?ver=CBV2.0`).
//!
//! What this module leaves out (documented, not needed by Omo's own events): `certificationInfo`
//! and `errorDeclaration` are not hashed (the reference implementation drops the former too), EPC
//! URNs other than sgtin, sscc, sgln, lgtin, pgln and giai stay as they are, and numeric-looking
//! strings are kept as strings (only JSON numbers are normalised).

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Timelike, Utc};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub use super::digital_link::{constrain_digital_link, epc_urn_to_digital_link};

/// The CBV version this module implements, as it appears in the hash URI.
pub const CBV_VERSION: &str = "CBV2.0";

/// Why an event cannot be hashed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HashError {
    #[error("an EPCIS event must be a JSON object")]
    NotAnObject,
    #[error("the event has no `type`")]
    NoType,
    #[error("`{field}` is not an RFC 3339 timestamp: {value}")]
    Time { field: String, value: String },
}

/// The event hash ID of `event` (EPCIS 2.0 JSON-LD): `ni:///sha-256;<hex>?ver=CBV2.0`.
pub fn event_hash(event: &Value) -> Result<String, HashError> {
    Ok(hash_prehash(&prehash(event)?))
}

/// The `ni:` URI of a pre-hash string.
pub fn hash_prehash(prehash: &str) -> String {
    let digest = Sha256::digest(prehash.as_bytes());
    format!(
        "ni:///sha-256;{}?ver={CBV_VERSION}",
        data_encoding::HEXLOWER.encode(&digest)
    )
}

/// The canonical pre-hash string of `event`.
pub fn prehash(event: &Value) -> Result<String, HashError> {
    let event = event.as_object().ok_or(HashError::NotAnObject)?;
    let prefixes = Prefixes::from_context(event.get("@context"));
    let kind = event
        .get("type")
        .and_then(Value::as_str)
        .ok_or(HashError::NoType)?;
    let mut out = format!("eventType={kind}");
    for &(key, shape) in ORDER {
        let Some(value) = event.get(key) else {
            continue;
        };
        out.push_str(&field(key, shape, value, &prefixes)?);
    }
    let mut extensions = Vec::new();
    for (key, value) in event {
        if IGNORED.contains(&key.as_str()) || ORDER.iter().any(|(k, _)| k == key) {
            continue;
        }
        extensions.extend(generic(key, value, &prefixes));
    }
    extensions.sort();
    out.push_str(&extensions.concat());
    Ok(out)
}

/// How a standard field is written.
#[derive(Clone, Copy)]
enum Shape {
    Time,
    Plain,
    Id,
    Vocab(&'static str),
    Epcs,
    Quantities,
    Persistent,
    Place,
    Typed(&'static str),
    Sensors,
    Ilmd,
}

/// The canonical property order (after `eventType`).
const ORDER: &[(&str, Shape)] = &[
    ("eventTime", Shape::Time),
    ("eventTimeZoneOffset", Shape::Plain),
    ("epcList", Shape::Epcs),
    ("parentID", Shape::Id),
    ("inputEPCList", Shape::Epcs),
    ("childEPCs", Shape::Epcs),
    ("quantityList", Shape::Quantities),
    ("childQuantityList", Shape::Quantities),
    ("inputQuantityList", Shape::Quantities),
    ("outputEPCList", Shape::Epcs),
    ("outputQuantityList", Shape::Quantities),
    ("action", Shape::Plain),
    ("transformationID", Shape::Id),
    ("bizStep", Shape::Vocab("BizStep-")),
    ("disposition", Shape::Vocab("Disp-")),
    ("persistentDisposition", Shape::Persistent),
    ("readPoint", Shape::Place),
    ("bizLocation", Shape::Place),
    ("bizTransactionList", Shape::Typed("bizTransaction")),
    ("sourceList", Shape::Typed("source")),
    ("destinationList", Shape::Typed("destination")),
    ("sensorElementList", Shape::Sensors),
    ("ilmd", Shape::Ilmd),
];

/// Fields that are not part of the hash (metadata set downstream, or left out: see the module doc).
const IGNORED: &[&str] = &[
    "@context",
    "type",
    "eventID",
    "recordTime",
    "certificationInfo",
    "errorDeclaration",
];

const SENSOR_METADATA: &[&str] = &[
    "time",
    "startTime",
    "endTime",
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "bizRules",
];

const SENSOR_REPORT: &[&str] = &[
    "type",
    "exception",
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "time",
    "microorganism",
    "chemicalSubstance",
    "value",
    "component",
    "stringValue",
    "booleanValue",
    "hexBinaryValue",
    "uriValue",
    "minValue",
    "maxValue",
    "meanValue",
    "sDev",
    "percRank",
    "percValue",
    "uom",
    "coordinateReferenceSystem",
];

fn field(key: &str, shape: Shape, value: &Value, p: &Prefixes) -> Result<String, HashError> {
    Ok(match shape {
        Shape::Time => format!("{key}={}", time(key, value)?),
        Shape::Plain => format!("{key}={}", scalar(value).trim()),
        Shape::Id => format!("{key}={}", p.id(&scalar(value))),
        Shape::Vocab(prefix) => format!("{key}={}", p.vocab(&scalar(value), prefix)),
        Shape::Epcs => list(
            key,
            items(value)
                .map(|epc| format!("epc={}", p.id(&scalar(epc))))
                .collect(),
        ),
        Shape::Quantities => list(
            key,
            items(value)
                .map(|q| {
                    let mut s = String::from("quantityElement");
                    if let Some(class) = q.get("epcClass") {
                        s.push_str(&format!("epcClass={}", p.id(&scalar(class))));
                    }
                    if let Some(n) = q.get("quantity") {
                        s.push_str(&format!("quantity={}", number(n)));
                    }
                    if let Some(uom) = q.get("uom") {
                        s.push_str(&format!("uom={}", scalar(uom).trim()));
                    }
                    s
                })
                .collect(),
        ),
        Shape::Persistent => {
            let mut s = String::new();
            for part in ["set", "unset"] {
                let mut values: Vec<String> = value
                    .get(part)
                    .map(items)
                    .into_iter()
                    .flatten()
                    .map(|v| format!("{part}={}", p.vocab(&scalar(v), "Disp-")))
                    .collect();
                values.sort();
                s.push_str(&values.concat());
            }
            if s.is_empty() {
                String::new()
            } else {
                format!("{key}{s}")
            }
        }
        Shape::Place => {
            let mut s = String::new();
            if let Some(id) = value.get("id") {
                s.push_str(&format!("id={}", p.id(&scalar(id))));
            }
            s.push_str(&extensions_of(value, &["id"], p));
            if s.is_empty() {
                String::new()
            } else {
                format!("{key}{s}")
            }
        }
        Shape::Typed(name) => list(
            key,
            items(value)
                .map(|entry| {
                    let mut s = String::new();
                    if let Some(id) = entry.get(name) {
                        s.push_str(&format!("{name}={}", p.id(&scalar(id))));
                    }
                    if let Some(kind) = entry.get("type") {
                        let vocab = if name == "bizTransaction" {
                            "BTT-"
                        } else {
                            "SDT-"
                        };
                        s.push_str(&format!("type={}", p.vocab(&scalar(kind), vocab)));
                    }
                    s
                })
                .collect(),
        ),
        Shape::Sensors => {
            let mut elements = Vec::new();
            for element in items(value) {
                let mut s = String::from("sensorElement");
                if let Some(meta) = element.get("sensorMetadata") {
                    s.push_str("sensorMetadata");
                    s.push_str(&ordered(meta, SENSOR_METADATA, p)?);
                }
                let mut reports: Vec<String> = Vec::new();
                for report in element.get("sensorReport").map(items).into_iter().flatten() {
                    reports.push(format!(
                        "sensorReport{}",
                        ordered(report, SENSOR_REPORT, p)?
                    ));
                }
                reports.sort();
                s.push_str(&reports.concat());
                s.push_str(&extensions_of(
                    element,
                    &["sensorMetadata", "sensorReport"],
                    p,
                ));
                elements.push(s);
            }
            list(key, elements)
        }
        Shape::Ilmd => {
            let mut entries = Vec::new();
            if let Some(object) = value.as_object() {
                for (k, v) in object {
                    entries.extend(generic(k, v, p));
                }
            }
            list(key, entries)
        }
    })
}

/// `key` then the sorted members; nothing at all when there are none.
fn list(key: &str, mut members: Vec<String>) -> String {
    members.retain(|m| !m.is_empty());
    if members.is_empty() {
        return String::new();
    }
    members.sort();
    format!("{key}{}", members.concat())
}

/// The known fields of `object` in `order`, then its extension elements.
fn ordered(object: &Value, order: &[&str], p: &Prefixes) -> Result<String, HashError> {
    let mut s = String::new();
    for &key in order {
        let Some(value) = object.get(key) else {
            continue;
        };
        let text = match key {
            "time" | "startTime" | "endTime" => time(key, value)?,
            "type" => p.measurement(&scalar(value)),
            "component" => p.vocab(&scalar(value), "Comp-"),
            _ if value.is_number() => number(value),
            _ => p.id(&scalar(value)),
        };
        s.push_str(&format!("{key}={text}"));
    }
    s.push_str(&extensions_of(object, order, p));
    Ok(s)
}

/// Members of `object` not in `known`, as sorted `{ns}local=value` strings.
fn extensions_of(object: &Value, known: &[&str], p: &Prefixes) -> String {
    let mut entries = Vec::new();
    if let Some(object) = object.as_object() {
        for (k, v) in object {
            if !known.contains(&k.as_str()) && !k.starts_with('@') {
                entries.extend(generic(k, v, p));
            }
        }
    }
    entries.sort();
    entries.concat()
}

/// An ILMD or extension element: `{ns}local=value`, nested objects as their key then their
/// sorted members, arrays as one entry per member.
fn generic(key: &str, value: &Value, p: &Prefixes) -> Vec<String> {
    let name = p.element_name(key);
    match value {
        Value::Array(values) => values.iter().flat_map(|v| generic(key, v, p)).collect(),
        Value::Object(object) => {
            let mut children: Vec<String> = object
                .iter()
                .filter(|(k, _)| !k.starts_with('@') && *k != "#text")
                .flat_map(|(k, v)| generic(k, v, p))
                .collect();
            children.sort();
            let text = object
                .get("#text")
                .map(|t| format!("={}", p.id(&scalar(t))))
                .unwrap_or_default();
            vec![format!("{name}{text}{}", children.concat())]
        }
        Value::Null => vec![name],
        Value::Number(_) => vec![format!("{name}={}", number(value))],
        _ => {
            let text = scalar(value);
            if text.trim().is_empty() {
                vec![name]
            } else {
                vec![format!("{name}={}", p.id(&text))]
            }
        }
    }
}

fn items(value: &Value) -> Box<dyn Iterator<Item = &Value> + '_> {
    match value {
        Value::Array(values) => Box::new(values.iter()),
        Value::Null => Box::new(std::iter::empty()),
        other => Box::new(std::iter::once(other)),
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(_) => number(value),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A number without trailing zeros (`1.0` → `1`, `0.3430` → `0.343`).
fn number(value: &Value) -> String {
    match value {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.to_string()
            } else if let Some(u) = n.as_u64() {
                u.to_string()
            } else {
                let f = n.as_f64().unwrap_or_default();
                if f.fract() == 0.0 && f.abs() < 1e15 {
                    format!("{}", f as i64)
                } else {
                    format!("{f}")
                }
            }
        }
        Value::String(s) => {
            let s = s.trim();
            match s.parse::<f64>() {
                Ok(f) if f.is_finite() => number(&serde_json::json!(f)),
                _ => s.to_string(),
            }
        }
        other => scalar(other),
    }
}

/// A timestamp in UTC with milliseconds (rounded) and `Z`.
fn time(field: &str, value: &Value) -> Result<String, HashError> {
    let text = scalar(value);
    let parsed = DateTime::parse_from_rfc3339(text.trim()).map_err(|_| HashError::Time {
        field: field.to_string(),
        value: text.clone(),
    })?;
    let mut at = parsed.with_timezone(&Utc);
    let nanos = at.nanosecond() % 1_000_000_000;
    let rounded = (nanos + 500_000) / 1_000_000 * 1_000_000;
    at = at.with_nanosecond(0).unwrap_or(at) + chrono::Duration::nanoseconds(i64::from(rounded));
    Ok(at.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// CURIE prefixes: GS1's standard ones and those the event's `@context` defines.
struct Prefixes(BTreeMap<String, String>);

impl Prefixes {
    fn from_context(context: Option<&Value>) -> Prefixes {
        let mut map: BTreeMap<String, String> = [
            ("gs1", "https://gs1.org/voc/"),
            ("cbv", "https://ref.gs1.org/cbv/"),
            ("epcis", "https://ref.gs1.org/epcis/"),
            ("cbvmda", "urn:epcglobal:cbv:mda:"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut add = |object: &Map<String, Value>| {
            for (k, v) in object {
                if let Some(iri) = v.as_str().or_else(|| v.get("@id").and_then(Value::as_str)) {
                    map.insert(k.clone(), iri.to_string());
                }
            }
        };
        match context {
            Some(Value::Object(object)) => add(object),
            Some(Value::Array(values)) => values
                .iter()
                .filter_map(Value::as_object)
                .for_each(&mut add),
            _ => {}
        }
        Prefixes(map)
    }

    /// A CBV value: bare words become `https://ref.gs1.org/cbv/{kind}{word}`.
    fn vocab(&self, value: &str, kind: &str) -> String {
        let value = value.trim();
        if !value.contains(':') && !value.is_empty() {
            return format!("https://ref.gs1.org/cbv/{kind}{value}");
        }
        self.id(value)
    }

    /// A sensor measurement type: bare words are GS1 Web Vocabulary terms.
    fn measurement(&self, value: &str) -> String {
        let value = value.trim();
        if !value.contains(':') && !value.is_empty() {
            return format!("https://gs1.org/voc/{value}");
        }
        self.id(value)
    }

    /// An identifier or other URI value, normalised.
    fn id(&self, value: &str) -> String {
        let value = value.trim();
        if let Some(rest) = value.strip_prefix("urn:epcglobal:cbv:") {
            for (urn, web) in [
                ("bizstep:", "BizStep-"),
                ("disp:", "Disp-"),
                ("btt:", "BTT-"),
                ("sdt:", "SDT-"),
                ("er:", "ER-"),
            ] {
                if let Some(word) = rest.strip_prefix(urn) {
                    return format!("https://ref.gs1.org/cbv/{web}{word}");
                }
            }
            return value.to_string();
        }
        if value.starts_with("urn:epc:") {
            return epc_urn_to_digital_link(value).unwrap_or_else(|| value.to_string());
        }
        if value.starts_with("http://") || value.starts_with("https://") {
            return constrain_digital_link(value).unwrap_or_else(|| value.to_string());
        }
        if let Some((prefix, local)) = value.split_once(':')
            && let Some(iri) = self.0.get(prefix)
            && !local.starts_with("//")
        {
            return format!("{iri}{local}");
        }
        value.to_string()
    }

    /// `prefix:local` as `{namespace}local` (a namespace's trailing `:` dropped).
    fn element_name(&self, key: &str) -> String {
        if let Some((prefix, local)) = key.split_once(':')
            && let Some(iri) = self.0.get(prefix)
        {
            return format!("{{{}}}{local}", iri.trim_end_matches(':'));
        }
        key.to_string()
    }
}

#[cfg(test)]
mod tests {
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
}
