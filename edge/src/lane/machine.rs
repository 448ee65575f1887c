//! The checkout lane as a state machine that does no IO.
//!
//! [`Lane::handle`] takes one [`LaneEvent`] (a scan, a stable weight, a payment result, a gate
//! event, an operator action) and returns the [`Action`]s the runner must carry out: authorize a
//! payment, open the gate, record a sale. The runner persists the lane (and whatever the step
//! produced) before it acts, so a crash between any two lines leaves a lane that resumes correctly.
//! The diagram is in `docs/lane-states.md`.
//!
//! ```text
//!  Idle --scan--> Shopping --payment code--> Paying --SUCCEEDED--> Paid --gate opened--> Exiting
//!   ^                ^                          |                                          |
//!   |                +---declined / cancelled---+                                          |
//!   +----------------------------------------------passage / gate closed-------------------+
//! ```

use chrono::{DateTime, Utc};
use omo_devices::barcode::{Barcode, Parsed};
use omo_devices::scale::WeightReading;
use serde::{Deserialize, Serialize};

use super::basket::{Basket, Measure};
use crate::catalog::{Catalog, is_by_weight};

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
    /// An operator took the lane out of service or put it back.
    SetOutOfService(bool),
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
    },
    /// Open the exit gate for one passage.
    OpenGate,
    /// Record the sale: the receipt, and the EPCIS retail-selling event for the outbox.
    RecordSale(Sale),
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
}

/// A change of state and what caused it (recorded by the runner).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transition {
    pub from: LaneState,
    pub to: LaneState,
    pub cause: String,
}

/// The status of the current payment attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptStatus {
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
}

/// What the shopper's screen says now: a stable code for screens and tests, and the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    pub code: String,
    pub text: String,
}

impl Prompt {
    fn new(code: &str, text: impl Into<String>) -> Prompt {
        Prompt {
            code: code.into(),
            text: text.into(),
        }
    }
}

/// What a step needs from the outside world, passed in so the machine stays pure.
pub struct Context<'a> {
    pub now: DateTime<Utc>,
    pub catalog: &'a Catalog,
    /// A fresh unique id, used if the step starts a session.
    pub new_id: String,
}

/// The result of one step.
#[derive(Debug, Default)]
pub struct Step {
    pub actions: Vec<Action>,
    pub transition: Option<Transition>,
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
    /// Bumped on every step: the version of the lane's published state.
    pub seq: u64,
    /// Checkouts completed on this lane.
    pub completed: u64,
    pub updated_at: DateTime<Utc>,
}

