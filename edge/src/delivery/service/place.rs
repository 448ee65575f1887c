//! Accepting an order: within the store's radius, committed with its `delivery/orders` message
//! in one transaction; placing an order id that exists returns the stored order unchanged.

use chrono::{DateTime, Utc};
use tracing::info;

use super::records::{load_order, save_order};
use crate::db::{DbError, OutboxMessage, insert_messages};
use crate::delivery::DeliveryHost;
use crate::delivery::dispatch::{OpenOrder, OrderStatus};
use crate::delivery::geo::Position;
use crate::delivery::order::{OrderRequest, Refusal, Shop};
use crate::topics;

/// Why an order could not be placed.
#[derive(Debug, thiserror::Error)]
pub enum PlaceError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The store as a shop: id, position, radius.
pub fn shop(host: &impl DeliveryHost) -> Shop {
    let config = host.edge_config();
    Shop {
        store_id: config.store_id.clone(),
        position: Position::new(config.lat, config.lon),
        radius_m: config.delivery_radius_m,
    }
}

/// Accepts an order and commits it with its `delivery/orders` message. Placing an order id that
/// exists returns the stored order unchanged.
pub async fn place(
    host: &impl DeliveryHost,
    request: OrderRequest,
    now: DateTime<Utc>,
) -> Result<OpenOrder, PlaceError> {
    let order = shop(host).accept(request, now, || uuid::Uuid::now_v7().to_string())?;
    if let Some(existing) = load_order(host, &order.order_id).await? {
        return Ok(existing);
    }
    let open = OpenOrder {
        order,
        status: OrderStatus::Waiting,
        lapsed: Vec::new(),
        warned: false,
    };
    let id = uuid::Uuid::now_v7().to_string();
    let message = OutboxMessage {
        id: id.clone(),
        topic: topics::delivery_orders(&open.order.store_id),
        payload: open.order.order_payload(&id).to_string().into_bytes(),
        retain: false,
    };
    let mut tx = host.db().pool().begin().await.map_err(DbError::from)?;
    let inserted = save_order(&mut tx, &open, now, true).await?;
    if inserted {
        insert_messages(&mut tx, &[message]).await?;
    }
    tx.commit().await.map_err(DbError::from)?;
    host.outbox().wake();
    info!(order = %open.order.order_id, distance_m = open.order.distance_m, "delivery order accepted");
    Ok(open)
}
