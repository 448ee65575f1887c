//! Above the wallet's no-confirm limit a payment is PENDING until the shopper confirms,
//! rejects, or the time-out closes it.

mod support;

use chrono::Duration;
use omo_proto::payment::{CancelRequest, DeclineReason, PaymentStatus, QueryRequest};
use omo_proto::shopper::{ConfirmPaymentRequest, ListReceiptsRequest};
use support::{Db, Shopper, TestCloud, assert_status};

fn query(order: &str) -> QueryRequest {
    QueryRequest {
        store_id: "SH-001".into(),
        order_id: order.into(),
    }
}

async fn confirm(c: &mut TestCloud, who: &Shopper, payment_id: &str, approve: bool) -> String {
    c.shopper
        .confirm_payment(who.request(ConfirmPaymentRequest {
            wallet_id: who.wallet_id.clone(),
            payment_id: payment_id.into(),
            approve,
        }))
        .await
        .unwrap()
        .into_inner()
        .status
}

async fn a_pending_payment_is_charged_when_the_shopper_confirms(db: Db) {
    let mut c = TestCloud::start_with(db, |cfg| cfg.no_confirm_limit_fen = 100_00).await;
    let alice = c.enroll(500_00).await;
    let code = c.code(&alice);
    let p = c.authorize("SH-001", "big", 150_00, &code).await.unwrap();
    assert_status(&p, PaymentStatus::Pending, DeclineReason::Unspecified);
    assert_eq!(
        c.balance(&alice).await,
        500_00,
        "nothing is taken before confirmation"
    );
    assert_eq!(
        confirm(&mut c, &alice, &p.payment_id, true).await,
        "SUCCEEDED"
    );
    let q = c
        .payment
        .query(query("big"))
        .await
        .unwrap()
        .into_inner()
        .payment
        .unwrap();
    assert_status(&q, PaymentStatus::Succeeded, DeclineReason::Unspecified);
    assert_eq!(c.balance(&alice).await, 350_00);
    // Confirming twice charges once.
    assert_eq!(
        confirm(&mut c, &alice, &p.payment_id, true).await,
        "SUCCEEDED"
    );
    assert_eq!(c.balance(&alice).await, 350_00);
    let receipts = c
        .shopper
        .list_receipts(alice.request(ListReceiptsRequest {
            wallet_id: alice.wallet_id.clone(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(receipts.receipts.len(), 1);
    assert_eq!(receipts.receipts[0].status, "SUCCEEDED");
    c.stop().await;
}

async fn a_rejected_pending_payment_is_declined(db: Db) {
    let mut c = TestCloud::start_with(db, |cfg| cfg.no_confirm_limit_fen = 100_00).await;
    let alice = c.enroll(500_00).await;
    let code = c.code(&alice);
    let p = c.authorize("SH-001", "big", 150_00, &code).await.unwrap();
    assert_eq!(
        confirm(&mut c, &alice, &p.payment_id, false).await,
        "DECLINED"
    );
    let q = c
        .payment
        .query(query("big"))
        .await
        .unwrap()
        .into_inner()
        .payment
        .unwrap();
    assert_status(&q, PaymentStatus::Declined, DeclineReason::ShopperRejected);
    assert_eq!(c.balance(&alice).await, 500_00);
    c.stop().await;
}

async fn a_pending_payment_times_out_and_cancel_leaves_it_closed(db: Db) {
    let mut c = TestCloud::start_with(db, |cfg| {
        cfg.no_confirm_limit_fen = 100_00;
        cfg.pending_timeout_secs = 60;
    })
    .await;
    let alice = c.enroll(500_00).await;
    let code = c.code(&alice);
    let p = c.authorize("SH-001", "big", 150_00, &code).await.unwrap();
    assert_status(&p, PaymentStatus::Pending, DeclineReason::Unspecified);
    c.clock.advance(Duration::seconds(61));
    let q = c
        .payment
        .query(query("big"))
        .await
        .unwrap()
        .into_inner()
        .payment
        .unwrap();
    assert_status(
        &q,
        PaymentStatus::Declined,
        DeclineReason::ConfirmationTimeout,
    );
    // Too late to confirm.
    assert_eq!(
        confirm(&mut c, &alice, &p.payment_id, true).await,
        "DECLINED"
    );
    let cancelled = c
        .payment
        .cancel(CancelRequest {
            store_id: "SH-001".into(),
            order_id: "big".into(),
            reason: "timeout".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .payment
        .unwrap();
    assert_status(
        &cancelled,
        PaymentStatus::Declined,
        DeclineReason::ConfirmationTimeout,
    );
    assert_eq!(c.balance(&alice).await, 500_00);
    c.stop().await;
}

async fn a_pending_payment_can_be_cancelled_by_the_lane(db: Db) {
    let mut c = TestCloud::start_with(db, |cfg| cfg.no_confirm_limit_fen = 100_00).await;
    let alice = c.enroll(500_00).await;
    let code = c.code(&alice);
    let p = c.authorize("SH-001", "big", 150_00, &code).await.unwrap();
    let cancelled = c
        .payment
        .cancel(CancelRequest {
            store_id: "SH-001".into(),
            order_id: "big".into(),
            reason: "lane closed".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .payment
        .unwrap();
    assert_status(
        &cancelled,
        PaymentStatus::Cancelled,
        DeclineReason::Unspecified,
    );
    assert_eq!(
        confirm(&mut c, &alice, &p.payment_id, true).await,
        "CANCELLED"
    );
    assert_eq!(c.balance(&alice).await, 500_00);
    c.stop().await;
}

async fn the_sweeper_closes_overdue_pending_payments(db: Db) {
    let mut c = TestCloud::start_with(db, |cfg| {
        cfg.no_confirm_limit_fen = 100_00;
        cfg.pending_timeout_secs = 60;
    })
    .await;
    let alice = c.enroll(500_00).await;
    let code = c.code(&alice);
    c.authorize("SH-001", "big", 150_00, &code).await.unwrap();
    c.clock.advance(Duration::seconds(61));
    assert_eq!(c.cloud.payments().sweep_expired().await.unwrap(), 1);
    c.stop().await;
}

on_both_backends!(
    a_pending_payment_is_charged_when_the_shopper_confirms,
    a_rejected_pending_payment_is_declined,
    a_pending_payment_times_out_and_cancel_leaves_it_closed,
    a_pending_payment_can_be_cancelled_by_the_lane,
    the_sweeper_closes_overdue_pending_payments,
);
