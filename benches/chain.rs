//! Benchmark: a chain's load on two cloud processes, one of them killed halfway
//! (`cargo bench --bench chain`).
//!
//! One process simulates [`STORES`] stores (`BENCH-001`..) against two `omo cloud` processes
//! (release build) on one PostgreSQL (a server of its own, started as the cloud tests start it:
//! `fsync=off`) and mosquitto 2.0 from apt. Both clouds are in one share group (a random name,
//! kept secret as a group must be), each with its own `mqtt_client_id`, and plain: no TLS and no
//! store tokens (any caller may act for any store); the test funding authority tops the wallets
//! up. Each store has
//! - [`LANES`] lanes paying in a loop with Authorize over gRPC (a payment code per payment, the
//!   store's own connection to each cloud). The lanes alternate between the clouds as a load
//!   balancer would; a call that fails in transport is sent again, the same order and code, to
//!   the other cloud, which is avoided from then on;
//! - a simulated edge, one MQTT client: it answers each order the cloud forwards on
//!   `delivery/requests` with its acceptance on `delivery/orders` and then, as its rider, with
//!   `delivery/progress` (accepted, picked up, delivered), in the real edge's payloads; and it
//!   publishes EPCIS receiving events on its trace topic.
//!
//! [`SHOPPERS`] shoppers place app orders (PlaceDeliveryOrder) at either cloud for the stores,
//! which announced their position (StoreDirectory.Announce, as an edge does at start). A payment
//! code works once per wallet and 30 s step, so the lanes take wallets from a pool of
//! [`WALLETS`], each used at most once per step (a lane waits for the next step if none is left;
//! the run reports how often). Trace events and app orders are kept within a window of work
//! published but not yet done ([`TRACE_WINDOW`], [`ORDER_WINDOW`]), so they flow through the
//! whole run instead of queueing in the broker at the start.
//!
//! The work is fixed ([`PAYMENTS`], [`APP_ORDERS`], [`TRACE_EVENTS`]), sized so that on the
//! build machine (2 cores) each kind is about half done at the same time: the 200 lanes take most
//! of the machine, while the trace store and the delivery relay handle one message at a time per
//! process. Once half the work is done (each kind counting alike), cloud 2 is SIGKILLed and cloud
//! 1 finishes alone (on mosquitto it adopts the dead process's MQTT sessions after about 15-20 s),
//! so each kind has work in flight at the kill. It prints a Markdown table for the phase with
//! both clouds and the phase after the kill: payments/s with Authorize p50/p99; app orders/s end
//! to end (placed until the cloud recorded the store's acceptance, polled in PostgreSQL every
//! 50 ms); trace events/s end to end (published until stored in `trace_events`); and two
//! ceilings measured in the same run before the load: a no-op gRPC call (the health check) and
//! raw mosquitto QoS 1 publishes. Then it checks, and panics otherwise: each payment decided once
//! (one row per order, one code step spent per payment), each wallet's balance = funded - what
//! the bench saw charged, each trace event stored once, each app order accepted once, charged
//! once and delivered, and the ledger balanced.
//!
//! Under `cargo test --all-targets` it only prints a line (pass `--bench` to run it).

#[path = "../cloud/tests/support/postgres.rs"]
mod postgres;
#[path = "../tests/support/mod.rs"]
mod support;

#[path = "chain/load.rs"]
mod load;
#[path = "chain/report.rs"]
mod report;
#[path = "chain/stores.rs"]
mod stores;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use omo_proto::payment::payment_service_client::PaymentServiceClient;
use omo_proto::shopper::shopper_service_client::ShopperServiceClient;
use report::Work;
use support::{Broker, BrokerKind, Process, free_port, metric as counter, wait_for_port};
use tonic::transport::Channel;

/// Simulated stores, and lanes per store.
const STORES: usize = 50;
const LANES: usize = 4;
/// The fixed work of a run.
const PAYMENTS: usize = 70_000;
const APP_ORDERS: usize = 600;
const TRACE_EVENTS: usize = 3_500;
/// Wallets the lanes pay with (each once per 30 s step), and shoppers placing app orders.
const WALLETS: usize = 40_000;
const SHOPPERS: usize = 20;
/// Most trace events published but not yet stored, and app orders placed but not yet accepted.
const TRACE_WINDOW: usize = 1_000;
const ORDER_WINDOW: usize = 100;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("chain benchmark: pass --bench to run it (cargo bench --bench chain)");
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

