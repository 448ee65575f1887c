//! The dashboard's delivery panel and trace look-up in a real headless Chromium: an order a
//! shopper places in the app (through the cloud) appears on the operator's delivery board within
//! seconds, with its order id, state in words, rider, distance, address and promise; a lot sold at a lane is looked up from the
//! dashboard and its journey opens on the cloud's resolver page.

mod browser;
mod support;

use std::time::Duration;

use browser::{Browser, operators_toml};
use omo_edge::delivery::geo::Position;
use omo_proto::shopper::{DeliveryLine, Dropoff, PlaceDeliveryOrderRequest};
use support::BrokerKind;
use support::store::{STORE, TestStore};

const PEN: &str = "4006381333931";
const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_follow_app_deliveries_and_trace_a_lot_in_chromium() {
    let mut store = TestStore::start_with(BrokerKind::Mosquitto, 1, &operators_toml()).await;
    store.start_edge().await;
    let base = store.edge_url("");
    let browser = Browser::start(store.dir.path(), 1366, 1500).await;
    browser.log_in(&base, "attendant", "attendant-pw").await;
    browser.wait_for("#delivery-empty", WAIT).await;

    // A shopper orders two pens for home delivery in the app, about 1.5 km north.
    let wallet = store.enroll(100_000).await;
    let order = wallet.request(PlaceDeliveryOrderRequest {
        wallet_id: wallet.wallet_id.clone(),
        store_id: STORE.into(),
        order_id: "app-dash-1".into(),
        lines: vec![DeliveryLine {
            gtin: PEN.into(),
            quantity: 2,
            ..Default::default()
        }],
        purchase_order_id: String::new(),
        dropoff: Some(Dropoff {
            lat: 31.2439,
            lon: 121.4737,
            address: "88 Test Lane, Jing'an".into(),
        }),
    });
    // The edge announces its store when it starts; until the cloud has it, the app is told so.
    let placed = support::eventually(WAIT, "the cloud to know the store", || {
        let order = clone_request(&order);
        async {
            let mut shopper = store.shopper().await;
            shopper
                .place_delivery_order(order)
                .await
                .ok()
                .map(|r| r.into_inner())
        }
    })
    .await;
    assert_eq!(placed.status, "PLACED");

    let row = browser
        .wait_for("#delivery-orders li[data-order=\"app-dash-1\"]", WAIT)
        .await;
    let text = browser
        .text("#delivery-orders li[data-order=\"app-dash-1\"]")
        .await;
    assert!(text.contains("88 Test Lane, Jing'an"), "{text}");
    let metres = omo_edge::delivery::geo::distance_m(
        Position::new(31.2304, 121.4737),
        Position::new(31.2439, 121.4737),
    )
    .round();
    assert!(
        text.contains(&format!("{metres} m")),
        "{metres} m in {text}"
    );
    assert!(text.contains("min left"), "{text}");
    // Its order id, its state in words (not the dispatcher's code), no rider yet, and the
    // promised time.
    assert!(text.contains("app-dash-1"), "{text}");
    assert!(
        ["waiting for a rider", "offered to a rider"]
            .iter()
            .any(|state| text.contains(state)),
        "{text}"
    );
    assert!(
        text.contains("no rider yet") && text.contains("Promised by"),
        "{text}"
    );
    drop(row);
    assert!(
        browser
            .eval(
                "return document.getElementById('delivery-empty').classList.contains('hidden')",
                serde_json::json!([])
            )
            .await
            .as_bool()
            .unwrap(),
        "the empty note is hidden once there is an order"
    );

    // A pen with its lot (a GS1 Digital Link QR) is sold at lane 1: its sale reaches the cloud.
    let lane = &store.lanes[0];
    lane.scanner
        .scan(&format!("https://id.gs1.org/01/0{PEN}/10/LOT-DASH"))
        .await
        .unwrap();
    lane.scale.set_weight(12);
    support::eventually(WAIT, "the pen bagged", || async {
        let view = store.lane_view("1").await;
        let bagged = view["session"]["bagging"]["awaited"]
            .as_array()
            .is_some_and(|a| a.is_empty());
        (view["item_count"] == 1 && bagged).then_some(())
    })
    .await;
    lane.scanner.scan(&wallet.code()).await.unwrap();
    let resolver = format!("http://127.0.0.1:{}", store.cloud_http_port);
    let path = format!("/01/0{PEN}/10/LOT-DASH");
    support::eventually(WAIT, "the sale in the cloud's trace store", || async {
        let response = reqwest::Client::new()
            .get(format!("{resolver}{path}"))
            .header("accept", "application/json")
            .send()
            .await
            .ok()?;
        (response.status() == 200).then_some(())
    })
    .await;

    // The operator looks the lot up on the dashboard: the link is the resolver's, and the page
    // it opens tells the lot's story in words.
    browser.fill("#trace-gtin", PEN).await;
    browser.fill("#trace-lot", "LOT-DASH").await;
    browser
        .eval(
            "window.open = () => null; document.getElementById('trace-form').requestSubmit(); return true",
            serde_json::json!([]),
        )
        .await;
    browser.wait_for("#trace-result a", WAIT).await;
    let href = browser
        .eval(
            "return document.querySelector('#trace-result a').href",
            serde_json::json!([]),
        )
        .await;
    assert_eq!(href.as_str().unwrap(), format!("{resolver}{path}"));
    browser.goto(&format!("{resolver}{path}")).await;
    let page = browser.page_text().await;
    assert!(page.contains("Stabilo pen"), "{page}");
    assert!(page.contains("Sold"), "{page}");
    assert!(page.contains("LOT-DASH"), "{page}");
}

/// A copy of a request with its metadata (tonic requests are not `Clone`).
fn clone_request<T: Clone>(request: &tonic::Request<T>) -> tonic::Request<T> {
    let mut copy = tonic::Request::new(request.get_ref().clone());
    *copy.metadata_mut() = request.metadata().clone();
    copy
}
