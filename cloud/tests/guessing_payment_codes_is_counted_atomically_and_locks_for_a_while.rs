//! Guessing payment codes: every wrong code counts, even when many arrive at once (on
//! PostgreSQL concurrent guesses used to count as one); an unknown wallet answers exactly like a
//! wrong code; and the lock that guessing causes ends on its own and cannot be extended.

mod support;

use omo_proto::payment::payment_service_client::PaymentServiceClient;
use omo_proto::payment::{AuthorizeRequest, DeclineReason, Payment, PaymentStatus};
use support::{Db, Shopper, TestCloud, assert_status};
use tonic::transport::Channel;

const LIMIT: u32 = 5;

/// A code of `shopper`'s wallet that is not the current one.
fn wrong_code(c: &TestCloud, shopper: &Shopper) -> String {
    let good = c.code(shopper);
    let otp = if &good[10..] == "12345678" {
        "87654321"
    } else {
        "12345678"
    };
    format!("{}{otp}", &good[..10])
}

async fn bad_codes(c: &TestCloud, wallet_id: &str) -> i64 {
    let (n,): (i64,) =
        sqlx::query_as("SELECT CAST(bad_codes AS BIGINT) FROM wallets WHERE wallet_id = $1")
            .bind(wallet_id)
            .fetch_one(c.cloud.db().pool())
            .await
            .unwrap();
    n
}

fn request(order: &str, code: &str) -> AuthorizeRequest {
    AuthorizeRequest {
        store_id: "SH-001".into(),
        order_id: order.into(),
        amount_fen: 1_00,
        payment_code: code.into(),
        description: "guess".into(),
        ..Default::default()
    }
}

/// The attack: 24 wrong guesses fired at once, each over its own connection. Before the fix,
/// on PostgreSQL they all read a count of 0 and wrote 1, so the limit never locked and the
/// genuine code then paid. Now they are decided one after the other: exactly LIMIT count as
/// wrong codes, the rest are refused as rate limited, and the genuine code is refused too.
async fn concurrent_wrong_guesses_each_count(db: Db) {
    let mut c = TestCloud::start_with(db, |cfg| {
        cfg.wrong_code_limit = LIMIT;
        cfg.database_max_connections = 16;
    })
    .await;
    let alice = c.enroll(50_00).await;
    let wrong = wrong_code(&c, &alice);
    let mut guesses = Vec::new();
    for i in 0..24 {
        let channel = Channel::from_shared(format!("http://{}", c.grpc_addr))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut client = PaymentServiceClient::new(channel);
        let wrong = wrong.clone();
        guesses.push(tokio::spawn(async move {
            client
                .authorize(request(&format!("guess-{i}"), &wrong))
                .await
                .unwrap()
                .into_inner()
                .payment
                .unwrap()
        }));
    }
    let mut answers: Vec<Payment> = Vec::new();
    for guess in guesses {
        answers.push(guess.await.unwrap());
    }
    let reasons = |reason: DeclineReason| {
        answers
            .iter()
            .filter(|p| p.decline_reason == reason as i32)
            .count()
    };
    assert!(
        answers
            .iter()
            .all(|p| p.status == PaymentStatus::Declined as i32)
    );
    assert_eq!(
        reasons(DeclineReason::CodeInvalid),
        LIMIT as usize,
        "only the first {LIMIT} guesses are tried: {answers:?}"
    );
    assert_eq!(reasons(DeclineReason::RateLimited), 24 - LIMIT as usize);
    assert_eq!(bad_codes(&c, &alice.wallet_id).await, i64::from(LIMIT));
    let good = c.code(&alice);
    let p = c.authorize("SH-001", "real", 1_00, &good).await.unwrap();
    assert_status(&p, PaymentStatus::Declined, DeclineReason::RateLimited);
    assert_eq!(c.balance(&alice).await, 50_00);
    c.stop().await;
}

