//! Recording a lot's life at the edge: a supplier's receiving file (an EPCIS 2.0 JSON-LD
//! document, or CSV) and transformations become EPCIS events with their CBV 2.0 hash IDs, queued
//! in the edge's outbox (one transaction) and published by the outbox on
//! `omo/v1/stores/{store}/trace` like every other message.
//!
//! The CSV has a header row; columns (any order, names case-insensitive):
//!
//! | column | required | meaning |
//! | --- | --- | --- |
//! | `gtin` | yes | the product (GTIN-8/12/13/14, check digit verified) |
//! | `lot` | yes | the supplier's lot (batch) number |
//! | `farm` | yes | the farm, vessel or producer, as a shopper reads it |
//! | `harvest_date` | no | `YYYY-MM-DD` |
//! | `certificates` | no | `;`-separated (`ASC;GLOBALG.A.P.`) |
//! | `temperatures` | no | `;`-separated cold-chain readings in °C, each `VALUE` or `RFC3339=VALUE` |
//! | `quantity`, `uom` | no | how much arrived (default 1; `KGM` for kilograms) |
//! | `country`, `farm_id`, `supplier`, `despatch_advice` | no | origin country (ISO 3166-1), the farm's identifier, the supplier, the delivery note |
//! | `received_at` | no | RFC 3339 (default: the time of the import) |
//!
//! A supplier's EPCIS events keep their own `eventID` when they have one (it is theirs and
//! unique); the others get the hash ID. Importing the same file twice queues the same ids again:
//! the cloud stores each once.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use crate::db::{Db, DbError, OutboxMessage};
use crate::epcis::{self, LotQuantity, Origin, Reading, Receipt, Transformation, document};
use crate::topics;

/// Why a file or argument could not be turned into events.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("line {line}: {message}")]
    Csv { line: u64, message: String },
    #[error("CSV header: missing column `{0}`")]
    MissingColumn(&'static str),
    #[error("not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Document(#[from] document::DocumentError),
    #[error("{0}")]
    Argument(String),
    #[error("the file has no events")]
    Empty,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The events of a supplier's file (JSON-LD if it starts with `{` or `[`, CSV otherwise), each
/// with an `eventID`, ready for the trace topic.
pub fn events_from_file(
    text: &str,
    store_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Value>, ImportError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let events: Vec<Value> = if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let document: Value = serde_json::from_str(trimmed)?;
        let events = document::events_of(&document)?;
        for (n, event) in events.iter().enumerate() {
            check_event_lots(event)
                .map_err(|e| ImportError::Argument(format!("event {}: {e}", n + 1)))?;
        }
        events
            .into_iter()
            .map(|event| {
                let has_id = event
                    .get("eventID")
                    .and_then(Value::as_str)
                    .is_some_and(|id| !id.is_empty());
                if has_id {
                    event
                } else {
                    epcis::with_event_hash(event)
                }
            })
            .collect()
    } else {
        parse_csv(trimmed, now)?
            .iter()
            .map(|receipt| epcis::with_event_hash(epcis::receiving_event(receipt, store_id)))
            .collect()
    };
    if events.is_empty() {
        return Err(ImportError::Empty);
    }
    Ok(events)
}

