//! The broker's state: sessions, subscriptions, retained messages and the queues of QoS 1
//! messages, with the ACL applied. It does no IO: packets for a client go on that client's
//! channel, which its connection task writes to the socket.
//!
//! Semantics (MQTT 3.1.1, with mosquitto's choices where the spec leaves room):
//! - QoS 2 is accepted from publishers (exactly once on the way in) and delivered as QoS 1, and
//!   subscriptions asking for QoS 2 are granted QoS 1.
//! - A persistent session (`clean_session = false`) keeps its subscriptions, its unacknowledged
//!   QoS 1 messages (resent with DUP on reconnect) and queues QoS 1 messages while offline, up to
//!   [`Limits::max_queued`] (newer messages are dropped beyond it, as mosquitto does). QoS 0
//!   messages are not queued for offline clients.
//! - A client connecting with the id of a connected client takes over: the old connection is
//!   closed and its will published.
//! - A session whose user name changes is discarded rather than resumed.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use bytes::Bytes;
use rumqttc::mqttbytes::QoS;
use rumqttc::mqttbytes::v4::{
    ConnAck, ConnectReturnCode, LastWill, Packet, Publish, SubAck, Subscribe, SubscribeReasonCode,
    UnsubAck, Unsubscribe,
};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::acl::{Acl, Want};
use super::persist::{SavedMessage, SavedSession, Snapshot};
use super::topic::{matches, valid_filter};

/// Bounds on what the broker holds per client.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// QoS 1 messages sent and not yet acknowledged, per client.
    pub max_inflight: usize,
    /// QoS 1 messages waiting (offline, or beyond `max_inflight`), per client.
    pub max_queued: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_inflight: 500,
            max_queued: 100_000,
        }
    }
}

/// A live connection as the router sees it: where its packets go, and how to close it.
pub struct Link {
    pub id: u64,
    pub tx: UnboundedSender<Packet>,
    pub close: CancellationToken,
}

impl Link {
    fn send(&self, packet: Packet) {
        let _ = self.tx.send(packet);
    }
}

struct Session {
    username: Option<String>,
    clean: bool,
    subscriptions: Vec<(String, QoS)>,
    link: Option<Link>,
    will: Option<LastWill>,
    inflight: VecDeque<Publish>,
    inflight_ids: HashSet<u16>,
    queue: VecDeque<Publish>,
    next_pkid: u16,
    dropped: u64,
}

impl Session {
    fn new(username: Option<String>, clean: bool) -> Session {
        Session {
            username,
            clean,
            subscriptions: Vec::new(),
            link: None,
            will: None,
            inflight: VecDeque::new(),
            inflight_ids: HashSet::new(),
            queue: VecDeque::new(),
            next_pkid: 0,
            dropped: 0,
        }
    }

    /// Hands a message to this client: at once if it can take it, else queued (QoS 1).
    fn enqueue(&mut self, limits: &Limits, client_id: &str, publish: Publish) {
        if publish.qos == QoS::AtMostOnce {
            if let Some(link) = &self.link {
                link.send(Packet::Publish(publish));
            }
            return;
        }
        if self.link.is_some() && self.queue.is_empty() && self.inflight.len() < limits.max_inflight
        {
            self.send_inflight(publish);
        } else if self.queue.len() < limits.max_queued {
            self.queue.push_back(publish);
        } else {
            self.dropped += 1;
            if self.dropped.is_power_of_two() {
                tracing::warn!(
                    client_id,
                    dropped = self.dropped,
                    "MQTT client's queue is full: dropping QoS 1 messages"
                );
            }
        }
    }

    fn send_inflight(&mut self, mut publish: Publish) {
        let pkid = loop {
            self.next_pkid = self.next_pkid.wrapping_add(1);
            if self.next_pkid != 0 && !self.inflight_ids.contains(&self.next_pkid) {
                break self.next_pkid;
            }
        };
        publish.pkid = pkid;
        publish.qos = QoS::AtLeastOnce;
        self.inflight_ids.insert(pkid);
        self.inflight.push_back(publish.clone());
        if let Some(link) = &self.link {
            link.send(Packet::Publish(publish));
        }
    }

