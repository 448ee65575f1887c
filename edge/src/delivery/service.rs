//! The IO around the dispatcher: orders and assignments in the edge's SQLite, rider events from
//! MQTT, assignments out through the durable outbox.
//!
//! An order is written with its `delivery/orders` message in one transaction; an offer is written
//! with its `riders/{rider}/dispatch` message in one transaction; a rider event is applied in the
//! same transaction that records its id, so a redelivered event changes nothing, across restarts
//! too. A rider event that moves an order on is reported to the cloud on
//! `delivery/progress` in that same transaction ([`progress_message`]). Rider events, and the orders the cloud forwards from the app, arrive on a second MQTT
//! session of the edge (`{client_id}-delivery`, persistent, QoS 1, acknowledged by hand only
//! after the message is committed; see [`super::inbox`]), so nothing said while the edge is down
//! or crashing is lost.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rumqttc::Publish;
use serde_json::{Value, json};
use sqlx::Row;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::DeliveryHost;
use super::dispatch::{Action, Dispatcher, OpenOrder, OrderStatus, Rider, RiderEvent};
use super::geo::Position;
use super::inbox::{Incoming, apply_incoming, consume, session};
use super::order::{DeliveryOrder, OrderRequest, Refusal, Shop};
use crate::epcis::rfc3339;
use crate::store::{OutboxMessage, StoreError, insert_messages};
use crate::topics;

/// The MQTT topic riders report on.
pub fn rider_events(rider: &str) -> String {
    format!("omo/v1/riders/{rider}/events")
}

/// The MQTT topic a rider receives assignments on.
pub fn rider_dispatch(rider: &str) -> String {
    format!("omo/v1/riders/{rider}/dispatch")
}

/// Why an order could not be placed.
#[derive(Debug, thiserror::Error)]
pub enum PlaceError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
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
    let mut tx = host
        .store()
        .pool()
        .begin()
        .await
        .map_err(StoreError::from)?;
    let inserted = save_order(&mut tx, &open, now, true).await?;
    if inserted {
        insert_messages(&mut tx, &[message]).await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    host.outbox().wake();
    info!(order = %open.order.order_id, distance_m = open.order.distance_m, "delivery order accepted");
    Ok(open)
}

/// One order as stored.
pub async fn load_order(
    host: &impl DeliveryHost,
    order_id: &str,
) -> Result<Option<OpenOrder>, StoreError> {
    let row = sqlx::query("SELECT state FROM delivery_orders WHERE order_id = $1")
        .bind(order_id)
        .fetch_optional(host.store().pool())
        .await?;
    row.map(|r| Ok(serde_json::from_str(&r.get::<String, _>(0))?))
        .transpose()
}

/// Orders not yet delivered.
pub async fn open_orders(host: &impl DeliveryHost) -> Result<Vec<OpenOrder>, StoreError> {
    let rows = sqlx::query(
        "SELECT state FROM delivery_orders WHERE status NOT IN ('delivered', 'cancelled') ORDER BY promised_by",
    )
    .fetch_all(host.store().pool())
    .await?;
    rows.into_iter()
        .map(|r| Ok(serde_json::from_str(&r.get::<String, _>(0))?))
        .collect()
}

/// Riders as last heard from.
pub async fn riders(host: &impl DeliveryHost) -> Result<Vec<Rider>, StoreError> {
    let rows = sqlx::query("SELECT rider_id, lat, lon, last_seen FROM delivery_riders")
        .fetch_all(host.store().pool())
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Rider {
            id: r.get(0),
            position: Position::new(r.get(1), r.get(2)),
            last_seen: parse_time(&r.get::<String, _>(3)),
        })
        .collect())
}

/// The delivery board: open orders, late and nearly late first.
pub async fn board(host: &impl DeliveryHost, now: DateTime<Utc>) -> Result<Value, StoreError> {
    let mut orders = open_orders(host).await?;
    orders.sort_by_key(|o| o.order.promised_by);
    let rows: Vec<Value> = orders
        .iter()
        .map(|o| {
            let left = (o.order.promised_by - now).num_seconds();
            json!({
                "order_id": o.order.order_id,
                "status": o.status.name(),
                "rider_id": o.status.rider(),
                "address": o.order.dropoff.address,
                "distance_m": super::order::round_m(o.order.distance_m),
                "promised_by": rfc3339(o.order.promised_by),
                "seconds_left": left,
                "late": left < 0,
                "at_risk": o.warned,
                "offers_lapsed": o.lapsed.len(),
            })
        })
        .collect();
    let riders: Vec<Value> = riders(host)
        .await?
        .into_iter()
        .map(|r| json!({"rider_id": r.id, "lat": r.position.lat, "lon": r.position.lon, "last_seen": rfc3339(r.last_seen)}))
        .collect();
    Ok(json!({
        "store_id": host.edge_config().store_id,
        "at": rfc3339(now),
        "late": rows.iter().filter(|r| r["late"] == true).count(),
        "orders": rows,
        "riders": riders,
    }))
}