impl Lane {
    /// A new idle lane.
    pub fn new(id: impl Into<String>, now: DateTime<Utc>) -> Lane {
        Lane {
            id: id.into(),
            state: LaneState::Idle,
            session: None,
            prompt: welcome(),
            scale_g: None,
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

    /// Applies one event.
    pub fn handle(&mut self, event: LaneEvent, ctx: &Context<'_>) -> Step {
        let from = self.state;
        let mut actions = Vec::new();
        let cause = match event {
            LaneEvent::Scan { raw, parsed } => self.on_scan(raw, parsed, ctx, &mut actions),
            LaneEvent::BadScan { reason, .. } => {
                self.prompt = Prompt::new(
                    "unreadable",
                    format!("That code could not be read: {reason}"),
                );
                "bad scan"
            }
            LaneEvent::Weight(reading) => {
                if let WeightReading::Stable { grams } = reading {
                    self.scale_g = Some(grams);
                }
                "weight"
            }
            LaneEvent::Payment { order_id, outcome } => {
                self.on_payment(&order_id, outcome, ctx, &mut actions)
            }
            LaneEvent::GateOpened => {
                if self.state == LaneState::Paid {
                    self.state = LaneState::Exiting;
                    self.prompt = Prompt::new("exit", "Thank you! The gate is open.");
                }
                "gate opened"
            }
            LaneEvent::GatePassage | LaneEvent::GateClosed => {
                if matches!(self.state, LaneState::Exiting | LaneState::Paid) {
                    self.finish_session();
                }
                "gate passage"
            }
            LaneEvent::SetOutOfService(out) => {
                if out && self.state != LaneState::Paying {
                    self.state = LaneState::OutOfService;
                    self.prompt =
                        Prompt::new("closed", "This lane is closed. Please use another lane.");
                } else if !out && self.state == LaneState::OutOfService {
                    self.state = if self.session.is_some() {
                        LaneState::Shopping
                    } else {
                        LaneState::Idle
                    };
                    self.prompt = welcome();
                }
                "operator"
            }
        };
        self.seq += 1;
        self.updated_at = ctx.now;
        let transition = (from != self.state).then(|| Transition {
            from,
            to: self.state,
            cause: cause.to_string(),
        });
        Step {
            actions,
            transition,
        }
    }

    fn on_scan(
        &mut self,
        raw: String,
        parsed: Parsed,
        ctx: &Context<'_>,
        actions: &mut Vec<Action>,
    ) -> &'static str {
        match self.state {
            LaneState::Idle | LaneState::Shopping => {}
            LaneState::Paying => {
                self.prompt = Prompt::new("paying", "Payment in progress, please wait.");
                return "scan ignored";
            }
            LaneState::Paid | LaneState::Exiting => return "scan ignored",
            LaneState::NeedsAttendant | LaneState::Closed | LaneState::OutOfService => {
                return "scan ignored";
            }
        }
        if let Barcode::PaymentCode { .. } = parsed.barcode {
            return self.start_payment(raw, ctx, actions);
        }
        let Some((product, measure, lot)) = resolve(&parsed.barcode, ctx.catalog) else {
            self.prompt = Prompt::new(
                "unknown_product",
                format!("Unknown product {raw}: please ask an attendant."),
            );
            return "unknown product";
        };
        let session = self.session.get_or_insert_with(|| Session {
            id: ctx.new_id.clone(),
            started_at: ctx.now,
            basket: Basket::default(),
            attempts: 0,
            payment: None,
        });
        let item = session.basket.add(product, measure, lot);
        let (name, price) = (item.name.clone(), item.price_fen);
        let text = format!(
            "{name} {} — total {}",
            fen(price),
            fen(session.basket.total_fen())
        );
        self.state = LaneState::Shopping;
        self.prompt = Prompt::new("item_added", text);
        "item scanned"
    }

    fn start_payment(
        &mut self,
        code: String,
        ctx: &Context<'_>,
        actions: &mut Vec<Action>,
    ) -> &'static str {
        let Some(session) = self.session.as_mut().filter(|s| !s.basket.items.is_empty()) else {
            self.prompt = Prompt::new(
                "basket_empty",
                "Scan your items first, then your payment code.",
            );
            return "payment code with empty basket";
        };
        session.attempts += 1;
        let order_id = format!("{}-{}", session.id, session.attempts);
        let amount_fen = session.basket.total_fen();
        session.payment = Some(PaymentAttempt {
            order_id: order_id.clone(),
            amount_fen,
            status: AttemptStatus::Authorizing,
            payment_id: None,
            wallet_id: None,
            started_at: ctx.now,
        });
        self.state = LaneState::Paying;
        self.prompt = Prompt::new("paying", format!("Paying {}…", fen(amount_fen)));
        actions.push(Action::Authorize {
            order_id,
            amount_fen,
            payment_code: code,
        });
        "payment code scanned"
    }