    /// Moves queued messages in flight while there is room.
    fn fill(&mut self, limits: &Limits) {
        while self.link.is_some() && self.inflight.len() < limits.max_inflight {
            match self.queue.pop_front() {
                Some(publish) => self.send_inflight(publish),
                None => break,
            }
        }
    }
}

/// All sessions and retained messages of the broker.
pub struct Router {
    acl: Option<Acl>,
    limits: Limits,
    sessions: HashMap<String, Session>,
    retained: BTreeMap<String, (Bytes, QoS)>,
    /// Counts changes, so the state is saved only when something changed.
    changes: u64,
}

fn qos_of(level: u8) -> QoS {
    if level == 0 {
        QoS::AtMostOnce
    } else {
        QoS::AtLeastOnce
    }
}

fn min_qos(a: QoS, b: QoS) -> QoS {
    if (a as u8) <= (b as u8) { a } else { b }
}

impl Router {
    pub fn new(acl: Option<Acl>, limits: Limits) -> Router {
        Router {
            acl,
            limits,
            sessions: HashMap::new(),
            retained: BTreeMap::new(),
            changes: 0,
        }
    }

    /// How many changes the state has seen (compare to decide whether to save it).
    pub fn changes(&self) -> u64 {
        self.changes
    }

    /// What outlives a restart: persistent sessions (their subscriptions, unacknowledged then
    /// queued messages) and retained messages.
    pub fn snapshot(&self) -> Snapshot {
        let saved = |p: &Publish| SavedMessage::new(&p.topic, &p.payload, p.qos as u8);
        let mut sessions: Vec<SavedSession> = self
            .sessions
            .iter()
            .filter(|(_, s)| !s.clean)
            .map(|(id, s)| SavedSession {
                client_id: id.clone(),
                username: s.username.clone(),
                subscriptions: s
                    .subscriptions
                    .iter()
                    .map(|(f, q)| (f.clone(), *q as u8))
                    .collect(),
                messages: s.inflight.iter().chain(&s.queue).map(saved).collect(),
            })
            .collect();
        sessions.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        Snapshot {
            version: 0,
            sessions,
            retained: self
                .retained
                .iter()
                .map(|(topic, (payload, qos))| SavedMessage::new(topic, payload, *qos as u8))
                .collect(),
        }
    }

    /// Takes up the state of `snapshot` (at start, before any client connects): each session
    /// waits offline for its client, its messages queued to be sent when it reconnects.
    pub fn restore(&mut self, snapshot: Snapshot) {
        for saved in snapshot.sessions {
            let mut session = Session::new(saved.username, false);
            session.subscriptions = saved
                .subscriptions
                .into_iter()
                .map(|(f, q)| (f, qos_of(q)))
                .collect();
            for m in saved.messages {
                let publish = Publish::new(&m.topic, qos_of(m.qos), m.bytes());
                if session.queue.len() < self.limits.max_queued {
                    session.queue.push_back(publish);
                }
            }
            self.sessions.insert(saved.client_id, session);
        }
        for m in snapshot.retained {
            self.retained
                .insert(m.topic.clone(), (Bytes::from(m.bytes()), qos_of(m.qos)));
        }
    }

