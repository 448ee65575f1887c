//! Helpers shared by the camera tests.

#![allow(dead_code)]

pub mod phone_screen;

use std::time::Duration;

use omo_devices::camera::{CameraConfig, spawn_camera};
use omo_devices::health::DeviceHealth;
use omo_devices::scanner::ScannerEvent;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Everything a camera driver said about one source, in order.
pub struct Run {
    pub scans: Vec<String>,
    pub health: Vec<DeviceHealth>,
}

/// Reads `config` until the driver stops by itself (a file ended), within `limit`.
pub async fn read_to_end(config: CameraConfig, limit: Duration) -> Run {
    let (tx, mut rx) = mpsc::channel(256);
    let cancel = CancellationToken::new();
    let task = spawn_camera(config, tx, cancel.clone());
    let mut run = Run {
        scans: Vec::new(),
        health: Vec::new(),
    };
    let collect = async {
        while let Some(event) = rx.recv().await {
            match event {
                ScannerEvent::Scan(f) => run.scans.push(f.raw),
                ScannerEvent::Health(h) => run.health.push(h),
                ScannerEvent::Garbage { reason } => panic!("a camera sends no garbage: {reason}"),
            }
        }
    };
    if tokio::time::timeout(limit, collect).await.is_err() {
        cancel.cancel();
        panic!("camera driver did not finish within {limit:?}");
    }
    task.await.expect("camera driver does not panic");
    run
}
