//! Refunds: partial or full, idempotent by refund id, never above what was paid.

mod support;

use omo_proto::payment::{DeclineReason, PaymentStatus, RefundRequest};
use support::{Db, TestCloud, assert_status};
use tonic::Code;

fn refund(order: &str, refund_id: &str, amount_fen: i64) -> RefundRequest {
    RefundRequest {
        store_id: "SH-001".into(),
        order_id: order.into(),
        refund_id: refund_id.into(),
        amount_fen,
        reason: "damaged".into(),
    }
}

async fn partial_then_full_refunds_return_the_money_once(db: Db) {
    let mut c = TestCloud::start(db).await;
    let alice = c.enroll(50_00).await;
    let code = c.code(&alice);
    c.authorize("SH-001", "order-1", 20_00, &code)
        .await
        .unwrap();
    let r = c
        .payment
        .refund(refund("order-1", "r1", 5_00))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((r.refund_id.as_str(), r.refund_fen), ("r1", 5_00));
    assert_status(
        r.payment.as_ref().unwrap(),
        PaymentStatus::Succeeded,
        DeclineReason::Unspecified,
    );
    assert_eq!(c.balance(&alice).await, 35_00);
    // The same refund id again changes nothing.
    let again = c
        .payment
        .refund(refund("order-1", "r1", 5_00))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.refund_fen, 5_00);
    assert_eq!(c.balance(&alice).await, 35_00);
    // The same id with another amount is refused.
    let err = c
        .payment
        .refund(refund("order-1", "r1", 6_00))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    // The rest.
    let r = c
        .payment
        .refund(refund("order-1", "r2", 15_00))
        .await
        .unwrap()
        .into_inner();
    let p = r.payment.unwrap();
    assert_status(&p, PaymentStatus::Refunded, DeclineReason::Unspecified);
    assert_eq!(p.refunded_fen, 20_00);
    assert_eq!(c.balance(&alice).await, 50_00);
    c.stop().await;
}

async fn a_refund_above_the_paid_amount_is_refused(db: Db) {
    let mut c = TestCloud::start(db).await;
    let alice = c.enroll(50_00).await;
    let code = c.code(&alice);
    c.authorize("SH-001", "order-1", 20_00, &code)
        .await
        .unwrap();
    let err = c
        .payment
        .refund(refund("order-1", "too-much", 20_01))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    c.payment
        .refund(refund("order-1", "r1", 15_00))
        .await
        .unwrap();
    let err = c
        .payment
        .refund(refund("order-1", "r2", 5_01))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    // The refused id was not burnt: it can be used for a valid amount.
    c.payment
        .refund(refund("order-1", "r2", 5_00))
        .await
        .unwrap();
    assert_eq!(c.balance(&alice).await, 50_00);
    let err = c
        .payment
        .refund(refund("order-1", "r3", 1))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let err = c.payment.refund(refund("nope", "r4", 1)).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    c.stop().await;
}

async fn concurrent_refunds_never_exceed_the_payment(db: Db) {
    let mut c = TestCloud::start(db).await;
    let alice = c.enroll(50_00).await;
    let code = c.code(&alice);
    c.authorize("SH-001", "order-1", 10_00, &code)
        .await
        .unwrap();
    let mut calls = Vec::new();
    for i in 0..8 {
        let mut client = c.payment.clone();
        calls.push(tokio::spawn(async move {
            client
                .refund(refund("order-1", &format!("r{i}"), 3_00))
                .await
        }));
    }
    let mut ok = 0;
    for call in calls {
        if call.await.unwrap().is_ok() {
            ok += 1;
        }
    }
    assert_eq!(ok, 3, "3 x 3.00 fit in 10.00, a fourth does not");
    assert_eq!(c.balance(&alice).await, 49_00);
    c.stop().await;
}

on_both_backends!(
    partial_then_full_refunds_return_the_money_once,
    a_refund_above_the_paid_amount_is_refused,
    concurrent_refunds_never_exceed_the_payment,
);
