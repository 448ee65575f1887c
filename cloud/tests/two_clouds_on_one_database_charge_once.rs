//! Two cloud processes on one database serve the same edges: idempotency and single use are
//! the database's, so the same Authorize or the same code sent to both charges once.

mod support;

use omo_proto::payment::{DeclineReason, PaymentStatus};
use support::{Db, TestCloud, assert_status};

async fn the_same_authorize_and_the_same_code_sent_to_two_clouds_charge_once(db: Db) {
    let mut a = TestCloud::start(db).await;
    // Keep the SQLite file alive by sharing `a`'s database URL while `a` runs.
    let b = TestCloud::start_on(a.database_url.clone(), None, |_| {}).await;
    let alice = a.enroll(100_00).await;
    for round in 0..10 {
        a.next_step();
        b.next_step();
        let code = a.code(&alice);
        let order = format!("order-{round}");
        let (mut pa, mut pb) = (a.payment.clone(), b.payment.clone());
        let req = |order: &str| omo_proto::payment::AuthorizeRequest {
            store_id: "SH-001".into(),
            order_id: order.into(),
            amount_fen: 1_00,
            payment_code: code.clone(),
            description: String::new(),
            ..Default::default()
        };
        // Same order to both clouds at once.
        let (ra, rb) = tokio::join!(pa.authorize(req(&order)), pb.authorize(req(&order)));
        let (ra, rb) = (
            ra.unwrap().into_inner().payment.unwrap(),
            rb.unwrap().into_inner().payment.unwrap(),
        );
        assert_eq!(ra.payment_id, rb.payment_id);
        assert_status(&ra, PaymentStatus::Succeeded, DeclineReason::Unspecified);
        // The same code for two different orders, one per cloud: one wins, one is declined.
        a.next_step();
        b.next_step();
        let code = a.code(&alice);
        let req2 = |order: String| omo_proto::payment::AuthorizeRequest {
            store_id: "SH-001".into(),
            order_id: order,
            amount_fen: 1_00,
            payment_code: code.clone(),
            description: String::new(),
            ..Default::default()
        };
        let (ra, rb) = tokio::join!(
            pa.authorize(req2(format!("x-{round}-a"))),
            pb.authorize(req2(format!("x-{round}-b")))
        );
        let statuses = [
            ra.unwrap().into_inner().payment.unwrap(),
            rb.unwrap().into_inner().payment.unwrap(),
        ];
        let won = statuses
            .iter()
            .filter(|p| p.status == PaymentStatus::Succeeded as i32)
            .count();
        let used = statuses
            .iter()
            .filter(|p| p.decline_reason == DeclineReason::CodeAlreadyUsed as i32)
            .count();
        assert_eq!((won, used), (1, 1), "{statuses:?}");
    }
    assert_eq!(a.balance(&alice).await, 100_00 - 20 * 1_00);
    b.stop().await;
    a.stop().await;
}

on_both_backends!(the_same_authorize_and_the_same_code_sent_to_two_clouds_charge_once);
