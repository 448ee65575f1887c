//! The cloud's MQTT side of delivery: forwards orders placed in the app to their store's edge
//! (`omo/v1/stores/{store}/delivery/requests`), and learns the stores' answers
//! (`delivery/orders`, `delivery/refusals`).
//!
//! Forwarding is end-to-end acknowledged: an order stays PLACED, and is published again (QoS 1,
//! the same message id) every `RESEND` until the store's edge answers, so neither a broker
//! restart nor a cloud crash loses one; the edge places each order id once. Answers arrive on a
//! persistent session (`clean_session = false`) with manual acknowledgements, each acknowledged
//! only after the database committed it, so a crash makes the broker send it again, and a
//! repeat changes nothing.

use std::time::Duration;

use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, Publish, QoS};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::orders::Deliveries;
use super::payloads::{self, StoreTopic};
use crate::clock::to_rfc3339;
use crate::trace::consumer::parse_url;

/// How long a forwarded order waits for its store's answer before it is sent again.
pub const RESEND: Duration = Duration::from_secs(10);

/// Runs the relay the cloud's config asks for (`mqtt_url`) until `stop`; returns at once when
/// the config names no broker (orders then stay PLACED until a cloud with a broker runs).
pub async fn run_configured(
    ctx: crate::context::Context,
    deliveries: Deliveries,
    stop: CancellationToken,
) {
    let Some(url) = ctx.config.mqtt_url.clone() else {
        tracing::info!("no mqtt_url configured: delivery orders are not forwarded to stores");
        return;
    };
    let (host, port) = match parse_url(&url) {
        Ok(address) => address,
        Err(error) => {
            tracing::error!(%error, "the delivery relay cannot run");
            return;
        }
    };
    let client_id = format!("{}-delivery", ctx.config.mqtt_client_id);
    let mut options = MqttOptions::new(client_id, host, port);
    options.set_clean_session(false);
    options.set_manual_acks(true);
    options.set_keep_alive(Duration::from_secs(10));
    options.set_max_packet_size(1 << 20, 1 << 20);
    if let (Some(user), Some(password)) = (&ctx.config.mqtt_username, &ctx.config.mqtt_password) {
        options.set_credentials(user, password);
    }
    let (client, mut eventloop) = AsyncClient::new(options, 256);
    // Small packets must not wait for the broker's delayed ACK (Nagle: about 40 ms each).
    let mut network = rumqttc::NetworkOptions::new();
    network.set_tcp_nodelay(true);
    eventloop.set_network_options(network);
    // Unbounded on purpose: the broker sends at most its in-flight window of unacknowledged
    // messages, and the driver must never wait on this channel while the loop that acknowledges
    // waits on the driver (a deadlock once both fill up).
    let (tx, mut answers) = mpsc::unbounded_channel::<Publish>();
    let (connected_tx, mut connected) = tokio::sync::watch::channel(false);
    let driver = tokio::spawn(drive(
        eventloop,
        client.clone(),
        tx,
        connected_tx,
        stop.clone(),
    ));
    tracing::info!(%url, "delivery relay starting");
    let mut resend = tokio::time::interval(RESEND / 2);
    resend.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            answer = answers.recv() => {
                let Some(answer) = answer else { break };
                if !apply(&deliveries, &answer, &stop).await {
                    break;
                }
                if let Err(error) = client.ack(&answer).await {
                    tracing::warn!(%error, "cannot acknowledge a store's delivery answer; it will come again");
                }
                continue;
            }
            _ = deliveries.wait_placed() => {}
            _ = resend.tick() => {}
            _ = connected.changed() => {}
        }
        let up = *connected.borrow_and_update();
        if up {
            forward(&ctx, &deliveries, &client).await;
        }
    }
    let _ = client.disconnect().await;
    driver.abort();
}

/// Publishes every order still waiting for its store (and not sent within [`RESEND`]).
async fn forward(ctx: &crate::context::Context, deliveries: &Deliveries, client: &AsyncClient) {
    let now = ctx.now();
    let before = to_rfc3339(now - chrono::Duration::from_std(RESEND).unwrap_or_default());
    let due = match deliveries.due(&before).await {
        Ok(due) => due,
        Err(error) => {
            tracing::warn!(%error, "cannot read the delivery orders to forward; trying again");
            return;
        }
    };
    for order in due {
        let payload = payloads::request_payload(&order).to_string();
        let topic = payloads::requests_topic(&order.store_id);
        if let Err(error) = client.try_publish(&topic, QoS::AtLeastOnce, false, payload) {
            tracing::debug!(%error, "the relay's queue is full; forwarding the rest later");
            return;
        }
        if let Err(error) = deliveries
            .forwarded(&order.order_id, &to_rfc3339(now))
            .await
        {
            tracing::warn!(%error, order = %order.order_id, "cannot note a forwarded order; it is sent again");
        }
        tracing::debug!(order = %order.order_id, store = %order.store_id, "delivery order forwarded to its store");
    }
}

/// Applies one answer; false only if `stop` came while the database was failing.
async fn apply(deliveries: &Deliveries, publish: &Publish, stop: &CancellationToken) -> bool {
    loop {
        let result = match payloads::store_topic(&publish.topic) {
            Some(StoreTopic::Orders(store)) => {
                match payloads::parse_store_order(&publish.payload, store) {
                    Ok(order) => deliveries.store_accepted(store, &order).await.map(|_| ()),
                    Err(error) => {
                        tracing::warn!(topic = %publish.topic, %error, "unreadable delivery order dropped");
                        return true;
                    }
                }
            }
            Some(StoreTopic::Refusals(store)) => {
                match payloads::parse_refusal(&publish.payload, store) {
                    Ok(refusal) => deliveries
                        .store_refused(store, &refusal.order_id, &refusal.reason)
                        .await
                        .map(|_| ()),
                    Err(error) => {
                        tracing::warn!(topic = %publish.topic, %error, "unreadable delivery refusal dropped");
                        return true;
                    }
                }
            }
            None => {
                tracing::warn!(topic = %publish.topic, "message on an unexpected topic dropped");
                return true;
            }
        };
        match result {
            Ok(()) => return true,
            Err(crate::error::ServiceError::Store(error)) => {
                tracing::warn!(%error, "cannot record a store's delivery answer; retrying");
                tokio::select! {
                    _ = stop.cancelled() => return false,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, topic = %publish.topic, "a store's delivery answer was refused; dropped");
                return true;
            }
        }
    }
}

/// Polls the connection, subscribes after every connect, forwards publishes in order.
async fn drive(
    mut eventloop: EventLoop,
    client: AsyncClient,
    tx: mpsc::UnboundedSender<Publish>,
    connected: tokio::sync::watch::Sender<bool>,
    stop: CancellationToken,
) {
    loop {
        let event = tokio::select! {
            _ = stop.cancelled() => return,
            event = eventloop.poll() => event,
        };
        match event {
            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                tracing::info!(
                    session_present = ack.session_present,
                    "delivery relay connected"
                );
                for filter in payloads::STORE_FILTERS {
                    if let Err(error) = client.try_subscribe(filter, QoS::AtLeastOnce) {
                        tracing::warn!(%error, filter, "cannot subscribe");
                    }
                }
                connected.send_replace(true);
            }
            Ok(Event::Incoming(Packet::Publish(publish))) => {
                if tx.send(publish).is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(error) => {
                if connected.send_replace(false) {
                    tracing::warn!(%error, "delivery relay lost the broker; reconnecting");
                }
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }
}
