//! EPCIS documents: a supplier's `EPCISDocument` read into standalone events (each with the
//! document's `@context`, as the trace topic carries one event per message), and events wrapped
//! back into a document or a query document for readers.

use serde_json::{Value, json};

use super::{EPCIS_CONTEXT, rfc3339};

/// Why a document was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DocumentError {
    #[error("not an EPCIS document: {0}")]
    Shape(String),
}

/// The events of an `EPCISDocument` (or of an `EPCISQueryDocument`, or a single event, or a JSON
/// array of events), each carrying the document's `@context` unless it has its own.
pub fn events_of(document: &Value) -> Result<Vec<Value>, DocumentError> {
    let context = document.get("@context").cloned();
    let list = match document.get("type").and_then(Value::as_str) {
        Some("EPCISDocument") => document.pointer("/epcisBody/eventList"),
        Some("EPCISQueryDocument") => {
            document.pointer("/epcisBody/queryResults/resultsBody/eventList")
        }
        Some(_) => return Ok(vec![with_context(document.clone(), context)]),
        None if document.is_array() => Some(document),
        None => None,
    };
    let list = list
        .and_then(Value::as_array)
        .ok_or_else(|| DocumentError::Shape("no epcisBody.eventList".into()))?;
    list.iter()
        .map(|event| {
            if event.get("type").and_then(Value::as_str).is_none() {
                return Err(DocumentError::Shape("an event has no `type`".into()));
            }
            Ok(with_context(event.clone(), context.clone()))
        })
        .collect()
}

fn with_context(mut event: Value, context: Option<Value>) -> Value {
    if event.get("@context").is_none()
        && let Some(object) = event.as_object_mut()
    {
        let context = context.unwrap_or_else(|| json!([EPCIS_CONTEXT]));
        // `@context` first, as documents conventionally write it.
        let mut ordered = serde_json::Map::new();
        ordered.insert("@context".into(), context);
        ordered.append(object);
        *object = ordered;
    }
    event
}

/// Events as an `EPCISQueryDocument` (what EPCIS 2.0's query interface answers), each event
/// without its own `@context` (the document's applies to all).
pub fn query_document(
    query_name: &str,
    events: Vec<Value>,
    created: chrono::DateTime<chrono::Utc>,
) -> Value {
    let mut contexts: Vec<Value> = vec![json!(EPCIS_CONTEXT)];
    let events: Vec<Value> = events
        .into_iter()
        .map(|mut event| {
            if let Some(context) = event.as_object_mut().and_then(|o| o.remove("@context")) {
                let items = match context {
                    Value::Array(items) => items,
                    other => vec![other],
                };
                for item in items {
                    if !contexts.contains(&item) {
                        contexts.push(item);
                    }
                }
            }
            event
        })
        .collect();
    json!({
        "@context": contexts,
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": rfc3339(created),
        "epcisBody": {
            "queryResults": {
                "queryName": query_name,
                "resultsBody": { "eventList": events },
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_take_the_documents_context() {
        let document = json!({
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"ex": "https://ex.com/"}],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-11-23T00:00:00Z",
            "epcisBody": { "eventList": [ { "type": "ObjectEvent", "action": "ADD" } ] }
        });
        let events = events_of(&document).unwrap();
        assert_eq!(events[0]["@context"][1]["ex"], "https://ex.com/");
        assert!(events_of(&json!({"type": "EPCISDocument"})).is_err());
        assert!(events_of(&json!({"hello": 1})).is_err());
    }
}
