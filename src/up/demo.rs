//! Simulated shoppers for `omo up`: at each lane, a shopper scans a few products on the simulated
//! scanner (real bytes on its pseudo-terminal), puts them on the simulated bagging scale, scans the
//! payment code from a wallet enrolled with the cloud, and walks through the gate once it opens.
//! Some then choose home delivery: at the lane screen ([`deliver_from_the_lane`]) or in the app
//! ([`order_delivery`]), so dispatch is always alive.

use std::sync::Arc;
use std::time::Duration;

use omo_devices::barcode::gtin::check_digit;
use omo_devices::gate::{Gate, GateEvent, SimGate};
use omo_devices::sim::{ScaleSim, ScannerSim};
use omo_proto::catalog::{Product, Unit};
use omo_proto::shopper::shopper_service_client::ShopperServiceClient;
use omo_proto::shopper::{
    ConfirmPaymentRequest, DeliveryLine, Dropoff, ListReceiptsRequest, PlaceDeliveryOrderRequest,
    SetDeliveryAddressRequest,
};
use rand::Rng;
use rand::seq::IndexedRandom;
use tokio_util::sync::CancellationToken;
use tonic::transport::{Channel, Endpoint};
use tracing::{debug, warn};

use crate::tools::{AppWallet, current_code, enroll};

/// The simulated devices of one lane.
pub struct DemoLane {
    pub id: String,
    pub scanner: Arc<ScannerSim>,
    pub scale: Arc<ScaleSim>,
    pub gate: Arc<SimGate>,
    /// The lane screen's credential (its setup token, sent as the screen's cookie).
    pub screen_token: String,
}

/// The cloud the demo shoppers use, and the demo funding authority's token their wallets are
/// funded with (a wallet opens empty).
pub struct Cloud {
    pub url: String,
    pub funding_token: String,
}

/// What each demo shopper's wallet is funded with, in fen (100 000 yuan).
const DEMO_FUNDING_FEN: i64 = 10_000_000;

/// Runs one lane's shoppers until `cancel`.
pub async fn run_shopper(
    lane: DemoLane,
    products: Vec<Product>,
    cloud: Cloud,
    edge_url: String,
    store_id: String,
    every: Duration,
    cancel: CancellationToken,
) {
    let products: Vec<Product> = products.into_iter().filter(|p| p.min_age == 0).collect();
    // The phone app's connection to the cloud, made once and reused for every confirmation.
    let app = match Endpoint::from_shared(cloud.url.clone()) {
        Ok(endpoint) => ShopperServiceClient::new(endpoint.connect_lazy()),
        Err(error) => {
            warn!(lane = %lane.id, %error, "demo shoppers cannot use the cloud URL");
            return;
        }
    };
    // Different shoppers take turns at the lane: a payment code is single use within its 30 s
    // step, so one shopper can't pay twice in a row that fast (nor could a real one).
    let mut shoppers: Vec<AppWallet> = Vec::new();
    let mut turn = 0usize;
    // Let the edge open its ports and fetch the catalog first.
    tokio::time::sleep(Duration::from_secs(2)).await;
    while !cancel.is_cancelled() {
        if shoppers.len() < SHOPPERS_PER_LANE {
            let name = format!("Demo shopper {}-{}", lane.id, shoppers.len() + 1);
            match enroll_funded(&cloud, &name).await {
                Ok(wallet) => shoppers.push(wallet),
                Err(error) => {
                    warn!(lane = %lane.id, %error, "demo shopper cannot enroll yet");
                    if sleep_or_cancel(Duration::from_secs(2), &cancel).await {
                        return;
                    }
                    continue;
                }
            }
        }
        let wallet = &shoppers[turn % shoppers.len()];
        turn += 1;
        match checkout(&lane, &products, wallet, &app, &edge_url, &cancel).await {
            Ok(basket) if rand::rng().random_bool(DELIVERY_SHARE) => match basket {
                Some(session_id) if rand::rng().random_bool(0.4) => {
                    deliver_from_the_lane(&app, wallet, &edge_url, &lane, &session_id).await
                }
                _ => order_delivery(&app, wallet, &store_id, &products).await,
            },
            Ok(_) => {}
            Err(error) => {
                warn!(lane = %lane.id, %error, "demo checkout did not complete");
                recover_after_failed_checkout(&lane, &edge_url, &cancel).await;
            }
        }
        let pause = every.mul_f64(rand::rng().random_range(0.6..1.4));
        if sleep_or_cancel(pause, &cancel).await {
            return;
        }
    }
}

/// Enrolls an empty wallet, then funds it through the demo's funding authority (once: the
/// top-up id is derived from the wallet number).
async fn enroll_funded(cloud: &Cloud, name: &str) -> anyhow::Result<AppWallet> {
    let wallet = enroll(&cloud.url, name, 0).await?;
    crate::funding::fund(
        &cloud.url,
        &cloud.funding_token,
        &wallet.wallet_id,
        DEMO_FUNDING_FEN,
        &format!("demo-{}", wallet.wallet_id),
    )
    .await?;
    Ok(wallet)
}

