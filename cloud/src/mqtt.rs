//! The cloud's MQTT sessions (the trace consumer, the delivery relay): each a persistent session
//! (`clean_session = false`, QoS 1) whose messages are acknowledged by hand, only after the
//! caller committed what they said, and with TCP_NODELAY (without it every small packet waits
//! for the broker's delayed ACK, about 40 ms).
//!
//! With `mqtt_share_group` set, each filter is subscribed as the shared subscription
//! `$share/{group}/{filter}` (and the plain filter unsubscribed, should a persistent session
//! still hold it from before), so the cloud processes of the group share the messages.
//!
//! A dead process's share must not wait for it: each session of a group beats a row in the
//! database, and a live session adopts a dead one's broker session (see [`adopt`], [`members`]),
//! handing what waited there to its own consumer as [`Message`]s acknowledged on that connection.
//!
//! [`Session::start`] spawns the driver: it polls the connection, subscribes again after every
//! connect, reports whether the broker is reachable, and hands each publish over in order. The
//! channel to the caller is unbounded on purpose: the broker sends at most its in-flight window of
//! unacknowledged messages, and the driver must never wait on the caller while the caller waits on
//! the driver to send an acknowledgement (a deadlock once both fill up).

use std::time::Duration;

use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, Publish, QoS};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::context::Context;

mod adopt;
pub mod members;

/// Why a session could not start.
#[derive(Debug, thiserror::Error)]
pub enum MqttError {
    #[error("mqtt_url {0:?} is not of the form mqtt://host:port")]
    Url(String),
}

/// `mqtt://host:port` into host and port (default 1883).
pub fn parse_url(url: &str) -> Result<(String, u16), MqttError> {
    let rest = url
        .strip_prefix("mqtt://")
        .or_else(|| url.strip_prefix("tcp://"))
        .unwrap_or(url)
        .trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (host, port.parse().map_err(|_| MqttError::Url(url.into()))?),
        None => (rest, 1883),
    };
    if host.is_empty() || host.contains('/') {
        return Err(MqttError::Url(url.into()));
    }
    Ok((host.to_string(), port))
}

/// A message that arrived, with the connection it is acknowledged on (this session's own, or
/// that of a dead member it adopted).
#[derive(Debug)]
pub struct Message {
    pub publish: Publish,
    acker: AsyncClient,
}

/// A running session.
pub struct Session {
    /// Publish through it.
    pub client: AsyncClient,
    /// What arrives on the subscribed filters (and from adopted sessions), in order.
    pub incoming: mpsc::UnboundedReceiver<Message>,
    /// Whether the broker is reachable now (changes on every connect and loss).
    pub connected: watch::Receiver<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Session {
    /// Connects `{mqtt_client_id}-{role}` to the config's broker (`url`) and subscribes to
    /// `filters` after every connect, until `stop`; in a share group, also beats this session's
    /// row and adopts dead members' sessions.
    pub fn start(
        ctx: &Context,
        url: &str,
        role: &'static str,
        filters: &'static [&'static str],
        stop: CancellationToken,
    ) -> Result<Session, MqttError> {
        let config = &ctx.config;
        let (host, port) = parse_url(url)?;
        let client_id = format!("{}-{role}", config.mqtt_client_id);
        let mut options = MqttOptions::new(client_id.clone(), host.clone(), port);
        options.set_clean_session(false);
        options.set_manual_acks(true);
        options.set_keep_alive(Duration::from_secs(10));
        options.set_max_packet_size(1 << 20, 1 << 20);
        if let (Some(user), Some(password)) = (&config.mqtt_username, &config.mqtt_password) {
            options.set_credentials(user, password);
        }
        let (client, mut eventloop) = AsyncClient::new(options, 256);
        let mut network = rumqttc::NetworkOptions::new();
        network.set_tcp_nodelay(true);
        eventloop.set_network_options(network);
        let (tx, incoming) = mpsc::unbounded_channel();
        let (connected_tx, connected) = watch::channel(false);
        let subscriptions = Subscriptions::new(filters, config.mqtt_share_group.as_deref());
        let mut tasks = vec![tokio::spawn(drive(
            eventloop,
            client.clone(),
            role,
            subscriptions.clone(),
            tx.clone(),
            connected_tx,
            stop.clone(),
        ))];
        if let Some(group) = &config.mqtt_share_group {
            let members = members::Members::new(ctx.db.clone(), &client_id, group, role);
            let adopter = adopt::Adopter {
                ctx: ctx.clone(),
                host,
                port,
                role,
                subscriptions,
                tx,
            };
            tasks.push(tokio::spawn(adopt::watch(adopter, members, stop)));
        }
        tracing::info!(url, role, "MQTT session starting");
        Ok(Session {
            client,
            incoming,
            connected,
            tasks,
        })
    }

