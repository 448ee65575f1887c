//! In a share group a store's acceptance of an order and its rider's progress may reach
//! different cloud processes, in either order. A step that arrives before the acceptance (the
//! order still PLACED, or for an order placed at the store not known yet) is kept and applied,
//! in step order, when the acceptance is recorded: the order ends DELIVERED, with its rider and
//! times, whichever came first. A step of another store's order is not kept, and a step whose
//! order never comes is dropped once stale. On SQLite and on a
//! real PostgreSQL server.

mod support;

use omo_cloud::delivery::Deliveries;
use omo_cloud::delivery::payloads::parse_store_order;
use omo_cloud::delivery::progress::parse_progress;
use support::{Db, TestCloud};

const STORE: &str = "SH-1";

fn acceptance(order_id: &str) -> Vec<u8> {
    serde_json::json!({
        "id": format!("accept-{order_id}"), "order_id": order_id, "store_id": STORE,
        "items": [], "dropoff": {"lat": 31.24, "lon": 121.47, "address": "1 Test Road"},
        "distance_m": 1100.0, "promised_by": "2026-12-04T10:30:00Z",
    })
    .to_string()
    .into_bytes()
}

fn step(order_id: &str, status: &str, at: &str) -> Vec<u8> {
    serde_json::json!({
        "id": format!("progress-{order_id}-{status}"), "order_id": order_id, "store_id": STORE,
        "status": status, "rider_id": "rider-7", "eta": "2026-12-04T10:20:00Z", "at": at,
    })
    .to_string()
    .into_bytes()
}

async fn deliver_early(deliveries: &Deliveries, order_id: &str) {
    // The rider's whole story first, the last step before the others.
    for (status, at) in [
        ("delivered", "2026-12-04T10:19:00Z"),
        ("accepted", "2026-12-04T10:01:00Z"),
        ("picked_up", "2026-12-04T10:05:00Z"),
    ] {
        let report = parse_progress(&step(order_id, status, at), STORE).unwrap();
        assert!(
            !deliveries.store_progress(STORE, &report).await.unwrap(),
            "{order_id} {status}: nothing to change before the acceptance"
        );
    }
}

async fn progress_before_acceptance_is_kept(db: Db) {
    let mut c = TestCloud::start(db).await;
    c.placed_delivery_orders(STORE, (31.2304, 121.4737), 1_000_00, "early", 1)
        .await;
    let deliveries = Deliveries::new(c.cloud.context().clone());

    // An app order, still PLACED when its rider's steps arrive.
    deliver_early(&deliveries, "early-0").await;
    let order = deliveries.get_any("early-0").await.unwrap().unwrap();
    assert_eq!(order.status, "PLACED");
    let accepted = parse_store_order(&acceptance("early-0"), STORE).unwrap();
    deliveries.store_accepted(STORE, &accepted).await.unwrap();
    let order = deliveries.get_any("early-0").await.unwrap().unwrap();
    assert_eq!(order.status, "DELIVERED", "{order:?}");
    assert_eq!(order.progress.rider_id, "rider-7");
    assert_eq!(order.progress.picked_up_at, "2026-12-04T10:05:00.000000Z");
    assert_eq!(order.progress.delivered_at, "2026-12-04T10:19:00.000000Z");

    // An order placed at the store, unknown to the cloud until its acceptance.
    deliver_early(&deliveries, "walk-in-1").await;
    assert!(deliveries.get_any("walk-in-1").await.unwrap().is_none());
    let accepted = parse_store_order(&acceptance("walk-in-1"), STORE).unwrap();
    deliveries.store_accepted(STORE, &accepted).await.unwrap();
    let order = deliveries.get_any("walk-in-1").await.unwrap().unwrap();
    assert_eq!(order.status, "DELIVERED", "{order:?}");

    // Nothing stays parked, and a repeat of a step changes nothing.
    let parked: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM delivery_progress_parked")
        .fetch_one(c.cloud.context().db.pool())
        .await
        .unwrap();
    assert_eq!(parked, 0);
    let repeat =
        parse_progress(&step("early-0", "picked_up", "2026-12-04T10:05:00Z"), STORE).unwrap();
    assert!(!deliveries.store_progress(STORE, &repeat).await.unwrap());

    // Another store's order: its steps from SH-1 are neither applied nor kept.
    c.placed_delivery_orders("SH-2", (31.2304, 121.4737), 1_000_00, "other", 1)
        .await;
    let foreign =
        parse_progress(&step("other-0", "delivered", "2026-12-04T10:19:00Z"), STORE).unwrap();
    assert!(!deliveries.store_progress(STORE, &foreign).await.unwrap());
    let parked: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM delivery_progress_parked")
        .fetch_one(c.cloud.context().db.pool())
        .await
        .unwrap();
    assert_eq!(parked, 0, "another store's order is not kept for it");

    // A store's steps for an order it never reports accepted are kept only for a while.
    let never =
        parse_progress(&step("never-1", "picked_up", "2026-12-04T10:05:00Z"), STORE).unwrap();
    assert!(!deliveries.store_progress(STORE, &never).await.unwrap());
    let now = c.cloud.context().now();
    let earlier = omo_cloud::clock::to_rfc3339(now - chrono::Duration::seconds(1));
    assert_eq!(
        deliveries.drop_stale_parked(&earlier).await.unwrap(),
        0,
        "kept while fresh"
    );
    let later = omo_cloud::clock::to_rfc3339(now + chrono::Duration::seconds(1));
    assert_eq!(deliveries.drop_stale_parked(&later).await.unwrap(), 1);
    c.stop().await;
}

on_both_backends!(progress_before_acceptance_is_kept);
