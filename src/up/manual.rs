//! Lanes left to a person in `omo up --manual-lanes N`: no simulated shopper drives them; their
//! simulated scanner, bagging scale and gate take input from `omo lane scan|weigh|bag|pass`
//! (see [`crate::lane_cli`]; the socket is [`crate::up::manual_socket`]) and from the lane screen's "devices" panel in demo mode.
//!
//! Transport: a Unix stream socket at `{data}/manual-lanes.sock`, created mode 0600 inside the
//! data folder, and a connecting peer must run under the same user id as `omo up` (checked with
//! `SO_PEERCRED`): only the local user who started the store may drive its lanes. One JSON
//! request per line, one JSON reply per line ([`Request`], [`Reply`]).
//!
//! What the devices do is the same bytes the lane reads from real devices: a scan is written to
//! the scanner's pseudo-terminal, a weight is what the scale answers when polled.

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use omo_devices::gate::{Gate, GateState};
use omo_edge::demo_devices::{DemoDevices, PanelProduct};
use omo_proto::catalog::{Product, Unit};
use serde::{Deserialize, Serialize};
use tracing::info;

use crate::tools::AppWallet;
use crate::up::demo::DemoLane;

/// The socket's file name inside the data folder.
pub const SOCKET_FILE: &str = "manual-lanes.sock";

/// The socket of the store whose data folder is `data`.
pub fn socket_path(data: &Path) -> PathBuf {
    data.join(SOCKET_FILE)
}

/// Heaviest load a person may put on a simulated scale, in grams (its capacity).
pub const MAX_GRAMS: i64 = 60_000;

pub use omo_edge::demo_devices::{DeviceAction as Action, DeviceReply as Reply};

/// One request on the socket.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    pub lane: String,
    #[serde(flatten)]
    pub action: Action,
}

/// One manual lane: its simulated devices and what the person has in hand.
struct Lane {
    devices: DemoLane,
    /// Weight scanned but not yet put on the scale.
    unbagged_g: Mutex<i64>,
}

/// The manual lanes of one `omo up`; cheap to clone.
#[derive(Clone)]
pub struct ManualLanes {
    lanes: Arc<HashMap<String, Lane>>,
    products: Arc<Vec<Product>>,
    /// The wallets whose payment code the lane screen's panel may scan.
    wallets: Arc<Mutex<Vec<AppWallet>>>,
}

impl ManualLanes {
    pub fn new(lanes: Vec<DemoLane>, products: Vec<Product>) -> ManualLanes {
        let lanes = lanes
            .into_iter()
            .map(|devices| {
                devices.scale.set_weight(0);
                (
                    devices.id.clone(),
                    Lane {
                        devices,
                        unbagged_g: Mutex::new(0),
                    },
                )
            })
            .collect();
        ManualLanes {
            lanes: Arc::new(lanes),
            products: Arc::new(products),
            wallets: Arc::default(),
        }
    }

    /// Lets the panel scan `wallet`'s payment code.
    pub fn add_wallet(&self, wallet: AppWallet) {
        self.wallets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(wallet);
    }

    /// The lanes' ids, in order.
    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.lanes.keys().cloned().collect();
        ids.sort_by_key(|id| (id.len(), id.clone()));
        ids
    }

    /// Does `action` at `lane`.
    pub async fn act(&self, lane_id: &str, action: Action) -> Reply {
        let Some(lane) = self.lanes.get(lane_id) else {
            return Reply {
                ok: false,
                lane: lane_id.to_string(),
                message: format!(
                    "lane {lane_id:?} is not a manual lane (manual lanes: {})",
                    self.ids().join(", ")
                ),
                scale_g: 0,
                unbagged_g: 0,
                gate: String::new(),
            };
        };
        let result = self.apply(lane, &action).await;
        let (ok, message) = match result {
            Ok(message) => (true, message),
            Err(message) => (false, message),
        };
        info!(lane = lane_id, ?action, ok, %message, "manual lane");
        Reply {
            ok,
            lane: lane_id.to_string(),
            message,
            scale_g: lane.devices.scale.state().grams,
            unbagged_g: *lane
                .unbagged_g
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
            gate: gate_name(lane.devices.gate.state()).into(),
        }
    }

    async fn apply(&self, lane: &Lane, action: &Action) -> Result<String, String> {
        let scale = &lane.devices.scale;
        match action {
            Action::Scan { code } => {
                let code = code.trim();
                if code.is_empty() || code.len() > 200 || code.chars().any(char::is_control) {
                    return Err("a scan is 1-200 printable characters".into());
                }
                lane.devices
                    .scanner
                    .scan(code)
                    .await
                    .map_err(|e| format!("the scanner cannot send: {e}"))?;
                match item_grams(code, &self.products) {
                    Some(grams) => {
                        *lane
                            .unbagged_g
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner) += grams;
                        Ok(format!("scanned {code}; bag it ({grams} g)"))
                    }
                    None => Ok(format!("scanned {code}")),
                }
            }
            Action::Weigh { grams } => {
                if !(0..=MAX_GRAMS).contains(grams) {
                    return Err(format!("a load is 0-{MAX_GRAMS} g"));
                }
                scale.set_weight(*grams);
                *lane
                    .unbagged_g
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = 0;
                Ok(format!("the scale holds {grams} g"))
            }
            Action::Bag => {
                let grams = std::mem::take(
                    &mut *lane
                        .unbagged_g
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner),
                );
                let load = (scale.state().grams + grams).min(MAX_GRAMS);
                scale.set_weight(load);
                Ok(format!("bagged {grams} g; the scale holds {load} g"))
            }
            Action::Pass => {
                let state = lane.devices.gate.state();
                if state == GateState::Closed {
                    return Err("the gate is closed: pay first".into());
                }
                lane.devices
                    .gate
                    .simulate_passage()
                    .map_err(|e| format!("the gate: {e}"))?;
                scale.set_weight(0);
                *lane
                    .unbagged_g
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = 0;
                Ok("walked through the gate with the bags".into())
            }
            Action::Pay { wallet } => {
                let found = self
                    .wallets
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .iter()
                    .find(|w| &w.wallet_id == wallet)
                    .cloned();
                let wallet =
                    found.ok_or_else(|| format!("wallet {wallet} is not a demo wallet"))?;
                let code = crate::tools::current_code(&wallet).map_err(|e| e.to_string())?;
                lane.devices
                    .scanner
                    .scan(&code)
                    .await
                    .map_err(|e| format!("the scanner cannot send: {e}"))?;
                Ok(format!(
                    "scanned wallet {}'s payment code",
                    wallet.wallet_id
                ))
            }
            Action::Status => Ok("devices as they are".into()),
        }
    }
}

