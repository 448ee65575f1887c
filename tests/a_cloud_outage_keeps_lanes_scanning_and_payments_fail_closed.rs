//! Cloud outage: lanes keep scanning from the cached catalog (even after an edge restart while
//! the cloud is down); a payment code scanned meanwhile fails closed (no gate, no charge, a clear
//! prompt), and once the cloud is back the unknown payment is resolved by query and cancel, and
//! the next code pays.

mod support;

use std::time::Duration;

use support::BrokerKind;
use support::store::TestStore;

const WAIT: Duration = Duration::from_secs(30);
const PEN: &str = "4006381333931";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scanning_goes_on_and_payment_fails_closed_until_the_cloud_is_back() {
    let mut store = TestStore::start_with(
        BrokerKind::Mosquitto,
        1,
        "\n[weight_security]\nenabled = false\n",
    )
    .await;
    store.start_edge().await;
    let wallet = store.enroll(100_000).await;

    // The cloud goes away, and the edge restarts while it is away.
    store.kill_cloud();
    let mut edge = store.edge.take().unwrap();
    assert!(edge.stop());
    drop(edge);
    store.start_edge_offline().await;

    store.lanes[0].scanner.scan(PEN).await.unwrap();
    store.lanes[0].scanner.scan(PEN).await.unwrap();
    support::eventually(WAIT, "two pens scanned from the cached catalog", || async {
        (store.lane_view("1").await["item_count"] == 2).then_some(())
    })
    .await;

    let code = wallet.code();
    store.lanes[0].scanner.scan(&code).await.unwrap();
    let view = support::eventually(WAIT, "the payment on hold", || async {
        let view = store.lane_view("1").await;
        (view["prompt"]["code"] == "payment_unknown").then_some(view)
    })
    .await;
    assert_eq!(view["state"], "paying", "fails closed: {view}");
    assert_eq!(view["completed"], 0);

    // The cloud is back: the unknown payment is resolved (it never arrived: cancelled), and a
    // new code pays.
    store.restart_cloud().await;
    support::eventually(
        Duration::from_secs(60),
        "the unknown payment resolved",
        || async {
            (store.lane_view("1").await["prompt"]["code"] == "payment_cancelled").then_some(())
        },
    )
    .await;
    assert_eq!(store.balance(&wallet).await, 100_000);
    let other = store.enroll(100_000).await;
    store.lanes[0].scanner.scan(&other.code()).await.unwrap();
    support::eventually(WAIT, "the checkout completed", || async {
        (store.lane_view("1").await["completed"] == 1).then_some(())
    })
    .await;
    assert_eq!(store.balance(&other).await, 100_000 - 700);
    assert_eq!(store.balance(&wallet).await, 100_000);
}
