//! Time passing for the dispatcher: offers not accepted in time lapse, waiting orders are
//! offered (the one due first first, to the earliest arrival, batched by the way they go), and
//! promises at risk are warned about once; and the estimate of an order's arrival.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use super::batch::{Candidate, Load};
use super::{Action, Dispatcher, OpenOrder, OrderStatus};
use crate::delivery::geo::{self, Position};

impl Dispatcher {
    /// Time passes: lapse stale offers, offer waiting orders, warn about promises at risk.
    pub fn tick(&mut self, now: DateTime<Utc>) -> Vec<Action> {
        let mut actions = Vec::new();
        // 1. Offers not accepted in time go back to waiting.
        for (id, open) in self.orders.iter_mut() {
            if let OrderStatus::Offered { rider, at } = &open.status
                && now - *at >= self.rules.accept_timeout
            {
                let rider = rider.clone();
                open.lapsed.push(rider.clone());
                open.status = OrderStatus::Waiting;
                self.dirty.insert(id.clone());
                actions.push(Action::Lapsed {
                    order_id: id.clone(),
                    rider,
                });
            }
        }

        // 2. Each rider's load, and whether it can take more.
        let mut loads: HashMap<&str, Load> = HashMap::new();
        for open in self.orders.values() {
            let Some(rider) = open.status.rider() else {
                continue;
            };
            let load = loads.entry(rider).or_default();
            match open.status {
                OrderStatus::Delivered { .. } => {}
                OrderStatus::PickedUp { .. } => load.on_the_road = true,
                _ => load.orders.push(open.order.order_id.clone()),
            }
        }
        let mut candidates: Vec<Candidate> = self
            .riders
            .values()
            .filter(|r| now - r.last_seen <= self.rules.rider_stale)
            .filter_map(|r| {
                let load = loads.get(r.id.as_str());
                if load.is_some_and(|l| l.on_the_road) {
                    return None;
                }
                let batch: Vec<(f64, f64, Position)> = load
                    .map(|l| {
                        l.orders
                            .iter()
                            .filter_map(|id| self.orders.get(id))
                            .map(|o| {
                                (
                                    o.order.distance_m,
                                    o.order.bearing_deg,
                                    o.order.dropoff.position(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                (batch.len() < self.rules.capacity).then(|| Candidate {
                    id: r.id.clone(),
                    to_store_s: geo::distance_m(r.position, self.store) / self.rules.speed_mps,
                    batch,
                })
            })
            .collect();

        // 3. Waiting orders, the one due first first, to the earliest arrival.
        let mut waiting: Vec<(DateTime<Utc>, String)> = self
            .orders
            .values()
            .filter(|o| o.status == OrderStatus::Waiting)
            .map(|o| (o.order.promised_by, o.order.order_id.clone()))
            .collect();
        waiting.sort();
        for (_, id) in waiting {
            if candidates.is_empty() {
                break;
            }
            let open = &self.orders[&id];
            let mut best: Option<(f64, usize)> = None;
            for (i, c) in candidates.iter().enumerate() {
                if open.lapsed.contains(&c.id) {
                    continue;
                }
                let Some(secs) = c.arrival_s(&open.order, &self.rules) else {
                    continue;
                };
                if best.is_none_or(|(b, _)| secs < b) {
                    best = Some((secs, i));
                }
            }
            let Some((secs, i)) = best else { continue };
            let rider = candidates[i].id.clone();
            candidates[i].batch.push((
                open.order.distance_m,
                open.order.bearing_deg,
                open.order.dropoff.position(),
            ));
            if candidates[i].batch.len() >= self.rules.capacity {
                candidates.swap_remove(i);
            }
            let open = self.orders.get_mut(&id).expect("listed above");
            open.status = OrderStatus::Offered {
                rider: rider.clone(),
                at: now,
            };
            self.dirty.insert(id.clone());
            actions.push(Action::Offer {
                order_id: id,
                rider,
                eta: now + Duration::milliseconds((secs * 1000.0) as i64),
            });
        }

        // 4. Promises at risk, once per order.
        let at_risk: Vec<(String, Option<DateTime<Utc>>)> = self
            .orders
            .values()
            .filter(|o| {
                !o.warned
                    && !matches!(
                        o.status,
                        OrderStatus::Delivered { .. } | OrderStatus::Cancelled
                    )
            })
            .filter_map(|o| {
                let eta = self.estimate(o, now);
                let expected = eta.unwrap_or(now);
                (expected + self.rules.warn_margin > o.order.promised_by)
                    .then(|| (o.order.order_id.clone(), eta))
            })
            .collect();
        for (id, eta) in at_risk {
            let open = self.orders.get_mut(&id).expect("listed above");
            open.warned = true;
            self.dirty.insert(id.clone());
            actions.push(Action::Warn {
                order_id: id,
                promised_by: open.order.promised_by,
                eta,
            });
        }
        actions
    }

    /// When the order should reach its door, if it has a rider.
    pub fn estimate(&self, open: &OpenOrder, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let rider = self.riders.get(open.status.rider()?)?;
        let metres = match open.status {
            OrderStatus::PickedUp { .. } => {
                geo::distance_m(rider.position, open.order.dropoff.position())
            }
            _ => geo::distance_m(rider.position, self.store) + open.order.distance_m,
        };
        Some(now + Duration::milliseconds((metres / self.rules.speed_mps * 1000.0) as i64))
    }
}
