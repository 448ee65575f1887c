//! Simulated shoppers for `omo up`: at each lane, a shopper scans a few products on the simulated
//! scanner (real bytes on its pseudo-terminal), puts them on the simulated bagging scale, scans the
//! payment code from a wallet enrolled with the cloud, and walks through the gate once it opens.

use std::sync::Arc;
use std::time::Duration;

use omo_devices::barcode::gtin::check_digit;
use omo_devices::gate::{Gate, GateEvent, SimGate};
use omo_devices::sim::{ScaleSim, ScannerSim};
use omo_proto::catalog::{Product, Unit};
use rand::Rng;
use rand::seq::IndexedRandom;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::tools::{AppWallet, current_code, enroll};

/// The simulated devices of one lane.
pub struct DemoLane {
    pub id: String,
    pub scanner: Arc<ScannerSim>,
    pub scale: Arc<ScaleSim>,
    pub gate: Arc<SimGate>,
}

/// Runs one lane's shoppers until `cancel`.
pub async fn run_shopper(
    lane: DemoLane,
    products: Vec<Product>,
    cloud_url: String,
    every: Duration,
    cancel: CancellationToken,
) {
    let products: Vec<Product> = products.into_iter().filter(|p| p.min_age == 0).collect();
    let mut wallet: Option<AppWallet> = None;
    // Let the edge open its ports and fetch the catalog first.
    tokio::time::sleep(Duration::from_secs(2)).await;
    while !cancel.is_cancelled() {
        if wallet.is_none() {
            match enroll(&cloud_url, &format!("Demo shopper {}", lane.id), 10_000_000).await {
                Ok(w) => wallet = Some(w),
                Err(error) => {
                    warn!(lane = %lane.id, %error, "demo shopper cannot enroll yet");
                    if sleep_or_cancel(Duration::from_secs(2), &cancel).await {
                        return;
                    }
                    continue;
                }
            }
        }
        let Some(w) = wallet.as_ref() else { continue };
        if let Err(error) = checkout(&lane, &products, w, &cancel).await {
            warn!(lane = %lane.id, %error, "demo checkout did not complete");
        }
        let pause = every.mul_f64(rand::rng().random_range(0.6..1.4));
        if sleep_or_cancel(pause, &cancel).await {
            return;
        }
    }
}

/// One checkout; returns when the shopper has walked out (or gave up).
async fn checkout(
    lane: &DemoLane,
    products: &[Product],
    wallet: &AppWallet,
    cancel: &CancellationToken,
) -> anyhow::Result<()> {
    let count = rand::rng().random_range(1..=4);
    let mut on_scale: i64 = 0;
    lane.scale.set_weight(0);
    for _ in 0..count {
        let Some(product) = products.choose(&mut rand::rng()).cloned() else {
            anyhow::bail!("the demo catalog is empty");
        };
        let (code, grams) = label_for(&product);
        lane.scanner.scan(&code).await?;
        on_scale += grams;
        lane.scale.set_weight(on_scale);
        if sleep_or_cancel(Duration::from_millis(700), cancel).await {
            return Ok(());
        }
    }
    let mut gate_events = lane.gate.subscribe();
    lane.scanner.scan(&current_code(wallet)?).await?;
    let opened = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match gate_events.recv().await {
                Ok(GateEvent::Opened) => return true,
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => return false,
            }
        }
    })
    .await
    .unwrap_or(false);
    if !opened {
        anyhow::bail!("the gate did not open within 20 s");
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    lane.gate.simulate_passage()?;
    lane.scale.set_weight(0);
    debug!(lane = %lane.id, "demo shopper left");
    Ok(())
}

/// What the shopper's item carries: its EAN-13 (or a store weight label for goods sold by the
/// kilogram) and what it weighs on the bagging scale.
fn label_for(product: &Product) -> (String, i64) {
    if product.unit == Unit::Kg as i32 && product.plu.len() == 5 {
        let grams: i64 = rand::rng().random_range(150..=1200);
        let body = format!("22{}{:05}", product.plu, grams);
        let check = check_digit(&body).unwrap_or(0);
        return (format!("{body}{check}"), grams);
    }
    let ean13 = product.gtin.trim_start_matches('0');
    let code = if ean13.len() <= 13 {
        format!("{:0>13}", ean13)
    } else {
        product.gtin.clone()
    };
    (code, i64::from(product.weight_g.max(1)))
}

/// Sleeps; true if cancelled meanwhile.
async fn sleep_or_cancel(duration: Duration, cancel: &CancellationToken) -> bool {
    tokio::select! {
        _ = cancel.cancelled() => true,
        _ = tokio::time::sleep(duration) => false,
    }
}
