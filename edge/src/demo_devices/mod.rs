//! The lane screen's "devices" panel, in demo mode only: when the binary hands [`crate::run_with`]
//! a [`DemoDevices`] (as `omo up --manual-lanes N` does for its manual lanes), each of those
//! lanes' set-up screen shows a panel to scan a product from the catalog, put a weight on the
//! bagging scale, bag what was scanned, scan a demo shopper's payment code, and walk through the
//! gate. The panel drives the same simulated devices as `omo lane scan|weigh|bag|pass`.
//!
//! | route | who | what |
//! | --- | --- | --- |
//! | `GET /lanes/{id}/devices.js` | screen {id} | the panel's script (404 outside demo mode) |
//! | `GET /lanes/{id}/devices` | screen {id} | products to scan, demo shoppers, the devices' state |
//! | `POST /lanes/{id}/devices` `{"op": ...}` | screen {id} | one [`DeviceAction`] |
//!
//! Outside demo mode (no [`DemoDevices`], or a lane that is not one of its lanes) every route is
//! a 404, so the panel never appears on a real store's screen.

mod routes;

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

pub use routes::routes;

/// What a person does with a lane's simulated devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum DeviceAction {
    /// Scan a code (a product, a weight label, a coupon or a payment code).
    Scan { code: String },
    /// Set the load on the bagging scale, in grams.
    Weigh { grams: i64 },
    /// Put what was scanned and not yet bagged on the scale (its catalog or label weight).
    Bag,
    /// Scan the current payment code of one of the demo's wallets.
    Pay { wallet: String },
    /// Walk through the open gate, taking the bags off the scale.
    Pass,
    /// Only show the devices.
    Status,
}

/// The answer to a [`DeviceAction`]: whether it was done, why not, and the devices now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceReply {
    pub ok: bool,
    pub lane: String,
    pub message: String,
    /// The load on the bagging scale, grams.
    #[serde(default)]
    pub scale_g: i64,
    /// Scanned and not yet bagged, grams.
    #[serde(default)]
    pub unbagged_g: i64,
    /// `closed`, `open`, `alarm_open`, `blocked` or `malfunction`.
    #[serde(default)]
    pub gate: String,
}

/// A product the panel offers to scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PanelProduct {
    /// What the scanner sends (an EAN-13, or a store weight label for goods sold by weight).
    pub code: String,
    pub name: String,
    pub price_fen: i64,
    pub grams: i64,
}

/// The simulated devices of the lanes a person may drive (the binary's side).
pub trait DemoDevices: Send + Sync + 'static {
    /// Whether `lane` is one of them.
    fn has_lane(&self, lane: &str) -> bool;
    /// Products to scan.
    fn products(&self) -> Vec<PanelProduct>;
    /// The wallets whose payment code the panel may scan.
    fn wallets(&self) -> Vec<String>;
    /// Does `action` at `lane`.
    fn act<'a>(
        &'a self,
        lane: &'a str,
        action: DeviceAction,
    ) -> Pin<Box<dyn Future<Output = DeviceReply> + Send + 'a>>;
}
