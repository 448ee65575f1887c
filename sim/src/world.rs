//! The event loop: one thread pops timed events in order and hands each to the edge, the cloud,
//! the network or the people (`people.rs`), checking the invariants (`invariants.rs`) after
//! every step. Timers of the edge carry its epoch, so a crashed process's timers and answers
//! fall on the floor as they would with its sockets.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use omo_edge::lane::LaneEvent;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::cloud::{Answer, AppWallet, Rpc, SimCloud};
use crate::coupons;
use crate::edge::{Effects, SimEdge};
use crate::goods::{self, Good};
use crate::net::Network;
use crate::options::SimOptions;
use crate::oracle::Oracle;
use crate::queue::Queue;
use crate::report::{Failure, Invariant};
use crate::shopper::Shopper;
use crate::trace::Trace;
use crate::wire::Lines;

/// Something that happens at a simulated time.
#[derive(Debug)]
pub enum Event {
    /// A new shopper comes to the lane.
    Arrive(usize),
    /// The shopper at the lane does their next thing (by shopper id).
    Shopper(usize, u64),
    /// An attendant comes to the lane.
    Attendant(usize),
    /// The lane's clock tick (bagging time-outs).
    Tick(usize, u32),
    /// The lane's question for the wallet's app coupons reaches the cloud (lane, epoch, order,
    /// wallet, payment code).
    Coupons(usize, u32, String, String, String),
    /// A request reaches the cloud.
    AtCloud(usize, u32, u64, Box<Rpc>),
    /// An answer reaches the lane.
    AtEdge(usize, u32, u64, Box<Answer>),
    /// The lane's RPC time-out.
    Timeout(usize, u32, u64),
    /// The payment client's sleep ends.
    Wake(usize, u32, u64),
    /// The shopper answers a PENDING payment in the app (lane, payment id, approve).
    Confirm(usize, String, bool),
    GateOpened(usize, u32),
    /// The shopper takes the bags and walks through (also after a restart: gate closed).
    GatePassage(usize, u32),
    /// An unplugged scale is back and reports its stable weight.
    ScaleBack(usize),
    EdgeRestart,
    CloudRestart,
    /// The cloud's periodic sweep of overdue PENDING payments.
    Sweep,
}

/// The world-side state of one lane.
#[derive(Debug, Default)]
pub struct LaneSide {
    pub shopper: Option<Shopper>,
    /// The request the payment client waits on, and its sleep.
    pub req: Option<u64>,
    pub wake: Option<u64>,
    pub attendant_called: bool,
    /// What lies on the bagging scale, in grams.
    pub scale_g: i64,
}

/// Everything simulated.
pub struct World {
    pub opts: SimOptions,
    pub rng: ChaCha8Rng,
    pub queue: Queue<Event>,
    pub trace: Trace,
    pub net: Network,
    pub cloud: SimCloud,
    pub edge: SimEdge,
    pub goods: Vec<Good>,
    pub wallets: Vec<AppWallet>,
    pub sides: Vec<LaneSide>,
    /// Each lane's serial lines (scanner, scale).
    pub lines: Vec<Lines>,
    pub oracle: Oracle,
    pub start: DateTime<Utc>,
    pub step: u64,
    pub ids: u64,
    pub started: u64,
    pub freed: u64,
    pub draining: bool,
    pub faults: BTreeMap<&'static str, u64>,
    pub edge_crashes: u64,
    pub cloud_crashes: u64,
    /// Coupons spent, counted by the final check.
    pub coupons_spent: u64,
    pub failure: Option<Failure>,
    last_partition_check: u64,
}

impl World {
    /// A store with its lanes idle, its wallets enrolled and funded, shoppers on their way.
    pub fn new(opts: &SimOptions) -> Result<World, Failure> {
        if opts.lanes == 0 || opts.wallets == 0 {
            return Err(Failure::Setup("a store needs a lane and a wallet".into()));
        }
        if let Some(name) = opts.faults.invalid() {
            return Err(Failure::Setup(format!(
                "the fault rate {name} is not a probability between 0 and 1"
            )));
        }
        let start = DateTime::parse_from_rfc3339("2026-12-01T08:00:00Z")
            .map_err(|e| Failure::Setup(e.to_string()))?
            .with_timezone(&Utc);
        let cloud = SimCloud::open(start)?;
        cloud.publish_campaigns(&coupons::campaigns())?;
        let wallets = (0..opts.wallets)
            .map(|i| {
                // Most wallets are well funded; every 16th is nearly empty (declines).
                let balance = if i % 16 == 15 { 200_00 } else { 50_000_000_00 };
                let wallet = cloud.enroll(&format!("shopper-{i}"), balance)?;
                for campaign in coupons::claims_of(i) {
                    cloud.claim(&wallet.wallet_id, campaign)?;
                }
                Ok(wallet)
            })
            .collect::<Result<Vec<_>, Failure>>()?;
        let mut world = World {
            rng: ChaCha8Rng::seed_from_u64(opts.seed),
            queue: Queue::new(),
            trace: Trace::new(opts.trace_tail),
            net: Network::new(&opts.faults),
            edge: SimEdge::new(opts.lanes, goods::catalog(), opts.planted_bug, start)?,
            cloud,
            goods: goods::goods(),
            wallets,
            sides: (0..opts.lanes).map(|_| LaneSide::default()).collect(),
            lines: (0..opts.lanes).map(Lines::new).collect(),
            oracle: Oracle::default(),
            start,
            step: 0,
            ids: 0,
            started: 0,
            freed: 0,
            draining: false,
            faults: BTreeMap::new(),
            edge_crashes: 0,
            cloud_crashes: 0,
            coupons_spent: 0,
            failure: None,
            opts: opts.clone(),
            last_partition_check: 0,
        };
        for lane in 0..opts.lanes {
            let delay = world.rng.random_range(0..5_000);
            world.queue.after(delay, Event::Arrive(lane));
        }
        world.queue.after(5_000, Event::Sweep);
        if opts.checkouts == 0 {
            // Nobody comes: the store is quiet from the start.
            world.draining = true;
            world.net.heal();
        }
        Ok(world)
    }

