//! Payment codes: valid for their step and the one before, once; declines carry their reason.

mod support;

use omo_proto::payment::{DeclineReason, PaymentStatus};
use support::{Db, TestCloud, assert_status};

async fn a_reused_code_is_declined_on_another_order(db: Db) {
    let mut c = TestCloud::start(db).await;
    let alice = c.enroll(50_00).await;
    let code = c.code(&alice);
    c.authorize("SH-001", "order-1", 1_00, &code).await.unwrap();
    let p = c.authorize("SH-001", "order-2", 1_00, &code).await.unwrap();
    assert_status(&p, PaymentStatus::Declined, DeclineReason::CodeAlreadyUsed);
    // Replayed at another store too.
    let p = c.authorize("SH-009", "order-3", 1_00, &code).await.unwrap();
    assert_status(&p, PaymentStatus::Declined, DeclineReason::CodeAlreadyUsed);
    assert_eq!(c.balance(&alice).await, 49_00);
    c.stop().await;
}

async fn the_previous_steps_code_is_accepted_and_older_ones_expire(db: Db) {
    let mut c = TestCloud::start(db).await;
    let alice = c.enroll(50_00).await;
    let previous = c.code_steps_ago(&alice, 1);
    let p = c
        .authorize("SH-001", "order-1", 1_00, &previous)
        .await
        .unwrap();
    assert_status(&p, PaymentStatus::Succeeded, DeclineReason::Unspecified);
    let expired = c.code_steps_ago(&alice, 2);
    let p = c
        .authorize("SH-001", "order-2", 1_00, &expired)
        .await
        .unwrap();
    assert_status(&p, PaymentStatus::Declined, DeclineReason::CodeExpired);
    assert_eq!(c.balance(&alice).await, 49_00);
    c.stop().await;
}

async fn wrong_unknown_and_unreadable_codes_are_declined(db: Db) {
    let mut c = TestCloud::start(db).await;
    let alice = c.enroll(50_00).await;
    let good = c.code(&alice);
    let wrong_otp = format!(
        "{}{}",
        &good[..10],
        if &good[10..] == "00000000" {
            "11111111"
        } else {
            "00000000"
        }
    );
    let p = c.authorize("SH-001", "o1", 1_00, &wrong_otp).await.unwrap();
    assert_status(&p, PaymentStatus::Declined, DeclineReason::CodeInvalid);
    assert_eq!(p.wallet_id, alice.wallet_id);
    let unknown_wallet = if alice.wallet_id == "99999999" {
        "00000000"
    } else {
        "99999999"
    };
    let p = c
        .authorize(
            "SH-001",
            "o2",
            1_00,
            &format!("28{unknown_wallet}{}", &good[10..]),
        )
        .await
        .unwrap();
    // An unknown wallet answers exactly like a wrong code (no probing for wallet numbers).
    assert_status(&p, PaymentStatus::Declined, DeclineReason::CodeInvalid);
    let p = c
        .authorize("SH-001", "o3", 1_00, "6901939621257")
        .await
        .unwrap();
    assert_status(&p, PaymentStatus::Declined, DeclineReason::CodeInvalid);
    assert_eq!(p.wallet_id, "");
    // The genuine code still works after the wrong ones.
    let p = c.authorize("SH-001", "o4", 1_00, &good).await.unwrap();
    assert_status(&p, PaymentStatus::Succeeded, DeclineReason::Unspecified);
    c.stop().await;
}

async fn insufficient_funds_are_declined_and_charge_nothing(db: Db) {
    let mut c = TestCloud::start(db).await;
    let alice = c.enroll(5_00).await;
    let code = c.code(&alice);
    let p = c.authorize("SH-001", "order-1", 5_01, &code).await.unwrap();
    assert_status(
        &p,
        PaymentStatus::Declined,
        DeclineReason::InsufficientFunds,
    );
    assert_eq!(c.balance(&alice).await, 5_00);
    c.next_step();
    let code = c.code(&alice);
    let p = c.authorize("SH-001", "order-2", 5_00, &code).await.unwrap();
    assert_status(&p, PaymentStatus::Succeeded, DeclineReason::Unspecified);
    assert_eq!(c.balance(&alice).await, 0);
    c.stop().await;
}

async fn a_frozen_wallet_is_declined(db: Db) {
    let mut c = TestCloud::start(db).await;
    let alice = c.enroll(50_00).await;
    c.cloud
        .wallets()
        .set_frozen(&alice.wallet_id, true)
        .await
        .unwrap();
    let code = c.code(&alice);
    let p = c.authorize("SH-001", "order-1", 1_00, &code).await.unwrap();
    assert_status(&p, PaymentStatus::Declined, DeclineReason::WalletFrozen);
    assert_eq!(c.balance(&alice).await, 50_00);
    c.stop().await;
}

async fn repeated_wrong_codes_rate_limit_the_wallet(db: Db) {
    let mut c = TestCloud::start_with(db, |cfg| {
        cfg.wrong_code_limit = 3;
        cfg.wrong_code_window_secs = 300;
    })
    .await;
    let alice = c.enroll(50_00).await;
    let good = c.code(&alice);
    let wrong = format!(
        "{}{}",
        &good[..10],
        if &good[10..] == "12345678" {
            "87654321"
        } else {
            "12345678"
        }
    );
    for i in 0..3 {
        let p = c
            .authorize("SH-001", &format!("guess-{i}"), 1_00, &wrong)
            .await
            .unwrap();
        assert_status(&p, PaymentStatus::Declined, DeclineReason::CodeInvalid);
    }
    let p = c.authorize("SH-001", "real", 1_00, &good).await.unwrap();
    assert_status(&p, PaymentStatus::Declined, DeclineReason::RateLimited);
    // After the window the wallet pays again.
    c.clock.advance(chrono::Duration::seconds(301));
    let code = c.code(&alice);
    let p = c.authorize("SH-001", "later", 1_00, &code).await.unwrap();
    assert_status(&p, PaymentStatus::Succeeded, DeclineReason::Unspecified);
    c.stop().await;
}

on_both_backends!(
    a_reused_code_is_declined_on_another_order,
    the_previous_steps_code_is_accepted_and_older_ones_expire,
    wrong_unknown_and_unreadable_codes_are_declined,
    insufficient_funds_are_declined_and_charge_nothing,
    a_frozen_wallet_is_declined,
    repeated_wrong_codes_rate_limit_the_wallet,
);
