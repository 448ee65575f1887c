//! Wallets: enrolment hands out a unique, EMPTY wallet, a secret and the app token derived from
//! it; money enters only by a top-up of the funding authority, once per id, each one a movement
//! of the funding account; every shopper call needs the wallet's app token.

mod support;

use omo_cloud::paycode;
use omo_proto::shopper::{
    EnrollRequest, GetWalletRequest, ListFundingMovementsRequest, TopUpRequest,
};
use support::{Db, Shopper, TestCloud, funding_request};
use tonic::Code;

fn top_up(who: &Shopper, amount_fen: i64, id: &str) -> tonic::Request<TopUpRequest> {
    funding_request(TopUpRequest {
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
        assert_eq!(wallet.balance_fen, 0, "a wallet opens empty");
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

/// The attack of issue 12: `omo shopper enroll --balance-fen 90000000000` made a wallet holding
/// 900 million yuan, and the wallet's own app could top itself up. Both are refused now, and
/// nothing entered the books.
async fn money_cannot_be_made_by_enrolling_or_by_the_wallets_own_app(db: Db) {
    let mut c = TestCloud::start(db).await;
    let err = c
        .shopper
        .enroll(EnrollRequest {
            display_name: "Mallory".into(),
            initial_balance_fen: 90_000_000_000,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(err.message().contains("initial_balance_fen"), "{err:?}");
    let mallory = c.enroll(0).await;
    let own = mallory.request(TopUpRequest {
        wallet_id: mallory.wallet_id.clone(),
        amount_fen: 90_000_000_000,
        top_up_id: "self-1".into(),
    });
    let err = c.shopper.top_up(own).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
    let bare = TopUpRequest {
        wallet_id: mallory.wallet_id.clone(),
        amount_fen: 1_00,
        top_up_id: "self-2".into(),
    };
    let err = c.shopper.top_up(bare).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
    let err = c
        .shopper
        .list_funding_movements(mallory.request(ListFundingMovementsRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
    assert_eq!(c.balance(&mallory).await, 0);
    let report = c.cloud.db().ledger_check().await.unwrap();
    assert_eq!(report.wallet_total_fen, 0, "{report:?}");
    c.stop().await;
}

/// Without a configured funding authority no top-up is accepted from anyone.
async fn without_a_funding_authority_no_money_enters(db: Db) {
    let mut c = TestCloud::start_with(db, |cfg| cfg.funding_token_sha256 = None).await;
    let alice = c.enroll(0).await;
    let err = c
        .shopper
        .top_up(top_up(&alice, 1_00, "bank-1"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert!(err.message().contains("funding_token_sha256"), "{err:?}");
    assert_eq!(c.balance(&alice).await, 0);
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
        .top_up(funding_request(TopUpRequest {
            wallet_id: "99999998".into(),
            amount_fen: 1_00,
            top_up_id: "bank-2".into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
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

    // The funding account's movements are auditable: the fixture's opening top-up, bank-1 once,
    // bank-2; each from `funding` to the wallet.
    let audit = c
        .shopper
        .list_funding_movements(funding_request(ListFundingMovementsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    let seen: Vec<(String, String, String, i64)> = audit
        .movements
        .iter()
        .map(|m| {
            (
                m.kind.clone(),
                m.ref_id.clone(),
                m.counter_account.clone(),
                m.amount_fen,
            )
        })
        .collect();
    let to = format!("wallet:{}", alice.wallet_id);
    assert_eq!(
        seen,
        vec![
            (
                "top_up".into(),
                format!("fixture-{}", alice.wallet_id),
                to.clone(),
                10_00
            ),
            ("top_up".into(), "bank-1".into(), to.clone(), 5_00),
            ("top_up".into(), "bank-2".into(), to, 1_00),
        ]
    );
    assert_eq!(audit.total_fen, 16_00);
    let after_first = c
        .shopper
        .list_funding_movements(funding_request(ListFundingMovementsRequest {
            after_seq: audit.movements[0].seq,
            limit: 1,
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(after_first.movements.len(), 1);
    assert_eq!(after_first.movements[0].ref_id, "bank-1");
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
    money_cannot_be_made_by_enrolling_or_by_the_wallets_own_app,
    without_a_funding_authority_no_money_enters,
    shopper_calls_need_the_wallets_app_token,
    enrolment_gives_distinct_wallets_with_20_byte_secrets,
    a_top_up_counts_once_per_id
);