    /// The simulated wall clock.
    pub fn now(&self) -> DateTime<Utc> {
        let ms = i64::try_from(self.queue.now_ms()).unwrap_or(i64::MAX);
        self.start + Duration::milliseconds(ms)
    }

    /// A fresh id (requests, sleeps, shoppers).
    pub fn next_id(&mut self) -> u64 {
        self.ids += 1;
        self.ids
    }

    /// Counts one injected fault.
    pub fn fault(&mut self, kind: &'static str) {
        *self.faults.entry(kind).or_default() += 1;
    }

    /// Records a broken invariant (the first one wins; the loop stops).
    pub fn fail(&mut self, invariant: Invariant, detail: String) {
        if self.failure.is_some() {
            return;
        }
        self.failure = Some(Failure::Invariant {
            seed: self.opts.seed,
            step: self.step,
            at_ms: self.queue.now_ms(),
            invariant,
            detail,
            replay: self.opts.replay_command(),
            tail: self.trace.tail(),
        });
    }

    /// Records that the simulation cannot go on (the edge's database refused); the loop stops.
    pub fn broken(&mut self, detail: String) {
        if self.failure.is_none() {
            self.failure = Some(Failure::Setup(detail));
        }
    }

    /// Runs until every shopper is served and the store is quiet, or an invariant breaks.
    pub fn run(&mut self) -> Result<(), Failure> {
        // A run that heals must quiesce: a bound on the steps after the healing.
        let mut after_heal: u64 = 0;
        while let Some(event) = self.queue.pop() {
            self.step += 1;
            self.handle(event);
            if self.failure.is_none() {
                self.check_step();
            }
            if let Some(failure) = self.failure.take() {
                return Err(failure);
            }
            if self.draining {
                after_heal += 1;
                if after_heal > 2_000_000 {
                    self.fail(
                        Invariant::EveryPaymentFinal,
                        "the store never became quiet after the network healed".into(),
                    );
                    return Err(self
                        .failure
                        .take()
                        .unwrap_or_else(|| Failure::Setup("the store never became quiet".into())));
                }
            } else {
                self.maybe_fault();
            }
        }
        self.check_end();
        match self.failure.take() {
            Some(failure) => Err(failure),
            None => Ok(()),
        }
    }

    /// The random faults of one step: crashes and partitions.
    fn maybe_fault(&mut self) {
        let now = self.queue.now_ms();
        let elapsed = now - self.last_partition_check;
        if elapsed >= 1_000 {
            self.last_partition_check = now;
            if let Some(length) = self.net.maybe_partition(&mut self.rng, now, elapsed) {
                self.trace.line(format!("{now} partition {length} ms"));
                self.fault("partition");
            }
        }
        let faults = &self.opts.faults;
        let (edge_crash, cloud_crash) = (faults.edge_crash, faults.cloud_crash);
        if self.edge.up && self.rng.random_bool(edge_crash) {
            self.edge.crash();
            self.edge_crashes += 1;
            for side in &mut self.sides {
                side.req = None;
                side.wake = None;
            }
            let down = self.rng.random_range(1_000..8_000);
            self.trace.line(format!("{now} edge crash, down {down} ms"));
            self.queue.after(down, Event::EdgeRestart);
        }
        if self.cloud.up() && self.rng.random_bool(cloud_crash) {
            self.cloud.crash();
            self.cloud_crashes += 1;
            let down = self.rng.random_range(1_000..10_000);
            self.trace
                .line(format!("{now} cloud crash, down {down} ms"));
            self.queue.after(down, Event::CloudRestart);
        }
    }

