//! Wallets: enrolment hands out a unique number and a secret; a top-up counts once per id.

mod common;

use common::{Db, TestCloud};
use omo_cloud::paycode;
use omo_proto::shopper::{EnrollRequest, GetWalletRequest, TopUpRequest};
use tonic::Code;

fn top_up(wallet: &str, amount_fen: i64, id: &str) -> TopUpRequest {
    TopUpRequest {
        wallet_id: wallet.into(),
        amount_fen,
        top_up_id: id.into(),
    }
}

async fn enrolment_gives_distinct_wallets_with_20_byte_secrets(db: Db) {
    let mut c = TestCloud::start(db).await;
    let mut ids = std::collections::BTreeSet::new();
    for _ in 0..20 {
        let r = c
            .shopper
            .enroll(EnrollRequest {
                display_name: "张三".into(),
                initial_balance_fen: 0,
            })
            .await
            .unwrap()
            .into_inner();
        let wallet = r.wallet.unwrap();
        assert_eq!(wallet.wallet_id.len(), 8);
        assert!(wallet.wallet_id.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(wallet.no_confirm_limit_fen, 100_00);
        assert_eq!(paycode::decode_secret(&r.secret_base32).unwrap().len(), 20);
        assert!(!r.secret_base32.contains('='));
        ids.insert(wallet.wallet_id);
    }
    assert_eq!(ids.len(), 20);
    let err = c
        .shopper
        .enroll(EnrollRequest {
            display_name: "x".into(),
            initial_balance_fen: -1,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let err = c
        .shopper
        .get_wallet(GetWalletRequest {
            wallet_id: "00000000".into(),
        })
        .await;
    if let Err(err) = err {
        assert_eq!(err.code(), Code::NotFound);
    }
    c.stop().await;
}

async fn a_top_up_counts_once_per_id(db: Db) {
    let mut c = TestCloud::start(db).await;
    let alice = c.enroll(10_00).await;
    let w = c
        .shopper
        .top_up(top_up(&alice.wallet_id, 5_00, "bank-1"))
        .await
        .unwrap()
        .into_inner()
        .wallet
        .unwrap();
    assert_eq!(w.balance_fen, 15_00);
    let w = c
        .shopper
        .top_up(top_up(&alice.wallet_id, 5_00, "bank-1"))
        .await
        .unwrap()
        .into_inner()
        .wallet
        .unwrap();
    assert_eq!(w.balance_fen, 15_00, "a repeated top-up adds nothing");
    let err = c
        .shopper
        .top_up(top_up(&alice.wallet_id, 6_00, "bank-1"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let err = c
        .shopper
        .top_up(top_up("99999998", 1_00, "bank-2"))
        .await
        .unwrap_err();
    assert!(matches!(err.code(), Code::NotFound), "{err:?}");
    let err = c
        .shopper
        .top_up(top_up(&alice.wallet_id, 0, "bank-3"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    // bank-2 was refused, so its id is still free.
    c.shopper
        .top_up(top_up(&alice.wallet_id, 1_00, "bank-2"))
        .await
        .unwrap();
    assert_eq!(c.balance(&alice).await, 16_00);
    c.stop().await;
}

on_both_backends!(
    enrolment_gives_distinct_wallets_with_20_byte_secrets,
    a_top_up_counts_once_per_id
);
