//! Crash safety: the edge is killed with SIGKILL at random moments while scripted shoppers check
//! out on several lanes (before Authorize, while it is in flight, after SUCCEEDED before the gate
//! opens, ...), and restarted each time. Afterwards, from the cloud's records and the edge's store:
//! no basket was paid twice, every paid basket is recorded at the edge, every wallet's balance is
//! exactly its opening balance less what it paid, and every lane is idle.
//!
//! `OMO_CRASH_CHECKOUTS` sets the number of checkouts (default 200).

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use rand::Rng;
use serde_json::Value;
use support::BrokerKind;
use support::store::{TestLane, TestStore, TestWallet};
use tokio::sync::Mutex;

const LANES: usize = 4;
const OPENING_BALANCE: i64 = 1_000_000;
const PRODUCTS: [&str; 2] = ["4006381333931", "5901234123457"];

/// What a lane driver needs from the test's store (the edge may be down at any moment).
struct Shared {
    edge_url: String,
    grpc_port: u16,
    wallets: Mutex<Vec<TestWallet>>,
    done: AtomicBool,
    kills: AtomicU32,
}

async fn lane_json(shared: &Shared, lane: &str) -> Option<Value> {
    let response = reqwest::Client::new()
        .get(format!("{}/api/lanes/{lane}", shared.edge_url))
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .ok()?;
    response.json().await.ok()
}

