//! What a run reports: the [`Report`] of a run that kept every invariant, or the [`Failure`]
//! that names the invariant broken, the seed and the step, and how to replay it.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// The rules checked after every step (see `invariants.rs` and docs/SIMULATION.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Invariant {
    /// One basket (a lane session) is charged at most once, whatever the retries and crashes.
    NoBasketChargedTwice,
    /// A payment the cloud holds as SUCCEEDED belongs to a basket the lane let out (a sale is
    /// recorded): the lane never gives up on an order the cloud charged.
    NoPaidBasketLost,
    /// The gate opens for a basket only once its order is SUCCEEDED in the cloud.
    GateOnlyAfterSucceeded,
    /// Once the network heals and the shoppers are gone, every payment is final and no lane is
    /// still paying.
    EveryPaymentFinal,
    /// Every ledger transaction sums to zero, every wallet balance equals its ledger account,
    /// every payment moved what it captured minus what it refunded.
    LedgerBalances,
    /// No wallet balance below zero.
    NoWalletNegative,
    /// A sale is recorded once per order.
    SaleRecordedOnce,
    /// Each sale's trace event is queued in the edge's outbox exactly once, and every sale the
    /// lanes produced is in the edge's database.
    EventQueuedOnce,
    /// A coupon is spent only by a payment that took the money, and each payment charged with a
    /// coupon off spent that coupon itself.
    CouponSpentOnce,
}

impl Invariant {
    /// A short name, as printed.
    pub fn name(self) -> &'static str {
        match self {
            Invariant::NoBasketChargedTwice => "no basket charged twice",
            Invariant::NoPaidBasketLost => "no paid basket lost",
            Invariant::GateOnlyAfterSucceeded => "the gate opens only after SUCCEEDED",
            Invariant::EveryPaymentFinal => "every payment reaches a final state",
            Invariant::LedgerBalances => "the ledger balances",
            Invariant::NoWalletNegative => "no wallet negative",
            Invariant::SaleRecordedOnce => "a sale is recorded once",
            Invariant::EventQueuedOnce => "each event reaches the outbox once",
            Invariant::CouponSpentOnce => {
                "a coupon is spent once, by a payment that took the money"
            }
        }
    }
}

/// A broken invariant, or a simulation that could not run.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Failure {
    /// An invariant broke: the seed and step replay it.
    #[error(
        "seed {seed}, step {step} (simulated {at_ms} ms): invariant \"{}\" broken: {detail}\n\
         replay: {replay}\nlast steps:\n{tail}",
        invariant.name()
    )]
    Invariant {
        seed: u64,
        step: u64,
        at_ms: u64,
        invariant: Invariant,
        detail: String,
        replay: String,
        tail: String,
    },
    /// The simulation itself could not run (a database that would not open, a bad option).
    #[error("the simulation could not run: {0}")]
    Setup(String),
}

impl Failure {
    /// The invariant broken, if that is the failure.
    pub fn invariant(&self) -> Option<Invariant> {
        match self {
            Failure::Invariant { invariant, .. } => Some(*invariant),
            Failure::Setup(_) => None,
        }
    }

    /// The step it broke at, if an invariant broke.
    pub fn step(&self) -> Option<u64> {
        match self {
            Failure::Invariant { step, .. } => Some(*step),
            Failure::Setup(_) => None,
        }
    }
}

/// What a run that kept every invariant did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub seed: u64,
    /// Shoppers that came (paid or abandoned).
    pub checkouts: u64,
    /// Baskets paid and let out.
    pub sales: u64,
    /// Baskets dropped without a sale (recorded as abandoned).
    pub abandoned: u64,
    /// Payments in the cloud by final status.
    pub payments: BTreeMap<String, u64>,
    /// App coupons spent with a payment (claimed in the app, applied at the lane).
    pub coupons_spent: u64,
    /// Trace events the edge's outbox handed to the broker (each sale's EPCIS event).
    pub events_published: u64,
    /// Faults injected, by kind.
    pub faults: BTreeMap<&'static str, u64>,
    pub edge_crashes: u64,
    pub cloud_crashes: u64,
    /// Events handled.
    pub steps: u64,
    /// Simulated time.
    pub simulated: Duration,
    /// Real time the run took.
    pub wall: Duration,
    /// FNV-1a 64 of the trace: the same seed and options give the same hash.
    pub trace_hash: u64,
}

impl Report {
    /// Checkouts per second of real time.
    pub fn checkouts_per_sec(&self) -> f64 {
        let secs = self.wall.as_secs_f64();
        if secs > 0.0 {
            self.checkouts as f64 / secs
        } else {
            0.0
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "seed           {}", self.seed)?;
        writeln!(
            f,
            "checkouts      {} ({} paid, {} abandoned)",
            self.checkouts, self.sales, self.abandoned
        )?;
        let payments: Vec<String> = self
            .payments
            .iter()
            .map(|(status, n)| format!("{status} {n}"))
            .collect();
        writeln!(f, "payments       {}", payments.join(", "))?;
        writeln!(f, "coupons spent  {}", self.coupons_spent)?;
        writeln!(
            f,
            "trace events   {} through the outbox",
            self.events_published
        )?;
        let faults: Vec<String> = self
            .faults
            .iter()
            .map(|(kind, n)| format!("{kind} {n}"))
            .collect();
        writeln!(f, "faults         {}", faults.join(", "))?;
        writeln!(
            f,
            "crashes        edge {}, cloud {}",
            self.edge_crashes, self.cloud_crashes
        )?;
        writeln!(f, "steps          {}", self.steps)?;
        writeln!(
            f,
            "simulated time {:.1} h",
            self.simulated.as_secs_f64() / 3600.0
        )?;
        writeln!(f, "wall time      {:.2} s", self.wall.as_secs_f64())?;
        writeln!(f, "checkouts/s    {:.0}", self.checkouts_per_sec())?;
        write!(f, "trace hash     {:016x}", self.trace_hash)
    }
}
