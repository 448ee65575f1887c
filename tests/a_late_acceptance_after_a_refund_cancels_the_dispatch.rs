//! A store that accepts an app order after the cloud refused and refunded it must not deliver it:
//! the goods would go out for free. Reproduced over real processes (mosquitto, `omo cloud`,
//! `omo edge`, `omo rider`): the store's edge is down longer than the cloud's answer time-out, so
//! the cloud refunds the order; the cloud is down when the edge comes back, takes the queued
//! order and dispatches a rider; when the cloud returns it reads the late acceptance, keeps the
//! order REFUSED and refunded, and publishes a cancellation; the edge cancels the dispatch and
//! the rider is told (`"type":"cancelled"` on its dispatch topic, printed by `omo rider`).

mod support;

use std::time::Duration;

use omo_edge::delivery::geo::{self, Position};
use omo_proto::shopper::{
    DeliveryLine, Dropoff, GetDeliveryOrderRequest, PlaceDeliveryOrderRequest,
};
use support::store::{CloudSetup, STORE, TestStore, TestWallet};
use support::{BrokerKind, Process, eventually};

const MILK: &str = "5901234123457";
const WAIT: Duration = Duration::from_secs(40);
const STORE_AT: Position = Position {
    lat: 31.2304,
    lon: 121.4737,
};

fn order(wallet: &TestWallet, id: &str) -> tonic::Request<PlaceDeliveryOrderRequest> {
    let at = geo::destination(STORE_AT, 30.0, 1_200.0);
    wallet.request(PlaceDeliveryOrderRequest {
        wallet_id: wallet.wallet_id.clone(),
        store_id: STORE.into(),
        order_id: id.into(),
        lines: vec![DeliveryLine {
            gtin: MILK.into(),
            quantity: 1,
            ..Default::default()
        }],
        purchase_order_id: String::new(),
        dropoff: Some(Dropoff {
            lat: at.lat,
            lon: at.lon,
            address: format!("{id} Test Road"),
        }),
    })
}

async fn status_of(store: &TestStore, wallet: &TestWallet, id: &str) -> String {
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
        .status
}

#[tokio::test(flavor = "multi_thread")]
async fn a_late_acceptance_after_a_refund_cancels_the_dispatch() {
    let setup = CloudSetup {
        toml: "delivery_answer_timeout_secs = 3\nsweep_interval_secs = 1\n".into(),
        ..CloudSetup::default()
    };
    let mut store = TestStore::start_with_cloud(BrokerKind::Mosquitto, 1, "", setup).await;
    let mut dispatch = store.listen("omo/v1/riders/+/dispatch").await;
    store.start_edge().await;
    let wallet = store.enroll(100_000).await;
    let rider_at = geo::destination(STORE_AT, 90.0, 300.0);
    let (lat, lon) = (rider_at.lat.to_string(), rider_at.lon.to_string());
    let broker_url = store.broker.url();
    let rider = Process::omo(
        "rider",
        &[
            "rider",
            "--id",
            "rider-late",
            "--mqtt",
            &broker_url,
            "--lat",
            &lat,
            "--lon",
            &lon,
            "--no-simulate",
        ],
        store.dir.path(),
    );

    // An ordinary order first: the cloud's and the edge's delivery sessions exist, and the rider
    // is known to the edge.
    let mut shopper = store.shopper().await;
    shopper
        .place_delivery_order(order(&wallet, "warm-up"))
        .await
        .unwrap();
    eventually(WAIT, "the warm-up order accepted", || async {
        (status_of(&store, &wallet, "warm-up").await == "ACCEPTED").then_some(())
    })
    .await;
    dispatch
        .wait_for(WAIT, "the warm-up offered to the rider", |_, v| {
            v["order_id"] == "warm-up"
        })
        .await;
    let before = store.balance(&wallet).await;

    // The edge goes down; the order waits for it past the cloud's answer time-out and is refunded.
    store.edge = None;
    shopper
        .place_delivery_order(order(&wallet, "late-1"))
        .await
        .unwrap();
    assert_eq!(store.balance(&wallet).await, before - 1290);
    eventually(
        WAIT,
        "the unanswered order refused and refunded",
        || async {
            let refused = status_of(&store, &wallet, "late-1").await == "REFUSED";
            (refused && store.balance(&wallet).await == before).then_some(())
        },
    )
    .await;

    // The cloud goes down; the edge comes back, takes the order it missed and dispatches it.
    store.kill_cloud();
    store.start_edge_offline().await;
    let (topic, offer) = dispatch
        .wait_for(WAIT, "the refunded order offered to the rider", |_, v| {
            v["order_id"] == "late-1" && v["type"] != "cancelled"
        })
        .await;
    assert_eq!(topic, "omo/v1/riders/rider-late/dispatch");
    assert_eq!(offer["store_id"], STORE);

    // The cloud returns, reads the late acceptance, and cancels: the rider is told.
    store.restart_cloud().await;
    let (topic, cancelled) = dispatch
        .wait_for(WAIT, "the rider told the order is cancelled", |_, v| {
            v["order_id"] == "late-1" && v["type"] == "cancelled"
        })
        .await;
    assert_eq!(topic, "omo/v1/riders/rider-late/dispatch");
    assert!(
        cancelled["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("refunded"),
        "{cancelled}"
    );
    eventually(WAIT, "the edge's order cancelled", || async {
        let at_edge = store.operator_json("/api/delivery/orders/late-1").await;
        (at_edge["status"] == "cancelled").then_some(())
    })
    .await;
    eventually(WAIT, "`omo rider` printed the cancellation", || async {
        let log = rider.log();
        log.lines()
            .any(|l| l.contains("\"cancelled\"") && l.contains("late-1"))
            .then_some(())
    })
    .await;
    // Still refused and refunded once; the warm-up stays accepted and paid.
    assert_eq!(status_of(&store, &wallet, "late-1").await, "REFUSED");
    assert_eq!(status_of(&store, &wallet, "warm-up").await, "ACCEPTED");
    assert_eq!(store.balance(&wallet).await, before);
}
