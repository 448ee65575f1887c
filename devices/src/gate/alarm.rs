//! The fire-alarm input: armed first, read second.
//!
//! An input read *before* its interrupt is armed loses an edge that falls between the two: the
//! read says "quiet", the alarm goes off, the interrupt is armed too late to see it, and the
//! gate stays closed through an evacuation. [`watch_fire_alarm`] arms the interrupt, then reads
//! the level and feeds it to the rules: an edge after arming is delivered by the interrupt, one
//! before it is seen by the read (the rules ignore a repeated level). It reads again until two
//! reads agree, so an edge racing the first read is not applied out of order.

use std::sync::Arc;

use super::GateError;
use super::driven::{Driven, Opener, apply};
use super::rules::Input;

/// Called with the alarm's new level (`true` active) on every edge once armed.
pub(crate) type OnChange = Box<dyn Fn(bool) + Send + Sync + 'static>;

/// A fire-alarm input line.
pub(crate) trait AlarmInput {
    /// Arms the edge interrupt.
    fn arm(&mut self, on_change: OnChange) -> Result<(), GateError>;
    /// The current level: `true` while the alarm is active.
    fn active(&self) -> bool;
}

/// How many times the level is re-read when it changes under the first read.
const MAX_READS: usize = 4;

/// Arms `input`'s interrupt to drive `gate`, then applies the input's current level.
pub(crate) fn watch_fire_alarm<O: Opener>(
    gate: &Arc<Driven<O>>,
    input: &mut dyn AlarmInput,
) -> Result<(), GateError> {
    let weak = Arc::downgrade(gate);
    input.arm(Box::new(move |active| {
        if let Some(gate) = weak.upgrade() {
            let _ = apply(&gate, Input::FireAlarm(active));
        }
    }))?;
    let mut level = input.active();
    for _ in 0..MAX_READS {
        apply(gate, Input::FireAlarm(level))?;
        let again = input.active();
        if again == level {
            break;
        }
        level = again;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::rules::GateTiming;
    use crate::gate::{GateState, SimGate};
    use std::sync::Mutex;
    use tokio::runtime::Handle;

    struct NoRelay;
    impl Opener for NoRelay {
        fn pulse(&self, _: &Handle) -> Result<(), GateError> {
            Ok(())
        }
        fn hold(&self, _: bool) -> Result<(), GateError> {
            Ok(())
        }
    }

    /// A line whose alarm goes off at a chosen moment, recording what the driver did.
    #[derive(Default)]
    struct Line {
        level: bool,
        armed: Option<OnChange>,
        calls: Vec<&'static str>,
        /// The alarm goes off just before the interrupt is armed (no edge is ever delivered).
        fires_while_arming: bool,
    }

    struct Shared(Arc<Mutex<Line>>);

    impl AlarmInput for Shared {
        fn arm(&mut self, on_change: OnChange) -> Result<(), GateError> {
            let mut line = self.0.lock().unwrap();
            line.calls.push("arm");
            if line.fires_while_arming {
                line.level = true;
            }
            line.armed = Some(on_change);
            Ok(())
        }
        fn active(&self) -> bool {
            let mut line = self.0.lock().unwrap();
            line.calls.push("read");
            line.level
        }
    }

    fn gate() -> Arc<Driven<NoRelay>> {
        Driven::new("g".into(), GateTiming::default(), NoRelay, None)
    }

    #[tokio::test]
    async fn an_alarm_that_goes_off_while_arming_holds_the_gate_open() {
        let line = Arc::new(Mutex::new(Line {
            fires_while_arming: true,
            ..Line::default()
        }));
        let gate = gate();
        watch_fire_alarm(&gate, &mut Shared(line.clone())).unwrap();
        assert_eq!(gate.state(), GateState::AlarmOpen);
        let calls = line.lock().unwrap().calls.clone();
        assert_eq!(&calls[..2], ["arm", "read"], "armed before the first read");
    }

    #[tokio::test]
    async fn an_alarm_already_active_at_start_holds_the_gate_and_its_reset_closes_it() {
        let line = Arc::new(Mutex::new(Line {
            level: true,
            ..Line::default()
        }));
        let gate = gate();
        watch_fire_alarm(&gate, &mut Shared(line.clone())).unwrap();
        assert_eq!(gate.state(), GateState::AlarmOpen);
        // The reset arrives as an edge through the armed interrupt.
        let mut l = line.lock().unwrap();
        l.level = false;
        (l.armed.as_ref().unwrap())(false);
        assert_eq!(gate.state(), GateState::Closed);
    }

    #[tokio::test]
    async fn a_quiet_alarm_leaves_the_gate_closed_and_a_later_edge_opens_it() {
        let line = Arc::new(Mutex::new(Line::default()));
        let gate = gate();
        watch_fire_alarm(&gate, &mut Shared(line.clone())).unwrap();
        assert_eq!(gate.state(), GateState::Closed);
        (line.lock().unwrap().armed.as_ref().unwrap())(true);
        assert_eq!(gate.state(), GateState::AlarmOpen);
    }

    #[tokio::test]
    async fn the_sim_gate_reads_its_alarm_after_arming_too() {
        let line = Arc::new(Mutex::new(Line {
            fires_while_arming: true,
            ..Line::default()
        }));
        let sim = SimGate::new("g", GateTiming::default());
        sim.watch_fire_alarm_input(&mut Shared(line)).unwrap();
        assert!(sim.held_open());
    }
}
