//! A shopper at a lane, as data: their plan, their wallet, what they have seen. What they do
//! is in `people.rs`.

use std::collections::{BTreeSet, VecDeque};

use crate::goods::Move;

/// A shopper at a lane.
#[derive(Debug)]
pub struct Shopper {
    pub id: u64,
    pub wallet: usize,
    pub plan: VecDeque<Move>,
    /// The lane's session once the first scan opened it.
    pub session: Option<String>,
    /// Payment codes shown so far.
    pub pays: u32,
    /// Attempts whose failure the shopper has seen, and PENDING ones answered in the app.
    pub seen: BTreeSet<String>,
    pub arrived_ms: u64,
    /// Walked away with the basket unpaid.
    pub left: bool,
}
