//! The cloud's cancellation of a delivery order, on `omo/v1/stores/{store}/delivery/cancellations`
//! (QoS 1): the store accepted an order the cloud had already refused and refunded (the store
//! answered too late, or a refusal crossed its acceptance), so it must not be delivered. The edge
//! withdraws the order from the dispatcher and tells the rider who had it, with a
//! `"type":"cancelled"` message on the rider's dispatch topic (through the outbox, in the same
//! transaction that marks the order cancelled). A repeat finds the order cancelled already and
//! changes nothing. It is applied in [`super::service::apply`].

use serde::Deserialize;
use serde_json::{Value, json};

/// What the cloud says.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Cancellation {
    pub id: String,
    pub order_id: String,
    pub store_id: String,
    #[serde(default)]
    pub reason: String,
}

/// Why a cancellation was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CancellationError {
    #[error("not a delivery cancellation: {0}")]
    Shape(String),
    #[error("the cancellation is for store {0:?}, not this one")]
    OtherStore(String),
}

impl Cancellation {
    /// Parses a cancellation sent on `store_id`'s cancellations topic.
    pub fn parse(bytes: &[u8], store_id: &str) -> Result<Self, CancellationError> {
        let mut c: Cancellation =
            serde_json::from_slice(bytes).map_err(|e| CancellationError::Shape(e.to_string()))?;
        if c.store_id != store_id {
            return Err(CancellationError::OtherStore(c.store_id));
        }
        if c.id.is_empty() || c.order_id.is_empty() || c.order_id.len() > 64 {
            return Err(CancellationError::Shape("empty id or order_id".into()));
        }
        c.reason = c.reason.chars().take(300).collect();
        Ok(c)
    }
}

/// What the rider is told on its dispatch topic: message `id`, `"type":"cancelled"`.
pub fn rider_payload(id: &str, store_id: &str, order_id: &str, reason: &str) -> Value {
    json!({
        "id": id,
        "type": "cancelled",
        "order_id": order_id,
        "store_id": store_id,
        "reason": reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancellation_names_its_store() {
        let bytes = br#"{"id":"cancel-A1","type":"cancelled","order_id":"A1","store_id":"S","reason":"refunded"}"#;
        let c = Cancellation::parse(bytes, "S").unwrap();
        assert_eq!((c.id.as_str(), c.order_id.as_str()), ("cancel-A1", "A1"));
        assert_eq!(
            Cancellation::parse(bytes, "T"),
            Err(CancellationError::OtherStore("S".into()))
        );
        for bad in [
            &b""[..],
            b"{",
            b"null",
            br#"{"id":"","order_id":"A","store_id":"S"}"#,
        ] {
            assert!(Cancellation::parse(bad, "S").is_err());
        }
        let told = rider_payload("m", "S", "A1", "refunded");
        assert_eq!(told["type"], "cancelled");
    }
}
