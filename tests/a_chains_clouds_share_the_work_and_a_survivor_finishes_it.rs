//! A chain's two cloud processes share a store's work, and when one dies the other finishes it.
//! Two `omo cloud` processes on one real PostgreSQL, both in the share group `omo-cloud` (each
//! its own `mqtt_client_id`), a broker, and the store's real `omo edge`:
//! - 20 app orders placed at either cloud while both run are each forwarded to the store exactly
//!   once (the forward is claimed in the database), accepted by the edge and answered to the
//!   group;
//! - then 2,000 EPCIS events arrive on the store's trace topic and 180 more app orders are
//!   placed; the second process is SIGKILLed halfway and not restarted;
//! - the survivor finishes the work: every event is stored once (`trace_events` holds 2,000
//!   rows), every order is ACCEPTED, charged once (the wallet is down by exactly 200 orders), and
//!   placed once at the edge. On mosquitto 2.0, which keeps routing the dead process's share to
//!   its offline session, the survivor adopts that session (it connects as the dead member,
//!   handles what waits there and takes it out of the group): the test sees it take messages
//!   from there. The embedded broker hands them over at once. Once the dead member's sessions
//!   are drained and out of the group, 100 more events all go to the survivor.

#[path = "../cloud/tests/support/postgres.rs"]
mod postgres;
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use omo_edge::delivery::geo::{self, Position};
use omo_proto::shopper::shopper_service_client::ShopperServiceClient;
use omo_proto::shopper::{DeliveryLine, Dropoff, PlaceDeliveryOrderRequest};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use support::store::{CloudSetup, STORE, TestStore, TestWallet};
use support::{BrokerKind, eventually};
use tonic::transport::Channel;

const EVENTS: usize = 2_000;
const ORDERS: usize = 200;
const WARM_UP: usize = 20;
const MILK: &str = "5901234123457";
const MILK_FEN: i64 = 1290;
const STORE_AT: Position = Position {
    lat: 31.2304,
    lon: 121.4737,
};

fn order(wallet: &TestWallet, n: usize) -> tonic::Request<PlaceDeliveryOrderRequest> {
    let at = geo::destination(STORE_AT, (n * 7 % 360) as f64, 1_200.0);
    wallet.request(PlaceDeliveryOrderRequest {
        wallet_id: wallet.wallet_id.clone(),
        store_id: STORE.into(),
        order_id: format!("chain-{n:03}"),
        lines: vec![DeliveryLine {
            gtin: MILK.into(),
            quantity: 1,
            ..Default::default()
        }],
        purchase_order_id: String::new(),
        dropoff: Some(Dropoff {
            lat: at.lat,
            lon: at.lon,
            address: format!("{n} Chain Road"),
        }),
    })
}

async fn place(shopper: &mut ShopperServiceClient<Channel>, wallet: &TestWallet, n: usize) {
    let placed = shopper
        .place_delivery_order(order(wallet, n))
        .await
        .unwrap_or_else(|e| panic!("order {n}: {e}"))
        .into_inner();
    assert_eq!(placed.status, "PLACED", "order {n}: {placed:?}");
}

/// A counter of `/metrics` on `http` (0 if the process does not answer).
async fn counter(http: u16, name: &str) -> u64 {
    support::metric(http, name).await.unwrap_or(0)
}

async fn scalar(pool: &sqlx::PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// The store's edge publishing on its trace topic (QoS 1, each acknowledged by the broker).
fn trace_publisher(port: u16) -> AsyncClient {
    let mut options = MqttOptions::new("chain-test-trace", "127.0.0.1", port);
    options.set_inflight(100);
    let (client, mut eventloop) = AsyncClient::new(options, 4_000);
    tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::Disconnect)) | Err(_) => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Ok(_) => {}
            }
        }
    });
    client
}

fn events() -> Vec<Vec<u8>> {
    let mut csv = String::from("gtin,lot,farm,harvest_date,certificates,temperatures\n");
    for n in 0..EVENTS {
        csv.push_str(&format!(
            "2000420000008,CHAIN-{n:05},Farm {n},2026-11-20,ASC,1.5;2.0\n"
        ));
    }
    let events = omo_edge::trace_import::events_from_file(&csv, STORE, chrono::Utc::now()).unwrap();
    assert_eq!(events.len(), EVENTS);
    events
        .iter()
        .map(|e| serde_json::to_vec(e).unwrap())
        .collect()
}

/// How many times each order was forwarded to the store so far.
fn forwards(requests: &mut support::Listener, seen: &mut BTreeMap<String, usize>) {
    while let Ok((_, request)) = requests.messages.try_recv() {
        let id = request["order_id"].as_str().unwrap_or_default().to_owned();
        *seen.entry(id).or_default() += 1;
    }
}

