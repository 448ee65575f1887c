//! Operators at work on the dashboard in a real headless Chromium: they log in, watch a
//! simulated checkout appear live, clear a weight alert with a reason, see a device go offline
//! when its simulator is unplugged, and an attendant cannot do a manager's job. Takes the
//! dashboard screenshot in docs/ (lane cards unfolded).

mod browser;
mod support;

use std::time::Duration;

use browser::{Browser, docs_path, operators_toml};
use serde_json::json;
use support::BrokerKind;
use support::store::TestStore;

const PEN: &str = "4006381333931";
const MILK: &str = "5901234123457";
const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_watch_and_control_lanes_in_chromium() {
    let mut store = TestStore::start_with(BrokerKind::Mosquitto, 2, &operators_toml()).await;
    store.start_edge().await;
    let base = store.edge_url("");
    let browser = Browser::start(store.dir.path(), 1366, 1500).await;

    // Without a session the dashboard is the login page; a wrong password stays there.
    browser.goto(&format!("{base}/")).await;
    browser.wait_for("#login-form", WAIT).await;
    browser.fill("#name", "manager").await;
    browser.fill("#password", "not-the-password").await;
    browser.click("#login-submit").await;
    browser.wait_for("#login-error", WAIT).await;

    // The manager logs in and sees both lanes, live.
    browser.log_in(&base, "manager", "manager-pw").await;
    browser
        .wait_for(".lane[data-lane=\"1\"][data-state=\"idle\"]", WAIT)
        .await;
    browser.wait_for(".lane[data-lane=\"2\"]", WAIT).await;
    browser
        .wait_until(
            "the live stream",
            WAIT,
            "return document.body.dataset.live === 'yes'",
        )
        .await;
    // A marker that a reload would wipe: everything below must arrive without one.
    browser
        .eval("window.__noReload = true; return true", json!([]))
        .await;

    // Lane cards are compact; an operator unfolds a card's details (basket, alerts, actions).
    browser
        .click(".lane[data-lane=\"1\"] details.more > summary")
        .await;
    browser
        .click(".lane[data-lane=\"2\"] details.more > summary")
        .await;

    // A shopper scans and bags at lane 1: the basket appears on the dashboard as it happens.
    let lane = &store.lanes[0];
    lane.scanner.scan(PEN).await.unwrap();
    lane.scale.set_weight(12);
    browser
        .wait_for(
            &format!(".lane[data-lane=\"1\"] .basket tr[data-gtin$=\"{PEN}\"]"),
            WAIT,
        )
        .await;
    lane.scanner.scan(MILK).await.unwrap();
    lane.scale.set_weight(12 + 1030);
    browser
        .wait_for(
            &format!(".lane[data-lane=\"1\"] .basket tr[data-gtin$=\"{MILK}\"]"),
            WAIT,
        )
        .await;
    let total = browser.text(".lane[data-lane=\"1\"] .total .amount").await;
    assert_eq!(total, "¥16.40");

    support::eventually(WAIT, "both items bagged", || async {
        let view = store.lane_view("1").await;
        let awaited = &view["session"]["bagging"]["awaited"];
        (awaited.as_array().is_some_and(|a| a.is_empty()) && view["scale_g"] == 1042).then_some(())
    })
    .await;

    // Weight with no scan: an unexpected item stops the lane until an attendant comes.
    lane.scale.set_weight(12 + 1030 + 800);
    let alert = ".lane[data-lane=\"1\"] .intervention[data-kind=\"unexpected_item\"]";
    browser.wait_for(alert, WAIT).await;
    browser
        .wait_for(
            ".lane[data-lane=\"1\"][data-state=\"needs_attendant\"]",
            WAIT,
        )
        .await;
    // Approving without a reason is refused by the page before it reaches the lane.
    browser.click(&format!("{alert} button.approve")).await;
    browser
        .wait_until(
            "the request for a reason",
            WAIT,
            "return document.getElementById('toast').textContent.includes('reason')",
        )
        .await;
    browser
        .fill(&format!("{alert} input.reason"), "customer's own umbrella")
        .await;
    browser
        .eval(
            "document.getElementById('toast').classList.add('hidden'); return true",
            json!([]),
        )
        .await;
    browser.screenshot(&docs_path("dashboard.png")).await;
    browser.click(&format!("{alert} button.approve")).await;
    browser
        .wait_for(".lane[data-lane=\"1\"][data-state=\"shopping\"]", WAIT)
        .await;
    assert!(browser.find(alert).await.is_none(), "the alert is cleared");
    // The audit trail names the operator from the session and the reason given.
    browser
        .wait_until(
            "the audit trail entry",
            WAIT,
            "return [...document.querySelectorAll('#audit tbody tr[data-command=clear_intervention]')].some(r => r.innerText.includes('manager') && r.innerText.includes(\"customer's own umbrella\"))",
        )
        .await;

    // Lane 2's bagging scale is unplugged: the dashboard shows it offline.
    store.lanes[1].scale.unplug();
    // The driver reports what it sees: the port gone (`offline`) or no answer (`fault`).
    browser
        .wait_for(
            "#devices tr[data-device=\"lane-2-scale\"]:is([data-status=\"offline\"], [data-status=\"fault\"])",
            WAIT,
        )
        .await;
    let lanes = browser
        .eval("return window.__noReload === true", json!([]))
        .await;
    assert_eq!(lanes, json!(true), "the page was reloaded");

    // A manager may take a lane out of service and put it back.
    browser
        .fill(".lane[data-lane=\"2\"] .lane-reason", "cleaning the scale")
        .await;
    browser.click(".lane[data-lane=\"2\"] button.service").await;
    browser
        .wait_for(
            ".lane[data-lane=\"2\"][data-state=\"out_of_service\"]",
            WAIT,
        )
        .await;
    browser
        .fill(".lane[data-lane=\"2\"] .lane-reason", "clean again")
        .await;
    browser.click(".lane[data-lane=\"2\"] button.service").await;
    browser
        .wait_for(".lane[data-lane=\"2\"][data-state=\"idle\"]", WAIT)
        .await;

    // An attendant: manager-only buttons are disabled, and the API refuses the action (403)
    // even when the page is bypassed.
    browser.click("#logout").await;
    browser.wait_for("#login-form", WAIT).await;
    browser.log_in(&base, "attendant", "attendant-pw").await;
    browser.wait_for(".lane[data-lane=\"2\"]", WAIT).await;
    let disabled = browser
        .eval(
            "return document.querySelector('.lane[data-lane=\"2\"] button.service').disabled",
            json!([]),
        )
        .await;
    assert_eq!(disabled, json!(true));
    let status = browser
        .eval(
            "return fetch('/api/lanes/2/actions', {method: 'POST', headers: {'Content-Type': 'application/json'}, \
             body: JSON.stringify({command: 'out_of_service', reason: 'trying', operator: 'manager', role: 'manager'})}).then(r => r.status)",
            json!([]),
        )
        .await;
    assert_eq!(
        status,
        json!(403),
        "an attendant cannot take a lane out of service"
    );
    // What an attendant may do works, recorded under the attendant's name.
    let status = browser
        .eval(
            "return fetch('/api/lanes/1/actions', {method: 'POST', headers: {'Content-Type': 'application/json'}, \
             body: JSON.stringify({command: 'void_item', line: 1, reason: 'shopper changed their mind', operator: 'manager'})}).then(r => r.status)",
            json!([]),
        )
        .await;
    assert_eq!(status, json!(200));
    browser
        .wait_until(
            "the void on the dashboard",
            WAIT,
            &format!("return !document.querySelector('.lane[data-lane=\"1\"] .basket tr[data-gtin$=\"{PEN}\"]')"),
        )
        .await;
    let audit = reqwest::get(store.edge_url("/api/actions")).await.unwrap();
    assert_eq!(
        audit.status().as_u16(),
        401,
        "the audit trail needs a session"
    );

    // Without a session the API refuses every action (401), whatever the body claims.
    let response = reqwest::Client::new()
        .post(store.edge_url("/api/lanes/1/actions"))
        .json(&json!({"operator": "manager", "role": "manager", "reason": "no session", "command": "open_gate"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let view = store.lane_view("2").await;
    assert_eq!(view["state"], "idle", "{view}");

    // Metrics count the alert by its reason and the scale's errors by device.
    let metrics = reqwest::get(store.edge_url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let unexpected = metrics
        .lines()
        .find_map(|l| l.strip_prefix("omo_alerts_total{reason=\"unexpected_item\"} "))
        .and_then(|v| v.parse::<u64>().ok());
    assert!(unexpected >= Some(1), "{metrics}");
    assert!(
        metrics.contains("omo_device_up{device=\"lane-2-scale\",kind=\"scale\"} 0"),
        "{metrics}"
    );
}
