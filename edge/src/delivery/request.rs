//! Orders the cloud forwards from the shopper's app, on `omo/v1/stores/{store}/delivery/requests`,
//! and the refusal the edge answers with when it cannot take one. Pure.
//!
//! A request is either goods ordered (and paid) in the app, with their lines, or a basket the
//! shopper paid at one of this store's lanes (`source = "lane"`, `purchase_order_id` = the
//! lane's order id), whose lines the edge takes from its own record of the sale. The cloud sends
//! a request again until the edge answers: with the order on `delivery/orders` when it accepted
//! it (placing an order id again changes nothing), or on `delivery/refusals` when it could not.

use serde::Deserialize;
use serde_json::{Value, json};

use super::order::{Dropoff, OrderRequest};
use crate::lane::Basket;

/// A forwarded order.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DeliveryRequest {
    pub id: String,
    pub order_id: String,
    pub store_id: String,
    /// `app` or `lane`.
    pub source: String,
    #[serde(default)]
    pub wallet_id: String,
    #[serde(default)]
    pub purchase_order_id: String,
    #[serde(default)]
    pub items: Vec<Value>,
    pub dropoff: Dropoff,
    /// When the shopper placed it (RFC 3339); see [`DeliveryRequest::stale`].
    #[serde(default)]
    pub placed_at: String,
}

/// A request placed longer ago than this is refused: the 30-minute promise can no longer be
/// made honestly, and the cloud refunds what it does not hear back about (after 15 minutes by
/// default), so the store must not take it later.
pub const STALE_AFTER: chrono::Duration = chrono::Duration::minutes(10);

/// Why a forwarded order was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("not a delivery request: {0}")]
    Shape(String),
    #[error("the request is for store {0:?}, not this one")]
    OtherStore(String),
    #[error("a lane delivery request names no purchase_order_id")]
    NoPurchase,
}

impl DeliveryRequest {
    /// Parses a request sent on `store_id`'s requests topic.
    pub fn parse(bytes: &[u8], store_id: &str) -> Result<Self, RequestError> {
        let request: DeliveryRequest =
            serde_json::from_slice(bytes).map_err(|e| RequestError::Shape(e.to_string()))?;
        if request.store_id != store_id {
            return Err(RequestError::OtherStore(request.store_id));
        }
        if request.id.is_empty() || request.order_id.is_empty() {
            return Err(RequestError::Shape("empty id or order_id".into()));
        }
        match request.source.as_str() {
            "lane" if request.purchase_order_id.is_empty() => Err(RequestError::NoPurchase),
            "lane" | "app" => Ok(request),
            other => Err(RequestError::Shape(format!("unknown source {other:?}"))),
        }
    }

    /// Whether the request was placed more than [`STALE_AFTER`] before `now` (a request without
    /// a readable time is not stale).
    pub fn stale(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        chrono::DateTime::parse_from_rfc3339(&self.placed_at)
            .is_ok_and(|placed| now - placed.with_timezone(&chrono::Utc) > STALE_AFTER)
    }

    /// The order to place, with `items` (the request's own, or the lane basket's).
    pub fn order(&self, items: Vec<Value>) -> OrderRequest {
        OrderRequest {
            order_id: Some(self.order_id.clone()),
            items,
            dropoff: self.dropoff.clone(),
        }
    }
}

/// The lines of a paid lane basket, as a delivery order carries them.
pub fn basket_items(basket: &Basket) -> Vec<Value> {
    basket
        .items
        .iter()
        .map(|item| {
            let mut line = json!({
                "gtin": item.gtin,
                "name": item.name,
                "quantity": item.quantity,
                "unit_price_fen": item.unit_price_fen,
                "amount_fen": item.price_fen,
            });
            if let Some(weight) = item.weight_g {
                line["weight_g"] = json!(weight);
            }
            if let Some(lot) = &item.lot {
                line["lot"] = json!(lot);
            }
            line
        })
        .collect()
}

/// The refusal message `id` for `order_id`, with the reason a shopper reads.
pub fn refusal_payload(id: &str, store_id: &str, order_id: &str, reason: &str) -> Value {
    json!({
        "id": id,
        "order_id": order_id,
        "store_id": store_id,
        "reason": reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lane::BasketItem;

    const APP: &[u8] = br#"{"id":"request-A1","order_id":"A1","store_id":"SH-1","source":"app",
        "wallet_id":"12345678","purchase_order_id":"","items":[{"gtin":"06901939621257","quantity":2}],
        "amount_fen":700,"payment_id":"p","dropoff":{"lat":31.2,"lon":121.4,"address":"1 Road"},
        "placed_at":"2026-11-23T10:00:00Z"}"#;

    #[test]
    fn an_app_request_parses_into_an_order() {
        let request = DeliveryRequest::parse(APP, "SH-1").unwrap();
        let order = request.order(request.items.clone());
        assert_eq!(order.order_id.as_deref(), Some("A1"));
        assert_eq!(order.items.len(), 1);
        assert_eq!(order.dropoff.address, "1 Road");
    }

    #[test]
    fn an_old_request_is_stale() {
        let request = DeliveryRequest::parse(APP, "SH-1").unwrap();
        let placed = chrono::DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert!(!request.stale(placed + chrono::Duration::minutes(10)));
        assert!(request.stale(placed + chrono::Duration::minutes(11)));
        let undated = DeliveryRequest {
            placed_at: "yesterday".into(),
            ..request
        };
        assert!(!undated.stale(placed + chrono::Duration::days(1)));
    }

    #[test]
    fn bad_requests_are_named() {
        assert_eq!(
            DeliveryRequest::parse(APP, "SH-2"),
            Err(RequestError::OtherStore("SH-1".into()))
        );
        let lane = br#"{"id":"r","order_id":"A","store_id":"S","source":"lane","dropoff":{"lat":1,"lon":2}}"#;
        assert_eq!(
            DeliveryRequest::parse(lane, "S"),
            Err(RequestError::NoPurchase)
        );
        for bytes in [&b""[..], b"{", b"null", b"{\"id\":\"r\"}", b"\xff"] {
            assert!(matches!(
                DeliveryRequest::parse(bytes, "S"),
                Err(RequestError::Shape(_))
            ));
        }
    }

    proptest::proptest! {
        /// Any bytes, and requests with any values in their fields: parsed or refused by name.
        #[test]
        fn no_input_panics(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
            text in ".{0,80}",
            lat in proptest::num::f64::ANY,
        ) {
            let _ = DeliveryRequest::parse(&bytes, "S");
            let v = json!({"id": text, "order_id": text, "store_id": "S", "source": text,
                "purchase_order_id": text, "items": [text], "dropoff": {"lat": lat, "lon": lat}});
            let _ = DeliveryRequest::parse(v.to_string().as_bytes(), "S");
        }
    }

    #[test]
    fn a_basket_becomes_lines() {
        let basket = Basket {
            items: vec![BasketItem {
                line: 1,
                gtin: "06901939621257".into(),
                name: "Milk".into(),
                quantity: 1,
                weight_g: Some(512),
                unit_price_fen: 2000,
                price_fen: 1024,
                lot: Some("L1".into()),
            }],
            discounts: Vec::new(),
        };
        let items = basket_items(&basket);
        assert_eq!(items[0]["amount_fen"], 1024);
        assert_eq!(items[0]["weight_g"], 512);
        assert_eq!(items[0]["lot"], "L1");
        assert_eq!(refusal_payload("m1", "S", "A", "why")["order_id"], "A");
    }
}
