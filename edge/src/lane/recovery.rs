//! Bringing a lane back to idle (pure): an attendant's "cancel basket", a manager's "reset lane",
//! a lane returned to service, and a basket emptied by voids. A basket dropped this way is not
//! lost: the step carries it as an [`AbandonedBasket`] for the runner to record (idempotent by
//! session id) in the same commit as the lane's new snapshot. Nothing here drops a basket whose
//! payment is in flight: the money's answer must come first.
//!
//! Goods left on the bagging area never become the next shopper's tare: the lane knows its
//! empty weight (`empty_g`: the lowest stable reading seen, or the start weight of its first
//! basket), and when a basket opens or the lane comes back to idle with the scale above it by
//! more than `empty_tolerance_g`, the lane stops with [`InterventionKind::BaggingAreaNotEmpty`]
//! until the scale returns near empty (or to what the basket accounts for) or an attendant
//! clears it. A basket opened so accounts from the empty weight, not from the leftovers.

use super::abandoned::{AbandonReason, AbandonedBasket};
use super::cause::Cause;
use super::intervention::InterventionKind;
use super::machine::{Action, AttemptStatus, Context, Handled, Lane, LaneState, Prompt, welcome};
use super::weight::WeightRules;

impl Lane {
    /// Why the basket cannot be dropped now: a payment that may still move money.
    pub fn payment_in_flight(&self) -> Option<String> {
        if self.state != LaneState::Paying {
            return None;
        }
        let status = self
            .session
            .as_ref()
            .and_then(|s| s.payment.as_ref())
            .map(|p| p.status);
        match status {
            // Coupons are being fetched: nothing was sent to pay yet.
            None
            | Some(AttemptStatus::Pricing | AttemptStatus::Declined | AttemptStatus::Cancelled) => {
                None
            }
            Some(status) => Some(format!(
                "a payment is in flight ({}); wait for its answer",
                match status {
                    AttemptStatus::Pending => "waiting for the shopper's confirmation",
                    AttemptStatus::Unknown => "its outcome is being queried",
                    _ => "being authorized",
                }
            )),
        }
    }

    /// Drops the session (recorded as abandoned) with the interventions about it; gate alerts
    /// stay for the operators. A lane out of service or closed stays so; any other goes idle.
    pub(super) fn abandon(
        &mut self,
        reason: AbandonReason,
        ctx: &Context<'_>,
        actions: &mut Vec<Action>,
    ) {
        if let Some(session) = self.session.take() {
            actions.push(Action::AbandonBasket(AbandonedBasket {
                total_fen: session.basket.total_fen(),
                last_order_id: session.payment.map(|p| p.order_id),
                session_id: session.id,
                lane_id: self.id.clone(),
                reason,
                basket: session.basket,
                started_at: session.started_at,
                abandoned_at: ctx.now,
                scale_g: self.scale_g,
            }));
        }
        self.interventions.retain(|i| !i.kind.blocks());
        if matches!(self.state, LaneState::OutOfService | LaneState::Closed) {
            return;
        }
        if reason == AbandonReason::Emptied {
            // The attendant who voided the lines is taking them away; a next basket opened
            // before they are gone stops on them anyway.
            self.state = LaneState::Idle;
            self.prompt = welcome();
        } else {
            self.back_to_idle(ctx);
        }
    }

    /// Idle and welcoming, unless goods are left on the bagging area: then the lane stops until
    /// they are taken off or an attendant clears it.
    fn back_to_idle(&mut self, ctx: &Context<'_>) {
        self.state = LaneState::Idle;
        self.prompt = welcome();
        if self.session.is_none() && self.raise_if_not_empty(ctx) {
            self.state = LaneState::NeedsAttendant;
        }
    }

    /// Grams on the bagging scale above the lane's empty weight, when more than the tolerance.
    pub(super) fn left_behind_g(&self, rules: &WeightRules) -> Option<i64> {
        if !rules.enabled {
            return None;
        }
        let extra = self.scale_g? - self.empty_g?;
        (extra > rules.empty_tolerance_g).then_some(extra)
    }

