//! The cloud's MQTT side of delivery: forwards orders placed in the app to their store's edge
//! (`omo/v1/stores/{store}/delivery/requests`), learns the stores' answers (`delivery/orders`,
//! `delivery/refusals`) and their riders' progress (`delivery/progress`: picked up, delivered,
//! rider, ETA), and answers an acceptance that came after the order was refused and
//! refunded with a cancellation (`delivery/cancellations`), so the edge withdraws its rider.
//!
//! Forwarding is end-to-end acknowledged: an order stays PLACED, and is published again (QoS 1,
//! the same message id) every `RESEND` until the store's edge answers (each forward claimed in
//! the database, so of several cloud processes one sends it), so neither a broker
//! restart nor a cloud crash loses one; the edge places each order id once. Answers arrive on a
//! persistent session (`clean_session = false`) with manual acknowledgements, each acknowledged
//! only after the database committed it, so a crash makes the broker send it again, and a
//! repeat changes nothing.

use std::time::Duration;

use rumqttc::{AsyncClient, Publish, QoS};
use tokio_util::sync::CancellationToken;

use super::answers::Acceptance;
use super::order::Deliveries;
use omo_contract::topics::{self, Topic};

use super::payloads;
use crate::clock::to_rfc3339;
use crate::mqtt::Session;

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
    let mut session = match Session::start(
        &ctx,
        &url,
        "delivery",
        &topics::EVERY_STORE_DELIVERY,
        stop.clone(),
    ) {
        Ok(session) => session,
        Err(error) => {
            tracing::error!(%error, "the delivery relay cannot run");
            return;
        }
    };
    let mut resend = tokio::time::interval(RESEND / 2);
    resend.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            answer = session.incoming.recv() => {
                let Some(answer) = answer else { break };
                if !apply(&deliveries, &session.client, &answer.publish, &stop).await {
                    break;
                }
                session.ack(&answer).await;
                continue;
            }
            _ = deliveries.wait_placed() => {}
            _ = resend.tick() => {}
            _ = session.connected.changed() => {}
        }
        let up = *session.connected.borrow_and_update();
        if up {
            forward(&ctx, &deliveries, &session.client).await;
        }
    }
    session.close().await;
}

/// Publishes every order still waiting for its store (and not sent within [`RESEND`]) that this
/// process claims: with several cloud processes, each order is forwarded by one of them.
async fn forward(ctx: &crate::context::Context, deliveries: &Deliveries, client: &AsyncClient) {
    let now = ctx.now();
    let before = to_rfc3339(now - chrono::Duration::from_std(RESEND).unwrap_or_default());
    let due = match deliveries.claim_due(&before, &to_rfc3339(now)).await {
        Ok(due) => due,
        Err(error) => {
            tracing::warn!(%error, "cannot claim the delivery orders to forward; trying again");
            return;
        }
    };
    for order in due {
        let payload = payloads::request_payload(&order).to_string();
        let topic = topics::delivery_requests(&order.store_id);
        if let Err(error) = client.try_publish(&topic, QoS::AtLeastOnce, false, payload) {
            // Claimed but not sent: due again after RESEND.
            tracing::debug!(%error, "the relay's queue is full; forwarding the rest later");
            break;
        }
        tracing::debug!(order = %order.order_id, store = %order.store_id, "delivery order forwarded to its store");
    }
}

/// Tells the store to cancel the dispatch of `order_id`, which it accepted after the cloud
/// refused and refunded it. Queued before the acceptance is acknowledged (one connection, in
/// order), so a crash before the broker has it makes the broker send the acceptance again, and
/// that repeat publishes the cancellation again (same id).
async fn cancel(client: &AsyncClient, store: &str, order_id: &str, refusal: &str) {
    let payload = payloads::cancellation_payload(store, order_id, refusal).to_string();
    let topic = topics::delivery_cancellations(store);
    match client
        .publish(&topic, QoS::AtLeastOnce, false, payload)
        .await
    {
        Ok(()) => tracing::warn!(
            store,
            order = order_id,
            "late acceptance: cancellation sent to the store"
        ),
        Err(error) => {
            tracing::error!(%error, store, order = order_id, "cannot queue a delivery cancellation")
        }
    }
}

/// Applies one answer; false only if `stop` came while the database was failing.
async fn apply(
    deliveries: &Deliveries,
    client: &AsyncClient,
    publish: &Publish,
    stop: &CancellationToken,
) -> bool {
    loop {
        let result = match topics::parse(&publish.topic) {
            Some(Topic::DeliveryOrders { store }) => {
                match payloads::parse_store_order(&publish.payload, store) {
                    Ok(order) => match deliveries.store_accepted(store, &order).await {
                        Ok(Acceptance::Late { refusal }) => {
                            cancel(client, store, &order.order_id, &refusal).await;
                            Ok(())
                        }
                        other => other.map(|_| ()),
                    },
                    Err(error) => {
                        tracing::warn!(topic = %publish.topic, %error, "unreadable delivery order dropped");
                        return true;
                    }
                }
            }
            Some(Topic::DeliveryRefusals { store }) => {
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
            Some(Topic::DeliveryProgress { store }) => {
                match super::progress::parse_progress(&publish.payload, store) {
                    Ok(report) => deliveries.store_progress(store, &report).await.map(|_| ()),
                    Err(error) => {
                        tracing::warn!(topic = %publish.topic, %error, "unreadable delivery progress dropped");
                        return true;
                    }
                }
            }
            _ => {
                tracing::warn!(topic = %publish.topic, "message on an unexpected topic dropped");
                return true;
            }
        };
        match result {
            Ok(()) => return true,
            Err(crate::error::ServiceError::Db(error)) => {
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
