//! Where a lane picks up after a restart, and the lane gate's openings: a paid basket's opening
//! is recorded by order id before the relay is pulsed, so it happens at most once per basket,
//! whatever restarts in between; an operator's "open gate" always opens.

use tracing::{error, info, warn};

use super::Runner;
use crate::lane::{LaneEvent, LaneState};
use crate::payment::Order;

impl Runner {
    /// Picks up where a previous run stopped.
    pub(super) async fn resume(&mut self) {
        if let Some(order_id) = self.lane.order_in_flight() {
            let amount = self
                .lane
                .session
                .as_ref()
                .and_then(|s| s.payment.as_ref())
                .map_or(0, |p| p.amount_fen);
            info!(lane = %self.lane.id, order = %order_id, "resuming a payment in flight: querying the cloud first");
            self.settle(Order {
                order_id: order_id.to_string(),
                amount_fen: amount,
                payment_code: None,
                description: self.description(),
                coupon_ids: Vec::new(),
                pre_coupon_fen: 0,
                coupon_shares: Vec::new(),
            });
        }
        if self.lane.state == LaneState::Paid {
            if self.open_gate_for_paid().await {
                info!(lane = %self.lane.id, "resuming a paid basket: opened the gate");
            } else {
                // The gate already opened for this basket before the restart (or its opening
                // cannot be recorded): not again. The gate is closed now, so the shopper has
                // left; an attendant lets out anyone still there with "open gate".
                warn!(lane = %self.lane.id, "resuming a paid basket whose gate already opened: not opening it again");
                let _ = self.answers.try_send(LaneEvent::GateClosed);
            }
        }
        if self.lane.state == LaneState::Exiting {
            // The gate was open when the edge stopped; it is closed now (a gate's safe state
            // after a restart), so the shopper has left: finish the session.
            info!(lane = %self.lane.id, "resuming after the exit: the session is complete");
            let _ = self.answers.try_send(LaneEvent::GateClosed);
        }
    }

    /// Opens the gate for the paid basket in front of the lane, once: the opening is recorded by
    /// order id before the relay is pulsed (fail closed: if it cannot be recorded, the gate stays
    /// shut and an attendant is needed). Returns whether the gate was told to open.
    pub(super) async fn open_gate_for_paid(&self) -> bool {
        let Some(order_id) = self
            .lane
            .session
            .as_ref()
            .and_then(|s| s.payment.as_ref())
            .map(|p| p.order_id.clone())
        else {
            self.open_gate();
            return true;
        };
        match self.ctx.db.claim_gate_open(&order_id, &self.lane.id).await {
            Ok(true) => {
                self.open_gate();
                true
            }
            Ok(false) => {
                warn!(lane = %self.lane.id, order = %order_id, "the gate already opened for this basket");
                false
            }
            Err(error) => {
                error!(lane = %self.lane.id, order = %order_id, %error, "cannot record the gate's opening; not opening it: an attendant must let the shopper out");
                false
            }
        }
    }

    /// Pulses the gate (an operator's command, or a paid basket's recorded opening).
    pub(super) fn open_gate(&self) {
        if let Err(error) = self.gate.open() {
            error!(lane = %self.lane.id, %error, "the exit gate did not open; an attendant must let the shopper out");
        }
    }
}
