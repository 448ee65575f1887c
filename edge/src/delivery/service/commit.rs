//! What the dispatcher changed, written in one transaction: the orders, the rider last heard
//! from and the event's id (so a repeat changes nothing), the progress told to the cloud, and
//! each offer and cancellation with its message on the rider's dispatch topic (outbox).

use chrono::{DateTime, Utc};
use serde_json::json;
use tracing::{info, warn};

use super::records::save_order;
use crate::db::{DbError, OutboxMessage, insert_messages};
use crate::delivery::DeliveryHost;
use crate::delivery::cancellation::rider_payload;
use crate::delivery::dispatch::{Action, Dispatcher, RiderEvent};
use crate::delivery::order::Shop;
use crate::delivery::progress;
use crate::epcis::rfc3339;
use crate::topics::rider_dispatch;

/// Writes what changed (orders, riders, offers and cancellations with their dispatch messages)
/// in one transaction.
pub(crate) async fn commit(
    host: &impl DeliveryHost,
    dispatcher: &mut Dispatcher,
    actions: &[Action],
    shop: &Shop,
    now: DateTime<Utc>,
    event: Option<&RiderEvent>,
) -> Result<(), DbError> {
    let dirty = dispatcher.take_dirty();
    if dirty.is_empty() && event.is_none() && actions.is_empty() {
        return Ok(());
    }
    let mut messages = Vec::new();
    let mut tx = host.db().pool().begin().await?;
    for open in &dirty {
        save_order(&mut tx, open, now, false).await?;
    }
    if let Some(event) = event {
        sqlx::query("INSERT INTO delivery_seen_events (event_id, at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(&event.id)
            .bind(rfc3339(now))
            .execute(&mut *tx)
            .await?;
        if let Some(rider) = dispatcher.rider(&event.rider_id) {
            sqlx::query(
                "INSERT INTO delivery_riders (rider_id, lat, lon, last_seen) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (rider_id) DO UPDATE SET lat = excluded.lat, lon = excluded.lon, last_seen = excluded.last_seen",
            )
            .bind(&rider.id)
            .bind(rider.position.lat)
            .bind(rider.position.lon)
            .bind(rfc3339(rider.last_seen))
            .execute(&mut *tx)
            .await?;
        }
    }
    if let Some(event) = event
        && let Some(message) = progress::message(&mut tx, &dirty, event, shop, now).await?
    {
        messages.push(message);
    }
    for action in actions {
        match action {
            Action::Offer {
                order_id,
                rider,
                eta,
            } => {
                let Some(open) = dirty.iter().find(|o| &o.order.order_id == order_id) else {
                    continue;
                };
                let id = uuid::Uuid::now_v7().to_string();
                let mut payload = open.order.dispatch_payload(&id, rider, shop.position);
                payload["eta"] = json!(rfc3339(*eta));
                sqlx::query("INSERT INTO delivery_assignments (message_id, order_id, rider_id, offered_at, eta) VALUES ($1, $2, $3, $4, $5)")
                    .bind(&id)
                    .bind(order_id)
                    .bind(rider)
                    .bind(rfc3339(now))
                    .bind(rfc3339(*eta))
                    .execute(&mut *tx)
                    .await?;
                messages.push(OutboxMessage {
                    id,
                    topic: rider_dispatch(rider),
                    payload: payload.to_string().into_bytes(),
                    retain: false,
                });
                info!(order = %order_id, rider = %rider, eta = %rfc3339(*eta), "delivery offered to a rider");
            }
            Action::Lapsed { order_id, rider } => {
                sqlx::query("UPDATE delivery_assignments SET outcome = 'lapsed' WHERE order_id = $1 AND rider_id = $2 AND outcome = 'offered'")
                    .bind(order_id)
                    .bind(rider)
                    .execute(&mut *tx)
                    .await?;
                info!(order = %order_id, rider = %rider, "rider did not accept in time; dispatching again");
            }
            Action::Warn {
                order_id,
                promised_by,
                eta,
            } => {
                warn!(order = %order_id, promised_by = %rfc3339(*promised_by), eta = ?eta.map(rfc3339), "delivery promise at risk");
            }
            Action::Delivered { order_id, rider } => {
                info!(order = %order_id, rider = %rider, "delivered");
            }
            Action::Cancelled {
                order_id,
                rider,
                reason,
            } => {
                sqlx::query("UPDATE delivery_assignments SET outcome = 'cancelled' WHERE order_id = $1 AND outcome = 'offered'")
                    .bind(order_id)
                    .execute(&mut *tx)
                    .await?;
                warn!(order = %order_id, rider = ?rider, reason = %reason, "delivery cancelled by the cloud");
                if let Some(rider) = rider {
                    let id = uuid::Uuid::now_v7().to_string();
                    let payload = rider_payload(&id, &shop.store_id, order_id, reason);
                    messages.push(OutboxMessage {
                        id,
                        topic: rider_dispatch(rider),
                        payload: payload.to_string().into_bytes(),
                        retain: false,
                    });
                }
            }
        }
    }
    insert_messages(&mut tx, &messages).await?;
    tx.commit().await?;
    if !messages.is_empty() {
        host.outbox().wake();
    }
    Ok(())
}
