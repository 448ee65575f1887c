//! Store exits: a gate with a scanner (or camera) that reads the exit pass on the lane screen or
//! in the shopper's app, checks it offline (signature, store, age), lets it through once, and
//! reports tailgating and forced passage.

use std::sync::Arc;

use chrono::{Duration, Utc};
use omo_devices::gate::{Gate, GateEvent};
use omo_devices::scanner::{ScannerConfig, ScannerEvent, spawn_scanner};
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::board::Counters;
use crate::context::EdgeContext;
use crate::exit_pass::{self, PassError};
use crate::lane::runner::publish_health;

/// One exit of the store, as configured (`[[exit]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExitConfig {
    /// The exit's id, unique in the store.
    pub id: String,
    /// The scanner that reads exit passes.
    pub scanner: ScannerConfig,
    /// The exit gate.
    #[serde(default)]
    pub gate: crate::config::GateConfig,
    /// How long after payment a pass opens the gate, in seconds.
    #[serde(default = "default_pass_ttl_secs")]
    pub pass_ttl_secs: i64,
}

fn default_pass_ttl_secs() -> i64 {
    30 * 60
}

/// The devices of one exit, chosen by the binary.
pub struct ExitDevices {
    pub scanner: ScannerConfig,
    pub gate: Arc<dyn Gate>,
    pub pass_ttl: Duration,
}

/// Runs exit `exit_id` until `cancel`.
pub async fn run_exit(
    ctx: Arc<EdgeContext>,
    exit_id: String,
    devices: ExitDevices,
    cancel: CancellationToken,
) {
    let (scan_tx, mut scans) = mpsc::channel(64);
    let mut scanner = devices.scanner.clone();
    scanner
        .name
        .get_or_insert(format!("exit-{exit_id}-scanner"));
    spawn_scanner(scanner, scan_tx, cancel.clone());
    let mut gate_events = devices.gate.subscribe();
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            Some(event) = scans.recv() => match event {
                ScannerEvent::Scan(frame) => {
                    let outcome = admit(&ctx, &exit_id, &frame.raw, devices.pass_ttl).await;
                    match outcome {
                        Ok(order) => {
                            if let Err(error) = devices.gate.open() {
                                warn!(exit = %exit_id, %error, "exit pass accepted but the gate did not open");
                            } else {
                                info!(exit = %exit_id, %order, "exit pass accepted: gate open");
                            }
                        }
                        Err(error) => {
                            Counters::bump(&ctx.board.counters.exit_refusals);
                            warn!(exit = %exit_id, %error, "exit pass refused");
                        }
                    }
                }
                ScannerEvent::Garbage { reason } => warn!(exit = %exit_id, %reason, "garbage on the exit scanner"),
                ScannerEvent::Health(health) => publish_health(&ctx, health).await,
            },
            event = gate_events.recv() => match event {
                Ok(GateEvent::Tailgating { passages }) => {
                    Counters::bump(&ctx.board.counters.alerts);
                    warn!(exit = %exit_id, passages, "tailgating at the exit");
                }
                Ok(GateEvent::ForcedPassage) => {
                    Counters::bump(&ctx.board.counters.alerts);
                    warn!(exit = %exit_id, "forced passage at the exit");
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => gate_events = devices.gate.subscribe(),
            },
        }
    }
}

/// Checks a scanned pass and records its use; returns the order it paid for.
pub async fn admit(
    ctx: &EdgeContext,
    exit_id: &str,
    text: &str,
    ttl: Duration,
) -> Result<String, PassError> {
    let pass = exit_pass::verify(&ctx.exit_key, &ctx.config.store_id, text, Utc::now(), ttl)?;
    match ctx.store.use_exit_pass(&pass.order_id, exit_id).await {
        Ok(true) => Ok(pass.order_id),
        Ok(false) => Err(PassError::AlreadyUsed),
        Err(error) => {
            // Fail closed: a pass whose use cannot be recorded does not open the gate.
            warn!(%error, "cannot record an exit pass");
            Err(PassError::Malformed)
        }
    }
}
