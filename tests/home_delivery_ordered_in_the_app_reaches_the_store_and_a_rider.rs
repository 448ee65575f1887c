//! Home delivery ordered in the shopper's app, from the cloud to the store's edge and a rider, all
//! separate processes over real gRPC and a real broker (mosquitto, and again the embedded one):
//! - the edge announces its store; the app finds it near the shopper;
//! - an app order 1.2 km away is priced from the catalog, paid once (a retry changes nothing),
//!   forwarded to the store, accepted with a 30-minute promise and dispatched to a rider;
//! - one 3.2 km away is refused with its distance and charges nothing;
//! - a basket paid at a lane is delivered home with the lane's lines, and only once;
//! - an order the store itself refuses is refunded in full.

mod support;

use std::time::Duration;

use omo_edge::delivery::geo::{self, Position};
use omo_proto::shopper::{
    DeliveryLine, DeliveryOrder, Dropoff, GetDeliveryOrderRequest, PlaceDeliveryOrderRequest,
};
use omo_proto::store::store_directory_client::StoreDirectoryClient;
use omo_proto::store::{NearbyStoresRequest, StoreProfile};
use support::store::{STORE, TestStore, TestWallet};
use support::{BrokerKind, Process, eventually};

const PEN: &str = "4006381333931";
const MILK: &str = "5901234123457";
const WAIT: Duration = Duration::from_secs(40);
const STORE_AT: Position = Position {
    lat: 31.2304,
    lon: 121.4737,
};

fn line(gtin: &str, quantity: u32) -> DeliveryLine {
    DeliveryLine {
        gtin: gtin.into(),
        quantity,
        ..Default::default()
    }
}

fn request(
    wallet: &TestWallet,
    order_id: &str,
    lines: Vec<DeliveryLine>,
    purchase: &str,
    at: Position,
) -> tonic::Request<PlaceDeliveryOrderRequest> {
    wallet.request(PlaceDeliveryOrderRequest {
        wallet_id: wallet.wallet_id.clone(),
        store_id: STORE.into(),
        order_id: order_id.into(),
        lines,
        purchase_order_id: purchase.into(),
        dropoff: Some(Dropoff {
            lat: at.lat,
            lon: at.lon,
            address: format!("{order_id} Test Road"),
        }),
    })
}

async fn order_in(store: &TestStore, wallet: &TestWallet, id: &str, status: &str) -> DeliveryOrder {
    eventually(WAIT, &format!("order {id} {status}"), || async {
        let order = store
            .shopper()
            .await
            .get_delivery_order(wallet.request(GetDeliveryOrderRequest {
                wallet_id: wallet.wallet_id.clone(),
                order_id: id.into(),
            }))
            .await
            .unwrap()
            .into_inner();
        (order.status == status).then_some(order)
    })
    .await
}

