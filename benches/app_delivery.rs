//! Benchmark: home delivery ordered in the app (`cargo bench --bench app_delivery`).
//!
//! Runs a real store (mosquitto, `omo cloud`, `omo edge`, release build) and places app orders
//! through the cloud's shopper service over gRPC. Measures:
//! - the PlaceDeliveryOrder call (price from the catalog, charge the wallet, record the order:
//!   one database transaction), p50/p99, one caller;
//! - from the call's answer to the store's edge accepting the order (the cloud's relay publishes
//!   the request, the edge places it in SQLite with its outbox message, which reaches the broker
//!   on `omo/v1/stores/{store}/delivery/orders`), p50/p99, one caller;
//! - orders per second end to end with 16 callers at once (placed until all accepted).
//!
//! Under `cargo test --all-targets` it only checks that it starts (pass `--bench` to measure).

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use omo_proto::shopper::{DeliveryLine, Dropoff, PlaceDeliveryOrderRequest};
use omo_proto::store::NearbyStoresRequest;
use omo_proto::store::store_directory_client::StoreDirectoryClient;
use support::BrokerKind;
use support::store::{STORE, TestStore, TestWallet};
use tokio::sync::mpsc;

const SEQUENTIAL: usize = 200;
const CALLERS: usize = 16;
const PER_CALLER: usize = 50;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "app_delivery benchmark: pass --bench to run it (cargo bench --bench app_delivery)"
        );
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

fn order(wallet: &TestWallet, id: &str) -> tonic::Request<PlaceDeliveryOrderRequest> {
    wallet.request(PlaceDeliveryOrderRequest {
        wallet_id: wallet.wallet_id.clone(),
        store_id: STORE.into(),
        order_id: id.into(),
        lines: vec![DeliveryLine {
            gtin: "5901234123457".into(),
            quantity: 1,
            ..Default::default()
        }],
        purchase_order_id: String::new(),
        dropoff: Some(Dropoff {
            lat: 31.2400,
            lon: 121.4800,
            address: "1 Bench Road".into(),
        }),
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

async fn run() {
    let mut store = TestStore::start(BrokerKind::Mosquitto, 0).await;
    let mut accepted = store
        .listen(&format!("omo/v1/stores/{STORE}/delivery/orders"))
        .await;
    store.start_edge().await;
    let cloud = format!("http://127.0.0.1:{}", store.grpc_port);
    let mut directory = StoreDirectoryClient::connect(cloud).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let known = directory
            .nearby_stores(NearbyStoresRequest {
                lat: 31.24,
                lon: 121.48,
                limit: 1,
            })
            .await
            .map(|r| !r.into_inner().stores.is_empty())
            .unwrap_or(false);
        if known {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the edge never announced its store"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // One caller: the call, then the store's acceptance.
    let wallet = store.enroll(100_000_000).await;
    let mut shopper = store.shopper().await;
    let (mut calls, mut acceptances) = (Vec::new(), Vec::new());
    for n in 0..SEQUENTIAL {
        let id = format!("seq-{n}");
        let started = Instant::now();
        let placed = shopper
            .place_delivery_order(order(&wallet, &id))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(placed.status, "PLACED");
        let answered = Instant::now();
        calls.push(answered - started);
        accepted
            .wait_for(Duration::from_secs(30), "the store's acceptance", |_, v| {
                v["order_id"] == id.as_str()
            })
            .await;
        acceptances.push(answered.elapsed());
    }
    calls.sort();
    acceptances.sort();

    // Sixteen callers at once, until every order is accepted.
    let wallets: Vec<TestWallet> = {
        let mut w = Vec::new();
        for _ in 0..CALLERS {
            w.push(store.enroll(100_000_000).await);
        }
        w
    };
    let (seen_tx, mut seen) = mpsc::unbounded_channel::<String>();
    let watcher = tokio::spawn(async move {
        while let Some((_, v)) = accepted.messages.recv().await {
            if let Some(id) = v["order_id"].as_str() {
                let _ = seen_tx.send(id.to_string());
            }
        }
    });
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (c, wallet) in wallets.into_iter().enumerate() {
        let mut shopper = store.shopper().await;
        tasks.push(tokio::spawn(async move {
            for n in 0..PER_CALLER {
                let placed = shopper
                    .place_delivery_order(order(&wallet, &format!("par-{c}-{n}")))
                    .await
                    .unwrap()
                    .into_inner();
                assert_eq!(placed.status, "PLACED");
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let placed_in = started.elapsed();
    let total = CALLERS * PER_CALLER;
    let mut got: HashMap<String, ()> = HashMap::new();
    while got.len() < total {
        let Ok(Some(id)) = tokio::time::timeout(Duration::from_secs(60), seen.recv()).await else {
            panic!("only {} of {total} orders accepted within 60 s", got.len());
        };
        if id.starts_with("par-") {
            got.insert(id, ());
        }
    }
    let all_in = started.elapsed();
    watcher.abort();

    println!(
        "app delivery orders, release build, mosquitto, SQLite cloud and edge on this machine"
    );
    println!(
        "  PlaceDeliveryOrder, 1 caller, {SEQUENTIAL} orders: p50 {}, p99 {}",
        ms(percentile(&calls, 0.5)),
        ms(percentile(&calls, 0.99))
    );
    println!(
        "  answer -> accepted by the store's edge (on delivery/orders): p50 {}, p99 {}",
        ms(percentile(&acceptances, 0.5)),
        ms(percentile(&acceptances, 0.99))
    );
    println!(
        "  {CALLERS} callers x {PER_CALLER}: {total} placed in {:.2} s ({:.0}/s), all accepted by the store in {:.2} s ({:.0} orders/s end to end)",
        placed_in.as_secs_f64(),
        total as f64 / placed_in.as_secs_f64(),
        all_in.as_secs_f64(),
        total as f64 / all_in.as_secs_f64()
    );
}
