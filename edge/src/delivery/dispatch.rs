//! The dispatcher: which rider takes which order. A state machine with no IO (the clock is handed
//! in, the actions handed back), so every rule is a fast unit test and the benchmark drives it
//! with 1,000 orders and 200 riders.
//!
//! Rules:
//! - A rider is a candidate while seen within `rider_stale` and carrying fewer than `capacity`
//!   orders, none of them yet picked up (a rider on the road comes back for more).
//! - The order due first is placed first, on the candidate with the earliest estimated arrival at
//!   its door: rider → store → drop-off at `speed_mps`, after the drop-offs already in the batch.
//! - A rider with orders joins a new one to the batch only if it goes the same way: the bearing
//!   from the store differs by at most `batch_angle_deg` from every order in the batch.
//! - An offer not accepted within `accept_timeout` is withdrawn and the order goes to another
//!   rider (the one who let it lapse is not asked again for it).
//! - Once per order, a warning when its estimated delivery comes within `warn_margin` of its
//!   promise, or when it has no rider and its promise is that close.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::geo::{self, Position};
use super::order::DeliveryOrder;

/// The dispatcher's settings (from the edge config's `[delivery]`).
#[derive(Debug, Clone)]
pub struct DispatchRules {
    pub speed_mps: f64,
    pub capacity: usize,
    pub accept_timeout: Duration,
    pub batch_angle_deg: f64,
    pub warn_margin: Duration,
    pub rider_stale: Duration,
}

impl Default for DispatchRules {
    fn default() -> Self {
        DispatchRules {
            speed_mps: 4.0,
            capacity: 3,
            accept_timeout: Duration::seconds(30),
            batch_angle_deg: 30.0,
            warn_margin: Duration::minutes(5),
            rider_stale: Duration::minutes(2),
        }
    }
}

/// Where an order is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum OrderStatus {
    /// No rider yet.
    Waiting,
    /// Offered to a rider at `at`; not yet accepted.
    Offered {
        rider: String,
        at: DateTime<Utc>,
    },
    Accepted {
        rider: String,
    },
    PickedUp {
        rider: String,
    },
    Delivered {
        rider: String,
    },
    /// Cancelled by the cloud (refused and refunded before the store accepted it); it is never
    /// offered again, and its rider (if any) was told.
    Cancelled,
}

impl OrderStatus {
    pub fn rider(&self) -> Option<&str> {
        match self {
            OrderStatus::Waiting | OrderStatus::Cancelled => None,
            OrderStatus::Offered { rider, .. }
            | OrderStatus::Accepted { rider }
            | OrderStatus::PickedUp { rider }
            | OrderStatus::Delivered { rider } => Some(rider),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            OrderStatus::Waiting => "waiting",
            OrderStatus::Offered { .. } => "offered",
            OrderStatus::Accepted { .. } => "accepted",
            OrderStatus::PickedUp { .. } => "picked_up",
            OrderStatus::Delivered { .. } => "delivered",
            OrderStatus::Cancelled => "cancelled",
        }
    }
}

/// An open order and what the dispatcher knows of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenOrder {
    pub order: DeliveryOrder,
    pub status: OrderStatus,
    /// Riders who let an offer of this order lapse.
    #[serde(default)]
    pub lapsed: Vec<String>,
    #[serde(default)]
    pub warned: bool,
}

/// A rider as last reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rider {
    pub id: String,
    pub position: Position,
    pub last_seen: DateTime<Utc>,
}

/// What a rider reports on `omo/v1/riders/{rider}/events`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum RiderReport {
    Location { lat: f64, lon: f64 },
    Accepted { order_id: String },
    PickedUp { order_id: String },
    Delivered { order_id: String },
}

/// One event from a rider, with its unique id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiderEvent {
    pub id: String,
    pub rider_id: String,
    #[serde(flatten)]
    pub report: RiderReport,
}

/// What the dispatcher wants done.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send the order to the rider (`omo/v1/riders/{rider}/dispatch`).
    Offer {
        order_id: String,
        rider: String,
        eta: DateTime<Utc>,
    },
    /// The rider did not accept in time; the order is waiting again.
    Lapsed { order_id: String, rider: String },
    /// The promise is at risk.
    Warn {
        order_id: String,
        promised_by: DateTime<Utc>,
        eta: Option<DateTime<Utc>>,
    },
    /// The order reached its door.
    Delivered { order_id: String, rider: String },
    /// The order was cancelled; tell `rider` (the one it was offered to or with), if any.
    Cancelled {
        order_id: String,
        rider: Option<String>,
        reason: String,
    },
}

