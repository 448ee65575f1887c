//! MQTT topic names, exactly as CONTRACT.md fixes them.

/// GS1 EPCIS events of a store (edge → cloud).
pub fn trace(store: &str) -> String {
    format!("omo/v1/stores/{store}/trace")
}

/// Delivery orders of a store (edge → cloud).
pub fn delivery_orders(store: &str) -> String {
    format!("omo/v1/stores/{store}/delivery/orders")
}

/// Orders placed in the app that the cloud forwards to a store (cloud → edge; an extension).
pub fn delivery_requests(store: &str) -> String {
    format!("omo/v1/stores/{store}/delivery/requests")
}

/// Forwarded orders a store could not take (edge → cloud; an extension).
pub fn delivery_refusals(store: &str) -> String {
    format!("omo/v1/stores/{store}/delivery/refusals")
}

/// A rider's progress with an order: accepted (rider, ETA), picked up, delivered (edge →
/// cloud; an extension, so the shopper's app follows the rider through the cloud).
pub fn delivery_progress(store: &str) -> String {
    format!("omo/v1/stores/{store}/delivery/progress")
}

/// Orders the cloud refused and refunded before the store accepted them: the edge cancels their
/// dispatch (cloud → edge; an extension).
pub fn delivery_cancellations(store: &str) -> String {
    format!("omo/v1/stores/{store}/delivery/cancellations")
}

/// A device's health, retained.
pub fn device_state(store: &str, device: &str) -> String {
    format!("omo/v1/stores/{store}/devices/{device}/state")
}

/// A lane's state and basket, retained.
pub fn lane_state(store: &str, lane: &str) -> String {
    format!("omo/v1/stores/{store}/lanes/{lane}/state")
}

/// The edge's own state, retained: `online`, and `offline` as its last will.
pub fn edge_state(store: &str) -> String {
    format!("omo/v1/stores/{store}/edge/state")
}

#[cfg(test)]
mod tests {
    #[test]
    fn topics_match_the_contract() {
        assert_eq!(super::trace("SH-001"), "omo/v1/stores/SH-001/trace");
        assert_eq!(
            super::lane_state("SH-001", "2"),
            "omo/v1/stores/SH-001/lanes/2/state"
        );
        assert_eq!(
            super::device_state("SH-001", "lane-2-scanner"),
            "omo/v1/stores/SH-001/devices/lane-2-scanner/state"
        );
        assert_eq!(
            super::edge_state("SH-001"),
            "omo/v1/stores/SH-001/edge/state"
        );
        assert_eq!(
            super::delivery_orders("S"),
            "omo/v1/stores/S/delivery/orders"
        );
    }
}
