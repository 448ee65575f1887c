//! One rider's web session: an MQTT session *as the rider* (user name = rider id, the rider's
//! own password, client id `omo-rider-{id}-app`, `clean_session = false`), so the broker's ACL
//! is what decides what the rider sees: its own dispatch topic, nothing else. (The rider's other
//! clients, such as `omo rider`, keep their own sessions.)
//!
//! QoS 1 end to end. A dispatch message is acknowledged to the broker only once the rider's
//! phone has it: the page asks for messages after the last one it holds (`after`), and that is
//! what acknowledges the ones up to it. If the phone, the network or the edge goes away first,
//! the broker sends the message again. An event the phone sends (accepted, picked up,
//! delivered, location) is answered only once the broker has acknowledged it. The phone sends
//! it again until answered, with the same id, and the dispatcher drops repeats by id.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, ConnectReturnCode, Event, MqttOptions, Outgoing, Packet, Publish, QoS};
use serde_json::Value;
use tokio::sync::{Notify, oneshot, watch};
use tokio_util::sync::CancellationToken;

use crate::topics::{rider_dispatch, rider_events};

/// At most this many dispatch messages wait for the phone (the broker holds the rest).
const MAX_WAITING: usize = 200;

/// Why a rider could not sign in.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("the broker refused the rider's credentials")]
    Refused,
    #[error("the broker cannot be reached: {0}")]
    Unreachable(String),
}

/// A dispatch message the phone has not confirmed yet.
struct Waiting {
    seq: u64,
    message: Value,
    publish: Publish,
}

/// Senders of events waiting for their PUBACK: first the ones not yet given a packet id (in
/// order), then by packet id.
#[derive(Default)]
struct Pending {
    unsent: VecDeque<oneshot::Sender<()>>,
    sent: Vec<(u16, oneshot::Sender<()>)>,
}

#[derive(Default)]
struct Inbox {
    next_seq: u64,
    waiting: VecDeque<Waiting>,
}

/// A signed-in rider.
pub struct RiderSession {
    pub rider_id: String,
    client: AsyncClient,
    inbox: Mutex<Inbox>,
    arrived: Notify,
    /// Events waiting for their PUBACK.
    pending: Mutex<Pending>,
    connected: watch::Receiver<bool>,
    pub last_seen: Mutex<Instant>,
    stop: CancellationToken,
}