    /// An authenticated client connects: takes over an older connection with its id, resumes
    /// or starts its session, and is sent CONNACK then any messages it missed.
    pub fn connect(
        &mut self,
        client_id: &str,
        username: Option<String>,
        clean: bool,
        will: Option<LastWill>,
        link: Link,
    ) {
        self.changes += 1;
        if let Some(session) = self.sessions.get_mut(client_id)
            && let Some(old) = session.link.take()
        {
            tracing::info!(
                client_id,
                "MQTT client id reconnected: closing its older connection"
            );
            old.close.cancel();
            let (owner, will) = (session.username.clone(), session.will.take());
            if let Some(will) = will {
                self.publish_will(client_id, owner.as_deref(), will);
            }
        }
        let resumable = self
            .sessions
            .get(client_id)
            .is_some_and(|s| !clean && !s.clean && s.username == username);
        if !resumable {
            self.sessions
                .insert(client_id.to_string(), Session::new(username, clean));
        }
        let session = self.sessions.get_mut(client_id).expect("just inserted");
        session.clean = clean;
        session.will = will;
        link.send(Packet::ConnAck(ConnAck::new(
            ConnectReturnCode::Success,
            resumable,
        )));
        for publish in &mut session.inflight {
            publish.dup = true;
            link.send(Packet::Publish(publish.clone()));
        }
        session.link = Some(link);
        session.fill(&self.limits);
    }

    /// The connection `link_id` of `client_id` ended; `graceful` if by DISCONNECT.
    pub fn disconnected(&mut self, client_id: &str, link_id: u64, graceful: bool) {
        self.changes += 1;
        let Some(session) = self.sessions.get_mut(client_id) else {
            return;
        };
        if session.link.as_ref().map(|l| l.id) != Some(link_id) {
            return; // taken over by a newer connection
        }
        session.link = None;
        let will = session.will.take();
        let owner = session.username.clone();
        if session.clean {
            self.sessions.remove(client_id);
        }
        if let (false, Some(will)) = (graceful, will) {
            self.publish_will(client_id, owner.as_deref(), will);
        }
    }

    fn publish_will(&mut self, client_id: &str, username: Option<&str>, will: LastWill) {
        let mut publish = Publish::from_bytes(will.topic, will.qos, will.message);
        publish.retain = will.retain;
        self.publish(client_id, username, publish);
    }

    /// A client publishes. Returns false if the ACL denies it (the message is dropped).
    pub fn publish(&mut self, client_id: &str, username: Option<&str>, publish: Publish) -> bool {
        self.changes += 1;
        if let Some(acl) = &self.acl
            && !acl.allows(username, client_id, &publish.topic, Want::Write)
        {
            tracing::debug!(client_id, topic = %publish.topic, "MQTT publish denied by the ACL");
            return false;
        }
        if publish.retain {
            if publish.payload.is_empty() {
                self.retained.remove(&publish.topic);
            } else {
                self.retained.insert(
                    publish.topic.clone(),
                    (publish.payload.clone(), publish.qos),
                );
            }
        }
        let Router {
            acl,
            limits,
            sessions,
            ..
        } = self;
        for (id, session) in sessions.iter_mut() {
            let granted = session
                .subscriptions
                .iter()
                .filter(|(filter, _)| matches(filter, &publish.topic))
                .map(|(_, qos)| *qos)
                .reduce(|a, b| if (a as u8) >= (b as u8) { a } else { b });
            let Some(granted) = granted else { continue };
            if let Some(acl) = acl
                && !acl.allows(session.username.as_deref(), id, &publish.topic, Want::Read)
            {
                continue;
            }
            let mut out = Publish::from_bytes(
                publish.topic.clone(),
                min_qos(publish.qos, granted),
                publish.payload.clone(),
            );
            out.retain = false;
            session.enqueue(limits, id, out);
        }
        true
    }

    /// A client acknowledges a QoS 1 message.
    pub fn puback(&mut self, client_id: &str, pkid: u16) {
        self.changes += 1;
        if let Some(session) = self.sessions.get_mut(client_id)
            && session.inflight_ids.remove(&pkid)
        {
            if let Some(at) = session.inflight.iter().position(|p| p.pkid == pkid) {
                session.inflight.remove(at);
            }
            session.fill(&self.limits);
        }
    }