    fn on_payment(
        &mut self,
        order_id: &str,
        outcome: PaymentOutcome,
        ctx: &Context<'_>,
        actions: &mut Vec<Action>,
    ) -> &'static str {
        let lane_id = self.id.clone();
        let Some(session) = self.session.as_mut() else {
            return "stale payment answer";
        };
        let Some(attempt) = session.payment.as_mut().filter(|p| p.order_id == order_id) else {
            return "stale payment answer";
        };
        if self.state != LaneState::Paying {
            return "stale payment answer";
        }
        match outcome {
            PaymentOutcome::Succeeded {
                payment_id,
                wallet_id,
            } => {
                attempt.status = AttemptStatus::Succeeded;
                attempt.payment_id = Some(payment_id.clone());
                attempt.wallet_id = Some(wallet_id.clone());
                actions.push(Action::RecordSale(Sale {
                    order_id: order_id.to_string(),
                    session_id: session.id.clone(),
                    lane_id,
                    payment_id,
                    wallet_id,
                    total_fen: attempt.amount_fen,
                    basket: session.basket.clone(),
                    paid_at: ctx.now,
                }));
                actions.push(Action::OpenGate);
                self.state = LaneState::Paid;
                self.prompt = Prompt::new(
                    "paid",
                    format!("Paid {}. The gate is opening.", fen(attempt.amount_fen)),
                );
                "payment succeeded"
            }
            PaymentOutcome::Pending { payment_id } => {
                attempt.status = AttemptStatus::Pending;
                attempt.payment_id = Some(payment_id);
                self.prompt =
                    Prompt::new("confirm_in_app", "Please confirm the payment in your app.");
                "payment pending"
            }
            PaymentOutcome::Unreachable { message } => {
                attempt.status = AttemptStatus::Unknown;
                self.prompt = Prompt::new(
                    "payment_unknown",
                    format!("Checking your payment, please wait ({message})."),
                );
                "payment unknown"
            }
            PaymentOutcome::Declined { reason } => {
                attempt.status = AttemptStatus::Declined;
                self.state = LaneState::Shopping;
                self.prompt = Prompt::new(
                    "declined",
                    format!("Payment declined: {reason}. Scan a new payment code."),
                );
                "payment declined"
            }
            PaymentOutcome::Cancelled { reason } => {
                attempt.status = AttemptStatus::Cancelled;
                self.state = LaneState::Shopping;
                self.prompt = Prompt::new(
                    "payment_cancelled",
                    format!("Payment not taken ({reason}). Scan a new payment code."),
                );
                "payment cancelled"
            }
        }
    }

    fn finish_session(&mut self) {
        self.session = None;
        self.completed += 1;
        self.state = LaneState::Idle;
        self.prompt = welcome();
    }
}

fn welcome() -> Prompt {
    Prompt::new("welcome", "Welcome! Scan your first item.")
}

/// Yuan with two decimals, for prompts: `¥12.90`.
pub fn fen(amount: i64) -> String {
    let sign = if amount < 0 { "-" } else { "" };
    let amount = amount.unsigned_abs();
    format!("{sign}¥{}.{:02}", amount / 100, amount % 100)
}

/// The product a code stands for, how to price it, and its lot.
fn resolve<'c>(
    barcode: &Barcode,
    catalog: &'c Catalog,
) -> Option<(&'c omo_proto::catalog::Product, Measure, Option<String>)> {
    match barcode {
        Barcode::Product { gtin, .. } => {
            let product = catalog.by_gtin(gtin)?;
            Some((product, Measure::Piece, None))
        }
        Barcode::VariableMeasure {
            item,
            price_fen,
            weight_g,
            ..
        } => {
            let product = catalog.by_plu(item)?;
            let measure = match (weight_g, price_fen) {
                (Some(grams), _) => Measure::Weight(*grams),
                (None, Some(fen)) => Measure::LabelPrice(*fen),
                (None, None) => Measure::Piece,
            };
            Some((product, measure, None))
        }
        Barcode::Gs1 {
            gtin: Some(gtin),
            lot,
            net_weight_g,
            price_fen,
            ..
        } => {
            let product = catalog.by_gtin(gtin)?;
            let measure = match (net_weight_g, price_fen) {
                (_, Some(fen)) => Measure::LabelPrice(*fen),
                (Some(grams), None) if is_by_weight(product) => Measure::Weight(*grams),
                _ => Measure::Piece,
            };
            Some((product, measure, lot.clone()))
        }
        Barcode::DigitalLink { gtin, lot, .. } => {
            let product = catalog.by_gtin(gtin)?;
            Some((product, Measure::Piece, lot.clone()))
        }
        _ => None,
    }
}
