//! One client's session: its owner, subscriptions, QoS 1 window and queue, within the
//! [`Limits`]. The router ([`super::router`]) holds one per client id.

use std::collections::{HashSet, VecDeque};

use rumqttc::mqttbytes::QoS;
use rumqttc::mqttbytes::v4::{LastWill, Packet, Publish};

use crate::limits::Limits;
use crate::link::publish_cost as held_cost;
use crate::output::Output;

pub(super) struct Session {
    pub(super) username: Option<String>,
    pub(super) clean: bool,
    pub(super) subscriptions: Vec<(String, QoS)>,
    /// The connection the client is on now, if any.
    pub(super) link: Option<u64>,
    pub(super) will: Option<LastWill>,
    pub(super) inflight: VecDeque<(Publish, usize)>,
    pub(super) inflight_ids: HashSet<u16>,
    /// Bytes of the messages in flight.
    pub(super) inflight_bytes: usize,
    pub(super) queue: VecDeque<(Publish, usize)>,
    /// Bytes of the messages in flight and queued.
    pub(super) bytes: usize,
    pub(super) next_pkid: u16,
    pub(super) dropped: u64,
}

impl Session {
    pub(super) fn new(username: Option<String>, clean: bool) -> Session {
        Session {
            username,
            clean,
            subscriptions: Vec::new(),
            link: None,
            will: None,
            inflight: VecDeque::new(),
            inflight_ids: HashSet::new(),
            inflight_bytes: 0,
            queue: VecDeque::new(),
            bytes: 0,
            next_pkid: 0,
            dropped: 0,
        }
    }

    /// Whether a message of `cost` bytes may go in flight now: the window has room in count,
    /// and in bytes (half the outbox, the other half being for QoS 0 and replies).
    fn window_has_room(&self, limits: &Limits, cost: usize) -> bool {
        self.link.is_some()
            && self.inflight.len() < limits.max_inflight
            && (self.inflight.is_empty()
                || self.inflight_bytes + cost <= limits.max_outgoing_bytes / 2)
    }

    /// Hands a message to this client: at once if it can take it, else queued (QoS 1) while
    /// the session's and the broker's bounds allow; `held` counts the broker's held bytes.
    pub(super) fn enqueue(
        &mut self,
        limits: &Limits,
        held: &mut usize,
        client_id: &str,
        publish: Publish,
        out: &mut Vec<Output>,
    ) {
        if publish.qos == QoS::AtMostOnce {
            if let Some(link) = self.link {
                out.push(Output::send(link, Packet::Publish(publish)));
            }
            return;
        }
        let cost = held_cost(&publish);
        let fits = self.bytes + cost <= limits.max_queued_bytes
            && *held + cost <= limits.max_queued_bytes_total;
        if fits && self.queue.is_empty() && self.window_has_room(limits, cost) {
            self.bytes += cost;
            *held += cost;
            self.send_inflight(publish, cost, out);
        } else if fits && self.queue.len() < limits.max_queued {
            self.bytes += cost;
            *held += cost;
            self.queue.push_back((publish, cost));
        } else {
            self.dropped += 1;
            if self.dropped.is_power_of_two() {
                tracing::warn!(
                    client_id,
                    dropped = self.dropped,
                    queued = self.queue.len(),
                    queued_bytes = self.bytes,
                    broker_queued_bytes = *held,
                    "MQTT client's queue is full: dropping QoS 1 messages"
                );
            }
        }
    }

    fn send_inflight(&mut self, mut publish: Publish, cost: usize, out: &mut Vec<Output>) {
        let pkid = loop {
            self.next_pkid = self.next_pkid.wrapping_add(1);
            if self.next_pkid != 0 && !self.inflight_ids.contains(&self.next_pkid) {
                break self.next_pkid;
            }
        };
        publish.pkid = pkid;
        publish.qos = QoS::AtLeastOnce;
        self.inflight_ids.insert(pkid);
        self.inflight_bytes += cost;
        self.inflight.push_back((publish.clone(), cost));
        if let Some(link) = self.link {
            out.push(Output::send(link, Packet::Publish(publish)));
        }
    }

    /// Moves queued messages in flight while there is room.
    pub(super) fn fill(&mut self, limits: &Limits, out: &mut Vec<Output>) {
        while let Some((_, cost)) = self.queue.front()
            && self.window_has_room(limits, *cost)
        {
            let (publish, cost) = self.queue.pop_front().expect("just seen");
            self.send_inflight(publish, cost, out);
        }
    }
}
