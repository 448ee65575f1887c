//! The shopper's lane screen in a real headless Chromium, set up once with the lane's setup link
//! (no operator login on the screen): the basket and running
//! total appear live as items are scanned, the prompt follows the lane, "I use my own bag"
//! reaches the lane, and after payment the screen shows the exit pass QR that the server draws and
//! "Deliver it home" sends the basket to the address kept in the shopper's app.
//! Takes the lane-screen screenshots in docs/.

mod browser;
mod support;

use std::time::Duration;

use browser::{Browser, docs_path};
use omo_proto::shopper::{Dropoff, SetDeliveryAddressRequest};
use serde_json::json;
use support::BrokerKind;
use support::store::TestStore;

const PEN: &str = "4006381333931";
const MILK: &str = "5901234123457";
const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shoppers_see_their_basket_and_exit_pass_on_the_lane_screen() {
    let mut store = TestStore::start(BrokerKind::Mosquitto, 1).await;
    store.start_edge().await;
    let wallet = store.enroll(100_000).await;
    let lane = &store.lanes[0];
    // A 10-inch landscape tablet: a 1280×800 page (the window adds headless Chromium's frame).
    let browser = Browser::start(store.dir.path(), 1280, 943).await;

    // No paid basket yet: no exit pass (and none at all without the screen's cookie), and an
    // unknown lane has no screen.
    let cookie = store.screen_cookie("1").await;
    let exit_pass_svg = || async {
        reqwest::Client::new()
            .get(store.edge_url("/lanes/1/exit-pass.svg"))
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await
            .unwrap()
    };
    assert_eq!(exit_pass_svg().await.status().as_u16(), 404);
    let anyone = reqwest::get(store.edge_url("/lanes/1/exit-pass.svg"))
        .await
        .unwrap();
    assert_eq!(anyone.status().as_u16(), 403);
    let unknown = reqwest::get(store.edge_url("/lanes/9/screen"))
        .await
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 404);

    // The operator opens the lane's setup link on the screen once; it keeps a cookie and lands
    // on the clean URL.
    let setup = cookie.split_once('=').unwrap().1;
    browser
        .goto(&store.edge_url(&format!("/lanes/1/screen?setup={setup}")))
        .await;
    browser
        .wait_for("#prompt[data-code=\"welcome\"]", WAIT)
        .await;
    browser
        .wait_until(
            "the live stream",
            WAIT,
            "return document.getElementById('offline').classList.contains('hidden')",
        )
        .await;

    // Items appear with the running total as they are scanned and bagged.
    lane.scanner.scan(PEN).await.unwrap();
    browser
        .wait_for(&format!("#items li[data-gtin$=\"{PEN}\"]"), WAIT)
        .await;
    lane.scale.set_weight(12);
    support::eventually(WAIT, "the pen bagged", || async {
        let view = store.lane_view("1").await;
        (view["session"]["bagging"]["awaited"]
            .as_array()
            .is_some_and(|a| a.is_empty()))
        .then_some(())
    })
    .await;
    // The shopper brings a bag: the button reaches the lane, which then accepts a light bag.
    browser.click("#own-bag").await;
    support::eventually(WAIT, "the own bag allowed at the lane", || async {
        let view = store.lane_view("1").await;
        (view["session"]["bagging"]["own_bag_allowed"] == true).then_some(())
    })
    .await;
    lane.scale.set_weight(12 + 60);
    browser
        .wait_for("#prompt[data-code=\"bag_accepted\"]", WAIT)
        .await;
    lane.scanner.scan(MILK).await.unwrap();
    browser
        .wait_for(&format!("#items li[data-gtin$=\"{MILK}\"]"), WAIT)
        .await;
    lane.scale.set_weight(12 + 60 + 1030);
    support::eventually(WAIT, "both items bagged", || async {
        let view = store.lane_view("1").await;
        let bagged = view["session"]["bagging"]["awaited"]
            .as_array()
            .is_some_and(|a| a.is_empty());
        (view["item_count"] == 2 && bagged && view["state"] == "shopping").then_some(())
    })
    .await;
    browser
        .wait_until(
            "the total on screen",
            WAIT,
            "return document.getElementById('total').textContent === '¥16.40'",
        )
        .await;
    browser.screenshot(&docs_path("lane-screen.png")).await;

    // Pay with the app's code: the screen shows the exit pass the server draws as a QR code.
    lane.scanner.scan(&wallet.code()).await.unwrap();
    let order = browser
        .wait_until(
            "the exit pass on screen",
            WAIT,
            "const a = document.getElementById('exit-pass'); \
             return !a.classList.contains('hidden') && a.querySelector('svg') ? a.dataset.order : null",
        )
        .await;
    let order = order.as_str().unwrap().to_string();
    let paid_prompt = browser
        .eval(
            "return document.getElementById('prompt').dataset.code",
            json!([]),
        )
        .await;
    assert!(
        ["paid", "exit", "welcome"].contains(&paid_prompt.as_str().unwrap()),
        "{paid_prompt}"
    );
    browser.screenshot(&docs_path("lane-screen-paid.png")).await;

    // The order on screen is the wallet's receipt.
    let receipts = store.receipts(&wallet).await;
    assert_eq!(receipts.len(), 1, "{receipts:?}");
    assert_eq!(receipts[0].amount_fen, 350 + 1290);
    assert!(
        receipts[0].order_id == order,
        "screen shows {order}, receipt {:?}",
        receipts[0]
    );

    // The shopper would rather not carry it: "Deliver it home" sends the basket to the address
    // kept in their app (first without one, which the screen explains).
    browser.click("#deliver-home").await;
    let refused = browser
        .wait_until(
            "the screen's answer without an address",
            WAIT,
            "const r = document.getElementById('delivery-result'); \
             return r.dataset.status === 'refused' ? r.textContent : null",
        )
        .await;
    assert!(
        refused.as_str().unwrap().contains("delivery address"),
        "{refused}"
    );
    store
        .shopper()
        .await
        .set_delivery_address(wallet.request(SetDeliveryAddressRequest {
            wallet_id: wallet.wallet_id.clone(),
            address: Some(Dropoff {
                lat: 31.2390,
                lon: 121.4800,
                address: "12 Home Street".into(),
            }),
        }))
        .await
        .unwrap();
    browser.click("#deliver-home").await;
    let placed = browser
        .wait_until(
            "the screen's answer",
            WAIT,
            "const r = document.getElementById('delivery-result'); \
             return r.dataset.status === 'PLACED' ? r.textContent : null",
        )
        .await;
    assert!(
        placed.as_str().unwrap().contains("12 Home Street"),
        "{placed}"
    );
    let delivery = support::eventually(WAIT, "the delivery accepted at the edge", || async {
        let token = store.operator_token().await;
        let response = reqwest::Client::new()
            .get(store.edge_url(&format!("/api/delivery/orders/home-{order}")))
            .bearer_auth(token)
            .send()
            .await
            .ok()?;
        if response.status() != 200 {
            return None;
        }
        response.json::<serde_json::Value>().await.ok()
    })
    .await;
    let gtins: Vec<&str> = delivery["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["gtin"].as_str().unwrap())
        .collect();
    assert_eq!(gtins.len(), 2, "{delivery}");
    assert_eq!(delivery["dropoff"]["address"], "12 Home Street");

    // Once the shopper has left, the lane has no paid basket: no exit pass.
    support::eventually(WAIT, "the lane idle again", || async {
        (store.lane_view("1").await["state"] == "idle").then_some(())
    })
    .await;
    let gone = exit_pass_svg().await;
    assert_eq!(gone.status().as_u16(), 404);
}