impl DemoDevices for ManualLanes {
    fn has_lane(&self, lane: &str) -> bool {
        self.lanes.contains_key(lane)
    }

    fn products(&self) -> Vec<PanelProduct> {
        self.products
            .iter()
            .filter(|p| p.min_age == 0)
            .filter_map(|p| {
                let code = panel_code(p)?;
                let grams = item_grams(&code, &self.products)?;
                Some(PanelProduct {
                    code,
                    name: p.name.clone(),
                    price_fen: p.price_fen,
                    grams,
                })
            })
            .collect()
    }

    fn wallets(&self) -> Vec<String> {
        self.wallets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|w| w.wallet_id.clone())
            .collect()
    }

    fn act<'a>(
        &'a self,
        lane: &'a str,
        action: Action,
    ) -> Pin<Box<dyn Future<Output = Reply> + Send + 'a>> {
        Box::pin(ManualLanes::act(self, lane, action))
    }
}

/// What the panel scans for `product`: its EAN-13, or for goods sold by weight a store label
/// of 500 g (`22 PLU 00500 C`).
fn panel_code(product: &Product) -> Option<String> {
    if product.unit == Unit::Kg as i32 {
        if product.plu.len() != 5 {
            return None;
        }
        let body = format!("22{}00500", product.plu);
        let check = omo_devices::barcode::gtin::check_digit(&body)?;
        return Some(format!("{body}{check}"));
    }
    let code = product.gtin.trim_start_matches('0');
    (code.len() <= 13).then(|| format!("{code:0>13}"))
}

fn gate_name(state: GateState) -> &'static str {
    match state {
        GateState::Closed => "closed",
        GateState::Open => "open",
        GateState::AlarmOpen => "alarm_open",
        GateState::Blocked => "blocked",
        GateState::Malfunction => "malfunction",
    }
}

/// What the scanned item weighs on the bagging scale: a store weight label's grams, a price
/// label's price over the product's price per kg, or the catalog weight of an `each` product.
/// None for anything else (a payment code, a coupon, an unknown code).
pub fn item_grams(code: &str, products: &[Product]) -> Option<i64> {
    if !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if code.len() == 13 && (code.starts_with("21") || code.starts_with("22")) {
        let plu = &code[2..7];
        let value: i64 = code[7..12].parse().ok()?;
        let product = products
            .iter()
            .find(|p| p.plu == plu && p.unit == Unit::Kg as i32)?;
        return if code.starts_with("22") {
            Some(value)
        } else if product.price_fen > 0 {
            Some(value * 1000 / product.price_fen)
        } else {
            None
        };
    }
    if code.len() > 14 {
        return None;
    }
    let gtin = format!("{code:0>14}");
    products
        .iter()
        .find(|p| format!("{:0>14}", p.gtin) == gtin && p.unit == Unit::Each as i32)
        .map(|p| i64::from(p.weight_g.max(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(gtin: &str, unit: Unit, weight_g: i32, plu: &str, price_fen: i64) -> Product {
        Product {
            gtin: gtin.into(),
            unit: unit as i32,
            weight_g,
            plu: plu.into(),
            price_fen,
            ..Default::default()
        }
    }

    #[test]
    fn scanned_items_weigh_what_the_catalog_or_label_says() {
        let products = [
            product("06928571010225", Unit::Each, 5020, "", 8990),
            product("02210001000000", Unit::Kg, 0, "10001", 9800),
        ];
        assert_eq!(item_grams("6928571010225", &products), Some(5020));
        assert_eq!(item_grams("2210001004501", &products), Some(450));
        // A price label: 49.00 yuan at 98.00 yuan/kg is 500 g.
        assert_eq!(item_grams("2110001049001", &products), Some(500));
        assert_eq!(item_grams("281234567812345678", &products), None);
        assert_eq!(item_grams("OMOC1:c:1", &products), None);
        assert_eq!(item_grams("", &products), None);
    }

    #[test]
    fn requests_read_as_documented() {
        let request: Request =
            serde_json::from_str(r#"{"lane":"2","op":"scan","code":"6928571010225"}"#).unwrap();
        assert_eq!(
            request.action,
            Action::Scan {
                code: "6928571010225".into()
            }
        );
        let request: Request =
            serde_json::from_str(r#"{"lane":"2","op":"weigh","grams":5}"#).unwrap();
        assert_eq!(request.action, Action::Weigh { grams: 5 });
        assert!(serde_json::from_str::<Request>(r#"{"lane":"2","op":"dance"}"#).is_err());
    }
}
