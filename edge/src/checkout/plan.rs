//! What the lane runner does around the lane's rules, decided with no IO: what a scanner's frame
//! means to the lane, the messages a step commits with the lane's snapshot, and what a lane read
//! back after a restart must resume. The
//! runner ([`super::runner`]) carries them out over the database, the gate and the cloud; the
//! simulation (`omo-sim`) carries out the same decisions over its own clock and network.

use omo_devices::barcode::{self, VariableMeasureFormats};
use serde_json::json;

use crate::board::LaneView;
use crate::db::OutboxMessage;
use crate::epcis::{self, Place};
use crate::lane::{Lane, LaneEvent, LaneState, Sale};
use crate::payment::Order;
use crate::topics;

/// The lane event of one scanner frame: a coupon code, a barcode the parser read (with the
/// store's variable-measure formats), or a bad scan with the parser's reason.
pub fn scan_event(raw: String, formats: &VariableMeasureFormats) -> LaneEvent {
    if let Some(coupon) = crate::lane::pricing::parse_coupon_code(&raw) {
        return LaneEvent::Coupon(coupon);
    }
    match barcode::parse(&raw, formats) {
        Ok(parsed) => LaneEvent::Scan { raw, parsed },
        Err(error) => LaneEvent::BadScan {
            raw,
            reason: error.to_string(),
        },
    }
}

/// One thing a restarted lane must do before it takes new events, in this order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resume {
    /// A payment was in flight: settle it, querying the cloud first (no payment code).
    Settle(Order),
    /// A paid basket is in front of the gate: open it if its opening was never recorded; if it
    /// was, the gate is closed now (its safe state after a restart), so the shopper has left and
    /// the lane is told the gate closed.
    OpenGateForPaid,
    /// The gate was open when the edge stopped; it is closed now, so the shopper has left: the
    /// lane is told the gate closed and the session completes.
    FinishExit,
}

/// What lane `lane` must resume, `description` naming its payments (as the runner's
/// Authorize does).
pub fn resume(lane: &Lane, description: &str) -> Vec<Resume> {
    let mut todo = Vec::new();
    if let Some(order_id) = lane.order_in_flight() {
        let amount_fen = lane
            .session
            .as_ref()
            .and_then(|s| s.payment.as_ref())
            .map_or(0, |p| p.amount_fen);
        todo.push(Resume::Settle(Order {
            order_id: order_id.to_string(),
            amount_fen,
            payment_code: None,
            description: description.to_string(),
            coupon_ids: Vec::new(),
            pre_coupon_fen: 0,
            coupon_shares: Vec::new(),
        }));
    }
    match lane.state {
        LaneState::Paid => todo.push(Resume::OpenGateForPaid),
        LaneState::Exiting => todo.push(Resume::FinishExit),
        _ => {}
    }
    todo
}

/// The order whose gate opening a paid basket claims (`None`: no paid basket in front).
pub fn paid_order(lane: &Lane) -> Option<&str> {
    lane.session
        .as_ref()
        .and_then(|s| s.payment.as_ref())
        .map(|p| p.order_id.as_str())
}

/// The messages committed with a step of lane `lane` at store `store_id`: the lane's new state
/// (retained, under the fresh id `state_id`) and, with a sale, its EPCIS event, whose id is the
/// CBV 2.0 event hash, so the same sale always queues under the same id.
pub fn step_messages(
    store_id: &str,
    lane: &Lane,
    sale: Option<&Sale>,
    state_id: String,
) -> Result<(LaneView, Vec<OutboxMessage>), serde_json::Error> {
    let view = LaneView::new(store_id, lane);
    let mut state = serde_json::to_value(&view)?;
    state["id"] = json!(state_id);
    let mut messages = vec![OutboxMessage {
        id: state_id,
        topic: topics::lane_state(store_id, &lane.id),
        payload: serde_json::to_vec(&state)?,
        retain: true,
    }];
    if let Some(sale) = sale {
        let place = Place {
            store_id: store_id.to_string(),
            lane_id: lane.id.clone(),
        };
        let event = epcis::with_event_hash(epcis::sale_event(sale, &place, ""));
        let event_id = event["eventID"].as_str().unwrap_or_default().to_string();
        messages.push(OutboxMessage {
            payload: serde_json::to_vec(&event)?,
            id: event_id,
            topic: topics::trace(store_id),
            retain: false,
        });
    }
    Ok((view, messages))
}
