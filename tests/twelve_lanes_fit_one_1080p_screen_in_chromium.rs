//! The operator view at store scale, in a real headless Chromium at 1920×1080: all 12 lane cards
//! of a 12-lane store (each with its id, state, items, total, alert count and device dots) are
//! within the first screen without scrolling, the page stays short, and at phone width nothing
//! runs off the side; the cards read in Chinese too, and 32 lanes scroll inside the lane panel.
//! Saves docs/dashboard-12-lanes.png.

mod browser;
mod support;

use std::time::Duration;

use browser::{Browser, docs_path, operators_toml};
use serde_json::{Value, json};
use support::BrokerKind;
use support::store::TestStore;

const PEN: &str = "4006381333931";
const MILK: &str = "5901234123457";
const WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twelve_lanes_fit_one_1080p_screen_in_chromium() {
    let mut store = TestStore::start_with(BrokerKind::Mosquitto, 12, &operators_toml()).await;
    store.start_edge().await;
    let base = store.edge_url("");

    // Lanes in different states, as in a busy store: two shopping, one stopped on an alert, one
    // out of service.
    let bagged = |lane: &'static str, items: u64, grams: i64| {
        let store = &store;
        async move {
            support::eventually(WAIT, "the items bagged", || async {
                let view = store.lane_view(lane).await;
                let bagged = view["session"]["bagging"]["awaited"]
                    .as_array()
                    .is_some_and(|a| a.is_empty());
                (view["item_count"] == items && bagged && view["scale_g"] == grams).then_some(())
            })
            .await
        }
    };
    for n in [0, 3, 6] {
        store.lanes[n].scanner.scan(PEN).await.unwrap();
        store.lanes[n].scale.set_weight(12);
    }
    bagged("4", 1, 12).await;
    store.lanes[3].scanner.scan(MILK).await.unwrap();
    store.lanes[3].scale.set_weight(12 + 1030);
    bagged("4", 2, 12 + 1030).await;
    bagged("7", 1, 12).await;
    let lane7 = &store.lanes[6];
    lane7.scale.set_weight(12 + 800);
    let token = store.operator_token().await;
    let response = reqwest::Client::new()
        .post(store.edge_url("/api/lanes/10/actions"))
        .bearer_auth(&token)
        .json(&json!({"command": "out_of_service", "reason": "cleaning"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);

    let browser = Browser::start(store.dir.path(), 1920, 1080).await;
    browser.log_in(&base, "manager", "manager-pw").await;
    browser
        .wait_until(
            "12 lane cards with their device dots",
            WAIT,
            "return document.querySelectorAll('.lane').length === 12 && \
             [...document.querySelectorAll('.lane')].every(c => c.querySelectorAll('.dot').length >= 2)",
        )
        .await;
    browser
        .wait_for(
            ".lane[data-lane=\"7\"][data-state=\"needs_attendant\"]",
            WAIT,
        )
        .await;
    browser
        .wait_for(
            ".lane[data-lane=\"10\"][data-state=\"out_of_service\"]",
            WAIT,
        )
        .await;
    browser
        .wait_for(".lane[data-lane=\"4\"] .total .amount", WAIT)
        .await;
    browser
        .wait_until(
            "lane 4's basket total",
            WAIT,
            "return document.querySelector('.lane[data-lane=\"4\"] .total .amount').textContent === '¥16.40'",
        )
        .await;
    browser
        .eval(
            "document.getElementById('toast').classList.add('hidden'); return true",
            json!([]),
        )
        .await;

    let layout = browser
        .eval(
            "const cards = [...document.querySelectorAll('.lane')].map(c => { const r = c.getBoundingClientRect(); \
             return {lane: c.dataset.lane, top: r.top, left: r.left, bottom: r.bottom, right: r.right, \
             text: c.innerText}; }); \
             return {width: innerWidth, height: innerHeight, scrollY: scrollY, \
             page: document.documentElement.scrollHeight, cards};",
            json!([]),
        )
        .await;
    println!("layout at 1920×1080: {layout}");
    let (width, height) = (
        layout["width"].as_f64().unwrap(),
        layout["height"].as_f64().unwrap(),
    );
    assert_eq!(width, 1920.0, "{layout}");
    assert!(height >= 900.0, "the viewport is {height} px tall");
    let cards = layout["cards"].as_array().unwrap();
    assert_eq!(cards.len(), 12);
    for card in cards {
        let inside = |key: &str, low: f64, high: f64| {
            let v = card[key].as_f64().unwrap();
            v >= low && v <= high
        };
        assert!(
            inside("top", 0.0, height)
                && inside("bottom", 0.0, height)
                && inside("left", 0.0, width)
                && inside("right", 0.0, width),
            "lane {} is not on the first screen: {card}",
            card["lane"]
        );
    }
    // Each card says what an operator scans the floor for.
    let card = |lane: &str| -> String {
        cards
            .iter()
            .find(|c| c["lane"] == lane)
            .and_then(|c| c["text"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    let seven = card("7");
    assert!(
        seven.contains("7") && seven.contains("needs attendant") && seven.contains("⚠ 1"),
        "{seven}"
    );
    assert!(
        seven.contains("1 item") && seven.contains("¥3.50"),
        "{seven}"
    );
    assert!(card("10").contains("out of service"), "{}", card("10"));
    assert!(card("12").contains("idle"), "{}", card("12"));
    // The whole page, the other panels included, is a fraction of the 3,970 px it was.
    let page = layout["page"].as_f64().unwrap();
    assert!(page <= 2.5 * height, "the page is {page} px tall");
    browser
        .screenshot(&docs_path("dashboard-12-lanes.png"))
        .await;

    // In Chinese, the states read in Chinese.
    browser.click("#lang").await;
    browser
        .wait_until(
            "the cards in Chinese",
            WAIT,
            "return document.querySelector('.lane[data-lane=\"10\"] .badge.state').textContent === '停用' && \
             document.querySelector('.lane[data-lane=\"7\"] .badge.state').textContent === '需要协助'",
        )
        .await;
    browser.click("#lang").await;

    // 32 lanes (20 more views shown as the live stream would): the grid scrolls inside its panel
    // and the alert queue stays on the first screen.
    let scrolled = browser
        .eval(
            "for (let n = 13; n <= 32; n++) Board.showLane({lane_id: String(n), store_id: 'SH-T', \
             state: 'idle', seq: 1, completed: 0, interventions: [], item_count: 0, total_fen: 0}); \
             const panel = document.getElementById('lanes-panel'); \
             const queue = document.getElementById('alerts-panel').getBoundingClientRect(); \
             const last = document.querySelector('.lane[data-lane=\"32\"]'); \
             last.scrollIntoView({block: 'nearest'}); \
             const r = last.getBoundingClientRect(); \
             return {cards: document.querySelectorAll('.lane').length, \
               panelBottom: panel.getBoundingClientRect().bottom, queueTop: queue.top, \
               lastBottom: r.bottom, lastTop: r.top, height: innerHeight, scrollY: scrollY};",
            json!([]),
        )
        .await;
    assert_eq!(scrolled["cards"], 32, "{scrolled}");
    let within = |key: &str| scrolled[key].as_f64().unwrap() <= height;
    assert!(
        within("panelBottom") && within("lastBottom") && scrolled["lastTop"].as_f64() >= Some(0.0),
        "the 32nd lane is reachable within the lane panel on one screen: {scrolled}"
    );
    assert_eq!(
        scrolled["scrollY"], 0,
        "the page itself did not scroll: {scrolled}"
    );

    // At phone width the page reflows: nothing runs off the side.
    browser.resize(360, 800).await;
    let overflow: Value = browser
        .wait_until(
            "the narrow layout",
            WAIT,
            "return innerWidth < 600 ? {inner: innerWidth, scroll: document.documentElement.scrollWidth} : null",
        )
        .await;
    assert!(
        overflow["scroll"].as_f64() <= overflow["inner"].as_f64(),
        "horizontal overflow at phone width: {overflow}"
    );
}
