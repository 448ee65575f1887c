//! The dashboard's operator routes over real processes: every route the route table gives to
//! operators refuses a request without a session (401), and a refund refuses an attendant (403).
//! A manager looks a lane sale up by order id, wallet and time (the wallet masked), refunds part
//! of it through the cloud once (the same refund id again changes nothing), sees the sale with
//! its payment and masked member on the dashboard in Chromium and refunds the rest there, and
//! cannot refund more than was paid.

mod browser;
mod support;

use std::time::Duration;

use browser::{Browser, operators_toml};
use serde_json::{Value, json};
use support::BrokerKind;
use support::store::TestStore;

const PEN: &str = "4006381333931";
const WAIT: Duration = Duration::from_secs(30);

async fn call(method: &str, url: &str, token: Option<&str>, body: Value) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut request = match method {
        "GET" => client.get(url),
        _ => client.post(url).json(&body),
    };
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_look_up_and_refund_lane_sales_by_role() {
    let mut store = TestStore::start_with(BrokerKind::Mosquitto, 1, &operators_toml()).await;
    store.start_edge().await;
    let base = store.edge_url("");

    // Every operator route refuses a caller without a session, whatever the body says.
    for (method, path, who, _) in omo_edge::web::ROUTES {
        if !who.starts_with("operator") {
            continue;
        }
        let url = format!("{base}{}", path.replace("{id}", "1"));
        // A body every POST route parses, so the refusal is the session's.
        let body = json!({"reason": "no session", "alerts": [{"lane_id": "1", "id": 1}],
            "command": "open_gate", "amount_fen": 1,
            "dropoff": {"lat": 31.2304, "lon": 121.4737, "address": "x"}});
        let (status, _) = call(method, &url, None, body).await;
        assert_eq!(status, 401, "{method} {path} without a session");
    }

    // A sale at lane 1, paid from a wallet.
    let wallet = store.enroll(100_000).await;
    let lane = &store.lanes[0];
    lane.scanner.scan(PEN).await.unwrap();
    lane.scale.set_weight(12);
    support::eventually(WAIT, "the pen bagged", || async {
        let view = store.lane_view("1").await;
        let bagged = view["session"]["bagging"]["awaited"]
            .as_array()
            .is_some_and(|a| a.is_empty());
        (view["item_count"] == 1 && bagged).then_some(())
    })
    .await;
    let before_sale = chrono::Utc::now() - chrono::Duration::seconds(1);
    lane.scanner.scan(&wallet.code()).await.unwrap();
    let manager = support::login(&base, "manager", "manager-pw").await;
    let attendant = support::login(&base, "attendant", "attendant-pw").await;
    let wallet_url = format!("{base}/api/orders?wallet={}", wallet.wallet_id);
    let order = support::eventually(WAIT, "the sale in the look-up", || async {
        let (_, body) = call("GET", &wallet_url, Some(&attendant), Value::Null).await;
        body["orders"].as_array().and_then(|o| o.first().cloned())
    })
    .await;
    assert_eq!(order["total_fen"], 350, "{order}");
    assert_eq!(order["payment"]["status"], "paid", "{order}");
    let masked = format!("{}****", &wallet.wallet_id[..4]);
    assert_eq!(order["member"]["wallet"], masked, "{order}");
    assert!(
        !order.to_string().contains(&wallet.wallet_id),
        "the wallet id leaves the edge masked: {order}"
    );
    let order_id = order["order_id"].as_str().unwrap().to_string();
    assert_eq!(store.balance(&wallet).await, 100_000 - 350);

    // The same sale by order id and by time; a range before it finds nothing.
    let (_, by_id) = call(
        "GET",
        &format!("{base}/api/orders?order_id={order_id}"),
        Some(&attendant),
        Value::Null,
    )
    .await;
    assert_eq!(by_id["orders"][0]["order_id"], order_id.as_str());
    let from = urlencode(&before_sale.to_rfc3339());
    let (_, by_time) = call(
        "GET",
        &format!("{base}/api/orders?from={from}"),
        Some(&attendant),
        Value::Null,
    )
    .await;
    assert_eq!(by_time["orders"].as_array().unwrap().len(), 1, "{by_time}");
    let (_, before) = call(
        "GET",
        &format!("{base}/api/orders?to={from}"),
        Some(&attendant),
        Value::Null,
    )
    .await;
    assert_eq!(before["orders"], json!([]), "{before}");
    let (status, _) = call(
        "GET",
        &format!("{base}/api/orders?from=yesterday"),
        Some(&attendant),
        Value::Null,
    )
    .await;
    assert_eq!(status, 422);

    // An attendant may not refund; a manager must say why.
    let refund_url = format!("{base}/api/orders/{order_id}/refund");
    let refund = json!({"reason": "pen was dry", "amount_fen": 350, "refund_id": "r-pen-1"});
    let (status, _) = call("POST", &refund_url, Some(&attendant), refund.clone()).await;
    assert_eq!(status, 403, "an attendant cannot refund");
    let (status, _) = call(
        "POST",
        &refund_url,
        Some(&manager),
        json!({"reason": " ", "amount_fen": 350}),
    )
    .await;
    assert_eq!(status, 422, "a refund needs a reason");
    assert_eq!(store.balance(&wallet).await, 100_000 - 350);

    // The manager refunds part of it; the same refund again gives nothing more back.
    let part = json!({"reason": "pen was dry", "amount_fen": 150, "refund_id": "r-pen-1"});
    let (status, body) = call("POST", &refund_url, Some(&manager), part.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["payment"]["status"], "partly_refunded", "{body}");
    assert_eq!(store.balance(&wallet).await, 100_000 - 200);
    let (status, body) = call("POST", &refund_url, Some(&manager), part).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["payment"]["refunded_fen"], 150, "{body}");
    assert_eq!(store.balance(&wallet).await, 100_000 - 200);
    // The same key for another amount is refused, and a refund needs a key at all.
    let reused = json!({"reason": "pen was dry", "amount_fen": 100, "refund_id": "r-pen-1"});
    let (status, body) = call("POST", &refund_url, Some(&manager), reused).await;
    assert_eq!(status, 409, "{body}");
    let keyless = json!({"reason": "pen was dry", "amount_fen": 100});
    let (status, body) = call("POST", &refund_url, Some(&manager), keyless).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(store.balance(&wallet).await, 100_000 - 200);

    // On the dashboard the sale shows its payment, member and discounts; the manager refunds
    // the rest there.
    let browser = Browser::start(store.dir.path(), 1366, 900).await;
    browser.log_in(&base, "manager", "manager-pw").await;
    let row = format!("#sales tr[data-order=\"{order_id}\"]");
    browser.wait_for(&row, WAIT).await;
    let text = browser.text(&row).await;
    assert!(
        text.contains("partly refunded") && text.contains("¥3.50") && text.contains(&masked),
        "{text}"
    );
    assert!(!text.contains(&wallet.wallet_id), "{text}");
    browser.click(&format!("{row} button.refund")).await;
    assert_eq!(
        browser
            .eval(
                "return document.getElementById('refund-amount').value",
                json!([])
            )
            .await,
        json!("2.00")
    );
    browser.fill("#refund-reason", "whole pen refunded").await;
    browser.click("#refund-confirm").await;
    browser
        .wait_for(&format!("{row}[data-status=\"refunded\"]"), WAIT)
        .await;
    assert_eq!(store.balance(&wallet).await, 100_000);
    drop(browser);
    let (status, body) = call(
        "POST",
        &refund_url,
        Some(&manager),
        json!({"reason": "again", "amount_fen": 1, "refund_id": "r-pen-2"}),
    )
    .await;
    assert_eq!(status, 422, "nothing is left to refund: {body}");
    assert_eq!(store.balance(&wallet).await, 100_000);
    let (status, _) = call(
        "POST",
        &format!("{base}/api/orders/no-such-order/refund"),
        Some(&manager),
        json!({"reason": "typo"}),
    )
    .await;
    assert_eq!(status, 404);
    let (_, by_id) = call(
        "GET",
        &format!("{base}/api/orders?order_id={order_id}"),
        Some(&attendant),
        Value::Null,
    )
    .await;
    assert_eq!(by_id["orders"][0]["payment"]["status"], "refunded");
    let (status, history) = call(
        "GET",
        &format!("{base}/api/delivery/history"),
        Some(&attendant),
        Value::Null,
    )
    .await;
    assert_eq!((status, &history["orders"]), (200, &json!([])));
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}