/// The receipts of a receiving CSV (see the module doc for its columns).
pub fn parse_csv(text: &str, now: DateTime<Utc>) -> Result<Vec<Receipt>, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers: HashMap<String, usize> = reader
        .headers()
        .map_err(|e| ImportError::Csv {
            line: 1,
            message: e.to_string(),
        })?
        .iter()
        .enumerate()
        .map(|(i, h)| (h.to_ascii_lowercase().replace([' ', '-'], "_"), i))
        .collect();
    for required in ["gtin", "lot", "farm"] {
        if !headers.contains_key(required) {
            return Err(ImportError::MissingColumn(required));
        }
    }
    let mut receipts = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| ImportError::Csv {
            line: e.position().map_or(0, |p| p.line()),
            message: e.to_string(),
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let bad = |message: String| ImportError::Csv { line, message };
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|&i| record.get(i))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let gtin = normalize_gtin(get("gtin").unwrap_or_default()).map_err(bad)?;
        let lot = get("lot")
            .ok_or_else(|| bad("empty lot".into()))?
            .to_string();
        check_lot(&lot).map_err(bad)?;
        let received_at = match get("received_at") {
            Some(t) => parse_time(t).map_err(|e| bad(format!("received_at: {e}")))?,
            None => now,
        };
        let harvest_date = get("harvest_date")
            .map(|d| {
                NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .map_err(|_| bad(format!("harvest_date {d:?} is not YYYY-MM-DD")))
            })
            .transpose()?;
        let quantity = get("quantity")
            .map(|q| {
                q.parse::<f64>()
                    .ok()
                    .filter(|q| q.is_finite() && *q > 0.0)
                    .ok_or_else(|| bad(format!("quantity {q:?} is not a positive number")))
            })
            .transpose()?
            .unwrap_or(1.0);
        let uom = get("uom").map(str::to_ascii_uppercase);
        if let Some(uom) = &uom
            && !(2..=3).contains(&uom.len())
        {
            return Err(bad(format!(
                "uom {uom:?} is not a 2-3 letter UN/ECE code (KGM for kilograms)"
            )));
        }
        let temperatures = get("temperatures")
            .map(|t| parse_temperatures(t, received_at).map_err(bad))
            .transpose()?
            .unwrap_or_default();
        receipts.push(Receipt {
            gtin,
            lot,
            quantity,
            uom,
            received_at,
            origin: Origin {
                farm: get("farm")
                    .ok_or_else(|| bad("empty farm".into()))?
                    .to_string(),
                farm_id: get("farm_id").map(str::to_string),
                country: get("country").map(str::to_string),
                harvest_date,
                certificates: get("certificates")
                    .map(|c| {
                        c.split(';')
                            .map(str::trim)
                            .filter(|c| !c.is_empty())
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
            },
            temperatures,
            supplier: get("supplier").map(str::to_string),
            despatch_advice: get("despatch_advice").map(str::to_string),
        });
    }
    Ok(receipts)
}

/// `1.5;2.0` or `2026-11-21T06:00:00Z=1.5;…` (plain values are read at `default_at`).
pub fn parse_temperatures(text: &str, default_at: DateTime<Utc>) -> Result<Vec<Reading>, String> {
    text.split(';')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|reading| {
            let (at, value) = match reading.rsplit_once('=') {
                Some((at, value)) => (parse_time(at.trim())?, value.trim()),
                None => (default_at, reading),
            };
            let celsius = value
                .parse::<f64>()
                .ok()
                .filter(|c| c.is_finite())
                .ok_or_else(|| format!("temperature {value:?} is not a number"))?;
            Ok(Reading { at, celsius })
        })
        .collect()
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("{text:?} is not an RFC 3339 time"))
}

/// A GTIN-8/12/13/14 with a valid check digit, as 14 digits.
pub fn normalize_gtin(gtin: &str) -> Result<String, String> {
    omo_contract::gs1::normalize_gtin(gtin).map_err(|e| e.to_string())
}

/// The lots and serials an EPCIS event names (its EPC lists and quantity lists' classes), each
/// checked against GS1 character set 82.
fn check_event_lots(event: &Value) -> Result<(), String> {
    let lists = ["epcList", "childEPCs", "inputEPCList", "outputEPCList"];
    let quantities = [
        "quantityList",
        "childQuantityList",
        "inputQuantityList",
        "outputQuantityList",
    ];
    let epcs = lists
        .iter()
        .filter_map(|k| event.get(k).and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str);
    let classes = quantities
        .iter()
        .filter_map(|k| event.get(k).and_then(Value::as_array))
        .flatten()
        .filter_map(|q| q.get("epcClass").and_then(Value::as_str));
    for id in epcs.chain(classes) {
        omo_devices::barcode::cset82::check_identifier(id).map_err(|e| format!("{id}: {e}"))?;
    }
    Ok(())
}

