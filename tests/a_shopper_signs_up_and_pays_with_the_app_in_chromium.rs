//! The shopper's web app (`/app/` on the cloud) in a real headless Chromium at phone size
//! (360 px wide), against a whole store of separate processes:
//! - a shopper signs up in the app, is funded by the funding authority, and sees the balance and
//!   the payment code as a QR code and its 18 digits, and claims a coupon of a live campaign;
//! - the test reads that code from the page's QR image (zbarimg on a screenshot of it) and scans
//!   it at a lane over a pseudo-terminal: the lane is paid with the coupon applied, and the
//!   receipt, the exit pass and the coupon as used appear in the app;
//! - the shopper keeps a delivery address with the phone's position and has that basket
//!   delivered home: a rider takes it in the rider app (`/rider/` on the edge, a second phone)
//!   and accepts, picks up and delivers it there, and the shopper's app shows each step;
//! - goods ordered from the catalog (pieces only) are delivered by the store that delivers to
//!   the kept address and paid once; from 3.2 km away the order is refused with its distance
//!   and nothing is charged;
//! - a product's origin: the Digital Link of a lot's label typed in, and its QR code read by the
//!   phone's camera (a video of the label), each open the lot's page, which starts at the farm;
//!   a code that is not a GS1 link goes nowhere;
//! - the cloud goes away: the app, reloaded with no server at all, still opens (its service
//!   worker) and still shows a payment code it computes itself;
//! - the cloud comes back and that code pays a basket above the no-confirmation limit: the
//!   payment waits, the shopper approves it in the app, and the lane is paid;
//! - the app's API refuses a wallet's calls without its app token, and with another wallet's;
//!   it never acts as a store, and the funding authority's calls are not on it.
//!
//! Screenshots of each screen go to docs/.

mod browser;
mod support;

use std::time::Duration;

use browser::phone::{code_from_qr, qr_video, shown_code};
use browser::{Browser, docs_path};
use omo_edge::delivery::geo::{self, Position};
use omo_proto::catalog::catalog_service_client::CatalogServiceClient;
use omo_proto::catalog::{CouponCampaign, UpsertRequest};
use serde_json::{Value, json};
use support::BrokerKind;
use support::store::{CloudSetup, STORE, TestStore};

const PEN: &str = "4006381333931";
const MILK: &str = "5901234123457";
const WAIT: Duration = Duration::from_secs(30);
const STORE_AT: Position = Position {
    lat: 31.2304,
    lon: 121.4737,
};

/// Scans `gtin` (of `grams`, on top of what is on the scale) and waits until it is bagged.
async fn bag(store: &TestStore, gtin: &str, total_grams: i64, items: u64) {
    let lane = &store.lanes[0];
    lane.scanner.scan(gtin).await.unwrap();
    lane.scale.set_weight(total_grams);
    support::eventually(WAIT, "the item bagged", || async {
        let view = store.lane_view("1").await;
        let bagged = view["session"]["bagging"]["awaited"]
            .as_array()
            .is_some_and(|a| a.is_empty());
        (view["item_count"] == items && bagged).then_some(())
    })
    .await;
}

