//! A gate on Raspberry Pi GPIO (rppal): a relay output that opens the gate (active level and pulse
//! length configurable), a passage beam input with debounce, and a fire-alarm input. It follows the
//! same [`GateRules`](super::rules::GateRules) as the simulated gate.
//!
//! **Safe state.** While the fire-alarm input is active the relay is held active (gate open).
//! rppal resets a pin only when its `OutputPin` is dropped, i.e. on a clean exit: on SIGKILL the
//! relay keeps its last level. [`RppalGate::with_watchdog`] therefore leaves the relay to a
//! [`Watchdog`] process that drives the safe level when the edge dies (released normally, held
//! during a fire alarm; see [`super::watchdog`]). [`RppalGate::new`] drives the relay in-process
//! (tests, tools). The fire-alarm signal should also be wired to the gate controller's
//! emergency-release input (fail-safe in hardware); software is the second line.
//!
//! The fire-alarm input's interrupt is armed *before* its level is read ([`super::alarm`]).
//!
//! On a machine without GPIO, [`RppalGate::new`] fails with [`GateError::Gpio`]; it never panics.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rppal::gpio::{Gpio, InputPin, OutputPin, Trigger};
use serde::Deserialize;
use tokio::runtime::Handle;
use tokio::sync::broadcast;

use super::alarm::{AlarmInput, OnChange, watch_fire_alarm};
use super::driven::{Driven, Opener, apply};
use super::rules::{GateTiming, Input};
use super::watchdog::{RelayCommand, Watchdog};
use super::{Gate, GateError, GateEvent, GateState};

/// GPIO wiring of one gate (BCM pin numbers).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RppalGateConfig {
    /// Output pin driving the opener relay.
    pub relay_pin: u8,
    /// Relay is energised by a high level (default true).
    #[serde(default = "yes")]
    pub relay_active_high: bool,
    /// Length of the opening pulse, in ms (default 500).
    #[serde(default = "default_pulse_ms")]
    pub pulse_ms: u64,
    /// Input pin of the passage beam.
    pub beam_pin: u8,
    /// The beam input reads low while the beam is broken (default true; input has a pull-up).
    #[serde(default = "yes")]
    pub beam_active_low: bool,
    /// Debounce of the beam input, in ms (default 30).
    #[serde(default = "default_debounce_ms")]
    pub debounce_ms: u64,
    /// Input pin of the fire alarm, if wired.
    #[serde(default)]
    pub fire_alarm_pin: Option<u8>,
    /// The fire-alarm input reads low while the alarm is active (default true).
    #[serde(default = "yes")]
    pub fire_alarm_active_low: bool,
    /// Gate timings.
    #[serde(default)]
    pub timing: GateTiming,
}

fn yes() -> bool {
    true
}
fn default_pulse_ms() -> u64 {
    500
}
fn default_debounce_ms() -> u64 {
    30
}

struct Relay {
    pin: Arc<Mutex<OutputPin>>,
    active_high: bool,
    pulse: Duration,
    held: Arc<Mutex<bool>>,
}

impl Relay {
    fn set(pin: &Mutex<OutputPin>, active_high: bool, active: bool) {
        let mut pin = pin.lock().unwrap_or_else(PoisonError::into_inner);
        if active == active_high {
            pin.set_high();
        } else {
            pin.set_low();
        }
    }
}

impl Opener for Relay {
    fn pulse(&self, runtime: &Handle) -> Result<(), GateError> {
        Self::set(&self.pin, self.active_high, true);
        let (pin, held, active_high, pulse) = (
            Arc::clone(&self.pin),
            Arc::clone(&self.held),
            self.active_high,
            self.pulse,
        );
        runtime.spawn(async move {
            tokio::time::sleep(pulse).await;
            if !*held.lock().unwrap_or_else(PoisonError::into_inner) {
                Relay::set(&pin, active_high, false);
            }
        });
        Ok(())
    }

    fn hold(&self, on: bool) -> Result<(), GateError> {
        *self.held.lock().unwrap_or_else(PoisonError::into_inner) = on;
        Self::set(&self.pin, self.active_high, on);
        Ok(())
    }
}

/// The relay: on a pin of this process, or behind a watchdog process.
enum RelayDriver {
    InProcess(Relay),
    Watchdog { watchdog: Watchdog, pulse: Duration },
}

impl Opener for RelayDriver {
    fn pulse(&self, runtime: &Handle) -> Result<(), GateError> {
        match self {
            RelayDriver::InProcess(relay) => relay.pulse(runtime),
            RelayDriver::Watchdog { watchdog, pulse } => watchdog.send(RelayCommand::Pulse(*pulse)),
        }
    }

    fn hold(&self, on: bool) -> Result<(), GateError> {
        match self {
            RelayDriver::InProcess(relay) => relay.hold(on),
            RelayDriver::Watchdog { watchdog, .. } => watchdog.send(RelayCommand::Hold(on)),
        }
    }
}

/// The fire-alarm input pin.
struct AlarmPin {
    pin: InputPin,
    active_low: bool,
    debounce: Duration,
}

impl AlarmInput for AlarmPin {
    fn arm(&mut self, on_change: OnChange) -> Result<(), GateError> {
        let active_low = self.active_low;
        self.pin
            .set_async_interrupt(Trigger::Both, Some(self.debounce), move |event| {
                on_change((event.trigger == Trigger::FallingEdge) == active_low)
            })
            .map_err(|e| gpio_err("fire-alarm interrupt", e))
    }

