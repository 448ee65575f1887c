//! Runs one lane: feeds its devices' events and payment answers to the state machine, commits
//! each step to the store (with the messages it produced), and only then acts on it.
//!
//! On start the lane resumes from its stored snapshot: a payment that was in flight is resolved
//! by Query before anything else, and a paid basket whose gate never opened opens it. A paid
//! basket's gate opening is recorded durably (by order id) *before* the relay is pulsed, so a
//! restart in the Paid state never opens the gate a second time for the same basket
//! (`resume`).

use std::sync::Arc;
use std::time::Duration;

use crate::device_health::publish_health;
use chrono::Utc;
use omo_devices::barcode::Barcode;
use omo_devices::gate::Gate;
use omo_devices::scale::{ScaleConfig, ScaleEvent, spawn_scale};
use omo_devices::scanner::{ScannerConfig, ScannerEvent, spawn_scanner};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use super::handles::LaneCommand;
use super::plan;
use crate::board::Counters;
use crate::context::EdgeContext;
use crate::db::DbError;
use crate::lane::machine::fen;
use crate::lane::{AbandonedBasket, Action, Cause, Context, Lane, LaneEvent, Sale, Transition};
use crate::payment::Order;

mod command;
mod gate_events;
mod resume;

use gate_events::gate_event;

/// The devices of one lane, chosen by the binary (real or simulated).
pub struct LaneDevices {
    pub scanner: ScannerConfig,
    /// A QR camera whose reads count as scans.
    pub camera: Option<omo_devices::camera::CameraConfig>,
    pub scale: Option<ScaleConfig>,
    pub gate: Arc<dyn Gate>,
}

/// Runs lane `lane_id` until `cancel`.
pub async fn run_lane(
    ctx: Arc<EdgeContext>,
    lane_id: String,
    devices: LaneDevices,
    cancel: CancellationToken,
) -> Result<(), DbError> {
    let (scan_tx, mut scans) = mpsc::channel(64);
    let mut scanner = devices.scanner.clone();
    scanner
        .name
        .get_or_insert(format!("lane-{lane_id}-scanner"));
    if let Some(mut camera) = devices.camera.clone() {
        camera.name.get_or_insert(format!("lane-{lane_id}-camera"));
        omo_devices::camera::spawn_camera(camera, scan_tx.clone(), cancel.clone());
    }
    spawn_scanner(scanner, scan_tx, cancel.clone());

    let (weight_tx, mut weights) = mpsc::channel(64);
    if let Some(mut scale) = devices.scale.clone() {
        scale.name.get_or_insert(format!("lane-{lane_id}-scale"));
        spawn_scale(scale, weight_tx, cancel.clone());
    } else {
        drop(weight_tx);
    }
    let mut gate_events = devices.gate.subscribe();
    let (answers_tx, mut answers) = mpsc::channel(64);
    let (inbox, mut commands) = mpsc::channel::<LaneCommand>(16);
    ctx.lanes.register(&lane_id, inbox);
    let mut ticks = tokio::time::interval(Duration::from_millis(250));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);

    let mut runner = Runner {
        lane: match ctx.db.load_lane(&lane_id).await? {
            Some(lane) => lane,
            None => Lane::new(lane_id.clone(), Utc::now()),
        },
        ctx,
        gate: devices.gate,
        answers: answers_tx,
        scan_at: None,
    };
    runner.commit(None, None, None).await?;
    runner.resume().await;

    loop {
        let event = tokio::select! {
            _ = cancel.cancelled() => break,
            Some(event) = scans.recv() => match event {
                ScannerEvent::Health(health) => { publish_health(&runner.ctx, health).await; continue }
                event => match runner.scanner_event(event) {
                    Some(event) => event,
                    None => continue,
                },
            },
            Some(event) = weights.recv() => match event {
                ScaleEvent::Weight(reading) => LaneEvent::Weight(reading),
                ScaleEvent::Health(health) => { publish_health(&runner.ctx, health).await; continue }
            },
            event = gate_events.recv() => match event {
                Ok(event) => match gate_event(event) {
                    Some(event) => event,
                    None => continue,
                },
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => {
                    warn!(lane = %runner.lane.id, "gate event stream closed");
                    gate_events = runner.gate.subscribe();
                    continue
                }
            },
            Some(event) = answers.recv() => event,
            Some(command) = commands.recv() => {
                runner.command(command).await;
                continue
            }
            _ = ticks.tick() => LaneEvent::Tick,
        };
        runner.step(event).await;
    }
    Ok(())
}