async fn api(store: &TestStore, method: &str, body: Value, token: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!(
            "http://127.0.0.1:{}/app/api/{method}",
            store.cloud_http_port
        ))
        .json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopper_signs_up_and_pays_with_the_app_in_chromium() {
    let setup = CloudSetup {
        toml: "no_confirm_limit_fen = 1000\n".into(),
        ..CloudSetup::default()
    };
    let mut store = TestStore::start_with_cloud(BrokerKind::Mosquitto, 1, "", setup).await;
    CatalogServiceClient::connect(format!("http://127.0.0.1:{}", store.grpc_port))
        .await
        .unwrap()
        .upsert(UpsertRequest {
            campaigns: vec![CouponCampaign {
                campaign_id: "welcome".into(),
                name: "新人券 Welcome".into(),
                min_spend_fen: 300,
                amount_off_fen: 100,
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    store.start_edge().await;
    let app_url = format!("http://127.0.0.1:{}/app/", store.cloud_http_port);
    // A lot with its origin at the cloud's resolver; its label's QR code before the camera.
    let receiving = "gtin,lot,farm,country,harvest_date,certificates,temperatures\n\
                     2000420000008,APP-LOT-1,Lofoten Sjømat,NO,2026-11-20,ASC,1.5\n";
    for event in
        omo_edge::trace_import::events_from_file(receiving, STORE, chrono::Utc::now()).unwrap()
    {
        support::trace::publish(
            store.broker.port,
            &format!("omo/v1/stores/{STORE}/trace"),
            &event,
        )
        .await;
    }
    let label = "https://id.gs1.org/01/02000420000008/10/APP-LOT-1";
    let camera = store.dir.path().join("label.y4m");
    qr_video(label, &camera);
    let browser = Browser::start_phone_with_camera(store.dir.path(), 360, 740, Some(&camera)).await;

    // Sign up on the phone: a 360 px wide page, nothing running off its side.
    browser.goto(&app_url).await;
    let width = browser
        .eval(
            "return [innerWidth, document.documentElement.scrollWidth]",
            json!([]),
        )
        .await;
    assert_eq!(width, json!([360, 360]), "the page at phone width");
    browser.fill("#name", "小明 Ming").await;
    browser.screenshot(&docs_path("app-sign-up.png")).await;
    browser.click("#signup-button").await;
    let code = shown_code(&browser).await;
    assert!(
        code.len() == 18 && code.starts_with("28") && code.bytes().all(|b| b.is_ascii_digit()),
        "{code}"
    );
    let wallet_id = code[2..10].to_string();
    let mut app = store.app().await;
    support::fund(app.service(), &wallet_id, 100_000).await;
    browser
        .wait_until(
            "the balance",
            WAIT,
            "return document.getElementById('balance').textContent === '¥1000.00'",
        )
        .await;
    assert!(browser.text("#who").await.contains("小明 Ming"));
    browser.screenshot(&docs_path("app-payment-code.png")).await;

    // A coupon to claim in the app; claimed, it waits for the lane.
    browser
        .click("#campaigns li[data-campaign-id=\"welcome\"] button.claim")
        .await;
    browser
        .wait_for(
            "#campaigns li[data-campaign-id=\"welcome\"] .coupon-CLAIMED",
            WAIT,
        )
        .await;
    browser
        .eval(
            "document.getElementById('coupons-card').scrollIntoView()",
            json!([]),
        )
        .await;
    browser.screenshot(&docs_path("app-coupons.png")).await;

    // The lane reads the code from the page's QR image and is paid.
    bag(&store, PEN, 12, 1).await;
    let scanned = code_from_qr(&browser, store.dir.path()).await;
    store.lanes[0].scanner.scan(&scanned).await.unwrap();
    let receipt = browser
        .wait_until(
            "the receipt in the app",
            WAIT,
            "const li = document.querySelector('#receipts li[data-payment-id]'); \
             return li && li.textContent.includes('¥2.50') && li.textContent.includes('Paid') \
               ? li.textContent : null",
        )
        .await;
    assert!(receipt.as_str().unwrap().contains("SH-T"), "{receipt}");
    browser
        .wait_until(
            "the exit pass in the app",
            WAIT,
            "const c = document.getElementById('exit-card'); \
             return !c.hidden && c.querySelector('svg') !== null",
        )
        .await;
    browser
        .wait_until(
            "the new balance",
            WAIT,
            "return document.getElementById('balance').textContent === '¥997.50'",
        )
        .await;
    // The coupon was applied at the lane (¥3.50 less ¥1.00) and shows as used.
    browser
        .wait_for(
            "#campaigns li[data-campaign-id=\"welcome\"] .coupon-REDEEMED",
            WAIT,
        )
        .await;
    browser
        .eval(
            "document.getElementById('receipts').scrollIntoView()",
            json!([]),
        )
        .await;
    browser.screenshot(&docs_path("app-receipt.png")).await;
    // The shopper takes the bag and walks out; the lane is free again.
    store.lanes[0].scale.set_weight(0);
    support::eventually(WAIT, "the lane free again", || async {
        (store.lane_view("1").await["state"] == "idle").then_some(())
    })
    .await;

    // Home delivery of that basket: the address is kept with the phone's position (asked when
    // the shopper taps); a rider takes it in the rider app on another phone, and the shopper's
    // app follows each step.
    let rider_at = geo::destination(STORE_AT, 90.0, 300.0);
    let rider = Browser::start_phone(store.dir.path(), 360, 740).await;
    rider
        .cdp(
            "Browser.grantPermissions",
            json!({ "origin": store.edge_url(""), "permissions": ["geolocation"] }),
        )
        .await;
    rider
        .cdp(
            "Emulation.setGeolocationOverride",
            json!({ "latitude": rider_at.lat, "longitude": rider_at.lon, "accuracy": 10 }),
        )
        .await;
    rider.goto(&store.edge_url("/rider/")).await;
    rider.fill("#rider-id", "rider-app").await;
    // This test broker checks no passwords (the rider app's own test uses the shipped ACL).
    rider.fill("#password", "any").await;
    rider.click("#signin-button").await;
    rider
        .wait_until(
            "the rider's position shared",
            WAIT,
            "return document.getElementById('where').textContent.includes('Position')",
        )
        .await;
    let home = geo::destination(STORE_AT, 30.0, 1_200.0);
    browser
        .cdp(
            "Browser.grantPermissions",
            json!({ "origin": format!("http://127.0.0.1:{}", store.cloud_http_port), "permissions": ["geolocation"] }),
        )
        .await;
    browser
        .cdp(
            "Emulation.setGeolocationOverride",
            json!({ "latitude": home.lat, "longitude": home.lon, "accuracy": 10 }),
        )
        .await;
    browser.fill("#address", "测试路1号 1 Test Road").await;
    browser.click("#locate").await;
    browser
        .wait_until(
            "the address kept",
            WAIT,
            "return document.getElementById('address-kept').textContent.includes('1 Test Road')",
        )
        .await;
    browser.click("#receipts li button.deliver").await;
    let task = "#tasks li[data-status]";
    rider
        .wait_for(&format!("{task} button.accepted"), WAIT)
        .await;
    let shown = |step: &'static str| {
        format!(
            "return [...document.querySelectorAll('#deliveries li[data-status] .steps li.done')] \
             .some(s => s.dataset.step === '{step}')"
        )
    };
    browser
        .wait_until("the store's acceptance", WAIT, &shown("ACCEPTED"))
        .await;
    rider.click(&format!("{task} button.accepted")).await;
    browser
        .wait_until("the rider in the app", WAIT, &shown("RIDER"))
        .await;
    rider.click(&format!("{task} button.picked_up")).await;
    browser
        .wait_until("picked up in the app", WAIT, &shown("PICKED_UP"))
        .await;
    rider.click(&format!("{task} button.delivered")).await;
    browser
        .wait_for("#deliveries li[data-status=\"DELIVERED\"]", WAIT)
        .await;
    let steps = browser
        .eval(
            "return [...document.querySelectorAll('#deliveries li[data-status] .steps li.done')].map(s => s.dataset.step)",
            json!([]),
        )
        .await;
    assert_eq!(
        steps,
        json!(["PLACED", "ACCEPTED", "RIDER", "PICKED_UP", "DELIVERED"])
    );
    assert!(browser.text("#deliveries").await.contains("rider-app"));
    browser
        .eval(
            "document.getElementById('deliveries-card').scrollIntoView()",
            json!([]),
        )
        .await;
    browser.screenshot(&docs_path("app-delivery.png")).await;

    // Goods ordered from the catalog for delivery: priced by the cloud and paid once.
    let before = browser.text("#balance").await;
    assert_eq!(before, "¥997.50");
    browser
        .wait_until(
            "the store that delivers here",
            WAIT,
            "return document.getElementById('order-store').textContent.includes('Delivered by')",
        )
        .await;
    let milk = format!("#products li[data-gtin=\"0{MILK}\"] button.more");
    browser.click(&milk).await;
    browser.click(&milk).await;
    assert!(
        browser
            .find("#products li[data-gtin=\"02000420000008\"]")
            .await
            .is_none(),
        "goods sold by weight are weighed at the store"
    );
    assert_eq!(browser.text("#order-total").await, "¥25.80");
    browser
        .eval(
            "document.getElementById('shop-card').scrollIntoView()",
            json!([]),
        )
        .await;
    browser.screenshot(&docs_path("app-order.png")).await;
    browser.click("#order-button").await;
    browser
        .wait_until(
            "the catalog order placed and paid",
            WAIT,
            "return document.getElementById('balance').textContent === '¥971.70' && \
             document.querySelectorAll('#deliveries li[data-status]').length === 2",
        )
        .await;

    // Beyond the radius: refused with the distance, and nothing charged.
    let far = geo::destination(STORE_AT, 30.0, 3_200.0);
    browser
        .cdp(
            "Emulation.setGeolocationOverride",
            json!({ "latitude": far.lat, "longitude": far.lon, "accuracy": 10 }),
        )
        .await;
    browser.click("#locate").await;
    browser
        .wait_until(
            "the far address kept",
            WAIT,
            "return document.getElementById('order-store').textContent.includes('does not deliver')",
        )
        .await;
    browser
        .click(&format!("#products li[data-gtin=\"0{PEN}\"] button.more"))
        .await;
    browser.click("#order-button").await;
    let refused = browser
        .wait_until(
            "the refusal with its distance",
            WAIT,
            "const li = document.querySelector('#deliveries li[data-status=\"OUT_OF_RANGE\"]'); \
             return li ? li.textContent : null",
        )
        .await;
    assert!(refused.as_str().unwrap().contains("3200 m"), "{refused}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(browser.text("#balance").await, "¥971.70", "nothing charged");

    // A product's origin: the label's link typed in, then its QR code through the camera; each
    // opens the lot's page at the resolver, which starts at the farm.
    let origin = format!(
        "http://127.0.0.1:{}/01/02000420000008/10/APP-LOT-1",
        store.cloud_http_port
    );
    support::eventually(WAIT, "the lot at the resolver", || async {
        let (status, html) =
            support::trace::page(store.cloud_http_port, "/01/02000420000008/10/APP-LOT-1").await;
        (status == 200 && html.contains("Lofoten")).then_some(())
    })
    .await;
    browser.fill("#trace-code", label).await;
    browser.click("#trace-go").await;
    browser
        .wait_until(
            "the typed lot's origin page",
            WAIT,
            &format!(
                "return location.href === '{origin}' && document.body.innerText.includes('Lofoten')"
            ),
        )
        .await;
    browser.goto(&app_url).await;
    browser
        .fill("#trace-code", "javascript:alert(1)//01/1")
        .await;
    browser.click("#trace-go").await;
    assert!(
        browser
            .text("#trace-error")
            .await
            .contains("Not a product code")
    );
    browser.click("#scan").await;
    browser
        .wait_until(
            "the scanned lot's origin page",
            WAIT,
            &format!(
                "return location.href === '{origin}' && document.body.innerText.includes('Lofoten')"
            ),
        )
        .await;
    browser.screenshot(&docs_path("app-origin.png")).await;
    browser.goto(&app_url).await;
    shown_code(&browser).await;

    // The app's API: no token, or another wallet's, gets nothing, whatever the method.
    for method in [
        "get_wallet",
        "set_delivery_address",
        "confirm_payment",
        "claim_coupon",
        "list_coupons",
        "list_campaigns",
        "list_products",
        "place_delivery_order",
        "get_delivery_order",
        "list_receipts",
    ] {
        let body = json!({ "wallet_id": wallet_id, "order_id": "x", "payment_id": "x",
            "campaign_id": "welcome", "claim_id": "x", "store_id": "",
            "address": { "lat": 31.24, "lon": 121.47, "address": "x" } });
        let (status, _) = api(&store, method, body, None).await;
        assert_eq!(status, 401, "{method} without the wallet's app token");
    }
    let other = store.enroll(0).await;
    let other_token = omo_cloud::paycode::app_token(&other.secret);
    let (status, _) = api(
        &store,
        "list_receipts",
        json!({ "wallet_id": wallet_id }),
        Some(&other_token),
    )
    .await;
    assert!(status == 401 || status == 403, "{status}");
    let (status, _) = api(
        &store,
        "list_coupons",
        json!({ "wallet_id": wallet_id, "store_id": "SH-T" }),
        None,
    )
    .await;
    assert_eq!(status, 400, "the app never acts as a store's lane");
    let (status, _) = api(
        &store,
        "top_up",
        json!({ "wallet_id": wallet_id, "amount_fen": 1 }),
        Some(&other_token),
    )
    .await;
    assert_eq!(
        status, 404,
        "the funding authority's call is not on the web"
    );

    // No cloud at all: the app still opens and shows a code it computes itself.
    store.kill_cloud();
    browser.goto(&app_url).await;
    let offline = browser
        .wait_until(
            "a code with no network",
            WAIT,
            "const d = document.getElementById('digits').dataset.code; \
             const n = document.getElementById('net').textContent; \
             return d && n.includes('Offline') ? d : null",
        )
        .await;
    assert!(
        offline
            .as_str()
            .unwrap()
            .starts_with(&format!("28{wallet_id}"))
    );
    browser.screenshot(&docs_path("app-offline.png")).await;

    // Back online, a code of a later step pays a basket above the no-confirmation limit: the
    // payment waits for the shopper, who approves it in the app.
    store.restart_cloud().await;
    bag(&store, MILK, 1030, 1).await;
    let code = loop {
        let code = shown_code(&browser).await;
        if code != scanned {
            break code;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    store.lanes[0].scanner.scan(&code).await.unwrap();
    browser.wait_for("#pending li button.approve", WAIT).await;
    assert!(browser.text("#pending").await.contains("¥12.90"));
    browser
        .eval(
            "document.getElementById('pending-card').scrollIntoView()",
            json!([]),
        )
        .await;
    browser.screenshot(&docs_path("app-confirm.png")).await;
    browser.click("#pending li button.approve").await;
    browser
        .wait_until(
            "the approved payment in the receipts",
            WAIT,
            "return [...document.querySelectorAll('#receipts li')].some(li => \
               li.textContent.includes('¥12.90') && li.textContent.includes('Paid'))",
        )
        .await;
    support::eventually(WAIT, "the lane paid", || async {
        let view = store.lane_view("1").await;
        (["paid", "exiting", "idle"].contains(&view["state"].as_str().unwrap_or_default()))
            .then_some(())
    })
    .await;
    browser
        .wait_until(
            "the balance after both",
            WAIT,
            "return document.getElementById('balance').textContent === '¥958.80'",
        )
        .await;
}
