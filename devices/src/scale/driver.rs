//! The scale driver: polls the scale, reports each change of [`WeightReading`], marks the scale
//! faulty after `fail_threshold` unanswered polls, and reopens a lost port with backoff.
//! [`read_stable`] is the one-shot version for `omo weigh`.

use std::time::Duration;

use chrono::Utc;
use futures::{SinkExt, StreamExt};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
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

/// An open scale port with its request/response bookkeeping.
struct Link {
    port: Port,
    /// A request timed out and its reply may still arrive: the next reply is taken as that late
    /// one and discarded rather than as the answer to a newer request. At most one is owed, and
    /// a request that discarded one does not owe another when it times out, so a scale that was
    /// silent (no late replies) costs at most one poll after it recovers.
    late_reply_owed: bool,
    /// Garbage frames seen since last asked.
    garbage: u64,
}

impl Link {
    fn new(port: Port) -> Self {
        Self {
            port,
            late_reply_owed: false,
            garbage: 0,
        }
    }

    /// Sends `command` and waits up to `timeout` for its reply, skipping garbage and late replies.
    async fn transact(
        &mut self,
        command: ScaleCommand,
        timeout: Duration,
    ) -> Result<ScaleReply, ScaleError> {
        // Bytes already buffered predate this request.
        if !self.port.read_buffer().is_empty() {
            self.port.read_buffer_mut().clear();
            self.late_reply_owed = false;
        }
        self.port.send(command).await?;
        let deadline = Instant::now() + timeout;
        let mut discarded = false;
        loop {
            match tokio::time::timeout_at(deadline, self.port.next()).await {
                Err(_) => {
                    self.late_reply_owed = !discarded;
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
                    self.garbage += 1;
                    debug!(reason = %why, "scale sent garbage");
                }
                Ok(Some(Ok(ScaleFrame::Reply(reply)))) if self.late_reply_owed => {
                    self.late_reply_owed = false;
                    discarded = true;
                    debug!(reply = ?reply, "late scale reply discarded");
                }
                Ok(Some(Ok(ScaleFrame::Reply(reply)))) => return Ok(reply),
            }
        }
    }
}

/// Spawns the driver. It runs until `cancel` fires or `tx` is closed.
pub fn spawn_scale(
    config: ScaleConfig,
    tx: mpsc::Sender<ScaleEvent>,
    cancel: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move { run(config, tx, cancel, None).await })
}

/// Spawns the driver and returns a [`ScaleHandle`] to send it commands (zero, tare) through the
/// port it already holds (the port is opened exclusively, so nobody else can).
pub fn spawn_scale_with_handle(
    config: ScaleConfig,
    tx: mpsc::Sender<ScaleEvent>,
    cancel: CancellationToken,
) -> (ScaleHandle, JoinHandle<()>) {
    let (req_tx, req_rx) = mpsc::channel(8);
    let task = tokio::spawn(async move { run(config, tx, cancel, Some(req_rx)).await });
    (ScaleHandle { tx: req_tx }, task)
}

type Request = (
    ScaleCommand,
    oneshot::Sender<Result<ScaleReply, ScaleError>>,
);

/// Sends commands to a running scale driver. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ScaleHandle {
    tx: mpsc::Sender<Request>,
}

fn not_connected(why: &str) -> ScaleError {
    ScaleError::Io(std::io::Error::new(
        std::io::ErrorKind::NotConnected,
        why.to_owned(),
    ))
}

impl ScaleHandle {
    /// Sends `command` between two polls and returns the scale's reply; a refusal is
    /// [`ScaleError::Rejected`], a disconnected scale an [`ScaleError::Io`].
    pub async fn command(&self, command: ScaleCommand) -> Result<ScaleReply, ScaleError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send((command, tx))
            .await
            .map_err(|_| not_connected("scale driver stopped"))?;
        rx.await
            .map_err(|_| not_connected("scale driver stopped"))?
    }
}

async fn next_request(rx: &mut Option<mpsc::Receiver<Request>>) -> Option<Request> {
    match rx {
        Some(r) => r.recv().await,
        None => std::future::pending().await,
    }
}

