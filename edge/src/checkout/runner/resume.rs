//! Where a lane picks up after a restart, and the lane gate's openings: a paid basket's opening
//! is recorded by order id before the relay is pulsed, so it happens at most once per basket,
//! whatever restarts in between; an operator's "open gate" always opens.

use tracing::{error, info, warn};

use super::Runner;
use crate::checkout::plan::{self, Resume};
use crate::lane::LaneEvent;

impl Runner {
    /// Picks up where a previous run stopped (what to do is [`plan::resume`]'s).
    pub(super) async fn resume(&mut self) {
        for todo in plan::resume(&self.lane, &self.description()) {
            match todo {
                Resume::Settle(order) => {
                    info!(lane = %self.lane.id, order = %order.order_id, "resuming a payment in flight: querying the cloud first");
                    self.settle(order);
                }
                Resume::OpenGateForPaid => {
                    if self.open_gate_for_paid().await {
                        info!(lane = %self.lane.id, "resuming a paid basket: opened the gate");
                    } else {
                        // The gate already opened for this basket before the restart (or its
                        // opening cannot be recorded): not again. An attendant lets out anyone
                        // still there with "open gate".
                        warn!(lane = %self.lane.id, "resuming a paid basket whose gate already opened: not opening it again");
                        let _ = self.answers.try_send(LaneEvent::GateClosed);
                    }
                }
                Resume::FinishExit => {
                    info!(lane = %self.lane.id, "resuming after the exit: the session is complete");
                    let _ = self.answers.try_send(LaneEvent::GateClosed);
                }
            }
        }
    }

    /// Opens the gate for the paid basket in front of the lane, once: the opening is recorded by
    /// order id before the relay is pulsed (fail closed: if it cannot be recorded, the gate stays
    /// shut and an attendant is needed). Returns whether the gate was told to open.
    pub(super) async fn open_gate_for_paid(&self) -> bool {
        let Some(order_id) = plan::paid_order(&self.lane).map(str::to_string) else {
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
