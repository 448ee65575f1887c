//! The MQTT consumer of every store's trace topic (`omo/v1/stores/+/trace`).
//!
//! A handle and a driver: the driver polls the connection (a persistent session,
//! `clean_session = false`, QoS 1, manual acknowledgements) and hands each publish to the worker;
//! the worker stores the event ([`TraceStore::record`], idempotent by `eventID`) and only then
//! acknowledges it. A crash between commit and PUBACK makes the broker redeliver: the repeat is
//! dropped by its `eventID`. A message that is not an EPCIS event is logged and acknowledged (it
//! would never become one); a database error is retried until it succeeds or the cloud stops.

use std::time::Duration;

use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, Publish, QoS};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::store::{TraceError, TraceStore};

/// The topic filter of every store's trace.
pub const TRACE_FILTER: &str = "omo/v1/stores/+/trace";

/// How the consumer connects.
#[derive(Debug, Clone)]
pub struct ConsumerSettings {
    /// `mqtt://host:port` (or `tcp://`, or `host:port`).
    pub url: String,
    /// The MQTT client id; the persistent session is the broker's memory of it.
    pub client_id: String,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// Why the consumer could not start.
#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    #[error("mqtt_url {0:?} is not of the form mqtt://host:port")]
    Url(String),
}

/// `mqtt://host:port` into host and port (default 1883).
pub fn parse_url(url: &str) -> Result<(String, u16), ConsumerError> {
    let rest = url
        .strip_prefix("mqtt://")
        .or_else(|| url.strip_prefix("tcp://"))
        .unwrap_or(url)
        .trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (
            host,
            port.parse().map_err(|_| ConsumerError::Url(url.into()))?,
        ),
        None => (rest, 1883),
    };
    if host.is_empty() || host.contains('/') {
        return Err(ConsumerError::Url(url.into()));
    }
    Ok((host.to_string(), port))
}

/// The store a trace topic belongs to (`omo/v1/stores/{store}/trace`).
pub fn store_of(topic: &str) -> Option<&str> {
    topic
        .strip_prefix("omo/v1/stores/")?
        .strip_suffix("/trace")
        .filter(|s| !s.is_empty() && !s.contains('/'))
}

/// The consumer the cloud's config asks for (`mqtt_url`), until `stop`; returns at once when the
/// config names no broker.
pub async fn run_configured(ctx: crate::context::Context, stop: CancellationToken) {
    let Some(url) = ctx.config.mqtt_url.clone() else {
        tracing::info!("no mqtt_url configured: the trace consumer does not run");
        return;
    };
    let settings = ConsumerSettings {
        url,
        client_id: format!("{}-trace", ctx.config.mqtt_client_id),
        username: ctx.config.mqtt_username.clone(),
        password: ctx.config.mqtt_password.clone(),
    };
    let trace = TraceStore::new(ctx.store.clone());
    if let Err(error) = run(trace, settings, stop).await {
        tracing::error!(%error, "the trace consumer cannot run");
    }
}

