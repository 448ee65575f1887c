//! A simulated gate: the same [`GateRules`](super::rules::GateRules) as the GPIO gate, with tokio
//! timers, and methods to simulate what shoppers and the building do (a passage, an obstruction, a
//! fire alarm).
//!
//! Run by `omo edge`, the simulated gate's relay is a [`FilePin`](super::watchdog::FilePin)
//! driven by a [`Watchdog`] process, like a real relay: its level is visible to other processes
//! in `<dir>/value`, each pulse is logged in `<dir>/pulses`, and writing `1` or `0` to
//! `<dir>/fire_alarm` is the building's fire-alarm input (polled every 50 ms).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::broadcast;

use super::alarm::{AlarmInput, OnChange, watch_fire_alarm};
use super::driven::{Driven, Opener, apply};
use super::rules::{GateTiming, Input};
use super::watchdog::{RelayCommand, Watchdog};
use super::{Gate, GateError, GateEvent, GateState};

#[derive(Default)]
struct SimOpener {
    pulses: AtomicU64,
    held: AtomicBool,
    /// The relay behind a watchdog process, with the pulse length.
    relay: Option<(Watchdog, Duration)>,
}

impl Opener for SimOpener {
    fn pulse(&self, _: &Handle) -> Result<(), GateError> {
        self.pulses.fetch_add(1, Ordering::Relaxed);
        if let Some((watchdog, length)) = &self.relay {
            watchdog.send(RelayCommand::Pulse(*length))?;
        }
        Ok(())
    }

    fn hold(&self, on: bool) -> Result<(), GateError> {
        self.held.store(on, Ordering::Relaxed);
        if let Some((watchdog, _)) = &self.relay {
            watchdog.send(RelayCommand::Hold(on))?;
        }
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
    /// A gate whose relay exists only in memory ([`SimGate::pulses`], [`SimGate::held_open`]).
    pub fn new(name: impl Into<String>, timing: GateTiming) -> Self {
        Self {
            inner: Driven::new(name.into(), timing, SimOpener::default(), None),
        }
    }

    /// A gate whose relay is driven by `watchdog` with pulses of `pulse` (a simulated pin in
    /// another process that reaches its safe level when this one dies).
    pub fn with_watchdog(
        name: impl Into<String>,
        timing: GateTiming,
        watchdog: Watchdog,
        pulse: Duration,
    ) -> Self {
        let opener = SimOpener {
            relay: Some((watchdog, pulse)),
            ..SimOpener::default()
        };
        Self {
            inner: Driven::new(name.into(), timing, opener, None),
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

    /// Follows a fire-alarm input line: armed first, then read (see [`super::alarm`]).
    pub(crate) fn watch_fire_alarm_input(
        &self,
        input: &mut dyn AlarmInput,
    ) -> Result<(), GateError> {
        watch_fire_alarm(&self.inner, input)
    }

    /// Follows the fire-alarm input file `path` (`1` active; missing or anything else quiet),
    /// polled every 50 ms on the current tokio runtime until the gate is dropped.
    pub fn watch_fire_alarm_file(&self, path: impl Into<PathBuf>) -> Result<(), GateError> {
        let runtime = Handle::try_current()
            .map_err(|_| GateError::Unavailable("the fire-alarm file needs a runtime".into()))?;
        let mut input = FileAlarm {
            path: path.into(),
            runtime,
            alive: Arc::downgrade(&self.inner),
        };
        self.watch_fire_alarm_input(&mut input)
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

/// The simulated fire-alarm line: a file, polled.
struct FileAlarm {
    path: PathBuf,
    runtime: Handle,
    alive: std::sync::Weak<Driven<SimOpener>>,
}

fn file_level(path: &std::path::Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|s| s.trim() == "1")
}

impl AlarmInput for FileAlarm {
    fn arm(&mut self, on_change: OnChange) -> Result<(), GateError> {
        let (path, alive) = (self.path.clone(), self.alive.clone());
        let mut last = file_level(&path);
        self.runtime.spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(50));
            while alive.strong_count() > 0 {
                tick.tick().await;
                let level = file_level(&path);
                if level != last {
                    last = level;
                    on_change(level);
                }
            }
        });
        Ok(())
    }

    fn active(&self) -> bool {
        file_level(&self.path)
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
