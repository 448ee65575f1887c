//! What moves the dispatcher, each applied and committed: a tick (new orders from the database,
//! then time passing), a rider's event (dropped if its id was seen), and the cloud's
//! cancellation of an order it refunded (see [`crate::delivery::cancellation`]).

use chrono::Utc;
use sqlx::Row;
use tracing::debug;

use super::commit::commit;
use super::place::shop;
use super::records::load_order;
use crate::db::DbError;
use crate::delivery::DeliveryHost;
use crate::delivery::cancellation::Cancellation;
use crate::delivery::dispatch::{Dispatcher, OrderStatus, RiderEvent};
use crate::delivery::order::Shop;

/// New orders from the database, then one dispatcher tick, committed with its messages.
pub(super) async fn step(
    host: &impl DeliveryHost,
    dispatcher: &mut Dispatcher,
    shop: &Shop,
) -> Result<(), DbError> {
    let rows = sqlx::query("SELECT order_id, state FROM delivery_orders WHERE status = 'waiting'")
        .fetch_all(host.db().pool())
        .await?;
    for row in rows {
        let id: String = row.get(0);
        if !dispatcher.contains(&id) {
            dispatcher.add(serde_json::from_str(&row.get::<String, _>(1))?);
        }
    }
    let now = Utc::now();
    let actions = dispatcher.tick(now);
    commit(host, dispatcher, &actions, shop, now, None).await
}

pub(crate) async fn apply_event(
    host: &impl DeliveryHost,
    dispatcher: &mut Dispatcher,
    event: RiderEvent,
) -> Result<(), DbError> {
    let seen = sqlx::query("SELECT 1 FROM delivery_seen_events WHERE event_id = $1")
        .bind(&event.id)
        .fetch_optional(host.db().pool())
        .await?;
    if seen.is_some() {
        debug!(id = %event.id, "repeated rider event dropped");
        return Ok(());
    }
    let now = Utc::now();
    let actions = dispatcher.handle(&event, now);
    let shop = shop(host);
    commit(host, dispatcher, &actions, &shop, now, Some(&event)).await
}

/// Applies a cancellation: the order is marked cancelled and its rider told, in one transaction.
pub(crate) async fn apply_cancellation<H: DeliveryHost>(
    host: &H,
    dispatcher: &mut Dispatcher,
    cancellation: &Cancellation,
) -> Result<(), DbError> {
    // An order placed since the last tick is in the database but not yet in the dispatcher.
    if !dispatcher.contains(&cancellation.order_id)
        && let Some(open) = load_order(host, &cancellation.order_id).await?
        && !matches!(
            open.status,
            OrderStatus::Delivered { .. } | OrderStatus::Cancelled
        )
    {
        dispatcher.add(open);
    }
    let actions = dispatcher.cancel(&cancellation.order_id, &cancellation.reason);
    if actions.is_empty() {
        tracing::info!(order = %cancellation.order_id, "cancellation of an order this edge no longer dispatches; nothing to do");
        return Ok(());
    }
    let shop = shop(host);
    commit(host, dispatcher, &actions, &shop, Utc::now(), None).await
}
