//! Issue 21's first bug over real processes: a lane taken out of service while a shopper is
//! mid-basket, and put back in service a moment later, starts clean: the old basket is recorded
//! as abandoned (in the operator audit), the lane is idle with an empty basket and the scale's
//! weight as it is now, and the next shopper checks out and pays for their own items only. The
//! same holds when the edge restarts while the lane is out of service.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::BrokerKind;
use support::store::{TestLane, TestStore};

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

/// Sends an operator command as the test manager (logged in afresh: sessions end with the
/// edge); panics unless the lane accepts it.
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

/// A shopper scans milk and bags it, and the lane is taken out of service mid-basket; the
/// shopper takes the milk back off the scale and leaves. Returns the abandoned session's id.
async fn out_of_service_mid_basket(store: &TestStore, lane: &TestLane) -> String {
    lane.scale.set_weight(0);
    lane.scanner.scan(MILK).await.unwrap();
    lane.scale.set_weight(1030);
    let view = wait_lane(store, "the milk bagged", |v| {
        v["item_count"] == 1
            && v["session"]["bagging"]["awaited"]
                .as_array()
                .is_some_and(|a| a.is_empty())
    })
    .await;
    let session = view["session"]["id"].as_str().unwrap().to_string();
    command(
        store,
        json!({ "reason": "scanner cleaning", "command": "out_of_service" }),
    )
    .await;
    // The shopper gives up: the milk goes back to the shelf.
    lane.scale.set_weight(0);
    wait_lane(store, "the scale emptied", |v| v["scale_g"] == 0).await;
    session
}

/// A new shopper buys one pen (350 fen) and pays; the gate opens and closes behind them.
async fn checkout_a_pen(store: &TestStore, lane: &TestLane, completed: u64) {
    lane.scanner.scan(PEN).await.unwrap();
    lane.scale.set_weight(12);
    let view = wait_lane(store, "the pen bagged", |v| {
        v["item_count"] == 1
            && v["session"]["bagging"]["awaited"]
                .as_array()
                .is_some_and(|a| a.is_empty())
    })
    .await;
    assert_eq!(view["total_fen"], 350, "only the pen: {view}");
    assert!(
        view["interventions"].as_array().unwrap().is_empty(),
        "{view}"
    );
    let wallet = store.enroll(100_000).await;
    lane.scanner.scan(&wallet.code()).await.unwrap();
    wait_lane(store, "the pen paid for and the shopper out", |v| {
        v["completed"] == completed && v["state"] == "idle"
    })
    .await;
    assert_eq!(store.balance(&wallet).await, 100_000 - 350);
    // The shopper took the pen with them.
    lane.scale.set_weight(0);
    wait_lane(store, "the scale emptied", |v| v["scale_g"] == 0).await;
}

/// The audit shows the abandoned basket of `session` dropped by a return to service.
async fn abandoned_in_audit(store: &TestStore, session: &str) {
    let audit = store.operator_json("/api/actions").await;
    let row = audit["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["session_id"] == session)
        .unwrap_or_else(|| panic!("no audit row for session {session}: {audit}"));
    assert_eq!(row["command"]["command"], "return_to_service", "{row}");
    assert_eq!(row["dropped"]["item_count"], 1, "{row}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lane_back_in_service_starts_clean_and_checks_out_across_a_restart() {
    let hash = omo_edge::web::hash_password("pw");
    let attendant = format!(
        "\n[[operator]]\nname = \"li\"\nrole = \"attendant\"\npassword_hash = \"{hash}\"\n"
    );
    let mut store = TestStore::start_with(BrokerKind::Mosquitto, 1, &attendant).await;
    store.start_edge().await;

    // Out of service mid-basket, back 2 s later: idle, empty, and the next shopper pays.
    let old = out_of_service_mid_basket(&store, &store.lanes[0]).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let view = command(
        &store,
        json!({ "reason": "cleaned", "command": "return_to_service" }),
    )
    .await;
    assert_eq!(view["state"], "idle", "{view}");
    assert_eq!(view["item_count"], 0, "{view}");
    abandoned_in_audit(&store, &old).await;
    checkout_a_pen(&store, &store.lanes[0], 1).await;

    // The same with the edge restarted while the lane is out of service.
    let old = out_of_service_mid_basket(&store, &store.lanes[0]).await;
    store.edge.take().unwrap().stop();
    store.start_edge().await;
    let view = command(
        &store,
        json!({ "reason": "after the restart", "command": "return_to_service" }),
    )
    .await;
    assert_eq!(view["state"], "idle", "{view}");
    assert_eq!(view["item_count"], 0, "{view}");
    abandoned_in_audit(&store, &old).await;
    checkout_a_pen(&store, &store.lanes[0], 2).await;
    // Still clean after one more restart: the abandoned basket does not come back.
    store.edge.take().unwrap().stop();
    store.start_edge().await;
    let view = store.lane_view("1").await;
    assert_eq!(view["state"], "idle", "{view}");
    assert!(view["session"].is_null(), "{view}");

    // An attendant cancels a basket; resetting the lane is a manager's.
    let token = support::login(&store.edge_url(""), "li", "pw").await;
    let post = |body: Value| {
        reqwest::Client::new()
            .post(store.edge_url("/api/lanes/1/actions"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let response = post(json!({ "reason": "trying", "command": "reset_lane" }))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    store.lanes[0].scanner.scan(PEN).await.unwrap();
    wait_lane(&store, "the pen in the basket", |v| v["item_count"] == 1).await;
    let response = post(json!({ "reason": "changed their mind", "command": "cancel_basket" }))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let view: Value = response.json().await.unwrap();
    assert_eq!(view["state"], "idle", "{view}");
    assert!(view["session"].is_null(), "{view}");
    let response = post(json!({ "reason": "again", "command": "cancel_basket" }))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 409, "nothing left to cancel");
}
