//! A camera whose source is missing, not a video, or gone reports it in its health, retries, and
//! never panics; a looping file keeps scanning; cancelling stops the driver promptly.

#![cfg(feature = "camera")]

mod support;

use std::time::Duration;

use omo_devices::camera::{AtEnd, CameraConfig, spawn_camera};
use omo_devices::health::{DeviceKind, DeviceStatus};
use omo_devices::scanner::ScannerEvent;
use support::phone_screen::{Variant, variant_video};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(20);

async fn first_health(config: CameraConfig) -> omo_devices::health::DeviceHealth {
    let (tx, mut rx) = mpsc::channel(16);
    let cancel = CancellationToken::new();
    let task = spawn_camera(config, tx, cancel.clone());
    let health = match tokio::time::timeout(WAIT, rx.recv()).await {
        Ok(Some(ScannerEvent::Health(h))) => h,
        Ok(Some(other)) => panic!("unexpected {other:?}"),
        Ok(None) => panic!("driver ended without a health report"),
        Err(_) => panic!("no health report within {WAIT:?}"),
    };
    cancel.cancel();
    tokio::time::timeout(WAIT, task)
        .await
        .expect("driver stops when cancelled")
        .expect("driver does not panic");
    health
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_file_is_offline_with_a_clear_reason() {
    let mut config = CameraConfig::new("/nonexistent/omo/exit-gate.avi");
    config.name = Some("exit-cam".into());
    let h = first_health(config).await;
    assert_eq!(h.device, "exit-cam");
    assert_eq!(h.kind, DeviceKind::Camera);
    assert_eq!(h.status, DeviceStatus::Offline);
    let reason = h.reason.unwrap_or_default();
    assert!(
        reason.contains("/nonexistent/omo/exit-gate.avi") && reason.contains("no such file"),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_is_not_a_video_is_offline_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.avi");
    std::fs::write(&path, b"RIFF\x00\x00\x00\x00AVI this is not a video at all").unwrap();
    let h = first_health(CameraConfig::new(path.to_string_lossy())).await;
    assert_eq!(h.status, DeviceStatus::Offline, "{h:?}");
    assert!(
        h.reason.as_deref().unwrap_or("").contains("garbage.avi"),
        "{h:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_v4l2_device_and_an_unreachable_stream_are_offline() {
    let h = first_health(CameraConfig::new("/dev/video97")).await;
    assert_eq!(h.status, DeviceStatus::Offline, "{h:?}");
    assert!(
        h.reason.as_deref().unwrap_or("").contains("/dev/video97"),
        "{h:?}"
    );

    // Port 9 on loopback: nothing listens, the connection is refused at once.
    let h = first_health(CameraConfig::new("rtsp://127.0.0.1:9/stream")).await;
    assert_eq!(h.status, DeviceStatus::Offline, "{h:?}");
    assert!(
        h.reason
            .as_deref()
            .unwrap_or("")
            .contains("rtsp://127.0.0.1:9"),
        "{h:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_looping_file_keeps_scanning_until_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("loop.avi");
    // 1 s of video: the code on every frame.
    variant_video(&path, Variant::Plain, 0, 15, 15.0).unwrap();
    let mut config = CameraConfig::new(path.to_string_lossy());
    config.at_end = AtEnd::Loop;
    config.repeat_window_ms = 500;

    let (tx, mut rx) = mpsc::channel(64);
    let cancel = CancellationToken::new();
    let task = spawn_camera(config, tx, cancel.clone());
    let mut scans = 0;
    while scans < 5 {
        match tokio::time::timeout(WAIT, rx.recv()).await {
            Ok(Some(ScannerEvent::Scan(f))) => {
                assert_eq!(f.raw, Variant::Plain.payload());
                scans += 1;
            }
            Ok(Some(ScannerEvent::Health(h))) => {
                assert_eq!(h.status, DeviceStatus::Online, "{h:?}")
            }
            Ok(Some(other)) => panic!("unexpected {other:?}"),
            Ok(None) => panic!("a looping file must not end the driver"),
            Err(_) => panic!("no scan within {WAIT:?}"),
        }
    }
    cancel.cancel();
    tokio::time::timeout(WAIT, task)
        .await
        .expect("driver stops when cancelled")
        .expect("driver does not panic");
}
