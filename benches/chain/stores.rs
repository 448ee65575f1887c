//! The simulated stores' edges: each announces its store, answers the orders the cloud forwards
//! (acceptance on `delivery/orders`, then its rider's progress on `delivery/progress`, in the
//! payloads of the real edge) and publishes EPCIS receiving events on its trace topic; one MQTT
//! client per store.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use omo_edge::delivery::geo::{self, Position};
use omo_proto::store::StoreProfile;
use omo_proto::store::store_directory_client::StoreDirectoryClient;
use rumqttc::{AsyncClient, Event, MqttOptions, NetworkOptions, Packet, QoS};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tonic::transport::Channel;

use crate::report::Work;
use crate::{STORES, TRACE_WINDOW};

/// A store's id: `BENCH-001`...
pub fn store_id(k: usize) -> String {
    format!("BENCH-{:03}", k + 1)
}

/// Where store `k` is: a grid 5.5 km apart around Shanghai.
fn position(k: usize) -> Position {
    Position::new(
        31.0 + (k / 10) as f64 * 0.05,
        121.2 + (k % 10) as f64 * 0.05,
    )
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A running simulated store.
pub struct Store {
    pub id: String,
    pub at: Position,
    /// Its edge's MQTT client (publishes its answers and its trace events).
    pub client: AsyncClient,
}

/// Announces every store (as its edge does at start) and connects its simulated edge.
pub async fn start_all(port: u16, cloud: &Channel, work: Arc<Work>) -> Vec<Store> {
    let mut directory = StoreDirectoryClient::new(cloud.clone());
    let mut stores = Vec::new();
    for k in 0..STORES {
        let (id, at) = (store_id(k), position(k));
        directory
            .announce(StoreProfile {
                store_id: id.clone(),
                name: format!("Bench store {}", k + 1),
                lat: at.lat,
                lon: at.lon,
                delivery_radius_m: 3_000,
                announced_at: String::new(),
            })
            .await
            .expect("the cloud records the store's profile");
        stores.push(edge(id, at, port, work.clone()).await);
    }
    stores
}

/// Connects store `id`'s edge and starts answering its delivery requests; returns once it is
/// subscribed.
async fn edge(id: String, at: Position, port: u16, work: Arc<Work>) -> Store {
    let mut options = MqttOptions::new(format!("edge-{id}"), "127.0.0.1", port);
    options.set_max_packet_size(1 << 20, 1 << 20);
    options.set_inflight(100);
    options.set_keep_alive(Duration::from_secs(30));
    let (client, mut eventloop) = AsyncClient::new(options, 1_000);
    let mut network = NetworkOptions::new();
    network.set_tcp_nodelay(true);
    eventloop.set_network_options(network);
    let requests = format!("omo/v1/stores/{id}/delivery/requests");
    let (subscribed, ready) = oneshot::channel();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let subscriber = client.clone();
    tokio::spawn(async move {
        let mut subscribed = Some(subscribed);
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    let _ = subscriber.try_subscribe(&requests, QoS::AtLeastOnce);
                }
                Ok(Event::Incoming(Packet::SubAck(_))) => {
                    if let Some(done) = subscribed.take() {
                        let _ = done.send(());
                    }
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    if tx.send(p.payload).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    });
    let answers = client.clone();
    let store = id.clone();
    tokio::spawn(async move {
        while let Some(payload) = rx.recv().await {
            let request: Value = serde_json::from_slice(&payload).unwrap_or(Value::Null);
            answer(&answers, &store, at, &request, &work).await;
        }
    });
    tokio::time::timeout(Duration::from_secs(10), ready)
        .await
        .expect("the store's edge subscribed within 10 s")
        .unwrap();
    Store { id, at, client }
}

/// Accepts a forwarded order once (a repeat is only counted, as the real edge places an order
/// id once), then reports its rider accepting, picking up and delivering it.
async fn answer(client: &AsyncClient, store: &str, at: Position, request: &Value, work: &Work) {
    let Some(order_id) = request["order_id"].as_str() else {
        return;
    };
    {
        let mut forwards = work.forwards.lock().unwrap();
        let seen = forwards.entry(order_id.to_owned()).or_insert(0);
        *seen += 1;
        if *seen > 1 {
            return;
        }
    }
    if let Some(placed) = work.pending.lock().unwrap().get(order_id).copied() {
        let now = std::time::Instant::now();
        work.forwarded.lock().unwrap().push((now, now - placed));
    }
    let dropoff = &request["dropoff"];
    let to = Position::new(
        dropoff["lat"].as_f64().unwrap_or(0.0),
        dropoff["lon"].as_f64().unwrap_or(0.0),
    );
    let now = Utc::now();
    let accepted = json!({
        "id": uuid::Uuid::now_v7().to_string(),
        "order_id": order_id,
        "store_id": store,
        "items": request["items"],
        "dropoff": dropoff,
        "distance_m": (geo::distance_m(at, to) * 10.0).round() / 10.0,
        "accepted_at": rfc3339(now),
        "promised_by": rfc3339(now + chrono::Duration::minutes(30)),
    });
    let orders = format!("omo/v1/stores/{store}/delivery/orders");
    client
        .publish(orders, QoS::AtLeastOnce, false, accepted.to_string())
        .await
        .unwrap();
    let rider = format!(
        "rider-{store}-{}",
        order_id.bytes().map(u32::from).sum::<u32>() % 5 + 1
    );
    let progress = format!("omo/v1/stores/{store}/delivery/progress");
    for status in ["accepted", "picked_up", "delivered"] {
        let message = json!({
            "id": format!("progress-{order_id}-{status}-{rider}"),
            "type": "progress",
            "order_id": order_id,
            "store_id": store,
            "status": status,
            "rider_id": rider,
            "eta": rfc3339(now + chrono::Duration::minutes(20)),
            "at": rfc3339(Utc::now()),
        });
        client
            .publish(&progress, QoS::AtLeastOnce, false, message.to_string())
            .await
            .unwrap();
    }
}

/// `n` receiving events of lots of store `id`, as `omo trace import` makes them, as JSON.
pub fn trace_events(id: &str, n: usize) -> Vec<Vec<u8>> {
    let mut csv = String::from("gtin,lot,farm,harvest_date,certificates,temperatures\n");
    for i in 0..n {
        csv.push_str(&format!(
            "2000420000008,{id}-{i:05},Farm {i},2026-11-20,ASC,1.5;2.0\n"
        ));
    }
    let events = omo_edge::trace_import::events_from_file(&csv, id, Utc::now()).unwrap();
    assert_eq!(events.len(), n);
    events
        .iter()
        .map(|e| serde_json::to_vec(e).unwrap())
        .collect()
}

/// Publishes the store's trace events (QoS 1) while fewer than [`TRACE_WINDOW`] of the chain's
/// are published but not yet stored.
pub async fn publish_trace(client: AsyncClient, id: String, events: Vec<Vec<u8>>, work: Arc<Work>) {
    let topic = format!("omo/v1/stores/{id}/trace");
    for event in events {
        while work
            .trace_published
            .load(Relaxed)
            .saturating_sub(work.trace_stored.load(Relaxed))
            >= TRACE_WINDOW
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        work.trace_published.fetch_add(1, Relaxed);
        client
            .publish(&topic, QoS::AtLeastOnce, false, event)
            .await
            .unwrap();
    }
}