impl RiderSession {
    /// Connects as `rider_id` with `password` and subscribes to its dispatch topic; fails if the
    /// broker refuses the credentials.
    pub async fn connect(
        host: &str,
        port: u16,
        rider_id: &str,
        password: &str,
        stop: CancellationToken,
    ) -> Result<std::sync::Arc<RiderSession>, LoginError> {
        let mut options = MqttOptions::new(format!("omo-rider-{rider_id}-app"), host, port);
        options.set_clean_session(false);
        options.set_manual_acks(true);
        options.set_keep_alive(Duration::from_secs(15));
        if !password.is_empty() {
            options.set_credentials(rider_id, password);
        }
        let (client, mut eventloop) = AsyncClient::new(options, 64);
        // The first answer decides the login.
        let first = tokio::time::timeout(Duration::from_secs(5), eventloop.poll()).await;
        match first {
            Ok(Ok(Event::Incoming(Packet::ConnAck(ack))))
                if ack.code == ConnectReturnCode::Success => {}
            Ok(Ok(Event::Incoming(Packet::ConnAck(_)))) => return Err(LoginError::Refused),
            Ok(Err(rumqttc::ConnectionError::ConnectionRefused(_))) => {
                return Err(LoginError::Refused);
            }
            Ok(Err(error)) => return Err(LoginError::Unreachable(error.to_string())),
            Ok(Ok(other)) => return Err(LoginError::Unreachable(format!("{other:?}"))),
            Err(_) => return Err(LoginError::Unreachable("no answer within 5 s".into())),
        }
        let (connected_tx, connected) = watch::channel(true);
        let session = std::sync::Arc::new(RiderSession {
            rider_id: rider_id.to_owned(),
            client: client.clone(),
            inbox: Mutex::new(Inbox::default()),
            arrived: Notify::new(),
            pending: Mutex::new(Pending::default()),
            connected,
            last_seen: Mutex::new(Instant::now()),
            stop: stop.clone(),
        });
        let topic = rider_dispatch(rider_id);
        let _ = client.try_subscribe(&topic, QoS::AtLeastOnce);
        let driver = session.clone();
        tokio::spawn(async move {
            loop {
                let event = tokio::select! {
                    _ = stop.cancelled() => break,
                    event = eventloop.poll() => event,
                };
                match event {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        let _ = driver.client.try_subscribe(&topic, QoS::AtLeastOnce);
                        connected_tx.send_replace(true);
                    }
                    Ok(Event::Incoming(Packet::Publish(publish))) => driver.arrive(publish),
                    Ok(Event::Outgoing(Outgoing::Publish(pkid))) => driver.sent(pkid),
                    Ok(Event::Incoming(Packet::PubAck(ack))) => driver.acknowledged(ack.pkid),
                    Ok(_) => {}
                    Err(error) => {
                        connected_tx.send_replace(false);
                        tracing::debug!(rider = %driver.rider_id, %error, "rider web session lost the broker; reconnecting");
                        tokio::select! {
                            _ = stop.cancelled() => break,
                            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        }
                    }
                }
            }
            let _ = driver.client.try_disconnect();
        });
        Ok(session)
    }

    fn arrive(&self, publish: Publish) {
        let Ok(message) = serde_json::from_slice::<Value>(&publish.payload) else {
            // Not JSON: it can never be shown; acknowledge it so it does not come back.
            let _ = self.client.try_ack(&publish);
            return;
        };
        let mut inbox = self.inbox.lock().unwrap_or_else(|e| e.into_inner());
        if inbox.waiting.len() >= MAX_WAITING {
            // Left unacknowledged: the broker sends it again on the next connection.
            return;
        }
        inbox.next_seq += 1;
        let seq = inbox.next_seq;
        inbox.waiting.push_back(Waiting {
            seq,
            message,
            publish,
        });
        drop(inbox);
        self.arrived.notify_waiters();
    }

    fn sent(&self, pkid: u16) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if pending.sent.iter().any(|(p, _)| *p == pkid) {
            return; // sent again after a reconnect: it already has its waiter
        }
        if let Some(tx) = pending.unsent.pop_front() {
            pending.sent.push((pkid, tx));
        }
    }

    fn acknowledged(&self, pkid: u16) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = pending.sent.iter().position(|(p, _)| *p == pkid) {
            let (_, tx) = pending.sent.swap_remove(i);
            let _ = tx.send(());
        }
    }

    /// The phone holds everything up to `after`: those are acknowledged to the broker. Then the
    /// messages after it, waiting up to `wait` for one to arrive.
    pub async fn messages(&self, after: u64, wait: Duration) -> Vec<(u64, Value)> {
        *self.last_seen.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.arrived.notified();
            {
                let mut inbox = self.inbox.lock().unwrap_or_else(|e| e.into_inner());
                while inbox.waiting.front().is_some_and(|w| w.seq <= after) {
                    if let Some(done) = inbox.waiting.pop_front() {
                        let _ = self.client.try_ack(&done.publish);
                    }
                }
                if !inbox.waiting.is_empty() {
                    return inbox
                        .waiting
                        .iter()
                        .map(|w| (w.seq, w.message.clone()))
                        .collect();
                }
            }
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep_until(deadline) => return Vec::new(),
                _ = self.stop.cancelled() => return Vec::new(),
            }
        }
    }

    /// Whether the broker is reachable now.
    pub fn connected(&self) -> bool {
        *self.connected.borrow()
    }

    /// Publishes `event` on the rider's events topic and waits for the broker's PUBACK.
    pub async fn report(&self, event: &Value) -> Result<(), &'static str> {
        let (tx, rx) = oneshot::channel();
        {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            self.client
                .try_publish(
                    rider_events(&self.rider_id),
                    QoS::AtLeastOnce,
                    false,
                    event.to_string(),
                )
                .map_err(|_| "the rider's queue is full")?;
            pending.unsent.push_back(tx);
        }
        match tokio::time::timeout(Duration::from_secs(10), rx).await {
            Ok(Ok(())) => Ok(()),
            _ => Err("the broker did not acknowledge the event"),
        }
    }

    /// Ends the session (the broker keeps the rider's persistent session and queues for it).
    pub fn close(&self) {
        self.stop.cancel();
    }
}
