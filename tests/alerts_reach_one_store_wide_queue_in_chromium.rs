//! The store-wide alert queue in a real headless Chromium: an alert raised at a lane appears in
//! the queue (lane, cause, age), oldest first, with a beep and the open count in the tab title;
//! an attendant clears one with a reason picked from the list and a typed note, then clears
//! every alert of one cause at once; each clear is audited with that reason.

mod browser;
mod support;

use std::time::Duration;

use browser::{Browser, operators_toml};
use serde_json::json;
use support::BrokerKind;
use support::store::{TestLane, TestStore};

const PEN: &str = "4006381333931";
const WAIT: Duration = Duration::from_secs(30);

/// A pen scanned and bagged at `lane`, so the next weight with no scan is unexpected.
async fn shop(store: &TestStore, lane: &TestLane) {
    lane.scanner.scan(PEN).await.unwrap();
    lane.scale.set_weight(12);
    support::eventually(WAIT, "the pen bagged", || async {
        let view = store.lane_view(&lane.id).await;
        let bagged = view["session"]["bagging"]["awaited"]
            .as_array()
            .is_some_and(|a| a.is_empty());
        (view["item_count"] == 1 && bagged && view["scale_g"] == 12).then_some(())
    })
    .await;
}

async fn title(browser: &Browser) -> String {
    browser
        .eval("return document.title", json!([]))
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_reach_one_store_wide_queue_in_chromium() {
    let mut store = TestStore::start_with(BrokerKind::Mosquitto, 2, &operators_toml()).await;
    store.start_edge().await;
    let base = store.edge_url("");
    let browser = Browser::start(store.dir.path(), 1366, 900).await;
    browser.log_in(&base, "attendant", "attendant-pw").await;
    browser.wait_for(".lane[data-lane=\"2\"]", WAIT).await;
    browser
        .wait_until(
            "the queue ready to beep",
            WAIT,
            "return document.body.dataset.live === 'yes' && window.__omoAlertsPrimed === true",
        )
        .await;
    assert!(!title(&browser).await.starts_with('('));
    browser.wait_for("#alert-empty:not(.hidden)", WAIT).await;

    // Weight with no scan at lane 2, then at lane 1: both alerts in one queue, oldest first.
    shop(&store, &store.lanes[1]).await;
    shop(&store, &store.lanes[0]).await;
    store.lanes[1].scale.set_weight(12 + 800);
    let second = "#alert-queue li[data-lane=\"2\"][data-kind=\"unexpected_item\"]";
    browser.wait_for(second, WAIT).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    store.lanes[0].scale.set_weight(12 + 800);
    let first = "#alert-queue li[data-lane=\"1\"][data-kind=\"unexpected_item\"]";
    browser.wait_for(first, WAIT).await;
    let order = browser
        .eval(
            "return [...document.querySelectorAll('#alert-queue li')].map(li => li.dataset.lane)",
            json!([]),
        )
        .await;
    assert_eq!(order, json!(["2", "1"]), "oldest first");
    let text = browser.text(second).await;
    assert!(
        text.contains("Lane 2") && text.contains("unexpected item") && text.contains(" s"),
        "{text}"
    );
    browser
        .wait_until(
            "the count in the title",
            WAIT,
            "return document.title.startsWith('(2) Omo')",
        )
        .await;
    let beeps = browser.eval("return window.__omoBeeps", json!([])).await;
    assert!(beeps.as_u64() >= Some(2), "a beep per new alert: {beeps}");
    assert_eq!(browser.text("#alert-count").await, "2");

    // Lane 2's alert cleared from the queue with a picked reason and a note.
    let picked = browser
        .eval(
            "const s = document.getElementById('alert-reason'); s.selectedIndex = 1; return s.value",
            json!([]),
        )
        .await;
    let picked = picked.as_str().unwrap().to_string();
    browser.fill("#alert-note", "umbrella").await;
    browser.click(&format!("{second} button.approve")).await;
    browser
        .wait_until(
            "lane 2's alert gone",
            WAIT,
            &format!(
                "return !document.querySelector('{}')",
                second.replace('\'', "\\'")
            ),
        )
        .await;
    browser
        .wait_until(
            "the count in the title",
            WAIT,
            "return document.title.startsWith('(1) Omo')",
        )
        .await;
    browser
        .wait_for(".lane[data-lane=\"2\"][data-state=\"shopping\"]", WAIT)
        .await;

    // Another alert of the same cause at lane 2: both unexpected items go with one click.
    store.lanes[1].scale.set_weight(12 + 800 + 700);
    browser.wait_for(second, WAIT).await;
    browser
        .click("#alert-groups button.clear-kind[data-kind=\"unexpected_item\"]")
        .await;
    browser
        .wait_until(
            "an empty queue",
            WAIT,
            "return document.querySelectorAll('#alert-queue li').length === 0 && !document.title.startsWith('(')",
        )
        .await;
    for lane in ["1", "2"] {
        support::eventually(WAIT, "the lane shopping again", || async {
            let view = store.lane_view(lane).await;
            (view["state"] == "shopping" && view["interventions"] == json!([])).then_some(())
        })
        .await;
    }

    // The audit trail names the attendant and the reason picked (with the note).
    let audit = store.operator_json("/api/actions").await;
    let clears: Vec<&serde_json::Value> = audit["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["command"]["command"] == "clear_intervention")
        .collect();
    assert_eq!(clears.len(), 3, "{audit}");
    assert!(
        clears
            .iter()
            .all(|a| a["operator"] == "attendant" && a["outcome"] == "ok"),
        "{audit}"
    );
    assert!(
        clears
            .iter()
            .any(|a| a["reason"] == format!("{picked}: umbrella")),
        "{audit}"
    );
}