struct Runner {
    /// When the scan being handled came off the wire (for the latency histogram).
    scan_at: Option<chrono::DateTime<Utc>>,
    ctx: Arc<EdgeContext>,
    lane: Lane,
    gate: Arc<dyn Gate>,
    answers: mpsc::Sender<LaneEvent>,
}

impl Runner {
    fn description(&self) -> String {
        format!("Omo {} lane {}", self.ctx.config.store_id, self.lane.id)
    }

    fn scanner_event(&mut self, event: ScannerEvent) -> Option<LaneEvent> {
        let counters = &self.ctx.board.counters;
        match event {
            ScannerEvent::Scan(frame) => {
                Counters::bump(&counters.scans);
                let event = plan::scan_event(frame.raw, &self.ctx.config.variable_measure);
                match &event {
                    LaneEvent::BadScan { reason, .. } => {
                        Counters::bump(&counters.bad_scans);
                        warn!(lane = %self.lane.id, error = %reason, "unreadable scan");
                    }
                    _ => self.scan_at = Some(frame.at),
                }
                Some(event)
            }
            ScannerEvent::Garbage { reason } => {
                Counters::bump(&counters.bad_scans);
                warn!(lane = %self.lane.id, %reason, "garbage on the scanner line");
                None
            }
            ScannerEvent::Health(_) => None,
        }
    }

    /// One step: decide, commit, then act. Returns the refusal of an operator command.
    pub(super) async fn step(&mut self, event: LaneEvent) -> Option<String> {
        if let LaneEvent::Scan { parsed, .. } = &event
            && let Barcode::PaymentCode { wallet, .. } = &parsed.barcode
        {
            info!(lane = %self.lane.id, wallet = %mask(wallet), "payment code scanned");
        }
        let before = self.lane.clone();
        let by_operator = matches!(event, LaneEvent::Operator(_));
        let step = {
            let catalog = match self.ctx.catalog.read() {
                Ok(catalog) => catalog,
                Err(poisoned) => poisoned.into_inner(),
            };
            let weights = match self.ctx.weights.read() {
                Ok(weights) => weights,
                Err(poisoned) => poisoned.into_inner(),
            };
            let ctx = Context {
                now: Utc::now(),
                store_id: &self.ctx.config.store_id,
                exit_key: self.ctx.exit_keys.signing(),
                catalog: &catalog,
                rules: &self.ctx.config.weight_security,
                weights: &weights,
                new_id: uuid::Uuid::now_v7().to_string(),
            };
            self.lane.handle(event, &ctx)
        };
        let scan_at = self.scan_at.take();
        if let Some(transition) = &step.transition {
            let counters = &self.ctx.board.counters;
            match transition.cause {
                Cause::PaymentDeclined => Counters::bump(&counters.payments_declined),
                Cause::PaymentCancelled => Counters::bump(&counters.payments_cancelled),
                _ => {}
            }
        }
        if !step.changed && step.actions.is_empty() {
            return step.refused;
        }
        for intervention in &self.lane.interventions {
            if !before.interventions.iter().any(|i| i.id == intervention.id) {
                warn!(lane = %self.lane.id, kind = ?intervention.kind, detail = %intervention.detail, "attendant needed");
            }
        }
        let sale = step.actions.iter().find_map(|a| match a {
            Action::RecordSale(sale) => Some(sale),
            _ => None,
        });
        let abandoned = step.actions.iter().find_map(|a| match a {
            Action::AbandonBasket(basket) => Some(basket),
            _ => None,
        });
        if let Err(error) = self.commit(step.transition.as_ref(), sale, abandoned).await {
            // Nothing of this step is durable, so nothing of it may happen: roll back.
            error!(lane = %self.lane.id, %error, "cannot commit the lane's step; it is dropped");
            self.lane = before;
            return Some(format!("not recorded: {error}"));
        }
        if let Some(at) = scan_at {
            let seconds = (Utc::now() - at).num_microseconds().unwrap_or(0).max(0) as f64 / 1e6;
            self.ctx.board.scan_latency.observe(seconds);
        }
        for action in step.actions {
            match action {
                Action::Authorize {
                    order_id,
                    amount_fen,
                    payment_code,
                    coupon_ids,
                    pre_coupon_fen,
                    coupon_shares,
                } => self.settle(Order {
                    order_id,
                    amount_fen,
                    payment_code: Some(payment_code),
                    description: self.description(),
                    coupon_ids,
                    pre_coupon_fen,
                    coupon_shares,
                }),
                Action::FetchWalletCoupons {
                    order_id,
                    wallet_id,
                    payment_code,
                } => self.fetch_wallet_coupons(order_id, wallet_id, payment_code),
                // An operator's "open gate" always opens; a payment's opens once per basket.
                Action::OpenGate if by_operator => self.open_gate(),
                Action::OpenGate => {
                    self.open_gate_for_paid().await;
                }
                Action::RecordSale(sale) => self.log_sale(&sale),
                Action::LearnWeight { gtin, grams } => self.learn(gtin, grams).await,
                Action::AbandonBasket(basket) => {
                    info!(lane = %basket.lane_id, session = %basket.session_id, reason = ?basket.reason, items = basket.basket.item_count(), "basket abandoned: {}", fen(basket.total_fen));
                }
            }
        }
        step.refused
    }