/// Runs the dispatcher until `cancel`: consumes rider events, offers orders, lapses offers.
pub async fn run<H: DeliveryHost>(host: Arc<H>, cancel: CancellationToken) {
    let settings = host.edge_config().delivery.clone();
    let shop = shop(host.as_ref());
    let mut dispatcher = Dispatcher::new(shop.position, settings.rules());
    match open_orders(host.as_ref()).await {
        Ok(orders) => orders.into_iter().for_each(|o| dispatcher.add(o)),
        Err(error) => warn!(%error, "cannot load open delivery orders"),
    }
    if let Ok(riders) = riders(host.as_ref()).await {
        riders.into_iter().for_each(|r| dispatcher.add_rider(r));
    }
    dispatcher.take_dirty();

    // Unbounded on purpose: the broker sends at most its in-flight window of unacknowledged
    // messages, and the driver must never wait on this channel while the loop that acknowledges
    // waits on the driver (a deadlock once both fill up).
    let (incoming_tx, mut incoming) = mpsc::unbounded_channel::<(Incoming, Publish)>();
    let session = match session(host.edge_config()) {
        Ok(session) => Some(session),
        Err(error) => {
            warn!(%error, "no rider events or app orders: bad MQTT settings");
            None
        }
    };
    let client = session.as_ref().map(|(client, _)| client.clone());
    let consumer = session.map(|(client, eventloop)| {
        tokio::spawn(consume(
            host.edge_config().store_id.clone(),
            client,
            eventloop,
            incoming_tx,
            cancel.clone(),
        ))
    });
    let mut tick = tokio::time::interval(Duration::from_millis(settings.tick_ms.max(10)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            received = incoming.recv() => {
                let Some((received, publish)) = received else { break };
                if !apply_incoming(host.as_ref(), &mut dispatcher, received, &cancel).await {
                    break;
                }
                // Acknowledged only once committed: a crash before this line makes the broker
                // send it again, and the repeat is dropped by its id.
                if let Some(client) = &client
                    && let Err(error) = client.ack(&publish).await
                {
                    warn!(%error, "cannot acknowledge a delivery message; it will come again");
                }
            }
            _ = tick.tick() => {
                if let Err(error) = step(host.as_ref(), &mut dispatcher, &shop).await {
                    warn!(%error, "dispatch step failed; trying again");
                }
            }
        }
    }
    if let Some(client) = client {
        let _ = client.disconnect().await;
    }
    if let Some(consumer) = consumer {
        consumer.abort();
    }
}

/// New orders from the database, then one dispatcher tick, committed with its messages.
async fn step(
    host: &impl DeliveryHost,
    dispatcher: &mut Dispatcher,
    shop: &Shop,
) -> Result<(), StoreError> {
    let rows = sqlx::query("SELECT order_id, state FROM delivery_orders WHERE status = 'waiting'")
        .fetch_all(host.store().pool())
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

pub(super) async fn apply_event(
    host: &impl DeliveryHost,
    dispatcher: &mut Dispatcher,
    event: RiderEvent,
) -> Result<(), StoreError> {
    let seen = sqlx::query("SELECT 1 FROM delivery_seen_events WHERE event_id = $1")
        .bind(&event.id)
        .fetch_optional(host.store().pool())
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

/// Writes what changed (orders, riders, offers and cancellations with their dispatch messages)
/// in one transaction.
pub(super) async fn commit(
    host: &impl DeliveryHost,
    dispatcher: &mut Dispatcher,
    actions: &[Action],
    shop: &Shop,
    now: DateTime<Utc>,
    event: Option<&RiderEvent>,
) -> Result<(), StoreError> {
    let dirty = dispatcher.take_dirty();
    if dirty.is_empty() && event.is_none() && actions.is_empty() {
        return Ok(());
    }
    let mut messages = Vec::new();
    let mut tx = host.store().pool().begin().await?;
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
        && let Some(message) = super::progress::message(&mut tx, &dirty, event, shop, now).await?
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
                    let payload =
                        super::cancellation::rider_payload(&id, &shop.store_id, order_id, reason);
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

/// Upserts an order; true if it was new.
async fn save_order(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    open: &OpenOrder,
    now: DateTime<Utc>,
    only_if_new: bool,
) -> Result<bool, StoreError> {
    let state = serde_json::to_string(open)?;
    let sql = if only_if_new {
        "INSERT INTO delivery_orders (order_id, status, rider_id, promised_by, state, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (order_id) DO NOTHING"
    } else {
        "INSERT INTO delivery_orders (order_id, status, rider_id, promised_by, state, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)
         ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, rider_id = excluded.rider_id,
         state = excluded.state, updated_at = excluded.updated_at"
    };
    let done = sqlx::query(sql)
        .bind(&open.order.order_id)
        .bind(open.status.name())
        .bind(open.status.rider())
        .bind(rfc3339(open.order.promised_by))
        .bind(state)
        .bind(rfc3339(now))
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

fn parse_time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// The order's JSON as the HTTP API returns it.
pub fn order_view(open: &OpenOrder) -> Value {
    let order: &DeliveryOrder = &open.order;
    let mut view = order.order_payload(&order.order_id);
    if let Some(map) = view.as_object_mut() {
        map.remove("id");
        map.insert("status".into(), json!(open.status.name()));
        map.insert("rider_id".into(), json!(open.status.rider()));
        map.insert("offers_lapsed".into(), json!(open.lapsed));
        map.insert("at_risk".into(), json!(open.warned));
    }
    view
}
