//! A rider's event applied to the dispatcher: a location, or an order accepted, picked up or
//! delivered by the rider it is with. Repeats (by event id) change nothing.

use chrono::{DateTime, Utc};

use super::{Action, Dispatcher, OrderStatus, Rider, RiderEvent, RiderReport};
use crate::delivery::geo::Position;

impl Dispatcher {
    /// Applies one rider event; repeats (by id) change nothing.
    pub fn handle(&mut self, event: &RiderEvent, now: DateTime<Utc>) -> Vec<Action> {
        if self.is_repeat(&event.id) {
            return Vec::new();
        }
        let rider_id = event.rider_id.clone();
        let rider = self
            .riders
            .entry(rider_id.clone())
            .or_insert_with(|| Rider {
                id: rider_id.clone(),
                position: self.store,
                last_seen: now,
            });
        rider.last_seen = now;
        let (order_id, next) = match &event.report {
            RiderReport::Location { lat, lon } => {
                let p = Position::new(*lat, *lon);
                if p.is_valid() {
                    rider.position = p;
                }
                return Vec::new();
            }
            RiderReport::Accepted { order_id } => (order_id, "accepted"),
            RiderReport::PickedUp { order_id } => (order_id, "picked_up"),
            RiderReport::Delivered { order_id } => (order_id, "delivered"),
        };
        let Some(open) = self.orders.get_mut(order_id) else {
            return Vec::new();
        };
        // Only the rider the order is with may move it on; a late accept after a lapse is ignored.
        if open.status.rider() != Some(rider_id.as_str()) {
            return Vec::new();
        }
        let rider = rider_id.clone();
        let new = match (next, &open.status) {
            ("accepted", OrderStatus::Offered { .. }) => OrderStatus::Accepted { rider },
            ("picked_up", OrderStatus::Offered { .. } | OrderStatus::Accepted { .. }) => {
                OrderStatus::PickedUp { rider }
            }
            (
                "delivered",
                OrderStatus::Offered { .. }
                | OrderStatus::Accepted { .. }
                | OrderStatus::PickedUp { .. },
            ) => OrderStatus::Delivered { rider },
            _ => return Vec::new(),
        };
        open.status = new;
        self.dirty.insert(order_id.clone());
        if next == "delivered" {
            // The rider is at the drop-off now.
            let at = open.order.dropoff.position();
            if let Some(r) = self.riders.get_mut(&rider_id) {
                r.position = at;
            }
            return vec![Action::Delivered {
                order_id: order_id.clone(),
                rider: rider_id,
            }];
        }
        Vec::new()
    }
}
