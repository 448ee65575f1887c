//! Authorize is idempotent by (store_id, order_id): retries and concurrent duplicates charge once.

mod support;

use omo_proto::payment::{DeclineReason, PaymentStatus};
use support::{Db, TestCloud, assert_status};
use tonic::Code;

async fn a_valid_code_charges_the_wallet_and_credits_the_store(db: Db) {
    let mut c = TestCloud::start(db).await;
    let alice = c.enroll(50_00).await;
    let code = c.code(&alice);
    let p = c
        .authorize("SH-001", "order-1", 12_34, &code)
        .await
        .unwrap();
    assert_status(&p, PaymentStatus::Succeeded, DeclineReason::Unspecified);
    assert_eq!(
        (p.amount_fen, p.wallet_id.as_str(), p.store_id.as_str()),
        (12_34, alice.wallet_id.as_str(), "SH-001")
    );
    assert!(!p.payment_id.is_empty() && p.created_at.ends_with('Z'));
    assert_eq!(c.balance(&alice).await, 50_00 - 12_34);
    let report = c.cloud.db().ledger_check().await.unwrap();
    assert_eq!(report.merchant_total_fen, 12_34);
    c.stop().await;
}

async fn the_same_order_twice_returns_the_first_result_and_charges_once(db: Db) {
    let mut c = TestCloud::start(db).await;
    let alice = c.enroll(50_00).await;
    let code = c.code(&alice);
    let first = c
        .authorize("SH-001", "order-1", 10_00, &code)
        .await
        .unwrap();
    let again = c
        .authorize("SH-001", "order-1", 10_00, &code)
        .await
        .unwrap();
    assert_eq!(first, again);
    assert_eq!(c.balance(&alice).await, 40_00);
    // The same order id in another store is another order.
    c.next_step();
    let other_store = c.code(&alice);
    let p = c
        .authorize("SH-002", "order-1", 10_00, &other_store)
        .await
        .unwrap();
    assert_status(&p, PaymentStatus::Succeeded, DeclineReason::Unspecified);
    assert_ne!(p.payment_id, first.payment_id);
    assert_eq!(c.balance(&alice).await, 30_00);
    c.stop().await;
}

async fn twenty_concurrent_duplicates_charge_once(db: Db) {
    let mut c = TestCloud::start(db).await;
    let alice = c.enroll(50_00).await;
    let code = c.code(&alice);
    let mut calls = Vec::new();
    for _ in 0..20 {
        let mut client = c.payment.clone();
        let code = code.clone();
        calls.push(tokio::spawn(async move {
            client
                .authorize(omo_proto::payment::AuthorizeRequest {
                    store_id: "SH-001".into(),
                    order_id: "order-dup".into(),
                    amount_fen: 7_00,
                    payment_code: code,
                    description: String::new(),
                    ..Default::default()
                })
                .await
                .map(|r| r.into_inner().payment.unwrap())
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    for call in calls {
        let p = call.await.unwrap().expect("every duplicate is answered");
        assert_status(&p, PaymentStatus::Succeeded, DeclineReason::Unspecified);
        ids.insert(p.payment_id);
    }
    assert_eq!(ids.len(), 1, "one payment for one order");
    assert_eq!(c.balance(&alice).await, 43_00);
    c.stop().await;
}

async fn the_same_order_with_another_amount_or_code_is_refused(db: Db) {
    let mut c = TestCloud::start(db).await;
    let alice = c.enroll(50_00).await;
    let code = c.code(&alice);
    c.authorize("SH-001", "order-1", 10_00, &code)
        .await
        .unwrap();
    let err = c
        .authorize("SH-001", "order-1", 11_00, &code)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    c.next_step();
    let new_code = c.code(&alice);
    let err = c
        .authorize("SH-001", "order-1", 10_00, &new_code)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert_eq!(c.balance(&alice).await, 40_00);
    c.stop().await;
}

async fn malformed_requests_are_invalid_arguments(db: Db) {
    let mut c = TestCloud::start(db).await;
    let alice = c.enroll(50_00).await;
    let code = c.code(&alice);
    for (store, order, amount) in [("", "o", 1), ("S", "", 1), ("S", "o", 0), ("S", "o", -5)] {
        let err = c.authorize(store, order, amount, &code).await.unwrap_err();
        assert_eq!(
            err.code(),
            Code::InvalidArgument,
            "{store:?} {order:?} {amount}: {err:?}"
        );
    }
    assert_eq!(c.balance(&alice).await, 50_00);
    // The bad field travels as a google.rpc.BadRequest detail too.
    let err = c.authorize("SH-001", "o", 0, &code).await.unwrap_err();
    use tonic_types::StatusExt;
    let bad = err.get_details_bad_request().expect("a BadRequest detail");
    assert_eq!(bad.field_violations[0].field, "amount_fen");
    c.stop().await;
}

on_both_backends!(
    a_valid_code_charges_the_wallet_and_credits_the_store,
    the_same_order_twice_returns_the_first_result_and_charges_once,
    twenty_concurrent_duplicates_charge_once,
    the_same_order_with_another_amount_or_code_is_refused,
    malformed_requests_are_invalid_arguments,
);
