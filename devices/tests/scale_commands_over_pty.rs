//! Zero, tare and reset commands, and slow replies, over a real pseudo-terminal against `ScaleSim`.

use std::time::Duration;

use omo_devices::health::DeviceStatus;
use omo_devices::scale::{
    ScaleCommand, ScaleConfig, ScaleError, ScaleEvent, ScaleProtocol, ScaleReply, WeightReading,
    read_stable, send_command, spawn_scale, spawn_scale_with_handle,
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
    c
}

async fn zero_then_tare_give_net_weights(protocol: ScaleProtocol) {
    let sim = ScaleSim::new(protocol).unwrap();
    let cfg = config(&sim, protocol);
    sim.set_weight(40);
    send_command(&cfg, ScaleCommand::Zero).await.unwrap();
    assert_eq!(read_stable(&cfg, WAIT).await.unwrap(), 0);
    sim.set_weight(240);
    send_command(&cfg, ScaleCommand::Tare).await.unwrap();
    sim.set_weight(740);
    assert_eq!(read_stable(&cfg, WAIT).await.unwrap(), 500);
}

#[tokio::test]
async fn toledo_8217_zero_then_tare_give_net_weights() {
    zero_then_tare_give_net_weights(ScaleProtocol::Toledo8217).await;
}

#[tokio::test]
async fn mt_sics_zero_then_tare_give_net_weights() {
    zero_then_tare_give_net_weights(ScaleProtocol::MtSics).await;
}

#[tokio::test]
async fn toledo_8217_clear_tare_restores_gross() {
    let sim = ScaleSim::new(ScaleProtocol::Toledo8217).unwrap();
    let cfg = config(&sim, ScaleProtocol::Toledo8217);
    sim.set_weight(100);
    send_command(&cfg, ScaleCommand::Tare).await.unwrap();
    assert_eq!(read_stable(&cfg, WAIT).await.unwrap(), 0);
    send_command(&cfg, ScaleCommand::ClearTare).await.unwrap();
    assert_eq!(read_stable(&cfg, WAIT).await.unwrap(), 100);
}

#[tokio::test]
async fn mt_sics_reset_is_acknowledged_and_refusals_are_errors() {
    let sim = ScaleSim::new(ScaleProtocol::MtSics).unwrap();
    let cfg = config(&sim, ScaleProtocol::MtSics);
    assert_eq!(
        send_command(&cfg, ScaleCommand::Reset).await.unwrap(),
        ScaleReply::Done
    );
    sim.set_motion(true);
    let err = send_command(&cfg, ScaleCommand::Zero).await.unwrap_err();
    assert!(matches!(err, ScaleError::Rejected(_)), "{err}");
    let err = send_command(&cfg, ScaleCommand::ClearTare)
        .await
        .unwrap_err();
    assert!(matches!(err, ScaleError::Unsupported { .. }), "{err}");
}

async fn wait(
    want: fn(&ScaleEvent) -> bool,
    rx: &mut mpsc::Receiver<ScaleEvent>,
) -> Result<ScaleEvent, tokio::time::error::Elapsed> {
    tokio::time::timeout(WAIT, async {
        loop {
            let ev = rx.recv().await.expect("driver alive");
            if want(&ev) {
                return ev;
            }
        }
    })
    .await
}

#[tokio::test]
async fn slow_replies_within_the_timeout_are_fine_and_beyond_it_mark_a_fault() {
    let sim = ScaleSim::new(ScaleProtocol::Toledo8217).unwrap();
    sim.set_weight(650);
    sim.set_reply_delay(Duration::from_millis(60));
    let (tx, mut rx) = mpsc::channel(64);
    let cancel = CancellationToken::new();
    let task = spawn_scale(config(&sim, ScaleProtocol::Toledo8217), tx, cancel.clone());
    wait(
        |e| matches!(e, ScaleEvent::Weight(WeightReading::Stable { grams: 650 })),
        &mut rx,
    )
    .await
    .expect("slow but stable");
    sim.set_reply_delay(Duration::from_millis(700));
    let ev = wait(
        |e| matches!(e, ScaleEvent::Health(h) if h.status == DeviceStatus::Fault),
        &mut rx,
    )
    .await
    .expect("fault");
    let ScaleEvent::Health(h) = ev else {
        unreachable!()
    };
    assert!(h.reason.unwrap_or_default().contains("did not answer"));
    sim.set_reply_delay(Duration::ZERO);
    wait(
        |e| matches!(e, ScaleEvent::Health(h) if h.status == DeviceStatus::Online),
        &mut rx,
    )
    .await
    .expect("recovers");
    cancel.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn mt_sics_scale_reconnects_after_unplug_and_replug() {
    let sim = ScaleSim::new(ScaleProtocol::MtSics).unwrap();
    sim.set_weight(1500);
    let (tx, mut rx) = mpsc::channel(64);
    let cancel = CancellationToken::new();
    let task = spawn_scale(config(&sim, ScaleProtocol::MtSics), tx, cancel.clone());
    let mut saw_stable = false;
    let mut saw_offline = false;
    let result = tokio::time::timeout(WAIT, async {
        while let Some(ev) = rx.recv().await {
            match ev {
                ScaleEvent::Weight(WeightReading::Stable { grams: 1500 }) if !saw_stable => {
                    saw_stable = true;
                    sim.unplug();
                }
                ScaleEvent::Health(h)
                    if h.status == DeviceStatus::Offline && saw_stable && !saw_offline =>
                {
                    saw_offline = true;
                    sim.replug().unwrap();
                }
                ScaleEvent::Weight(WeightReading::Stable { grams: 1500 }) if saw_offline => return,
                _ => {}
            }
        }
    })
    .await;
    assert!(result.is_ok(), "stable={saw_stable} offline={saw_offline}");
    cancel.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn running_driver_zeroes_and_tares_through_its_handle() {
    let sim = ScaleSim::new(ScaleProtocol::Toledo8217).unwrap();
    sim.set_weight(30);
    let (tx, mut rx) = mpsc::channel(64);
    let cancel = CancellationToken::new();
    let (handle, task) =
        spawn_scale_with_handle(config(&sim, ScaleProtocol::Toledo8217), tx, cancel.clone());
    wait(
        |e| matches!(e, ScaleEvent::Weight(WeightReading::Stable { grams: 30 })),
        &mut rx,
    )
    .await
    .expect("first weight");
    handle.command(ScaleCommand::Zero).await.unwrap();
    wait(
        |e| matches!(e, ScaleEvent::Weight(WeightReading::Stable { grams: 0 })),
        &mut rx,
    )
    .await
    .expect("zeroed");
    sim.set_weight(130);
    handle.command(ScaleCommand::Tare).await.unwrap();
    sim.set_weight(330);
    wait(
        |e| matches!(e, ScaleEvent::Weight(WeightReading::Stable { grams: 200 })),
        &mut rx,
    )
    .await
    .expect("net weight after tare");
    let err = handle.command(ScaleCommand::Reset).await.unwrap_err();
    assert!(matches!(err, ScaleError::Unsupported { .. }), "{err}");
    cancel.cancel();
    task.await.unwrap();
    assert!(handle.command(ScaleCommand::Zero).await.is_err());
}
