//! The invariants, checked as each step happens and once more at the end.
//!
//! The oracle (`oracle.rs`) follows every order: the last status the cloud gave it (recorded where the
//! cloud decided, whether or not the answer then reached the lane), whether the lane gave up on
//! it, and which orders of each basket are charged. The checks:
//!
//! | invariant | when |
//! | --- | --- |
//! | no basket charged twice | whenever the cloud holds an order SUCCEEDED |
//! | no paid basket lost | whenever the lane gives up on an order, or the cloud charges one the lane gave up on; at the end, every SUCCEEDED payment has its sale |
//! | the gate opens only after SUCCEEDED | at every gate opening: the database says SUCCEEDED, and so does the lane |
//! | no wallet negative, the wallet's books | after every cloud step, the touched wallet: balance = its ledger account, ≥ 0 |
//! | the ledger balances | the cloud's own `ledger_check` every `audit_every` steps and at the end |
//! | every payment final | at the end, after the network healed: no PENDING or unfinished row, no lane paying |
//! | a coupon is spent once, by a payment that took the money | at the end: every REDEEMED coupon's payment SUCCEEDED (or was refunded after), every SUCCEEDED payment spent its own coupons |
//! | each event reaches the outbox once | at the end, the outbox drained: every sale in the edge's database, its trace event drained exactly once |

use std::collections::{BTreeMap, BTreeSet};

use omo_edge::lane::{AttemptStatus, LaneState, PaymentOutcome};
use omo_proto::payment::{Payment, PaymentStatus};

use crate::oracle::session_of;
use crate::report::Invariant;
use crate::world::World;

impl World {
    /// The cloud decided something about an order (its answer may still be lost); `moved`:
    /// the call could move money (Authorize, Cancel, Confirm; not Query).
    pub fn cloud_says(&mut self, payment: &Payment, moved: bool) {
        if moved && !payment.wallet_id.is_empty() {
            self.oracle.touched.insert(payment.wallet_id.clone());
        }
        let order = payment.order_id.clone();
        let facts = self.oracle.orders.entry(order.clone()).or_default();
        let before = facts.cloud.replace(payment.status);
        let gave_up = facts.lane_gave_up;
        let succeeded = PaymentStatus::Succeeded as i32;
        let basket = session_of(&order).to_string();
        if payment.status == succeeded {
            let charged = self.oracle.charged.entry(basket.clone()).or_default();
            charged.insert(order.clone());
            if charged.len() > 1 {
                let orders: Vec<&String> = charged.iter().collect();
                let detail = format!("basket {basket} is charged by orders {orders:?}");
                self.fail(Invariant::NoBasketChargedTwice, detail);
            }
            if gave_up {
                let detail =
                    format!("the cloud charged order {order} after the lane gave up on it");
                self.fail(Invariant::NoPaidBasketLost, detail);
            }
        } else if before == Some(succeeded)
            && let Some(charged) = self.oracle.charged.get_mut(&basket)
        {
            charged.remove(&order);
        }
    }

    /// The lane's payment client gave its final word on an order.
    pub fn lane_gave_up(&mut self, order: &str, outcome: &PaymentOutcome) {
        if matches!(outcome, PaymentOutcome::Succeeded { .. }) {
            return;
        }
        let facts = self.oracle.orders.entry(order.to_string()).or_default();
        facts.lane_gave_up = true;
        if facts.cloud == Some(PaymentStatus::Succeeded as i32) {
            let detail = format!(
                "the lane settled order {order} as {} while the cloud holds it SUCCEEDED",
                crate::link::kind(outcome)
            );
            self.fail(Invariant::NoPaidBasketLost, detail);
        }
    }

    /// The gate was told to open for `order` at `lane`.
    pub fn gate_opened(&mut self, lane: usize, order: &str) {
        let in_cloud = self.cloud.status_of(crate::edge::STORE_ID, order);
        let at_lane = self.edge.attempt(lane, order);
        if in_cloud.as_deref() != Some("SUCCEEDED") || at_lane != Some(AttemptStatus::Succeeded) {
            let detail = format!(
                "the gate of lane {lane} opened for order {order}: the cloud says {in_cloud:?}, \
                 the lane {at_lane:?}"
            );
            self.fail(Invariant::GateOnlyAfterSucceeded, detail);
        }
    }

