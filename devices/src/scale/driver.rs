//! The scale driver: polls the scale, reports each change of [`WeightReading`], marks the scale
//! faulty after `fail_threshold` unanswered polls, and reopens a lost port with backoff.
//! [`read_stable`] is the one-shot version for `omo weigh`.

use std::time::Duration;

use chrono::Utc;
use futures::{SinkExt, StreamExt};
use serde::Serialize;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_serial::SerialStream;
use tokio_util::codec::Framed;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::{
    ScaleCodec, ScaleCommand, ScaleConfig, ScaleError, ScaleFrame, ScaleProtocol, ScaleReply,
    WeightReading,
};
use crate::health::{DeviceHealth, DeviceKind, DeviceStatus, HealthTracker};

/// What a scale driver reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ScaleEvent {
    /// The reading changed. `Unavailable` when the scale stops answering or disconnects.
    Weight(WeightReading),
    /// The scale's health changed.
    Health(DeviceHealth),
}

type Port = Framed<SerialStream, ScaleCodec>;

fn open(config: &ScaleConfig) -> Result<Port, ScaleError> {
    let stream = crate::serial::open(&config.port, config.baud, config.line_settings()).map_err(
        |source| ScaleError::Open {
            port: config.port.clone(),
            source,
        },
    )?;
    Ok(Framed::new(
        stream,
        ScaleCodec::new(config.protocol, config.unit),
    ))
}

fn poll_command(protocol: ScaleProtocol) -> ScaleCommand {
    match protocol {
        // The 8217 answers W with a status while moving, so polling shows motion.
        ScaleProtocol::Toledo8217 => ScaleCommand::Weigh,
        // MT-SICS `S` waits for stability; `SI` answers at once with `S D` while moving.
        ScaleProtocol::MtSics => ScaleCommand::WeighImmediate,
    }
}

/// Sends `command` and waits up to `timeout` for a reply; garbage in between is counted in
/// `garbage` and skipped.
async fn transact(
    port: &mut Port,
    command: ScaleCommand,
    timeout: Duration,
    garbage: &mut u64,
) -> Result<ScaleReply, ScaleError> {
    // Replies that arrived late for an earlier command are not answers to this one.
    port.read_buffer_mut().clear();
    port.send(command).await?;
    let deadline = Instant::now() + timeout;
    loop {
        match tokio::time::timeout_at(deadline, port.next()).await {
            Err(_) => {
                return Err(ScaleError::Timeout {
                    ms: timeout.as_millis() as u64,
                });
            }
            Ok(None) => {
                return Err(ScaleError::Io(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "port closed",
                )));
            }
            Ok(Some(Err(e))) => return Err(e),
            Ok(Some(Ok(ScaleFrame::Garbage(why)))) => {
                *garbage += 1;
                debug!(reason = %why, "scale sent garbage");
            }
            Ok(Some(Ok(ScaleFrame::Reply(reply)))) => return Ok(reply),
        }
    }
}

/// Spawns the driver. It runs until `cancel` fires or `tx` is closed.
pub fn spawn_scale(
    config: ScaleConfig,
    tx: mpsc::Sender<ScaleEvent>,
    cancel: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move { run(config, tx, cancel).await })
}

struct Driver {
    config: ScaleConfig,
    tx: mpsc::Sender<ScaleEvent>,
    health: HealthTracker,
    last: Option<WeightReading>,
}

impl Driver {
    /// Sends an event; false when nobody listens any more.
    async fn emit(&self, event: ScaleEvent) -> bool {
        self.tx.send(event).await.is_ok()
    }

    async fn emit_health(&self) -> bool {
        self.emit(ScaleEvent::Health(self.health.snapshot())).await
    }

    async fn reading(&mut self, r: WeightReading) -> bool {
        if self.last == Some(r) {
            return true;
        }
        self.last = Some(r);
        self.emit(ScaleEvent::Weight(r)).await
    }
}

