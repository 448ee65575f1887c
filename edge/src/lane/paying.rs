//! Paying rules: a payment code starts an attempt (never with an open intervention), and only a
//! payment the cloud confirmed SUCCEEDED records the sale and opens the gate.

use super::cause::Cause;
use super::machine::{
    Action, AttemptStatus, Context, Handled, Lane, LaneState, PaymentAttempt, PaymentOutcome,
    Prompt, Sale, fen,
};
use super::pricing::PresentedCoupon;
use super::pricing::coupon_shares;

impl Lane {
    pub(super) fn start_payment(
        &mut self,
        code: String,
        ctx: &Context<'_>,
        actions: &mut Vec<Action>,
    ) -> Handled {
        if self.blocked() {
            self.prompt = Prompt::new(
                "attendant_coming",
                "An attendant is coming to help you before you pay.",
            );
            return Ok(Cause::PaymentCodeWhileBlocked);
        }
        let Some(session) = self.session.as_mut().filter(|s| !s.basket.items.is_empty()) else {
            self.prompt = Prompt::new(
                "basket_empty",
                "Scan your items first, then your payment code.",
            );
            return Ok(Cause::PaymentCodeWithEmptyBasket);
        };
        if ctx.rules.enabled && !session.bagging.awaited.is_empty() {
            self.prompt = Prompt::new(
                "place_item",
                "Place your last item in the bag, then scan your payment code.",
            );
            return Ok(Cause::PaymentCodeBeforeBagging);
        }
        // The payment code identifies an Omo member: member prices apply, and the coupons the
        // shopper claimed in the app are fetched before the amount is fixed.
        session.member = true;
        session.reprice(ctx);
        session.attempts += 1;
        let order_id = format!("{}-{}", session.id, session.attempts);
        let amount_fen = session.basket.total_fen();
        let wallet_id = code.get(2..10).unwrap_or_default().to_string();
        session.payment = Some(PaymentAttempt {
            order_id: order_id.clone(),
            amount_fen,
            status: AttemptStatus::Pricing,
            payment_id: None,
            wallet_id: Some(wallet_id.clone()),
            started_at: ctx.now,
            exit_pass: None,
        });
        self.state = LaneState::Paying;
        self.prompt = Prompt::new("paying", format!("Paying {}…", fen(amount_fen)));
        actions.push(Action::FetchWalletCoupons {
            order_id,
            wallet_id,
            payment_code: code,
        });
        Ok(Cause::PaymentCodeScanned)
    }

    /// The wallet's coupons are known (or could not be fetched: then none): fix the amount and
    /// authorize it.
    pub(super) fn on_wallet_coupons(
        &mut self,
        order_id: &str,
        coupons: Vec<PresentedCoupon>,
        payment_code: String,
        ctx: &Context<'_>,
        actions: &mut Vec<Action>,
    ) -> Handled {
        if self.state != LaneState::Paying {
            return Ok(Cause::StaleWalletCoupons);
        }
        let Some(session) = self.session.as_mut() else {
            return Ok(Cause::StaleWalletCoupons);
        };
        let pricing = session
            .payment
            .as_ref()
            .is_some_and(|p| p.order_id == order_id && p.status == AttemptStatus::Pricing);
        if !pricing {
            return Ok(Cause::StaleWalletCoupons);
        }
        for coupon in coupons {
            if !session
                .coupons
                .iter()
                .any(|c| c.campaign_id == coupon.campaign_id)
            {
                session.coupons.push(coupon);
            }
        }
        let coupon_ids = session.reprice(ctx);
        let amount_fen = session.basket.total_fen();
        if let Some(attempt) = session.payment.as_mut() {
            attempt.amount_fen = amount_fen;
            attempt.status = AttemptStatus::Authorizing;
        }
        self.prompt = Prompt::new("paying", format!("Paying {}…", fen(amount_fen)));
        let (pre_coupon_fen, coupon_shares) = coupon_shares(&session.basket);
        actions.push(Action::Authorize {
            order_id: order_id.to_string(),
            amount_fen,
            payment_code,
            coupon_ids,
            pre_coupon_fen,
            coupon_shares,
        });
        Ok(Cause::AmountFixed)
    }

    pub(super) fn on_payment(
        &mut self,
        order_id: &str,
        outcome: PaymentOutcome,
        ctx: &Context<'_>,
        actions: &mut Vec<Action>,
    ) -> Handled {
        let lane_id = self.id.clone();
        if self.state != LaneState::Paying {
            return Ok(Cause::StalePaymentAnswer);
        }
        let Some(session) = self.session.as_mut() else {
            return Ok(Cause::StalePaymentAnswer);
        };
        let Some(attempt) = session.payment.as_mut().filter(|p| p.order_id == order_id) else {
            return Ok(Cause::StalePaymentAnswer);
        };
        let mut drop_coupons = false;
        let (state, prompt, cause) = match outcome {
            PaymentOutcome::Succeeded {
                payment_id,
                wallet_id,
            } => {
                attempt.status = AttemptStatus::Succeeded;
                attempt.payment_id = Some(payment_id.clone());
                attempt.wallet_id = Some(wallet_id.clone());
                let exit_pass = crate::exit_pass::issue(
                    ctx.exit_key,
                    ctx.store_id,
                    &lane_id,
                    order_id,
                    ctx.now,
                );
                attempt.exit_pass = Some(exit_pass.clone());
                actions.push(Action::RecordSale(Sale {
                    exit_pass,
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
                let prompt = Prompt::new(
                    "paid",
                    format!("Paid {}. The gate is opening.", fen(attempt.amount_fen)),
                );
                (LaneState::Paid, prompt, Cause::PaymentSucceeded)
            }
            PaymentOutcome::Pending { payment_id } => {
                attempt.status = AttemptStatus::Pending;
                attempt.payment_id = Some(payment_id);
                let prompt =
                    Prompt::new("confirm_in_app", "Please confirm the payment in your app.");
                (LaneState::Paying, prompt, Cause::PaymentPending)
            }
            PaymentOutcome::Unreachable { message } => {
                attempt.status = AttemptStatus::Unknown;
                let prompt = Prompt::new(
                    "payment_unknown",
                    format!("Checking your payment, please wait ({message})."),
                );
                (LaneState::Paying, prompt, Cause::PaymentUnknown)
            }
            PaymentOutcome::Declined { reason } => {
                attempt.status = AttemptStatus::Declined;
                // A refused coupon (used elsewhere, not this wallet's) is dropped.
                drop_coupons = reason.contains("coupon");
                let prompt = Prompt::new(
                    "declined",
                    format!("Payment declined: {reason}. Scan a new payment code."),
                );
                (LaneState::Shopping, prompt, Cause::PaymentDeclined)
            }
            PaymentOutcome::Cancelled { reason } => {
                attempt.status = AttemptStatus::Cancelled;
                let prompt = Prompt::new(
                    "payment_cancelled",
                    format!("Payment not taken ({reason}). Scan a new payment code."),
                );
                (LaneState::Shopping, prompt, Cause::PaymentCancelled)
            }
        };
        if drop_coupons {
            session.coupons.clear();
            session.reprice(ctx);
        }
        self.state = state;
        self.prompt = prompt;
        Ok(cause)
    }
}
