//! With the shipped mosquitto ACL, rider A subscribing to rider B's dispatch topic receives none
//! of B's assignments (mosquitto 2 grants the SUBACK and delivers nothing), while each rider gets
//! its own; an edge cannot write another store's topics, nor a rider another rider's events.

#[path = "support/delivery.rs"]
mod delivery;
mod support;

use delivery::AclBroker;

#[tokio::test(flavor = "multi_thread")]
async fn a_rider_cannot_read_another_riders_dispatch_topic() {
    let dir = tempfile::tempdir().unwrap();
    let broker = AclBroker::start(dir.path()).await;

    delivery::riders_and_edges_are_kept_apart(broker.port).await;
}
