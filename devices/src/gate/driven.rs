//! The part every gate shares: [`GateRules`] behind a lock, events on a broadcast channel, timers
//! on tokio, and an [`Opener`] that does the physical work (a simulated or a GPIO relay).

use std::sync::{Arc, Mutex, PoisonError};

use tokio::runtime::Handle;
use tokio::sync::broadcast;
use tracing::{debug, warn};

use super::rules::{GateRules, GateTiming, Input, Output};
use super::{GateError, GateEvent, GateState};

/// Drives the gate's opener.
pub(crate) trait Opener: Send + Sync + 'static {
    /// Pulses the opener once (one opening).
    fn pulse(&self, runtime: &Handle) -> Result<(), GateError>;
    /// Holds the opener active (fire alarm) or releases it.
    fn hold(&self, on: bool) -> Result<(), GateError>;
}

pub(crate) struct Driven<O: Opener> {
    rules: Mutex<GateRules>,
    events: broadcast::Sender<GateEvent>,
    pub(crate) opener: O,
    name: String,
    runtime: Option<Handle>,
}

impl<O: Opener> Driven<O> {
    pub(crate) fn new(
        name: String,
        timing: GateTiming,
        opener: O,
        runtime: Option<Handle>,
    ) -> Arc<Self> {
        let (events, _) = broadcast::channel(256);
        Arc::new(Self {
            rules: Mutex::new(GateRules::new(timing)),
            events,
            opener,
            name,
            runtime,
        })
    }

    pub(crate) fn state(&self) -> GateState {
        self.rules
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .state()
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<GateEvent> {
        self.events.subscribe()
    }

    pub(crate) fn emit(&self, event: GateEvent) {
        debug!(gate = %self.name, event = ?event, "gate event");
        // No subscribers is fine.
        let _ = self.events.send(event);
    }
}

/// Feeds one input through the rules and carries out what they ask for.
pub(crate) fn apply<O: Opener>(gate: &Arc<Driven<O>>, input: Input) -> Result<(), GateError> {
    let runtime = match &gate.runtime {
        Some(h) => h.clone(),
        None => Handle::try_current().map_err(|_| {
            GateError::Unavailable(format!("gate {} needs a tokio runtime", gate.name))
        })?,
    };
    let outputs = gate
        .rules
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .handle(input);
    let mut result = Ok(());
    for output in outputs {
        let done = match output {
            Output::Event(e) => {
                gate.emit(e);
                Ok(())
            }
            Output::PulseOpen => gate.opener.pulse(&runtime),
            Output::HoldOpen(on) => gate.opener.hold(on),
            Output::StartTimer { kind, id, after } => {
                let weak = Arc::downgrade(gate);
                runtime.spawn(async move {
                    tokio::time::sleep(after).await;
                    if let Some(gate) = weak.upgrade() {
                        let _ = apply(&gate, Input::Timer { kind, id });
                    }
                });
                Ok(())
            }
        };
        if let Err(e) = done {
            warn!(gate = %gate.name, error = %e, "gate opener failed");
            gate.emit(GateEvent::Fault {
                reason: e.to_string(),
            });
            result = Err(e);
        }
    }
    result
}
