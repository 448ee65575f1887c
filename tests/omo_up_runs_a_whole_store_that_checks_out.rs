//! `omo up` runs a whole store from nothing: within seconds the broker accepts MQTT, the cloud
//! answers gRPC health, the edge answers `/healthz`, and simulated shoppers complete checkouts
//! that are paid in the cloud, recorded at the edge and published as EPCIS events. Ctrl-C
//! (SIGINT) stops it cleanly.

mod support;

use std::time::Duration;

use support::{Listener, OmoUp, eventually, get_json};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn omo_up_serves_every_port_and_completes_checkouts() {
    let dir = tempfile::tempdir().unwrap();
    let OmoUp {
        process: mut up,
        mqtt,
        grpc,
        cloud_http,
        http,
        ..
    } = OmoUp::start(dir.path(), &["--lanes", "2", "--demo-every-secs", "1"]).await;

    // MQTT: a client of our own connects and sees the store's sales.
    let mut trace = Listener::subscribe(mqtt, "omo/v1/stores/SH-001/trace").await;

    // gRPC health of every service.
    let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{grpc}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel);
    for service in [
        "",
        "omo.payment.v1.PaymentService",
        "omo.catalog.v1.CatalogService",
    ] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap_or_else(|e| panic!("health of {service:?}: {e}"))
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32, "service {service:?}");
    }

    // HTTP health of edge and cloud.
    for port in [http, cloud_http] {
        let body = reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
            .await
            .unwrap();
        assert!(body.status().is_success());
    }

    // Simulated shoppers check out: sales at the edge, EPCIS events on the broker.
    let (_, event) = trace
        .wait_for(Duration::from_secs(60), "a sale from omo up", |_, v| {
            v["bizStep"] == "retail_selling"
        })
        .await;
    assert_eq!(event["type"], "ObjectEvent");
    // Sales need an operator's session: the demo's manager.
    let token = support::login(&format!("http://127.0.0.1:{http}"), "manager", "manager").await;
    let token = token.as_str();
    let sales = eventually(Duration::from_secs(60), "two paid checkouts", || async {
        let sales =
            support::get_json_with(&format!("http://127.0.0.1:{http}/api/sales"), token).await;
        (sales["sales"].as_array().map_or(0, |s| s.len()) >= 2).then_some(sales)
    })
    .await;
    for sale in sales["sales"].as_array().unwrap() {
        assert!(sale["total_fen"].as_i64().unwrap() > 0, "{sale}");
    }
    let lanes = get_json(&format!("http://127.0.0.1:{http}/api/lanes")).await;
    assert_eq!(lanes["lanes"].as_array().unwrap().len(), 2);
    let devices = get_json(&format!("http://127.0.0.1:{http}/api/devices")).await;
    let online = devices["devices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] == "online")
        .count();
    assert!(
        online >= 4,
        "scanners and scales of both lanes online: {devices}"
    );
    assert!(
        up.log().contains("checkout:"),
        "each checkout is logged:\n{}",
        up.log()
    );

    // Ctrl-C stops it cleanly.
    let pid = up.pid();
    std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    let exited = eventually(Duration::from_secs(20), "omo up to exit", || {
        let status = up.try_status();
        async move { status }
    })
    .await;
    assert!(exited, "omo up did not exit cleanly:\n{}", up.log());
    assert!(up.log().contains("Omo stopped."));
}
