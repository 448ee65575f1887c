//! Rider choice within one tick: each candidate rider's batch so far, and when an order would
//! reach its door with that rider (or not at all, if it does not go the batch's way).

use crate::delivery::geo::{self, Position};
use crate::delivery::order::DeliveryOrder;

use super::DispatchRules;

#[derive(Default)]
pub(super) struct Load {
    pub(super) orders: Vec<String>,
    pub(super) on_the_road: bool,
}

pub(super) struct Candidate {
    pub(super) id: String,
    pub(super) to_store_s: f64,
    /// The batch so far: (distance from the store, bearing from the store, drop-off).
    pub(super) batch: Vec<(f64, f64, Position)>,
}

impl Candidate {
    /// Seconds until `order` would reach its door with this rider, or None if it does not go the
    /// way of the rider's batch. The batch is delivered nearest drop-off first.
    pub(super) fn arrival_s(&self, order: &DeliveryOrder, rules: &DispatchRules) -> Option<f64> {
        if self.batch.is_empty() {
            return Some(self.to_store_s + order.distance_m / rules.speed_mps);
        }
        if self.batch.iter().any(|(_, b, _)| {
            geo::bearing_difference_deg(*b, order.bearing_deg) > rules.batch_angle_deg
        }) {
            return None;
        }
        // Same way: along the batch, nearest first, up to this order's stop.
        let mut stops: Vec<(f64, Position)> = self.batch.iter().map(|(d, _, p)| (*d, *p)).collect();
        stops.push((order.distance_m, order.dropoff.position()));
        stops.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut metres = 0.0;
        let mut last: Option<Position> = None;
        for (d, p) in stops {
            metres += match last {
                None => d,
                Some(prev) => geo::distance_m(prev, p),
            };
            if p == order.dropoff.position() {
                break;
            }
            last = Some(p);
        }
        Some(self.to_store_s + metres / rules.speed_mps)
    }
}
