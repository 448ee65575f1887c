//! Coupons: claimed online once per wallet and campaign (idempotent by claim id), redeemed by
//! Authorize in the charge's own transaction, given back when the payment is cancelled or
//! declined, never redeemed twice by a replay.

mod support;

use chrono::Duration;
use omo_proto::catalog::{CouponCampaign, UpsertRequest};
use omo_proto::payment::{
    AuthorizeRequest, CancelRequest, CouponShare, DeclineReason, Payment, PaymentStatus,
};
use omo_proto::shopper::shopper_service_client::ShopperServiceClient;
use omo_proto::shopper::{ClaimCouponRequest, ConfirmPaymentRequest, Coupon, ListCouponsRequest};
use support::{Db, Shopper, TestCloud, assert_status};
use tonic::Code;
use tonic::transport::Channel;

/// The test clock starts at 2026-01-01T00:00:05Z; this campaign runs for that day.
async fn add_campaign(c: &mut TestCloud, id: &str) {
    c.catalog
        .upsert(UpsertRequest {
            campaigns: vec![CouponCampaign {
                campaign_id: id.into(),
                name: format!("campaign {id}"),
                min_spend_fen: 50_00,
                amount_off_fen: 10_00,
                starts_at: "2026-01-01T00:00:00Z".into(),
                ends_at: "2026-01-02T00:00:00Z".into(),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap();
}

async fn claim(
    c: &mut TestCloud,
    who: &Shopper,
    campaign: &str,
    claim_id: &str,
) -> Result<Coupon, tonic::Status> {
    claim_on(c.shopper.clone(), who, campaign, claim_id).await
}

async fn claim_on(
    mut shopper: ShopperServiceClient<Channel>,
    who: &Shopper,
    campaign: &str,
    claim_id: &str,
) -> Result<Coupon, tonic::Status> {
    shopper
        .claim_coupon(who.request(ClaimCouponRequest {
            wallet_id: who.wallet_id.clone(),
            campaign_id: campaign.into(),
            claim_id: claim_id.into(),
        }))
        .await
        .map(|r| r.into_inner())
}

async fn coupons(c: &mut TestCloud, who: &Shopper) -> Vec<Coupon> {
    c.shopper
        .list_coupons(who.request(ListCouponsRequest {
            wallet_id: who.wallet_id.clone(),
            store_id: String::new(),
        }))
        .await
        .unwrap()
        .into_inner()
        .coupons
}

async fn status_of(c: &mut TestCloud, who: &Shopper, coupon: &Coupon) -> String {
    coupons(c, who)
        .await
        .into_iter()
        .find(|k| k.coupon_id == coupon.coupon_id)
        .expect("coupon listed")
        .status
}

/// Pays `amount_fen` after the coupons, each 10.00 off the whole basket as the lane computes it.
async fn pay(
    c: &mut TestCloud,
    order: &str,
    amount_fen: i64,
    code: &str,
    coupon_ids: &[&str],
) -> Result<Payment, tonic::Status> {
    let off = 10_00;
    let pre = amount_fen + off * coupon_ids.len() as i64;
    pay_shares(c, order, amount_fen, code, coupon_ids, pre, off).await
}

/// Pays with coupon shares as given: each coupon `discount` off a basket of `pre` fen.
async fn pay_shares(
    c: &mut TestCloud,
    order: &str,
    amount_fen: i64,
    code: &str,
    coupon_ids: &[&str],
    pre: i64,
    discount: i64,
) -> Result<Payment, tonic::Status> {
    c.payment
        .authorize(AuthorizeRequest {
            store_id: "SH-001".into(),
            order_id: order.into(),
            amount_fen,
            payment_code: code.into(),
            description: "Omo store SH-001".into(),
            coupon_ids: coupon_ids.iter().map(|s| s.to_string()).collect(),
            pre_coupon_fen: pre,
            coupon_shares: coupon_ids
                .iter()
                .map(|id| CouponShare {
                    coupon_id: id.to_string(),
                    base_fen: pre,
                    discount_fen: discount,
                })
                .collect(),
        })
        .await
        .map(|r| r.into_inner().payment.expect("payment"))
}

async fn a_coupon_is_claimed_once_per_wallet_and_campaign(db: Db) {
    let mut c = TestCloud::start(db).await;
    add_campaign(&mut c, "welcome").await;
    let alice = c.enroll(100_00).await;
    let bob = c.enroll(100_00).await;

    let first = claim(&mut c, &alice, "welcome", "claim-1").await.unwrap();
    assert_eq!(first.status, "CLAIMED");
    assert_eq!(first.code, format!("OMOC1:welcome:{}", first.coupon_id));
    assert_eq!(first.wallet_id, alice.wallet_id);
    // The same claim again (a retry), also concurrently: the same coupon.
    let (a, b) = tokio::join!(
        claim_on(c.shopper.clone(), &alice, "welcome", "claim-1"),
        claim_on(c.shopper.clone(), &alice, "welcome", "claim-1"),
    );
    assert_eq!(a.unwrap().coupon_id, first.coupon_id);
    assert_eq!(b.unwrap().coupon_id, first.coupon_id);
    // A second claim of the same campaign by the same wallet.
    let err = claim(&mut c, &alice, "welcome", "claim-2")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists, "{err:?}");
    // The same claim id for someone else is a mistake, not a new coupon.
    let err = claim(&mut c, &bob, "welcome", "claim-1").await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    // Bob claims his own.
    let his = claim(&mut c, &bob, "welcome", "claim-3").await.unwrap();
    assert_ne!(his.coupon_id, first.coupon_id);
    // Unknown campaign; a campaign not running now.
    let err = claim(&mut c, &alice, "nope", "claim-4").await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    c.catalog
        .upsert(UpsertRequest {
            campaigns: vec![CouponCampaign {
                campaign_id: "later".into(),
                name: "later".into(),
                percent_off: 10,
                starts_at: "2026-02-01T00:00:00Z".into(),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    let err = claim(&mut c, &alice, "later", "claim-5").await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");

    let listed = coupons(&mut c, &alice).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0], first);
    // After the campaign ends, an unused coupon shows EXPIRED.
    c.clock.advance(Duration::days(2));
    assert_eq!(status_of(&mut c, &alice, &first).await, "EXPIRED");
    c.stop().await;
}

async fn authorize_redeems_coupons_in_the_charge_and_replays_do_not_redeem_twice(db: Db) {
    let mut c = TestCloud::start(db).await;
    add_campaign(&mut c, "welcome").await;
    add_campaign(&mut c, "second").await;
    let alice = c.enroll(100_00).await;
    let bob = c.enroll(100_00).await;
    let hers = claim(&mut c, &alice, "welcome", "a-1").await.unwrap();
    let her_second = claim(&mut c, &alice, "second", "a-2").await.unwrap();
    let his = claim(&mut c, &bob, "welcome", "b-1").await.unwrap();

    // Bob's coupon beside her valid one: declined, nothing charged, hers not redeemed.
    let code = c.code(&alice);
    let p = pay(
        &mut c,
        "o-1",
        40_00,
        &code,
        &[&her_second.coupon_id, &his.coupon_id],
    )
    .await
    .unwrap();
    assert_status(&p, PaymentStatus::Declined, DeclineReason::CouponInvalid);
    assert_eq!(c.balance(&alice).await, 100_00);
    assert_eq!(status_of(&mut c, &alice, &her_second).await, "CLAIMED");
    assert_eq!(status_of(&mut c, &bob, &his).await, "CLAIMED");
    // An unknown coupon likewise.
    let p = pay(&mut c, "o-2", 40_00, &code, &["no-such-coupon"])
        .await
        .unwrap();
    assert_status(&p, PaymentStatus::Declined, DeclineReason::CouponInvalid);

    // The cloud checks the lane's coupon arithmetic: more off than the campaign gives, or a
    // basket below its minimum spend, is declined and leaves the coupon hers.
    let p = pay_shares(
        &mut c,
        "o-2b",
        35_00,
        &code,
        &[&hers.coupon_id],
        50_00,
        15_00,
    )
    .await
    .unwrap();
    assert_status(&p, PaymentStatus::Declined, DeclineReason::CouponInvalid);
    let p = pay_shares(
        &mut c,
        "o-2c",
        35_00,
        &code,
        &[&hers.coupon_id],
        45_00,
        10_00,
    )
    .await
    .unwrap();
    assert_status(&p, PaymentStatus::Declined, DeclineReason::CouponInvalid);
    let p = pay_shares(
        &mut c,
        "o-2d",
        30_00,
        &code,
        &[&hers.coupon_id],
        50_00,
        10_00,
    )
    .await
    .unwrap();
    assert_status(&p, PaymentStatus::Declined, DeclineReason::CouponInvalid);
    assert_eq!(status_of(&mut c, &alice, &hers).await, "CLAIMED");
    assert_eq!(c.balance(&alice).await, 100_00);

    // The code was not spent by those declines: a new order with her coupon (by its scanned
    // code) succeeds and redeems it.
    let p = pay(&mut c, "o-3", 40_00, &code, &[&hers.code])
        .await
        .unwrap();
    assert_status(&p, PaymentStatus::Succeeded, DeclineReason::Unspecified);
    assert_eq!(c.balance(&alice).await, 60_00);
    let redeemed = coupons(&mut c, &alice)
        .await
        .into_iter()
        .find(|k| k.coupon_id == hers.coupon_id)
        .unwrap();
    assert_eq!(redeemed.status, "REDEEMED");
    assert!(!redeemed.redeemed_at.is_empty());

    // A replay returns the same payment and redeems nothing more; other coupons are a
    // different request.
    let again = pay(&mut c, "o-3", 40_00, &code, &[&hers.coupon_id])
        .await
        .unwrap();
    assert_eq!(again.payment_id, p.payment_id);
    assert_eq!(c.balance(&alice).await, 60_00);
    let err = pay(&mut c, "o-3", 40_00, &code, &[&her_second.coupon_id])
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert_eq!(status_of(&mut c, &alice, &her_second).await, "CLAIMED");

    // A redeemed coupon cannot be used again.
    c.next_step();
    let code = c.code(&alice);
    let p = pay(&mut c, "o-4", 40_00, &code, &[&hers.coupon_id])
        .await
        .unwrap();
    assert_status(&p, PaymentStatus::Declined, DeclineReason::CouponInvalid);
    // Nor an expired one.
    c.clock.advance(Duration::days(2));
    let code = c.code(&alice);
    let p = pay(&mut c, "o-5", 40_00, &code, &[&her_second.coupon_id])
        .await
        .unwrap();
    assert_status(&p, PaymentStatus::Declined, DeclineReason::CouponInvalid);
    assert_eq!(c.balance(&alice).await, 60_00);
    c.stop().await;
}

async fn cancelled_and_declined_payments_give_their_coupons_back(db: Db) {
    let mut c = TestCloud::start_with(db, |cfg| {
        cfg.no_confirm_limit_fen = 50_00;
        cfg.pending_timeout_secs = 60;
    })
    .await;
    add_campaign(&mut c, "welcome").await;
    let alice = c.enroll(200_00).await;
    let coupon = claim(&mut c, &alice, "welcome", "a-1").await.unwrap();
    let id = coupon.coupon_id.as_str();

    // Succeeded, then cancelled within the window: the coupon is hers again.
    let code = c.code(&alice);
    let p = pay(&mut c, "o-1", 40_00, &code, &[id]).await.unwrap();
    assert_status(&p, PaymentStatus::Succeeded, DeclineReason::Unspecified);
    assert_eq!(status_of(&mut c, &alice, &coupon).await, "REDEEMED");
    cancel(&mut c, "o-1").await;
    assert_eq!(status_of(&mut c, &alice, &coupon).await, "CLAIMED");

    // Pending (above the no-confirmation limit) holds it; the shopper rejects: back.
    c.next_step();
    let code = c.code(&alice);
    let p = pay(&mut c, "o-2", 80_00, &code, &[id]).await.unwrap();
    assert_status(&p, PaymentStatus::Pending, DeclineReason::Unspecified);
    assert_eq!(status_of(&mut c, &alice, &coupon).await, "REDEEMED");
    confirm(&mut c, &alice, &p.payment_id, false).await;
    assert_eq!(status_of(&mut c, &alice, &coupon).await, "CLAIMED");

    // Pending, then the lane cancels it: back.
    c.next_step();
    let code = c.code(&alice);
    let p = pay(&mut c, "o-3", 80_00, &code, &[id]).await.unwrap();
    assert_status(&p, PaymentStatus::Pending, DeclineReason::Unspecified);
    cancel(&mut c, "o-3").await;
    assert_eq!(status_of(&mut c, &alice, &coupon).await, "CLAIMED");

    // Pending, then it times out (seen by the sweeper): back.
    c.next_step();
    let code = c.code(&alice);
    let p = pay(&mut c, "o-4", 80_00, &code, &[id]).await.unwrap();
    assert_status(&p, PaymentStatus::Pending, DeclineReason::Unspecified);
    c.clock.advance(Duration::seconds(61));
    assert_eq!(c.cloud.payments().sweep_expired().await.unwrap(), 1);
    assert_eq!(status_of(&mut c, &alice, &coupon).await, "CLAIMED");

    // Pending, then confirmed: it stays redeemed, and the wallet is charged once.
    c.next_step();
    let code = c.code(&alice);
    let p = pay(&mut c, "o-5", 80_00, &code, &[id]).await.unwrap();
    confirm(&mut c, &alice, &p.payment_id, true).await;
    assert_eq!(status_of(&mut c, &alice, &coupon).await, "REDEEMED");
    assert_eq!(c.balance(&alice).await, 120_00);

    // Insufficient funds with a coupon: declined, coupon untouched.
    let bob = c.enroll(10_00).await;
    let his = claim(&mut c, &bob, "welcome", "b-1").await.unwrap();
    let code = c.code(&bob);
    let p = pay(&mut c, "o-6", 40_00, &code, &[&his.coupon_id])
        .await
        .unwrap();
    assert_status(
        &p,
        PaymentStatus::Declined,
        DeclineReason::InsufficientFunds,
    );
    assert_eq!(status_of(&mut c, &bob, &his).await, "CLAIMED");
    c.stop().await;
}

async fn cancel(c: &mut TestCloud, order: &str) {
    c.payment
        .cancel(CancelRequest {
            store_id: "SH-001".into(),
            order_id: order.into(),
            reason: "test".into(),
        })
        .await
        .unwrap();
}

async fn confirm(c: &mut TestCloud, who: &Shopper, payment_id: &str, approve: bool) {
    c.shopper
        .confirm_payment(who.request(ConfirmPaymentRequest {
            wallet_id: who.wallet_id.clone(),
            payment_id: payment_id.into(),
            approve,
        }))
        .await
        .unwrap();
}

on_both_backends!(
    a_coupon_is_claimed_once_per_wallet_and_campaign,
    authorize_redeems_coupons_in_the_charge_and_replays_do_not_redeem_twice,
    cancelled_and_declined_payments_give_their_coupons_back
);
