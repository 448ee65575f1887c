//! The simulated gate's rules through the `Gate` trait, on paused tokio time: open, passage, close;
//! tailgating; forced passage; held open too long; fire alarm holds the gate open.

use std::sync::Arc;
use std::time::Duration;

use omo_devices::gate::{Gate, GateEvent, GateState, GateTiming, SimGate};
use tokio::sync::broadcast;

fn gate() -> (SimGate, Arc<dyn Gate>, broadcast::Receiver<GateEvent>) {
    let sim = SimGate::new(
        "lane-1",
        GateTiming {
            open_ms: 5000,
            close_after_passage_ms: 1000,
            held_open_ms: 15_000,
        },
    );
    let dynamic: Arc<dyn Gate> = Arc::new(sim.clone());
    let rx = dynamic.subscribe();
    (sim, dynamic, rx)
}

async fn settle() {
    // Let spawned timer tasks run.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

fn drain(rx: &mut broadcast::Receiver<GateEvent>) -> Vec<GateEvent> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        out.push(e);
    }
    out
}

#[tokio::test(start_paused = true)]
async fn open_then_passage_then_close() {
    let (sim, gate, mut rx) = gate();
    gate.open().unwrap();
    assert_eq!(gate.state(), GateState::Open);
    sim.simulate_passage().unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    settle().await;
    assert_eq!(
        drain(&mut rx),
        vec![
            GateEvent::Opened,
            GateEvent::PassageDetected { passages: 1 },
            GateEvent::Closed
        ]
    );
    assert_eq!(gate.state(), GateState::Closed);
    assert_eq!(sim.pulses(), 1);
}

#[tokio::test(start_paused = true)]
async fn gate_closes_by_itself_when_nobody_passes() {
    let (_sim, gate, mut rx) = gate();
    gate.open().unwrap();
    tokio::time::sleep(Duration::from_millis(4900)).await;
    settle().await;
    assert_eq!(gate.state(), GateState::Open);
    tokio::time::sleep(Duration::from_millis(200)).await;
    settle().await;
    assert_eq!(gate.state(), GateState::Closed);
    assert_eq!(drain(&mut rx), vec![GateEvent::Opened, GateEvent::Closed]);
}

#[tokio::test(start_paused = true)]
async fn two_passages_for_one_opening_are_tailgating() {
    let (sim, gate, mut rx) = gate();
    gate.open().unwrap();
    sim.simulate_passage().unwrap();
    sim.simulate_passage().unwrap();
    let events = drain(&mut rx);
    assert!(
        events.contains(&GateEvent::Tailgating { passages: 2 }),
        "{events:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn passage_through_a_closed_gate_is_forced() {
    let (sim, _gate, mut rx) = gate();
    sim.simulate_passage().unwrap();
    assert_eq!(drain(&mut rx), vec![GateEvent::ForcedPassage]);
}

#[tokio::test(start_paused = true)]
async fn obstructed_gate_is_reported_held_open_too_long() {
    let (sim, gate, mut rx) = gate();
    gate.open().unwrap();
    sim.set_obstructed(true).unwrap();
    tokio::time::sleep(Duration::from_millis(15_100)).await;
    settle().await;
    assert_eq!(gate.state(), GateState::Blocked);
    assert!(drain(&mut rx).contains(&GateEvent::HeldOpenTooLong { open_ms: 15_000 }));
    sim.set_obstructed(false).unwrap();
    assert_eq!(gate.state(), GateState::Closed);
}

#[tokio::test(start_paused = true)]
async fn fire_alarm_opens_and_holds_open_until_reset() {
    let (sim, gate, mut rx) = gate();
    sim.set_fire_alarm(true).unwrap();
    assert_eq!(gate.state(), GateState::AlarmOpen);
    gate.open().unwrap();
    sim.simulate_passage().unwrap();
    tokio::time::sleep(Duration::from_secs(60)).await;
    settle().await;
    assert_eq!(gate.state(), GateState::AlarmOpen);
    sim.set_fire_alarm(false).unwrap();
    assert_eq!(gate.state(), GateState::Closed);
    let events = drain(&mut rx);
    assert_eq!(events.first(), Some(&GateEvent::FireAlarm { active: true }));
    assert_eq!(events.last(), Some(&GateEvent::Closed));
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, GateEvent::ForcedPassage | GateEvent::Tailgating { .. }))
    );
}

#[test]
fn gate_outside_a_runtime_fails_cleanly() {
    let (_sim, gate, _rx) = gate();
    assert!(gate.open().is_err());
}
