//! A chain's clouds share the stores' trace topics: two `omo cloud` processes on one PostgreSQL,
//! each with its own client id and both in the share group `omo-cloud`
//! (`$share/omo-cloud/omo/v1/stores/+/trace`). 2,000 EPCIS events arrive. Each process stores a
//! share of them, and together they store every event once (`trace_events` holds 2,000 rows). One
//! process is SIGKILLed while the events flow.
//!
//! On the embedded broker the survivor takes over what the dead one held and finishes the work
//! alone. On mosquitto 2.0 the dead process's share waits in its persistent session; here it is
//! restarted under the same client id, as a chain's supervisor does, and stores the rest. (Left
//! dead, its session is adopted by the survivor after 15 s instead:
//! tests/a_chains_clouds_share_the_work_and_a_survivor_finishes_it.rs.)

#[path = "../cloud/tests/support/postgres.rs"]
mod postgres;
mod support;

use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use support::{Broker, BrokerKind, Process, free_port, wait_for_port};

const EVENTS: usize = 2_000;
const STORE: &str = "SH-001";

/// One cloud process of the group, on `database_url`; its HTTP port (for `/metrics`).
async fn cloud(dir: &std::path::Path, n: u32, database_url: &str, mqtt: u16, http: u16) -> Process {
    let config = dir.join(format!("cloud-{n}.toml"));
    std::fs::write(
        &config,
        format!(
            "grpc_listen = \"127.0.0.1:{}\"\nhttp_listen = \"127.0.0.1:{http}\"\n\
             database_url = \"{database_url}\"\nmqtt_url = \"mqtt://127.0.0.1:{mqtt}\"\n\
             mqtt_client_id = \"omo-cloud-{n}\"\nmqtt_share_group = \"omo-cloud-5e0c31d9a7b24f68\"\n",
            free_port()
        ),
    )
    .unwrap();
    let process = Process::omo(
        &format!("cloud-{n}"),
        &["cloud", "--config", config.to_str().unwrap()],
        dir,
    );
    wait_for_port(http, &format!("cloud {n}"), Some(&process)).await;
    process
}

/// A counter of `/metrics` on `http` (0 if the process does not answer).
async fn counter(http: u16, name: &str) -> u64 {
    support::metric(http, name).await.unwrap_or(0)
}

async fn stored_rows(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM trace_events")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// The receiving events of `EVENTS` lots, as `omo trace import` makes them.
fn events() -> Vec<serde_json::Value> {
    let mut csv = String::from("gtin,lot,farm,harvest_date,certificates,temperatures\n");
    for n in 0..EVENTS {
        csv.push_str(&format!(
            "2000420000008,LOT-{n:05},Farm {n},2026-11-20,ASC,1.5;2.0\n"
        ));
    }
    let events = omo_edge::trace_import::events_from_file(&csv, STORE, chrono::Utc::now()).unwrap();
    assert_eq!(events.len(), EVENTS);
    events
}

async fn share(kind: BrokerKind) {
    assert!(
        postgres::available(),
        "this test needs PostgreSQL's server binaries (apt postgresql)"
    );
    let url = postgres::fresh_database().await;
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(kind, dir.path()).await;
    let (http_1, http_2) = (free_port(), free_port());
    let mut cloud_1 = cloud(dir.path(), 1, &url, broker.port, http_1).await;
    let _cloud_2 = cloud(dir.path(), 2, &url, broker.port, http_2).await;
    let stored = "omo_cloud_trace_events_stored_total";

    // The edge's side: QoS 1 publishes, each acknowledged by the broker.
    let mut options = MqttOptions::new("edge-SH-001", "127.0.0.1", broker.port);
    options.set_inflight(100);
    let (edge, mut edge_loop) = AsyncClient::new(options, 4_000);
    tokio::spawn(async move {
        loop {
            match edge_loop.poll().await {
                Ok(Event::Incoming(Packet::Disconnect)) | Err(_) => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Ok(_) => {}
            }
        }
    });
    let topic = format!("omo/v1/stores/{STORE}/trace");
    let events = events();

    // Warm up until both processes have stored an event: both are subscribed.
    let mut sent = 0;
    support::eventually(Duration::from_secs(30), "both clouds in the group", || {
        let (edge, topic, event) = (edge.clone(), topic.clone(), events[sent].clone());
        sent += 1;
        async move {
            edge.publish(
                topic,
                QoS::AtLeastOnce,
                false,
                serde_json::to_vec(&event).unwrap(),
            )
            .await
            .unwrap();
            tokio::time::sleep(Duration::from_millis(200)).await;
            (counter(http_1, stored).await > 0 && counter(http_2, stored).await > 0).then_some(())
        }
    })
    .await;

    // The rest, with cloud 1 killed a third of the way.
    for (i, event) in events.iter().enumerate().skip(sent) {
        edge.publish(
            &topic,
            QoS::AtLeastOnce,
            false,
            serde_json::to_vec(event).unwrap(),
        )
        .await
        .unwrap();
        if i == EVENTS / 3 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            cloud_1.kill();
        }
    }
    let mut restarted = None;
    if let BrokerKind::Mosquitto = kind {
        tokio::time::sleep(Duration::from_secs(1)).await;
        restarted = Some(cloud(dir.path(), 1, &url, broker.port, free_port()).await);
    }
    support::eventually(Duration::from_secs(60), "every event stored", || {
        let pool = pool.clone();
        async move { (stored_rows(&pool).await == EVENTS as i64).then_some(()) }
    })
    .await;
    let by_2 = counter(http_2, stored).await;
    assert!(
        by_2 > 0 && by_2 < EVENTS as u64,
        "{kind:?}: cloud 2 stored {by_2} of {EVENTS}: the subscription was not shared"
    );
    // Nothing more arrives later, and nothing is stored twice (the table's key is the event id).
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(stored_rows(&pool).await, EVENTS as i64);
    eprintln!(
        "{kind:?}: {EVENTS} events stored once; cloud 2 stored {by_2}, repeats it dropped: {}",
        counter(http_2, "omo_cloud_trace_events_repeated_total").await
    );
    drop(restarted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_clouds_share_the_trace_subscription_on_mosquitto() {
    share(BrokerKind::Mosquitto).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_clouds_share_the_trace_subscription_on_the_embedded_broker() {
    share(BrokerKind::Embedded).await;
}