    /// The checks after every step.
    pub fn check_step(&mut self) {
        let touched = std::mem::take(&mut self.oracle.touched);
        for wallet in touched {
            match self.cloud.wallet_books(&wallet) {
                Ok((balance, _)) if balance < 0 => {
                    let detail = format!("wallet {wallet} has a balance of {balance} fen");
                    self.fail(Invariant::NoWalletNegative, detail);
                }
                Ok((balance, booked)) if balance != booked => {
                    let detail = format!(
                        "wallet {wallet}: balance {balance} fen, its ledger account {booked} fen"
                    );
                    self.fail(Invariant::LedgerBalances, detail);
                }
                Ok(_) => {}
                Err(error) => self.fail(Invariant::LedgerBalances, error),
            }
        }
        if self.opts.audit_every > 0 && self.step.is_multiple_of(self.opts.audit_every) {
            self.audit();
        }
    }

    fn audit(&mut self) {
        if let Err(error) = self.cloud.ledger_check() {
            self.fail(Invariant::LedgerBalances, error);
        }
    }

    /// The checks once the network healed and every shopper left.
    pub fn check_end(&mut self) {
        for (index, live) in self.edge.lanes.iter().enumerate() {
            if live.payer.is_some() || live.lane.state == LaneState::Paying {
                let detail = format!("lane {index} is still paying at the end");
                self.fail(Invariant::EveryPaymentFinal, detail);
                return;
            }
        }
        let recorded = match self.edge.recorded_sales() {
            Ok(recorded) => recorded,
            Err(error) => {
                self.broken(error);
                return;
            }
        };
        if let Err(error) = self.edge.drain_outbox() {
            self.broken(error);
            return;
        }
        if !self.check_outbox(&recorded) {
            return;
        }
        let payments = match self.cloud.all_payments() {
            Ok(payments) => payments,
            Err(error) => {
                self.fail(Invariant::EveryPaymentFinal, error);
                return;
            }
        };
        for (order, status) in &payments {
            match status.as_str() {
                "SUCCEEDED" if !recorded.contains(order) => {
                    let detail = format!("order {order} is SUCCEEDED but no sale was recorded");
                    self.fail(Invariant::NoPaidBasketLost, detail);
                    return;
                }
                "DECLINED" | "CANCELLED" | "REFUNDED" if recorded.contains(order) => {
                    let detail =
                        format!("order {order} was let out through the gate but ends {status}");
                    self.fail(Invariant::GateOnlyAfterSucceeded, detail);
                    return;
                }
                "SUCCEEDED" | "DECLINED" | "CANCELLED" | "REFUNDED" => {}
                other => {
                    let detail = format!("order {order} ends {other}");
                    self.fail(Invariant::EveryPaymentFinal, detail);
                    return;
                }
            }
        }
        match self.cloud.coupon_check() {
            Ok((broken, spent)) => {
                self.coupons_spent = spent;
                if let Some(detail) = broken {
                    self.fail(Invariant::CouponSpentOnce, detail);
                    return;
                }
            }
            Err(error) => {
                self.broken(error);
                return;
            }
        }
        self.audit();
    }

    /// Every sale the lanes produced is in the edge's database, and its trace event went through
    /// the outbox exactly once (no other trace event did). False if an invariant broke.
    fn check_outbox(&mut self, recorded: &BTreeSet<String>) -> bool {
        let facts = &self.edge.facts;
        if let Some(order) = facts.sales.keys().find(|o| !recorded.contains(*o)) {
            let detail = format!("the sale of order {order} is not in the edge's database");
            self.fail(Invariant::EventQueuedOnce, detail);
            return false;
        }
        for (event, order) in &facts.sale_events {
            let times = facts.events_drained.get(event).copied().unwrap_or(0);
            if times != 1 {
                let detail = format!(
                    "the trace event of order {order} went through the outbox {times} times"
                );
                self.fail(Invariant::EventQueuedOnce, detail);
                return false;
            }
        }
        if let Some(event) = facts
            .events_drained
            .keys()
            .find(|e| !facts.sale_events.contains_key(*e))
        {
            let detail = format!("the outbox held trace event {event}, which no sale queued");
            self.fail(Invariant::EventQueuedOnce, detail);
            return false;
        }
        true
    }

    /// Payments by final status, for the report.
    pub fn payments_by_status(&self) -> BTreeMap<String, u64> {
        let mut counts = BTreeMap::new();
        for (status, reason, n) in self.cloud.payment_counts().unwrap_or_default() {
            let reason = i32::try_from(reason)
                .ok()
                .and_then(|r| omo_proto::payment::DeclineReason::try_from(r).ok())
                .filter(|r| *r != omo_proto::payment::DeclineReason::Unspecified)
                .map(|r| {
                    r.as_str_name()
                        .trim_start_matches("DECLINE_REASON_")
                        .to_string()
                });
            let key = match reason {
                Some(reason) => format!("{status} ({reason})"),
                None => status,
            };
            *counts.entry(key).or_default() += u64::try_from(n).unwrap_or(0);
        }
        counts
    }
}