async fn home_delivery_ordered_in_the_app_reaches_the_store_and_a_rider_on(kind: BrokerKind) {
    let mut store = TestStore::start(kind, 1).await;
    let mut dispatch = store.listen("omo/v1/riders/+/dispatch").await;
    store.start_edge().await;
    let wallet = store.enroll(100_000).await;
    let rider_at = geo::destination(STORE_AT, 90.0, 300.0);
    let (lat, lon) = (rider_at.lat.to_string(), rider_at.lon.to_string());
    let broker_url = store.broker.url();
    let _rider = Process::omo(
        "rider",
        &[
            "rider",
            "--id",
            "rider-app",
            "--mqtt",
            &broker_url,
            "--lat",
            &lat,
            "--lon",
            &lon,
            "--speed",
            "300",
        ],
        store.dir.path(),
    );

    // The edge announced where its store is; the app finds it, and whether it delivers.
    let cloud = format!("http://127.0.0.1:{}", store.grpc_port);
    let mut directory = StoreDirectoryClient::connect(cloud.clone()).await.unwrap();
    let near = geo::destination(STORE_AT, 30.0, 1_200.0);
    let nearby = eventually(WAIT, "the store in the directory", || {
        let mut directory = directory.clone();
        async move {
            let stores = directory
                .nearby_stores(NearbyStoresRequest {
                    lat: near.lat,
                    lon: near.lon,
                    limit: 5,
                })
                .await
                .unwrap()
                .into_inner()
                .stores;
            (!stores.is_empty()).then_some(stores)
        }
    })
    .await;
    assert_eq!(nearby[0].store.as_ref().unwrap().store_id, STORE);
    assert_eq!(nearby[0].store.as_ref().unwrap().delivery_radius_m, 3000);
    assert!(nearby[0].delivers);
    assert!(
        (i64::from(nearby[0].distance_m) - 1_200).abs() <= 1,
        "{nearby:?}"
    );

    // An app order within 3 km: priced from the catalog, paid once.
    let mut shopper = store.shopper().await;
    let app_order = || {
        request(
            &wallet,
            "app-1",
            vec![line(PEN, 2), line(MILK, 1)],
            "",
            near,
        )
    };
    let placed = shopper
        .place_delivery_order(app_order())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(placed.status, "PLACED", "{placed:?}");
    assert_eq!(placed.amount_fen, 2 * 350 + 1290);
    assert_eq!(placed.lines[0].name, "Stabilo pen");
    assert_eq!(placed.lines[0].amount_fen, 700);
    let again = shopper
        .place_delivery_order(app_order())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.payment_id, placed.payment_id);
    assert_eq!(store.balance(&wallet).await, 100_000 - 1990);

    // Forwarded to the store, accepted with its promise, offered to the rider.
    let accepted = order_in(&store, &wallet, "app-1", "ACCEPTED").await;
    let promised = chrono::DateTime::parse_from_rfc3339(&accepted.promised_by).unwrap();
    let in_minutes = (promised.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_minutes();
    assert!((28..=30).contains(&in_minutes), "{accepted:?}");
    let at_edge = store.operator_json("/api/delivery/orders/app-1").await;
    assert_eq!(at_edge["items"].as_array().unwrap().len(), 2, "{at_edge}");
    assert_eq!(at_edge["dropoff"]["address"], "app-1 Test Road");
    let (topic, offer) = dispatch
        .wait_for(WAIT, "the app order offered to the rider", |_, v| {
            v["order_id"] == "app-1"
        })
        .await;
    assert_eq!(topic, "omo/v1/riders/rider-app/dispatch");
    assert_eq!(offer["store_id"], STORE);

    // 3.2 km away: refused with the distance, nothing charged or stored.
    let far = geo::destination(STORE_AT, 120.0, 3_200.0);
    let refused = shopper
        .place_delivery_order(request(&wallet, "app-far", vec![line(PEN, 1)], "", far))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(refused.status, "OUT_OF_RANGE");
    assert_eq!(refused.distance_m, 3_200);
    assert_eq!(refused.radius_m, 3_000);
    assert!(refused.refusal.contains("3200 m"), "{}", refused.refusal);
    assert_eq!(store.balance(&wallet).await, 100_000 - 1990);

    // A basket paid at the lane, delivered home with the lane's lines.
    let lane = &store.lanes[0];
    lane.scanner.scan(MILK).await.unwrap();
    lane.scale.set_weight(1030);
    eventually(WAIT, "the milk bagged", || async {
        let view = store.lane_view("1").await;
        let bagged = view["session"]["bagging"]["awaited"]
            .as_array()
            .is_some_and(|a| a.is_empty());
        (view["item_count"] == 1 && bagged).then_some(())
    })
    .await;
    lane.scanner.scan(&wallet.code()).await.unwrap();
    let purchase = eventually(WAIT, "the lane's receipt", || async {
        store
            .receipts(&wallet)
            .await
            .into_iter()
            .find(|r| r.status == "SUCCEEDED" && r.store_id == STORE && r.amount_fen == 1290)
    })
    .await;
    let placed = shopper
        .place_delivery_order(request(&wallet, "lane-1", vec![], &purchase.order_id, near))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(placed.status, "PLACED");
    assert_eq!(placed.amount_fen, 0, "paid at the lane already");
    order_in(&store, &wallet, "lane-1", "ACCEPTED").await;
    let at_edge = store.operator_json("/api/delivery/orders/lane-1").await;
    assert_eq!(at_edge["items"][0]["gtin"], "05901234123457", "{at_edge}");
    assert_eq!(at_edge["items"][0]["amount_fen"], 1290);
    let twice = shopper
        .place_delivery_order(request(&wallet, "lane-2", vec![], &purchase.order_id, near))
        .await
        .unwrap_err();
    assert_eq!(twice.code(), tonic::Code::AlreadyExists, "{twice:?}");
    let not_mine = store.enroll(1_000).await;
    let theft = shopper
        .place_delivery_order(request(
            &not_mine,
            "lane-3",
            vec![],
            &purchase.order_id,
            near,
        ))
        .await
        .unwrap_err();
    assert_eq!(theft.code(), tonic::Code::NotFound, "{theft:?}");

    // The store refuses what it cannot deliver (here: the directory says 5 km, the edge 3 km):
    // the app order is refunded in full.
    directory
        .announce(StoreProfile {
            store_id: STORE.into(),
            name: "wider than the edge".into(),
            lat: STORE_AT.lat,
            lon: STORE_AT.lon,
            delivery_radius_m: 5_000,
            announced_at: String::new(),
        })
        .await
        .unwrap();
    let before = store.balance(&wallet).await;
    let wide = geo::destination(STORE_AT, 200.0, 4_000.0);
    let placed = shopper
        .place_delivery_order(request(&wallet, "app-wide", vec![line(MILK, 1)], "", wide))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(placed.status, "PLACED");
    assert_eq!(store.balance(&wallet).await, before - 1290);
    let refused = order_in(&store, &wallet, "app-wide", "REFUSED").await;
    assert!(refused.refusal.contains("4000 m"), "{}", refused.refusal);
    eventually(WAIT, "the refused order refunded", || async {
        (store.balance(&wallet).await == before).then_some(())
    })
    .await;
    let receipt = store
        .receipts(&wallet)
        .await
        .into_iter()
        .find(|r| r.order_id == "delivery-app-wide")
        .unwrap();
    assert_eq!(receipt.refunded_fen, 1290);
}

#[tokio::test(flavor = "multi_thread")]
async fn home_delivery_ordered_in_the_app_reaches_the_store_and_a_rider() {
    home_delivery_ordered_in_the_app_reaches_the_store_and_a_rider_on(BrokerKind::Mosquitto).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn home_delivery_ordered_in_the_app_reaches_the_store_and_a_rider_on_the_embedded_broker() {
    home_delivery_ordered_in_the_app_reaches_the_store_and_a_rider_on(BrokerKind::Embedded).await;
}
