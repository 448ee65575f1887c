//! `omo shopper enroll | fund | funding | code | address | receipts | deliver | confirm |
//! reject | delivery | balance`: the phone app's commands, over [`omo_app_client`]. The wallets
//! live in the app's wallet file (`--wallets`).

use omo_app_client::AppClient;
use omo_proto::shopper::{DeliveryLine, Dropoff, PlaceDeliveryOrderRequest};
use serde_json::json;

use crate::app_wallets::{current_code, enroll, refused, save_wallet, saved_wallet};
use crate::cli::{ShopperAction, ShopperArgs};
use crate::usage::UsageError;

/// `omo shopper enroll | code | balance`.
pub async fn shopper(args: ShopperArgs) -> anyhow::Result<()> {
    match args.action {
        ShopperAction::Enroll {
            cloud,
            name,
            balance_fen,
        } => {
            let wallet = enroll(&cloud, &name, balance_fen).await?;
            save_wallet(&args.wallets, &wallet)?;
            println!(
                "{}",
                json!({ "wallet_id": wallet.wallet_id, "display_name": wallet.display_name, "balance_fen": 0, "saved_to": args.wallets.display().to_string(),
                        "fund_with": format!("omo shopper fund {} --amount-fen N --cloud {cloud}", wallet.wallet_id) })
            );
            Ok(())
        }
        ShopperAction::Fund {
            wallet,
            amount_fen,
            top_up_id,
            cloud,
            token_file,
        } => {
            crate::funding::fund_command(&wallet, amount_fen, top_up_id, &cloud, &token_file).await
        }
        ShopperAction::Funding {
            after,
            cloud,
            token_file,
        } => crate::funding::list_command(after, &cloud, &token_file).await,
        ShopperAction::Code { wallet } => {
            let wallets = omo_app_client::load_wallets(&args.wallets)?;
            let entry = wallets.get(&wallet).ok_or_else(|| {
                UsageError(format!(
                    "wallet {wallet} is not in {} (enroll first)",
                    args.wallets.display()
                ))
            })?;
            println!("{}", current_code(entry)?);
            Ok(())
        }
        ShopperAction::Address {
            wallet,
            lat,
            lon,
            address,
            cloud,
        } => {
            let entry = saved_wallet(&args.wallets, &wallet)?;
            let mut client = AppClient::connect(&cloud).await?;
            let wallet = client
                .set_address(&entry, Dropoff { lat, lon, address })
                .await
                .map_err(|e| refused("", e))?;
            let kept = wallet.delivery_address.unwrap_or_default();
            println!(
                "{}",
                json!({ "wallet_id": wallet.wallet_id, "delivery_address": { "lat": kept.lat, "lon": kept.lon, "address": kept.address } })
            );
            Ok(())
        }
        ShopperAction::Receipts { wallet, cloud } => {
            let entry = saved_wallet(&args.wallets, &wallet)?;
            let mut client = AppClient::connect(&cloud).await?;
            let receipts = client.receipts(&entry).await.map_err(|e| refused("", e))?;
            for r in receipts {
                println!(
                    "{}",
                    json!({ "payment_id": r.payment_id, "store_id": r.store_id, "order_id": r.order_id,
                            "amount_fen": r.amount_fen, "refunded_fen": r.refunded_fen, "status": r.status,
                            "description": r.description, "created_at": r.created_at })
                );
            }
            Ok(())
        }
        ShopperAction::Deliver {
            wallet,
            store,
            lat,
            lon,
            address,
            items,
            purchase,
            order_id,
            cloud,
        } => {
            let entry = saved_wallet(&args.wallets, &wallet)?;
            let lines = items
                .iter()
                .map(|i| delivery_line(i))
                .collect::<Result<Vec<_>, _>>()?;
            if lines.is_empty() == purchase.is_none() {
                return Err(UsageError(
                    "give the goods (--item GTIN[xQTY], repeatable) or a lane purchase (--purchase ORDER_ID), not both".into(),
                )
                .into());
            }
            let request = PlaceDeliveryOrderRequest {
                wallet_id: wallet,
                store_id: store,
                order_id: order_id.unwrap_or_else(|| uuid::Uuid::now_v7().to_string()),
                lines,
                purchase_order_id: purchase.unwrap_or_default(),
                dropoff: lat.zip(lon).map(|(lat, lon)| Dropoff { lat, lon, address }),
            };
            let mut client = AppClient::connect(&cloud).await?;
            let order = client
                .deliver(&entry, request)
                .await
                .map_err(|e| refused("delivery refused: ", e))?;
            println!(
                "{}",
                json!({ "order_id": order.order_id, "store_id": order.store_id, "status": order.status,
                        "distance_m": order.distance_m, "radius_m": order.radius_m, "amount_fen": order.amount_fen,
                        "payment_id": order.payment_id, "placed_at": order.placed_at, "refusal": order.refusal,
                        "lines": order.lines.iter().map(|l| json!({"gtin": l.gtin, "name": l.name, "quantity": l.quantity, "amount_fen": l.amount_fen})).collect::<Vec<_>>() })
            );
            if order.status == "OUT_OF_RANGE" {
                std::process::exit(3);
            }
            Ok(())
        }
        ShopperAction::Confirm {
            wallet,
            payment_id,
            cloud,
        } => crate::shopper_app::answer(&args.wallets, &wallet, payment_id, true, &cloud).await,
        ShopperAction::Reject {
            wallet,
            payment_id,
            cloud,
        } => crate::shopper_app::answer(&args.wallets, &wallet, payment_id, false, &cloud).await,
        ShopperAction::Delivery {
            wallet,
            order_id,
            cloud,
        } => crate::shopper_app::delivery(&args.wallets, &wallet, &order_id, &cloud).await,
        ShopperAction::Balance { wallet, cloud } => {
            let entry = saved_wallet(&args.wallets, &wallet)?;
            let mut client = AppClient::connect(&cloud).await?;
            let wallet = client.wallet(&entry).await.map_err(|e| refused("", e))?;
            println!(
                "{}",
                json!({ "wallet_id": wallet.wallet_id, "balance_fen": wallet.balance_fen, "frozen": wallet.frozen })
            );
            Ok(())
        }
    }
}

/// `GTIN` or `GTINxQTY` (quantity 1-99) as a delivery line.
fn delivery_line(text: &str) -> Result<DeliveryLine, UsageError> {
    let (gtin, quantity) = match text.split_once(['x', 'X', '*']) {
        Some((gtin, quantity)) => (gtin, quantity.parse().ok().filter(|q| (1..=99).contains(q))),
        None => (text, Some(1)),
    };
    match quantity {
        Some(quantity) if !gtin.is_empty() && gtin.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(DeliveryLine {
                gtin: gtin.to_string(),
                quantity,
                ..Default::default()
            })
        }
        _ => Err(UsageError(format!(
            "--item {text:?}: expected GTIN or GTINxQUANTITY (1-99), e.g. 4006381333931x2"
        ))),
    }
}
