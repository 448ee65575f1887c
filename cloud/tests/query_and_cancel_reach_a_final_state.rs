//! Query tells an edge what happened; Cancel reverses unknown, pending and recent payments.

mod support;

use chrono::Duration;
use omo_proto::payment::{CancelRequest, DeclineReason, PaymentStatus, QueryRequest};
use support::{Db, TestCloud, assert_status};
use tonic::Code;

fn query(store: &str, order: &str) -> QueryRequest {
    QueryRequest {
        store_id: store.into(),
        order_id: order.into(),
    }
}

fn cancel(store: &str, order: &str) -> CancelRequest {
    CancelRequest {
        store_id: store.into(),
        order_id: order.into(),
        reason: "shopper left".into(),
    }
}

async fn query_returns_the_payment_or_not_found(db: Db) {
    let mut c = TestCloud::start(db).await;
    let alice = c.enroll(50_00).await;
    let err = c
        .payment
        .query(query("SH-001", "order-1"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let code = c.code(&alice);
    let paid = c.authorize("SH-001", "order-1", 3_00, &code).await.unwrap();
    let seen = c
        .payment
        .query(query("SH-001", "order-1"))
        .await
        .unwrap()
        .into_inner()
        .payment
        .unwrap();
    assert_eq!(paid, seen);
    c.stop().await;
}

async fn cancelling_an_unknown_order_refuses_a_late_authorize(db: Db) {
    let mut c = TestCloud::start(db).await;
    let alice = c.enroll(50_00).await;
    let p = c
        .payment
        .cancel(cancel("SH-001", "lost"))
        .await
        .unwrap()
        .into_inner()
        .payment
        .unwrap();
    assert_status(&p, PaymentStatus::Cancelled, DeclineReason::Unspecified);
    let code = c.code(&alice);
    let late = c.authorize("SH-001", "lost", 3_00, &code).await.unwrap();
    assert_status(&late, PaymentStatus::Cancelled, DeclineReason::Unspecified);
    assert_eq!(c.balance(&alice).await, 50_00);
    // The code was not consumed by the refused Authorize.
    let p = c.authorize("SH-001", "next", 3_00, &code).await.unwrap();
    assert_status(&p, PaymentStatus::Succeeded, DeclineReason::Unspecified);
    c.stop().await;
}

async fn cancelling_a_recent_success_refunds_it_and_later_is_refused(db: Db) {
    let mut c = TestCloud::start_with(db, |cfg| cfg.cancel_window_secs = 60).await;
    let alice = c.enroll(50_00).await;
    let code = c.code(&alice);
    c.authorize("SH-001", "order-1", 8_00, &code).await.unwrap();
    assert_eq!(c.balance(&alice).await, 42_00);
    let p = c
        .payment
        .cancel(cancel("SH-001", "order-1"))
        .await
        .unwrap()
        .into_inner()
        .payment
        .unwrap();
    assert_status(&p, PaymentStatus::Cancelled, DeclineReason::Unspecified);
    assert_eq!(p.refunded_fen, 8_00);
    assert_eq!(c.balance(&alice).await, 50_00);
    // Cancelling again changes nothing.
    let again = c
        .payment
        .cancel(cancel("SH-001", "order-1"))
        .await
        .unwrap()
        .into_inner()
        .payment
        .unwrap();
    assert_eq!(again.refunded_fen, 8_00);
    assert_eq!(c.balance(&alice).await, 50_00);

    c.next_step();
    let code = c.code(&alice);
    c.authorize("SH-001", "order-2", 5_00, &code).await.unwrap();
    c.clock.advance(Duration::seconds(61));
    let err = c
        .payment
        .cancel(cancel("SH-001", "order-2"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert_eq!(c.balance(&alice).await, 45_00);
    c.stop().await;
}

on_both_backends!(
    query_returns_the_payment_or_not_found,
    cancelling_an_unknown_order_refuses_a_late_authorize,
    cancelling_a_recent_success_refunds_it_and_later_is_refused,
);
