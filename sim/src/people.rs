//! The people in the store: shoppers who scan (sometimes badly), bag (with the scale's noise, or
//! a weight that is off), bring their own bags, pay with the app's payment code (sometimes a
//! wrong one), confirm PENDING payments (sometimes too late, sometimes not at all) and walk away
//! from baskets; and the attendant who clears interventions and cancels abandoned baskets.
//! They act on what the lane shows, and wait while it is busy, as people do.

use std::collections::{BTreeSet, VecDeque};

use crate::shopper::Shopper;

use omo_devices::barcode::VariableMeasureFormats;
use omo_devices::scale::WeightReading;
use omo_edge::checkout::plan;
use omo_edge::lane::{AttemptStatus, LaneEvent, LaneState, OperatorAction, OperatorCommand, Role};
use rand::Rng;

use crate::goods::{self, Move};
use crate::wire;
use crate::world::{Event, World};

/// How long a shopper waits before looking at the lane again.
const LOOK_MS: u64 = 2_000;

impl World {
    /// A new shopper comes to `lane`, if the day has more.
    pub fn arrive(&mut self, lane: usize) {
        if self.started >= self.opts.checkouts {
            return;
        }
        self.started += 1;
        let id = self.next_id();
        let plan = goods::plan(&mut self.rng, &self.goods, &self.opts.faults);
        let wallet = self.rng.random_range(0..self.wallets.len());
        self.sides[lane].shopper = Some(Shopper {
            id,
            wallet,
            plan,
            session: None,
            pays: 0,
            seen: BTreeSet::new(),
            arrived_ms: self.queue.now_ms(),
            left: false,
        });
        self.queue.after(500, Event::Shopper(lane, id));
    }

    /// The lane is free for the next shopper.
    fn free(&mut self, lane: usize) {
        self.sides[lane].shopper = None;
        self.freed += 1;
        if self.freed >= self.opts.checkouts && self.started >= self.opts.checkouts {
            // Every shopper has gone: heal the network, stop the faults, let the store settle.
            self.draining = true;
            self.net.heal();
        }
        let think = self.rng.random_range(1_000..20_000);
        self.queue.after(think, Event::Arrive(lane));
    }

    pub fn call_attendant(&mut self, lane: usize) {
        if !self.sides[lane].attendant_called {
            self.sides[lane].attendant_called = true;
            let walk = self.rng.random_range(5_000..30_000);
            self.queue.after(walk, Event::Attendant(lane));
        }
    }

    /// The scale reports what lies on it: perhaps in motion first, or (unplugged a moment) only
    /// when its driver has reopened the port, 2–15 s later.
    fn weigh(&mut self, lane: usize) {
        if !self.draining && self.rng.random_bool(self.opts.faults.scale_unplug) {
            self.fault("scale unplugged");
            let back = self.rng.random_range(2_000..15_000);
            self.queue.after(back, Event::ScaleBack(lane));
            return;
        }
        if self.rng.random_bool(self.opts.faults.scale_motion) {
            self.fault("scale in motion");
            self.reading(lane, WeightReading::Motion);
        }
        self.stable_reading(lane);
    }

    /// The scale's stable reading of what lies on it now (±2 g of noise).
    pub fn stable_reading(&mut self, lane: usize) {
        let noise = self.rng.random_range(-2..=2);
        let grams = (self.sides[lane].scale_g + noise).max(0);
        self.reading(lane, WeightReading::Stable { grams });
    }

    /// `reading` on the scale's serial line, read back by the scale's codec: each reading it
    /// decodes goes to the lane; garbage is dropped, as the driver drops it.
    fn reading(&mut self, lane: usize, reading: WeightReading) {
        let noise = self.line_noise(false);
        for read in self.lines[lane].weigh(&reading, noise) {
            match read {
                Ok(reading) => self.lane_step(lane, LaneEvent::Weight(reading)),
                Err(_) => self.fault("garbage on the scale line"),
            }
        }
    }

    /// The scanner sends `raw`: each frame its codec reads becomes the runner's lane event
    /// (`omo_edge::checkout::plan::scan_event`); a garbled frame is dropped, as the runner does.
    fn scan(&mut self, lane: usize, raw: String) {
        let noise = self.line_noise(true);
        for frame in self.lines[lane].scan(&raw, noise) {
            match frame {
                Ok(raw) => {
                    let event = plan::scan_event(raw, &VariableMeasureFormats::default());
                    self.lane_step(lane, event);
                }
                Err(_) => self.fault("garbage on the scanner line"),
            }
        }
    }