/// Consumes trace events into `trace` until `stop`.
pub async fn run(
    trace: TraceStore,
    settings: ConsumerSettings,
    stop: CancellationToken,
) -> Result<(), ConsumerError> {
    let (host, port) = parse_url(&settings.url)?;
    let mut options = MqttOptions::new(settings.client_id.clone(), host, port);
    options.set_clean_session(false);
    options.set_manual_acks(true);
    options.set_keep_alive(Duration::from_secs(10));
    options.set_max_packet_size(1 << 20, 1 << 20);
    if let (Some(user), Some(password)) = (&settings.username, &settings.password) {
        options.set_credentials(user, password);
    }
    let (client, mut eventloop) = AsyncClient::new(options, 64);
    // PUBACKs must not wait for the broker's delayed ACK (Nagle: about 40 ms each).
    let mut network = rumqttc::NetworkOptions::new();
    network.set_tcp_nodelay(true);
    eventloop.set_network_options(network);
    // Unbounded on purpose: the broker sends at most its in-flight window of unacknowledged
    // messages, and the driver must never wait on this channel while the loop that acknowledges
    // waits on the driver (a deadlock once both fill up).
    let (tx, mut rx) = mpsc::unbounded_channel::<Publish>();
    let driver = tokio::spawn(drive(eventloop, client.clone(), tx, stop.clone()));
    tracing::info!(url = %settings.url, filter = TRACE_FILTER, "trace consumer starting");
    loop {
        let publish = tokio::select! {
            _ = stop.cancelled() => break,
            publish = rx.recv() => match publish { Some(p) => p, None => break },
        };
        if !store_publish(&trace, &publish, &stop).await {
            break;
        }
        if let Err(error) = client.ack(&publish).await {
            tracing::warn!(%error, "cannot acknowledge a trace event; the broker will send it again");
        }
    }
    let _ = client.disconnect().await;
    driver.abort();
    Ok(())
}

/// Stores one publish; false only if `stop` came while the database was failing.
async fn store_publish(trace: &TraceStore, publish: &Publish, stop: &CancellationToken) -> bool {
    let Some(store_id) = store_of(&publish.topic) else {
        tracing::warn!(topic = %publish.topic, "message on an unexpected topic; dropped");
        return true;
    };
    let event: serde_json::Value = match serde_json::from_slice(&publish.payload) {
        Ok(event) => event,
        Err(error) => {
            tracing::warn!(store = store_id, %error, "trace message is not JSON; dropped");
            return true;
        }
    };
    loop {
        match trace.record(store_id, &event).await {
            Ok(true) => {
                tracing::debug!(store = store_id, event_id = %event["eventID"], "trace event stored");
                return true;
            }
            Ok(false) => {
                tracing::debug!(store = store_id, event_id = %event["eventID"], "repeated trace event dropped");
                return true;
            }
            Err(TraceError::NotAnEvent(why)) => {
                tracing::warn!(
                    store = store_id,
                    why,
                    "trace message is not an EPCIS event; dropped"
                );
                return true;
            }
            Err(error) => {
                tracing::warn!(store = store_id, %error, "cannot store a trace event; retrying");
                tokio::select! {
                    _ = stop.cancelled() => return false,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }
}

/// Polls the connection, subscribes after every connect, and forwards publishes in order.
async fn drive(
    mut eventloop: EventLoop,
    client: AsyncClient,
    tx: mpsc::UnboundedSender<Publish>,
    stop: CancellationToken,
) {
    let mut was_connected = false;
    loop {
        let event = tokio::select! {
            _ = stop.cancelled() => return,
            event = eventloop.poll() => event,
        };
        match event {
            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                was_connected = true;
                tracing::info!(
                    session_present = ack.session_present,
                    "trace consumer connected"
                );
                // Subscribing again is harmless with a present session, and needed without one.
                if let Err(error) = client.try_subscribe(TRACE_FILTER, QoS::AtLeastOnce) {
                    tracing::warn!(%error, "cannot subscribe to the trace topics");
                }
            }
            Ok(Event::Incoming(Packet::Publish(publish))) => {
                if tx.send(publish).is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(error) => {
                if was_connected {
                    tracing::warn!(%error, "trace consumer lost the broker; reconnecting");
                } else {
                    tracing::debug!(%error, "broker not reachable yet");
                }
                was_connected = false;
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_and_urls_parse() {
        assert_eq!(store_of("omo/v1/stores/SH-1/trace"), Some("SH-1"));
        assert_eq!(store_of("omo/v1/stores//trace"), None);
        assert_eq!(store_of("omo/v1/stores/a/b/trace"), None);
        assert_eq!(
            parse_url("mqtt://127.0.0.1:1884").unwrap(),
            ("127.0.0.1".into(), 1884)
        );
        assert!(parse_url("mqtt://:1").is_err());
    }
}
