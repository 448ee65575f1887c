//! The gate's timing rules as a pure state machine: inputs in, outputs (events, relay actions,
//! timers to start) out; no clock, no IO. The simulated and GPIO gates both drive it.
//!
//! - `open` pulses the opener; the gate closes `close_after_passage_ms` after a passage, or after
//!   `open_ms` if nobody passes. A close is held off while the beam is obstructed.
//! - A second passage in one opening is tailgating; a passage while closed is a forced passage.
//! - A gate still open `held_open_ms` after opening is reported held open too long (state Blocked).
//! - A fire alarm opens the gate and holds it open, whatever else happens, until the alarm resets.

use std::time::Duration;

use serde::Deserialize;

use super::{GateEvent, GateState};

/// Gate timings, in ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GateTiming {
    /// How long an opened gate waits for a passage before closing (default 5000).
    pub open_ms: u64,
    /// How long after a passage the gate closes (default 1000).
    pub close_after_passage_ms: u64,
    /// How long the gate may stay open before it is reported held open too long (default 15000).
    pub held_open_ms: u64,
}

impl Default for GateTiming {
    fn default() -> Self {
        Self {
            open_ms: 5000,
            close_after_passage_ms: 1000,
            held_open_ms: 15_000,
        }
    }
}

/// Which timer fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerKind {
    Close,
    HeldOpen,
}

/// Something that happened to the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    OpenRequested,
    /// The passage beam was broken and restored (one person through).
    Passage,
    /// The beam is (or is no longer) obstructed.
    Obstructed(bool),
    FireAlarm(bool),
    Timer {
        kind: TimerKind,
        id: u64,
    },
}

/// What the gate's driver must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Event(GateEvent),
    /// Pulse the opener relay.
    PulseOpen,
    /// Hold the opener relay active (fire alarm) or release it.
    HoldOpen(bool),
    /// Start a timer; when it fires, feed `Input::Timer { kind, id }` back.
    StartTimer {
        kind: TimerKind,
        id: u64,
        after: Duration,
    },
}

/// The gate's state.
#[derive(Debug, Clone)]
pub struct GateRules {
    timing: GateTiming,
    state: GateState,
    passages: u32,
    fire_alarm: bool,
    obstructed: bool,
    close_due: bool,
    next_id: u64,
    close_timer: Option<u64>,
    held_timer: Option<u64>,
}

impl GateRules {
    pub fn new(timing: GateTiming) -> Self {
        Self {
            timing,
            state: GateState::Closed,
            passages: 0,
            fire_alarm: false,
            obstructed: false,
            close_due: false,
            next_id: 0,
            close_timer: None,
            held_timer: None,
        }
    }

    pub fn state(&self) -> GateState {
        self.state
    }

    fn timer(&mut self, kind: TimerKind, ms: u64, out: &mut Vec<Output>) -> u64 {
        self.next_id += 1;
        out.push(Output::StartTimer {
            kind,
            id: self.next_id,
            after: Duration::from_millis(ms),
        });
        self.next_id
    }

    fn close(&mut self, out: &mut Vec<Output>) {
        self.state = GateState::Closed;
        self.passages = 0;
        self.close_timer = None;
        self.held_timer = None;
        self.close_due = false;
        out.push(Output::Event(GateEvent::Closed));
    }

