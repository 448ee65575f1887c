//! The store's edge: the real lane rules (`omo_edge::lane::Lane::handle`), the runner's own
//! decisions (`omo_edge::checkout::plan`: the messages a step commits, what a restart resumes)
//! and the edge's real database (`omo_edge::db::Db` on SQLite, its migrations and its step
//! commit), carried out as `edge/src/checkout/runner.rs` does: decide, commit, then act.
//!
//! Each step that changed the lane commits its snapshot, transition, sale or abandoned basket and
//! outgoing messages in one transaction ([`Db::commit_step`]) before anything is acted on. A paid
//! basket's gate opening is claimed by order id in the database before the gate is pulsed. A
//! crash drops every lane in memory and every payment client; the restart reads each lane back
//! from the database and resumes by [`plan::resume`]. The outbox is drained as the publisher
//! does (oldest first, acknowledged by range), and each trace event it holds is counted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use omo_edge::catalog::Catalog;
use omo_edge::checkout::plan::{self, Resume};
use omo_edge::config::PaymentConfig;
use omo_edge::db::{Db, DbError, Durability};
use omo_edge::exit_pass::Key;
use omo_edge::lane::{
    AbandonedBasket, Action, AttemptStatus, Context, Lane, LaneEvent, Sale, WeightBook, WeightRules,
};
use omo_edge::payment::{Order, Step};
use tokio::runtime::Runtime;

use crate::options::PlantedBug;
use crate::payer::Payer;
use crate::report::Failure;

/// The store's id.
pub const STORE_ID: &str = "SIM-1";
const EXIT_KEY: &[u8] = b"simulated exit key";

/// What the world must carry out after a step.
#[derive(Debug, Default)]
pub struct Effects {
    /// The payment client's next moves, per lane.
    pub pay: Vec<(usize, Step)>,
    /// Fetch the wallet's app coupons for this order (lane, order, wallet, code).
    pub fetch_coupons: Vec<(usize, String, String, String)>,
    /// The gate was told to open for this paid order (lane, order).
    pub gate_opened: Vec<(usize, String)>,
    /// A paid basket resumed with its gate already opened once: the gate reports closed.
    pub gate_closed: Vec<usize>,
    /// A sale was recorded a second time for the same order (an invariant's business).
    pub duplicate_sale: Option<String>,
    /// A sale was recorded (order).
    pub sale: Option<String>,
    pub abandoned: bool,
    /// The database refused a step or a read (the run cannot go on).
    pub broken: Option<String>,
}

/// One lane in memory: its state and its payment client.
#[derive(Debug)]
pub struct LiveLane {
    pub lane: Lane,
    pub payer: Option<Payer>,
}

/// What the simulation knows of the edge's durable side, to check the database against.
#[derive(Debug, Default)]
pub struct Facts {
    /// Sales the lanes produced: order id → the basket's session id.
    pub sales: BTreeMap<String, String>,
    /// Baskets abandoned (session ids).
    pub abandoned: BTreeSet<String>,
    /// The trace event each sale queued: event id → order id.
    pub sale_events: BTreeMap<String, String>,
    /// How often the drained outbox held each trace event.
    pub events_drained: BTreeMap<String, u32>,
}

/// The edge.
pub struct SimEdge {
    pub lanes: Vec<LiveLane>,
    pub facts: Facts,
    pub up: bool,
    /// Bumped by each crash: timers and answers of an older process are ignored.
    pub epoch: u32,
    rt: Runtime,
    db: Db,
    catalog: Catalog,
    rules: WeightRules,
    /// The learned weights in memory (as `EdgeContext::weights`), saved with each observation.
    weights: WeightBook,
    pub payment: PaymentConfig,
    bug: Option<PlantedBug>,
    ids: u64,
    /// The ids of committed lane states (apart from `ids`, which name sessions and orders).
    states: u64,
    _dir: ScratchDir,
}

