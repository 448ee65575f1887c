//! With TLS and `client_ca` configured, an edge's client certificate names its store: store A
//! cannot act for store B, and a caller without a certificate is refused. The CA, the cloud's
//! certificate and two stores' certificates are made at test time (rcgen).

mod support;

use std::path::Path;

use omo_cloud::config::TlsConfig;
use omo_proto::payment::payment_service_client::PaymentServiceClient;
use omo_proto::payment::{AuthorizeRequest, DeclineReason, PaymentStatus, QueryRequest};
use omo_proto::shopper::EnrollRequest;
use omo_proto::shopper::shopper_service_client::ShopperServiceClient;
use rcgen::ExtendedKeyUsagePurpose;
use support::test_ca::{Pem, TestCa};
use support::{Db, TestCloud, assert_status};
use tonic::Code;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A TLS channel to the cloud, presenting `client` if given.
async fn connect(c: &TestCloud, ca: &TestCa, client: Option<&Pem>) -> Channel {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&ca.pem))
        .domain_name("localhost");
    if let Some(pem) = client {
        tls = tls.identity(Identity::from_pem(&pem.cert, &pem.key));
    }
    Channel::from_shared(format!("https://{}", c.grpc_addr))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .expect("TLS connect")
}

fn authorize(store: &str, order: &str, code: &str) -> AuthorizeRequest {
    AuthorizeRequest {
        store_id: store.into(),
        order_id: order.into(),
        amount_fen: 1_00,
        payment_code: code.into(),
        ..Default::default()
    }
}

async fn a_store_certificate_acts_only_for_its_store(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let server = ca.leaf(
        "omo-cloud",
        &["localhost", "127.0.0.1"],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let tls = TlsConfig {
        cert: write(dir.path(), "cloud.pem", &server.cert),
        key: write(dir.path(), "cloud-key.pem", &server.key),
        client_ca: Some(write(dir.path(), "ca.pem", &ca.pem)),
        require_client_cert: false,
    };
    let c = TestCloud::start_tls(db, tls).await;
    // Store A is named by its CN, store B by a DNS subjectAltName.
    let store_a = ca.leaf(
        "SH-001",
        &["edge-1.sh-001.local"],
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    let store_b = ca.leaf(
        "edge of store 2",
        &["SH-002"],
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    let mut as_a = PaymentServiceClient::new(connect(&c, &ca, Some(&store_a)).await);
    let mut as_b = PaymentServiceClient::new(connect(&c, &ca, Some(&store_b)).await);
    let anonymous = connect(&c, &ca, None).await;

    // The phone app needs no certificate.
    let mut app = ShopperServiceClient::new(anonymous.clone());
    let enrolled = app
        .enroll(EnrollRequest {
            display_name: "Alice".into(),
            initial_balance_fen: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let wallet = enrolled.wallet.unwrap();
    app.top_up(support::funding_request(omo_proto::shopper::TopUpRequest {
        wallet_id: wallet.wallet_id.clone(),
        amount_fen: 50_00,
        top_up_id: "tls-alice".into(),
    }))
    .await
    .unwrap();
    let secret = omo_cloud::paycode::decode_secret(&enrolled.secret_base32).unwrap();
    let code = omo_cloud::paycode::payment_code(
        &wallet.wallet_id,
        &secret,
        u64::try_from(c.clock_unix()).unwrap(),
    );

    // Store A tries to charge as store B; a caller without a certificate tries as store A.
    let err = as_a
        .authorize(authorize("SH-002", "order-1", &code))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let err = PaymentServiceClient::new(anonymous)
        .authorize(authorize("SH-001", "order-1", &code))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");

    // Each store acts for itself; B cannot read A's order.
    let p = as_a
        .authorize(authorize("SH-001", "order-1", &code))
        .await
        .unwrap()
        .into_inner()
        .payment
        .unwrap();
    assert_status(&p, PaymentStatus::Succeeded, DeclineReason::Unspecified);
    let query = QueryRequest {
        store_id: "SH-001".into(),
        order_id: "order-1".into(),
    };
    let err = as_b.query(query.clone()).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    as_a.query(query).await.unwrap();
    // B is let through for its own store (the order just does not exist).
    let err = as_b
        .query(QueryRequest {
            store_id: "SH-002".into(),
            order_id: "never-seen".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");

    // A certificate from another CA does not get through the handshake.
    let stranger_ca = TestCa::new();
    let stranger = stranger_ca.leaf("SH-001", &["SH-001"], ExtendedKeyUsagePurpose::ClientAuth);
    let channel = Channel::from_shared(format!("https://{}", c.grpc_addr))
        .unwrap()
        .tls_config(
            ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(&ca.pem))
                .domain_name("localhost")
                .identity(Identity::from_pem(&stranger.cert, &stranger.key)),
        )
        .unwrap();
    let refused = match channel.connect().await {
        Err(_) => true,
        Ok(ch) => PaymentServiceClient::new(ch)
            .authorize(authorize("SH-001", "order-2", &code))
            .await
            .is_err(),
    };
    assert!(refused, "a certificate of another CA must be refused");
    c.stop().await;
}

async fn a_cloud_that_requires_certificates_refuses_the_handshake_without_one(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let server = ca.leaf(
        "omo-cloud",
        &["localhost"],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let tls = TlsConfig {
        cert: write(dir.path(), "cloud.pem", &server.cert),
        key: write(dir.path(), "cloud-key.pem", &server.key),
        client_ca: Some(write(dir.path(), "ca.pem", &ca.pem)),
        require_client_cert: true,
    };
    let c = TestCloud::start_tls(db, tls).await;
    let channel = Channel::from_shared(format!("https://{}", c.grpc_addr))
        .unwrap()
        .tls_config(
            ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(&ca.pem))
                .domain_name("localhost"),
        )
        .unwrap();
    let refused = match channel.connect().await {
        Err(_) => true,
        Ok(ch) => ShopperServiceClient::new(ch)
            .enroll(EnrollRequest::default())
            .await
            .is_err(),
    };
    assert!(refused, "no client certificate: no connection");
    let store_a = ca.leaf("SH-001", &["SH-001"], ExtendedKeyUsagePurpose::ClientAuth);
    let mut as_a = PaymentServiceClient::new(connect(&c, &ca, Some(&store_a)).await);
    let err = as_a
        .authorize(authorize("SH-001", "order-1", "280000000000000000"))
        .await
        .map(|r| r.into_inner().payment.unwrap());
    assert!(err.is_ok(), "{err:?}");
    c.stop().await;
}

on_both_backends!(
    a_store_certificate_acts_only_for_its_store,
    a_cloud_that_requires_certificates_refuses_the_handshake_without_one
);
