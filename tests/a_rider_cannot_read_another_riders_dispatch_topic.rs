//! With the shipped mosquitto ACL, rider A subscribing to rider B's dispatch topic receives none
//! of B's assignments (mosquitto 2 grants the SUBACK and delivers nothing), while each rider gets
//! its own; an edge cannot write another store's topics, nor a rider another rider's events.

#[path = "support/delivery.rs"]
mod delivery;
mod support;

use std::time::Duration;

use delivery::{AclBroker, Client};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn a_rider_cannot_read_another_riders_dispatch_topic() {
    let dir = tempfile::tempdir().unwrap();
    let broker = AclBroker::start(dir.path()).await;

    let mut a = Client::connect(
        broker.port,
        "rider-a",
        &[
            "omo/v1/riders/rider-a/dispatch",
            "omo/v1/riders/rider-b/dispatch",
            "omo/v1/riders/+/dispatch",
        ],
    )
    .await;
    let mut b = Client::connect(broker.port, "rider-b", &["omo/v1/riders/rider-b/dispatch"]).await;
    let mut observer = Client::connect(broker.port, "observer", &["omo/v1/#"]).await;
    let edge = Client::connect(broker.port, "edge-SH-001", &[]).await;

    edge.publish(
        "omo/v1/riders/rider-b/dispatch",
        &json!({"id": "m-b", "order_id": "for-b"}),
    )
    .await;
    edge.publish(
        "omo/v1/riders/rider-a/dispatch",
        &json!({"id": "m-a", "order_id": "for-a"}),
    )
    .await;
    // Not allowed: another store's topic, and rider A speaking as rider B.
    edge.publish(
        "omo/v1/stores/SH-002/delivery/orders",
        &json!({"id": "m-x"}),
    )
    .await;
    a.publish(
        "omo/v1/riders/rider-b/events",
        &json!({"id": "m-spoof", "rider_id": "rider-b", "event": "accepted", "order_id": "for-b"}),
    )
    .await;
    a.publish("omo/v1/riders/rider-a/events", &json!({"id": "m-own", "rider_id": "rider-a", "event": "location", "lat": 31.23, "lon": 121.47})).await;

    b.wait_for(Duration::from_secs(5), "B's own assignment", |_, v| {
        v["id"] == "m-b"
    })
    .await;
    let got_a = a.drain(Duration::from_secs(2)).await;
    let ids: Vec<_> = got_a.iter().map(|(_, v)| v["id"].clone()).collect();
    assert!(
        ids.contains(&json!("m-a")),
        "A must get its own assignment: {got_a:?}"
    );
    assert!(
        !ids.contains(&json!("m-b")),
        "A read B's assignment: {got_a:?}"
    );

    let seen: Vec<_> = observer
        .drain(Duration::from_secs(1))
        .await
        .into_iter()
        .map(|(_, v)| v["id"].clone())
        .collect();
    assert!(seen.contains(&json!("m-own")), "{seen:?}");
    assert!(
        !seen.contains(&json!("m-x")),
        "the edge wrote another store's topic: {seen:?}"
    );
    assert!(
        !seen.contains(&json!("m-spoof")),
        "rider A wrote rider B's events: {seen:?}"
    );
}
