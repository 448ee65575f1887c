//! The durable outbox: messages committed in the edge's SQLite are published to MQTT, QoS 1, in
//! commit order, and deleted only when the broker has acknowledged them.
//!
//! One publisher drives one persistent MQTT session (`clean_session = false`). It publishes a
//! window of up to 64 messages in commit order, waits for all their PUBACKs, then deletes the
//! window's rows in one transaction; a window not fully acknowledged in time (or cut by a
//! reconnect) is published again. A crash between PUBACK and delete republishes messages on
//! restart: that is why every payload carries a unique id and consumers drop repeats. First
//! arrivals stay in commit order: a window is only ever resent whole, after what preceded it. After each (re)connect the
//! publisher first sends the edge's retained `online` state (its birth message); the broker
//! publishes the retained `offline` last will if the edge disappears.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rumqttc::{AsyncClient, Event, LastWill, MqttOptions, Outgoing, Packet, QoS};
use serde_json::json;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::config::EdgeConfig;
use crate::db::{Db, OutboxMessage};
use crate::epcis::rfc3339;
use crate::topics;

/// Messages published before waiting for their PUBACKs (rumqttc allows 100 in flight).
const WINDOW: i64 = 64;

/// How long to wait for a window's PUBACKs before publishing it again.
const ACK_TIMEOUT: Duration = Duration::from_secs(10);

/// Wakes the publisher when a step committed new messages.
#[derive(Clone, Default)]
pub struct OutboxSignal {
    notify: Arc<Notify>,
    connected: Arc<AtomicBool>,
}

impl OutboxSignal {
    /// New messages are in the database.
    pub fn wake(&self) {
        self.notify.notify_one();
    }

    /// Whether the publisher holds a live broker connection.
    pub fn connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }
}

/// Errors in the MQTT settings.
#[derive(Debug, thiserror::Error)]
pub enum MqttSettingsError {
    #[error("mqtt.url {0:?} is not of the form mqtt://host:port")]
    Url(String),
}

/// The edge's MQTT options: persistent session, credentials, and `offline` as the last will.
pub fn mqtt_options(config: &EdgeConfig) -> Result<MqttOptions, MqttSettingsError> {
    let (host, port) = parse_mqtt_url(&config.mqtt.url)?;
    let mut options = MqttOptions::new(config.mqtt_client_id(), host, port);
    options.set_clean_session(false);
    options.set_keep_alive(Duration::from_secs(10));
    options.set_max_packet_size(1 << 20, 1 << 20);
    if let (Some(user), Some(password)) = (&config.mqtt.username, &config.mqtt.password) {
        options.set_credentials(user, password);
    }
    let will =
        json!({ "state": "offline", "store_id": config.store_id, "reason": "connection lost" });
    options.set_last_will(LastWill::new(
        topics::edge_state(&config.store_id),
        will.to_string(),
        QoS::AtLeastOnce,
        true,
    ));
    Ok(options)
}

/// `mqtt://host:port` (or `tcp://`, or a bare `host:port`) into host and port (default 1883).
pub fn parse_mqtt_url(url: &str) -> Result<(String, u16), MqttSettingsError> {
    let rest = url
        .strip_prefix("mqtt://")
        .or_else(|| url.strip_prefix("tcp://"))
        .unwrap_or(url);
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (
            host,
            port.parse()
                .map_err(|_| MqttSettingsError::Url(url.to_string()))?,
        ),
        None => (rest, 1883),
    };
    if host.is_empty() || rest.contains('/') {
        return Err(MqttSettingsError::Url(url.to_string()));
    }
    Ok((host.to_string(), port))
}

/// What the publisher learns from the event loop.
enum Link {
    Connected,
    Disconnected,
    Sent(u16),
    Acked(u16),
}

/// Runs the publisher until `cancel`; never returns early on broker trouble (it reconnects).
pub async fn run_publisher(
    db: Db,
    signal: OutboxSignal,
    options: MqttOptions,
    store_id: String,
    cancel: CancellationToken,
) {
    let (client, mut eventloop) = AsyncClient::new(options, 64);
    // Without TCP_NODELAY a window's last packets wait for the peer's delayed ACK (about 40 ms).
    let mut network = rumqttc::NetworkOptions::new();
    network.set_tcp_nodelay(true);
    eventloop.set_network_options(network);
    let (link_tx, mut link) = mpsc::unbounded_channel();
    let loop_cancel = cancel.clone();
    let driver = tokio::spawn(async move {
        let mut was_connected = false;
        loop {
            let event = tokio::select! {
                _ = loop_cancel.cancelled() => break,
                event = eventloop.poll() => event,
            };
            let forward = match event {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    was_connected = true;
                    Some(Link::Connected)
                }
                Ok(Event::Incoming(Packet::PubAck(ack))) => Some(Link::Acked(ack.pkid)),
                Ok(Event::Outgoing(Outgoing::Publish(pkid))) => Some(Link::Sent(pkid)),
                Ok(_) => None,
                Err(error) => {
                    if was_connected {
                        warn!(%error, "mqtt connection lost; reconnecting");
                    } else {
                        debug!(%error, "mqtt broker not reachable yet");
                    }
                    was_connected = false;
                    let _ = link_tx.send(Link::Disconnected);
                    tokio::select! {
                        _ = loop_cancel.cancelled() => break,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                    None
                }
            };
            if let Some(forward) = forward
                && link_tx.send(forward).is_err()
            {
                break;
            }
        }
        // Best effort: tell the broker we leave on purpose (it then drops the last will, so
        // publish the offline state ourselves first).
    });

    let mut publisher = Publisher {
        client: client.clone(),
        link: &mut link,
        signal: signal.clone(),
        connected: false,
        birth_due: false,
        store_id,
        birth_seq: 0,
    };
    publisher.run(&db, &cancel).await;

    let offline = json!({ "state": "offline", "store_id": publisher.store_id, "reason": "shutdown", "at": rfc3339(chrono::Utc::now()) });
    if publisher.connected {
        let _ = client
            .publish(
                topics::edge_state(&publisher.store_id),
                QoS::AtLeastOnce,
                true,
                offline.to_string(),
            )
            .await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let _ = client.disconnect().await;
    }
    driver.abort();
}

