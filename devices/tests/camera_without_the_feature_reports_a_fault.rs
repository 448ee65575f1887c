//! Built without the `camera` feature, a configured camera is reported as `fault` with the reason,
//! so the dashboard shows it, instead of failing the build or vanishing silently.

#![cfg(not(feature = "camera"))]

use std::time::Duration;

use omo_devices::camera::{CameraConfig, spawn_camera};
use omo_devices::health::{DeviceKind, DeviceStatus};
use omo_devices::scanner::ScannerEvent;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn a_camera_in_a_build_without_opencv_is_a_fault_with_the_reason() {
    let (tx, mut rx) = mpsc::channel(4);
    let task = spawn_camera(
        CameraConfig::new("/dev/video0"),
        tx,
        CancellationToken::new(),
    );
    let event = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("in time")
        .expect("one event");
    let ScannerEvent::Health(h) = event else {
        panic!("expected health, got {event:?}");
    };
    assert_eq!(
        (h.kind, h.status),
        (DeviceKind::Camera, DeviceStatus::Fault)
    );
    assert!(h.reason.unwrap_or_default().contains("feature `camera`"));
    task.await.unwrap();
    assert!(rx.recv().await.is_none());
}