/// The edge's data directory of one run, in the temporary folder, removed on drop.
struct ScratchDir(PathBuf);

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl SimEdge {
    /// An edge with `lanes` idle lanes on a fresh database.
    pub fn new(
        lanes: usize,
        catalog: Catalog,
        bug: Option<PlantedBug>,
        now: DateTime<Utc>,
    ) -> Result<SimEdge, Failure> {
        static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("omo-sim-edge-{}-{run}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let dir = ScratchDir(dir);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Failure::Setup(format!("runtime: {e}")))?;
        // The simulation's crashes kill the process, not the power: what the WAL holds survives.
        let db = rt
            .block_on(Db::open_with(&dir.0, Durability::ProcessCrash))
            .map_err(|e| Failure::Setup(format!("edge database: {e}")))?;
        let mut edge = SimEdge {
            lanes: (0..lanes)
                .map(|i| LiveLane {
                    lane: Lane::new((i + 1).to_string(), now),
                    payer: None,
                })
                .collect(),
            facts: Facts::default(),
            up: true,
            epoch: 0,
            rt,
            db,
            catalog,
            rules: WeightRules::default(),
            weights: WeightBook::default(),
            payment: PaymentConfig::default(),
            bug,
            ids: 0,
            states: 0,
            _dir: dir,
        };
        for index in 0..lanes {
            edge.commit(index, None, None, None)
                .map_err(|e| Failure::Setup(format!("edge database: {e}")))?;
        }
        Ok(edge)
    }

    fn description(&self, index: usize) -> String {
        format!("Omo {STORE_ID} lane {}", self.lanes[index].lane.id)
    }

    /// One step of lane `index`: decide, commit, act (as `Runner::step`).
    pub fn step(&mut self, index: usize, event: LaneEvent, now: DateTime<Utc>) -> Effects {
        let mut effects = Effects::default();
        if !self.up || index >= self.lanes.len() {
            return effects;
        }
        self.ids += 1;
        let new_id = format!("c{}", self.ids);
        let before = self.lanes[index].lane.clone();
        let step = {
            let ctx = Context {
                now,
                store_id: STORE_ID,
                exit_key: Key {
                    id: "sim",
                    secret: EXIT_KEY,
                },
                catalog: &self.catalog,
                rules: &self.rules,
                weights: &self.weights,
                new_id,
            };
            self.lanes[index].lane.handle(event, &ctx)
        };
        if !step.changed && step.actions.is_empty() {
            return effects;
        }
        let sale = step.actions.iter().find_map(|a| match a {
            Action::RecordSale(sale) => Some(sale),
            _ => None,
        });
        let abandoned = step.actions.iter().find_map(|a| match a {
            Action::AbandonBasket(basket) => Some(basket),
            _ => None,
        });
        // Commit: the snapshot, the transition, the sale or abandoned basket and the messages.
        if let Err(error) = self.commit(index, step.transition.as_ref(), sale, abandoned) {
            self.lanes[index].lane = before;
            effects.broken = Some(format!("the edge cannot commit a step: {error}"));
            return effects;
        }
        if let Some(sale) = sale {
            effects.sale = Some(sale.order_id.clone());
            if self
                .facts
                .sales
                .insert(sale.order_id.clone(), sale.session_id.clone())
                .is_some()
            {
                effects.duplicate_sale = Some(sale.order_id.clone());
            }
        }
        if let Some(basket) = abandoned {
            self.facts.abandoned.insert(basket.session_id.clone());
            effects.abandoned = true;
        }
        // Act.
        for action in step.actions {
            match action {
                Action::Authorize {
                    order_id,
                    amount_fen,
                    payment_code,
                    coupon_ids,
                    pre_coupon_fen,
                    coupon_shares,
                } => {
                    let order = Order {
                        order_id,
                        amount_fen,
                        payment_code: Some(payment_code),
                        description: self.description(index),
                        coupon_ids,
                        pre_coupon_fen,
                        coupon_shares,
                    };
                    self.start_payer(index, order, &mut effects);
                }
                Action::FetchWalletCoupons {
                    order_id,
                    wallet_id,
                    payment_code,
                } => effects
                    .fetch_coupons
                    .push((index, order_id, wallet_id, payment_code)),
                Action::OpenGate => match self.claim_gate(index) {
                    Ok(Some(order)) => effects.gate_opened.push((index, order)),
                    Ok(None) => {}
                    Err(error) => effects.broken = Some(error),
                },
                Action::LearnWeight { gtin, grams } => {
                    let stats = self.weights.entry(gtin.clone()).or_default();
                    stats.observe(grams);
                    let stats = *stats;
                    if let Err(error) = self.rt.block_on(self.db.save_weight(&gtin, &stats)) {
                        effects.broken = Some(format!("cannot save a learned weight: {error}"));
                    }
                }
                Action::RecordSale(_) | Action::AbandonBasket(_) => {}
            }
        }
        effects
    }

    /// Commits lane `index`'s snapshot with what its step produced, as `Runner::commit` does.
    fn commit(
        &mut self,
        index: usize,
        transition: Option<&omo_edge::lane::Transition>,
        sale: Option<&Sale>,
        abandoned: Option<&AbandonedBasket>,
    ) -> Result<(), DbError> {
        self.states += 1;
        let state_id = format!("state-{}", self.states);
        let lane = &self.lanes[index].lane;
        let (_, messages) = plan::step_messages(STORE_ID, lane, sale, state_id)?;
        self.rt.block_on(
            self.db
                .commit_step(lane, transition, sale, abandoned, &messages),
        )?;
        if let Some(sale) = sale
            && let Some(event) = messages.iter().find(|m| !m.retain)
        {
            self.facts
                .sale_events
                .insert(event.id.clone(), sale.order_id.clone());
        }
        Ok(())
    }

    fn start_payer(&mut self, index: usize, order: Order, effects: &mut Effects) {
        let mut payer = Payer::new(STORE_ID, order, &self.payment, self.bug);
        let first = payer.start();
        self.lanes[index].payer = Some(payer);
        effects.pay.push((index, first));
    }

    /// Records the gate's opening for the paid basket in front of lane `index` in the database;
    /// the order if this is its first opening.
    fn claim_gate(&mut self, index: usize) -> Result<Option<String>, String> {
        let lane = &self.lanes[index].lane;
        let Some(order) = plan::paid_order(lane).map(str::to_string) else {
            return Ok(None);
        };
        match self.rt.block_on(self.db.claim_gate_open(&order, &lane.id)) {
            Ok(true) => Ok(Some(order)),
            Ok(false) => Ok(None),
            Err(error) => Err(format!("cannot record a gate opening: {error}")),
        }
    }

    /// The process dies: lanes, payment clients and learned weights in memory are gone.
    pub fn crash(&mut self) {
        self.up = false;
        self.epoch += 1;
        self.weights.clear();
        for live in &mut self.lanes {
            live.payer = None;
        }
    }

    /// A new process: the learned weights and every lane read back from the database, each
    /// lane committed once more and resumed (as `run_lane` does at start).
    pub fn restart(&mut self, now: DateTime<Utc>) -> Effects {
        self.up = true;
        let mut effects = Effects::default();
        match self.rt.block_on(self.db.load_weights()) {
            Ok(weights) => self.weights = weights,
            Err(error) => effects.broken = Some(format!("cannot read learned weights: {error}")),
        }
        for index in 0..self.lanes.len() {
            let id = (index + 1).to_string();
            let lane = match self.rt.block_on(self.db.load_lane(&id)) {
                Ok(Some(lane)) => lane,
                Ok(None) => Lane::new(id, now),
                Err(error) => {
                    effects.broken = Some(format!("cannot read lane {id} back: {error}"));
                    Lane::new(id, now)
                }
            };
            self.lanes[index] = LiveLane { lane, payer: None };
            if let Err(error) = self.commit(index, None, None, None) {
                effects.broken = Some(format!("the edge cannot commit a lane: {error}"));
            }
            for todo in plan::resume(&self.lanes[index].lane, &self.description(index)) {
                match todo {
                    Resume::Settle(order) => self.start_payer(index, order, &mut effects),
                    Resume::OpenGateForPaid => match self.claim_gate(index) {
                        Ok(Some(order)) => effects.gate_opened.push((index, order)),
                        Ok(None) => effects.gate_closed.push(index),
                        Err(error) => effects.broken = Some(error),
                    },
                    Resume::FinishExit => effects.gate_closed.push(index),
                }
            }
        }
        effects
    }

    /// Drains the outbox as the publisher does: the oldest messages, acknowledged by range, each
    /// trace event counted. Returns how many messages were drained.
    pub fn drain_outbox(&mut self) -> Result<usize, String> {
        let mut drained = 0;
        loop {
            let rows = self
                .rt
                .block_on(self.db.outbox_peek(512))
                .map_err(|e| format!("cannot read the outbox: {e}"))?;
            let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
                return Ok(drained);
            };
            let (first, last) = (first.seq, last.seq);
            for row in &rows {
                if !row.message.retain {
                    *self
                        .facts
                        .events_drained
                        .entry(row.message.id.clone())
                        .or_default() += 1;
                }
            }
            drained += rows.len();
            self.rt
                .block_on(self.db.outbox_ack_range(first, last))
                .map_err(|e| format!("cannot acknowledge the outbox: {e}"))?;
        }
    }

    /// The order ids of every sale in the edge's database.
    pub fn recorded_sales(&self) -> Result<BTreeSet<String>, String> {
        let sales = self
            .rt
            .block_on(self.db.recent_sales(i64::MAX))
            .map_err(|e| format!("cannot read the sales: {e}"))?;
        Ok(sales.into_iter().map(|s| s.order_id).collect())
    }

    /// The status of the attempt on lane `index`, if its order is `order_id`.
    pub fn attempt(&self, index: usize, order_id: &str) -> Option<AttemptStatus> {
        self.lanes
            .get(index)?
            .lane
            .session
            .as_ref()?
            .payment
            .as_ref()
            .filter(|p| p.order_id == order_id)
            .map(|p| p.status)
    }
}