/// A lot (GS1 AI 10): 1 to 20 characters of GS1 character set 82.
fn check_lot(lot: &str) -> Result<(), String> {
    omo_devices::barcode::cset82::check_lot_or_serial("lot", lot).map_err(|e| e.to_string())
}

/// `GTIN,LOT[,QUANTITY[,UOM]]` (as `omo trace transform --input/--output` take it).
pub fn parse_lot_quantity(text: &str) -> Result<LotQuantity, ImportError> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let bad = |why: &str| {
        ImportError::Argument(format!(
            "{text:?}: {why} (expected GTIN,LOT[,QUANTITY[,UOM]])"
        ))
    };
    if parts.len() < 2 || parts.len() > 4 || parts[1].is_empty() {
        return Err(bad("needs a GTIN and a lot"));
    }
    let gtin = normalize_gtin(parts[0]).map_err(ImportError::Argument)?;
    check_lot(parts[1]).map_err(|e| ImportError::Argument(format!("{text:?}: {e}")))?;
    let quantity = match parts.get(2) {
        Some(q) if !q.is_empty() => Some(
            q.parse::<f64>()
                .ok()
                .filter(|q| q.is_finite() && *q > 0.0)
                .ok_or_else(|| bad("quantity is not a positive number"))?,
        ),
        _ => None,
    };
    let uom = parts
        .get(3)
        .filter(|u| !u.is_empty())
        .map(|u| u.to_ascii_uppercase());
    Ok(LotQuantity {
        gtin,
        lot: parts[1].to_string(),
        quantity,
        uom,
    })
}

/// The transformation event (with its hash ID) of `transformation`.
pub fn transformation_events(
    transformation: &Transformation,
    store_id: &str,
) -> Result<Vec<Value>, ImportError> {
    if transformation.inputs.is_empty() || transformation.outputs.is_empty() {
        return Err(ImportError::Argument(
            "a transformation needs at least one input and one output lot".into(),
        ));
    }
    Ok(vec![epcis::with_event_hash(epcis::transformation_event(
        transformation,
        store_id,
    ))])
}

/// The outbox messages that publish `events` on the store's trace topic.
pub fn outbox_messages(
    store_id: &str,
    events: &[Value],
) -> Result<Vec<OutboxMessage>, ImportError> {
    events
        .iter()
        .map(|event| {
            Ok(OutboxMessage {
                id: event
                    .get("eventID")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                topic: topics::trace(store_id),
                payload: serde_json::to_vec(event)?,
                retain: false,
            })
        })
        .collect()
}

