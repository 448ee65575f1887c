//! An order 2.5 km from the store is accepted, published on the store's delivery topic with the
//! contract's fields, offered to the rider, accepted and delivered; an order 3.2 km away is
//! refused with its distance. On mosquitto with the shipped ACL and on the embedded broker with the same ACL; edge and rider authenticate.

#[path = "support/delivery.rs"]
mod delivery;
mod support;

use support::BrokerKind;

use std::time::Duration;

use delivery::{AclBroker, Client, Edge, RiderRun, STORE_AT};
use omo_edge::delivery::geo;
use serde_json::{Value, json};

async fn post(port: u16, body: &Value) -> (u16, Value) {
    // Orders by hand need an operator's session.
    let token = support::operator_token(&format!("http://127.0.0.1:{port}")).await;
    let response = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/delivery/orders"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn an_order_within_3_km_reaches_a_rider_and_one_at_3200_m_is_refused_on(kind: BrokerKind) {
    let dir = tempfile::tempdir().unwrap();
    let broker = AclBroker::start_kind(kind, dir.path()).await;
    let mut observer = Client::connect(broker.port, "observer", &["omo/v1/#"]).await;
    let (_edge, port) = Edge::start(dir.path(), &broker).await;
    let _rider = RiderRun::start(
        dir.path(),
        &broker,
        "rider-a",
        geo::destination(STORE_AT, 200.0, 400.0),
        true,
    );
    observer
        .wait_for(
            Duration::from_secs(20),
            "the rider's first location",
            |t, v| t == "omo/v1/riders/rider-a/events" && v["event"] == "location",
        )
        .await;

    let near = geo::destination(STORE_AT, 45.0, 2_500.0);
    let (status, placed) = post(
        port,
        &json!({
            "order_id": "near-1",
            "items": [{"gtin": "5901234123457", "quantity": 2}],
            "dropoff": {"lat": near.lat, "lon": near.lon, "address": "1 Near Road"},
        }),
    )
    .await;
    assert_eq!(status, 201, "{placed}");
    assert!(
        (placed["distance_m"].as_f64().unwrap() - 2_500.0).abs() < 0.5,
        "{placed}"
    );

    let (_, order) = observer
        .wait_for(
            Duration::from_secs(20),
            "the delivery order on the store's topic",
            |t, v| t == "omo/v1/stores/SH-001/delivery/orders" && v["order_id"] == "near-1",
        )
        .await;
    for key in [
        "id",
        "order_id",
        "store_id",
        "items",
        "dropoff",
        "distance_m",
        "promised_by",
    ] {
        assert!(order.get(key).is_some(), "{key} missing from {order}");
    }
    let accepted =
        chrono::DateTime::parse_from_rfc3339(order["accepted_at"].as_str().unwrap()).unwrap();
    let promised =
        chrono::DateTime::parse_from_rfc3339(order["promised_by"].as_str().unwrap()).unwrap();
    assert_eq!(promised - accepted, chrono::Duration::minutes(30));

    let (_, dispatch) = observer
        .wait_for(
            Duration::from_secs(20),
            "the assignment to the rider",
            |t, v| t == "omo/v1/riders/rider-a/dispatch" && v["order_id"] == "near-1",
        )
        .await;
    for key in [
        "id",
        "order_id",
        "store_id",
        "pickup",
        "dropoff",
        "distance_m",
        "promised_by",
    ] {
        assert!(dispatch.get(key).is_some(), "{key} missing from {dispatch}");
    }
    for event in ["accepted", "picked_up", "delivered"] {
        observer
            .wait_for(Duration::from_secs(30), event, |t, v| {
                t == "omo/v1/riders/rider-a/events"
                    && v["event"] == event
                    && v["order_id"] == "near-1"
            })
            .await;
    }
    support::eventually(
        Duration::from_secs(20),
        "the order delivered at the edge",
        || async move {
            let token = support::operator_token(&format!("http://127.0.0.1:{port}")).await;
            let view = support::get_json_with(
                &format!("http://127.0.0.1:{port}/api/delivery/orders/near-1"),
                &token,
            )
            .await;
            (view["status"] == "delivered").then_some(())
        },
    )
    .await;

    let far = geo::destination(STORE_AT, 45.0, 3_200.0);
    let (status, refused) = post(
        port,
        &json!({
            "order_id": "far-1",
            "dropoff": {"lat": far.lat, "lon": far.lon, "address": "9 Far Road"},
        }),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"], "out_of_range");
    assert!(
        (refused["distance_m"].as_f64().unwrap() - 3_200.0).abs() < 0.5,
        "{refused}"
    );
    assert!(
        refused["message"].as_str().unwrap().contains("3200 m"),
        "{refused}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_order_within_3_km_reaches_a_rider_and_one_at_3200_m_is_refused() {
    an_order_within_3_km_reaches_a_rider_and_one_at_3200_m_is_refused_on(BrokerKind::Mosquitto)
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_order_within_3_km_reaches_a_rider_and_one_at_3200_m_is_refused_on_the_embedded_broker()
{
    an_order_within_3_km_reaches_a_rider_and_one_at_3200_m_is_refused_on(BrokerKind::Embedded)
        .await;
}
