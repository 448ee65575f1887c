//! What the invariants are checked against: per order, the last status the cloud gave it and
//! whether the lane gave up on it; per basket, its orders the cloud holds as charged.

use std::collections::{BTreeMap, BTreeSet};

/// What is known of one order.
#[derive(Debug, Default, Clone)]
pub struct OrderFacts {
    pub cloud: Option<i32>,
    pub lane_gave_up: bool,
}

/// The facts the invariants are checked against.
#[derive(Debug, Default)]
pub struct Oracle {
    pub orders: BTreeMap<String, OrderFacts>,
    /// Per basket (session id), its orders the cloud holds as charged.
    pub charged: BTreeMap<String, BTreeSet<String>>,
    /// Wallets touched by the step, to check.
    pub touched: BTreeSet<String>,
    pub sales: u64,
}

impl Oracle {
    /// A sale was recorded.
    pub fn sale(&mut self, _order: &str) {
        self.sales += 1;
    }
}

/// The basket of an order: order ids are `{session}-{attempt}`.
pub fn session_of(order_id: &str) -> &str {
    order_id.rsplit_once('-').map_or(order_id, |(s, _)| s)
}

#[cfg(test)]
mod tests {
    use super::session_of;

    #[test]
    fn an_order_belongs_to_its_basket() {
        assert_eq!(session_of("c17-2"), "c17");
        assert_eq!(session_of("c17"), "c17");
    }
}
