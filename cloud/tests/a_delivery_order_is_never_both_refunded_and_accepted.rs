//! The race of issue 12: a store's acceptance of an app order and its refusal (or the cloud's
//! time-out for a store that never answered) arriving at the same moment. Before, the refusal
//! read the order as PLACED, refunded it in a transaction of its own and only then tried to mark
//! it REFUSED, so an acceptance landing in between left an order both ACCEPTED and refunded: the
//! goods delivered and the money back. Now the refusal, its refund and the state change are one
//! transaction behind `UPDATE ... WHERE status = 'PLACED'`, and exactly one of the two wins.
//! Concurrent callers on SQLite and on a real PostgreSQL server; the money balances after.

mod support;

use omo_cloud::delivery::Deliveries;
use omo_cloud::delivery::answers::Acceptance;
use omo_cloud::delivery::payloads::StoreOrder;
use omo_proto::payment::QueryRequest;
use support::{Db, TestCloud};

const STORE: &str = "SH-1";
const AT: (f64, f64) = (31.2304, 121.4737);
const ORDERS: usize = 24;

async fn refusal_and_acceptance_race_and_exactly_one_wins(db: Db) {
    let mut c = TestCloud::start(db).await;
    let who = c
        .placed_delivery_orders(STORE, AT, 1_000_00, "race", ORDERS)
        .await;
    let near = (AT.0 + 0.01, AT.1);
    let paid = c.balance(&who).await;
    assert_eq!(paid, 1_000_00 - ORDERS as i64 * 12_90);

    // For every order, at the same moment: the store's edge accepts it, the store refuses it
    // (a second message, e.g. after a restart), and the sweeper gives up on unanswered orders.
    let deliveries = Deliveries::new(c.cloud.context().clone());
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(ORDERS * 2));
    let mut races = Vec::new();
    for n in 0..ORDERS {
        let order_id = format!("race-{n}");
        let accept = {
            let (d, start, order_id) = (deliveries.clone(), start.clone(), order_id.clone());
            tokio::spawn(async move {
                let accepted = StoreOrder {
                    id: format!("m-{order_id}"),
                    order_id,
                    lines: Vec::new(),
                    lat: near.0,
                    lon: near.1,
                    address: "1 Test Road".into(),
                    distance_m: 1_100,
                    promised_by: "2026-01-01T00:30:05Z".into(),
                };
                start.wait().await;
                d.store_accepted(STORE, &accepted).await
            })
        };
        let refuse = {
            let (d, start, order_id) = (deliveries.clone(), start.clone(), order_id.clone());
            tokio::spawn(async move {
                start.wait().await;
                d.store_refused(STORE, &order_id, "no rider").await
            })
        };
        races.push((order_id, accept, refuse));
    }

    let mut kept_fen = 0;
    let (mut accepted, mut refused) = (0, 0);
    for (order_id, accept, refuse) in races {
        let acceptance = accept.await.unwrap().unwrap();
        let was_refused = refuse.await.unwrap().unwrap();
        let order = deliveries.get_any(&order_id).await.unwrap().unwrap();
        let payment = c
            .payment
            .query(QueryRequest {
                store_id: STORE.into(),
                order_id: format!("delivery-{order_id}"),
            })
            .await
            .unwrap()
            .into_inner()
            .payment
            .unwrap();
        match order.status.as_str() {
            "ACCEPTED" => {
                accepted += 1;
                assert_eq!(
                    payment.refunded_fen, 0,
                    "{order_id} is ACCEPTED and was refunded: delivered for free"
                );
                assert_eq!(acceptance, Acceptance::Recorded, "{order_id}");
                assert!(
                    !was_refused,
                    "{order_id}: refusal reported after acceptance"
                );
                kept_fen += payment.amount_fen;
            }
            "REFUSED" => {
                refused += 1;
                assert!(was_refused, "{order_id}");
                assert!(
                    matches!(acceptance, Acceptance::Late { .. }),
                    "{order_id}: a late acceptance must be told apart, got {acceptance:?}"
                );
                assert_eq!(payment.refunded_fen, payment.amount_fen, "{order_id}");
            }
            other => panic!("{order_id} ended {other}"),
        }
    }
    assert_eq!(accepted + refused, ORDERS);
    eprintln!("{accepted} accepted, {refused} refused");
    assert_eq!(
        c.balance(&who).await,
        1_000_00 - kept_fen,
        "the wallet pays exactly for the accepted orders"
    );

    // Repeats afterwards change nothing, and an order that lost to a refusal stays refunded.
    for n in 0..ORDERS {
        let order_id = format!("race-{n}");
        assert!(
            !deliveries
                .store_refused(STORE, &order_id, "again")
                .await
                .unwrap()
        );
    }
    assert_eq!(c.balance(&who).await, 1_000_00 - kept_fen);
    c.stop().await;
}

on_both_backends!(refusal_and_acceptance_race_and_exactly_one_wins);
