//! The broker's state: sessions, subscriptions, retained messages and the queues of QoS 1
//! messages, with the ACL applied and the [`Limits`] kept. It does no IO: each call returns what
//! to do ([`Output`]: a packet to send on a connection, a connection to close), as rumqttc's
//! `state.rs` does, and the server ([`super::server`]) puts each packet on that connection's
//! bounded outbox.
//!
//! Semantics (MQTT 3.1.1, with mosquitto's choices where the spec leaves room):
//! - QoS 2 is accepted from publishers (exactly once on the way in) and delivered as QoS 1, and
//!   subscriptions asking for QoS 2 are granted QoS 1.
//! - A persistent session (`clean_session = false`) keeps its subscriptions, its unacknowledged
//!   QoS 1 messages (resent with DUP on reconnect) and queues QoS 1 messages while offline, up to
//!   [`Limits::max_queued`] messages and [`Limits::max_queued_bytes`] (newer messages are
//!   dropped beyond it, as mosquitto does). QoS 0 messages are not queued for offline clients,
//!   and are dropped for a client that does not read them (see [`super::link`]).
//! - A client id belongs to the user whose session it is, for as long as the session lives
//!   (a persistent one across restarts, see [`super::persist`]): a client of another user (or
//!   an anonymous one) connecting with it is refused with CONNACK 5 "not authorised", and the
//!   session is left alone. The same user connecting again takes over: the old connection is
//!   closed and its will published.
//! - Shared subscriptions (`$share/{group}/{filter}`) give each message to one member of the
//!   group, and a member that goes away hands its messages on (see `shared`).
//! - Beyond [`Limits::max_sessions`] a new client id is refused with CONNACK 3 "server
//!   unavailable" (no session is evicted, so nobody can free an id to take it).

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use rumqttc::mqttbytes::QoS;
use rumqttc::mqttbytes::v4::{
    ConnAck, ConnectReturnCode, LastWill, Packet, Publish, SubAck, Subscribe, SubscribeReasonCode,
    UnsubAck, Unsubscribe,
};

use crate::acl::{Acl, Want};
pub use crate::limits::Limits;
pub use crate::output::{Denied, Output};
use crate::persist::{SavedMessage, SavedSession, Snapshot};
use crate::session::Session;
use crate::topic::{effective, matches, shared, valid_filter};

mod shared;

