//! What the edge's delivery session receives over MQTT, and how it is applied: rider events
//! (`omo/v1/riders/+/events`), the orders the cloud forwards from the app
//! (`omo/v1/stores/{store}/delivery/requests`) and its cancellations of orders it refunded before
//! the store accepted them (`omo/v1/stores/{store}/delivery/cancellations`). The session is the edge's second MQTT session
//! (`{client_id}-delivery`): persistent, QoS 1, each message acknowledged by hand only after it
//! is committed, so a crash between receipt and commit makes the broker send it again (and the
//! repeat is dropped by its id, or by the order id).

use std::time::Duration;

use chrono::Utc;
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, Publish, QoS};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::DeliveryHost;
use super::cancellation::Cancellation;
use super::dispatch::{Dispatcher, RiderEvent};
use super::request::{DeliveryRequest, basket_items, refusal_payload};
use super::service::apply::{apply_cancellation, apply_event};
use super::service::place::{PlaceError, place};
use super::service::records::load_order;
use crate::config::EdgeConfig;
use crate::db::{DbError, OutboxMessage, insert_messages};

/// What the delivery session received.
#[derive(Debug)]
pub(super) enum Incoming {
    /// A rider's event, from the rider's own topic.
    Rider(RiderEvent),
    /// An order the cloud forwarded from the app.
    Request(DeliveryRequest),
    /// An order the cloud refused and refunded before this store accepted it.
    Cancellation(Cancellation),
    /// Unreadable or misaddressed (logged); only acknowledged.
    Dropped,
}

