//! Operators' view: gRPC health reports every service SERVING, `/healthz` and `/metrics` answer.

mod common;

use common::{Db, TestCloud};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

/// What `grpcurl list` would print: the services reflection reports, sorted.
async fn reflected_services(channel: tonic::transport::Channel) -> Vec<String> {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut replies = ServerReflectionClient::new(channel)
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let reply = replies
        .message()
        .await
        .unwrap()
        .expect("a reflection reply");
    let Some(MessageResponse::ListServicesResponse(list)) = reply.message_response else {
        panic!("unexpected reflection reply {reply:?}");
    };
    let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    names.sort();
    names
}

async fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

async fn every_service_reports_serving_and_http_answers(db: Db) {
    let mut c = TestCloud::start(db).await;
    let mut health = HealthClient::new(c.channel.clone());
    for service in [
        "",
        "omo.payment.v1.PaymentService",
        "omo.catalog.v1.CatalogService",
        "omo.shopper.v1.ShopperService",
        "omo.store.v1.StoreDirectory",
    ] {
        let r = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(r.status, 1, "{service:?} SERVING");
    }
    assert_eq!(
        reflected_services(c.channel.clone()).await,
        [
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "omo.catalog.v1.CatalogService",
            "omo.payment.v1.PaymentService",
            "omo.shopper.v1.ShopperService",
            "omo.store.v1.StoreDirectory",
        ]
    );
    let alice = c.enroll(10_00).await;
    let code = c.code(&alice);
    c.authorize("SH-001", "o1", 1_00, &code).await.unwrap();

    let healthz = http_get(c.http_addr, "/healthz").await;
    assert!(
        healthz.starts_with("HTTP/1.1 200") && healthz.ends_with("ok\n"),
        "{healthz}"
    );
    let metrics = http_get(c.http_addr, "/metrics").await;
    assert!(
        metrics.contains("omo_cloud_payments_total{result=\"succeeded\",reason=\"\"} 1"),
        "{metrics}"
    );
    assert!(
        !metrics.contains(&code),
        "payment codes never leave the cloud"
    );
    let resolver = http_get(c.http_addr, "/01/06921168509256").await;
    assert!(resolver.starts_with("HTTP/1.1 404"), "{resolver}");
    c.stop().await;
}

on_both_backends!(every_service_reports_serving_and_http_answers);