/// All sessions and retained messages of the broker.
pub struct Router {
    acl: Option<Acl>,
    limits: Limits,
    sessions: HashMap<String, Session>,
    retained: BTreeMap<String, (Bytes, QoS)>,
    /// Bytes of the retained messages' topics and payloads.
    retained_bytes: usize,
    /// Bytes of QoS 1 messages held for all sessions.
    held: usize,
    /// Counts changes, so the state is saved only when something changed.
    changes: u64,
    /// Whose turn it is next, per shared subscription.
    shared_turns: HashMap<String, usize>,
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
            retained_bytes: 0,
            held: 0,
            changes: 0,
            shared_turns: HashMap::new(),
        }
    }

    /// How many changes the state has seen (compare to decide whether to save it).
    pub fn changes(&self) -> u64 {
        self.changes
    }

    /// What outlives a restart: persistent sessions (their owner, subscriptions,
    /// unacknowledged then queued messages) and retained messages.
    pub fn snapshot(&self) -> Snapshot {
        let saved =
            |(p, _): &(Publish, usize)| SavedMessage::new(&p.topic, &p.payload, p.qos as u8);
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

    /// Takes up the state of `snapshot` (at start, before any client connects), within the
    /// limits: each session waits offline for its client (and stays bound to its user), its
    /// messages queued to be sent when it reconnects.
    pub fn restore(&mut self, snapshot: Snapshot) {
        for saved in snapshot.sessions {
            if self.sessions.len() >= self.limits.max_sessions {
                tracing::warn!(client_id = %saved.client_id, "too many saved sessions: not restored");
                continue;
            }
            let mut session = Session::new(saved.username, false);
            session.subscriptions = saved
                .subscriptions
                .into_iter()
                .map(|(f, q)| (f, qos_of(q)))
                .take(self.limits.max_subscriptions)
                .collect();
            for m in saved.messages {
                let publish = Publish::new(&m.topic, qos_of(m.qos), m.bytes());
                // Offline until its client connects: nothing is sent now.
                let mut nothing = Vec::new();
                session.enqueue(
                    &self.limits,
                    &mut self.held,
                    &saved.client_id,
                    publish,
                    &mut nothing,
                );
            }
            self.sessions.insert(saved.client_id, session);
        }
        for m in snapshot.retained {
            self.retain(&m.topic, Bytes::from(m.bytes()), qos_of(m.qos));
        }
    }

    /// Keeps (or clears, for an empty payload) the retained message of `topic`, within the
    /// limits. Returns whether it is kept.
    fn retain(&mut self, topic: &str, payload: Bytes, qos: QoS) -> bool {
        if let Some((old, _)) = self.retained.remove(topic) {
            self.retained_bytes -= topic.len() + old.len();
        }
        if payload.is_empty() {
            return true;
        }
        let cost = topic.len() + payload.len();
        if self.retained.len() >= self.limits.max_retained
            || self.retained_bytes + cost > self.limits.max_retained_bytes
        {
            tracing::warn!(
                topic,
                retained = self.retained.len(),
                retained_bytes = self.retained_bytes,
                "too many retained messages: this one is delivered but not retained"
            );
            return false;
        }
        self.retained_bytes += cost;
        self.retained.insert(topic.to_string(), (payload, qos));
        true
    }

    /// An authenticated client connects: refused if its client id belongs to another user's
    /// session (CONNACK 5) or there is no room for a new session (CONNACK 3); else takes over
    /// an older connection with its id, resumes or starts its session, and is sent CONNACK
    /// then any messages it missed.
    pub fn connect(
        &mut self,
        client_id: &str,
        username: Option<String>,
        clean: bool,
        will: Option<LastWill>,
        link: u64,
    ) -> Result<Vec<Output>, ConnectReturnCode> {
        match self.sessions.get(client_id) {
            Some(session) if session.username != username => {
                tracing::warn!(
                    client_id,
                    owner = session.username.as_deref(),
                    user = username.as_deref(),
                    "MQTT client id belongs to another user's session: refused"
                );
                return Err(ConnectReturnCode::NotAuthorized);
            }
            None if self.sessions.len() >= self.limits.max_sessions => {
                tracing::warn!(
                    client_id,
                    sessions = self.sessions.len(),
                    "too many MQTT sessions: new client refused"
                );
                return Err(ConnectReturnCode::ServiceUnavailable);
            }
            _ => {}
        }
        self.changes += 1;
        let mut out = Vec::new();
        if let Some(session) = self.sessions.get_mut(client_id)
            && let Some(old) = session.link.take()
        {
            tracing::info!(
                client_id,
                "MQTT client id reconnected: closing its older connection"
            );
            out.push(Output::Close { link: old });
            let (owner, will) = (session.username.clone(), session.will.take());
            if let Some(will) = will {
                self.publish_will(client_id, owner.as_deref(), will, &mut out);
            }
        }
        let resumable = self
            .sessions
            .get(client_id)
            .is_some_and(|s| !clean && !s.clean);
        if !resumable {
            self.hand_over(client_id, &mut out); // a replaced session's share goes on
        }
        if !resumable
            && let Some(old) = self
                .sessions
                .insert(client_id.to_string(), Session::new(username, clean))
        {
            self.held -= old.bytes;
        }
        let session = self.sessions.get_mut(client_id).expect("just inserted");
        session.clean = clean;
        session.will = will;
        out.push(Output::send(
            link,
            Packet::ConnAck(ConnAck::new(ConnectReturnCode::Success, resumable)),
        ));
        for (publish, _) in &mut session.inflight {
            publish.dup = true;
            out.push(Output::send(link, Packet::Publish(publish.clone())));
        }
        session.link = Some(link);
        session.fill(&self.limits, &mut out);
        Ok(out)
    }

    /// The connection `link_id` of `client_id` ended; `graceful` if by DISCONNECT.
    pub fn disconnected(&mut self, client_id: &str, link_id: u64, graceful: bool) -> Vec<Output> {
        self.changes += 1;
        let mut out = Vec::new();
        let Some(session) = self.sessions.get_mut(client_id) else {
            return out;
        };
        if session.link != Some(link_id) {
            return out; // taken over by a newer connection
        }
        session.link = None;
        let will = session.will.take();
        let owner = session.username.clone();
        let clean = session.clean;
        self.hand_over(client_id, &mut out);
        if clean && let Some(gone) = self.sessions.remove(client_id) {
            self.held -= gone.bytes;
        }
        if let (false, Some(will)) = (graceful, will) {
            self.publish_will(client_id, owner.as_deref(), will, &mut out);
        }
        out
    }

    fn publish_will(
        &mut self,
        client_id: &str,
        username: Option<&str>,
        will: LastWill,
        out: &mut Vec<Output>,
    ) {
        let mut publish = Publish::from_bytes(will.topic, will.qos, will.message);
        publish.retain = will.retain;
        if let Ok(sent) = self.publish(client_id, username, publish) {
            out.extend(sent);
        }
    }

    /// A client publishes: the deliveries to every subscriber who may read it, or [`Denied`]
    /// if the ACL does not let the client write there (the message is dropped).
    pub fn publish(
        &mut self,
        client_id: &str,
        username: Option<&str>,
        publish: Publish,
    ) -> Result<Vec<Output>, Denied> {
        self.changes += 1;
        if let Some(acl) = &self.acl
            && !acl.allows(username, client_id, &publish.topic, Want::Write)
        {
            tracing::debug!(client_id, topic = %publish.topic, "MQTT publish denied by the ACL");
            return Err(Denied);
        }
        let mut sent = Vec::new();
        if publish.retain {
            self.retain(&publish.topic, publish.payload.clone(), publish.qos);
        }
        let Router {
            acl,
            limits,
            sessions,
            held,
            ..
        } = self;
        for (id, session) in sessions.iter_mut() {
            let granted = session
                .subscriptions
                .iter()
                .filter(|(filter, _)| shared(filter).is_none() && matches(filter, &publish.topic))
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
            session.enqueue(limits, held, id, out, &mut sent);
        }
        self.deliver_shared(&publish, &mut sent);
        Ok(sent)
    }

    /// A client acknowledges a QoS 1 message.
    pub fn puback(&mut self, client_id: &str, pkid: u16) -> Vec<Output> {
        self.changes += 1;
        let mut out = Vec::new();
        if let Some(session) = self.sessions.get_mut(client_id)
            && session.inflight_ids.remove(&pkid)
        {
            if let Some(at) = session.inflight.iter().position(|(p, _)| p.pkid == pkid)
                && let Some((_, cost)) = session.inflight.remove(at)
            {
                session.inflight_bytes -= cost;
                session.bytes -= cost;
                self.held -= cost;
            }
            session.fill(&self.limits, &mut out);
        }
        out
    }

    /// A client subscribes: SUBACK (0x80 for a filter that is invalid, that the ACL gives
    /// nothing to read under, or beyond the session's subscription limit), then the retained
    /// messages it may read.
    pub fn subscribe(&mut self, client_id: &str, subscribe: Subscribe) -> Vec<Output> {
        self.changes += 1;
        let mut sent = Vec::new();
        let Some(session) = self.sessions.get_mut(client_id) else {
            return sent;
        };
        let mut codes = Vec::with_capacity(subscribe.filters.len());
        let mut granted = Vec::new();
        for filter in subscribe.filters {
            let allowed = valid_filter(&filter.path)
                && self.acl.as_ref().is_none_or(|acl| {
                    acl.may_subscribe(
                        session.username.as_deref(),
                        client_id,
                        effective(&filter.path),
                    )
                });
            let known = session.subscriptions.iter().any(|(f, _)| *f == filter.path);
            let room = known || session.subscriptions.len() < self.limits.max_subscriptions;
            if !allowed || !room {
                tracing::info!(client_id, filter = %filter.path, allowed, room, "MQTT subscription refused");
                codes.push(SubscribeReasonCode::Failure);
                continue;
            }
            let qos = min_qos(filter.qos, QoS::AtLeastOnce);
            session.subscriptions.retain(|(f, _)| *f != filter.path);
            session.subscriptions.push((filter.path.clone(), qos));
            codes.push(SubscribeReasonCode::Success(qos));
            granted.push((filter.path, qos));
        }
        if let Some(link) = session.link {
            sent.push(Output::send(
                link,
                Packet::SubAck(SubAck::new(subscribe.pkid, codes)),
            ));
        }
        // Retained messages are not sent to a shared subscription (MQTT 5 §4.8.2).
        for (filter, qos) in granted.into_iter().filter(|(f, _)| shared(f).is_none()) {
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
                session.enqueue(&self.limits, &mut self.held, client_id, out, &mut sent);
            }
        }
        sent
    }

    pub fn unsubscribe(&mut self, client_id: &str, unsubscribe: Unsubscribe) -> Vec<Output> {
        self.changes += 1;
        let mut out = Vec::new();
        if let Some(session) = self.sessions.get_mut(client_id) {
            session
                .subscriptions
                .retain(|(f, _)| !unsubscribe.topics.contains(f));
            if let Some(link) = session.link {
                out.push(Output::send(
                    link,
                    Packet::UnsubAck(UnsubAck::new(unsubscribe.pkid)),
                ));
            }
        }
        out
    }
}

#[cfg(test)]
#[path = "router_tests.rs"]
mod tests;
