//! Issue 21's first bug as a newcomer met it: `omo up --lanes 1`, the lane taken out of service
//! while a demo shopper is mid-basket and put back 5 s later. On main it then never checked out
//! again (the stale basket kept, later shoppers' items added to it, a cycle of weight alerts).
//! Now the lane comes back idle, the demo shopper who gave up empties the scale, and the
//! following shoppers check out within 60 s; the dropped basket is in the audit.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{OmoUp, eventually, get_json};

async fn lane(http: u16) -> Value {
    get_json(&format!("http://127.0.0.1:{http}/api/lanes/1")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn omo_up_a_lane_out_of_service_mid_basket_checks_out_again() {
    let dir = tempfile::tempdir().unwrap();
    let OmoUp {
        process: up, http, ..
    } = OmoUp::start(dir.path(), &["--lanes", "1", "--demo-every-secs", "1"]).await;
    let base = format!("http://127.0.0.1:{http}");
    let token = support::login(&base, "manager", "manager").await;
    let client = reqwest::Client::new();
    let command = |body: Value| {
        let request = client
            .post(format!("{base}/api/lanes/1/actions"))
            .bearer_auth(&token)
            .json(&body);
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };

    // A shopper mid-basket, and the manager takes the lane out of service.
    let session = eventually(
        Duration::from_secs(90),
        "the lane out of service mid-basket",
        || async {
            let view = lane(http).await;
            if view["state"] != "shopping" || view["item_count"].as_u64() < Some(1) {
                return None;
            }
            let (status, _) =
                command(json!({ "command": "out_of_service", "reason": "spill on the belt" }))
                    .await;
            let session = view["session"]["id"].as_str()?.to_string();
            (status == 200).then_some(session)
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (status, body) =
        command(json!({ "command": "return_to_service", "reason": "cleaned" })).await;
    assert_eq!(status, 200, "{body}");
    let view: Value = serde_json::from_str(&body).unwrap();
    // Idle, or (when the demo shopper has not yet taken their goods back off the bagging
    // scale) stopped on them until they are gone: left-behind goods are never the next
    // shopper's tare.
    let left_behind = view["interventions"]
        .as_array()
        .is_some_and(|a| a.iter().all(|i| i["kind"] == "bagging_area_not_empty") && !a.is_empty());
    assert!(
        view["state"] == "idle" || (view["state"] == "needs_attendant" && left_behind),
        "{view}"
    );
    assert_eq!(view["item_count"], 0, "{view}");
    let completed = view["completed"].as_u64().unwrap();

    // Checkouts resume within 60 s.
    let back = Instant::now();
    eventually(
        Duration::from_secs(60),
        "a checkout after the return to service",
        || async { (lane(http).await["completed"].as_u64() >= Some(completed + 1)).then_some(()) },
    )
    .await;
    assert!(back.elapsed() < Duration::from_secs(60));

    // The dropped basket is in the audit, with the session it was.
    let audit = support::get_json_with(&format!("{base}/api/actions"), &token).await;
    let row = audit["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["command"]["command"] == "return_to_service")
        .unwrap_or_else(|| panic!("{audit}"));
    assert_eq!(row["session_id"], session.as_str(), "{row}");
    assert_eq!(row["dropped"]["session_id"], session.as_str(), "{row}");
    drop(up);
}
