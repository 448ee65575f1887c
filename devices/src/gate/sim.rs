//! A simulated gate: the same [`GateRules`](super::rules::GateRules) as the GPIO gate, with tokio
//! timers, and methods to simulate what shoppers and the building do (a passage, an obstruction, a
//! fire alarm).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio::runtime::Handle;
use tokio::sync::broadcast;

use super::driven::{Driven, Opener, apply};
use super::rules::{GateTiming, Input};
use super::{Gate, GateError, GateEvent, GateState};

#[derive(Default)]
struct SimOpener {
    pulses: AtomicU64,
    held: AtomicBool,
}

impl Opener for SimOpener {
    fn pulse(&self, _: &Handle) -> Result<(), GateError> {
        self.pulses.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn hold(&self, on: bool) -> Result<(), GateError> {
        self.held.store(on, Ordering::Relaxed);
        Ok(())
    }
}

/// A simulated gate. Cheap to clone; clones share the gate. Its methods need a tokio runtime
/// (for the close timers) and fail with [`GateError::Unavailable`] outside one.
#[derive(Clone)]
pub struct SimGate {
    inner: Arc<Driven<SimOpener>>,
}

impl SimGate {
    pub fn new(name: impl Into<String>, timing: GateTiming) -> Self {
        Self {
            inner: Driven::new(name.into(), timing, SimOpener::default(), None),
        }
    }

    /// A shopper walks through (the beam is broken and restored).
    pub fn simulate_passage(&self) -> Result<(), GateError> {
        apply(&self.inner, Input::Passage)
    }

    /// Something stands in (or leaves) the beam: the gate will not close on it.
    pub fn set_obstructed(&self, on: bool) -> Result<(), GateError> {
        apply(&self.inner, Input::Obstructed(on))
    }

    /// The building's fire alarm input.
    pub fn set_fire_alarm(&self, active: bool) -> Result<(), GateError> {
        apply(&self.inner, Input::FireAlarm(active))
    }

    /// How many times the opener relay was pulsed.
    pub fn pulses(&self) -> u64 {
        self.inner.opener.pulses.load(Ordering::Relaxed)
    }

    /// True while the opener is held by the fire alarm.
    pub fn held_open(&self) -> bool {
        self.inner.opener.held.load(Ordering::Relaxed)
    }
}

impl Gate for SimGate {
    fn open(&self) -> Result<(), GateError> {
        apply(&self.inner, Input::OpenRequested)
    }

    fn state(&self) -> GateState {
        self.inner.state()
    }

    fn subscribe(&self) -> broadcast::Receiver<GateEvent> {
        self.inner.subscribe()
    }
}