async fn chain(kind: BrokerKind) {
    assert!(
        postgres::available(),
        "this test needs PostgreSQL's server binaries (apt postgresql)"
    );
    let url = postgres::fresh_database().await;
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let setup = CloudSetup {
        database_url: Some(url.clone()),
        toml:
            "mqtt_client_id = \"omo-cloud-1\"\nmqtt_share_group = \"omo-cloud-5e0c31d9a7b24f68\"\n"
                .into(),
        ..CloudSetup::default()
    };
    let mut store = TestStore::start_with_cloud(kind, 1, "", setup).await;
    let (mut peer, peer_grpc, _peer_http) =
        store.start_peer_cloud("omo-cloud-1", "omo-cloud-2").await;
    let http = store.cloud_http_port;
    let mut requests = store
        .listen(&format!("omo/v1/stores/{STORE}/delivery/requests"))
        .await;
    store.start_edge().await;
    let funded = ORDERS as i64 * MILK_FEN + 5_000;
    let wallet = store.enroll(funded).await;
    let mut shoppers = [
        store.shopper().await,
        ShopperServiceClient::connect(format!("http://127.0.0.1:{peer_grpc}"))
            .await
            .unwrap(),
    ];

    // Both processes up: orders placed at either are each forwarded once and accepted.
    for n in 0..WARM_UP {
        place(&mut shoppers[n % 2], &wallet, n).await;
    }
    let accepted = "SELECT COUNT(*) FROM delivery_orders WHERE status = 'ACCEPTED'";
    eventually(
        Duration::from_secs(30),
        "the warm-up orders accepted",
        || {
            let pool = pool.clone();
            async move { (scalar(&pool, accepted).await == WARM_UP as i64).then_some(()) }
        },
    )
    .await;
    let mut seen = BTreeMap::new();
    forwards(&mut requests, &mut seen);
    assert_eq!(seen.len(), WARM_UP, "{seen:?}");
    assert!(
        seen.values().all(|&n| n == 1),
        "an order forwarded twice while both clouds ran: {seen:?}"
    );

    // The work, with the second process killed halfway.
    let trace = trace_publisher(store.broker.port);
    let topic = format!("omo/v1/stores/{STORE}/trace");
    let per_order = EVENTS / (ORDERS - WARM_UP) + 1;
    let mut next_order = WARM_UP;
    for (i, event) in events().into_iter().enumerate() {
        trace
            .publish(&topic, QoS::AtLeastOnce, false, event)
            .await
            .unwrap();
        if i == EVENTS / 2 {
            peer.kill();
        }
        if i % per_order == 0 && next_order < ORDERS {
            // A load balancer sends to whichever process is up.
            let at = if i < EVENTS / 2 { next_order % 2 } else { 0 };
            place(&mut shoppers[at], &wallet, next_order).await;
            next_order += 1;
        }
    }
    while next_order < ORDERS {
        place(&mut shoppers[0], &wallet, next_order).await;
        next_order += 1;
    }

    eventually(
        Duration::from_secs(120),
        "every event and order done",
        || {
            let pool = pool.clone();
            async move {
                let rows = scalar(&pool, "SELECT COUNT(*) FROM trace_events").await;
                let done = scalar(&pool, accepted).await;
                (rows == EVENTS as i64 && done == ORDERS as i64).then_some(())
            }
        },
    )
    .await;

    // Each event stored once, each order charged once and placed once at the edge.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        scalar(&pool, "SELECT COUNT(*) FROM trace_events").await,
        EVENTS as i64
    );
    assert_eq!(
        scalar(&pool, "SELECT COUNT(*) FROM delivery_orders").await,
        ORDERS as i64
    );
    assert_eq!(
        store.balance(&wallet).await,
        funded - ORDERS as i64 * MILK_FEN,
        "each order charged once"
    );
    let edge_db = store.dir.path().join("edge/edge.db");
    let edge = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", edge_db.display()))
        .await
        .unwrap();
    let at_edge: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM delivery_orders WHERE order_id LIKE 'chain-%'")
            .fetch_one(&edge)
            .await
            .unwrap();
    assert_eq!(at_edge, ORDERS as i64, "each order placed once at the edge");

    forwards(&mut requests, &mut seen);
    let resent = seen.values().filter(|&&n| n > 1).count();
    let stored_by_survivor = counter(http, "omo_cloud_trace_events_stored_total").await;
    let adopted = counter(http, "omo_cloud_mqtt_adopted_messages_total").await;
    eprintln!(
        "{kind:?}: {EVENTS} events and {ORDERS} orders done once each; the survivor stored \
         {stored_by_survivor} events and took {adopted} messages from the dead member's session; \
         {resent} orders forwarded again after the kill"
    );
    assert!(
        stored_by_survivor < EVENTS as u64,
        "the dead process stored none: the subscription was not shared"
    );
    if let BrokerKind::Mosquitto = kind {
        assert!(
            adopted > 0,
            "mosquitto kept the dead member's share; the survivor must have taken it"
        );
    }

    // Once the survivor has drained the dead member's trace and delivery sessions, they are out
    // of the group: every later message reaches the survivor at once.
    eventually(Duration::from_secs(60), "both sessions adopted", || async {
        (counter(http, "omo_cloud_mqtt_sessions_adopted_total").await >= 2).then_some(())
    })
    .await;
    let mut later = String::from("gtin,lot,farm,harvest_date,certificates,temperatures\n");
    for n in 0..100 {
        later.push_str(&format!(
            "2000420000008,LATER-{n:03},Farm,2026-11-20,ASC,1.5\n"
        ));
    }
    for event in
        omo_edge::trace_import::events_from_file(&later, STORE, chrono::Utc::now()).unwrap()
    {
        trace
            .publish(
                &topic,
                QoS::AtLeastOnce,
                false,
                serde_json::to_vec(&event).unwrap(),
            )
            .await
            .unwrap();
    }
    eventually(
        Duration::from_secs(20),
        "the later events stored by the survivor",
        || {
            let pool = pool.clone();
            async move {
                let rows = scalar(&pool, "SELECT COUNT(*) FROM trace_events").await;
                let by_survivor = counter(http, "omo_cloud_trace_events_stored_total").await;
                (rows == EVENTS as i64 + 100 && by_survivor == stored_by_survivor + 100)
                    .then_some(())
            }
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_chains_clouds_share_the_work_and_a_survivor_finishes_it_on_mosquitto() {
    chain(BrokerKind::Mosquitto).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_chains_clouds_share_the_work_and_a_survivor_finishes_it_on_the_embedded_broker() {
    chain(BrokerKind::Embedded).await;
}
