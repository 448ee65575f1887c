//! `omo up --manual-lanes N`'s part of start-up: the last N lanes go to [`crate::up::manual`]
//! instead of the simulated shoppers, a funded wallet is enrolled for the person (kept where
//! `omo shopper` looks by default, `{data}/shopper/wallets.json`), the socket is served, and
//! the banner names the lanes and the commands.

use std::path::Path;
use std::sync::Arc;

use omo_edge::demo_devices::DemoDevices;
use omo_proto::catalog::Product;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::warn;

use crate::tools::AppWallet;
use crate::up::demo::DemoLane;
use crate::up::manual::ManualLanes;
use crate::usage::UsageError;

/// What the person's wallet is funded with, in fen (1 000 yuan).
const PERSON_FUNDING_FEN: i64 = 100_000;

/// Refuses more manual lanes than lanes (exit 64).
pub fn check(lanes: u16, manual: u16) -> Result<(), UsageError> {
    if manual > lanes {
        return Err(UsageError(format!(
            "--manual-lanes {manual}: more than the {lanes} lane(s) of --lanes"
        )));
    }
    Ok(())
}

/// Takes the last `manual` lanes out of `lanes` (before the edge starts: its lane screens'
/// devices panel drives them too). None without manual lanes.
pub fn take(lanes: &mut Vec<DemoLane>, manual: u16, products: &[Product]) -> Option<ManualLanes> {
    if manual == 0 {
        return None;
    }
    let first = lanes.len().saturating_sub(usize::from(manual));
    Some(ManualLanes::new(lanes.split_off(first), products.to_vec()))
}

/// The panel's hook for the edge.
pub fn panel(manual: &Option<ManualLanes>) -> Option<Arc<dyn DemoDevices>> {
    manual
        .clone()
        .map(|lanes| Arc::new(lanes) as Arc<dyn DemoDevices>)
}

/// Serves the manual lanes until `stop`, enrolls the person's wallet, and returns the banner's
/// lines about them (empty without manual lanes).
pub async fn start(
    manual: Option<ManualLanes>,
    cloud_url: &str,
    funding_token: &str,
    data: &Path,
    tasks: &TaskTracker,
    stop: &CancellationToken,
) -> String {
    let Some(manual_lanes) = manual else {
        return String::new();
    };
    let ids = manual_lanes.ids();
    tasks.spawn(crate::up::manual_socket::serve(
        manual_lanes.clone(),
        data.to_path_buf(),
        stop.clone(),
    ));
    let wallets = data.join("shopper").join("wallets.json");
    let wallet = match person_wallet(cloud_url, funding_token, &wallets).await {
        Ok(wallet) => {
            let id = wallet.wallet_id.clone();
            manual_lanes.add_wallet(wallet);
            id
        }
        Err(error) => {
            warn!(%error, "no wallet for the person at the manual lanes; enroll one");
            "WALLET".into()
        }
    };
    let lane = ids.first().cloned().unwrap_or_default();
    let d = data.display();
    let w = wallets.display();
    format!(
        "\n  manual lane(s) {list}        no simulated shopper: you are the shopper (socket {sock}, this user only)\
         \n    a wallet for you           {wallet} (1000 yuan, in {w})\
         \n    scan a product             omo lane scan {lane} 6928571010225 --data {d}\
         \n    bag it / set the scale     omo lane bag {lane} --data {d}   /   omo lane weigh {lane} GRAMS --data {d}\
         \n    pay                        omo lane scan {lane} $(omo shopper code {wallet} --wallets {w}) --data {d}\
         \n    confirm in the app         omo shopper confirm {wallet} [PAYMENT_ID] --wallets {w}   (above 100 yuan)\
         \n    walk out                   omo lane pass {lane} --data {d}\
         \n    or on its lane screen      the \"Devices (demo)\" panel (scan, bag, weigh, pay, walk out)",
        list = ids.join(", "),
        sock = crate::up::manual::socket_path(data).display(),
    )
}

/// Enrolls and funds (once, top-up id from the wallet number) the person's wallet, saved in
/// `wallets`; its number.
async fn person_wallet(
    cloud_url: &str,
    funding_token: &str,
    wallets: &Path,
) -> anyhow::Result<AppWallet> {
    let wallet = crate::tools::enroll(cloud_url, "You (manual lane)", 0).await?;
    crate::funding::fund(
        cloud_url,
        funding_token,
        &wallet.wallet_id,
        PERSON_FUNDING_FEN,
        &format!("manual-{}", wallet.wallet_id),
    )
    .await?;
    crate::tools::save_wallet(wallets, &wallet)?;
    Ok(wallet)
}
