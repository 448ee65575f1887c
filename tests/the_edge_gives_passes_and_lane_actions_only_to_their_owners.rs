//! Issue 12, the edge's trust boundary, attacked over the real edge's HTTP port and a real MQTT
//! subscriber: a caller on the store network without a login or a lane screen's credential
//! cannot place a delivery, read the delivery board or sales, press a lane screen's buttons,
//! nor read an exit pass from the API, the live event stream or the retained lane state; and
//! login guesses are answered 429.

mod support;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::BrokerKind;
use support::store::{STORE, TestStore};

const WAIT: Duration = Duration::from_secs(30);

async fn post(url: &str, cookie: Option<&str>, body: Value) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().post(url).json(&body);
    if let Some(cookie) = cookie {
        request = request.header(reqwest::header::COOKIE, cookie);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get(url: &str, cookie: Option<&str>) -> (StatusCode, String) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(cookie) = cookie {
        request = request.header(reqwest::header::COOKIE, cookie);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_identity_the_edge_gives_no_pass_and_takes_no_action() {
    let mut store = TestStore::start(BrokerKind::Mosquitto, 2).await;
    store.start_edge().await;
    let edge_port = store.edge_port;
    let edge = move |path: &str| format!("http://127.0.0.1:{edge_port}{path}");

    // Delivery orders, the delivery board and sales need an operator's session.
    let (status, _) = post(
        &edge("/api/delivery/orders"),
        None,
        json!({"order_id": "free-1", "dropoff": {"lat": 31.231, "lon": 121.474, "address": "x"}}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a delivery without login");
    for path in [
        "/api/delivery/board",
        "/api/sales",
        "/api/delivery/orders/free-1",
    ] {
        assert_eq!(
            get(&edge(path), None).await.0,
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
    }

    // The lane screen page and its setup: a wrong token sets nothing up; the right one answers
    // with an HttpOnly, SameSite=Strict cookie scoped to the lane and a redirect to the clean URL.
    assert_eq!(
        get(&edge("/lanes/1/screen"), None).await.0,
        StatusCode::FORBIDDEN
    );
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let wrong = no_redirect
        .get(edge(&format!("/lanes/1/screen?setup={}", "0".repeat(64))))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    assert!(wrong.headers().get("set-cookie").is_none());
    let screen_1 = store.screen_cookie("1").await;
    let screen_2 = store.screen_cookie("2").await;
    let token = screen_1.split_once('=').unwrap().1;
    let setup = no_redirect
        .get(edge(&format!("/lanes/1/screen?setup={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(setup.status(), StatusCode::SEE_OTHER);
    assert_eq!(setup.headers()["location"], "/lanes/1/screen");
    let cookie = setup.headers()["set-cookie"].to_str().unwrap().to_string();
    for part in [
        "omo_screen=",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/lanes/1;",
    ] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert_eq!(
        get(&edge("/lanes/1/screen"), Some(&screen_1)).await.0,
        StatusCode::OK
    );
    // Lane 2's screen is nobody at lane 1.
    assert_eq!(
        get(&edge("/lanes/1/screen"), Some(&screen_2)).await.0,
        StatusCode::FORBIDDEN
    );

    // A basket at lane 1. Own bag: not without lane 1's screen, not for another basket, and
    // once only.
    let mut retained_before = store
        .listen(&format!("omo/v1/stores/{STORE}/lanes/1/state"))
        .await;
    let wallet = store.enroll(100_000).await;
    let lane = store.lanes[0].clone();
    lane.scanner.scan("4006381333931").await.unwrap();
    let session = support::eventually(WAIT, "a basket at lane 1", || async {
        store.lane_view("1").await["session"]["id"]
            .as_str()
            .map(str::to_string)
    })
    .await;
    let own_bag = edge("/lanes/1/own-bag");
    let basket = json!({ "session_id": session });
    assert_eq!(
        post(&own_bag, None, basket.clone()).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(&own_bag, Some(&screen_2), basket.clone()).await.0,
        StatusCode::FORBIDDEN
    );
    let stale = json!({ "session_id": "an-earlier-basket" });
    assert_eq!(
        post(&own_bag, Some(&screen_1), stale.clone()).await.0,
        StatusCode::CONFLICT
    );
    let (status, view) = post(&own_bag, Some(&screen_1), basket.clone()).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    let (status, again) = post(&own_bag, Some(&screen_1), basket.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "own bag re-armed: {again}");
    // Not even across a restart of the edge: the claim is in its database.
    store.edge.take().unwrap().kill();
    store.start_edge().await;
    assert_eq!(
        store.lane_view("1").await["session"]["id"],
        session.as_str(),
        "the basket survives the restart"
    );
    let (status, again) = post(&own_bag, Some(&screen_1), basket.clone()).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "own bag re-armed by a restart: {again}"
    );
    // The old routes without a credential are gone.
    assert!(
        !post(&edge("/api/lanes/1/own-bag"), None, basket.clone())
            .await
            .0
            .is_success()
    );
    assert!(
        !post(&edge("/api/lanes/1/delivery"), None, json!({}))
            .await
            .0
            .is_success()
    );

    // The live event stream, watched from before the payment.
    let mut events = reqwest::get(edge("/api/events")).await.unwrap();
    lane.scale.set_weight(12);
    support::eventually(WAIT, "the pen bagged", || async {
        (store.lane_view("1").await["prompt"]["code"] == "item_bagged").then_some(())
    })
    .await;
    lane.scanner.scan(&wallet.code()).await.unwrap();
    let sale = support::eventually(WAIT, "the sale", || async {
        let sales = store.operator_json("/api/sales").await;
        sales["sales"].as_array().and_then(|s| s.first().cloned())
    })
    .await;
    assert!(sale.get("exit_pass").is_none(), "{sale}");
    assert_eq!(sale["session_id"], session.as_str());

    // The pass exists: lane 1's screen (only) gets it.
    let (status, body) = get(&edge("/lanes/1/exit-pass"), Some(&screen_1)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let pass: Value = serde_json::from_str(&body).unwrap();
    let pass = pass["exit_pass"].as_str().unwrap().to_string();
    assert!(pass.starts_with(&format!("OMOX2:K0:{STORE}:1:")), "{pass}");
    for (path, cookie) in [
        ("/lanes/1/exit-pass", None),
        ("/lanes/1/exit-pass", Some(screen_2.as_str())),
        ("/lanes/1/exit-pass.svg", None),
        ("/lanes/1/exit-pass.svg", Some(screen_2.as_str())),
    ] {
        assert_eq!(
            get(&edge(path), cookie).await.0,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    assert_eq!(
        get(&edge("/lanes/1/exit-pass.svg"), Some(&screen_1))
            .await
            .0,
        StatusCode::OK
    );

    // ... and it is nowhere public: not in lanes, sales, the event stream, nor MQTT.
    let signature = pass.rsplit_once(':').unwrap().1.to_string();
    for path in ["/api/lanes", "/api/lanes/1"] {
        let text = get(&edge(path), None).await.1;
        assert!(text.contains("\"paid\"") || text.contains("exiting") || text.contains("idle"));
        assert!(
            !text.contains(&signature) && !text.contains("OMOX"),
            "{path}: {text}"
        );
    }
    let sales = store.operator_json("/api/sales").await.to_string();
    assert!(
        !sales.contains(&signature) && !sales.contains("OMOX"),
        "{sales}"
    );
    let mut streamed = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(3), async {
        while let Ok(Some(chunk)) = events.chunk().await {
            streamed.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await;
    assert!(
        streamed.contains("\"paid\""),
        "the stream saw the payment: {streamed}"
    );
    assert!(
        !streamed.contains("OMOX"),
        "a pass in the event stream: {streamed}"
    );
    let (_, paid) = retained_before
        .wait_for(WAIT, "the paid lane state", |_, v| v["state"] == "paid")
        .await;
    assert!(!paid.to_string().contains("OMOX"), "{paid}");
    // A subscriber arriving later gets the retained state: no pass there either.
    let mut late = store
        .listen(&format!("omo/v1/stores/{STORE}/lanes/1/state"))
        .await;
    let (_, retained) = late
        .wait_for(WAIT, "the retained lane state", |_, _| true)
        .await;
    assert!(!retained.to_string().contains("OMOX"), "{retained}");
    assert!(
        retained["session"]["payment"]
            .get("wallet_id")
            .is_none_or(Value::is_null)
    );

    // "Deliver it home": only lane 1's screen, only for the basket just paid.
    let delivery = edge("/lanes/1/delivery");
    assert_eq!(
        post(&delivery, None, basket.clone()).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(&delivery, Some(&screen_2), basket.clone()).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(&delivery, Some(&screen_1), stale).await.0,
        StatusCode::CONFLICT
    );

    // Guessing an operator's password: after five failures, 429 with Retry-After, even for
    // the right password from the same client.
    let login = |name: &'static str, password: &'static str| {
        let url = edge("/login");
        async move {
            reqwest::Client::new()
                .post(url)
                .json(&json!({ "name": name, "password": password }))
                .send()
                .await
                .unwrap()
        }
    };
    for n in 0..5 {
        let response = login(support::TEST_OPERATOR, "guess").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "guess {n}");
    }
    let limited = login(support::TEST_OPERATOR, support::TEST_PASSWORD).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
}