/// Enrolls a fresh wallet for one payment attempt and remembers it for the audit.
async fn new_wallet(shared: &Shared) -> (String, String) {
    let mut client = omo_proto::shopper::shopper_service_client::ShopperServiceClient::connect(
        format!("http://127.0.0.1:{}", shared.grpc_port),
    )
    .await
    .unwrap();
    let response = client
        .enroll(omo_proto::shopper::EnrollRequest {
            display_name: "crash test".into(),
            initial_balance_fen: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let wallet_id = response.wallet.unwrap().wallet_id;
    support::fund(&mut client, &wallet_id, OPENING_BALANCE).await;
    let wallet = TestWallet {
        wallet_id,
        secret: omo_cloud::paycode::decode_secret(&response.secret_base32).unwrap(),
    };
    let code = wallet.code();
    let id = wallet.wallet_id.clone();
    shared.wallets.lock().await.push(wallet);
    (id, code)
}

/// Drives one lane through `checkouts` checkouts, whatever the edge does meanwhile.
async fn drive_lane(shared: Arc<Shared>, lane: Arc<TestLane>, checkouts: u32) {
    let id = lane.id.clone();
    let mut completed_seen = loop {
        if let Some(v) = lane_json(&shared, &id).await {
            break v["completed"].as_u64().unwrap_or(0);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for _ in 0..checkouts {
        // Scan until the basket shows an item (a scan sent while the edge is down may be lost).
        loop {
            let product = PRODUCTS[rand::rng().random_range(0..PRODUCTS.len())];
            let _ = lane.scanner.scan(product).await;
            let shown = wait_until(&shared, &id, Duration::from_secs(3), |v| {
                v["item_count"].as_u64().unwrap_or(0) >= 1 && v["state"] == "shopping"
            })
            .await;
            if shown.is_some() {
                break;
            }
        }
        // Pay; a declined or cancelled attempt (e.g. the edge died before Authorize) is retried
        // with a new code, as a shopper would.
        'pay: loop {
            let (_wallet, code) = new_wallet(&shared).await;
            let _ = lane.scanner.scan(&code).await;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
            loop {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "lane {id} stuck paying"
                );
                let Some(v) = lane_json(&shared, &id).await else {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                let completed = v["completed"].as_u64().unwrap_or(0);
                if completed > completed_seen {
                    completed_seen = completed;
                    break 'pay;
                }
                let prompt = v["prompt"]["code"].as_str().unwrap_or("");
                if v["state"] == "shopping" && ["declined", "payment_cancelled"].contains(&prompt) {
                    continue 'pay;
                }
                if v["state"] == "shopping" && prompt == "item_added" {
                    // The code scan was lost while the edge was down: scan a new one.
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    if let Some(v) = lane_json(&shared, &id).await
                        && v["state"] == "shopping"
                        && v["prompt"]["code"] == "item_added"
                    {
                        continue 'pay;
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn wait_until(
    shared: &Shared,
    lane: &str,
    timeout: Duration,
    pick: impl Fn(&Value) -> bool,
) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + timeout;
    while tokio::time::Instant::now() < deadline {
        if let Some(v) = lane_json(shared, lane).await
            && pick(&v)
        {
            return Some(v);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_at_random_points_never_double_charges_or_loses_a_paid_basket() {
    let total: u32 = std::env::var("OMO_CRASH_CHECKOUTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let per_lane = total.div_ceil(LANES as u32);
    // The shoppers here do not bag (this test is about payments, not shrink).
    let mut store = TestStore::start_with(
        BrokerKind::Mosquitto,
        LANES,
        "\n[weight_security]\nenabled = false\n",
    )
    .await;
    store.start_edge().await;
    let shared = Arc::new(Shared {
        edge_url: store.edge_url(""),
        grpc_port: store.grpc_port,
        wallets: Mutex::new(Vec::new()),
        done: AtomicBool::new(false),
        kills: AtomicU32::new(0),
    });
    let lanes: Vec<Arc<TestLane>> = std::mem::take(&mut store.lanes)
        .into_iter()
        .map(Arc::new)
        .collect();
    let drivers: Vec<_> = lanes
        .iter()
        .map(|lane| tokio::spawn(drive_lane(shared.clone(), lane.clone(), per_lane)))
        .collect();

    // The killer: SIGKILL the edge every so often, then restart it.
    let store = Arc::new(Mutex::new(store));
    let killer = {
        let shared = shared.clone();
        let store = store.clone();
        tokio::spawn(async move {
            while !shared.done.load(Ordering::Relaxed) {
                let pause = rand::rng().random_range(50..1200);
                tokio::time::sleep(Duration::from_millis(pause)).await;
                if shared.done.load(Ordering::Relaxed) {
                    break;
                }
                let mut store = store.lock().await;
                if let Some(mut edge) = store.edge.take() {
                    edge.kill();
                }
                shared.kills.fetch_add(1, Ordering::Relaxed);
                store.start_edge().await;
            }
        })
    };
    for driver in drivers {
        driver.await.expect("a lane driver failed");
    }
    shared.done.store(true, Ordering::Relaxed);
    killer.await.unwrap();
    let kills = shared.kills.load(Ordering::Relaxed);
    assert!(kills >= 5, "the edge was killed only {kills} times");

    // Let the last restart settle: every lane idle.
    for lane in &lanes {
        assert!(
            wait_until(&shared, &lane.id, Duration::from_secs(30), |v| v["state"]
                == "idle")
            .await
            .is_some(),
            "lane {} is not idle at the end",
            lane.id
        );
    }

    // The audit.
    let store = store.lock().await;
    let sales = store.operator_json("/api/sales?limit=100000").await;
    let edge_orders: BTreeSet<String> = sales["sales"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["order_id"].as_str().unwrap().to_string())
        .collect();
    let mut succeeded_by_session: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut cloud_orders = BTreeSet::new();
    for wallet in shared.wallets.lock().await.iter() {
        let receipts = store.receipts(wallet).await;
        let paid: i64 = receipts
            .iter()
            .filter(|r| r.status == "SUCCEEDED")
            .map(|r| r.amount_fen - r.refunded_fen)
            .sum();
        assert_eq!(
            store.balance(wallet).await,
            OPENING_BALANCE - paid,
            "wallet {} balance disagrees with its receipts",
            wallet.wallet_id
        );
        for r in receipts.iter().filter(|r| r.status == "SUCCEEDED") {
            let session = r
                .order_id
                .rsplit_once('-')
                .map(|(s, _)| s.to_string())
                .unwrap();
            succeeded_by_session
                .entry(session)
                .or_default()
                .push(r.order_id.clone());
            cloud_orders.insert(r.order_id.clone());
        }
    }
    for (session, orders) in &succeeded_by_session {
        assert_eq!(
            orders.len(),
            1,
            "basket {session} was paid more than once: {orders:?}"
        );
    }
    let lost: Vec<_> = cloud_orders.difference(&edge_orders).collect();
    assert!(
        lost.is_empty(),
        "paid in the cloud but lost at the edge: {lost:?}"
    );
    let phantom: Vec<_> = edge_orders.difference(&cloud_orders).collect();
    assert!(
        phantom.is_empty(),
        "recorded at the edge but not paid in the cloud: {phantom:?}"
    );
    assert!(
        cloud_orders.len() as u32 >= per_lane * LANES as u32,
        "only {} checkouts completed",
        cloud_orders.len()
    );
    eprintln!(
        "{} checkouts, {} edge kills, {} wallets, {} paid baskets",
        per_lane * LANES as u32,
        kills,
        shared.wallets.lock().await.len(),
        cloud_orders.len()
    );
}
