//! Unit tests of [`super`] (the `watchdog` module), kept beside it to keep the module short.

use super::*;
use std::sync::Arc;
use tokio::io::{AsyncWriteExt, BufReader as AsyncBufReader};

#[derive(Clone, Default)]
struct Levels(Arc<Mutex<Vec<bool>>>);

impl RelayPin for Levels {
    fn set(&mut self, active: bool) -> Result<(), GateError> {
        self.0.lock().unwrap().push(active);
        Ok(())
    }
}

impl Levels {
    fn last(&self) -> Option<bool> {
        self.0.lock().unwrap().last().copied()
    }
}

#[test]
fn commands_round_trip_and_nonsense_is_refused() {
    for c in [
        RelayCommand::Pulse(Duration::from_millis(500)),
        RelayCommand::Hold(true),
        RelayCommand::Hold(false),
    ] {
        assert_eq!(RelayCommand::parse(&c.line()), Ok(c));
    }
    for bad in [
        "",
        "pulse",
        "pulse 0",
        "pulse -1",
        "pulse 60001",
        "pulse 18446744073709551616",
        "hold",
        "hold maybe",
        "open",
        "pulse 5 5",
    ] {
        assert!(RelayCommand::parse(bad).is_err(), "{bad:?}");
    }
}

async fn settle() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn the_watchdog_ends_a_pulse_itself() {
    let (mut edge, wd) = tokio::io::duplex(256);
    let pin = Levels::default();
    let mut p = pin.clone();
    let task = tokio::spawn(async move {
        run(
            AsyncBufReader::new(wd),
            &mut p,
            || {},
            std::future::pending(),
        )
        .await
    });
    edge.write_all(b"pulse 500\n").await.unwrap();
    settle().await;
    assert_eq!(pin.last(), Some(true));
    tokio::time::advance(Duration::from_millis(501)).await;
    settle().await;
    assert_eq!(pin.last(), Some(false));
    drop(edge);
    assert_eq!(task.await.unwrap(), Ok(false));
}

#[tokio::test(start_paused = true)]
async fn the_edge_dying_mid_pulse_releases_the_relay_at_once() {
    let (mut edge, wd) = tokio::io::duplex(256);
    let pin = Levels::default();
    let mut p = pin.clone();
    let task = tokio::spawn(async move {
        run(
            AsyncBufReader::new(wd),
            &mut p,
            || {},
            std::future::pending(),
        )
        .await
    });
    edge.write_all(b"pulse 5000\n").await.unwrap();
    settle().await;
    assert_eq!(pin.last(), Some(true));
    drop(edge); // what the kernel does for a killed edge
    assert_eq!(task.await.unwrap(), Ok(false));
    assert_eq!(pin.last(), Some(false));
}

#[tokio::test(start_paused = true)]
async fn the_edge_dying_during_a_fire_alarm_leaves_the_gate_held_open() {
    let (mut edge, wd) = tokio::io::duplex(256);
    let pin = Levels::default();
    let mut p = pin.clone();
    let task = tokio::spawn(async move {
        run(
            AsyncBufReader::new(wd),
            &mut p,
            || {},
            std::future::pending(),
        )
        .await
    });
    edge.write_all(b"pulse 500\nhold on\n").await.unwrap();
    settle().await;
    tokio::time::advance(Duration::from_millis(600)).await;
    settle().await;
    assert_eq!(pin.last(), Some(true), "a pulse's end does not end a hold");
    drop(edge);
    assert_eq!(task.await.unwrap(), Ok(true));
    assert_eq!(pin.last(), Some(true));
}

#[tokio::test]
async fn stop_drives_the_safe_level() {
    let (mut edge, wd) = tokio::io::duplex(256);
    let pin = Levels::default();
    let mut p = pin.clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        run(AsyncBufReader::new(wd), &mut p, || {}, async {
            let _ = rx.await;
        })
        .await
    });
    edge.write_all(b"pulse 60000\n").await.unwrap();
    settle().await;
    tx.send(()).unwrap();
    assert_eq!(task.await.unwrap(), Ok(false));
    assert_eq!(pin.last(), Some(false));
}

#[test]
fn the_file_pin_is_readable_from_outside() {
    let dir = tempfile::tempdir().unwrap();
    let mut pin = FilePin::new(dir.path().join("g")).unwrap();
    assert_eq!(FilePin::read(&dir.path().join("g")), None);
    pin.set(true).unwrap();
    pin.pulse_started(Duration::from_millis(500));
    assert_eq!(FilePin::read(&dir.path().join("g")), Some(true));
    pin.set(false).unwrap();
    assert_eq!(FilePin::read(&dir.path().join("g")), Some(false));
    assert_eq!(FilePin::pulses(&dir.path().join("g")), 1);
}