/// A lane (or an attacker at one) learns nothing from a wallet number: a code naming a wallet
/// that does not exist is answered exactly as a wrong code of a real wallet is.
async fn an_unknown_wallet_answers_like_a_wrong_code(db: Db) {
    let mut c = TestCloud::start(db).await;
    let alice = c.enroll(50_00).await;
    let wrong = wrong_code(&c, &alice);
    let unknown_wallet = if alice.wallet_id == "99999999" {
        "00000000"
    } else {
        "99999999"
    };
    let unknown = format!("28{unknown_wallet}{}", &wrong[10..]);
    let a = c.payment.authorize(request("wrong", &wrong)).await;
    let b = c.payment.authorize(request("unknown", &unknown)).await;
    let (a, b) = (
        a.unwrap().into_inner().payment.unwrap(),
        b.unwrap().into_inner().payment.unwrap(),
    );
    assert_eq!(
        (a.status, a.decline_reason, a.amount_fen, a.refunded_fen),
        (b.status, b.decline_reason, b.amount_fen, b.refunded_fen),
        "wrong code {a:?} vs unknown wallet {b:?}"
    );
    assert_status(&b, PaymentStatus::Declined, DeclineReason::CodeInvalid);
    // Each echoes only the wallet number the code itself carried.
    assert_eq!(a.wallet_id, alice.wallet_id);
    assert_eq!(b.wallet_id, unknown_wallet);
    c.stop().await;
}

/// Guessing locks a wallet for at most the window after its first wrong code; guesses while
/// it is locked neither count nor extend it, and after it the count starts again.
async fn a_lock_by_guessing_ends_and_cannot_be_extended(db: Db) {
    let mut c = TestCloud::start_with(db, |cfg| {
        cfg.wrong_code_limit = 3;
        cfg.wrong_code_window_secs = 300;
    })
    .await;
    let alice = c.enroll(50_00).await;
    for i in 0..3 {
        let wrong = wrong_code(&c, &alice);
        let p = c
            .authorize("SH-001", &format!("g{i}"), 1_00, &wrong)
            .await
            .unwrap();
        assert_status(&p, PaymentStatus::Declined, DeclineReason::CodeInvalid);
    }
    // The attacker keeps guessing through the lock to keep the shopper out.
    for i in 0..9 {
        c.clock.advance(chrono::Duration::seconds(30));
        let wrong = wrong_code(&c, &alice);
        let p = c
            .authorize("SH-001", &format!("keep-{i}"), 1_00, &wrong)
            .await
            .unwrap();
        assert_status(&p, PaymentStatus::Declined, DeclineReason::RateLimited);
    }
    assert_eq!(
        bad_codes(&c, &alice.wallet_id).await,
        3,
        "locked guesses do not count"
    );
    let good = c.code(&alice);
    let p = c.authorize("SH-001", "locked", 1_00, &good).await.unwrap();
    assert_status(&p, PaymentStatus::Declined, DeclineReason::RateLimited);
    // 300 s after the first wrong code the lock is over, whatever was tried meanwhile.
    c.clock.advance(chrono::Duration::seconds(31));
    let wrong = wrong_code(&c, &alice);
    let p = c
        .authorize("SH-001", "one-more", 1_00, &wrong)
        .await
        .unwrap();
    assert_status(&p, PaymentStatus::Declined, DeclineReason::CodeInvalid);
    assert_eq!(bad_codes(&c, &alice.wallet_id).await, 1, "a new window");
    let good = c.code(&alice);
    let p = c
        .authorize("SH-001", "unlocked", 1_00, &good)
        .await
        .unwrap();
    assert_status(&p, PaymentStatus::Succeeded, DeclineReason::Unspecified);
    c.stop().await;
}

on_both_backends!(
    concurrent_wrong_guesses_each_count,
    an_unknown_wallet_answers_like_a_wrong_code,
    a_lock_by_guessing_ends_and_cannot_be_extended,
);