/// One `omo cloud` process of the chain.
struct Cloud {
    process: Process,
    grpc: u16,
    http: u16,
}

impl Cloud {
    async fn start(dir: &Path, n: u32, database_url: &str, mqtt: u16, group: &str) -> Cloud {
        let (grpc, http) = (free_port(), free_port());
        let config = dir.join(format!("cloud-{n}.toml"));
        std::fs::write(
            &config,
            format!(
                "grpc_listen = \"127.0.0.1:{grpc}\"\nhttp_listen = \"127.0.0.1:{http}\"\n\
                 database_url = \"{database_url}\"\ndatabase_max_connections = 32\n\
                 mqtt_url = \"mqtt://127.0.0.1:{mqtt}\"\nmqtt_client_id = \"omo-cloud-{n}\"\n\
                 mqtt_share_group = \"{group}\"\n{}",
                support::funding_toml()
            ),
        )
        .unwrap();
        let process = Process::omo(
            &format!("cloud-{n}"),
            &["cloud", "--config", config.to_str().unwrap()],
            dir,
        );
        wait_for_port(grpc, &format!("cloud {n}"), Some(&process)).await;
        wait_for_port(http, &format!("cloud {n}"), Some(&process)).await;
        Cloud {
            process,
            grpc,
            http,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.grpc)
    }
}

/// `omo catalog import` of the test catalog, as a store's operator runs it.
async fn import_catalog(dir: &Path, cloud_url: &str) {
    let csv = dir.join("catalog.csv");
    std::fs::write(&csv, support::store::CATALOG_CSV).unwrap();
    let import = tokio::process::Command::new(env!("CARGO_BIN_EXE_omo"))
        .args([
            "catalog",
            "import",
            csv.to_str().unwrap(),
            "--cloud",
            cloud_url,
        ])
        .output()
        .await
        .unwrap();
    assert!(
        import.status.success(),
        "omo catalog import failed: {}",
        String::from_utf8_lossy(&import.stderr)
    );
}

async fn connect(url: &str) -> Channel {
    Channel::from_shared(url.to_owned())
        .unwrap()
        .connect()
        .await
        .unwrap()
}

