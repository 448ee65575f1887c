//! The rider's progress, told to the cloud: when a rider event moves an order on (accepted,
//! picked up, delivered), the edge commits a `omo/v1/stores/{store}/delivery/progress` message
//! to its outbox in the same transaction, so the shopper's app follows the rider through the
//! cloud. The edge stays the authority (only the rider the order is with moves it on).

use chrono::{DateTime, Utc};
use serde_json::json;

use super::dispatch::{OpenOrder, RiderEvent, RiderReport};
use super::order::Shop;
use crate::db::{DbError, OutboxMessage};
use crate::epcis::rfc3339;
use crate::topics;

/// The `delivery/progress` message for the cloud when a rider event moved its order on
/// (accepted, picked up, delivered): the rider, the ETA of its offer, and when. Its id is
/// `progress-{order}-{status}-{rider}`: one per step and rider.
pub(super) async fn message(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    dirty: &[OpenOrder],
    event: &RiderEvent,
    shop: &Shop,
    now: DateTime<Utc>,
) -> Result<Option<OutboxMessage>, DbError> {
    let order_id = match &event.report {
        RiderReport::Accepted { order_id }
        | RiderReport::PickedUp { order_id }
        | RiderReport::Delivered { order_id } => order_id,
        RiderReport::Location { .. } => return Ok(None),
    };
    let Some(open) = dirty.iter().find(|o| &o.order.order_id == order_id) else {
        return Ok(None);
    };
    let (status, Some(rider)) = (open.status.name(), open.status.rider()) else {
        return Ok(None);
    };
    if !matches!(status, "accepted" | "picked_up" | "delivered") {
        return Ok(None);
    }
    let eta: Option<String> = sqlx::query_scalar(
        "SELECT eta FROM delivery_assignments WHERE order_id = $1 AND rider_id = $2 \
         ORDER BY offered_at DESC LIMIT 1",
    )
    .bind(order_id)
    .bind(rider)
    .fetch_optional(&mut **tx)
    .await?;
    let id = format!("progress-{order_id}-{status}-{rider}");
    let payload = json!({
        "id": id,
        "type": "progress",
        "order_id": order_id,
        "store_id": shop.store_id,
        "status": status,
        "rider_id": rider,
        "eta": eta.unwrap_or_default(),
        "at": rfc3339(now),
    });
    Ok(Some(OutboxMessage {
        id,
        topic: topics::delivery_progress(&shop.store_id),
        payload: payload.to_string().into_bytes(),
        retain: false,
    }))
}
