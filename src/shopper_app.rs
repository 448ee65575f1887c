//! What the shopper's app does beyond paying: `omo shopper confirm|reject WALLET [PAYMENT_ID]`
//! answers the lane's "confirm the payment in your app" (ShopperService/ConfirmPayment, with the
//! wallet's app token); without a payment id it lists the wallet's PENDING payments.
//! `omo shopper delivery WALLET ORDER_ID` shows a delivery order as the cloud follows it
//! (status, rider, ETA, when it was picked up and delivered).

use std::path::Path;

use omo_app_client::{AppClient, AppWallet};
use serde_json::json;

use crate::app_wallets::{refused, saved_wallet};

/// `omo shopper confirm|reject WALLET [PAYMENT_ID]`.
pub async fn answer(
    wallets: &Path,
    wallet: &str,
    payment_id: Option<String>,
    approve: bool,
    cloud: &str,
) -> anyhow::Result<()> {
    let entry = saved_wallet(wallets, wallet)?;
    let mut client = AppClient::connect(cloud).await?;
    let Some(payment_id) = payment_id else {
        return list_pending(&mut client, &entry).await;
    };
    let status = client
        .confirm(&entry, &payment_id, approve)
        .await
        .map_err(|e| refused("the cloud refused: ", e))?;
    println!(
        "{}",
        json!({ "wallet_id": entry.wallet_id, "payment_id": payment_id,
                "answer": if approve { "confirmed" } else { "rejected" }, "status": status })
    );
    Ok(())
}

/// Prints the wallet's PENDING payments, one JSON line each (nothing when none is pending).
async fn list_pending(client: &mut AppClient, wallet: &AppWallet) -> anyhow::Result<()> {
    let receipts = client.receipts(wallet).await.map_err(|e| refused("", e))?;
    let pending: Vec<_> = receipts
        .into_iter()
        .filter(|r| r.status == "PENDING")
        .collect();
    if pending.is_empty() {
        eprintln!(
            "no payment of wallet {} waits for an answer",
            wallet.wallet_id
        );
    }
    for r in pending {
        println!(
            "{}",
            json!({ "payment_id": r.payment_id, "store_id": r.store_id, "order_id": r.order_id,
                    "amount_fen": r.amount_fen, "status": r.status, "description": r.description,
                    "created_at": r.created_at,
                    "confirm_with": format!("omo shopper confirm {} {}", wallet.wallet_id, r.payment_id) })
        );
    }
    Ok(())
}

/// `omo shopper delivery WALLET ORDER_ID`.
pub async fn delivery(
    wallets: &Path,
    wallet: &str,
    order_id: &str,
    cloud: &str,
) -> anyhow::Result<()> {
    let entry = saved_wallet(wallets, wallet)?;
    let mut client = AppClient::connect(cloud).await?;
    let order = client
        .delivery_order(&entry, order_id)
        .await
        .map_err(|e| refused("", e))?;
    println!(
        "{}",
        json!({ "order_id": order.order_id, "store_id": order.store_id, "status": order.status,
                "rider_id": order.rider_id, "eta": order.eta, "picked_up_at": order.picked_up_at,
                "delivered_at": order.delivered_at, "promised_by": order.promised_by,
                "placed_at": order.placed_at, "refusal": order.refusal })
    );
    Ok(())
}
