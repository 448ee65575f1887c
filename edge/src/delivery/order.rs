//! Delivery orders: acceptance within the store's radius, the 30-minute promise, and the JSON the
//! contract fixes for `omo/v1/stores/{store}/delivery/orders` and `omo/v1/riders/{rider}/dispatch`.
//! Pure: the clock and the ids are handed in.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::geo::{self, Position};
use crate::epcis::rfc3339;

/// Every accepted order is promised at the door this long after it was accepted.
pub const PROMISE: Duration = Duration::minutes(30);

/// A request to deliver, as the lane or the app sends it (`POST /api/delivery/orders`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderRequest {
    /// The order's id; one is made if absent. Placing the same id twice changes nothing.
    #[serde(default)]
    pub order_id: Option<String>,
    /// What to deliver (lines as the caller knows them: gtin, name, quantity...).
    #[serde(default)]
    pub items: Vec<Value>,
    pub dropoff: Dropoff,
}

/// Where the order goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dropoff {
    pub lat: f64,
    pub lon: f64,
    #[serde(default)]
    pub address: String,
}

impl Dropoff {
    pub fn position(&self) -> Position {
        Position::new(self.lat, self.lon)
    }
}

/// An accepted delivery order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryOrder {
    pub order_id: String,
    pub store_id: String,
    pub items: Vec<Value>,
    pub dropoff: Dropoff,
    /// Geodesic distance from the store to the drop-off, in metres (WGS 84).
    pub distance_m: f64,
    /// Initial bearing from the store to the drop-off, in degrees (used to batch orders).
    pub bearing_deg: f64,
    pub accepted_at: DateTime<Utc>,
    pub promised_by: DateTime<Utc>,
}

/// Why an order was not accepted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "the drop-off is {distance_m:.0} m from the store; delivery is offered within {radius_m} m"
    )]
    OutOfRange { distance_m: f64, radius_m: u32 },
    #[error("the drop-off ({lat}, {lon}) is not a position on earth")]
    BadPosition { lat: f64, lon: f64 },
    #[error("order_id {0:?} must be 1-64 letters, digits, '-', '_' or '.'")]
    BadOrderId(String),
}

/// The store placing orders: where it is and how far it delivers.
#[derive(Debug, Clone)]
pub struct Shop {
    pub store_id: String,
    pub position: Position,
    pub radius_m: u32,
}

impl Shop {
    /// Accepts `request` at `now` if the drop-off is within the radius; `new_id` makes an order id
    /// when the request has none.
    pub fn accept(
        &self,
        request: OrderRequest,
        now: DateTime<Utc>,
        new_id: impl FnOnce() -> String,
    ) -> Result<DeliveryOrder, Refusal> {
        let target = request.dropoff.position();
        if !target.is_valid() {
            return Err(Refusal::BadPosition {
                lat: request.dropoff.lat,
                lon: request.dropoff.lon,
            });
        }
        let order_id = request.order_id.unwrap_or_else(new_id);
        if order_id.is_empty()
            || order_id.len() > 64
            || !order_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(Refusal::BadOrderId(order_id));
        }
        let distance_m = geo::distance_m(self.position, target);
        if distance_m > f64::from(self.radius_m) {
            return Err(Refusal::OutOfRange {
                distance_m,
                radius_m: self.radius_m,
            });
        }
        Ok(DeliveryOrder {
            order_id,
            store_id: self.store_id.clone(),
            items: request.items,
            dropoff: request.dropoff,
            distance_m,
            bearing_deg: geo::bearing_deg(self.position, target),
            accepted_at: now,
            promised_by: now + PROMISE,
        })
    }
}

impl DeliveryOrder {
    /// The payload for `omo/v1/stores/{store}/delivery/orders`, with the message's unique `id`.
    pub fn order_payload(&self, id: &str) -> Value {
        json!({
            "id": id,
            "order_id": self.order_id,
            "store_id": self.store_id,
            "items": self.items,
            "dropoff": self.dropoff,
            "distance_m": round_m(self.distance_m),
            "accepted_at": rfc3339(self.accepted_at),
            "promised_by": rfc3339(self.promised_by),
        })
    }

    /// The payload for `omo/v1/riders/{rider}/dispatch`: one assignment, with its unique `id`.
    pub fn dispatch_payload(&self, id: &str, rider_id: &str, pickup: Position) -> Value {
        json!({
            "id": id,
            "order_id": self.order_id,
            "store_id": self.store_id,
            "rider_id": rider_id,
            "pickup": { "lat": pickup.lat, "lon": pickup.lon, "store_id": self.store_id },
            "dropoff": self.dropoff,
            "distance_m": round_m(self.distance_m),
            "promised_by": rfc3339(self.promised_by),
        })
    }
}

/// Metres to one decimal (decimetres): enough for a person, stable in JSON.
pub fn round_m(m: f64) -> f64 {
    (m * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop() -> Shop {
        Shop {
            store_id: "SH-001".into(),
            position: Position::new(31.2304, 121.4737),
            radius_m: 3000,
        }
    }

    fn request_at(metres: f64) -> OrderRequest {
        let to = geo::destination(shop().position, 60.0, metres);
        OrderRequest {
            order_id: Some("o-1".into()),
            items: vec![json!({"gtin": "5901234123457", "quantity": 2})],
            dropoff: Dropoff {
                lat: to.lat,
                lon: to.lon,
                address: "Nanjing West Rd 1".into(),
            },
        }
    }

    #[test]
    fn an_order_within_the_radius_is_promised_in_thirty_minutes() {
        let now = Utc::now();
        let order = shop()
            .accept(request_at(2_900.0), now, || "x".into())
            .unwrap();
        assert!((order.distance_m - 2_900.0).abs() < 0.01);
        assert_eq!(order.promised_by - order.accepted_at, Duration::minutes(30));
        let payload = order.order_payload("m-1");
        for key in [
            "id",
            "order_id",
            "store_id",
            "items",
            "dropoff",
            "distance_m",
            "promised_by",
        ] {
            assert!(payload.get(key).is_some(), "{key} missing");
        }
        assert_eq!(payload["dropoff"]["address"], "Nanjing West Rd 1");
    }

    #[test]
    fn an_order_at_3200_metres_is_refused_with_its_distance() {
        let refusal = shop()
            .accept(request_at(3_200.0), Utc::now(), || "x".into())
            .unwrap_err();
        match &refusal {
            Refusal::OutOfRange {
                distance_m,
                radius_m,
            } => {
                assert!((distance_m - 3_200.0).abs() < 0.01);
                assert_eq!(*radius_m, 3000);
            }
            other => panic!("{other:?}"),
        }
        assert!(refusal.to_string().contains("3200 m"), "{refusal}");
    }

    #[test]
    fn a_position_off_the_earth_is_refused() {
        let mut request = request_at(100.0);
        request.dropoff.lat = 91.0;
        assert!(matches!(
            shop().accept(request, Utc::now(), || "x".into()),
            Err(Refusal::BadPosition { .. })
        ));
    }
}
