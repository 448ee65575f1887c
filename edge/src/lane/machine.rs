//! The checkout lane as a state machine that does no IO.
//!
//! [`Lane::handle`] takes one [`LaneEvent`] (a scan, a stable weight, a payment result, a gate
//! event, an operator action, the clock) and returns a [`Step`]: the [`Action`]s the runner must
//! carry out (authorize a payment, open the gate, record a sale, learn a weight) and the state
//! change with its cause. The runner persists the lane, and whatever the step produced, before it
//! acts, so a crash between any two lines leaves a lane that resumes correctly. The rules live in
//! [`super::scanning`], [`super::paying`] and [`super::attending`]; the diagram is in
//! `docs/lane-states.md`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use omo_devices::barcode::Parsed;
use omo_devices::scale::WeightReading;
use serde::{Deserialize, Serialize};

use super::basket::Basket;
pub use super::cause::Cause;
use super::intervention::{Intervention, InterventionKind, OperatorAction};
use super::pricing::PresentedCoupon;
pub(super) use super::prompt::welcome;
pub use super::prompt::{Prompt, fen};
use super::weight::{BaggingArea, WeightRules, WeightStats};
use crate::catalog::Catalog;

/// Where a lane is in a checkout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LaneState {
    /// No shopper: waiting for a first scan.
    Idle,
    /// Items are being scanned.
    Shopping,
    /// Stopped until an operator clears an intervention.
    NeedsAttendant,
    /// A payment is being authorized (or is PENDING on the shopper's confirmation).
    Paying,
    /// Paid: the gate is being opened.
    Paid,
    /// The gate is open for the shopper to leave.
    Exiting,
    /// Closed by an operator; no new session starts.
    Closed,
    /// A device or the lane itself is faulty.
    OutOfService,
}

/// What the cloud said about a payment, as the lane needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum PaymentOutcome {
    Succeeded {
        payment_id: String,
        wallet_id: String,
    },
    /// The shopper must confirm in the app; the runner keeps querying.
    Pending {
        payment_id: String,
    },
    Declined {
        reason: String,
    },
    /// The payment did not happen (cancelled after a time-out, or never reached the cloud).
    Cancelled {
        reason: String,
    },
    /// The cloud could not be reached; the payment is still unknown and being resolved.
    Unreachable {
        message: String,
    },
}

/// Something that happened at the lane.
#[derive(Debug, Clone)]
pub enum LaneEvent {
    /// A code read by the scanner (or camera), already parsed.
    Scan {
        raw: String,
        parsed: Parsed,
    },
    /// A code that could not be parsed; the reason is shown to the shopper.
    BadScan {
        raw: String,
        reason: String,
    },
    /// The bagging scale reported a new reading.
    Weight(WeightReading),
    /// The cloud's answer (or its absence) for the lane's current order.
    Payment {
        order_id: String,
        outcome: PaymentOutcome,
    },
    GateOpened,
    GatePassage,
    GateClosed,
    /// The gate reported something an operator must see (tailgating, forced passage, a fault).
    GateAlert {
        kind: InterventionKind,
        detail: String,
    },
    /// An operator's command, with who and why.
    Operator(OperatorAction),
    /// The shopper pressed "I use my own bag" on the lane screen.
    OwnBag,
    /// The shopper scanned a coupon (`OMOC1:{campaign}:{coupon}`).
    Coupon(PresentedCoupon),
    /// The coupons the paying shopper claimed in the app.
    WalletCoupons {
        order_id: String,
        coupons: Vec<PresentedCoupon>,
        payment_code: String,
    },
    /// Time passed (the runner ticks while something is due).
    Tick,
}

/// What the runner must do after a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Ask the cloud to charge `amount_fen` for `order_id` with the scanned code. The code itself
    /// is never persisted: it is single use and lives only as long as this action.
    Authorize {
        order_id: String,
        amount_fen: i64,
        payment_code: String,
        /// Coupons applied to the amount, redeemed with the charge.
        coupon_ids: Vec<String>,
        /// The basket before coupons, and each coupon's (id, base, discount) as this step
        /// priced them: what the cloud checks the coupons' arithmetic against.
        pre_coupon_fen: i64,
        coupon_shares: Vec<(String, i64, i64)>,
    },
    /// Fetch the coupons the shopper claimed in the app (answered by
    /// [`LaneEvent::WalletCoupons`], with none if the cloud cannot be asked).
    FetchWalletCoupons {
        order_id: String,
        wallet_id: String,
        payment_code: String,
    },
    /// Open the exit gate for one passage.
    OpenGate,
    /// Record the sale: the receipt, and the EPCIS retail-selling event for the outbox.
    RecordSale(Sale),
    /// A product was weighed on the bagging scale: learn from it.
    LearnWeight { gtin: String, grams: i64 },
    /// A basket was dropped without a sale: record it (in the step's commit, once per session).
    AbandonBasket(super::abandoned::AbandonedBasket),
}