/// Applies one received message until it is committed; false if `cancel` came first.
pub(super) async fn apply_incoming<H: DeliveryHost>(
    host: &H,
    dispatcher: &mut Dispatcher,
    received: Incoming,
    cancel: &CancellationToken,
) -> bool {
    loop {
        let result = match &received {
            Incoming::Rider(event) => apply_event(host, dispatcher, event.clone()).await,
            Incoming::Request(request) => take_request(host, request).await,
            Incoming::Cancellation(cancellation) => {
                apply_cancellation(host, dispatcher, cancellation).await
            }
            Incoming::Dropped => Ok(()),
        };
        match result {
            Ok(()) => return true,
            Err(error) => {
                warn!(%error, "cannot apply a delivery message; retrying");
                tokio::select! {
                    _ = cancel.cancelled() => return false,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }
}

/// Places an order the cloud forwarded, or answers with a refusal.
async fn take_request<H: DeliveryHost>(host: &H, request: &DeliveryRequest) -> Result<(), DbError> {
    // A stale request for an order not yet taken is refused (the common case, a fresh request,
    // reads nothing more: placing it finds an existing order anyway).
    if request.stale(Utc::now()) && load_order(host, &request.order_id).await?.is_none() {
        return refuse(
            host,
            request,
            "placed more than 10 minutes ago: too late to promise delivery within 30 minutes",
        )
        .await;
    }
    let items = if request.source == "lane" {
        match host.db().sale(&request.purchase_order_id).await? {
            Some(sale) if sale.wallet_id == request.wallet_id => basket_items(&sale.basket),
            Some(_) => {
                return refuse(host, request, "the purchase was paid by another wallet").await;
            }
            None => {
                // The cloud saw the payment succeed; this edge records the sale as its lane
                // learns it. The cloud sends the request again until the edge answers.
                info!(order = %request.order_id, purchase = %request.purchase_order_id,
                    "delivery of a purchase this edge has not recorded yet; waiting for the next request");
                return Ok(());
            }
        }
    } else {
        request.items.clone()
    };
    match place(host, request.order(items), Utc::now()).await {
        Ok(_) => Ok(()),
        Err(PlaceError::Refused(refusal)) => refuse(host, request, &refusal.to_string()).await,
        Err(PlaceError::Db(error)) => Err(error),
    }
}

/// Commits a refusal message for `request` to the outbox.
async fn refuse<H: DeliveryHost>(
    host: &H,
    request: &DeliveryRequest,
    reason: &str,
) -> Result<(), DbError> {
    let store_id = &host.edge_config().store_id;
    let id = uuid::Uuid::now_v7().to_string();
    let message = OutboxMessage {
        id: id.clone(),
        topic: crate::topics::delivery_refusals(store_id),
        payload: refusal_payload(&id, store_id, &request.order_id, reason)
            .to_string()
            .into_bytes(),
        retain: false,
    };
    let mut tx = host.db().pool().begin().await?;
    insert_messages(&mut tx, &[message]).await?;
    tx.commit().await?;
    host.outbox().wake();
    warn!(order = %request.order_id, reason, "delivery order from the app refused");
    Ok(())
}

/// The edge's second MQTT session (`{client_id}-delivery`): persistent, QoS 1, acknowledged by
/// hand after each message is committed. The publisher's session owns the edge's birth and last
/// will; this one has none.
pub(super) fn session(
    config: &EdgeConfig,
) -> Result<(AsyncClient, EventLoop), crate::outbox::MqttSettingsError> {
    let base = crate::outbox::mqtt_options(config)?;
    let (host, port) = base.broker_address();
    let mut options = MqttOptions::new(format!("{}-delivery", config.mqtt_client_id()), host, port);
    options.set_clean_session(false);
    options.set_manual_acks(true);
    options.set_keep_alive(Duration::from_secs(10));
    options.set_max_packet_size(1 << 20, 1 << 20);
    if let (Some(user), Some(password)) = (&config.mqtt.username, &config.mqtt.password) {
        options.set_credentials(user, password);
    }
    let (client, mut eventloop) = AsyncClient::new(options, 64);
    // PUBACKs must not wait for the broker's delayed ACK (Nagle: about 40 ms each).
    let mut network = rumqttc::NetworkOptions::new();
    network.set_tcp_nodelay(true);
    eventloop.set_network_options(network);
    Ok((client, eventloop))
}

/// Polls the delivery session: subscribes after each connect, and hands every rider event and
/// forwarded order over in order, with its publish to acknowledge.
pub(super) async fn consume(
    store_id: String,
    client: AsyncClient,
    mut eventloop: EventLoop,
    incoming: mpsc::UnboundedSender<(Incoming, Publish)>,
    cancel: CancellationToken,
) {
    let requests = crate::topics::delivery_requests(&store_id);
    let cancellations = crate::topics::delivery_cancellations(&store_id);
    loop {
        let event = tokio::select! {
            _ = cancel.cancelled() => break,
            event = eventloop.poll() => event,
        };
        match event {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                for filter in [
                    crate::topics::EVERY_RIDER_EVENTS,
                    requests.as_str(),
                    cancellations.as_str(),
                ] {
                    if let Err(error) = client.try_subscribe(filter, QoS::AtLeastOnce) {
                        warn!(%error, filter, "cannot subscribe");
                    }
                }
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                let received = if p.topic == requests {
                    match DeliveryRequest::parse(&p.payload, &store_id) {
                        Ok(request) => Incoming::Request(request),
                        Err(error) => {
                            warn!(topic = %p.topic, %error, "unreadable delivery request dropped");
                            Incoming::Dropped
                        }
                    }
                } else if p.topic == cancellations {
                    match Cancellation::parse(&p.payload, &store_id) {
                        Ok(cancellation) => Incoming::Cancellation(cancellation),
                        Err(error) => {
                            warn!(topic = %p.topic, %error, "unreadable delivery cancellation dropped");
                            Incoming::Dropped
                        }
                    }
                } else {
                    rider_event(&p)
                };
                if incoming.send((received, p)).is_err() {
                    break;
                }
            }
            Ok(_) => {}
            Err(error) => {
                debug!(%error, "delivery session: broker not reachable; retrying");
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }
}

/// A rider event from its publish; a rider speaks only for itself (the topic names it).
fn rider_event(p: &Publish) -> Incoming {
    let rider = match crate::topics::parse(&p.topic) {
        Some(crate::topics::Topic::RiderEvents { rider }) => rider,
        _ => "",
    };
    match serde_json::from_slice::<RiderEvent>(&p.payload) {
        Ok(event) if event.rider_id == rider => Incoming::Rider(event),
        Ok(event) => {
            warn!(topic = %p.topic, rider = %event.rider_id, "rider event on another rider's topic dropped");
            Incoming::Dropped
        }
        Err(error) => {
            warn!(topic = %p.topic, %error, "unreadable rider event dropped");
            Incoming::Dropped
        }
    }
}