    /// Adds an observed weight to what the store knows of a product.
    async fn learn(&self, gtin: String, grams: i64) {
        let stats = match self.ctx.weights.write() {
            Ok(mut book) => {
                let stats = book.entry(gtin.clone()).or_default();
                stats.observe(grams);
                *stats
            }
            Err(_) => return,
        };
        if let Err(error) = self.ctx.db.save_weight(&gtin, &stats).await {
            warn!(%gtin, %error, "cannot save a learned weight");
        }
    }

    /// Commits the lane's snapshot with its published state (and a sale with its EPCIS event).
    async fn commit(
        &mut self,
        transition: Option<&Transition>,
        sale: Option<&Sale>,
        abandoned: Option<&AbandonedBasket>,
    ) -> Result<(), DbError> {
        let state_id = uuid::Uuid::now_v7().to_string();
        let (view, messages) =
            plan::step_messages(&self.ctx.config.store_id, &self.lane, sale, state_id)?;
        self.ctx
            .db
            .commit_step(&self.lane, transition, sale, abandoned, &messages)
            .await?;
        self.ctx.outbox.wake();
        self.ctx.board.set_lane(view);
        Ok(())
    }

    fn settle(&self, order: Order) {
        let payments = self.ctx.payments.clone();
        let answers = self.answers.clone();
        tokio::spawn(async move {
            let order_id = order.order_id.clone();
            let progress_answers = answers.clone();
            let progress_order = order_id.clone();
            let outcome = payments
                .settle(order, move |outcome| {
                    let _ = progress_answers.try_send(LaneEvent::Payment {
                        order_id: progress_order.clone(),
                        outcome,
                    });
                })
                .await;
            let _ = answers.send(LaneEvent::Payment { order_id, outcome }).await;
        });
    }

    /// Asks the cloud for the shopper's app coupons and feeds them back to the lane.
    fn fetch_wallet_coupons(&self, order_id: String, wallet_id: String, payment_code: String) {
        let payments = self.ctx.payments.clone();
        let answers = self.answers.clone();
        let lane = self.lane.id.clone();
        tokio::spawn(async move {
            let coupons = match payments.wallet_coupons(&wallet_id).await {
                Ok(coupons) => coupons,
                Err(error) => {
                    warn!(%lane, %error, "cannot fetch the shopper's app coupons; paying without them");
                    Vec::new()
                }
            };
            let _ = answers
                .send(LaneEvent::WalletCoupons {
                    order_id,
                    coupons,
                    payment_code,
                })
                .await;
        });
    }

    fn log_sale(&self, sale: &Sale) {
        let counters = &self.ctx.board.counters;
        Counters::bump(&counters.checkouts);
        Counters::bump(&counters.payments_succeeded);
        info!(
            lane = %sale.lane_id,
            order = %sale.order_id,
            wallet = %mask(&sale.wallet_id),
            "checkout: {} item(s), {} paid",
            sale.basket.item_count(),
            fen(sale.total_fen),
        );
    }
}

/// A wallet number as logs may show it: `1234****`.
fn mask(wallet: &str) -> String {
    let shown: String = wallet.chars().take(4).collect();
    format!("{shown}****")
}
