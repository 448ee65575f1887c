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
//!
//! The files: [`rules`] (the settings), [`orders`] and [`riders`] (what the dispatcher holds and
//! hears), [`action`] (what it wants done), `handle` (a rider's event), `tick` (time passing) and
//! `batch` (a candidate rider's batch and arrival time).

pub mod action;
mod batch;
mod handle;
pub mod orders;
pub mod riders;
pub mod rules;
mod tick;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use super::geo::Position;

pub use action::Action;
pub use orders::{OpenOrder, OrderStatus};
pub use riders::{Rider, RiderEvent, RiderReport};
pub use rules::DispatchRules;

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
}

#[cfg(test)]
mod tests;
