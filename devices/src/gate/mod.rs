//! Exit gates: the object-safe [`Gate`] trait the edge holds as `Arc<dyn Gate>`, the gate's states
//! and events (UnifiedPOS terms: closed, open, blocked, malfunction), the pure timing rules
//! ([`rules`]), a simulated gate ([`SimGate`]) and a Raspberry Pi GPIO gate ([`RppalGate`]) that
//! both follow those rules through one shared driver (`driven`). The relay of a gate run by
//! `omo edge` belongs to a [`watchdog`] process, so the gate reaches its safe level even when the
//! edge is killed; the fire-alarm input is armed before it is read (`alarm`).

mod alarm;
mod driven;
mod rppal_gate;
pub mod rules;
mod sim;
pub mod watchdog;

use serde::Serialize;
use tokio::sync::broadcast;

pub use rppal_gate::{RppalGate, RppalGateConfig};
pub use rules::GateTiming;
pub use sim::SimGate;
pub use watchdog::{Watchdog, WatchdogSpec};

/// Where the gate is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GateState {
    Closed,
    /// Open for a shopper.
    Open,
    /// Held open by a fire alarm until the alarm is reset.
    AlarmOpen,
    /// Open and unable to close (something in the way) beyond the allowed time.
    Blocked,
    /// The gate cannot be driven.
    Malfunction,
}

/// What happened at the gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum GateEvent {
    Opened,
    /// Someone walked through; `passages` counts them for this opening.
    PassageDetected {
        passages: u32,
    },
    Closed,
    /// More than one passage for one opening.
    Tailgating {
        passages: u32,
    },
    /// A passage while the gate was closed.
    ForcedPassage,
    /// The gate stayed open longer than allowed.
    HeldOpenTooLong {
        open_ms: u64,
    },
    /// The fire alarm input changed; while active the gate is held open.
    FireAlarm {
        active: bool,
    },
    /// The gate could not be driven.
    Fault {
        reason: String,
    },
}

/// Why a gate command failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GateError {
    #[error("gate unavailable: {0}")]
    Unavailable(String),
    #[error("gate fault: {0}")]
    Fault(String),
    #[error("GPIO error: {0}")]
    Gpio(String),
}

/// An exit gate. Object safe: the edge holds `Arc<dyn Gate>`.
pub trait Gate: Send + Sync {
    /// Lets one shopper through: opens, then closes by the gate's timing rules.
    fn open(&self) -> Result<(), GateError>;
    /// The current state.
    fn state(&self) -> GateState;
    /// Every event from now on.
    fn subscribe(&self) -> broadcast::Receiver<GateEvent>;
}
