//! The scanner driver over a real pseudo-terminal, fed by `ScannerSim`: each framing, prefixes,
//! garbage skipped and counted, and reconnecting after the cable is pulled.

use std::time::Duration;

use omo_devices::health::DeviceStatus;
use omo_devices::scanner::{Framing, ScannerConfig, ScannerEvent, spawn_scanner};
use omo_devices::sim::ScannerSim;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(10);

struct Rig {
    sim: ScannerSim,
    rx: mpsc::Receiver<ScannerEvent>,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

async fn rig(framing: Framing, prefix: Option<&str>) -> Rig {
    let mut sim = ScannerSim::new(framing.clone()).expect("pty");
    if let Some(p) = prefix {
        sim = sim.with_prefix(p);
    }
    let mut config = ScannerConfig::new(sim.port_path());
    config.framing = framing;
    config.prefix = prefix.map(str::to_owned);
    config.reconnect_ms = 50;
    config.reconnect_max_ms = 200;
    let (tx, rx) = mpsc::channel(64);
    let cancel = CancellationToken::new();
    let task = spawn_scanner(config, tx, cancel.clone());
    let mut rig = Rig {
        sim,
        rx,
        cancel,
        task,
    };
    rig.wait_status(DeviceStatus::Online).await;
    rig
}

impl Rig {
    async fn next(&mut self) -> ScannerEvent {
        tokio::time::timeout(WAIT, self.rx.recv())
            .await
            .expect("event in time")
            .expect("driver alive")
    }

    async fn wait_status(&mut self, want: DeviceStatus) -> omo_devices::health::DeviceHealth {
        loop {
            if let ScannerEvent::Health(h) = self.next().await
                && h.status == want
            {
                return h;
            }
        }
    }

    async fn next_scan(&mut self) -> String {
        loop {
            match self.next().await {
                ScannerEvent::Scan(f) => return f.raw,
                ScannerEvent::Garbage { reason } => panic!("unexpected garbage: {reason}"),
                ScannerEvent::Health(_) => {}
            }
        }
    }

    async fn stop(self) {
        self.cancel.cancel();
        tokio::time::timeout(WAIT, self.task)
            .await
            .expect("driver stops")
            .expect("no panic");
    }
}

async fn scans_arrive_with(framing: Framing) {
    let mut r = rig(framing, None).await;
    r.sim.scan("4006381333931").await.unwrap();
    r.sim
        .scan("]C101095011010209171719050810ABCD1234\u{1d}2110")
        .await
        .unwrap();
    assert_eq!(r.next_scan().await, "4006381333931");
    assert_eq!(
        r.next_scan().await,
        "]C101095011010209171719050810ABCD1234\u{1d}2110"
    );
    r.stop().await;
}

#[tokio::test]
async fn scans_framed_by_cr_arrive_one_by_one() {
    scans_arrive_with(Framing::Cr).await;
}

#[tokio::test]
async fn scans_framed_by_lf_arrive_one_by_one() {
    scans_arrive_with(Framing::Lf).await;
}

#[tokio::test]
async fn scans_framed_by_crlf_arrive_one_by_one() {
    scans_arrive_with(Framing::CrLf).await;
}

#[tokio::test]
async fn scans_framed_by_a_custom_suffix_arrive_one_by_one() {
    scans_arrive_with(Framing::Suffix("<END>".into())).await;
}

#[tokio::test]
async fn any_framing_accepts_cr_lf_and_crlf_on_one_line() {
    let mut r = rig(Framing::Any, None).await;
    r.sim.send_raw(b"111\r222\n333\r\n\r\n444\r").await.unwrap();
    for want in ["111", "222", "333", "444"] {
        assert_eq!(r.next_scan().await, want);
    }
    r.stop().await;
}

#[tokio::test]
async fn prefix_is_stripped_from_scans() {
    let mut r = rig(Framing::CrLf, Some("SCN")).await;
    r.sim.scan("96385074").await.unwrap();
    assert_eq!(r.next_scan().await, "96385074");
    r.stop().await;
}

#[tokio::test]
async fn garbage_is_skipped_to_the_next_frame_and_counted() {
    let mut r = rig(Framing::Cr, None).await;
    r.sim.send_raw(b"\x00\x01\xff\xfe\r").await.unwrap();
    r.sim.scan("5901234123457").await.unwrap();
    let mut garbage = 0;
    let scan = loop {
        match r.next().await {
            ScannerEvent::Garbage { .. } => garbage += 1,
            ScannerEvent::Scan(f) => break f.raw,
            ScannerEvent::Health(_) => {}
        }
    };
    assert_eq!(garbage, 1);
    assert_eq!(scan, "5901234123457");
    // The error count shows in the next health report.
    r.sim.unplug();
    let h = r.wait_status(DeviceStatus::Offline).await;
    assert!(h.errors >= 1, "{h:?}");
    r.stop().await;
}

#[tokio::test]
async fn scanner_reconnects_after_the_cable_is_pulled() {
    let mut r = rig(Framing::Cr, None).await;
    r.sim.unplug();
    let down = r.wait_status(DeviceStatus::Offline).await;
    assert!(down.reason.is_some());
    r.sim.replug().unwrap();
    let up = r.wait_status(DeviceStatus::Online).await;
    assert_eq!(up.connects, 2);
    assert_eq!(up.disconnects, 1);
    assert!(up.history.iter().any(|e| !e.connected));
    r.sim.scan("036000291452").await.unwrap();
    assert_eq!(r.next_scan().await, "036000291452");
    r.stop().await;
}

#[tokio::test]
async fn missing_port_is_reported_offline_without_panicking() {
    let config = ScannerConfig::new("/dev/omo-no-such-port");
    let (tx, mut rx) = mpsc::channel(8);
    let cancel = CancellationToken::new();
    let task = spawn_scanner(config, tx, cancel.clone());
    let ev = tokio::time::timeout(WAIT, rx.recv())
        .await
        .unwrap()
        .unwrap();
    match ev {
        ScannerEvent::Health(h) => {
            assert_eq!(h.status, DeviceStatus::Offline);
            assert!(
                h.reason
                    .unwrap_or_default()
                    .contains("/dev/omo-no-such-port")
            );
        }
        other => panic!("{other:?}"),
    }
    cancel.cancel();
    task.await.unwrap();
}