    /// A client subscribes: SUBACK (0x80 for a filter that is invalid or that the ACL gives
    /// nothing to read under), then the retained messages it may read.
    pub fn subscribe(&mut self, client_id: &str, subscribe: Subscribe) {
        self.changes += 1;
        let Some(session) = self.sessions.get_mut(client_id) else {
            return;
        };
        let mut codes = Vec::with_capacity(subscribe.filters.len());
        let mut granted = Vec::new();
        for filter in subscribe.filters {
            let allowed = valid_filter(&filter.path)
                && self.acl.as_ref().is_none_or(|acl| {
                    acl.may_subscribe(session.username.as_deref(), client_id, &filter.path)
                });
            if !allowed {
                tracing::info!(client_id, filter = %filter.path, "MQTT subscription refused");
                codes.push(SubscribeReasonCode::Failure);
                continue;
            }
            let qos = min_qos(filter.qos, QoS::AtLeastOnce);
            session.subscriptions.retain(|(f, _)| *f != filter.path);
            session.subscriptions.push((filter.path.clone(), qos));
            codes.push(SubscribeReasonCode::Success(qos));
            granted.push((filter.path, qos));
        }
        if let Some(link) = &session.link {
            link.send(Packet::SubAck(SubAck::new(subscribe.pkid, codes)));
        }
        for (filter, qos) in granted {
            for (topic, (payload, retained_qos)) in &self.retained {
                if !matches(&filter, topic) {
                    continue;
                }
                if let Some(acl) = &self.acl
                    && !acl.allows(session.username.as_deref(), client_id, topic, Want::Read)
                {
                    continue;
                }
                let mut out = Publish::from_bytes(
                    topic.clone(),
                    min_qos(*retained_qos, qos),
                    payload.clone(),
                );
                out.retain = true;
                session.enqueue(&self.limits, client_id, out);
            }
        }
    }