async fn run() {
    let started = Instant::now();
    assert!(
        postgres::available(),
        "this benchmark needs PostgreSQL's server binaries (apt postgresql)"
    );
    let url = postgres::fresh_database().await;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(&url)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(BrokerKind::Mosquitto, dir.path()).await;
    let group = format!("omo-cloud-{}", uuid::Uuid::new_v4().simple());
    let survivor = Cloud::start(dir.path(), 1, &url, broker.port, &group).await;
    let mut victim = Cloud::start(dir.path(), 2, &url, broker.port, &group).await;
    import_catalog(dir.path(), &survivor.url()).await;
    let channels = [connect(&survivor.url()).await, connect(&victim.url()).await];

    // Both clouds' MQTT sessions (trace and delivery) are in the group before any work.
    support::eventually(
        Duration::from_secs(30),
        "both clouds in the share group",
        || {
            let pool = pool.clone();
            async move {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mqtt_members")
                    .fetch_one(&pool)
                    .await
                    .unwrap_or(0);
                (n == 4).then_some(())
            }
        },
    )
    .await;

    let work = Arc::new(Work::default());
    let setup = Instant::now();
    let stores = stores::start_all(broker.port, &channels[0], work.clone()).await;
    let lane_wallets = load::enroll(&channels, WALLETS, 1_000_000).await;
    let app_wallets = load::enroll(&channels, SHOPPERS, 100_000_000).await;
    let events: Vec<Vec<Vec<u8>>> = stores
        .iter()
        .map(|s| stores::trace_events(&s.id, TRACE_EVENTS / STORES))
        .collect();
    let setup = setup.elapsed();
    let health = report::health_rate(channels[0].clone()).await;
    let mosquitto = report::mosquitto_rate(broker.port, &events[0][0]).await;

    // Each store's own connection to each cloud, for its lanes.
    let mut store_channels = Vec::new();
    for _ in &stores {
        store_channels.push([connect(&survivor.url()).await, connect(&victim.url()).await]);
    }

    // The load: lanes, shoppers and the stores' trace events at once.
    work.t0.set(Instant::now()).unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let monitor = tokio::spawn(report::monitor(pool.clone(), work.clone(), stop.clone()));
    let wallets = Arc::new(load::Pool::new(lane_wallets.clone()));
    let mut tasks = Vec::new();
    for (k, (store, events)) in stores.iter().zip(events).enumerate() {
        for lane in 0..LANES {
            let clients = store_channels[k].clone().map(PaymentServiceClient::new);
            let (wallets, work, id) = (wallets.clone(), work.clone(), store.id.clone());
            tasks.push(tokio::spawn(load::lane(
                id,
                k * LANES + lane,
                clients,
                wallets,
                work,
            )));
        }
        let (client, id, work) = (store.client.clone(), store.id.clone(), work.clone());
        tasks.push(tokio::spawn(stores::publish_trace(
            client, id, events, work,
        )));
    }
    let places = Arc::new(stores.iter().map(|s| s.at).collect::<Vec<_>>());
    for (k, wallet) in app_wallets.iter().enumerate() {
        let clients = channels.clone().map(ShopperServiceClient::new);
        let (wallet, places, work) = (wallet.clone(), places.clone(), work.clone());
        tasks.push(tokio::spawn(load::shopper(
            k, wallet, clients, places, work,
        )));
    }

    // Half of every kind of work done: cloud 2 dies.
    let deadline = Instant::now() + Duration::from_secs(300);
    while !work.half_done() {
        assert!(Instant::now() < deadline, "half the work not done in 300 s");
        victim.process.assert_running();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    victim.process.kill();
    let killed = Instant::now();
    work.kill.set(killed).unwrap();
    let http = survivor.http;
    let adoption = tokio::spawn(async move {
        loop {
            let taken = counter(http, "omo_cloud_mqtt_adopted_messages_total").await;
            if taken.unwrap_or(0) > 0 {
                return Instant::now();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });

    for task in tasks {
        task.await.unwrap();
    }
    // Every event stored and every order delivered, or the checks below say what is missing.
    let delivered =
        "SELECT COUNT(*) FROM delivery_orders WHERE source = 'app' AND status = 'DELIVERED'";
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let n: i64 = sqlx::query_scalar(delivered)
            .fetch_one(&pool)
            .await
            .unwrap();
        if work.trace_stored.load(Relaxed) == TRACE_EVENTS
            && work.orders_accepted.load(Relaxed) == APP_ORDERS
            && n == APP_ORDERS as i64
        {
            break;
        }
        if Instant::now() > deadline {
            println!(
                "
**The work was not done 120 s after the last call; see the checks.**"
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Relaxed);
    monitor.await.unwrap();
    let adopted_at = tokio::time::timeout(Duration::from_secs(1), adoption).await;
    survivor.process.assert_running();

    println!(
        "\n{STORES} stores x {LANES} lanes, {SHOPPERS} shoppers; two `omo cloud` processes (release) \
         on one PostgreSQL ({} wallets; setup {:.1} s), mosquitto 2.0, all on this machine; cloud 2 \
         SIGKILLed at +{:.1} s\n",
        WALLETS + SHOPPERS,
        setup.as_secs_f64(),
        (killed - *work.t0.get().unwrap()).as_secs_f64()
    );
    report::table(&work, health, mosquitto);
    // A drain ends 1.5 s after the last message it took (both sessions, trace and delivery).
    let mut sessions = None;
    for _ in 0..50 {
        sessions = counter(survivor.http, "omo_cloud_mqtt_sessions_adopted_total").await;
        if sessions >= Some(2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let adopted = counter(survivor.http, "omo_cloud_mqtt_adopted_messages_total").await;
    let replays = counter(survivor.http, "omo_cloud_authorize_replays_total").await;
    match adopted_at {
        Ok(Ok(at)) => println!(
            "- the survivor took its first message from the dead process's sessions {:.1} s after \
             the kill; it drained {} sessions and took {} messages from them",
            (at - killed).as_secs_f64(),
            sessions.unwrap_or(0),
            adopted.unwrap_or(0)
        ),
        _ => println!("- the survivor took no message from the dead process's sessions"),
    }
    println!(
        "- sent again to the other cloud after a transport error: {} payments, {} app orders; \
         Authorize answered as a replay by the survivor: {}; lanes that waited for a wallet's next \
         code step: {}",
        work.pay_retries.load(Relaxed),
        work.order_retries.load(Relaxed),
        replays.unwrap_or(0),
        wallets.waits.load(Relaxed)
    );
    report::verify(&pool, &url, &work, &lane_wallets, &app_wallets).await;
    println!("\nrun time {:.1} s", started.elapsed().as_secs_f64());
    drop(stores);
    drop(broker);
}
