//! The IO around the dispatcher: orders and assignments in the edge's SQLite, rider events from
//! MQTT, assignments out through the durable outbox.
//!
//! An order is written with its `delivery/orders` message in one transaction; an offer is written
//! with its `riders/{rider}/dispatch` message in one transaction; a rider event is applied in the
//! same transaction that records its id, so a redelivered event changes nothing, across restarts
//! too. A rider event that moves an order on is reported to the cloud on
//! `delivery/progress` in that same transaction (see [`super::progress`]). Rider events, and the
//! orders the cloud forwards from the app, arrive on a second MQTT session of the edge
//! (`{client_id}-delivery`, persistent, QoS 1, acknowledged by hand only after the message is
//! committed; see [`super::inbox`]), so nothing said while the edge is down or crashing is lost.
//!
//! The files: [`records`] (orders and riders as stored), [`place`] (accepting an order),
//! [`commit`] (what the dispatcher changed, in one transaction with its messages), [`apply`]
//! (a tick, a rider event, a cancellation), [`board`] (the delivery board and an order's view);
//! this file runs the loop.

pub mod apply;
pub mod board;
pub mod commit;
pub mod place;
pub mod records;

use std::sync::Arc;
use std::time::Duration;

use rumqttc::Publish;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use super::DeliveryHost;
use super::dispatch::Dispatcher;
use super::inbox::{Incoming, apply_incoming, consume, session};
use apply::step;
pub use board::{board, order_view};
pub use place::{PlaceError, place, shop};
pub use records::{load_order, open_orders, riders};

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