/// Queues `events` in the edge's outbox, all or none; a running edge publishes them within a
/// second (its publisher polls the outbox), a stopped one when it starts.
pub async fn enqueue(db: &Db, store_id: &str, events: &[Value]) -> Result<(), ImportError> {
    db.enqueue(&outbox_messages(store_id, events)?).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "gtin,lot,farm,harvest_date,certificates,temperatures,quantity,uom,country,supplier\n\
        2000420000008,NO-LOF-2611,Lofoten Sjømat,2026-11-20,ASC;GLOBALG.A.P.,2026-11-21T06:00:00Z=1.5;2026-11-22T06:00:00Z=2.0,42.5,kgm,NO,Nordic Fresh AS\n\
        5901234123457,M-1,Hulunbuir Dairy,,,,,,,\n";

    fn now() -> DateTime<Utc> {
        "2026-11-23T01:30:00Z".parse().unwrap()
    }

    #[test]
    fn a_receiving_csv_becomes_hashed_events() {
        let receipts = parse_csv(CSV, now()).unwrap();
        assert_eq!(receipts.len(), 2);
        assert_eq!(receipts[0].gtin, "02000420000008");
        assert_eq!(receipts[0].origin.certificates, ["ASC", "GLOBALG.A.P."]);
        assert_eq!(receipts[0].temperatures[1].celsius, 2.0);
        assert_eq!(receipts[0].uom.as_deref(), Some("KGM"));
        assert_eq!(receipts[1].quantity, 1.0);
        assert_eq!(receipts[1].received_at, now());
        let events = events_from_file(CSV, "SH-001", now()).unwrap();
        assert!(
            events[0]["eventID"]
                .as_str()
                .unwrap()
                .starts_with("ni:///sha-256;")
        );
        // The same file again: the same ids.
        assert_eq!(events, events_from_file(CSV, "SH-001", now()).unwrap());
    }

    #[test]
    fn bad_rows_name_their_line() {
        let err = parse_csv("gtin,lot,farm\n2000420000009,L,F\n", now())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 2") && err.contains("check digit"),
            "{err}"
        );
        let err = parse_csv("gtin,lot,farm\n2000420000008,L 7,F\n", now())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 2") && err.contains("character set 82"),
            "{err}"
        );
        assert!(matches!(
            parse_csv("gtin,lot\n", now()),
            Err(ImportError::MissingColumn("farm"))
        ));
        let err = parse_csv(
            "gtin,lot,farm,temperatures\n2000420000008,L,F,warm\n",
            now(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("warm"), "{err}");
    }

    #[test]
    fn an_epcis_document_keeps_its_ids_and_hashes_the_rest() {
        let doc = serde_json::json!({
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-11-23T00:00:00Z",
            "epcisBody": { "eventList": [
                { "type": "ObjectEvent", "eventID": "urn:uuid:1", "eventTime": "2026-11-22T00:00:00Z", "eventTimeZoneOffset": "+00:00", "action": "OBSERVE" },
                { "type": "ObjectEvent", "eventTime": "2026-11-22T00:00:00Z", "eventTimeZoneOffset": "+00:00", "action": "ADD" }
            ] }
        });
        let events = events_from_file(&doc.to_string(), "S", now()).unwrap();
        assert_eq!(events[0]["eventID"], "urn:uuid:1");
        assert!(events[1]["eventID"].as_str().unwrap().starts_with("ni:"));
        assert!(events[1]["@context"].is_array());
    }

    #[test]
    fn a_json_ld_event_with_a_lot_outside_character_set_82_is_refused() {
        let doc = |class: &str| {
            serde_json::json!({
                "type": "EPCISDocument",
                "epcisBody": { "eventList": [{
                    "type": "ObjectEvent", "action": "ADD", "bizStep": "receiving",
                    "eventTime": "2026-12-01T08:00:00Z", "eventTimeZoneOffset": "+08:00",
                    "quantityList": [{ "epcClass": class, "quantity": 1 }]
                }]}
            })
            .to_string()
        };
        let ok = doc("https://id.gs1.org/01/02000420000008/10/L-7");
        assert!(events_from_file(&ok, "SH-001", now()).is_ok());
        let bad = doc("https://id.gs1.org/01/02000420000008/10/L%207");
        let err = events_from_file(&bad, "SH-001", now())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("event 1") && err.contains("character set 82"),
            "{err}"
        );
    }

    #[test]
    fn lot_quantities_parse() {
        let q = parse_lot_quantity("2000420000008,P-1,0.532,kgm").unwrap();
        assert_eq!(
            (
                q.gtin.as_str(),
                q.lot.as_str(),
                q.quantity,
                q.uom.as_deref()
            ),
            ("02000420000008", "P-1", Some(0.532), Some("KGM"))
        );
        assert!(parse_lot_quantity("2000420000008").is_err());
        assert!(parse_lot_quantity("123,L").is_err());
        assert!(parse_lot_quantity("2000420000008,P 1").is_err());
    }

    #[tokio::test]
    async fn imported_events_wait_in_the_outbox() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path()).await.unwrap();
        let events = events_from_file(CSV, "SH-001", now()).unwrap();
        enqueue(&db, "SH-001", &events).await.unwrap();
        let rows = db.outbox_peek(10).await.unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].message.topic, "omo/v1/stores/SH-001/trace");
        assert_eq!(rows[0].message.id, events[0]["eventID"].as_str().unwrap());
    }
}
