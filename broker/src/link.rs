//! A live connection's bounded outbox: the packets the router's [`crate::router::Output`] and the
//! connection's reader queue for its writer task to send to the socket, and the token that
//! closes the connection.
//!
//! The outbox counts the bytes it holds (see [`cost`]) against `max_outgoing_bytes`: a QoS 0
//! message that would fill more than half of it is dropped (counted and logged); any other
//! packet that does not fit closes the connection, as the client is not reading its socket. So a
//! subscriber that never reads costs the broker at most that many bytes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use rumqttc::mqttbytes::QoS;
use rumqttc::mqttbytes::v4::{Packet, Publish};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio_util::sync::CancellationToken;

/// What a packet costs in the outbox: its topic and payload, and a fixed overhead for the
/// packet itself (so that many small packets are bounded too).
pub fn cost(packet: &Packet) -> usize {
    match packet {
        Packet::Publish(p) => publish_cost(p),
        Packet::SubAck(ack) => OVERHEAD + ack.return_codes.len(),
        _ => OVERHEAD,
    }
}

/// What a PUBLISH costs (see [`cost`]).
pub fn publish_cost(publish: &Publish) -> usize {
    OVERHEAD + publish.topic.len() + publish.payload.len()
}

const OVERHEAD: usize = 64;

/// The sending side: cloneable, held by the server's table of live connections and the
/// connection's reader.
#[derive(Clone)]
pub struct Outbox {
    tx: UnboundedSender<Packet>,
    bytes: Arc<AtomicUsize>,
    dropped: Arc<AtomicU64>,
    limit: usize,
    close: CancellationToken,
}

/// The receiving side, for the writer task.
pub struct Inbox {
    rx: UnboundedReceiver<Packet>,
    bytes: Arc<AtomicUsize>,
}

/// An outbox of `limit` bytes for a connection that `close` ends.
pub fn outbox(limit: usize, close: CancellationToken) -> (Outbox, Inbox) {
    let (tx, rx) = unbounded_channel();
    let bytes = Arc::new(AtomicUsize::new(0));
    let outbox = Outbox {
        tx,
        bytes: bytes.clone(),
        dropped: Arc::new(AtomicU64::new(0)),
        limit,
        close,
    };
    (outbox, Inbox { rx, bytes })
}

impl Outbox {
    /// Queues `packet` for the socket, or drops it (QoS 0) or closes the connection (anything
    /// else) when the outbox is full. Returns whether it was queued.
    pub fn send(&self, packet: Packet) -> bool {
        if self.close.is_cancelled() {
            return false;
        }
        let cost = cost(&packet);
        let droppable = matches!(&packet, Packet::Publish(p) if p.qos == QoS::AtMostOnce);
        let room = if droppable {
            self.limit / 2
        } else {
            self.limit
        };
        let before = self.bytes.fetch_add(cost, Ordering::AcqRel);
        if before + cost > room {
            self.bytes.fetch_sub(cost, Ordering::AcqRel);
            if droppable {
                let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if dropped.is_power_of_two() {
                    tracing::warn!(
                        dropped,
                        queued_bytes = before,
                        "MQTT client reads too slowly: dropping QoS 0 messages"
                    );
                }
            } else {
                tracing::warn!(
                    queued_bytes = before,
                    "MQTT client does not read its socket: disconnecting it"
                );
                self.close.cancel();
            }
            return false;
        }
        if self.tx.send(packet).is_err() {
            self.bytes.fetch_sub(cost, Ordering::AcqRel);
            return false;
        }
        true
    }

    /// The token that closes this connection.
    pub fn close(&self) -> &CancellationToken {
        &self.close
    }
}

impl Inbox {
    /// The next packet, or None once every [`Outbox`] is dropped.
    pub async fn recv(&mut self) -> Option<Packet> {
        let packet = self.rx.recv().await?;
        self.bytes.fetch_sub(cost(&packet), Ordering::AcqRel);
        Some(packet)
    }

    /// The next packet if one is waiting.
    pub fn try_recv(&mut self) -> Option<Packet> {
        let packet = self.rx.try_recv().ok()?;
        self.bytes.fetch_sub(cost(&packet), Ordering::AcqRel);
        Some(packet)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rumqttc::mqttbytes::v4::PubAck;

    #[test]
    fn a_full_outbox_drops_qos0_and_closes_on_anything_else() {
        let close = CancellationToken::new();
        let (out, mut inbox) = outbox(10_000, close.clone());
        let qos0 = || Packet::Publish(Publish::new("t", QoS::AtMostOnce, vec![0u8; 1000]));
        let sent = (0..20).filter(|_| out.send(qos0())).count();
        assert_eq!(sent, 4, "QoS 0 fills at most half");
        assert!(!close.is_cancelled());
        assert!(inbox.try_recv().is_some());
        assert!(out.send(qos0()), "room again once the writer took one");
        let qos1 = || Packet::Publish(Publish::new("t", QoS::AtLeastOnce, vec![0u8; 1000]));
        assert_eq!((0..5).filter(|_| out.send(qos1())).count(), 5);
        assert!(out.send(Packet::PubAck(PubAck::new(1))));
        assert!(!out.send(qos1()));
        assert!(
            close.is_cancelled(),
            "a client that does not read is closed"
        );
    }
}
