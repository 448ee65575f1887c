//! The MQTT payloads between the cloud and the stores' edges about delivery orders. Pure.
//!
//! | topic | direction | payload |
//! | --- | --- | --- |
//! | `omo/v1/stores/{store}/delivery/requests` | cloud → edge | [`request_payload`]: an order placed in the app, for the store to accept |
//! | `omo/v1/stores/{store}/delivery/orders` | edge → cloud | [`parse_store_order`]: an order the store accepted (CONTRACT.md) |
//! | `omo/v1/stores/{store}/delivery/refusals` | edge → cloud | [`parse_refusal`]: an order the store could not take |
//! | `omo/v1/stores/{store}/delivery/progress` | edge → cloud | [`super::progress::parse_progress`]: a rider accepted, picked up or delivered an order |
//! | `omo/v1/stores/{store}/delivery/cancellations` | cloud → edge | [`cancellation_payload`]: an order the store accepted after the cloud refused and refunded it; the edge cancels its dispatch |
//!
//! Every message carries an `id`; a request is sent again (with the same id) until the store
//! answers, and the edge places each `order_id` once. The topics themselves are built and read
//! in [`omo_contract::topics`].

use serde_json::{Value, json};

use super::order::DeliveryOrder;
pub use super::order::Line;

/// What a store's `delivery/orders` message says.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreOrder {
    pub id: String,
    pub order_id: String,
    pub lines: Vec<Line>,
    pub lat: f64,
    pub lon: f64,
    pub address: String,
    pub distance_m: u32,
    pub promised_by: String,
}

/// What a store's `delivery/refusals` message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub id: String,
    pub order_id: String,
    pub reason: String,
}

/// Why a payload was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("not JSON: {0}")]
    Json(String),
    #[error("missing or empty {0}")]
    Missing(&'static str),
    #[error("the payload names store {payload:?} but came on store {topic:?}'s topic")]
    OtherStore { payload: String, topic: String },
}

/// The cancellation of `order_id`, accepted by its store after it was refused and refunded.
/// Its id is `cancel-{order_id}`: sent again for every repeated late acceptance, one id.
pub fn cancellation_payload(store_id: &str, order_id: &str, refusal: &str) -> Value {
    json!({
        "id": format!("cancel-{order_id}"),
        "type": "cancelled",
        "order_id": order_id,
        "store_id": store_id,
        "reason": format!("the order was refused and refunded before the store accepted it: {refusal}"),
    })
}

/// The message forwarding `order` to its store.
pub fn request_payload(order: &DeliveryOrder) -> Value {
    json!({
        "id": format!("request-{}", order.order_id),
        "order_id": order.order_id,
        "store_id": order.store_id,
        "source": order.source,
        "wallet_id": order.wallet_id,
        "purchase_order_id": order.purchase_order_id,
        "items": order.lines,
        "amount_fen": order.amount_fen,
        "payment_id": order.payment_id,
        "dropoff": { "lat": order.lat, "lon": order.lon, "address": order.address },
        "placed_at": order.placed_at,
    })
}

fn text(v: &Value, key: &'static str) -> Result<String, PayloadError> {
    match v.get(key).and_then(Value::as_str) {
        Some(s) if !s.is_empty() && s.len() <= 256 => Ok(s.to_owned()),
        _ => Err(PayloadError::Missing(key)),
    }
}

fn check_store(v: &Value, topic_store: &str) -> Result<(), PayloadError> {
    match v.get("store_id").and_then(Value::as_str) {
        Some(s) if s != topic_store => Err(PayloadError::OtherStore {
            payload: s.into(),
            topic: topic_store.into(),
        }),
        _ => Ok(()),
    }
}

