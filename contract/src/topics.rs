//! MQTT topic names, exactly as `../shared/CONTRACT.md` fixes them (and the documented
//! extensions of docs/CONTRACT-NOTES.md): the builders every publisher uses, the filters every
//! subscriber uses, and [`parse`], which says which topic a received one is and whose it is.
//! Pure.
//!
//! | topic | from → to | retained |
//! | --- | --- | --- |
//! | `omo/v1/stores/{store}/trace` | edge → cloud | no |
//! | `omo/v1/stores/{store}/delivery/orders` | edge → cloud | no |
//! | `omo/v1/stores/{store}/delivery/requests` | cloud → edge (extension) | no |
//! | `omo/v1/stores/{store}/delivery/refusals` | edge → cloud (extension) | no |
//! | `omo/v1/stores/{store}/delivery/progress` | edge → cloud (extension) | no |
//! | `omo/v1/stores/{store}/delivery/cancellations` | cloud → edge (extension) | no |
//! | `omo/v1/stores/{store}/devices/{device}/state` | edge → dashboards | yes |
//! | `omo/v1/stores/{store}/lanes/{lane}/state` | edge → dashboards | yes |
//! | `omo/v1/stores/{store}/edge/state` | edge (last will) → dashboards | yes |
//! | `omo/v1/riders/{rider}/dispatch` | edge → rider | no |
//! | `omo/v1/riders/{rider}/events` | rider → edge | no |

const STORES: &str = "omo/v1/stores/";
const RIDERS: &str = "omo/v1/riders/";

/// GS1 EPCIS events of a store (edge → cloud).
pub fn trace(store: &str) -> String {
    format!("{STORES}{store}/trace")
}

/// Delivery orders of a store (edge → cloud).
pub fn delivery_orders(store: &str) -> String {
    format!("{STORES}{store}/delivery/orders")
}

/// Orders placed in the app that the cloud forwards to a store (cloud → edge; an extension).
pub fn delivery_requests(store: &str) -> String {
    format!("{STORES}{store}/delivery/requests")
}

/// Forwarded orders a store could not take (edge → cloud; an extension).
pub fn delivery_refusals(store: &str) -> String {
    format!("{STORES}{store}/delivery/refusals")
}

/// A rider's progress with an order: accepted (rider, ETA), picked up, delivered (edge →
/// cloud; an extension, so the shopper's app follows the rider through the cloud).
pub fn delivery_progress(store: &str) -> String {
    format!("{STORES}{store}/delivery/progress")
}

/// Orders the cloud refused and refunded before the store accepted them: the edge cancels their
/// dispatch (cloud → edge; an extension).
pub fn delivery_cancellations(store: &str) -> String {
    format!("{STORES}{store}/delivery/cancellations")
}

/// A device's health, retained.
pub fn device_state(store: &str, device: &str) -> String {
    format!("{STORES}{store}/devices/{device}/state")
}

/// A lane's state and basket, retained.
pub fn lane_state(store: &str, lane: &str) -> String {
    format!("{STORES}{store}/lanes/{lane}/state")
}

/// The edge's own state, retained: `online`, and `offline` as its last will.
pub fn edge_state(store: &str) -> String {
    format!("{STORES}{store}/edge/state")
}

/// The dispatch orders a rider receives (edge → rider).
pub fn rider_dispatch(rider: &str) -> String {
    format!("{RIDERS}{rider}/dispatch")
}

/// What a rider reports: accepted, declined, picked up, delivered, location (rider → edge).
pub fn rider_events(rider: &str) -> String {
    format!("{RIDERS}{rider}/events")
}

/// Every store's trace topic (the cloud's trace store subscribes to it).
pub const EVERY_TRACE: &str = "omo/v1/stores/+/trace";

/// Every store's delivery topics the cloud follows: orders, refusals and progress.
pub const EVERY_STORE_DELIVERY: [&str; 3] = [
    "omo/v1/stores/+/delivery/orders",
    "omo/v1/stores/+/delivery/refusals",
    "omo/v1/stores/+/delivery/progress",
];

/// Every rider's events (a store's edge subscribes to it; the broker's ACL lets each rider
/// publish only on its own).
pub const EVERY_RIDER_EVENTS: &str = "omo/v1/riders/+/events";