    /// Acknowledges `message` (after its effect is committed) on the connection it came by; a
    /// failure only means the broker sends it again.
    pub async fn ack(&self, message: &Message) {
        if let Err(error) = message.acker.ack(&message.publish).await {
            tracing::warn!(%error, topic = %message.publish.topic, "cannot acknowledge a message; the broker will send it again");
        }
    }

    /// Disconnects and stops the driver (and any adoption).
    pub async fn close(self) {
        let _ = self.client.disconnect().await;
        for task in self.tasks {
            task.abort();
        }
    }
}

/// What a session subscribes to after every connect, and the plain filters it drops.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Subscriptions {
    subscribe: Vec<String>,
    unsubscribe: Vec<String>,
}

impl Subscriptions {
    fn new(filters: &[&str], share_group: Option<&str>) -> Subscriptions {
        match share_group {
            Some(group) => Subscriptions {
                subscribe: filters
                    .iter()
                    .map(|f| format!("$share/{group}/{f}"))
                    .collect(),
                unsubscribe: filters.iter().map(|f| f.to_string()).collect(),
            },
            None => Subscriptions {
                subscribe: filters.iter().map(|f| f.to_string()).collect(),
                unsubscribe: Vec::new(),
            },
        }
    }
}

/// Polls the connection, subscribes after every connect, and forwards publishes in order.
async fn drive(
    mut eventloop: EventLoop,
    client: AsyncClient,
    role: &'static str,
    subscriptions: Subscriptions,
    tx: mpsc::UnboundedSender<Message>,
    connected: watch::Sender<bool>,
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
                    role,
                    session_present = ack.session_present,
                    "MQTT session connected"
                );
                // Subscribing again is harmless with a present session, and needed without one.
                // The shared filter first, then the plain one dropped: no moment matches neither.
                for filter in &subscriptions.subscribe {
                    if let Err(error) = client.try_subscribe(filter, QoS::AtLeastOnce) {
                        tracing::warn!(role, %error, filter, "cannot subscribe");
                    }
                }
                for filter in &subscriptions.unsubscribe {
                    if let Err(error) = client.try_unsubscribe(filter) {
                        tracing::warn!(role, %error, filter, "cannot unsubscribe");
                    }
                }
                connected.send_replace(true);
            }
            Ok(Event::Incoming(Packet::SubAck(ack)))
                if ack
                    .return_codes
                    .contains(&rumqttc::SubscribeReasonCode::Failure) =>
            {
                // Nothing arrives on a refused filter: say so loudly (the ACL, or a broker
                // without shared subscriptions).
                tracing::error!(role, filters = ?subscriptions.subscribe,
                    "the broker refused a subscription: check the cloud user's ACL and mqtt_share_group");
            }
            Ok(Event::Incoming(Packet::Publish(publish))) => {
                let message = Message {
                    publish,
                    acker: client.clone(),
                };
                if tx.send(message).is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(error) => {
                if connected.send_replace(false) {
                    tracing::warn!(role, %error, "MQTT session lost the broker; reconnecting");
                } else {
                    tracing::debug!(role, %error, "broker not reachable yet");
                }
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
    fn urls_parse() {
        assert_eq!(
            parse_url("mqtt://127.0.0.1:1884").unwrap(),
            ("127.0.0.1".into(), 1884)
        );
        assert_eq!(parse_url("broker").unwrap(), ("broker".into(), 1883));
        assert!(parse_url("mqtt://:1").is_err());
        assert!(parse_url("mqtt://a:b").is_err());
    }

    #[test]
    fn a_share_group_subscribes_through_it_and_drops_the_plain_filter() {
        let plain = Subscriptions::new(&["omo/v1/stores/+/trace"], None);
        assert_eq!(plain.subscribe, ["omo/v1/stores/+/trace"]);
        assert!(plain.unsubscribe.is_empty());
        let shared = Subscriptions::new(&["omo/v1/stores/+/trace"], Some("omo-cloud"));
        assert_eq!(shared.subscribe, ["$share/omo-cloud/omo/v1/stores/+/trace"]);
        assert_eq!(shared.unsubscribe, ["omo/v1/stores/+/trace"]);
    }
}