    /// Raises [`InterventionKind::BaggingAreaNotEmpty`] if goods are left on the bagging area;
    /// returns whether it did.
    pub(super) fn raise_if_not_empty(&mut self, ctx: &Context<'_>) -> bool {
        let Some(extra) = self.left_behind_g(ctx.rules) else {
            return false;
        };
        self.raise(
            InterventionKind::BaggingAreaNotEmpty,
            format!("{extra} g was left on the bagging area before this basket"),
            None,
            ctx.now,
        );
        self.prompt = Prompt::new(
            "bagging_area_not_empty",
            "Please take everything off the bagging area. An attendant is coming.",
        );
        true
    }

    /// A stable reading: the empty weight follows the scale down, and goods left behind are
    /// cleared once the scale is back near empty (or near what the basket accounts for).
    pub(super) fn track_empty(&mut self, grams: i64, rules: &WeightRules) {
        if !rules.enabled {
            return;
        }
        if self.empty_g.is_none_or(|empty| grams < empty) {
            self.empty_g = Some(grams);
        }
        let reference = match &self.session {
            Some(session) => session.bagging.accounted_g,
            None => self.empty_g.unwrap_or(grams),
        };
        if grams - reference <= rules.empty_tolerance_g {
            self.interventions
                .retain(|i| i.kind != InterventionKind::BaggingAreaNotEmpty);
        }
    }

    /// Where a new basket's bagging area starts: the scale as it is, or the empty weight when
    /// goods are left behind (so they are not the new shopper's tare).
    pub(super) fn basket_start_g(&mut self, rules: &WeightRules) -> i64 {
        let scale = self.scale_g.unwrap_or(0);
        let empty = *self.empty_g.get_or_insert(scale);
        if self.left_behind_g(rules).is_some() {
            empty
        } else {
            scale
        }
    }

    /// `cancel_basket`: the shopper's unpaid basket is dropped.
    pub(super) fn cancel_basket(
        &mut self,
        ctx: &Context<'_>,
        actions: &mut Vec<Action>,
    ) -> Handled {
        if let Some(why) = self.payment_in_flight() {
            return Err(why);
        }
        if matches!(self.state, LaneState::Paid | LaneState::Exiting) {
            return Err(
                "the basket is paid: let the shopper out (open gate) or reset the lane".into(),
            );
        }
        if self.session.is_none() {
            return Err(format!("there is no basket on lane {}", self.id));
        }
        self.abandon(AbandonReason::Cancelled, ctx, actions);
        Ok(Cause::BasketCancelled)
    }

    /// `reset_lane`: idle, in service, no interventions, from any state but a payment in flight.
    /// A paid basket is finished as a completed checkout (its sale is recorded already).
    pub(super) fn reset(&mut self, ctx: &Context<'_>, actions: &mut Vec<Action>) -> Handled {
        if let Some(why) = self.payment_in_flight() {
            return Err(why);
        }
        if matches!(self.state, LaneState::Paid | LaneState::Exiting) {
            self.finish_session();
        } else {
            self.abandon(AbandonReason::LaneReset, ctx, actions);
        }
        self.interventions.clear();
        self.back_to_idle(ctx);
        Ok(Cause::LaneReset)
    }

    /// `return_to_service`: the lane starts clean; the basket left when it went out of service
    /// is abandoned (its shopper has gone to another lane).
    pub(super) fn return_to_service(
        &mut self,
        ctx: &Context<'_>,
        actions: &mut Vec<Action>,
    ) -> Handled {
        if self.state != LaneState::OutOfService && self.state != LaneState::Closed {
            return Err("the lane is in service".into());
        }
        self.abandon(AbandonReason::ReturnedToService, ctx, actions);
        self.back_to_idle(ctx);
        Ok(Cause::BackInService)
    }

    /// A shopping lane whose basket is empty (every line voided, the only item refused) has no
    /// basket: back to idle rather than "shopping with 0 items".
    pub(super) fn drop_empty_basket(&mut self, ctx: &Context<'_>, actions: &mut Vec<Action>) {
        if self.state == LaneState::Shopping
            && self
                .session
                .as_ref()
                .is_some_and(|s| s.basket.items.is_empty())
        {
            self.abandon(AbandonReason::Emptied, ctx, actions);
        }
    }
}