    pub fn unsubscribe(&mut self, client_id: &str, unsubscribe: Unsubscribe) {
        self.changes += 1;
        if let Some(session) = self.sessions.get_mut(client_id) {
            session
                .subscriptions
                .retain(|(f, _)| !unsubscribe.topics.contains(f));
            if let Some(link) = &session.link {
                link.send(Packet::UnsubAck(UnsubAck::new(unsubscribe.pkid)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

    fn link(id: u64) -> (Link, UnboundedReceiver<Packet>) {
        let (tx, rx) = unbounded_channel();
        let close = CancellationToken::new();
        (Link { id, tx, close }, rx)
    }

    fn drain(rx: &mut UnboundedReceiver<Packet>) -> Vec<Packet> {
        std::iter::from_fn(|| rx.try_recv().ok()).collect()
    }

    fn publishes(packets: &[Packet]) -> Vec<&Publish> {
        packets
            .iter()
            .filter_map(|p| match p {
                Packet::Publish(p) => Some(p),
                _ => None,
            })
            .collect()
    }

    fn publish(topic: &str, qos: QoS, retain: bool, payload: &str) -> Publish {
        let mut p = Publish::new(topic, qos, payload.as_bytes().to_vec());
        p.retain = retain;
        p
    }

    #[test]
    fn a_restored_router_delivers_what_the_old_one_held() {
        let mut router = Router::new(None, Limits::default());
        let (l1, mut rx1) = link(1);
        router.connect("cloud", Some("cloud".into()), false, None, l1);
        router.subscribe("cloud", Subscribe::new("t/#", QoS::AtLeastOnce));
        let (l2, _rx2) = link(2);
        router.connect("passer-by", None, true, None, l2);
        router.publish("p", None, publish("t/1", QoS::AtLeastOnce, false, "sent"));
        router.disconnected("cloud", 1, false);
        router.publish("p", None, publish("t/2", QoS::AtLeastOnce, false, "queued"));
        router.publish(
            "p",
            None,
            publish("s/state", QoS::AtLeastOnce, true, "online"),
        );
        drain(&mut rx1);
        let before = router.changes();
        let snapshot = router.snapshot();
        assert_eq!(router.changes(), before, "a snapshot changes nothing");
        assert_eq!(snapshot.sessions.len(), 1, "clean sessions are not kept");

        let mut restored = Router::new(None, Limits::default());
        restored.restore(snapshot);
        let (l3, mut rx3) = link(3);
        restored.connect("cloud", Some("cloud".into()), false, None, l3);
        let got = drain(&mut rx3);
        assert!(matches!(
            got[0],
            Packet::ConnAck(ConnAck {
                session_present: true,
                ..
            })
        ));
        let payloads: Vec<&[u8]> = publishes(&got).iter().map(|p| &p.payload[..]).collect();
        assert_eq!(
            payloads,
            vec![&b"sent"[..], b"queued"],
            "unacked first, then queued"
        );
        // The subscription came back too, and retained messages with it.
        restored.publish("p", None, publish("t/3", QoS::AtLeastOnce, false, "later"));
        assert_eq!(publishes(&drain(&mut rx3)).len(), 1);
        let (l4, mut rx4) = link(4);
        restored.connect("monitor", None, true, None, l4);
        restored.subscribe("monitor", Subscribe::new("s/#", QoS::AtLeastOnce));
        let retained = drain(&mut rx4);
        assert_eq!(publishes(&retained)[0].payload, &b"online"[..]);
    }

    #[test]
    fn a_persistent_session_queues_while_offline_and_resends_unacked_with_dup() {
        let mut router = Router::new(None, Limits::default());
        let (l1, mut rx1) = link(1);
        router.connect("edge", None, false, None, l1);
        router.subscribe("edge", Subscribe::new("a/#", QoS::AtLeastOnce));
        router.publish("p", None, publish("a/1", QoS::AtLeastOnce, false, "one"));
        let got = drain(&mut rx1);
        assert!(matches!(
            got[0],
            Packet::ConnAck(ConnAck {
                session_present: false,
                ..
            })
        ));
        assert_eq!(publishes(&got).len(), 1);
        router.disconnected("edge", 1, false);
        router.publish("p", None, publish("a/2", QoS::AtLeastOnce, false, "two"));
        router.publish("p", None, publish("a/3", QoS::AtMostOnce, false, "lost"));

        let (l2, mut rx2) = link(2);
        router.connect("edge", None, false, None, l2);
        let got = drain(&mut rx2);
        assert!(matches!(
            got[0],
            Packet::ConnAck(ConnAck {
                session_present: true,
                ..
            })
        ));
        let p = publishes(&got);
        assert_eq!(p.len(), 2, "{got:?}");
        assert_eq!((p[0].topic.as_str(), p[0].dup), ("a/1", true));
        assert_eq!((p[1].topic.as_str(), p[1].dup), ("a/2", false));
    }

    #[test]
    fn a_clean_session_forgets_everything() {
        let mut router = Router::new(None, Limits::default());
        let (l1, _rx1) = link(1);
        router.connect("c", None, false, None, l1);
        router.subscribe("c", Subscribe::new("a", QoS::AtLeastOnce));
        router.disconnected("c", 1, true);
        let (l2, mut rx2) = link(2);
        router.connect("c", None, true, None, l2);
        router.publish("p", None, publish("a", QoS::AtLeastOnce, false, "x"));
        let got = drain(&mut rx2);
        assert!(matches!(
            got[0],
            Packet::ConnAck(ConnAck {
                session_present: false,
                ..
            })
        ));
        assert!(publishes(&got).is_empty());
    }

    #[test]
    fn retained_messages_are_replaced_cleared_and_sent_on_subscribe() {
        let mut router = Router::new(None, Limits::default());
        router.publish("p", None, publish("s/1", QoS::AtLeastOnce, true, "old"));
        router.publish("p", None, publish("s/1", QoS::AtLeastOnce, true, "new"));
        router.publish("p", None, publish("s/2", QoS::AtLeastOnce, true, "gone"));
        router.publish("p", None, publish("s/2", QoS::AtLeastOnce, true, ""));
        let (l, mut rx) = link(1);
        router.connect("c", None, true, None, l);
        router.subscribe("c", Subscribe::new("s/+", QoS::AtMostOnce));
        let got = drain(&mut rx);
        let p = publishes(&got);
        assert_eq!(p.len(), 1, "{got:?}");
        assert_eq!(
            (&p[0].payload[..], p[0].retain, p[0].qos),
            (&b"new"[..], true, QoS::AtMostOnce)
        );
    }

    #[test]
    fn the_will_is_published_on_abnormal_disconnect_only() {
        let mut router = Router::new(None, Limits::default());
        let (lw, mut watcher) = link(9);
        router.connect("w", None, true, None, lw);
        router.subscribe("w", Subscribe::new("state", QoS::AtLeastOnce));
        let will = LastWill::new("state", "offline", QoS::AtLeastOnce, true);
        let (l1, _rx) = link(1);
        router.connect("edge", None, true, Some(will.clone()), l1);
        router.disconnected("edge", 1, true);
        let (l2, _rx) = link(2);
        router.connect("edge", None, true, Some(will), l2);
        router.disconnected("edge", 2, false);
        let got = drain(&mut watcher);
        let p = publishes(&got);
        assert_eq!(p.len(), 1, "{got:?}");
        assert_eq!(&p[0].payload[..], b"offline");
    }

    #[test]
    fn the_acl_filters_subscriptions_publishes_and_delivery() {
        let acl = Acl::parse(include_str!("../../deploy/mosquitto/acl")).unwrap();
        let mut router = Router::new(Some(acl), Limits::default());
        let (la, mut a) = link(1);
        router.connect("a", Some("rider-a".into()), true, None, la);
        let mut subscribe = Subscribe::new("omo/v1/riders/+/dispatch", QoS::AtLeastOnce);
        subscribe.add("omo/v1/riders/rider-b/dispatch".into(), QoS::AtLeastOnce);
        router.subscribe("a", subscribe);
        let edge = Some("edge-SH-001");
        assert!(router.publish(
            "e",
            edge,
            publish(
                "omo/v1/riders/rider-b/dispatch",
                QoS::AtLeastOnce,
                false,
                "b"
            )
        ));
        assert!(router.publish(
            "e",
            edge,
            publish(
                "omo/v1/riders/rider-a/dispatch",
                QoS::AtLeastOnce,
                false,
                "a"
            )
        ));
        assert!(!router.publish(
            "e",
            edge,
            publish("omo/v1/stores/SH-002/x", QoS::AtLeastOnce, false, "x")
        ));
        let got = drain(&mut a);
        let Packet::SubAck(ack) = &got[1] else {
            panic!("{got:?}")
        };
        assert_eq!(
            ack.return_codes,
            [
                SubscribeReasonCode::Success(QoS::AtLeastOnce),
                SubscribeReasonCode::Failure
            ]
        );
        let p = publishes(&got);
        assert_eq!(p.len(), 1, "{got:?}");
        assert_eq!(&p[0].payload[..], b"a");
    }

    #[test]
    fn a_slow_client_gets_a_bounded_window_and_a_bounded_queue() {
        let limits = Limits {
            max_inflight: 2,
            max_queued: 3,
        };
        let mut router = Router::new(None, limits);
        let (l, mut rx) = link(1);
        router.connect("c", None, true, None, l);
        router.subscribe("c", Subscribe::new("t", QoS::AtLeastOnce));
        for i in 0..10 {
            router.publish(
                "p",
                None,
                publish("t", QoS::AtLeastOnce, false, &i.to_string()),
            );
        }
        let got = drain(&mut rx);
        let p = publishes(&got);
        assert_eq!(p.len(), 2);
        let first = p[0].pkid;
        router.puback("c", first);
        let got = drain(&mut rx);
        let p = publishes(&got);
        assert_eq!(p.len(), 1);
        assert_eq!(&p[0].payload[..], b"2");
    }
}
