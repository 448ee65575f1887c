//! Operators' view: gRPC health reports every service SERVING, `/healthz` and `/metrics` answer.

mod support;

use support::{Db, TestCloud};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

/// What `grpcurl list` would print over grpc.reflection.v1: the services reported, sorted.
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

/// What a client that speaks only grpc.reflection.v1alpha (Python's grpcio-reflection, older
/// grpcurl, Postman) sees: the services listed, and the file that defines `symbol` (its name).
async fn reflected_v1alpha(
    channel: tonic::transport::Channel,
    symbol: &str,
) -> (Vec<String>, Vec<String>) {
    use prost::Message as _;
    use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;
    let requests = [
        MessageRequest::ListServices(String::new()),
        MessageRequest::FileContainingSymbol(symbol.into()),
    ]
    .map(|m| ServerReflectionRequest {
        host: String::new(),
        message_request: Some(m),
    });
    let mut replies = ServerReflectionClient::new(channel)
        .server_reflection_info(tokio_stream::iter(requests))
        .await
        .expect("v1alpha reflection answers")
        .into_inner();
    let mut services = Vec::new();
    let mut files = Vec::new();
    while let Some(reply) = replies.message().await.unwrap() {
        match reply.message_response {
            Some(MessageResponse::ListServicesResponse(list)) => {
                services = list.service.into_iter().map(|s| s.name).collect();
            }
            Some(MessageResponse::FileDescriptorResponse(found)) => {
                for bytes in found.file_descriptor_proto {
                    let file = prost_types::FileDescriptorProto::decode(bytes.as_slice()).unwrap();
                    files.push(file.name.unwrap_or_default());
                }
            }
            other => panic!("unexpected v1alpha reflection reply {other:?}"),
        }
    }
    services.sort();
    (services, files)
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
            "grpc.reflection.v1alpha.ServerReflection",
            "omo.catalog.v1.CatalogService",
            "omo.payment.v1.PaymentService",
            "omo.shopper.v1.ShopperService",
            "omo.store.v1.StoreDirectory",
        ]
    );
    let (services, files) =
        reflected_v1alpha(c.channel.clone(), "omo.payment.v1.PaymentService").await;
    assert_eq!(services, reflected_services(c.channel.clone()).await);
    assert!(
        files.iter().any(|f| f.ends_with("payment.proto")),
        "the file defining PaymentService: {files:?}"
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
