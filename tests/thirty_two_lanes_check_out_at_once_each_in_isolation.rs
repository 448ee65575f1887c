//! Many lanes, one box: 32 lanes on one edge check out at the same time. Lane 1's payment is
//! stuck PENDING (the shopper never confirms in the app) and lane 2's scanner and scale are
//! unplugged; every other lane completes its checkouts meanwhile, and lane 1 ends cancelled
//! without the shopper being charged.

mod support;

use std::sync::Arc;
use std::time::Duration;

use support::BrokerKind;
use support::store::{TestLane, TestStore};

const LANES: usize = 32;
const CHECKOUTS: u64 = 2;
const PEN: &str = "4006381333931";
const MILK: &str = "5901234123457";

async fn checkout(store: &TestStore, lane: &TestLane, n: u64) {
    let wallet = store.enroll(1_000_000).await;
    lane.scanner.scan(PEN).await.unwrap();
    lane.scanner.scan(PEN).await.unwrap();
    let id = lane.id.clone();
    support::eventually(Duration::from_secs(60), "two pens in the basket", || {
        let id = id.clone();
        async move { (store.lane_view(&id).await["item_count"] == 2).then_some(()) }
    })
    .await;
    lane.scanner.scan(&wallet.code()).await.unwrap();
    support::eventually(Duration::from_secs(60), "the checkout completed", || {
        let id = id.clone();
        async move { (store.lane_view(&id).await["completed"].as_u64() >= Some(n)).then_some(()) }
    })
    .await;
    assert_eq!(store.balance(&wallet).await, 1_000_000 - 700);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stuck_payment_and_a_dead_lane_do_not_hold_up_the_other_thirty() {
    // These shoppers don't bag (weight security has tests of its own); PENDING is given up
    // after 20 s.
    let extra = "\n[weight_security]\nenabled = false\n";
    let mut store = TestStore::start_with(BrokerKind::Mosquitto, LANES, extra).await;
    let text = std::fs::read_to_string(&store.edge_config).unwrap();
    std::fs::write(
        &store.edge_config,
        text.replace("pending_give_up_secs = 10", "pending_give_up_secs = 20"),
    )
    .unwrap();
    store.start_edge().await;
    let store = Arc::new(store);

    // Lane 1: a basket above the wallet's no-confirmation limit goes PENDING, and nobody confirms.
    let stuck = store.enroll(1_000_000).await;
    let lane1 = &store.lanes[0];
    for _ in 0..8 {
        lane1.scanner.scan(MILK).await.unwrap();
    }
    support::eventually(Duration::from_secs(30), "eight milks on lane 1", || async {
        (store.lane_view("1").await["item_count"] == 8).then_some(())
    })
    .await;
    lane1.scanner.scan(&stuck.code()).await.unwrap();
    support::eventually(
        Duration::from_secs(30),
        "lane 1 waiting for confirmation",
        || async {
            (store.lane_view("1").await["prompt"]["code"] == "confirm_in_app").then_some(())
        },
    )
    .await;

    // Lane 2: its devices are unplugged.
    store.lanes[1].scanner.unplug();
    store.lanes[1].scale.unplug();

    // Everyone else checks out, twice.
    let mut shoppers = Vec::new();
    for index in 2..LANES {
        let store = store.clone();
        shoppers.push(tokio::spawn(async move {
            let lane = &store.lanes[index];
            for n in 1..=CHECKOUTS {
                checkout(&store, lane, n).await;
            }
        }));
    }
    for shopper in shoppers {
        shopper.await.expect("a lane's shopper failed");
    }

    // All of that happened while lane 1 was still waiting for its shopper.
    let lane1_view = store.lane_view("1").await;
    assert_eq!(lane1_view["state"], "paying", "{lane1_view}");
    assert_eq!(lane1_view["prompt"]["code"], "confirm_in_app");

    // Lane 2's devices are reported offline, and come back when plugged in again.
    let device = |name: &'static str| {
        let store = store.clone();
        async move {
            let devices = support::get_json(&store.edge_url("/api/devices")).await;
            devices["devices"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["device"] == name)
                .cloned()
                .unwrap_or_default()
        }
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let down = loop {
        let scale = device("lane-2-scale").await;
        if scale["status"] == "offline" {
            break scale;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "lane 2's scale not reported offline: {scale}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(down["disconnects"].as_u64() >= Some(1), "{down}");
    store.lanes[1].scanner.replug().unwrap();
    store.lanes[1].scale.replug().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(40);
    loop {
        let scale = device("lane-2-scale").await;
        if scale["status"] == "online" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "lane 2's scale not back online: {scale}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Lane 1 gives up: cancelled, nothing charged, back to shopping for a new code.
    support::eventually(
        Duration::from_secs(40),
        "lane 1's pending payment cancelled",
        || async {
            (store.lane_view("1").await["prompt"]["code"] == "payment_cancelled").then_some(())
        },
    )
    .await;
    assert_eq!(store.balance(&stuck).await, 1_000_000);

    let sales = store.operator_json("/api/sales?limit=1000").await;
    assert_eq!(
        sales["sales"].as_array().unwrap().len() as u64,
        (LANES as u64 - 2) * CHECKOUTS
    );
}