/// A paid basket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sale {
    pub order_id: String,
    pub session_id: String,
    pub lane_id: String,
    pub payment_id: String,
    pub wallet_id: String,
    pub total_fen: i64,
    pub basket: Basket,
    pub paid_at: DateTime<Utc>,
    /// The signed pass that lets the shopper out (see [`crate::exit_pass`]).
    #[serde(default)]
    pub exit_pass: String,
}

/// A change of state and what caused it (recorded by the runner).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transition {
    pub from: LaneState,
    pub to: LaneState,
    pub cause: Cause,
}

/// The status of the current payment attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptStatus {
    /// The coupons the shopper claimed in the app are being fetched; nothing sent to pay yet.
    Pricing,
    Authorizing,
    Pending,
    Unknown,
    Succeeded,
    Declined,
    Cancelled,
}

/// One payment attempt: a new payment code means a new attempt with a new order id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentAttempt {
    pub order_id: String,
    pub amount_fen: i64,
    pub status: AttemptStatus,
    pub payment_id: Option<String>,
    pub wallet_id: Option<String>,
    pub started_at: DateTime<Utc>,
    /// Once paid: the exit pass shown on the lane screen and in the app.
    #[serde(default)]
    pub exit_pass: Option<String>,
}

/// A shopper's visit to the lane, from first scan to exit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    pub started_at: DateTime<Utc>,
    pub basket: Basket,
    /// Payment attempts made so far.
    pub attempts: u32,
    pub payment: Option<PaymentAttempt>,
    /// The bagging scale's accounting.
    #[serde(default)]
    pub bagging: BaggingArea,
    /// The shopper identified with their Omo wallet: member prices apply.
    #[serde(default)]
    pub member: bool,
    /// Coupons the shopper presented, in the order presented.
    #[serde(default)]
    pub coupons: Vec<PresentedCoupon>,
}

impl Session {
    /// Recomputes the basket's discounts; returns the coupons that apply.
    pub fn reprice(&mut self, ctx: &Context<'_>) -> Vec<String> {
        super::pricing::reprice(
            &mut self.basket,
            ctx.catalog,
            self.member,
            &self.coupons,
            ctx.now,
        )
    }
}

/// Learned weights per GTIN.
pub type WeightBook = HashMap<String, WeightStats>;

/// What a step needs from the outside world, passed in so the machine stays pure.
pub struct Context<'a> {
    pub now: DateTime<Utc>,
    pub store_id: &'a str,
    /// The key exit passes are signed with.
    pub exit_key: crate::exit_pass::Key<'a>,
    pub catalog: &'a Catalog,
    pub rules: &'a WeightRules,
    pub weights: &'a WeightBook,
    /// A fresh unique id, used if the step starts a session.
    pub new_id: String,
}

/// The result of one step.
#[derive(Debug, Default)]
pub struct Step {
    pub actions: Vec<Action>,
    pub transition: Option<Transition>,
    /// Whether the lane changed at all (nothing to commit or publish if not).
    pub changed: bool,
    /// Why an operator's command was refused, if it was.
    pub refused: Option<String>,
}

/// One checkout lane.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lane {
    #[serde(rename = "lane_id")]
    pub id: String,
    pub state: LaneState,
    pub session: Option<Session>,
    pub prompt: Prompt,
    /// The last stable weight on the bagging scale, in grams.
    pub scale_g: Option<i64>,
    /// The bagging scale's weight when the lane was last seen empty (the lowest stable reading,
    /// or the start weight of its first basket); goods above it are left behind, not tare.
    #[serde(default)]
    pub empty_g: Option<i64>,
    /// Open interventions and alerts, oldest first.
    #[serde(default)]
    pub interventions: Vec<Intervention>,
    #[serde(default)]
    pub next_intervention_id: u32,
    /// Bumped on every change: the version of the lane's published state.
    pub seq: u64,
    /// Checkouts completed on this lane.
    pub completed: u64,
    pub updated_at: DateTime<Utc>,
}

/// What a handler reports: the cause of the step, or why an operator command was refused.
pub(super) type Handled = Result<Cause, String>;

impl Lane {
    /// A new idle lane.
    pub fn new(id: impl Into<String>, now: DateTime<Utc>) -> Lane {
        Lane {
            id: id.into(),
            state: LaneState::Idle,
            session: None,
            prompt: welcome(),
            scale_g: None,
            empty_g: None,
            interventions: Vec::new(),
            next_intervention_id: 1,
            seq: 0,
            completed: 0,
            updated_at: now,
        }
    }

