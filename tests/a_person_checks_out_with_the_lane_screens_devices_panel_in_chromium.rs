//! In demo mode (`omo up --lanes 2 --manual-lanes 1`), lane 2's screen shows a "devices" panel
//! in a real headless Chromium: the person scans a product from its list, bags it and scans the
//! demo wallet's payment code with its buttons, and the lane takes the payment and shows the
//! exit pass. Lane 1 (driven by simulated shoppers) has no panel, and the panel's routes refuse
//! a browser that is not lane 2's set-up screen. On today's main there is no panel. Run it
//! under `flock /tmp/omo-fixed-ports.lock` (it runs `omo up`).

mod browser;
mod support;

use std::time::Duration;

use browser::Browser;
use support::{OmoUp, eventually};

const WAIT: Duration = Duration::from_secs(30);

/// The setup link of `lane`'s screen, as the banner prints it.
fn setup_path(log: &str, lane: &str) -> String {
    let marker = format!("/lanes/{lane}/screen?setup=");
    let start = log.find(&marker).unwrap();
    log[start..].split_whitespace().next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_checks_out_with_the_lane_screens_devices_panel_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let OmoUp {
        process: mut up,
        http,
        ..
    } = OmoUp::start(dir.path(), &["--lanes", "2", "--manual-lanes", "1"]).await;
    let base = format!("http://127.0.0.1:{http}");
    eventually(WAIT, "the banner", || async {
        up.log().contains("Devices (demo)").then_some(())
    })
    .await;
    let log = up.log();

    // Not lane 2's screen: refused; lane 1 is no manual lane: no panel.
    let anyone = reqwest::get(format!("{base}/lanes/2/devices"))
        .await
        .unwrap();
    assert_eq!(anyone.status().as_u16(), 403);

    let browser = Browser::start(dir.path(), 1280, 943).await;
    browser
        .goto(&format!("{base}{}", setup_path(&log, "1")))
        .await;
    browser.wait_for("#prompt", WAIT).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        browser.find("#devices-panel").await.is_none(),
        "no panel on a lane the simulated shoppers drive"
    );

    // Lane 2's screen: the panel, with the demo catalog and the person's wallet.
    browser
        .goto(&format!("{base}{}", setup_path(&log, "2")))
        .await;
    browser.wait_for("#devices-panel", WAIT).await;
    browser
        .wait_until(
            "the products and the wallet in the panel",
            WAIT,
            "return document.querySelectorAll('#devices-product option').length > 5 \
             && document.querySelectorAll('#devices-wallet option').length === 1",
        )
        .await;
    // The first product: a bottle of water (6921168509256, 2.00 yuan, 570 g).
    browser.click("#devices-scan").await;
    browser
        .wait_for("#items li[data-gtin$=\"6921168509256\"]", WAIT)
        .await;
    browser.click("#devices-bag").await;
    eventually(WAIT, "the water bagged", || async {
        let view = support::get_json(&format!("{base}/api/lanes/2")).await;
        let bagged = view["session"]["bagging"]["awaited"]
            .as_array()
            .is_some_and(|a| a.is_empty());
        (view["item_count"] == 1 && bagged).then_some(())
    })
    .await;
    browser.click("#devices-pay").await;
    browser
        .wait_until(
            "the exit pass on screen",
            WAIT,
            "return !document.getElementById('exit-pass').classList.contains('hidden')",
        )
        .await;
    browser
        .wait_until(
            "the panel sees the gate open",
            WAIT,
            "document.getElementById('devices-pass').click(); \
             return document.getElementById('devices-status').textContent.includes('walked through')",
        )
        .await;
    up.stop();
}
