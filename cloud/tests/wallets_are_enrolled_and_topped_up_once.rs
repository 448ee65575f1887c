//! Wallets: enrolment hands out a unique number, a secret and the app token derived from it; a
//! top-up counts once per id; every shopper call needs the wallet's app token.

mod common;

use common::{Db, Shopper, TestCloud};
use omo_cloud::paycode;
use omo_proto::shopper::{EnrollRequest, GetWalletRequest, TopUpRequest};
use tonic::Code;

fn top_up(who: &Shopper, amount_fen: i64, id: &str) -> tonic::Request<TopUpRequest> {
    who.request(TopUpRequest {
        wallet_id: who.wallet_id.clone(),
        amount_fen,
        top_up_id: id.into(),
    })
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
        let secret = paycode::decode_secret(&r.secret_base32).unwrap();
        assert_eq!(r.app_token, paycode::app_token(&secret));
        assert_eq!(r.app_token.len(), 64);
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
    c.stop().await;
}

async fn a_top_up_counts_once_per_id(db: Db) {
    let mut c = TestCloud::start(db).await;
    let alice = c.enroll(10_00).await;
    let w = c
        .shopper
        .top_up(top_up(&alice, 5_00, "bank-1"))
        .await
        .unwrap()
        .into_inner()
        .wallet
        .unwrap();
    assert_eq!(w.balance_fen, 15_00);
    let w = c
        .shopper
        .top_up(top_up(&alice, 5_00, "bank-1"))
        .await
        .unwrap()
        .into_inner()
        .wallet
        .unwrap();
    assert_eq!(w.balance_fen, 15_00, "a repeated top-up adds nothing");
    let err = c
        .shopper
        .top_up(top_up(&alice, 6_00, "bank-1"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let err = c
        .shopper
        .top_up(alice.request(TopUpRequest {
            wallet_id: "99999998".into(),
            amount_fen: 1_00,
            top_up_id: "bank-2".into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
    let err = c
        .shopper
        .top_up(top_up(&alice, 0, "bank-3"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    // bank-2 was refused, so its id is still free.
    c.shopper
        .top_up(top_up(&alice, 1_00, "bank-2"))
        .await
        .unwrap();
    assert_eq!(c.balance(&alice).await, 16_00);
    c.stop().await;
}

async fn shopper_calls_need_the_wallets_app_token(db: Db) {
    let mut c = TestCloud::start(db).await;
    let alice = c.enroll(10_00).await;
    let mallory = c.enroll(10_00).await;
    let get = |wallet: &str| GetWalletRequest {
        wallet_id: wallet.into(),
    };
    let bare = c
        .shopper
        .get_wallet(get(&alice.wallet_id))
        .await
        .unwrap_err();
    assert_eq!(bare.code(), Code::Unauthenticated, "{bare:?}");
    // Knowing a wallet's number (it is in every payment code) is not enough.
    let stolen = c
        .shopper
        .get_wallet(mallory.request(get(&alice.wallet_id)))
        .await
        .unwrap_err();
    assert_eq!(stolen.code(), Code::Unauthenticated);
    let unknown = c
        .shopper
        .get_wallet(mallory.request(get("00000000")))
        .await
        .unwrap_err();
    assert_eq!(
        unknown.code(),
        Code::Unauthenticated,
        "no probing for wallets"
    );
    let own = c
        .shopper
        .get_wallet(alice.request(get(&alice.wallet_id)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.balance_fen, 10_00);
    assert_eq!(c.balance(&alice).await, 10_00);
    c.stop().await;
}

on_both_backends!(
    shopper_calls_need_the_wallets_app_token,
    enrolment_gives_distinct_wallets_with_20_byte_secrets,
    a_top_up_counts_once_per_id
);
