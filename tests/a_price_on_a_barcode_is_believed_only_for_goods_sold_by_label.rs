//! A price printed into a barcode is the word of whoever printed it. The attack: a shopper prints
//! a GS1-128 label `(01) milk (3922) 0.01` or an in-store `21…` price code on a sticker and scans
//! it at a real lane. The lane believes such prices only for products the catalog marks as sold by
//! label (`priced_by_label`, the store's own weighed fresh goods); anything else is refused with a
//! reason and an attendant is called. Label-priced goods still meet the bagging scale.

mod support;

use std::time::Duration;

use omo_devices::barcode::gtin::check_digit;
use serde_json::Value;
use support::BrokerKind;
use support::store::TestStore;

const WAIT: Duration = Duration::from_secs(30);

async fn wait_lane(
    store: &TestStore,
    lane: &str,
    what: &str,
    pick: impl Fn(&Value) -> bool,
) -> Value {
    support::eventually(WAIT, what, || async {
        let view = store.lane_view(lane).await;
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

/// `21 IIIII PPPPP C`: the store scale's label with a price in fen.
fn price_label(plu: &str, price_fen: u32) -> String {
    let body = format!("21{plu}{price_fen:05}");
    format!("{body}{}", check_digit(&body).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_price_is_refused_and_a_store_label_is_believed_and_weighed() {
    let mut store = TestStore::start(BrokerKind::Embedded, 2).await;
    store.start_edge().await;

    // Lane 1, the attack: milk (not sold by label) at one fen, as a GS1-128 element string
    // with its AIM prefix, exactly as a scanner sends it.
    store.lanes[0]
        .scanner
        .scan("]C1010590123412345739221")
        .await
        .unwrap();
    let view = wait_lane(&store, "1", "the forged price refused", |v| {
        v["state"] == "needs_attendant"
    })
    .await;
    assert_eq!(open_kinds(&view), vec!["price_not_believed"], "{view}");
    assert_eq!(
        view["item_count"], 0,
        "nothing added at the forged price: {view}"
    );
    assert_eq!(view["total_fen"], 0);
    assert_eq!(view["prompt"]["code"], "attendant_coming");

    // Lane 2: the store's own label on salmon (sold by label), 43.21 yuan = 273 g at 158.00/kg.
    let lane = &store.lanes[1];
    lane.scanner
        .scan(&price_label("00042", 4321))
        .await
        .unwrap();
    let view = wait_lane(&store, "2", "the label price taken", |v| {
        v["item_count"] == 1
    })
    .await;
    assert_eq!(view["total_fen"], 4321, "{view}");
    assert!(open_kinds(&view).is_empty(), "{view}");
    lane.scale.set_weight(274);
    wait_lane(&store, "2", "the salmon bagged", |v| {
        v["prompt"]["code"] == "item_bagged"
    })
    .await;

    // A genuine-looking label for 10 g put on 500 g: the scale catches it.
    lane.scanner.scan(&price_label("00042", 158)).await.unwrap();
    lane.scale.set_weight(274 + 500);
    let view = wait_lane(&store, "2", "a weight mismatch", |v| {
        v["state"] == "needs_attendant"
    })
    .await;
    assert!(
        open_kinds(&view).iter().any(|k| k == "weight_mismatch"),
        "{view}"
    );
}
