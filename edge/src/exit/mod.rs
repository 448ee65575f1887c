//! Store exits: a gate with a scanner (or camera) that reads the exit pass on the lane screen or
//! in the shopper's app, checks it offline (signature, store, age), lets it through once, and
//! reports tailgating and forced passage.

pub mod board;

use std::sync::Arc;

use chrono::{Duration, Utc};
use omo_devices::gate::{Gate, GateEvent};
use omo_devices::scanner::{ScannerConfig, ScannerEvent, spawn_scanner};

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

pub use board::{ExitBoard, ExitView};

use crate::board::Counters;
use crate::context::EdgeContext;
use crate::device_health::publish_health;
use crate::exit_pass::{self, PassError};
use crate::lane::InterventionKind;

/// `GET /api/exits`.
pub fn routes() -> Router<Arc<EdgeContext>> {
    Router::new().route(
        "/api/exits",
        get(|State(ctx): State<Arc<EdgeContext>>| async move {
            Json(json!({ "exits": ctx.exits.all() }))
        }),
    )
}

pub use crate::config::ExitConfig;

/// The devices of one exit, chosen by the binary.
pub struct ExitDevices {
    pub scanner: ScannerConfig,
    pub camera: Option<omo_devices::camera::CameraConfig>,
    pub gate: Arc<dyn Gate>,
    pub pass_ttl: Duration,
    /// The lanes whose passes open this exit (empty: every lane).
    pub lanes: Vec<String>,
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
    if let Some(mut camera) = devices.camera.clone() {
        camera.name.get_or_insert(format!("exit-{exit_id}-camera"));
        omo_devices::camera::spawn_camera(camera, scan_tx.clone(), cancel.clone());
    }
    spawn_scanner(scanner, scan_tx, cancel.clone());
    let mut gate_events = devices.gate.subscribe();
    ctx.exits.update(&exit_id, |_| {});
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            Some(event) = scans.recv() => match event {
                ScannerEvent::Scan(frame) => {
                    let outcome = admit(&ctx, &exit_id, &frame.raw, devices.pass_ttl, &devices.lanes).await;
                    match outcome {
                        Ok(order) => {
                            if let Err(error) = devices.gate.open() {
                                warn!(exit = %exit_id, %error, "exit pass accepted but the gate did not open");
                            } else {
                                info!(exit = %exit_id, %order, "exit pass accepted: gate open");
                            }
                            ctx.exits.update(&exit_id, |v| v.admitted += 1);
                        }
                        Err(error) => {
                            Counters::bump(&ctx.board.counters.exit_refusals);
                            warn!(exit = %exit_id, %error, "exit pass refused");
                            ctx.exits.update(&exit_id, |v| {
                                v.refused += 1;
                                v.last_refusal = Some(error.to_string());
                            });
                        }
                    }
                }
                ScannerEvent::Garbage { reason } => warn!(exit = %exit_id, %reason, "garbage on the exit scanner"),
                ScannerEvent::Health(health) => publish_health(&ctx, health).await,
            },
            event = gate_events.recv() => match event {
                Ok(GateEvent::Tailgating { passages }) => {
                    ctx.board.count_alert(InterventionKind::Tailgating);
                    warn!(exit = %exit_id, passages, "tailgating at the exit");
                    ctx.exits.update(&exit_id, |v| v.tailgating += 1);
                }
                Ok(GateEvent::ForcedPassage) => {
                    ctx.board.count_alert(InterventionKind::ForcedPassage);
                    warn!(exit = %exit_id, "forced passage at the exit");
                    ctx.exits.update(&exit_id, |v| v.forced_passages += 1);
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => gate_events = devices.gate.subscribe(),
            },
        }
    }
}

/// Checks a scanned pass (key, signature, store, one of `lanes`, age) and records its use;
/// returns the order it paid for.
pub async fn admit(
    ctx: &EdgeContext,
    exit_id: &str,
    text: &str,
    ttl: Duration,
    lanes: &[String],
) -> Result<String, PassError> {
    let now = Utc::now();
    let expect = exit_pass::Expect {
        store_id: &ctx.config.store_id,
        lanes,
        now,
        ttl,
    };
    let pass = exit_pass::verify(|kid| ctx.exit_keys.verifying(kid, now), &expect, text)?;
    match ctx.db.use_exit_pass(&pass.order_id, exit_id).await {
        Ok(true) => Ok(pass.order_id),
        Ok(false) => Err(PassError::AlreadyUsed),
        Err(error) => {
            // Fail closed: a pass whose use cannot be recorded does not open the gate.
            warn!(%error, "cannot record an exit pass");
            Err(PassError::Malformed)
        }
    }
}
