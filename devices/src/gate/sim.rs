//! A simulated gate: the same [`GateRules`] as a real one, with tokio timers, and methods to
//! simulate what shoppers and the building do (a passage, an obstruction, a fire alarm).

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::broadcast;
use tracing::{debug, info};

use super::rules::{GateRules, GateTiming, Input, Output};
use super::{Gate, GateError, GateEvent, GateState};

struct Inner {
    rules: Mutex<GateRules>,
    events: broadcast::Sender<GateEvent>,
    pulses: Mutex<u64>,
    name: String,
}

/// A simulated gate. Cheap to clone; clones share the gate.
#[derive(Clone)]
pub struct SimGate {
    inner: Arc<Inner>,
}

impl SimGate {
    pub fn new(name: impl Into<String>, timing: GateTiming) -> Self {
        let (events, _) = broadcast::channel(256);
        Self {
            inner: Arc::new(Inner {
                rules: Mutex::new(GateRules::new(timing)),
                events,
                pulses: Mutex::new(0),
                name: name.into(),
            }),
        }
    }

    /// A shopper walks through.
    pub fn simulate_passage(&self) -> Result<(), GateError> {
        apply(&self.inner, Input::Passage)
    }

    /// Something stands in (or leaves) the beam.
    pub fn set_obstructed(&self, on: bool) -> Result<(), GateError> {
        apply(&self.inner, Input::Obstructed(on))
    }

    /// The building's fire alarm input.
    pub fn set_fire_alarm(&self, active: bool) -> Result<(), GateError> {
        apply(&self.inner, Input::FireAlarm(active))
    }

    /// How many times the opener relay was pulsed.
    pub fn pulses(&self) -> u64 {
        *self
            .inner
            .pulses
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

fn apply(inner: &Arc<Inner>, input: Input) -> Result<(), GateError> {
    let runtime = tokio::runtime::Handle::try_current()
        .map_err(|_| GateError::Unavailable("the simulated gate needs a tokio runtime".into()))?;
    let outputs = inner
        .rules
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .handle(input);
    for output in outputs {
        match output {
            Output::Event(e) => {
                debug!(gate = %inner.name, event = ?e, "gate event");
                // No subscribers is fine.
                let _ = inner.events.send(e);
            }
            Output::PulseOpen => *inner.pulses.lock().unwrap_or_else(PoisonError::into_inner) += 1,
            Output::HoldOpen(on) => {
                info!(gate = %inner.name, hold = on, "gate opener held by fire alarm")
            }
            Output::StartTimer { kind, id, after } => {
                let weak = Arc::downgrade(inner);
                runtime.spawn(async move {
                    tokio::time::sleep(after).await;
                    if let Some(inner) = weak.upgrade() {
                        let _ = apply(&inner, Input::Timer { kind, id });
                    }
                });
            }
        }
    }
    Ok(())
}

impl Gate for SimGate {
    fn open(&self) -> Result<(), GateError> {
        apply(&self.inner, Input::OpenRequested)
    }

    fn state(&self) -> GateState {
        self.inner
            .rules
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .state()
    }

    fn subscribe(&self) -> broadcast::Receiver<GateEvent> {
        self.inner.events.subscribe()
    }
}
