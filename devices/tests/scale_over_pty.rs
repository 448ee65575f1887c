//! The scale driver and `read_stable` over a real pseudo-terminal, against `ScaleSim` speaking
//! Toledo 8217 and MT-SICS: stable weights, motion then stable, overload, silence, unplug/replug.

use std::time::Duration;

use omo_devices::health::DeviceStatus;
use omo_devices::scale::{
    ScaleConfig, ScaleError, ScaleEvent, ScaleProtocol, WeightReading, read_stable, spawn_scale,
};
use omo_devices::sim::ScaleSim;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(10);

fn config(sim: &ScaleSim, protocol: ScaleProtocol) -> ScaleConfig {
    let mut c = ScaleConfig::new(sim.port_path(), protocol);
    c.poll_ms = 20;
    c.timeout_ms = 300;
    c.reconnect_ms = 50;
    c.reconnect_max_ms = 200;
    c
}

struct Rig {
    sim: ScaleSim,
    rx: mpsc::Receiver<ScaleEvent>,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

fn rig(protocol: ScaleProtocol) -> Rig {
    let sim = ScaleSim::new(protocol).expect("pty");
    let (tx, rx) = mpsc::channel(64);
    let cancel = CancellationToken::new();
    let task = spawn_scale(config(&sim, protocol), tx, cancel.clone());
    Rig {
        sim,
        rx,
        cancel,
        task,
    }
}

impl Rig {
    async fn wait_weight(&mut self, want: WeightReading) {
        let mut seen = Vec::new();
        let found = tokio::time::timeout(WAIT, async {
            loop {
                match self.rx.recv().await {
                    Some(ScaleEvent::Weight(w)) if w == want => return,
                    Some(ScaleEvent::Weight(w)) => seen.push(w),
                    Some(ScaleEvent::Health(_)) => {}
                    None => panic!("driver stopped"),
                }
            }
        })
        .await;
        assert!(found.is_ok(), "no {want:?} within {WAIT:?}; saw {seen:?}");
    }

