//! What the exit gate's events mean to the lane: openings and passages, and alerts an operator
//! must see (tailgating, forced passage, a fault). A fire alarm is the gate's own business.

use omo_devices::gate::GateEvent;

use crate::lane::{InterventionKind, LaneEvent};

pub(super) fn gate_event(event: GateEvent) -> Option<LaneEvent> {
    let alert = |kind, detail: String| Some(LaneEvent::GateAlert { kind, detail });
    match event {
        GateEvent::Opened => Some(LaneEvent::GateOpened),
        GateEvent::PassageDetected { .. } => Some(LaneEvent::GatePassage),
        GateEvent::Closed => Some(LaneEvent::GateClosed),
        GateEvent::Tailgating { passages } => alert(
            InterventionKind::Tailgating,
            format!("{passages} people passed on one opening"),
        ),
        GateEvent::ForcedPassage => alert(
            InterventionKind::ForcedPassage,
            "someone passed the closed gate".into(),
        ),
        GateEvent::HeldOpenTooLong { open_ms } => alert(
            InterventionKind::GateFault,
            format!("the gate was held open for {} s", open_ms / 1000),
        ),
        GateEvent::Fault { reason } => alert(InterventionKind::GateFault, reason),
        GateEvent::FireAlarm { .. } => None,
    }
}
