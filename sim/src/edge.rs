//! The store's edge: the real lane rules (`omo_edge::lane::Lane::handle`) run by a model of the
//! lane runner (`edge/src/checkout/runner.rs`): decide, commit, then act.
//!
//! Each step that changed the lane commits its snapshot (the lane's own serde form, as the
//! runner stores it) with the sale or abandoned basket it produced, before anything is acted on.
//! A paid basket's gate opening is claimed by order id before the gate is pulsed, once. A crash
//! drops every lane in memory and every payment client; the restart reads each lane back from
//! its last snapshot and resumes as `runner/resume.rs` does: a payment in flight is queried
//! first, a paid basket opens its gate unless it already did, an exit in progress is finished.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use omo_edge::catalog::Catalog;
use omo_edge::config::PaymentConfig;
use omo_edge::exit_pass::Key;
use omo_edge::lane::{
    Action, AttemptStatus, Context, Lane, LaneEvent, LaneState, WeightBook, WeightRules,
};
use omo_proto::payment::AuthorizeRequest;

use crate::options::PlantedBug;
use crate::payer::{Do, Payer};

/// The store's id.
pub const STORE_ID: &str = "SIM-1";
const EXIT_KEY: &[u8] = b"simulated exit key";

/// What survives a crash: the edge's SQLite database, as far as the lanes use it.
#[derive(Debug, Default)]
pub struct Durable {
    /// Each lane's last committed snapshot.
    snapshots: BTreeMap<usize, String>,
    /// Orders whose gate opening was recorded.
    gate_opens: BTreeSet<String>,
    /// Recorded sales: order id → the basket's session id.
    pub sales: BTreeMap<String, String>,
    pub abandoned: BTreeSet<String>,
    /// Learned weights (saved with each observation).
    weights: WeightBook,
}

/// What the world must carry out after a step.
#[derive(Debug, Default)]
pub struct Effects {
    /// The payment client's next moves, per lane.
    pub pay: Vec<(usize, Vec<Do>)>,
    /// Fetch the wallet's app coupons for this order (lane, order, code).
    pub fetch_coupons: Vec<(usize, String, String)>,
    /// The gate was told to open for this paid order (lane, order).
    pub gate_opened: Vec<(usize, String)>,
    /// A paid basket resumed with its gate already opened once: the gate reports closed.
    pub gate_closed: Vec<usize>,
    /// A sale was recorded a second time for the same order (an invariant's business).
    pub duplicate_sale: Option<String>,
    /// A sale was recorded (order).
    pub sale: Option<String>,
    pub abandoned: bool,
}

/// One lane in memory: its state and its payment client.
#[derive(Debug)]
pub struct LiveLane {
    pub lane: Lane,
    pub payer: Option<Payer>,
}

/// The edge.
pub struct SimEdge {
    pub lanes: Vec<LiveLane>,
    pub durable: Durable,
    pub up: bool,
    /// Bumped by each crash: timers and answers of an older process are ignored.
    pub epoch: u32,
    catalog: Catalog,
    rules: WeightRules,
    pub payment: PaymentConfig,
    bug: Option<PlantedBug>,
    ids: u64,
}

impl SimEdge {
    /// An edge with `lanes` idle lanes.
    pub fn new(
        lanes: usize,
        catalog: Catalog,
        bug: Option<PlantedBug>,
        now: DateTime<Utc>,
    ) -> SimEdge {
        SimEdge {
            lanes: (0..lanes)
                .map(|i| LiveLane {
                    lane: Lane::new((i + 1).to_string(), now),
                    payer: None,
                })
                .collect(),
            durable: Durable::default(),
            up: true,
            epoch: 0,
            catalog,
            rules: WeightRules::default(),
            payment: PaymentConfig::default(),
            bug,
            ids: 0,
        }
    }

