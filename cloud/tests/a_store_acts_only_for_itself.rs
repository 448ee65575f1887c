//! With store tokens configured, a store's edge may act only for its own store.

mod support;

use omo_cloud::identity::token_sha256;
use omo_proto::catalog::GetChangesRequest;
use omo_proto::payment::{AuthorizeRequest, DeclineReason, PaymentStatus, QueryRequest};
use support::{Db, TestCloud, assert_status};
use tonic::{Code, Request};

fn as_store<T>(token: &str, message: T) -> Request<T> {
    omo_cloud::identity::with_bearer(message, token)
}

async fn a_store_acting_for_another_store_is_refused(db: Db) {
    let mut c = TestCloud::start_with(db, |cfg| {
        cfg.store_token_sha256
            .insert("SH-001".into(), token_sha256("token-of-sh-001"));
        cfg.store_token_sha256
            .insert("SH-002".into(), token_sha256("token-of-sh-002"));
    })
    .await;
    let alice = c.enroll(50_00).await;
    let code = c.code(&alice);
    let authorize = |store: &str| AuthorizeRequest {
        store_id: store.into(),
        order_id: "order-1".into(),
        amount_fen: 1_00,
        payment_code: code.clone(),
        description: String::new(),
        ..Default::default()
    };
    // SH-002's edge tries to charge as SH-001.
    let err = c
        .payment
        .authorize(as_store("token-of-sh-002", authorize("SH-001")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    // No token, or an unknown one.
    let err = c
        .payment
        .authorize(Request::new(authorize("SH-001")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
    let err = c
        .payment
        .authorize(as_store("guess", authorize("SH-001")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
    assert_eq!(
        c.balance(&alice).await,
        50_00,
        "a refused call charges nothing"
    );
    // The right store succeeds, and only it may query its order.
    let p = c
        .payment
        .authorize(as_store("token-of-sh-001", authorize("SH-001")))
        .await
        .unwrap()
        .into_inner()
        .payment
        .unwrap();
    assert_status(&p, PaymentStatus::Succeeded, DeclineReason::Unspecified);
    let q = QueryRequest {
        store_id: "SH-001".into(),
        order_id: "order-1".into(),
    };
    let err = c
        .payment
        .query(as_store("token-of-sh-002", q.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    c.payment
        .query(as_store("token-of-sh-001", q))
        .await
        .unwrap();
    let changes = GetChangesRequest {
        store_id: "SH-001".into(),
        since_version: 0,
        limit: 0,
    };
    let err = c
        .catalog
        .get_changes(as_store("token-of-sh-002", changes.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    c.catalog
        .get_changes(as_store("token-of-sh-001", changes))
        .await
        .unwrap();
    c.stop().await;
}

on_both_backends!(a_store_acting_for_another_store_is_refused);