    /// Applies one input.
    pub fn handle(&mut self, input: Input) -> Vec<Output> {
        let mut out = Vec::new();
        match input {
            Input::OpenRequested => match self.state {
                GateState::AlarmOpen | GateState::Malfunction => {}
                GateState::Closed => {
                    self.state = GateState::Open;
                    self.passages = 0;
                    out.push(Output::PulseOpen);
                    out.push(Output::Event(GateEvent::Opened));
                    self.close_timer =
                        Some(self.timer(TimerKind::Close, self.timing.open_ms, &mut out));
                    self.held_timer =
                        Some(self.timer(TimerKind::HeldOpen, self.timing.held_open_ms, &mut out));
                }
                GateState::Open | GateState::Blocked => {
                    // A new authorisation while open: a fresh opening for the next shopper.
                    self.passages = 0;
                    out.push(Output::PulseOpen);
                    self.close_timer =
                        Some(self.timer(TimerKind::Close, self.timing.open_ms, &mut out));
                }
            },
            Input::Passage => match self.state {
                GateState::Closed => out.push(Output::Event(GateEvent::ForcedPassage)),
                GateState::AlarmOpen | GateState::Malfunction => {}
                GateState::Open | GateState::Blocked => {
                    self.passages += 1;
                    out.push(Output::Event(GateEvent::PassageDetected {
                        passages: self.passages,
                    }));
                    if self.passages == 2 {
                        out.push(Output::Event(GateEvent::Tailgating {
                            passages: self.passages,
                        }));
                    }
                    self.close_timer = Some(self.timer(
                        TimerKind::Close,
                        self.timing.close_after_passage_ms,
                        &mut out,
                    ));
                }
            },
            Input::Obstructed(on) => {
                self.obstructed = on;
                if !on
                    && self.close_due
                    && matches!(self.state, GateState::Open | GateState::Blocked)
                {
                    self.close(&mut out);
                }
            }
            Input::FireAlarm(active) => {
                if active == self.fire_alarm {
                    return out;
                }
                self.fire_alarm = active;
                out.push(Output::Event(GateEvent::FireAlarm { active }));
                out.push(Output::HoldOpen(active));
                if active {
                    self.state = GateState::AlarmOpen;
                    self.close_timer = None;
                    self.held_timer = None;
                    out.push(Output::Event(GateEvent::Opened));
                } else {
                    self.close(&mut out);
                }
            }
            Input::Timer {
                kind: TimerKind::Close,
                id,
            } if self.close_timer == Some(id) => {
                self.close_timer = None;
                if matches!(self.state, GateState::Open | GateState::Blocked) {
                    if self.obstructed {
                        self.close_due = true;
                    } else {
                        self.close(&mut out);
                    }
                }
            }
            Input::Timer {
                kind: TimerKind::HeldOpen,
                id,
            } if self.held_timer == Some(id) => {
                self.held_timer = None;
                if matches!(self.state, GateState::Open) {
                    self.state = GateState::Blocked;
                    out.push(Output::Event(GateEvent::HeldOpenTooLong {
                        open_ms: self.timing.held_open_ms,
                    }));
                }
            }
            Input::Timer { .. } => {}
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(out: &[Output]) -> Vec<GateEvent> {
        out.iter()
            .filter_map(|o| {
                if let Output::Event(e) = o {
                    Some(e.clone())
                } else {
                    None
                }
            })
            .collect()
    }

    fn timer(out: &[Output], want: TimerKind) -> Input {
        out.iter()
            .rev()
            .find_map(|o| match o {
                Output::StartTimer { kind, id, .. } if *kind == want => Some(Input::Timer {
                    kind: *kind,
                    id: *id,
                }),
                _ => None,
            })
            .expect("timer started")
    }

    #[test]
    fn open_passage_close() {
        let mut g = GateRules::new(GateTiming::default());
        let out = g.handle(Input::OpenRequested);
        assert!(out.contains(&Output::PulseOpen));
        assert_eq!(events(&out), vec![GateEvent::Opened]);
        let out = g.handle(Input::Passage);
        assert_eq!(
            events(&out),
            vec![GateEvent::PassageDetected { passages: 1 }]
        );
        let out = g.handle(timer(&out, TimerKind::Close));
        assert_eq!(events(&out), vec![GateEvent::Closed]);
        assert_eq!(g.state(), GateState::Closed);
    }

    #[test]
    fn stale_close_timer_is_ignored() {
        let mut g = GateRules::new(GateTiming::default());
        let first = g.handle(Input::OpenRequested);
        let _ = g.handle(Input::Passage);
        assert!(g.handle(timer(&first, TimerKind::Close)).is_empty());
        assert_eq!(g.state(), GateState::Open);
    }

    #[test]
    fn two_passages_for_one_opening_is_tailgating() {
        let mut g = GateRules::new(GateTiming::default());
        g.handle(Input::OpenRequested);
        g.handle(Input::Passage);
        let out = g.handle(Input::Passage);
        assert!(events(&out).contains(&GateEvent::Tailgating { passages: 2 }));
    }

    #[test]
    fn passage_while_closed_is_forced() {
        let mut g = GateRules::new(GateTiming::default());
        assert_eq!(
            events(&g.handle(Input::Passage)),
            vec![GateEvent::ForcedPassage]
        );
    }

    #[test]
    fn fire_alarm_holds_open_until_reset() {
        let mut g = GateRules::new(GateTiming::default());
        let opened = g.handle(Input::OpenRequested);
        let out = g.handle(Input::FireAlarm(true));
        assert!(out.contains(&Output::HoldOpen(true)));
        assert_eq!(g.state(), GateState::AlarmOpen);
        assert!(g.handle(timer(&opened, TimerKind::Close)).is_empty());
        assert!(g.handle(timer(&opened, TimerKind::HeldOpen)).is_empty());
        assert!(events(&g.handle(Input::Passage)).is_empty());
        assert_eq!(g.state(), GateState::AlarmOpen);
        let out = g.handle(Input::FireAlarm(false));
        assert!(out.contains(&Output::HoldOpen(false)));
        assert_eq!(g.state(), GateState::Closed);
    }

    #[test]
    fn obstructed_gate_is_held_open_too_long_then_closes_when_clear() {
        let mut g = GateRules::new(GateTiming::default());
        let opened = g.handle(Input::OpenRequested);
        g.handle(Input::Obstructed(true));
        assert!(events(&g.handle(timer(&opened, TimerKind::Close))).is_empty());
        let out = g.handle(timer(&opened, TimerKind::HeldOpen));
        assert_eq!(
            events(&out),
            vec![GateEvent::HeldOpenTooLong { open_ms: 15_000 }]
        );
        assert_eq!(g.state(), GateState::Blocked);
        assert_eq!(
            events(&g.handle(Input::Obstructed(false))),
            vec![GateEvent::Closed]
        );
    }
}