/// Parses a store's `delivery/orders` message (sent on `topic_store`'s topic).
pub fn parse_store_order(bytes: &[u8], topic_store: &str) -> Result<StoreOrder, PayloadError> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| PayloadError::Json(e.to_string()))?;
    check_store(&v, topic_store)?;
    let dropoff = v.get("dropoff").ok_or(PayloadError::Missing("dropoff"))?;
    let coordinate = |key: &'static str| {
        dropoff
            .get(key)
            .and_then(Value::as_f64)
            .ok_or(PayloadError::Missing(key))
    };
    let lines = v
        .get("items")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| serde_json::from_value::<Line>(item.clone()).ok())
                .collect()
        })
        .unwrap_or_default();
    Ok(StoreOrder {
        id: text(&v, "id")?,
        order_id: text(&v, "order_id")?,
        lines,
        lat: coordinate("lat")?,
        lon: coordinate("lon")?,
        address: dropoff
            .get("address")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .chars()
            .take(300)
            .collect(),
        distance_m: v
            .get("distance_m")
            .and_then(Value::as_f64)
            .map(super::directory::round_m)
            .unwrap_or(0),
        promised_by: text(&v, "promised_by")?,
    })
}

/// Parses a store's `delivery/refusals` message.
pub fn parse_refusal(bytes: &[u8], topic_store: &str) -> Result<Refusal, PayloadError> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| PayloadError::Json(e.to_string()))?;
    check_store(&v, topic_store)?;
    Ok(Refusal {
        id: text(&v, "id")?,
        order_id: text(&v, "order_id")?,
        reason: v
            .get("reason")
            .and_then(Value::as_str)
            .unwrap_or("refused by the store")
            .chars()
            .take(300)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancellation_is_idempotent_by_its_order() {
        let cancel = cancellation_payload("SH-1", "A1", "no answer");
        assert_eq!(cancel["id"], "cancel-A1");
        assert_eq!(cancel["type"], "cancelled");
    }

    #[test]
    fn a_store_order_as_the_contract_shapes_it_parses() {
        let payload = br#"{"id":"m1","order_id":"A1","store_id":"SH-1",
            "items":[{"gtin":"06901939621257","name":"Milk","quantity":2},"junk"],
            "dropoff":{"lat":31.2,"lon":121.4,"address":"1 Road"},"distance_m":812.6,
            "promised_by":"2026-11-23T10:30:00Z"}"#;
        let order = parse_store_order(payload, "SH-1").unwrap();
        assert_eq!(order.order_id, "A1");
        assert_eq!(order.distance_m, 813);
        assert_eq!(order.lines.len(), 1);
        assert_eq!(order.lines[0].quantity, 2);
        assert_eq!(order.address, "1 Road");
    }

    #[test]
    fn bad_payloads_are_named() {
        assert!(matches!(
            parse_store_order(b"{", "SH-1"),
            Err(PayloadError::Json(_))
        ));
        assert_eq!(
            parse_store_order(
                br#"{"id":"m","order_id":"A","dropoff":{"lat":1,"lon":2}}"#,
                "S"
            ),
            Err(PayloadError::Missing("promised_by"))
        );
        assert!(matches!(
            parse_refusal(br#"{"id":"m","order_id":"A","store_id":"X"}"#, "S"),
            Err(PayloadError::OtherStore { .. })
        ));
        let refusal = parse_refusal(br#"{"id":"m","order_id":"A"}"#, "S").unwrap();
        assert_eq!(refusal.reason, "refused by the store");
    }

    proptest::proptest! {
        /// Any bytes, and any JSON object with the right keys holding anything: an answer or a
        /// named error, never a panic.
        #[test]
        fn no_input_panics(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
            order_id in ".{0,300}",
            lat in proptest::num::f64::ANY,
            distance in proptest::num::f64::ANY,
            quantity in proptest::num::i64::ANY,
        ) {
            let _ = parse_store_order(&bytes, "S");
            let _ = parse_refusal(&bytes, "S");
            let v = json!({"id": "m", "order_id": order_id, "store_id": "S",
                "items": [{"gtin": "1", "quantity": quantity}],
                "dropoff": {"lat": lat, "lon": lat, "address": order_id},
                "distance_m": distance, "promised_by": "t", "reason": order_id});
            let bytes = v.to_string().into_bytes();
            if let Ok(order) = parse_store_order(&bytes, "S") {
                proptest::prop_assert!(order.address.chars().count() <= 300);
            }
            let _ = parse_refusal(&bytes, "S");
        }
    }
}
