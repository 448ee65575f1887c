//! `PaymentService.AttachExitPass`: a store's edge attaches the signed exit pass of a basket to
//! the payment it was paid by, and the pass shows only in the paying wallet's `ListReceipts`.
//! The attacks: store SH-002 attaching a pass to SH-001's payment (as SH-001, and as itself),
//! attaching without a store token, and another wallet (or no token) reading the pass.

mod support;

use omo_cloud::identity::{token_sha256, with_bearer};
use omo_proto::payment::AttachExitPassRequest;
use omo_proto::shopper::ListReceiptsRequest;
use support::{Db, TestCloud};
use tonic::{Code, Request};

const PASS: &str = "omo1.SH-001.order-1.1767225605.c2lnbmF0dXJl";

fn attach(store: &str, order: &str, pass: &str) -> AttachExitPassRequest {
    AttachExitPassRequest {
        store_id: store.into(),
        order_id: order.into(),
        exit_pass: pass.into(),
    }
}

async fn the_exit_pass_reaches_only_the_paying_wallet(db: Db) {
    let mut c = TestCloud::start_with(db, |cfg| {
        cfg.store_token_sha256
            .insert("SH-001".into(), token_sha256("token-of-sh-001"));
        cfg.store_token_sha256
            .insert("SH-002".into(), token_sha256("token-of-sh-002"));
    })
    .await;
    let alice = c.enroll(50_00).await;
    let bob = c.enroll(50_00).await;
    let code = c.code(&alice);
    let paid = c
        .payment
        .authorize(with_bearer(
            omo_proto::payment::AuthorizeRequest {
                store_id: "SH-001".into(),
                order_id: "order-1".into(),
                amount_fen: 12_90,
                payment_code: code,
                description: "Omo store SH-001 lane 1".into(),
                ..Default::default()
            },
            "token-of-sh-001",
        ))
        .await
        .unwrap()
        .into_inner()
        .payment
        .unwrap();

    // SH-002 acting as SH-001, SH-002 naming the order as its own, and no token at all.
    let err = c
        .payment
        .attach_exit_pass(with_bearer(
            attach("SH-001", "order-1", "forged"),
            "token-of-sh-002",
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let err = c
        .payment
        .attach_exit_pass(with_bearer(
            attach("SH-002", "order-1", "forged"),
            "token-of-sh-002",
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    let err = c
        .payment
        .attach_exit_pass(Request::new(attach("SH-001", "order-1", "forged")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
    let receipts = list(&mut c, &alice, &alice).await.unwrap();
    assert_eq!(receipts[0].exit_pass, "", "a refused attach leaves nothing");

    // The store that was paid attaches the pass; again changes nothing.
    for _ in 0..2 {
        let attached = c
            .payment
            .attach_exit_pass(with_bearer(
                attach("SH-001", "order-1", PASS),
                "token-of-sh-001",
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(attached.payment_id, paid.payment_id);
    }
    // An order that was not paid takes no pass; a pass must be printable and short.
    let err = c
        .payment
        .attach_exit_pass(with_bearer(
            attach("SH-001", "never-paid", PASS),
            "token-of-sh-001",
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    for bad in ["", "with space", &"x".repeat(2000)] {
        let err = c
            .payment
            .attach_exit_pass(with_bearer(
                attach("SH-001", "order-1", bad),
                "token-of-sh-001",
            ))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{bad:?}");
    }

    // Only Alice's receipts carry it.
    let receipts = list(&mut c, &alice, &alice).await.unwrap();
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0].payment_id, paid.payment_id);
    assert_eq!(receipts[0].exit_pass, PASS);
    let stolen = list(&mut c, &bob, &alice).await.unwrap_err();
    assert!(
        matches!(
            stolen.code(),
            Code::PermissionDenied | Code::Unauthenticated
        ),
        "Bob's app token read Alice's receipts: {stolen:?}"
    );
    let anonymous = c
        .shopper
        .list_receipts(ListReceiptsRequest {
            wallet_id: alice.wallet_id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated, "{anonymous:?}");
    let own = list(&mut c, &bob, &bob).await.unwrap();
    assert!(
        own.iter().all(|r| r.exit_pass.is_empty()),
        "Bob sees a pass: {own:?}"
    );
    c.stop().await;
}

/// `reader`'s app asking for `owner`'s receipts.
async fn list(
    c: &mut TestCloud,
    reader: &support::Shopper,
    owner: &support::Shopper,
) -> Result<Vec<omo_proto::shopper::Receipt>, tonic::Status> {
    c.shopper
        .list_receipts(reader.request(ListReceiptsRequest {
            wallet_id: owner.wallet_id.clone(),
        }))
        .await
        .map(|r| r.into_inner().receipts)
}

on_both_backends!(the_exit_pass_reaches_only_the_paying_wallet);