/// The share of demo shoppers who have their basket delivered home.
const DELIVERY_SHARE: f64 = 0.3;

/// A random drop-off around the store: most within the 3 km radius, some beyond it.
fn somewhere_near() -> (f64, f64) {
    let mut rng = rand::rng();
    (
        31.2304 + rng.random_range(-0.025..0.025),
        121.4737 + rng.random_range(-0.03..0.03),
    )
}

/// The shopper presses "Deliver it home" on the lane screen after paying: the basket goes to the
/// address kept in their app (set here first, as the app would have). The press comes from the
/// lane's set-up screen (its cookie) and names the basket just paid (its session id).
async fn deliver_from_the_lane(
    app: &ShopperServiceClient<Channel>,
    wallet: &AppWallet,
    edge_url: &str,
    lane: &DemoLane,
    session_id: &str,
) {
    let (lat, lon) = somewhere_near();
    let Ok(request) = wallet.request(SetDeliveryAddressRequest {
        wallet_id: wallet.wallet_id.clone(),
        address: Some(Dropoff {
            lat,
            lon,
            address: format!("{lat:.5}, {lon:.5}"),
        }),
    }) else {
        return;
    };
    if let Err(status) = app.clone().set_delivery_address(request).await {
        debug!(%status, "demo shopper could not keep an address");
        return;
    }
    let response = reqwest::Client::new()
        .post(format!("{edge_url}/lanes/{}/delivery", lane.id))
        .header(
            reqwest::header::COOKIE,
            format!("{}={}", omo_edge::web::screen::COOKIE, lane.screen_token),
        )
        .json(&serde_json::json!({ "session_id": session_id }))
        .send()
        .await;
    let lane = &lane.id;
    match response {
        Ok(r) => {
            debug!(lane, status = %r.status(), "demo shopper asked at the lane for home delivery")
        }
        Err(error) => warn!(lane, %error, "the lane's delivery button failed"),
    }
}

/// The shopper chooses home delivery in the app, to a random address around the store (some
/// beyond the 3 km radius, which the cloud refuses with the distance): most have the basket
/// they just paid at the lane delivered, some order more goods in the app instead.
async fn order_delivery(
    app: &ShopperServiceClient<Channel>,
    wallet: &AppWallet,
    store_id: &str,
    products: &[Product],
) {
    let (lat, lon) = somewhere_near();
    let app_order = rand::rng().random_bool(0.4);
    let mut request = PlaceDeliveryOrderRequest {
        wallet_id: wallet.wallet_id.clone(),
        store_id: store_id.into(),
        order_id: uuid::Uuid::now_v7().to_string(),
        lines: Vec::new(),
        purchase_order_id: String::new(),
        dropoff: Some(Dropoff {
            lat,
            lon,
            address: format!("{lat:.5}, {lon:.5}"),
        }),
    };
    let mut client = app.clone();
    if app_order {
        let each: Vec<&Product> = products
            .iter()
            .filter(|p| p.unit == Unit::Each as i32)
            .collect();
        let count = rand::rng().random_range(1..=3);
        request.lines = each
            .choose_multiple(&mut rand::rng(), count)
            .map(|p| DeliveryLine {
                gtin: p.gtin.clone(),
                quantity: rand::rng().random_range(1..=2),
                ..Default::default()
            })
            .collect();
    } else {
        let Ok(list) = wallet.request(ListReceiptsRequest {
            wallet_id: wallet.wallet_id.clone(),
        }) else {
            return;
        };
        let Ok(receipts) = client.list_receipts(list).await else {
            return;
        };
        // The basket just paid: the newest succeeded lane payment.
        let Some(paid) = receipts
            .into_inner()
            .receipts
            .into_iter()
            .filter(|r| r.status == "SUCCEEDED" && !r.order_id.starts_with("delivery-"))
            .max_by(|a, b| a.created_at.cmp(&b.created_at))
        else {
            return;
        };
        request.purchase_order_id = paid.order_id;
    }
    let Ok(request) = wallet.request(request) else {
        return;
    };
    match client.place_delivery_order(request).await {
        Ok(order) => {
            let order = order.into_inner();
            debug!(order = %order.order_id, status = %order.status, distance_m = order.distance_m,
                amount_fen = order.amount_fen, "demo shopper ordered home delivery in the app")
        }
        Err(status) => debug!(%status, "demo delivery order refused"),
    }
}

/// Shoppers who take turns at each lane.
const SHOPPERS_PER_LANE: usize = 8;

