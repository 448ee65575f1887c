//! How each field goes into the pre-hash string: `key=value`, lists as their key then their
//! sorted members, places and typed entries with their parts, sensor elements in their orders,
//! ILMD and extension elements as `{namespace}localName=value`.

use serde_json::Value;

use super::HashError;
use super::order::{SENSOR_METADATA, SENSOR_REPORT, Shape};
use super::prefixes::Prefixes;
use super::values::{items, number, scalar, time};

pub(super) fn field(
    key: &str,
    shape: Shape,
    value: &Value,
    p: &Prefixes,
) -> Result<String, HashError> {
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
pub(super) fn list(key: &str, mut members: Vec<String>) -> String {
    members.retain(|m| !m.is_empty());
    if members.is_empty() {
        return String::new();
    }
    members.sort();
    format!("{key}{}", members.concat())
}

/// The known fields of `object` in `order`, then its extension elements.
pub(super) fn ordered(object: &Value, order: &[&str], p: &Prefixes) -> Result<String, HashError> {
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
pub(super) fn extensions_of(object: &Value, known: &[&str], p: &Prefixes) -> String {
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
pub(super) fn generic(key: &str, value: &Value, p: &Prefixes) -> Vec<String> {
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