    async fn wait_status(&mut self, want: DeviceStatus) -> omo_devices::health::DeviceHealth {
        tokio::time::timeout(WAIT, async {
            loop {
                match self.rx.recv().await {
                    Some(ScaleEvent::Health(h)) if h.status == want => return h,
                    Some(_) => {}
                    None => panic!("driver stopped"),
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no {want:?} health within {WAIT:?}"))
    }

    async fn stop(self) {
        self.cancel.cancel();
        tokio::time::timeout(WAIT, self.task)
            .await
            .expect("driver stops")
            .expect("no panic");
    }
}

#[tokio::test]
async fn toledo_8217_stable_weight_is_reported_in_grams() {
    let mut r = rig(ScaleProtocol::Toledo8217);
    r.sim.set_weight(1234);
    r.wait_weight(WeightReading::Stable { grams: 1234 }).await;
    r.stop().await;
}

#[tokio::test]
async fn toledo_8217_motion_then_stable() {
    let mut r = rig(ScaleProtocol::Toledo8217);
    r.sim.set_weight(500);
    r.sim.set_motion(true);
    r.wait_weight(WeightReading::Motion).await;
    r.sim.set_motion(false);
    r.wait_weight(WeightReading::Stable { grams: 500 }).await;
    r.stop().await;
}

#[tokio::test]
async fn toledo_8217_overload_is_a_state_not_an_error() {
    let mut r = rig(ScaleProtocol::Toledo8217);
    r.sim.set_weight(200);
    r.wait_weight(WeightReading::Stable { grams: 200 }).await;
    r.sim.set_overload(true);
    r.wait_weight(WeightReading::OverCapacity).await;
    r.sim.set_overload(false);
    r.wait_weight(WeightReading::Stable { grams: 200 }).await;
    r.stop().await;
}

#[tokio::test]
async fn toledo_8217_under_zero_is_a_state() {
    let mut r = rig(ScaleProtocol::Toledo8217);
    r.sim.set_underload(true);
    r.wait_weight(WeightReading::UnderZero).await;
    r.stop().await;
}

#[tokio::test]
async fn noise_bytes_before_replies_are_skipped() {
    let mut r = rig(ScaleProtocol::Toledo8217);
    r.sim.set_noise(true);
    r.sim.set_weight(750);
    r.wait_weight(WeightReading::Stable { grams: 750 }).await;
    r.stop().await;
}

/// MT-SICS has no start byte: noise before a reply lands on the reply's own line, and the
/// reply is still read (issue 16).
#[tokio::test]
async fn mt_sics_reply_after_noise_on_its_line_is_read() {
    let mut r = rig(ScaleProtocol::MtSics);
    r.sim.set_noise(true);
    r.sim.set_weight(1234);
    r.wait_weight(WeightReading::Stable { grams: 1234 }).await;
    r.stop().await;
}

#[tokio::test]
async fn silent_scale_is_marked_faulty_then_recovers() {
    let mut r = rig(ScaleProtocol::Toledo8217);
    r.sim.set_weight(300);
    r.wait_weight(WeightReading::Stable { grams: 300 }).await;
    r.sim.set_silent(true);
    let h = r.wait_status(DeviceStatus::Fault).await;
    assert!(h.consecutive_failures >= 3, "{h:?}");
    assert!(h.reason.unwrap_or_default().contains("did not answer"));
    r.wait_weight(WeightReading::Unavailable).await;
    r.sim.set_silent(false);
    r.wait_status(DeviceStatus::Online).await;
    r.wait_weight(WeightReading::Stable { grams: 300 }).await;
    r.stop().await;
}

#[tokio::test]
async fn scale_reconnects_after_unplug_and_replug() {
    let mut r = rig(ScaleProtocol::Toledo8217);
    r.sim.set_weight(420);
    r.wait_weight(WeightReading::Stable { grams: 420 }).await;
    r.sim.unplug();
    r.wait_status(DeviceStatus::Offline).await;
    r.sim.replug().unwrap();
    let up = r.wait_status(DeviceStatus::Online).await;
    assert!(up.connects >= 2 && up.disconnects >= 1, "{up:?}");
    r.wait_weight(WeightReading::Stable { grams: 420 }).await;
    r.stop().await;
}

#[tokio::test]
async fn mt_sics_stable_motion_and_overload() {
    let mut r = rig(ScaleProtocol::MtSics);
    r.sim.set_weight(2500);
    r.wait_weight(WeightReading::Stable { grams: 2500 }).await;
    r.sim.set_motion(true);
    r.wait_weight(WeightReading::Motion).await;
    r.sim.set_motion(false);
    r.sim.set_overload(true);
    r.wait_weight(WeightReading::OverCapacity).await;
    r.stop().await;
}

#[tokio::test]
async fn read_stable_returns_grams_from_toledo_8217() {
    let sim = ScaleSim::new(ScaleProtocol::Toledo8217).unwrap();
    sim.set_weight(1234);
    let grams = read_stable(&config(&sim, ScaleProtocol::Toledo8217), WAIT)
        .await
        .unwrap();
    assert_eq!(grams, 1234);
}

#[tokio::test]
async fn read_stable_waits_out_motion() {
    let sim = ScaleSim::new(ScaleProtocol::MtSics).unwrap();
    sim.set_weight(980);
    sim.set_motion(true);
    let cfg = config(&sim, ScaleProtocol::MtSics);
    let reader = tokio::spawn(async move { read_stable(&cfg, WAIT).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    sim.set_motion(false);
    assert_eq!(reader.await.unwrap().unwrap(), 980);
}

#[tokio::test]
async fn read_stable_times_out_clearly_when_the_scale_is_silent_or_moving() {
    let sim = ScaleSim::new(ScaleProtocol::Toledo8217).unwrap();
    sim.set_silent(true);
    let err = read_stable(
        &config(&sim, ScaleProtocol::Toledo8217),
        Duration::from_millis(700),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ScaleError::Timeout { .. }), "{err}");
    sim.set_silent(false);
    sim.set_motion(true);
    let err = read_stable(
        &config(&sim, ScaleProtocol::Toledo8217),
        Duration::from_millis(700),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            ScaleError::NotStable {
                last: Some(WeightReading::Motion),
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("no stable weight"));
}

#[tokio::test]
async fn read_stable_on_a_missing_port_fails_with_the_path() {
    let cfg = ScaleConfig::new("/dev/omo-no-such-scale", ScaleProtocol::Toledo8217);
    let err = read_stable(&cfg, Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("/dev/omo-no-such-scale"), "{err}");
}
