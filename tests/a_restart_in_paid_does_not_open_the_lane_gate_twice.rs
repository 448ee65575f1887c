//! A paid basket opens its lane's gate once, even when the edge dies after the gate opened and
//! before the lane left the Paid state. The window is made wide the way a store makes it: a
//! manager has opened the gate by hand, so the paid basket's opening is a pulse on an already
//! open gate and the lane stays Paid until the gate closes (30 s here). The edge is SIGKILLed in
//! that window and restarted; the relay's pulse log (the simulated relay behind its watchdog,
//! `<data_dir>/gates/lane-1-gate/pulses`) must show exactly one opening for the basket.

mod support;

use std::time::Duration;

use omo_devices::gate::watchdog::FilePin;
use serde_json::{Value, json};
use support::BrokerKind;
use support::store::TestStore;

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_in_paid_does_not_open_the_gate_again() {
    let hash = omo_edge::web::hash_password("pw");
    let extra = format!(
        "\n[[operator]]\nname = \"boss\"\nrole = \"manager\"\npassword_hash = \"{hash}\"\n\n[weight_security]\nenabled = false\n"
    );
    let mut store = TestStore::start_with(BrokerKind::Mosquitto, 1, &extra).await;
    store.edit_edge_config(|text| text.replace("open_ms = 800\n", "open_ms = 30000\n"));
    store.start_edge().await;
    let pins = store.dir.path().join("edge/gates/lane-1-gate");
    let http = reqwest::Client::new();

    // The manager opens the gate by hand (one pulse).
    let login: Value = http
        .post(store.edge_url("/login"))
        .json(&json!({ "name": "boss", "password": "pw" }))
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
        .post(store.edge_url("/api/lanes/1/actions"))
        .bearer_auth(&token)
        .json(&json!({ "reason": "delivery of crates", "command": "open_gate" }))
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap()
    );
    support::eventually(WAIT, "the manager's opening", || async {
        (FilePin::pulses(&pins) == 1).then_some(())
    })
    .await;

    // A shopper pays: the gate opens for the basket (a second pulse); the lane stays Paid.
    let wallet = store.enroll(100_000).await;
    let lane = &store.lanes[0];
    lane.scanner.scan("4006381333931").await.unwrap();
    support::eventually(WAIT, "the pen in the basket", || async {
        (store.lane_view("1").await["item_count"] == 1).then_some(())
    })
    .await;
    lane.scanner.scan(&wallet.code()).await.unwrap();
    support::eventually(WAIT, "the basket's opening", || async {
        (FilePin::pulses(&pins) == 2).then_some(())
    })
    .await;
    let view = store.lane_view("1").await;
    assert_eq!(view["state"], "paid", "the window this test needs: {view}");

    // SIGKILL in the window, and restart.
    store.edge.take().unwrap().kill();
    store.start_edge().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        FilePin::pulses(&pins),
        2,
        "the gate opened again for a basket it had already let out"
    );
    let log = store.edge.as_ref().unwrap().log();
    assert!(
        log.contains("resuming a paid basket whose gate already opened"),
        "the restarted edge resumed in Paid: {log}"
    );
    // The basket is done: the lane is free for the next shopper.
    support::eventually(WAIT, "the lane idle after the restart", || async {
        (store.lane_view("1").await["state"] == "idle").then_some(())
    })
    .await;
}
