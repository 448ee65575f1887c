//! Several cloud processes run the delivery relay, and each claims the app orders due for
//! forwarding before publishing them (`Deliveries::claim_due`, a conditional UPDATE per order).
//! Four relays claiming at the same moment get each order exactly once. Until the resend
//! interval passes, nobody claims it again; after it passes, each is claimed once more. This
//! holds on SQLite and on a real PostgreSQL server. Before, every process read the same due
//! orders and published each of them.

mod support;

use std::collections::BTreeMap;

use chrono::Duration;
use omo_cloud::clock::to_rfc3339;
use omo_cloud::delivery::Deliveries;
use omo_cloud::delivery::relay::RESEND;
use support::{Db, TestCloud};

const ORDERS: usize = 40;
const RELAYS: usize = 4;

/// Every relay claims at once; the number of claims of each order.
async fn claim_at_once(c: &TestCloud) -> BTreeMap<String, usize> {
    let now = c.cloud.context().now();
    let before = to_rfc3339(now - Duration::from_std(RESEND).unwrap());
    let now = to_rfc3339(now);
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(RELAYS));
    let mut relays = Vec::new();
    for _ in 0..RELAYS {
        let deliveries = Deliveries::new(c.cloud.context().clone());
        let (start, before, now) = (start.clone(), before.clone(), now.clone());
        relays.push(tokio::spawn(async move {
            start.wait().await;
            deliveries.claim_due(&before, &now).await.unwrap()
        }));
    }
    let mut claims = BTreeMap::new();
    for relay in relays {
        for order in relay.await.unwrap() {
            *claims.entry(order.order_id).or_default() += 1;
        }
    }
    claims
}

async fn each_order_is_forwarded_by_one_relay(db: Db) {
    let mut c = TestCloud::start(db).await;
    c.placed_delivery_orders("SH-1", (31.2304, 121.4737), 1_000_00, "chain", ORDERS)
        .await;

    let first = claim_at_once(&c).await;
    assert_eq!(first.len(), ORDERS, "every order is claimed: {first:?}");
    assert!(
        first.values().all(|&n| n == 1),
        "an order claimed twice: {first:?}"
    );

    // Within the resend interval nobody sends them again.
    assert!(claim_at_once(&c).await.is_empty());

    // After it, each unanswered order is due again, and again claimed once.
    c.clock
        .advance(Duration::from_std(RESEND).unwrap() + Duration::seconds(1));
    let again = claim_at_once(&c).await;
    assert_eq!(again.len(), ORDERS);
    assert!(again.values().all(|&n| n == 1), "{again:?}");
    c.stop().await;
}

on_both_backends!(each_order_is_forwarded_by_one_relay);