async fn run(config: ScaleConfig, tx: mpsc::Sender<ScaleEvent>, cancel: CancellationToken) {
    let device = config.device_name();
    let health = HealthTracker::new(
        device.clone(),
        DeviceKind::Scale,
        config.fail_threshold,
        Utc::now(),
    );
    let mut d = Driver {
        config,
        tx,
        health,
        last: None,
    };
    let initial_backoff = Duration::from_millis(d.config.reconnect_ms.max(1));
    let max_backoff =
        Duration::from_millis(d.config.reconnect_max_ms.max(d.config.reconnect_ms).max(1));
    let mut backoff = initial_backoff;
    let mut reported_open_failure = false;
    loop {
        if cancel.is_cancelled() || d.tx.is_closed() {
            return;
        }
        match open(&d.config) {
            Ok(port) => {
                info!(device = %device, port = %d.config.port, protocol = d.config.protocol.name(), "scale connected");
                backoff = initial_backoff;
                reported_open_failure = false;
                d.health.connected(Utc::now());
                if !d.emit_health().await {
                    return;
                }
                let reason = match poll(port, &mut d, &cancel).await {
                    None => return,
                    Some(reason) => reason,
                };
                warn!(device = %device, %reason, "scale disconnected; reconnecting");
                d.health.disconnected(reason, Utc::now());
                if !d.emit_health().await || !d.reading(WeightReading::Unavailable).await {
                    return;
                }
            }
            Err(e) => {
                if !reported_open_failure {
                    warn!(device = %device, error = %e, "cannot open scale; retrying");
                    reported_open_failure = true;
                    if d.health.disconnected(e.to_string(), Utc::now()) && !d.emit_health().await {
                        return;
                    }
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

/// Polls until the port is lost (returns the reason) or the driver must stop (returns `None`).
async fn poll(mut port: Port, d: &mut Driver, cancel: &CancellationToken) -> Option<String> {
    let command = poll_command(d.config.protocol);
    let timeout = Duration::from_millis(d.config.timeout_ms.max(1));
    let interval = Duration::from_millis(d.config.poll_ms);
    let mut garbage = 0u64;
    loop {
        let result = tokio::select! {
            _ = cancel.cancelled() => return None,
            r = transact(&mut port, command, timeout, &mut garbage) => r,
        };
        for _ in 0..std::mem::take(&mut garbage) {
            d.health.count_error();
        }
        let now = Utc::now();
        match result {
            Ok(ScaleReply::Reading(r)) => {
                if d.health.success(now) && !d.emit_health().await {
                    return None;
                }
                if !d.reading(r).await {
                    return None;
                }
            }
            Ok(other) => {
                debug!(reply = ?other, "unexpected scale reply to a weight request");
                if d.health.failure(format!("unexpected reply {other:?}"), now)
                    && !d.emit_health().await
                {
                    return None;
                }
            }
            Err(ScaleError::Io(e)) => return Some(format!("read failed: {e}")),
            Err(e) => {
                debug!(error = %e, "scale poll failed");
                if d.health.failure(e.to_string(), now) {
                    if !d.emit_health().await {
                        return None;
                    }
                    if d.health.status() == DeviceStatus::Fault
                        && !d.reading(WeightReading::Unavailable).await
                    {
                        return None;
                    }
                }
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => return None,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

/// Opens the scale, polls until it reports a stable weight, and returns it in grams. Fails with
/// [`ScaleError::Timeout`] when the scale never answers and [`ScaleError::NotStable`] when it
/// answers but never settles, within `timeout`.
pub async fn read_stable(config: &ScaleConfig, timeout: Duration) -> Result<i64, ScaleError> {
    let mut port = open(config)?;
    let deadline = Instant::now() + timeout;
    let per_request = Duration::from_millis(config.timeout_ms.max(1));
    let interval = Duration::from_millis(config.poll_ms.max(10));
    let command = poll_command(config.protocol);
    let mut last = None;
    let mut answered = false;
    let mut garbage = 0;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match transact(&mut port, command, per_request.min(left), &mut garbage).await {
            Ok(ScaleReply::Reading(WeightReading::Stable { grams })) => return Ok(grams),
            Ok(ScaleReply::Reading(r)) => {
                answered = true;
                last = Some(r);
            }
            Ok(ScaleReply::Refused(why)) => return Err(ScaleError::Rejected(why)),
            Ok(ScaleReply::Done) => answered = true,
            Err(ScaleError::Timeout { .. }) => {}
            Err(e) => return Err(e),
        }
        let left = deadline.saturating_duration_since(Instant::now());
        tokio::time::sleep(interval.min(left)).await;
    }
    let ms = timeout.as_millis() as u64;
    if answered {
        Err(ScaleError::NotStable { ms, last })
    } else {
        Err(ScaleError::Timeout { ms })
    }
}
