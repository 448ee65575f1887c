//! The GS1 Digital Link resolver: `GET /01/{gtin}` and `GET /01/{gtin}/10/{lot}` (further key
//! qualifiers such as `/21/{serial}`, and query strings, are accepted and ignored).
//!
//! Browsers get an HTML page a shopper reads on a phone: the product (name and origin from the
//! catalog), where the lot came from (farm, country, harvest date, certificates) and each step of
//! its journey with time and place, following the lot's input lots back to the farm. With
//! `Accept: application/json` (or `application/ld+json`) the answer is the EPCIS 2.0 events of
//! that journey as an `EPCISQueryDocument` (`queryName` `omo:journey`; `eventList` oldest first:
//! the lot's own events and those of every lot it was made from). `/01/{gtin}` answers the
//! product and the lots traced so far (JSON: their events). An unknown product or lot is a 404
//! with a clear page (or `{"error": ...}` for JSON).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::context::Context;
use crate::gtin;
use crate::trace::link::{self, LotKey};
use crate::trace::{Journey, TraceStore, page};

/// The resolver's routes.
pub fn routes() -> Router<Context> {
    Router::new().route("/01/{*rest}", get(resolve))
}

/// Lots of a product its page lists (and whose events its JSON carries).
const PRODUCT_LOTS: i64 = 50;

async fn resolve(
    State(ctx): State<Context>,
    Path(rest): Path<String>,
    headers: HeaderMap,
) -> Response {
    let json = wants_json(&headers);
    let Some(key) = link::parse(&format!("/01/{rest}")) else {
        let gtin = rest.split('/').next().unwrap_or_default();
        return not_found(json, &format!("{gtin} is not a valid GTIN."));
    };
    let trace = TraceStore::new(ctx.db.clone());
    let answer = if key.lot.is_empty() {
        product(&trace, &key.gtin, json).await
    } else {
        lot(&trace, &key, json).await
    };
    match answer {
        Ok(response) => response,
        Err(error) => {
            tracing::warn!(%error, gtin = %key.gtin, lot = %key.lot, "resolver cannot read the trace store");
            (StatusCode::SERVICE_UNAVAILABLE, "trace store unavailable\n").into_response()
        }
    }
}

async fn lot(
    trace: &TraceStore,
    key: &LotKey,
    json: bool,
) -> Result<Response, crate::trace::TraceError> {
    if !trace.knows(key).await? {
        let name = trace
            .product(&key.gtin)
            .await?
            .map_or_else(|| format!("GTIN {}", key.gtin), |p| p.name);
        return Ok(not_found(
            json,
            &format!("No journey is recorded for lot {} of {name}.", key.lot),
        ));
    }
    let lineage = trace.lineage(key).await?;
    let events = trace.events_of(&lineage).await?;
    if json {
        return Ok(json_answer(query_document(events)));
    }
    let product = trace.product(&key.gtin).await?;
    let journey = Journey::from_events(key, &events);
    Ok(html(
        StatusCode::OK,
        page::journey_page(product.as_ref(), &journey),
    ))
}

async fn product(
    trace: &TraceStore,
    gtin: &str,
    json: bool,
) -> Result<Response, crate::trace::TraceError> {
    let gtin = gtin::normalize(gtin).unwrap_or_else(|_| gtin.to_string());
    let product = trace.product(&gtin).await?;
    let lots = trace.lots_of_product(&gtin, PRODUCT_LOTS).await?;
    let class = LotKey {
        gtin: gtin.clone(),
        lot: String::new(),
    };
    if product.is_none() && lots.is_empty() && !trace.knows(&class).await? {
        return Ok(not_found(
            json,
            &format!("No product with GTIN {gtin} is known here."),
        ));
    }
    if json {
        let mut keys: Vec<LotKey> = lots
            .iter()
            .map(|lot| LotKey {
                gtin: gtin.clone(),
                lot: lot.clone(),
            })
            .collect();
        keys.push(class);
        return Ok(json_answer(query_document(trace.events_of(&keys).await?)));
    }
    Ok(html(
        StatusCode::OK,
        page::product_page(product.as_ref(), &gtin, &lots),
    ))
}

/// Whether the client asked for JSON rather than a page.
fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/json") || v.contains("application/ld+json"))
}

/// The events as an EPCIS 2.0 `EPCISQueryDocument`, the events' own contexts merged into the
/// document's.
pub fn query_document(events: Vec<Value>) -> Value {
    let mut contexts: Vec<Value> = vec![json!(
        "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
    )];
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
        "creationDate": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "epcisBody": { "queryResults": { "queryName": "omo:journey", "resultsBody": { "eventList": events } } },
    })
}

fn json_answer(document: Value) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/ld+json; charset=utf-8"),
            (header::VARY, "Accept"),
        ],
        document.to_string(),
    )
        .into_response()
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::VARY, "Accept"),
        ],
        body,
    )
        .into_response()
}

fn not_found(json: bool, what: &str) -> Response {
    if json {
        return (
            StatusCode::NOT_FOUND,
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::VARY, "Accept"),
            ],
            json!({ "error": what }).to_string(),
        )
            .into_response();
    }
    html(StatusCode::NOT_FOUND, page::not_found_page(what))
}