    /// The order id of the payment in flight, if the lane is waiting on one.
    pub fn order_in_flight(&self) -> Option<&str> {
        if self.state != LaneState::Paying {
            return None;
        }
        self.session
            .as_ref()
            .and_then(|s| s.payment.as_ref())
            .map(|p| p.order_id.as_str())
    }

    /// Whether an open intervention stops the lane.
    pub fn blocked(&self) -> bool {
        self.interventions.iter().any(|i| i.kind.blocks())
    }

    /// Applies one event.
    pub fn handle(&mut self, event: LaneEvent, ctx: &Context<'_>) -> Step {
        let before = self.clone();
        let mut actions = Vec::new();
        let cause = match event {
            LaneEvent::Scan { raw, parsed } => self.on_scan(raw, parsed, ctx, &mut actions),
            LaneEvent::BadScan { reason, .. } => {
                self.prompt = Prompt::new(
                    "unreadable",
                    format!("That code could not be read: {reason}"),
                );
                Ok(Cause::BadScan)
            }
            LaneEvent::Weight(reading) => self.on_weight(reading, ctx, &mut actions),
            LaneEvent::Tick => self.on_tick(ctx),
            LaneEvent::Payment { order_id, outcome } => {
                self.on_payment(&order_id, outcome, ctx, &mut actions)
            }
            LaneEvent::GateOpened => {
                if self.state == LaneState::Paid {
                    self.state = LaneState::Exiting;
                    self.prompt = Prompt::new("exit", "Thank you! The gate is open.");
                }
                Ok(Cause::GateOpened)
            }
            LaneEvent::GatePassage | LaneEvent::GateClosed => {
                if matches!(self.state, LaneState::Exiting | LaneState::Paid) {
                    self.finish_session();
                }
                Ok(Cause::GatePassage)
            }
            LaneEvent::GateAlert { kind, detail } => {
                self.raise(kind, detail, None, ctx.now);
                Ok(Cause::GateAlert)
            }
            LaneEvent::Operator(action) => self.on_operator(action, ctx, &mut actions),
            LaneEvent::Coupon(coupon) => self.on_coupon(coupon, ctx),
            LaneEvent::WalletCoupons {
                order_id,
                coupons,
                payment_code,
            } => self.on_wallet_coupons(&order_id, coupons, payment_code, ctx, &mut actions),
            LaneEvent::OwnBag => {
                if let Some(session) = self.session.as_mut() {
                    session.bagging.own_bag_allowed = true;
                    self.prompt = Prompt::new("place_bag", "Place your bag on the scale.");
                }
                Ok(Cause::OwnBag)
            }
        };
        self.settle_state();
        self.drop_empty_basket(ctx, &mut actions);
        let refused = cause.as_ref().err().cloned();
        let cause = cause.unwrap_or(Cause::OperatorCommandRefused);
        let changed = !same_apart_from_version(&before, self);
        if changed {
            self.seq += 1;
            self.updated_at = ctx.now;
        }
        let transition = (before.state != self.state).then_some(Transition {
            from: before.state,
            to: self.state,
            cause,
        });
        Step {
            actions,
            transition,
            changed,
            refused,
        }
    }

    /// Moves between shopping and needing an attendant as interventions open and close.
    fn settle_state(&mut self) {
        match self.state {
            LaneState::Shopping | LaneState::Idle if self.blocked() && self.session.is_some() => {
                self.state = LaneState::NeedsAttendant;
                self.prompt =
                    Prompt::new("attendant_coming", "An attendant is coming to help you.");
            }
            LaneState::NeedsAttendant if !self.blocked() => {
                self.state = if self.session.is_some() {
                    LaneState::Shopping
                } else {
                    LaneState::Idle
                };
                if self.session.is_none() {
                    self.prompt = welcome();
                } else if self.prompt.code == "attendant_coming" {
                    self.prompt = Prompt::new("continue", "Thank you. Please continue scanning.");
                }
            }
            _ => {}
        }
    }

    pub(super) fn finish_session(&mut self) {
        self.session = None;
        self.completed += 1;
        self.state = LaneState::Idle;
        self.prompt = welcome();
        // Alerts about the departed shopper's bagging area go with them.
        self.interventions.retain(|i| !i.kind.is_weight());
    }
}

/// Equal but for `seq` and `updated_at`.
fn same_apart_from_version(a: &Lane, b: &Lane) -> bool {
    a.state == b.state
        && a.session == b.session
        && a.prompt == b.prompt
        && a.scale_g == b.scale_g
        && a.empty_g == b.empty_g
        && a.interventions == b.interventions
        && a.completed == b.completed
}