    fn line_noise(&mut self, for_scanner: bool) -> Option<Vec<u8>> {
        self.rng
            .random_bool(self.opts.faults.line_noise)
            .then(|| wire::noise(&mut self.rng, for_scanner))
    }

    /// The shopper at `lane` looks at the lane and does the next thing.
    pub fn shopper_acts(&mut self, lane: usize, id: u64) {
        let now = self.queue.now_ms();
        let Some(shopper) = self.sides[lane]
            .shopper
            .as_ref()
            .filter(|s| s.id == id && !s.left)
        else {
            return;
        };
        let (arrived, wallet) = (shopper.arrived_ms, shopper.wallet);
        if !self.edge.up {
            self.queue.after(LOOK_MS, Event::Shopper(lane, id));
            return;
        }
        let view = &self.edge.lanes[lane].lane;
        let state = view.state;
        let session = view.session.as_ref().map(|s| s.id.clone());
        let attempt = view
            .session
            .as_ref()
            .and_then(|s| s.payment.as_ref())
            .map(|p| (p.order_id.clone(), p.status, p.payment_id.clone()));
        let mine = self.sides[lane].shopper.as_mut().filter(|s| s.id == id);
        let Some(shopper) = mine else { return };
        if shopper.session.is_some() && session != shopper.session {
            // The basket is gone: paid and through the gate (or dropped). The shopper leaves.
            self.trace
                .line(format!("{now} L{lane} shopper {id} leaves"));
            self.free(lane);
            return;
        }
        if shopper.session.is_none() {
            shopper.session = session.clone();
        }
        if now.saturating_sub(arrived) > 30 * 60 * 1000 && state != LaneState::Paying {
            shopper.plan = VecDeque::from([Move::Leave]);
        }
        match state {
            LaneState::Paying => {
                if let Some((order, AttemptStatus::Pending, Some(payment_id))) = attempt
                    && shopper.seen.insert(order)
                {
                    self.answer_in_app(lane, payment_id);
                }
                self.queue.after(LOOK_MS, Event::Shopper(lane, id));
                return;
            }
            LaneState::NeedsAttendant | LaneState::Paid | LaneState::Exiting => {
                self.queue.after(LOOK_MS, Event::Shopper(lane, id));
                return;
            }
            LaneState::Closed | LaneState::OutOfService => {
                shopper.plan = VecDeque::from([Move::Leave]);
            }
            LaneState::Idle | LaneState::Shopping => {}
        }
        if let Some((order, AttemptStatus::Declined | AttemptStatus::Cancelled, _)) = attempt
            && shopper.seen.insert(order)
            && shopper.plan.is_empty()
        {
            // Not paid: show a new code (a new 30 s step of the app's code) or give up.
            let again = if shopper.pays < 3 {
                Move::Pay
            } else {
                Move::Leave
            };
            shopper.plan.push_back(again);
            self.queue.after(31_000, Event::Shopper(lane, id));
            return;
        }
        let fallback = if shopper.pays < 6 {
            Move::Pay
        } else {
            Move::Leave
        };
        let next = shopper.plan.pop_front().unwrap_or(fallback);
        let mut wait = self.rng.random_range(800..4_000);
        match next {
            Move::Scan(n) => {
                let Some(good) = self.goods.get(n).cloned() else {
                    return;
                };
                let raw = if self.rng.random_bool(self.opts.faults.bad_scan) {
                    self.fault("bad scan");
                    if let Some(s) = self.sides[lane].shopper.as_mut() {
                        s.plan.push_front(Move::Scan(n));
                    }
                    format!("{}#", &good.ean13[..7])
                } else {
                    if good.weight_g > 0 {
                        let epoch = self.edge.epoch;
                        self.queue.after(10_500, Event::Tick(lane, epoch));
                    }
                    good.ean13.clone()
                };
                self.scan(lane, raw);
            }
            Move::Bag(n) => {
                let Some(good) = self.goods.get(n).cloned() else {
                    return;
                };
                let off = self.rng.random_bool(self.opts.faults.weight_off);
                if off {
                    self.fault("weight off");
                }
                let grams = goods::real_weight(&mut self.rng, &good, off);
                if grams > 0 {
                    self.sides[lane].scale_g += grams;
                    self.weigh(lane);
                }
            }
            Move::OwnBag => {
                self.lane_step(lane, LaneEvent::OwnBag);
                self.sides[lane].scale_g += self.rng.random_range(40..250);
                self.weigh(lane);
            }
            Move::Pay => {
                let code = self.payment_code(wallet);
                if let Some(s) = self.sides[lane].shopper.as_mut() {
                    s.pays += 1;
                }
                self.scan(lane, code);
                wait = LOOK_MS;
            }
            Move::Leave => {
                self.trace
                    .line(format!("{now} L{lane} shopper {id} walks away"));
                self.fault("basket abandoned");
                if let Some(s) = self.sides[lane].shopper.as_mut() {
                    s.left = true;
                }
                self.call_attendant(lane);
                return;
            }
        }
        self.queue.after(wait, Event::Shopper(lane, id));
    }