/// A received topic, named by its kind, with the store or rider it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic<'a> {
    Trace { store: &'a str },
    DeliveryOrders { store: &'a str },
    DeliveryRequests { store: &'a str },
    DeliveryRefusals { store: &'a str },
    DeliveryProgress { store: &'a str },
    DeliveryCancellations { store: &'a str },
    DeviceState { store: &'a str, device: &'a str },
    LaneState { store: &'a str, lane: &'a str },
    EdgeState { store: &'a str },
    RiderDispatch { rider: &'a str },
    RiderEvents { rider: &'a str },
}

/// Which contract topic `topic` is, or `None` for any other (including one whose store, rider,
/// lane or device level is empty, and a filter with wildcards).
pub fn parse(topic: &str) -> Option<Topic<'_>> {
    if topic.contains(['+', '#']) {
        return None;
    }
    if let Some(rest) = topic.strip_prefix(RIDERS) {
        let (rider, kind) = rest.split_once('/')?;
        if rider.is_empty() {
            return None;
        }
        return match kind {
            "dispatch" => Some(Topic::RiderDispatch { rider }),
            "events" => Some(Topic::RiderEvents { rider }),
            _ => None,
        };
    }
    let rest = topic.strip_prefix(STORES)?;
    let (store, kind) = rest.split_once('/')?;
    if store.is_empty() {
        return None;
    }
    let levels: Vec<&str> = kind.split('/').collect();
    let topic = match levels.as_slice() {
        ["trace"] => Topic::Trace { store },
        ["delivery", "orders"] => Topic::DeliveryOrders { store },
        ["delivery", "requests"] => Topic::DeliveryRequests { store },
        ["delivery", "refusals"] => Topic::DeliveryRefusals { store },
        ["delivery", "progress"] => Topic::DeliveryProgress { store },
        ["delivery", "cancellations"] => Topic::DeliveryCancellations { store },
        ["devices", device, "state"] if !device.is_empty() => Topic::DeviceState { store, device },
        ["lanes", lane, "state"] if !lane.is_empty() => Topic::LaneState { store, lane },
        ["edge", "state"] => Topic::EdgeState { store },
        _ => return None,
    };
    Some(topic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_match_the_contract() {
        assert_eq!(trace("SH-001"), "omo/v1/stores/SH-001/trace");
        assert_eq!(
            lane_state("SH-001", "2"),
            "omo/v1/stores/SH-001/lanes/2/state"
        );
        assert_eq!(
            device_state("SH-001", "lane-2-scanner"),
            "omo/v1/stores/SH-001/devices/lane-2-scanner/state"
        );
        assert_eq!(edge_state("SH-001"), "omo/v1/stores/SH-001/edge/state");
        assert_eq!(delivery_orders("S"), "omo/v1/stores/S/delivery/orders");
        assert_eq!(delivery_requests("S"), "omo/v1/stores/S/delivery/requests");
        assert_eq!(delivery_refusals("S"), "omo/v1/stores/S/delivery/refusals");
        assert_eq!(delivery_progress("S"), "omo/v1/stores/S/delivery/progress");
        assert_eq!(
            delivery_cancellations("S"),
            "omo/v1/stores/S/delivery/cancellations"
        );
        assert_eq!(rider_dispatch("r-1"), "omo/v1/riders/r-1/dispatch");
        assert_eq!(rider_events("r-1"), "omo/v1/riders/r-1/events");
    }

    #[test]
    fn every_built_topic_parses_back_to_its_kind_and_owner() {
        let cases = [
            (trace("S"), Topic::Trace { store: "S" }),
            (delivery_orders("S"), Topic::DeliveryOrders { store: "S" }),
            (
                delivery_requests("S"),
                Topic::DeliveryRequests { store: "S" },
            ),
            (
                delivery_refusals("S"),
                Topic::DeliveryRefusals { store: "S" },
            ),
            (
                delivery_progress("S"),
                Topic::DeliveryProgress { store: "S" },
            ),
            (
                delivery_cancellations("S"),
                Topic::DeliveryCancellations { store: "S" },
            ),
            (
                device_state("S", "d"),
                Topic::DeviceState {
                    store: "S",
                    device: "d",
                },
            ),
            (
                lane_state("S", "3"),
                Topic::LaneState {
                    store: "S",
                    lane: "3",
                },
            ),
            (edge_state("S"), Topic::EdgeState { store: "S" }),
            (rider_dispatch("r"), Topic::RiderDispatch { rider: "r" }),
            (rider_events("r"), Topic::RiderEvents { rider: "r" }),
        ];
        for (topic, kind) in &cases {
            assert_eq!(parse(topic).as_ref(), Some(kind), "{topic}");
        }
    }

    #[test]
    fn other_topics_and_empty_levels_are_none() {
        for topic in [
            "",
            "omo/v1/stores/",
            "omo/v1/stores//trace",
            "omo/v1/stores/S/trace/extra",
            "omo/v1/stores/a/b/trace",
            "omo/v1/stores/S/lanes//state",
            "omo/v1/stores/S/devices/state",
            "omo/v1/stores/S/delivery",
            "omo/v1/riders//events",
            "omo/v1/riders/r/events/x",
            "omo/v2/stores/S/trace",
            EVERY_TRACE,
            EVERY_RIDER_EVENTS,
            "omo/v1/stores/#",
        ] {
            assert_eq!(parse(topic), None, "{topic:?}");
        }
    }
}
