//! Gate safety across a crash (docs/GATE-SAFETY.md). `omo edge` runs each gate's relay through an
//! `omo gate-watchdog` process; the simulated relay's level is the file
//! `<data_dir>/gates/lane-1-gate/value` and the building's fire-alarm input the file `fire_alarm`
//! beside it. The edge is SIGKILLed in the middle of a 20 s relay pulse: the relay must be released
//! at once (not 20 s later, and not never, which is what a pin left by a killed process does).
//! Then it is SIGKILLed while a fire alarm holds the gate: the relay must stay held (doors open
//! for evacuation), and the next edge keeps it held until the alarm resets.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use omo_devices::gate::watchdog::FilePin;
use support::BrokerKind;
use support::store::TestStore;

const WAIT: Duration = Duration::from_secs(30);

fn pin_dir(store: &TestStore) -> PathBuf {
    store
        .dir
        .path()
        .join("edge")
        .join("gates")
        .join("lane-1-gate")
}

/// Waits until the pin reads `level`; returns how long that took.
async fn pin_becomes(dir: &Path, level: bool, within: Duration) -> Duration {
    let start = Instant::now();
    while start.elapsed() < within {
        if FilePin::read(dir) == Some(level) {
            return start.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "the gate's relay did not become {} within {within:?} (it reads {:?})",
        if level { "energised" } else { "released" },
        FilePin::read(dir)
    );
}

/// Watchdog processes still running for `dir`.
fn watchdogs_for(dir: &Path) -> usize {
    let needle = dir.to_string_lossy().to_string();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| {
            std::fs::read(entry.path().join("cmdline")).is_ok_and(|cmd| {
                let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
                cmd.contains("gate-watchdog") && cmd.contains(&needle)
            })
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_edge_releases_a_pulse_at_once_and_keeps_a_fire_alarm_hold() {
    let mut store = TestStore::start_with(
        BrokerKind::Mosquitto,
        1,
        "\n[weight_security]\nenabled = false\n",
    )
    .await;
    store.edit_edge_config(|text| {
        text.replace("open_ms = 800\n", "open_ms = 800\npulse_ms = 20000\n")
    });
    store.start_edge().await;
    let dir = pin_dir(&store);
    pin_becomes(&dir, false, WAIT).await;
    assert_eq!(watchdogs_for(&dir), 1, "one watchdog per gate");

    // A paid basket: the relay is energised for a 20 s pulse.
    let wallet = store.enroll(100_000).await;
    let lane = &store.lanes[0];
    lane.scanner.scan("4006381333931").await.unwrap();
    support::eventually(WAIT, "the pen in the basket", || async {
        (store.lane_view("1").await["item_count"] == 1).then_some(())
    })
    .await;
    lane.scanner.scan(&wallet.code()).await.unwrap();
    pin_becomes(&dir, true, WAIT).await;

    // SIGKILL mid-pulse: nothing in the edge runs, but the kernel closes its pipe to the
    // watchdog, which releases the relay.
    store.edge.take().unwrap().kill();
    let took = pin_becomes(&dir, false, Duration::from_secs(3)).await;
    assert!(took < Duration::from_secs(3), "released after {took:?}");
    support::eventually(Duration::from_secs(5), "the watchdog to exit", || async {
        (watchdogs_for(&dir) == 0).then_some(())
    })
    .await;

    // A fire alarm holds the gate open; the edge is killed during the hold.
    store.start_edge().await;
    pin_becomes(&dir, false, WAIT).await;
    std::fs::write(dir.join("fire_alarm"), "1\n").unwrap();
    pin_becomes(&dir, true, WAIT).await;
    store.edge.take().unwrap().kill();
    support::eventually(Duration::from_secs(5), "the watchdog to exit", || async {
        (watchdogs_for(&dir) == 0).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        FilePin::read(&dir),
        Some(true),
        "a killed edge during a fire alarm leaves the doors held open (egress)"
    );

    // The next edge reads the alarm still active and keeps holding; the reset releases it.
    store.start_edge().await;
    pin_becomes(&dir, true, WAIT).await;
    std::fs::write(dir.join("fire_alarm"), "0\n").unwrap();
    pin_becomes(&dir, false, WAIT).await;

    // A clean stop (SIGTERM) also leaves the relay released and no watchdog behind.
    let mut edge = store.edge.take().unwrap();
    assert!(edge.stop(), "the edge stops cleanly on SIGTERM");
    assert_eq!(FilePin::read(&dir), Some(false));
    support::eventually(Duration::from_secs(5), "the watchdog to exit", || async {
        (watchdogs_for(&dir) == 0).then_some(())
    })
    .await;
}