/// One checkout; returns when the shopper has walked out (or gave up), with the paid basket's
/// session id as the lane showed it (if it could be read).
async fn checkout(
    lane: &DemoLane,
    products: &[Product],
    wallet: &AppWallet,
    app: &ShopperServiceClient<Channel>,
    edge_url: &str,
    cancel: &CancellationToken,
) -> anyhow::Result<Option<String>> {
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
            return Ok(None);
        }
    }
    let mut gate_events = lane.gate.subscribe();
    lane.scanner.scan(&current_code(wallet)?).await?;
    let opened = tokio::time::timeout(Duration::from_secs(20), async {
        let mut confirm_check = tokio::time::interval(Duration::from_millis(500));
        loop {
            tokio::select! {
                event = gate_events.recv() => match event {
                    Ok(GateEvent::Opened) => return true,
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(_) => return false,
                },
                // Large baskets wait for the shopper's confirmation in the app: give it.
                _ = confirm_check.tick() => confirm_pending(app, wallet).await,
            }
        }
    })
    .await
    .unwrap_or(false);
    if !opened {
        anyhow::bail!("the gate did not open within 20 s");
    }
    // The basket on the lane screen, as the screen would remember it for "Deliver it home".
    let basket = async {
        let view: serde_json::Value = reqwest::get(format!("{edge_url}/api/lanes/{}", lane.id))
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        view["session"]["id"].as_str().map(str::to_string)
    }
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    lane.gate.simulate_passage()?;
    lane.scale.set_weight(0);
    debug!(lane = %lane.id, "demo shopper left");
    Ok(basket)
}

/// A checkout that did not complete: the shopper takes their items back off the bagging scale,
/// and the demo's attendant cancels the basket left on the lane (retried while its payment is
/// still in flight; a lane with no basket refuses, harmlessly), so the next shopper starts at an
/// idle lane with an empty scale.
async fn recover_after_failed_checkout(
    lane: &DemoLane,
    edge_url: &str,
    cancel: &CancellationToken,
) {
    lane.scale.set_weight(0);
    let http = reqwest::Client::new();
    let login = http
        .post(format!("{edge_url}/login"))
        .json(&serde_json::json!({ "name": "attendant", "password": "attendant" }))
        .send()
        .await;
    let token = match login {
        Ok(response) => response.json::<serde_json::Value>().await.ok(),
        Err(_) => None,
    };
    let Some(token) = token.and_then(|t| t["token"].as_str().map(str::to_string)) else {
        warn!(lane = %lane.id, "the demo attendant cannot log in to cancel the basket");
        return;
    };
    for _ in 0..15 {
        let response = http
            .post(format!("{edge_url}/api/lanes/{}/actions", lane.id))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "command": "cancel_basket", "reason": "demo shopper gave up" }))
            .send()
            .await;
        let Ok(response) = response else { return };
        let refused = response.text().await.unwrap_or_default();
        if !refused.contains("in flight") {
            debug!(lane = %lane.id, "demo attendant cancelled the basket left behind");
            return;
        }
        if sleep_or_cancel(Duration::from_secs(2), cancel).await {
            return;
        }
    }
}

/// Approves, as the shopper would in the app, every payment of `wallet` waiting for it.
async fn confirm_pending(app: &ShopperServiceClient<Channel>, wallet: &AppWallet) {
    let mut client = app.clone();
    let Ok(request) = wallet.request(ListReceiptsRequest {
        wallet_id: wallet.wallet_id.clone(),
    }) else {
        return;
    };
    let Ok(receipts) = client.list_receipts(request).await else {
        return;
    };
    for receipt in receipts.into_inner().receipts {
        if receipt.status == "PENDING" {
            let Ok(request) = wallet.request(ConfirmPaymentRequest {
                wallet_id: wallet.wallet_id.clone(),
                payment_id: receipt.payment_id.clone(),
                approve: true,
            }) else {
                return;
            };
            let confirmed = client.confirm_payment(request).await;
            debug!(payment = %receipt.payment_id, ok = confirmed.is_ok(), "demo shopper confirmed in the app");
        }
    }
}

/// What the shopper's item carries: its EAN-13 (or a store weight label for goods sold by the
/// kilogram) and what it weighs on the bagging scale.
fn label_for(product: &Product) -> (String, i64) {
    if product.unit == Unit::Kg as i32 && product.plu.len() == 5 {
        let grams: i64 = rand::rng().random_range(150..=1200);
        // The store's scales print either the weight (`22…`) or, for goods sold by label, the
        // price (`21…`, believed only for those): the demo shows both.
        let price_fen = (grams * product.price_fen + 500) / 1000;
        let body = if product.priced_by_label && price_fen <= 99_999 && rand::rng().random_bool(0.5)
        {
            format!("21{}{:05}", product.plu, price_fen)
        } else {
            format!("22{}{:05}", product.plu, grams)
        };
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
