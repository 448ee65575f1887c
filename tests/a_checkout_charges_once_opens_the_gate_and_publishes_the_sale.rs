//! One real checkout through every layer, with cloud and edge as separate `omo` processes:
//! a scanner and a scale simulator on pseudo-terminals, the cloud over gRPC, and an MQTT
//! subscriber of the test's own. Runs against mosquitto and against the embedded broker.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::BrokerKind;
use support::store::{STORE, TestStore};

const PEN: &str = "4006381333931";
const MILK: &str = "5901234123457";
const WAIT: Duration = Duration::from_secs(30);

async fn checkout(kind: BrokerKind) {
    let mut store = TestStore::start(kind, 1).await;
    let mut trace = store.listen(&format!("omo/v1/stores/{STORE}/#")).await;
    store.start_edge().await;
    let wallet = store.enroll(100_000).await;
    let lane = &store.lanes[0];

    // The edge announces itself, retained.
    trace
        .wait_for(WAIT, "the edge's online state", |topic, v| {
            topic == format!("omo/v1/stores/{STORE}/edge/state") && v["state"] == "online"
        })
        .await;

    // Bad input first: garbage on the line, an unknown product, a bad check digit. None of it
    // changes the basket.
    lane.scanner
        .send_raw(b"\x01\x02garbage\xff\r\n")
        .await
        .unwrap();
    lane.scanner.scan("96385074").await.unwrap(); // a valid EAN-8 the store doesn't sell
    lane.scanner.scan("4006381333932").await.unwrap(); // wrong check digit

    lane.scanner.scan(PEN).await.unwrap();
    lane.scale.set_weight(12);
    lane.scanner.scan(MILK).await.unwrap();
    lane.scale.set_weight(1042);
    let view = support::eventually(WAIT, "two items in the basket, both bagged", || async {
        let view = store.lane_view("1").await;
        let bagged = view["session"]["bagging"]["awaited"]
            .as_array()
            .is_some_and(|a| a.is_empty());
        (view["item_count"] == 2 && bagged).then_some(view)
    })
    .await;
    assert!(
        view["interventions"].as_array().unwrap().is_empty(),
        "{view}"
    );
    assert_eq!(view["total_fen"], 350 + 1290, "{view}");
    assert_eq!(view["state"], "shopping");

    // Pay with the app's code.
    let code = wallet.code();
    lane.scanner.scan(&code).await.unwrap();

    // The sale reaches the broker as an EPCIS ObjectEvent.
    let (_, event) = trace
        .wait_for(WAIT, "the EPCIS sale event", |topic, v| {
            topic == format!("omo/v1/stores/{STORE}/trace") && v["type"] == "ObjectEvent"
        })
        .await;
    assert_eq!(event["bizStep"], "retail_selling");
    assert_eq!(event["disposition"], "retail_sold");
    assert!(
        event["eventID"]
            .as_str()
            .unwrap()
            .starts_with("ni:///sha-256;")
    );
    let classes: Vec<&str> = event["quantityList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["epcClass"].as_str().unwrap())
        .collect();
    assert!(
        classes.contains(&"https://id.gs1.org/01/04006381333931"),
        "{classes:?}"
    );
    assert!(
        classes.contains(&"https://id.gs1.org/01/05901234123457"),
        "{classes:?}"
    );

    // The gate opened for the shopper (the lane's retained state went through `exiting`), and
    // the lane is back to idle after the gate closed.
    trace
        .wait_for(
            WAIT,
            "the lane exiting through the open gate",
            |topic, v: &Value| topic.ends_with("/lanes/1/state") && v["state"] == "exiting",
        )
        .await;
    support::eventually(WAIT, "the lane idle again", || async {
        (store.lane_view("1").await["state"] == "idle").then_some(())
    })
    .await;

    // Charged exactly once.
    assert_eq!(store.balance(&wallet).await, 100_000 - 1640);
    let receipts = store.receipts(&wallet).await;
    assert_eq!(receipts.len(), 1, "{receipts:?}");
    assert_eq!(receipts[0].amount_fen, 1640);

    // The shopper takes their bags (goods left behind would stop the lane: they are never the
    // next shopper's tare).
    lane.scale.set_weight(0);
    support::eventually(WAIT, "the bagging area empty", || async {
        (store.lane_view("1").await["scale_g"] == 0).then_some(())
    })
    .await;

    // The same code again, for a new basket: refused as already used, nothing charged.
    lane.scanner.scan(PEN).await.unwrap();
    lane.scale.set_weight(12);
    support::eventually(WAIT, "the pen bagged", || async {
        let view = store.lane_view("1").await;
        (view["prompt"]["code"] == "item_bagged").then_some(())
    })
    .await;
    lane.scanner.scan(&code).await.unwrap();
    let view = support::eventually(WAIT, "the replayed code declined", || async {
        let view = store.lane_view("1").await;
        (view["prompt"]["code"] == "declined").then_some(view)
    })
    .await;
    assert!(
        view["prompt"]["text"]
            .as_str()
            .unwrap()
            .contains("already used"),
        "{view}"
    );
    assert_eq!(view["state"], "shopping");
    assert_eq!(store.balance(&wallet).await, 100_000 - 1640);

    // The edge stops cleanly on SIGTERM.
    let mut edge = store.edge.take().unwrap();
    assert!(
        edge.stop(),
        "the edge did not exit cleanly:\n{}",
        edge.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_mosquitto() {
    checkout(BrokerKind::Mosquitto).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_embedded_broker() {
    checkout(BrokerKind::Embedded).await;
}