    /// The app's payment code now (or, a fault, one with a wrong digit).
    fn payment_code(&mut self, wallet: usize) -> String {
        let Some(app) = self.wallets.get(wallet) else {
            return String::new();
        };
        let unix = u64::try_from(self.now().timestamp()).unwrap_or(0);
        let mut code = omo_cloud::paycode::payment_code(&app.wallet_id, &app.secret, unix);
        if self.rng.random_bool(self.opts.faults.wrong_code) {
            self.fault("wrong payment code");
            let last = code.pop().and_then(|c| c.to_digit(10)).unwrap_or(0);
            code.push(char::from_digit((last + 1) % 10, 10).unwrap_or('0'));
        }
        code
    }

    /// A PENDING payment shows in the app: approve soon, or (a fault) late or never.
    fn answer_in_app(&mut self, lane: usize, payment_id: String) {
        let (delay, approve) = if self.rng.random_bool(self.opts.faults.slow_confirm) {
            self.fault("slow or rejected confirmation");
            if self.rng.random_bool(0.5) {
                (self.rng.random_range(100_000..200_000), true)
            } else {
                (self.rng.random_range(2_000..20_000), false)
            }
        } else {
            (self.rng.random_range(2_000..12_000), true)
        };
        self.queue
            .after(delay, Event::Confirm(lane, payment_id, approve));
    }

    /// The app's confirmation reaches the cloud (over the phone's own network).
    pub fn confirm(&mut self, lane: usize, payment_id: String, approve: bool) {
        let wallet = self.sides[lane]
            .shopper
            .as_ref()
            .and_then(|s| self.wallets.get(s.wallet))
            .map(|w| w.wallet_id.clone());
        let Some(wallet) = wallet else { return };
        if !self.cloud.up() {
            self.queue
                .after(3_000, Event::Confirm(lane, payment_id, approve));
            return;
        }
        self.cloud.set_time(self.queue.now_ms());
        if let Some(payment) = self.cloud.confirm(&wallet, &payment_id, approve) {
            let now = self.queue.now_ms();
            self.trace.line(format!(
                "{now} L{lane} app confirm {approve} -> {}",
                payment.status
            ));
            self.cloud_says(&payment, true);
        }
    }

    fn operator(&mut self, lane: usize, command: OperatorCommand) {
        let action = OperatorAction {
            operator: "attendant".into(),
            role: Role::Attendant,
            reason: "simulated".into(),
            command,
        };
        self.lane_step(lane, LaneEvent::Operator(action));
    }

    /// The attendant at `lane`: clears what blocks it, and cancels a basket whose shopper left.
    pub fn attendant(&mut self, lane: usize) {
        self.sides[lane].attendant_called = false;
        if !self.edge.up {
            self.call_attendant(lane);
            return;
        }
        let gone = self.sides[lane].shopper.as_ref().is_none_or(|s| s.left);
        if gone && self.edge.lanes[lane].lane.session.is_some() {
            if self.edge.lanes[lane].lane.payment_in_flight().is_some() {
                self.call_attendant(lane);
                return;
            }
            self.operator(lane, OperatorCommand::CancelBasket);
        }
        if gone {
            // The attendant takes what was left on the bagging area away.
            self.sides[lane].scale_g = 0;
            self.weigh(lane);
        }
        let open: Vec<u32> = self.edge.lanes[lane]
            .lane
            .interventions
            .iter()
            .filter(|i| i.kind.blocks())
            .map(|i| i.id)
            .collect();
        for id in open {
            self.operator(
                lane,
                OperatorCommand::ClearIntervention { id, approve: true },
            );
        }
        if gone
            && self.sides[lane].shopper.is_some()
            && self.edge.lanes[lane].lane.session.is_none()
        {
            self.free(lane);
        }
    }

    /// The shopper takes the bags and walks through the gate.
    pub fn passage(&mut self, lane: usize) {
        self.sides[lane].scale_g = 0;
        self.weigh(lane);
        self.lane_step(lane, LaneEvent::GatePassage);
        if let Some(id) = self.sides[lane].shopper.as_ref().map(|s| s.id) {
            self.queue.after(500, Event::Shopper(lane, id));
        }
    }
}
