//! The nearest rider is offered the order but never accepts: after the accept time-out the order
//! is offered to the next rider, who accepts it. On mosquitto with the shipped ACL, and on the
//! embedded broker with the same ACL.

#[path = "support/delivery.rs"]
mod delivery;
mod support;

use support::BrokerKind;

use std::time::Duration;

use delivery::{AclBroker, Client, Edge, RiderRun, STORE_AT};
use omo_edge::delivery::geo;
use serde_json::json;

async fn a_rider_who_does_not_accept_is_replaced_on(kind: BrokerKind) {
    // Read by the edge's dispatcher (a child process inherits it).
    unsafe { std::env::set_var("OMO_DELIVERY__ACCEPT_TIMEOUT_SECS", "2") };
    let dir = tempfile::tempdir().unwrap();
    let broker = AclBroker::start_kind(kind, dir.path()).await;
    let mut observer = Client::connect(broker.port, "observer", &["omo/v1/#"]).await;
    let (_edge, port) = Edge::start(dir.path(), &broker).await;
    let _sleepy = RiderRun::start(
        dir.path(),
        &broker,
        "sleepy",
        geo::destination(STORE_AT, 0.0, 100.0),
        false,
    );
    let _keen = RiderRun::start(
        dir.path(),
        &broker,
        "keen",
        geo::destination(STORE_AT, 180.0, 1_500.0),
        true,
    );
    let token = support::operator_token(&format!("http://127.0.0.1:{port}")).await;
    let token = token.as_str();
    support::eventually(
        Duration::from_secs(20),
        "both riders on the board",
        || async move {
            let board = support::get_json_with(
                &format!("http://127.0.0.1:{port}/api/delivery/board"),
                token,
            )
            .await;
            (board["riders"].as_array().map_or(0, |r| r.len()) == 2).then_some(())
        },
    )
    .await;

    let to = geo::destination(STORE_AT, 90.0, 1_000.0);
    let response = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/delivery/orders"))
        .bearer_auth(token)
        .json(&json!({"order_id": "o-1", "dropoff": {"lat": to.lat, "lon": to.lon, "address": "East 1"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);

    observer
        .wait_for(
            Duration::from_secs(20),
            "the offer to the nearest rider",
            |t, v| t == "omo/v1/riders/sleepy/dispatch" && v["order_id"] == "o-1",
        )
        .await;
    observer
        .wait_for(
            Duration::from_secs(20),
            "the offer to the next rider",
            |t, v| t == "omo/v1/riders/keen/dispatch" && v["order_id"] == "o-1",
        )
        .await;
    let view = support::eventually(
        Duration::from_secs(20),
        "the order with the keen rider",
        || async move {
            let view = support::get_json_with(
                &format!("http://127.0.0.1:{port}/api/delivery/orders/o-1"),
                token,
            )
            .await;
            (view["rider_id"] == "keen" && view["status"] != "offered").then_some(view)
        },
    )
    .await;
    assert_eq!(view["offers_lapsed"], json!(["sleepy"]), "{view}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rider_who_does_not_accept_is_replaced() {
    a_rider_who_does_not_accept_is_replaced_on(BrokerKind::Mosquitto).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rider_who_does_not_accept_is_replaced_on_the_embedded_broker() {
    a_rider_who_does_not_accept_is_replaced_on(BrokerKind::Embedded).await;
}