    fn active(&self) -> bool {
        self.pin.is_low() == self.active_low
    }
}

/// A GPIO gate. Keep it alive as long as the gate is used: dropping it releases the pins.
pub struct RppalGate {
    inner: Arc<Driven<RelayDriver>>,
    _beam: InputPin,
    _fire_alarm: Option<AlarmPin>,
}

fn gpio_err(what: &str, e: rppal::gpio::Error) -> GateError {
    GateError::Gpio(format!("{what}: {e}"))
}

impl RppalGate {
    /// Claims the pins, driving the relay from this process (it keeps its level if the process
    /// is killed). Must be called inside a tokio runtime (timers run on it).
    pub fn new(name: impl Into<String>, config: &RppalGateConfig) -> Result<Self, GateError> {
        Self::build(name.into(), config, None)
    }

    /// Claims the input pins; the relay is `watchdog`'s (`omo gate-watchdog --gpio N`), which
    /// drives it to the safe level when this process dies. Must be called inside a tokio runtime.
    pub fn with_watchdog(
        name: impl Into<String>,
        config: &RppalGateConfig,
        watchdog: Watchdog,
    ) -> Result<Self, GateError> {
        Self::build(name.into(), config, Some(watchdog))
    }

    fn build(
        name: String,
        config: &RppalGateConfig,
        watchdog: Option<Watchdog>,
    ) -> Result<Self, GateError> {
        let runtime = Handle::try_current()
            .map_err(|_| GateError::Unavailable(format!("gate {name} needs a tokio runtime")))?;
        let gpio = Gpio::new().map_err(|e| gpio_err("no usable GPIO on this machine", e))?;
        let pulse = Duration::from_millis(config.pulse_ms);
        let opener = match watchdog {
            Some(watchdog) => RelayDriver::Watchdog { watchdog, pulse },
            None => {
                let mut relay = gpio
                    .get(config.relay_pin)
                    .map_err(|e| gpio_err("relay pin", e))?
                    .into_output();
                relay.set_reset_on_drop(true);
                if config.relay_active_high {
                    relay.set_low();
                } else {
                    relay.set_high();
                }
                RelayDriver::InProcess(Relay {
                    pin: Arc::new(Mutex::new(relay)),
                    active_high: config.relay_active_high,
                    pulse,
                    held: Arc::new(Mutex::new(false)),
                })
            }
        };
        let inner = Driven::new(name, config.timing, opener, Some(runtime));

        let mut beam = gpio
            .get(config.beam_pin)
            .map_err(|e| gpio_err("beam pin", e))?
            .into_input_pullup();
        let gate = Arc::downgrade(&inner);
        let beam_active_low = config.beam_active_low;
        beam.set_async_interrupt(
            Trigger::Both,
            Some(Duration::from_millis(config.debounce_ms)),
            move |event| {
                let Some(gate) = gate.upgrade() else { return };
                let broken = (event.trigger == Trigger::FallingEdge) == beam_active_low;
                let _ = apply(&gate, Input::Obstructed(broken));
                if !broken {
                    let _ = apply(&gate, Input::Passage);
                }
            },
        )
        .map_err(|e| gpio_err("beam interrupt", e))?;

        let fire_alarm = match config.fire_alarm_pin {
            None => None,
            Some(pin) => {
                let mut input = AlarmPin {
                    pin: gpio
                        .get(pin)
                        .map_err(|e| gpio_err("fire-alarm pin", e))?
                        .into_input_pullup(),
                    active_low: config.fire_alarm_active_low,
                    debounce: Duration::from_millis(config.debounce_ms),
                };
                watch_fire_alarm(&inner, &mut input)?;
                Some(input)
            }
        };
        Ok(Self {
            inner,
            _beam: beam,
            _fire_alarm: fire_alarm,
        })
    }
}

impl Gate for RppalGate {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_has_defaults_and_rejects_typos() {
        let c: RppalGateConfig = serde_json::from_str(r#"{"relay_pin":17,"beam_pin":27}"#).unwrap();
        assert!(c.relay_active_high && c.beam_active_low);
        assert_eq!(
            (c.pulse_ms, c.debounce_ms, c.fire_alarm_pin),
            (500, 30, None)
        );
        assert!(
            serde_json::from_str::<RppalGateConfig>(r#"{"relay_pin":17,"beam_pin":27,"pulse":5}"#)
                .is_err()
        );
    }

    #[tokio::test]
    async fn without_gpio_new_fails_with_a_clear_error() {
        let config: RppalGateConfig =
            serde_json::from_str(r#"{"relay_pin":17,"beam_pin":27,"fire_alarm_pin":22}"#).unwrap();
        match RppalGate::new("lane-1-gate", &config) {
            // On a Raspberry Pi this test claims real pins; elsewhere it must fail cleanly.
            Ok(gate) => assert_eq!(gate.state(), GateState::Closed),
            Err(e) => {
                assert!(matches!(e, GateError::Gpio(_)), "{e}");
                assert!(e.to_string().contains("GPIO"), "{e}");
            }
        }
    }

    #[test]
    fn outside_a_runtime_new_fails_cleanly() {
        let config: RppalGateConfig =
            serde_json::from_str(r#"{"relay_pin":17,"beam_pin":27}"#).unwrap();
        assert!(matches!(
            RppalGate::new("g", &config),
            Err(GateError::Unavailable(_))
        ));
    }
}