struct Driver {
    config: ScaleConfig,
    tx: mpsc::Sender<ScaleEvent>,
    health: HealthTracker,
    last: Option<WeightReading>,
    requests: Option<mpsc::Receiver<Request>>,
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

async fn run(
    config: ScaleConfig,
    tx: mpsc::Sender<ScaleEvent>,
    cancel: CancellationToken,
    requests: Option<mpsc::Receiver<Request>>,
) {
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
        requests,
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
        let wake = tokio::time::Instant::now() + backoff;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep_until(wake) => break,
                req = next_request(&mut d.requests) => match req {
                    Some((_, reply)) => {
                        let _ = reply.send(Err(not_connected("scale not connected")));
                    }
                    None => d.requests = None,
                },
            }
        }
        backoff = (backoff * 2).min(max_backoff);
    }
}

/// Polls until the port is lost (returns the reason) or the driver must stop (returns `None`).
async fn poll(port: Port, d: &mut Driver, cancel: &CancellationToken) -> Option<String> {
    let command = poll_command(d.config.protocol);
    let timeout = Duration::from_millis(d.config.timeout_ms.max(1));
    let interval = Duration::from_millis(d.config.poll_ms);
    let mut link = Link::new(port);
    loop {
        let result = tokio::select! {
            _ = cancel.cancelled() => return None,
            r = link.transact(command, timeout) => r,
        };
        for _ in 0..std::mem::take(&mut link.garbage) {
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
                // A scale silent for twice the fault threshold gets its port reopened: a cable
                // pulled and plugged back (or a USB adapter that came back under the same
                // name) is only found again by opening the path anew.
                let silent = d.health.snapshot().consecutive_failures;
                if silent >= d.config.fail_threshold.max(1) * 2 {
                    return Some(format!(
                        "no answer to {silent} requests; reopening the port"
                    ));
                }
            }
        }
        let wake = tokio::time::Instant::now() + interval;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return None,
                _ = tokio::time::sleep_until(wake) => break,
                req = next_request(&mut d.requests) => match req {
                    None => d.requests = None,
                    Some((command, reply)) => {
                        let result = match link.transact(command, timeout).await {
                            Ok(ScaleReply::Refused(why)) => Err(ScaleError::Rejected(why)),
                            other => other,
                        };
                        let lost = match &result {
                            Err(ScaleError::Io(e)) => Some(format!("read failed: {e}")),
                            _ => None,
                        };
                        let _ = reply.send(result);
                        if lost.is_some() {
                            return lost;
                        }
                    }
                },
            }
        }
    }
}

/// Opens the scale, sends one command (zero, tare, clear tare, reset) and returns its reply.
/// For the 8217 every command is answered with a status, returned as a [`ScaleReply::Reading`].
pub async fn send_command(
    config: &ScaleConfig,
    command: ScaleCommand,
) -> Result<ScaleReply, ScaleError> {
    let codec = ScaleCodec::new(config.protocol, config.unit);
    codec.command_bytes(command)?;
    let mut link = Link::new(open(config)?);
    match link
        .transact(command, Duration::from_millis(config.timeout_ms.max(1)))
        .await?
    {
        ScaleReply::Refused(why) => Err(ScaleError::Rejected(why)),
        reply => Ok(reply),
    }
}

/// Opens the scale, polls until it reports a stable weight, and returns it in grams. Fails with
/// [`ScaleError::Timeout`] when the scale never answers and [`ScaleError::NotStable`] when it
/// answers but never settles, within `timeout`.
pub async fn read_stable(config: &ScaleConfig, timeout: Duration) -> Result<i64, ScaleError> {
    let mut link = Link::new(open(config)?);
    let deadline = Instant::now() + timeout;
    let per_request = Duration::from_millis(config.timeout_ms.max(1));
    let interval = Duration::from_millis(config.poll_ms.max(10));
    let command = poll_command(config.protocol);
    let mut last = None;
    let mut answered = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match link.transact(command, per_request.min(left)).await {
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