/// How many event ids to remember for dropping repeats.
const SEEN_IDS: usize = 100_000;

/// The dispatcher.
pub struct Dispatcher {
    pub rules: DispatchRules,
    store: Position,
    orders: BTreeMap<String, OpenOrder>,
    riders: HashMap<String, Rider>,
    seen: HashSet<String>,
    seen_order: VecDeque<String>,
    dirty: HashSet<String>,
}

impl Dispatcher {
    pub fn new(store: Position, rules: DispatchRules) -> Dispatcher {
        Dispatcher {
            rules,
            store,
            orders: BTreeMap::new(),
            riders: HashMap::new(),
            seen: HashSet::new(),
            seen_order: VecDeque::new(),
            dirty: HashSet::new(),
        }
    }

    /// Adds an order (new, or loaded back from the database). Known ids are left as they are.
    pub fn add(&mut self, open: OpenOrder) {
        let id = open.order.order_id.clone();
        if !self.orders.contains_key(&id) {
            self.dirty.insert(id.clone());
            self.orders.insert(id, open);
        }
    }

    /// Adds or updates a rider (loaded back from the database).
    pub fn add_rider(&mut self, rider: Rider) {
        self.riders.insert(rider.id.clone(), rider);
    }

    pub fn contains(&self, order_id: &str) -> bool {
        self.orders.contains_key(order_id)
    }

    pub fn order(&self, order_id: &str) -> Option<&OpenOrder> {
        self.orders.get(order_id)
    }

    pub fn orders(&self) -> impl Iterator<Item = &OpenOrder> {
        self.orders.values()
    }

    pub fn rider(&self, id: &str) -> Option<&Rider> {
        self.riders.get(id)
    }

    /// Orders changed since the last call (to persist), and delivered orders are forgotten after.
    pub fn take_dirty(&mut self) -> Vec<OpenOrder> {
        let dirty: Vec<OpenOrder> = self
            .dirty
            .drain()
            .filter_map(|id| self.orders.get(&id).cloned())
            .collect();
        self.orders.retain(|_, o| {
            !matches!(
                o.status,
                OrderStatus::Delivered { .. } | OrderStatus::Cancelled
            )
        });
        dirty
    }

    /// The cloud cancelled `order_id`: withdrawn from its rider and never offered again. Nothing
    /// for an order it does not hold (unknown, already cancelled) or one already delivered.
    pub fn cancel(&mut self, order_id: &str, reason: &str) -> Vec<Action> {
        let Some(open) = self.orders.get_mut(order_id) else {
            return Vec::new();
        };
        if matches!(open.status, OrderStatus::Delivered { .. }) {
            return Vec::new();
        }
        let rider = open.status.rider().map(str::to_owned);
        open.status = OrderStatus::Cancelled;
        self.dirty.insert(order_id.to_owned());
        vec![Action::Cancelled {
            order_id: order_id.to_owned(),
            rider,
            reason: reason.to_owned(),
        }]
    }

    /// Whether the event id was seen before; records it.
    pub fn is_repeat(&mut self, id: &str) -> bool {
        if self.seen.contains(id) {
            return true;
        }
        self.seen.insert(id.to_string());
        self.seen_order.push_back(id.to_string());
        if self.seen_order.len() > SEEN_IDS
            && let Some(old) = self.seen_order.pop_front()
        {
            self.seen.remove(&old);
        }
        false
    }

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

#[derive(Default)]
struct Load {
    orders: Vec<String>,
    on_the_road: bool,
}

struct Candidate {
    id: String,
    to_store_s: f64,
    /// The batch so far: (distance from the store, bearing from the store, drop-off).
    batch: Vec<(f64, f64, Position)>,
}

impl Candidate {
    /// Seconds until `order` would reach its door with this rider, or None if it does not go the
    /// way of the rider's batch. The batch is delivered nearest drop-off first.
    fn arrival_s(&self, order: &DeliveryOrder, rules: &DispatchRules) -> Option<f64> {
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

#[cfg(test)]
#[path = "dispatch_tests.rs"]
mod tests;
