//! The lane's rules, each as a scenario over real devices on pseudo-terminals and the real cloud
//! over gRPC (the pure machine has a unit test per rule too): weight alerts raised and cleared
//! (unexpected item, item not bagged, weight mismatch, item removed), an intervention
//! cleared by an attendant logged in to the edge, a decline for insufficient funds, and PENDING
//! confirmed in the app.

mod support;

use std::time::Duration;

use omo_proto::shopper::{ConfirmPaymentRequest, ListReceiptsRequest};
use serde_json::{Value, json};
use support::BrokerKind;
use support::store::{TestLane, TestStore};

const WAIT: Duration = Duration::from_secs(30);
const PEN: &str = "4006381333931"; // 12 g +- 3
const MILK: &str = "5901234123457"; // 1030 g +- 20

/// An operator `li` (attendant) with the password `pw`, and a short bagging time-out.
fn operator_toml() -> String {
    let hash = omo_edge::web::hash_password("pw");
    format!(
        "\n[[operator]]\nname = \"li\"\nrole = \"attendant\"\npassword_hash = \"{hash}\"\n\n[weight_security]\nbagging_timeout_secs = 8\n"
    )
}

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
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap().to_string())
        .collect()
}

/// Nothing scanned is waiting for the scale.
fn bagged(view: &Value) -> bool {
    view["session"]["bagging"]["awaited"]
        .as_array()
        .is_some_and(|a| a.is_empty())
}

async fn scan_and_bag(store: &TestStore, lane: &TestLane, code: &str, grams: i64) {
    let items = store.lane_view("1").await["item_count"]
        .as_u64()
        .unwrap_or(0);
    lane.scanner.scan(code).await.unwrap();
    lane.scale.set_weight(grams);
    wait_lane(store, "the item bagged", |v| {
        v["item_count"].as_u64() > Some(items) && bagged(v)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weight_alerts_an_attendant_a_decline_and_a_pending_payment() {
    let mut store = TestStore::start_with(BrokerKind::Mosquitto, 1, &operator_toml()).await;
    store.start_edge().await;
    let lane = &store.lanes[0];
    let http = reqwest::Client::new();

    // Unexpected item: weight with no scan, then taken off again.
    lane.scanner.scan(PEN).await.unwrap();
    lane.scale.set_weight(12);
    wait_lane(&store, "the pen bagged", |v| {
        v["prompt"]["code"] == "item_bagged"
    })
    .await;
    lane.scale.set_weight(12 + 700);
    let view = wait_lane(&store, "an unexpected item", |v| {
        v["state"] == "needs_attendant"
    })
    .await;
    assert_eq!(open_kinds(&view), vec!["unexpected_item"]);
    lane.scale.set_weight(12);
    wait_lane(&store, "the alert cleared by taking it off", |v| {
        v["state"] == "shopping"
    })
    .await;

    // Weight mismatch: milk scanned, something much lighter bagged; then the right weight.
    lane.scanner.scan(MILK).await.unwrap();
    lane.scale.set_weight(12 + 400);
    let view = wait_lane(&store, "a weight mismatch", |v| !open_kinds(v).is_empty()).await;
    assert_eq!(open_kinds(&view), vec!["weight_mismatch"]);
    lane.scale.set_weight(12);
    wait_lane(&store, "the mismatch cleared", |v| open_kinds(v).is_empty()).await;
    lane.scale.set_weight(12 + 1030);
    wait_lane(&store, "the milk bagged", |v| {
        bagged(v) && open_kinds(v).is_empty()
    })
    .await;

    // Item removed: the milk taken back off the scale.
    lane.scale.set_weight(12);
    let view = wait_lane(&store, "an item removed", |v| !open_kinds(v).is_empty()).await;
    assert_eq!(open_kinds(&view), vec!["item_removed"]);
    lane.scale.set_weight(12 + 1030);
    wait_lane(&store, "the removal cleared", |v| open_kinds(v).is_empty()).await;

    // Item not bagged: a pen scanned and never put down (time-out 8 s here).
    lane.scanner.scan(PEN).await.unwrap();
    let view = wait_lane(&store, "an item not bagged", |v| !open_kinds(v).is_empty()).await;
    assert_eq!(open_kinds(&view), vec!["item_not_bagged"]);
    // A payment code is refused while the lane needs an attendant.
    let wallet = store.enroll(100_000).await;
    lane.scanner.scan(&wallet.code()).await.unwrap();
    let view = wait_lane(&store, "payment refused while blocked", |v| {
        v["prompt"]["code"] == "attendant_coming"
    })
    .await;
    assert_eq!(view["state"], "needs_attendant");

    // The attendant logs in and clears it, with a reason; the API refuses without a session.
    let id = view["interventions"][0]["id"].as_u64().unwrap();
    let action = json!({ "reason": "pen is in the shopper's pocket, checked", "command": "clear_intervention", "id": id, "approve": true });
    let url = store.edge_url("/api/lanes/1/actions");
    assert_eq!(
        http.post(&url).json(&action).send().await.unwrap().status(),
        401
    );
    let login: Value = http
        .post(store.edge_url("/login"))
        .json(&json!({ "name": "li", "password": "pw" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"]
        .as_str()
        .expect("a session token")
        .to_string();
    let response = http
        .post(&url)
        .bearer_auth(&token)
        .json(&action)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap()
    );
    wait_lane(&store, "the lane back to shopping", |v| {
        v["state"] == "shopping" && open_kinds(v).is_empty()
    })
    .await;
    let audit = support::get_json_with(&store.edge_url("/api/actions"), &token).await;
    assert_eq!(audit["actions"][0]["operator"], "li");
    // An attendant may clear alerts but not fetch a lane screen's setup link (a manager's).
    let setup = http
        .get(store.edge_url("/api/lanes/1/screen-setup"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(setup.status(), 403, "an attendant got a screen setup link");

    // PENDING: a basket above the no-confirmation limit waits for the app, then pays.
    let mut on_scale = 12 + 1030;
    for _ in 0..7 {
        on_scale += 1030;
        scan_and_bag(&store, lane, MILK, on_scale).await;
    }
    let total = store.lane_view("1").await["total_fen"].as_i64().unwrap();
    assert!(total > 10_000, "{total}");
    lane.scanner
        .scan(&store.enroll(1).await.code())
        .await
        .unwrap(); // a wallet that can't pay
    wait_lane(&store, "insufficient funds declined", |v| {
        v["prompt"]["code"] == "declined"
    })
    .await;
    let payer = store.enroll(1_000_000).await;
    lane.scanner.scan(&payer.code()).await.unwrap();
    wait_lane(&store, "waiting for the app", |v| {
        v["prompt"]["code"] == "confirm_in_app"
    })
    .await;
    let receipts = store
        .shopper()
        .await
        .list_receipts(payer.request(ListReceiptsRequest {
            wallet_id: payer.wallet_id.clone(),
        }))
        .await
        .unwrap()
        .into_inner()
        .receipts;
    let pending = receipts
        .iter()
        .find(|r| r.status == "PENDING")
        .expect("a pending receipt");
    store
        .shopper()
        .await
        .confirm_payment(payer.request(ConfirmPaymentRequest {
            wallet_id: payer.wallet_id.clone(),
            payment_id: pending.payment_id.clone(),
            approve: true,
        }))
        .await
        .unwrap();
    wait_lane(&store, "paid after confirming in the app", |v| {
        v["completed"] == 1
    })
    .await;
    assert_eq!(store.balance(&payer).await, 1_000_000 - total);
}
