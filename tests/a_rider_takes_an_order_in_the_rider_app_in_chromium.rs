//! The rider's web app (`/rider/` on the edge) in two real headless Chromiums at phone size,
//! against `omo edge` and mosquitto with the shipped ACL and passwords:
//! - a wrong password is refused; two riders sign in, each sharing the phone's position;
//! - an order placed at the store is offered to the nearer rider, live, with its drop-off,
//!   distance and promise time; the other rider's app never sees it;
//! - the rider accepts, picks it up and delivers it in the app, and the store's record follows
//!   each step; the other rider, reporting it delivered through the app's API, changes nothing;
//! - the rider app's API answers nobody without a rider's token.
//!
//! Screenshots of the rider app go to docs/.

mod browser;
#[path = "support/delivery.rs"]
mod delivery;
mod support;

use std::time::Duration;

use browser::{Browser, docs_path};
use delivery::{AclBroker, Edge, STORE_AT, password};
use omo_edge::delivery::geo::{self, Position};
use serde_json::{Value, json};
use support::BrokerKind;

const WAIT: Duration = Duration::from_secs(30);

async fn rider_phone(dir: &std::path::Path, port: u16, rider: &str, at: Position) -> Browser {
    let phone = Browser::start_phone(dir, 360, 740).await;
    let origin = format!("http://127.0.0.1:{port}");
    phone
        .cdp(
            "Browser.grantPermissions",
            json!({ "origin": origin, "permissions": ["geolocation"] }),
        )
        .await;
    phone
        .cdp(
            "Emulation.setGeolocationOverride",
            json!({ "latitude": at.lat, "longitude": at.lon, "accuracy": 10 }),
        )
        .await;
    phone.goto(&format!("{origin}/rider/")).await;
    phone.fill("#rider-id", rider).await;
    phone.fill("#password", &password(rider)).await;
    phone.click("#signin-button").await;
    phone
        .wait_until(
            "signed in",
            WAIT,
            &format!("return document.getElementById('who').textContent.includes('{rider}')"),
        )
        .await;
    phone
}

async fn order_at_edge(port: u16, token: &str, id: &str) -> Value {
    support::get_json_with(
        &format!("http://127.0.0.1:{port}/api/delivery/orders/{id}"),
        token,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rider_takes_an_order_in_the_rider_app_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let broker = AclBroker::start_kind(BrokerKind::Mosquitto, dir.path()).await;
    let (_edge, port) = Edge::start(dir.path(), &broker).await;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();

    // A wrong password is the broker's "no".
    let refused = http
        .post(format!("{base}/rider/api/login"))
        .json(&json!({ "rider_id": "rider-a", "password": "guess" }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    let nobody = http
        .get(format!("{base}/rider/api/messages"))
        .send()
        .await
        .unwrap();
    assert_eq!(nobody.status().as_u16(), 401);
    for (method, path, who, _) in omo_edge::web::ROUTES {
        if *who != "rider" {
            continue;
        }
        let url = format!("{base}{path}");
        let request = if *method == "GET" {
            http.get(&url)
        } else {
            http.post(&url).json(&json!({}))
        };
        let status = request
            .bearer_auth("not-a-token")
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(
            status.as_u16(),
            401,
            "{method} {path} without a rider's token"
        );
    }

    let near = geo::destination(STORE_AT, 0.0, 100.0);
    let far = geo::destination(STORE_AT, 180.0, 1_500.0);
    let rider_a = rider_phone(dir.path(), port, "rider-a", near).await;
    let rider_b = rider_phone(dir.path(), port, "rider-b", far).await;
    let token = support::operator_token(&base).await;
    support::eventually(WAIT, "both riders on the board", || async {
        let board = support::get_json_with(&format!("{base}/api/delivery/board"), &token).await;
        (board["riders"].as_array().map_or(0, |r| r.len()) == 2).then_some(())
    })
    .await;

    // An order for the store: offered to the nearer rider, in the app.
    let to = geo::destination(STORE_AT, 90.0, 1_000.0);
    let placed = http
        .post(format!("{base}/api/delivery/orders"))
        .bearer_auth(&token)
        .json(&json!({"order_id": "o-app", "dropoff": {"lat": to.lat, "lon": to.lon, "address": "东路1号 1 East Road"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(placed.status().as_u16(), 201);
    let offer = rider_a
        .wait_for(
            "#tasks li[data-order-id=\"o-app\"][data-status=\"offered\"]",
            WAIT,
        )
        .await;
    let _ = offer;
    let text = rider_a.text("#tasks").await;
    assert!(
        text.contains("1 East Road") && text.contains("km"),
        "{text}"
    );
    rider_a.screenshot(&docs_path("rider-offer.png")).await;

    // Accepted, picked up, delivered: the store follows each step.
    for (button, status) in [("accepted", "accepted"), ("picked_up", "picked_up")] {
        rider_a
            .click(&format!(
                "#tasks li[data-order-id=\"o-app\"] button.{button}"
            ))
            .await;
        support::eventually(
            WAIT,
            &format!("the order {status} at the store"),
            || async {
                (order_at_edge(port, &token, "o-app").await["status"] == status).then_some(())
            },
        )
        .await;
    }
    let view = order_at_edge(port, &token, "o-app").await;
    assert_eq!(view["rider_id"], "rider-a", "{view}");

    // The other rider never saw it, and cannot finish it through the app's API.
    let b_text = rider_b.text("#tasks").await;
    assert!(!b_text.contains("o-app"), "rider-b's app shows: {b_text}");
    let b_token = rider_b
        .eval("return localStorage.getItem('omo-rider-token')", json!([]))
        .await;
    let forged = http
        .post(format!("{base}/rider/api/events"))
        .bearer_auth(b_token.as_str().unwrap())
        .json(&json!({ "id": "forged-1", "event": "delivered", "order_id": "o-app" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        forged.status().as_u16(),
        200,
        "published as rider-b, its own topic"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        order_at_edge(port, &token, "o-app").await["status"],
        "picked_up",
        "rider-b's word does not deliver rider-a's order"
    );

    rider_a
        .click("#tasks li[data-order-id=\"o-app\"] button.delivered")
        .await;
    support::eventually(WAIT, "the order delivered at the store", || async {
        (order_at_edge(port, &token, "o-app").await["status"] == "delivered").then_some(())
    })
    .await;
    rider_a
        .wait_for(
            "#tasks li[data-order-id=\"o-app\"][data-status=\"delivered\"]",
            WAIT,
        )
        .await;
    rider_a.screenshot(&docs_path("rider-delivered.png")).await;
    assert!(!rider_b.text("#tasks").await.contains("o-app"));

    // Guessing a rider's password: after 5 failures the edge stops asking the broker (last,
    // as it locks this test's IP for a minute).
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let answer = http
            .post(format!("{base}/rider/api/login"))
            .json(&json!({ "rider_id": "rider-a", "password": "guess" }))
            .send()
            .await
            .unwrap();
        statuses.push(answer.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429], "{statuses:?}");
}
