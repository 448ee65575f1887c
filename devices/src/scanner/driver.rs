//! The scanner driver: owns the serial port, turns frames into [`ScannerEvent`]s, and reopens the
//! port with exponential backoff when it disappears (USB unplugged, pty closed: reads fail with EIO).
//! Also [`open_scanner`], a plain reader for `omo scan --port`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_serial::SerialStream;
use tokio_util::codec::FramedRead;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::{ScanCodec, ScannerConfig};
use crate::health::{DeviceHealth, DeviceKind, HealthTracker};

/// One scan as it came off the wire (framing and prefix removed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanFrame {
    pub raw: String,
    pub at: DateTime<Utc>,
}

/// What a scanner driver reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ScannerEvent {
    /// A scan.
    Scan(ScanFrame),
    /// A frame that was dropped, and why.
    Garbage { reason: String },
    /// The scanner's health changed.
    Health(DeviceHealth),
}

/// Scanner failures.
#[derive(Debug, thiserror::Error)]
pub enum ScannerError {
    #[error("cannot open scanner port {port}: {source}")]
    Open {
        port: String,
        source: tokio_serial::Error,
    },
    #[error("scanner port {port} failed: {source}")]
    Io {
        port: String,
        source: std::io::Error,
    },
    #[error("scanner port {port} closed")]
    Closed { port: String },
}

fn codec(config: &ScannerConfig) -> ScanCodec {
    ScanCodec::new(
        config.framing.clone(),
        config.prefix.clone(),
        config.max_frame,
    )
}

/// Spawns the driver. It runs until `cancel` fires or `tx` is closed.
pub fn spawn_scanner(
    config: ScannerConfig,
    tx: mpsc::Sender<ScannerEvent>,
    cancel: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move { run(config, tx, cancel).await })
}

async fn run(config: ScannerConfig, tx: mpsc::Sender<ScannerEvent>, cancel: CancellationToken) {
    let device = config.device_name();
    let mut health = HealthTracker::new(device.clone(), DeviceKind::Scanner, 1, Utc::now());
    let mut backoff = Duration::from_millis(config.reconnect_ms.max(1));
    let max_backoff =
        Duration::from_millis(config.reconnect_max_ms.max(config.reconnect_ms).max(1));
    let mut reported_open_failure = false;
    loop {
        if cancel.is_cancelled() || tx.is_closed() {
            return;
        }
        match crate::serial::open(&config.port, config.baud, config.line) {
            Ok(port) => {
                info!(device = %device, port = %config.port, "scanner connected");
                backoff = Duration::from_millis(config.reconnect_ms.max(1));
                reported_open_failure = false;
                health.connected(Utc::now());
                if tx
                    .send(ScannerEvent::Health(health.snapshot()))
                    .await
                    .is_err()
                {
                    return;
                }
                let reason = match read_frames(port, &config, &tx, &cancel, &mut health).await {
                    Stop::Cancelled => return,
                    Stop::Lost(reason) => reason,
                };
                warn!(device = %device, %reason, "scanner disconnected; reconnecting");
                health.disconnected(reason, Utc::now());
                if tx
                    .send(ScannerEvent::Health(health.snapshot()))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            Err(e) => {
                if !reported_open_failure {
                    warn!(device = %device, port = %config.port, error = %e, "cannot open scanner; retrying");
                    reported_open_failure = true;
                    if health.disconnected(format!("cannot open {}: {e}", config.port), Utc::now())
                        && tx
                            .send(ScannerEvent::Health(health.snapshot()))
                            .await
                            .is_err()
                    {
                        return;
                    }
                } else {
                    debug!(device = %device, error = %e, "scanner still unavailable");
                }
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(max_backoff);
    }
}

enum Stop {
    Cancelled,
    Lost(String),
}

async fn read_frames(
    port: SerialStream,
    config: &ScannerConfig,
    tx: &mpsc::Sender<ScannerEvent>,
    cancel: &CancellationToken,
    health: &mut HealthTracker,
) -> Stop {
    let mut frames = FramedRead::new(port, codec(config));
    loop {
        let next = tokio::select! {
            _ = cancel.cancelled() => return Stop::Cancelled,
            next = frames.next() => next,
        };
        let event = match next {
            Some(Ok(Ok(raw))) => {
                let now = Utc::now();
                health.success(now);
                debug!(raw = %raw, "scan");
                ScannerEvent::Scan(ScanFrame { raw, at: now })
            }
            Some(Ok(Err(e))) => {
                health.count_error();
                warn!(reason = %e, "scanner frame dropped");
                ScannerEvent::Garbage {
                    reason: e.to_string(),
                }
            }
            Some(Err(e)) => return Stop::Lost(format!("read failed: {e}")),
            None => return Stop::Lost("port closed".into()),
        };
        if tx.send(event).await.is_err() {
            return Stop::Cancelled;
        }
    }
}

/// A plain scanner reader without reconnects, for `omo scan --port`.
pub struct ScannerReader {
    port: String,
    frames: FramedRead<SerialStream, ScanCodec>,
}

/// Opens a scanner for reading frames one by one.
pub fn open_scanner(config: &ScannerConfig) -> Result<ScannerReader, ScannerError> {
    let stream = crate::serial::open(&config.port, config.baud, config.line).map_err(|source| {
        ScannerError::Open {
            port: config.port.clone(),
            source,
        }
    })?;
    Ok(ScannerReader {
        port: config.port.clone(),
        frames: FramedRead::new(stream, codec(config)),
    })
}

impl ScannerReader {
    /// The next frame: `Ok(Ok(scan))`, `Ok(Err(garbage))`, or an error when the port fails or closes.
    pub async fn next_frame(
        &mut self,
    ) -> Result<Result<ScanFrame, super::FrameError>, ScannerError> {
        match self.frames.next().await {
            Some(Ok(Ok(raw))) => Ok(Ok(ScanFrame {
                raw,
                at: Utc::now(),
            })),
            Some(Ok(Err(e))) => Ok(Err(e)),
            Some(Err(source)) => Err(ScannerError::Io {
                port: self.port.clone(),
                source,
            }),
            None => Err(ScannerError::Closed {
                port: self.port.clone(),
            }),
        }
    }
}
