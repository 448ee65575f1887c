//! The cloud follows the rider: an order placed in the app, accepted by the store's edge and
//! ridden by a rider (separate processes over real gRPC and a real broker: mosquitto, and again
//! the embedded one), becomes
//! PICKED_UP and then DELIVERED in the cloud, with the rider's id, the dispatcher's ETA and the
//! times, as the shopper's app (GetDeliveryOrder, `omo shopper delivery`) shows it. On today's
//! main the cloud's order stays ACCEPTED with no rider or ETA: the edge never told it.

mod support;

use std::time::Duration;

use omo_edge::delivery::geo::{self, Position};
use omo_proto::shopper::{
    DeliveryLine, DeliveryOrder, Dropoff, GetDeliveryOrderRequest, PlaceDeliveryOrderRequest,
};
use support::store::{STORE, TestStore, TestWallet};
use support::{BrokerKind, Process, eventually};

const PEN: &str = "4006381333931";
const WAIT: Duration = Duration::from_secs(60);
const STORE_AT: Position = Position {
    lat: 31.2304,
    lon: 121.4737,
};

async fn order(store: &TestStore, wallet: &TestWallet, id: &str) -> DeliveryOrder {
    store
        .shopper()
        .await
        .get_delivery_order(wallet.request(GetDeliveryOrderRequest {
            wallet_id: wallet.wallet_id.clone(),
            order_id: id.into(),
        }))
        .await
        .unwrap()
        .into_inner()
}

async fn the_clouds_delivery_order_follows_its_rider_to_the_door_on(kind: BrokerKind) {
    let mut store = TestStore::start(kind, 1).await;
    store.start_edge().await;
    let wallet = store.enroll(100_000).await;
    let rider_at = geo::destination(STORE_AT, 90.0, 100.0);
    let (lat, lon) = (rider_at.lat.to_string(), rider_at.lon.to_string());
    let broker_url = store.broker.url();
    let _rider = Process::omo(
        "rider",
        &[
            "rider",
            "--id",
            "rider-fast",
            "--mqtt",
            &broker_url,
            "--lat",
            &lat,
            "--lon",
            &lon,
            "--speed",
            "400",
        ],
        store.dir.path(),
    );

    let near = geo::destination(STORE_AT, 30.0, 600.0);
    let placed = store
        .shopper()
        .await
        .place_delivery_order(wallet.request(PlaceDeliveryOrderRequest {
            wallet_id: wallet.wallet_id.clone(),
            store_id: STORE.into(),
            order_id: "app-door".into(),
            lines: vec![DeliveryLine {
                gtin: PEN.into(),
                quantity: 1,
                ..Default::default()
            }],
            purchase_order_id: String::new(),
            dropoff: Some(Dropoff {
                lat: near.lat,
                lon: near.lon,
                address: "1 Door Road".into(),
            }),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(placed.status, "PLACED", "{placed:?}");

    // The rider takes it, rides, hands it over; the cloud follows each step.
    let delivered = eventually(WAIT, "the cloud's order DELIVERED", || async {
        let order = order(&store, &wallet, "app-door").await;
        (order.status == "DELIVERED").then_some(order)
    })
    .await;
    assert_eq!(delivered.rider_id, "rider-fast", "{delivered:?}");
    let eta = chrono::DateTime::parse_from_rfc3339(&delivered.eta)
        .unwrap_or_else(|e| panic!("an ETA ({e}): {delivered:?}"));
    let promised = chrono::DateTime::parse_from_rfc3339(&delivered.promised_by).unwrap();
    assert!(
        eta <= promised,
        "the ETA is within the promise: {delivered:?}"
    );
    let picked = chrono::DateTime::parse_from_rfc3339(&delivered.picked_up_at).unwrap();
    let at_door = chrono::DateTime::parse_from_rfc3339(&delivered.delivered_at).unwrap();
    assert!(picked <= at_door, "{delivered:?}");

    // The same, as the app's command line prints it.
    let wallets = store.dir.path().join("wallets.json");
    std::fs::write(
        &wallets,
        serde_json::json!({ wallet.wallet_id.clone(): {
            "wallet_id": wallet.wallet_id,
            "secret_base32": data_encoding::BASE32_NOPAD.encode(&wallet.secret),
            "display_name": "t" } })
        .to_string(),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_omo"))
        .args([
            "shopper",
            "delivery",
            &wallet.wallet_id,
            "app-door",
            "--cloud",
            &format!("http://127.0.0.1:{}", store.grpc_port),
            "--wallets",
            wallets.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["status"], "DELIVERED");
    assert_eq!(shown["rider_id"], "rider-fast");
    assert_eq!(shown["eta"], delivered.eta);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_clouds_delivery_order_follows_its_rider_to_the_door() {
    the_clouds_delivery_order_follows_its_rider_to_the_door_on(BrokerKind::Mosquitto).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_clouds_delivery_order_follows_its_rider_to_the_door_on_the_embedded_broker() {
    the_clouds_delivery_order_follows_its_rider_to_the_door_on(BrokerKind::Embedded).await;
}