    /// One step of lane `index`: decide, commit, act (as `Runner::step`).
    pub fn step(&mut self, index: usize, event: LaneEvent, now: DateTime<Utc>) -> Effects {
        let mut effects = Effects::default();
        if !self.up || index >= self.lanes.len() {
            return effects;
        }
        self.ids += 1;
        let new_id = format!("c{}", self.ids);
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
                weights: &self.durable.weights,
                new_id,
            };
            self.lanes[index].lane.handle(event, &ctx)
        };
        if !step.changed && step.actions.is_empty() {
            return effects;
        }
        // Commit: the snapshot with the sale and the abandoned basket, in one transaction.
        self.commit(index);
        for action in &step.actions {
            match action {
                Action::RecordSale(sale) => {
                    effects.sale = Some(sale.order_id.clone());
                    if self
                        .durable
                        .sales
                        .insert(sale.order_id.clone(), sale.session_id.clone())
                        .is_some()
                    {
                        effects.duplicate_sale = Some(sale.order_id.clone());
                    }
                }
                Action::AbandonBasket(basket) => {
                    self.durable.abandoned.insert(basket.session_id.clone());
                    effects.abandoned = true;
                }
                _ => {}
            }
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
                    coupon_shares: shares,
                } => {
                    let lane = &self.lanes[index].lane;
                    let request = AuthorizeRequest {
                        store_id: STORE_ID.into(),
                        order_id: order_id.clone(),
                        amount_fen,
                        payment_code,
                        description: format!("Omo {STORE_ID} lane {}", lane.id),
                        coupon_ids,
                        pre_coupon_fen,
                        coupon_shares: shares
                            .into_iter()
                            .map(|(coupon_id, base_fen, discount_fen)| {
                                omo_proto::payment::CouponShare {
                                    coupon_id,
                                    base_fen,
                                    discount_fen,
                                }
                            })
                            .collect(),
                    };
                    self.start_payer(index, &order_id, Some(request), &mut effects);
                }
                Action::FetchWalletCoupons {
                    order_id,
                    payment_code,
                    ..
                } => effects.fetch_coupons.push((index, order_id, payment_code)),
                Action::OpenGate => {
                    if let Some(order) = self.claim_gate(index) {
                        effects.gate_opened.push((index, order));
                    }
                }
                Action::LearnWeight { gtin, grams } => {
                    self.durable.weights.entry(gtin).or_default().observe(grams);
                }
                Action::RecordSale(_) | Action::AbandonBasket(_) => {}
            }
        }
        effects
    }

    fn commit(&mut self, index: usize) {
        // The lane's serde form is its snapshot; it cannot fail for these plain types.
        let snapshot = serde_json::to_string(&self.lanes[index].lane).unwrap_or_default();
        self.durable.snapshots.insert(index, snapshot);
    }

    fn start_payer(
        &mut self,
        index: usize,
        order_id: &str,
        request: Option<AuthorizeRequest>,
        effects: &mut Effects,
    ) {
        let mut payer = Payer::new(STORE_ID, order_id, request, &self.payment, self.bug);
        let first = payer.start();
        self.lanes[index].payer = Some(payer);
        effects.pay.push((index, first));
    }

    /// Records the gate's opening for the paid basket in front of lane `index`; the order if this
    /// is its first opening.
    fn claim_gate(&mut self, index: usize) -> Option<String> {
        let order = self.lanes[index]
            .lane
            .session
            .as_ref()
            .and_then(|s| s.payment.as_ref())
            .map(|p| p.order_id.clone())?;
        self.durable
            .gate_opens
            .insert(order.clone())
            .then_some(order)
    }

    /// The process dies: lanes and payment clients in memory are gone.
    pub fn crash(&mut self) {
        self.up = false;
        self.epoch += 1;
        for live in &mut self.lanes {
            live.payer = None;
        }
    }

    /// A new process: every lane read back from its snapshot and resumed.
    pub fn restart(&mut self, now: DateTime<Utc>) -> Effects {
        self.up = true;
        let mut effects = Effects::default();
        for index in 0..self.lanes.len() {
            let lane = self
                .durable
                .snapshots
                .get(&index)
                .and_then(|s| serde_json::from_str::<Lane>(s).ok())
                .unwrap_or_else(|| Lane::new((index + 1).to_string(), now));
            self.lanes[index] = LiveLane { lane, payer: None };
            self.commit(index);
            if let Some(order) = self.lanes[index].lane.order_in_flight().map(str::to_string) {
                self.start_payer(index, &order, None, &mut effects);
            }
            match self.lanes[index].lane.state {
                LaneState::Paid => match self.claim_gate(index) {
                    Some(order) => effects.gate_opened.push((index, order)),
                    None => effects.gate_closed.push(index),
                },
                LaneState::Exiting => effects.gate_closed.push(index),
                _ => {}
            }
        }
        effects
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