    fn handle(&mut self, event: Event) {
        let now = self.queue.now_ms();
        let epoch = self.edge.epoch;
        match event {
            Event::Arrive(lane) => self.arrive(lane),
            Event::Shopper(lane, id) => self.shopper_acts(lane, id),
            Event::Attendant(lane) => self.attendant(lane),
            Event::Tick(lane, e) if e == epoch => self.lane_step(lane, LaneEvent::Tick),
            Event::Coupons(lane, e, order_id, wallet_id, payment_code) if e == epoch => {
                // The cloud answers if it is up and the network lets the question through;
                // otherwise the lane pays without the app's coupons, as the edge does.
                self.cloud.set_time(now);
                let coupons = if self.net.arrives(now) {
                    self.cloud.claimed_coupons(&wallet_id)
                } else {
                    None
                };
                if coupons.is_none() {
                    self.fault("coupons unanswered");
                }
                let event = LaneEvent::WalletCoupons {
                    order_id,
                    coupons: coupons.unwrap_or_default(),
                    payment_code,
                };
                self.lane_step(lane, event);
            }
            Event::AtCloud(lane, e, req, rpc) => self.at_cloud(lane, e, req, rpc),
            Event::AtEdge(lane, e, req, answer) => {
                if e == epoch && self.edge.up && self.sides[lane].req == Some(req) {
                    self.sides[lane].req = None;
                    let ok = match answer.as_ref() {
                        Ok(Some(payment)) => Ok(payment.status),
                        Ok(None) => Err(tonic::Code::Internal),
                        Err((code, _)) => Err(*code),
                    };
                    self.trace.line(format!("{now} L{lane} answer {ok:?}"));
                    self.with_payer(lane, |p| p.on_answer(*answer));
                }
            }
            Event::Timeout(lane, e, req) => {
                if e == epoch && self.edge.up && self.sides[lane].req == Some(req) {
                    self.sides[lane].req = None;
                    self.trace.line(format!("{now} L{lane} time-out"));
                    self.with_payer(lane, |p| p.on_timeout());
                }
            }
            Event::Wake(lane, e, wake) => {
                if e == epoch && self.edge.up && self.sides[lane].wake == Some(wake) {
                    self.sides[lane].wake = None;
                    self.with_payer(lane, |p| p.on_wake());
                }
            }
            Event::Confirm(lane, payment_id, approve) => self.confirm(lane, payment_id, approve),
            Event::GateOpened(lane, e) if e == epoch => {
                self.lane_step(lane, LaneEvent::GateOpened);
            }
            Event::GatePassage(lane, e) if e == epoch => self.passage(lane),
            Event::ScaleBack(lane) => self.stable_reading(lane),
            Event::EdgeRestart => {
                self.trace.line(format!("{now} edge restart"));
                let effects = self.edge.restart(self.now());
                self.effects(effects);
            }
            Event::CloudRestart => {
                self.trace.line(format!("{now} cloud restart"));
                self.cloud.restart();
            }
            Event::Sweep => {
                // The edge's outbox publisher, as often as the cloud's sweep.
                if self.edge.up
                    && let Err(error) = self.edge.drain_outbox()
                {
                    self.broken(error);
                }
                if self.cloud.up() {
                    self.cloud.set_time(now);
                    let closed = self.cloud.sweep();
                    if closed > 0 {
                        self.trace.line(format!("{now} sweep closed {closed}"));
                    }
                }
                if !self.draining {
                    let every = self.cloud.config().sweep_interval_secs.max(1) * 1000;
                    self.queue.after(every, Event::Sweep);
                }
            }
            // A timer of an edge process that has since crashed.
            Event::Tick(..)
            | Event::Coupons(..)
            | Event::GateOpened(..)
            | Event::GatePassage(..) => {}
        }
    }

    /// One step of the real lane rules, and what it calls for.
    pub fn lane_step(&mut self, lane: usize, event: LaneEvent) {
        if !self.edge.up {
            return;
        }
        let before = self.edge.lanes[lane].lane.state;
        let effects = self.edge.step(lane, event, self.now());
        let after = self.edge.lanes[lane].lane.state;
        if before != after {
            let now = self.queue.now_ms();
            self.trace
                .line(format!("{now} L{lane} {before:?} -> {after:?}"));
        }
        self.effects(effects);
        if self.edge.lanes[lane].lane.blocked() {
            self.call_attendant(lane);
        }
    }

    /// Carries out a step's effects.
    fn effects(&mut self, effects: Effects) {
        if let Some(detail) = effects.broken {
            self.broken(detail);
        }
        if let Some(order) = effects.duplicate_sale {
            self.fail(
                Invariant::SaleRecordedOnce,
                format!("order {order} was recorded as a sale twice"),
            );
        }
        if let Some(order) = effects.sale {
            self.oracle.sale(&order);
        }
        for (lane, todo) in effects.pay {
            self.pay(lane, todo);
        }
        let epoch = self.edge.epoch;
        for (lane, order, wallet, code) in effects.fetch_coupons {
            let delay = self.rng.random_range(5..60);
            self.queue
                .after(delay, Event::Coupons(lane, epoch, order, wallet, code));
        }
        for (lane, order) in effects.gate_opened {
            self.gate_opened(lane, &order);
            self.queue.after(300, Event::GateOpened(lane, epoch));
            let walk = self.rng.random_range(1_500..6_000);
            self.queue.after(walk, Event::GatePassage(lane, epoch));
        }
        for lane in effects.gate_closed {
            self.queue.after(100, Event::GatePassage(lane, epoch));
        }
    }
}