struct Publisher<'a> {
    client: AsyncClient,
    link: &'a mut mpsc::UnboundedReceiver<Link>,
    signal: OutboxSignal,
    connected: bool,
    birth_due: bool,
    store_id: String,
    birth_seq: u64,
}

impl Publisher<'_> {
    async fn run(&mut self, db: &Db, cancel: &CancellationToken) {
        while !cancel.is_cancelled() {
            if !self.connected {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    link = self.link.recv() => match link {
                        Some(link) => self.note(link),
                        None => return,
                    },
                }
                continue;
            }
            if self.birth_due {
                self.birth_seq += 1;
                let birth = OutboxMessage {
                    id: uuid::Uuid::now_v7().to_string(),
                    topic: topics::edge_state(&self.store_id),
                    payload: json!({
                        "id": uuid::Uuid::now_v7().to_string(),
                        "state": "online",
                        "store_id": self.store_id,
                        "seq": self.birth_seq,
                        "at": rfc3339(chrono::Utc::now()),
                    })
                    .to_string()
                    .into_bytes(),
                    retain: true,
                };
                if self.publish_and_wait(&[&birth], cancel).await {
                    self.birth_due = false;
                    info!(store = %self.store_id, seq = self.birth_seq, "edge online on the broker");
                }
                continue;
            }
            let rows = match db.outbox_peek(WINDOW).await {
                Ok(rows) => rows,
                Err(error) => {
                    warn!(%error, "cannot read the outbox; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if rows.is_empty() {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = self.signal.notify.notified() => {}
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    link = self.link.recv() => if let Some(link) = link { self.note(link) },
                }
                continue;
            }
            let messages: Vec<&OutboxMessage> = rows.iter().map(|r| &r.message).collect();
            if self.publish_and_wait(&messages, cancel).await {
                let (first, last) = (rows[0].seq, rows[rows.len() - 1].seq);
                if let Err(error) = db.outbox_ack_range(first, last).await {
                    warn!(%error, first, last, "published but cannot delete from the outbox; it will be sent again");
                }
            }
        }
    }

    fn note(&mut self, link: Link) {
        match link {
            Link::Connected => {
                self.connected = true;
                self.birth_due = true;
                self.signal.connected.store(true, Ordering::Relaxed);
            }
            Link::Disconnected => {
                self.connected = false;
                self.signal.connected.store(false, Ordering::Relaxed);
            }
            Link::Sent(_) | Link::Acked(_) => {}
        }
    }

    /// Publishes a window of messages, in order, and waits until the broker acknowledged every
    /// one. False if the connection dropped or the wait timed out: the caller publishes the whole
    /// window again (consumers drop the repeats by id).
    async fn publish_and_wait(
        &mut self,
        messages: &[&OutboxMessage],
        cancel: &CancellationToken,
    ) -> bool {
        for message in messages {
            let publish = self.client.publish(
                message.topic.clone(),
                QoS::AtLeastOnce,
                message.retain,
                message.payload.clone(),
            );
            if let Err(error) = publish.await {
                warn!(%error, "mqtt client closed");
                return false;
            }
        }
        // Every publish this publisher sees from now on is one of this window's (it is the only
        // publisher); the window is done when each of their packet ids is acknowledged.
        let mut sent: HashSet<u16> = HashSet::new();
        let mut acked: HashSet<u16> = HashSet::new();
        let deadline = tokio::time::sleep(ACK_TIMEOUT);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return false,
                _ = &mut deadline => {
                    debug!(window = messages.len(), acked = acked.len(), "not every PUBACK in time; publishing again");
                    return false;
                }
                link = self.link.recv() => match link {
                    Some(Link::Sent(pkid)) => { sent.insert(pkid); }
                    Some(Link::Acked(pkid)) if sent.contains(&pkid) => {
                        acked.insert(pkid);
                        if acked.len() >= messages.len() {
                            return true;
                        }
                    }
                    Some(Link::Acked(_)) => {}
                    Some(other) => {
                        let reconnected = matches!(other, Link::Connected);
                        self.note(other);
                        // rumqttc resends unacked publishes on reconnect; the birth message must
                        // go first on a new connection, then the window again.
                        if reconnected { return false; }
                    }
                    None => return false,
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_mqtt_url;

    #[test]
    fn mqtt_urls_parse() {
        assert_eq!(
            parse_mqtt_url("mqtt://127.0.0.1:1883").unwrap(),
            ("127.0.0.1".into(), 1883)
        );
        assert_eq!(
            parse_mqtt_url("tcp://broker:2883").unwrap(),
            ("broker".into(), 2883)
        );
        assert_eq!(parse_mqtt_url("broker").unwrap(), ("broker".into(), 1883));
        assert!(parse_mqtt_url("mqtt://:1883").is_err());
        assert!(parse_mqtt_url("mqtt://host:notaport").is_err());
        assert!(parse_mqtt_url("http://host/path").is_err());
    }
}
