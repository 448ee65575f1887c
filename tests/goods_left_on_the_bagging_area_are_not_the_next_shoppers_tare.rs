//! Issue 13's review, over real processes: a shopper bags milk, the lane is taken out of service
//! and put back, and the milk stays on the bagging scale. An accomplice who scans one pen and pays
//! must not get an exit for the milk: the lane stops with `bagging_area_not_empty` and charges
//! nothing until the milk is taken off; then a pen checks out for the pen's price only.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::BrokerKind;
use support::store::TestStore;

const WAIT: Duration = Duration::from_secs(30);
const PEN: &str = "4006381333931"; // 12 g +- 3
const MILK: &str = "5901234123457"; // 1030 g +- 20

async fn wait_lane(store: &TestStore, what: &str, pick: impl Fn(&Value) -> bool) -> Value {
    support::eventually(WAIT, what, || async {
        let view = store.lane_view("1").await;
        pick(&view).then_some(view)
    })
    .await
}

fn open_kinds(view: &Value) -> Vec<String> {
    view["interventions"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["kind"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Sends an operator command as the test manager; panics unless the lane accepts it.
async fn command(store: &TestStore, body: Value) -> Value {
    let token = support::operator_token(&store.edge_url("")).await;
    let response = reqwest::Client::new()
        .post(store.edge_url("/api/lanes/1/actions"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{body}: {status} {text}");
    serde_json::from_str(&text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn milk_left_on_the_scale_after_a_return_to_service_is_not_sold_with_a_pen() {
    let mut store = TestStore::start_with(BrokerKind::Mosquitto, 1, "").await;
    store.start_edge().await;
    let lane = &store.lanes[0];

    lane.scale.set_weight(0);
    wait_lane(&store, "the empty scale", |v| v["scale_g"] == 0).await;
    lane.scanner.scan(MILK).await.unwrap();
    lane.scale.set_weight(1030);
    wait_lane(&store, "the milk bagged", |v| {
        v["item_count"] == 1
            && v["session"]["bagging"]["awaited"]
                .as_array()
                .is_some_and(|a| a.is_empty())
    })
    .await;
    command(
        &store,
        json!({ "reason": "jam", "command": "out_of_service" }),
    )
    .await;
    command(
        &store,
        json!({ "reason": "fixed", "command": "return_to_service" }),
    )
    .await;
    let view = wait_lane(&store, "the lane stopped on the milk", |v| {
        open_kinds(v).contains(&"bagging_area_not_empty".to_string())
    })
    .await;
    assert_eq!(view["state"], "needs_attendant", "{view}");

    // The accomplice: one pen and a payment code. Nothing is charged, the gate stays shut.
    let wallet = store.enroll(100_000).await;
    lane.scanner.scan(PEN).await.unwrap();
    lane.scanner.scan(&wallet.code()).await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let view = store.lane_view("1").await;
    assert_eq!(view["state"], "needs_attendant", "{view}");
    assert_eq!(view["completed"], 0, "{view}");
    assert_eq!(store.balance(&wallet).await, 100_000);

    // The milk goes back to the shelf: the lane is idle and a pen checks out for 350 fen.
    lane.scale.set_weight(0);
    wait_lane(&store, "idle again", |v| {
        v["state"] == "idle" && open_kinds(v).is_empty()
    })
    .await;
    lane.scanner.scan(PEN).await.unwrap();
    lane.scale.set_weight(12);
    // Bagged, not only scanned: a payment code before the bagging scale settles is refused.
    wait_lane(&store, "the pen bagged", |v| {
        v["item_count"] == 1 && v["prompt"]["code"] == "item_bagged"
    })
    .await;
    lane.scanner.scan(&wallet.code()).await.unwrap();
    wait_lane(&store, "the pen paid for", |v| {
        v["completed"] == 1 && v["state"] == "idle"
    })
    .await;
    assert_eq!(store.balance(&wallet).await, 100_000 - 350);
}
