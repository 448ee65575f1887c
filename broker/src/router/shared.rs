//! Shared subscriptions: `$share/{group}/{filter}` (MQTT 5 §4.8.2; mosquitto 2 grants them to
//! MQTT 3.1.1 clients too, and so does this broker). A message that matches a shared
//! subscription goes to one of its members, not to each. A group is per user: the sessions of
//! one user name that name the same group and filter. The members connected now take turns
//! (round robin, in client-id order). With none connected, a persistent member queues it, as
//! mosquitto does. Retained messages are not sent to a shared subscription when it is made.
//!
//! Unlike mosquitto, a member that goes away hands its share on. When its connection ends, the
//! messages it holds from its shared subscriptions go to another connected member of the same
//! subscription: those sent and not yet acknowledged, and those queued. A consumer process that
//! dies loses nothing, and the others finish its work. (mosquitto 2.0 keeps queuing a
//! persistent member's turns until it returns, and drops a clean member's unacknowledged ones.)
//! A message handed on may have been handled by the member that went away before it could
//! acknowledge it. Consumers drop repeats by id, as for any QoS 1 delivery.

use std::collections::{BTreeMap, VecDeque};

use rumqttc::mqttbytes::QoS;
use rumqttc::mqttbytes::v4::Publish;

use super::{Router, min_qos};
use crate::acl::Want;
use crate::output::Output;
use crate::topic::{matches, shared};

/// The most groups whose turns are kept at once.
const MAX_TURNS: usize = 16_384;

/// A member of a shared subscription: its client id, the QoS granted, whether it is connected.
type Member = (String, QoS, bool);

/// The group a subscription joins: its filter, among the sessions of the same user. Another
/// user naming the same group forms a group of its own, so nobody can join the cloud's group to
/// take a share of its messages away (with mosquitto only the ACL stands in the way: give no
/// other user read access to the topics the cloud consumes).
fn group_key(username: Option<&str>, filter: &str) -> String {
    format!("{}\u{0}{filter}", username.unwrap_or(""))
}

impl Router {
    /// Delivers `publish` to one member of each shared subscription it matches.
    pub(super) fn deliver_shared(&mut self, publish: &Publish, sent: &mut Vec<Output>) {
        for (group, members) in self.shared_members(&publish.topic, None) {
            self.deliver_to_one(&group, &members, publish, sent);
        }
    }

    /// The members of each shared subscription that matches `topic` and may read it (without
    /// client `except`), by group ([`group_key`]), in client-id order.
    fn shared_members(&self, topic: &str, except: Option<&str>) -> BTreeMap<String, Vec<Member>> {
        let mut groups: BTreeMap<String, Vec<Member>> = BTreeMap::new();
        for (id, session) in &self.sessions {
            if except == Some(id.as_str()) {
                continue;
            }
            for (filter, qos) in &session.subscriptions {
                let Some((_, inner)) = shared(filter) else {
                    continue;
                };
                if !matches(inner, topic) {
                    continue;
                }
                if let Some(acl) = &self.acl
                    && !acl.allows(session.username.as_deref(), id, topic, Want::Read)
                {
                    continue;
                }
                let key = group_key(session.username.as_deref(), filter);
                groups
                    .entry(key)
                    .or_default()
                    .push((id.clone(), *qos, session.link.is_some()));
            }
        }
        for members in groups.values_mut() {
            members.sort_by(|a, b| a.0.cmp(&b.0));
        }
        groups
    }

    /// Gives `publish` to the member whose turn it is: a connected one, else a persistent one.
    fn deliver_to_one(
        &mut self,
        group: &str,
        members: &[Member],
        publish: &Publish,
        sent: &mut Vec<Output>,
    ) {
        let connected: Vec<&Member> = members.iter().filter(|m| m.2).collect();
        let pool: Vec<&Member> = if connected.is_empty() {
            members
                .iter()
                .filter(|m| self.sessions.get(&m.0).is_some_and(|s| !s.clean))
                .collect()
        } else {
            connected
        };
        if pool.is_empty() {
            return;
        }
        // Groups come and go with subscriptions: past MAX_TURNS groups, forget every turn
        // (fairness restarts; nothing else depends on it), so the map stays small: each key is
        // at most a user name, a group and a filter of bounded length (see `topic::shared`).
        if self.shared_turns.len() >= MAX_TURNS && !self.shared_turns.contains_key(group) {
            self.shared_turns.clear();
        }
        let turn = self.shared_turns.entry(group.to_string()).or_default();
        let (id, qos, _) = pool[*turn % pool.len()];
        *turn = turn.wrapping_add(1);
        let mut out = Publish::from_bytes(
            publish.topic.clone(),
            min_qos(publish.qos, *qos),
            publish.payload.clone(),
        );
        out.retain = false;
        let Router {
            limits,
            held,
            sessions,
            ..
        } = self;
        if let Some(session) = sessions.get_mut(id) {
            session.enqueue(limits, held, id, out, sent);
        }
    }

    /// The group of the shared subscription of `client_id` that brought it `topic`, if another connected
    /// member of it can take the message over (and no plain subscription of the client's
    /// matches the topic too).
    fn heir(&self, client_id: &str, topic: &str) -> Option<String> {
        let session = self.sessions.get(client_id)?;
        let plain = session
            .subscriptions
            .iter()
            .any(|(f, _)| shared(f).is_none() && matches(f, topic));
        if plain {
            return None;
        }
        let mine = session
            .subscriptions
            .iter()
            .find(|(f, _)| shared(f).is_some_and(|(_, inner)| matches(inner, topic)))?;
        let key = group_key(session.username.as_deref(), &mine.0);
        let others = self.shared_members(topic, Some(client_id));
        others
            .get(&key)
            .is_some_and(|members| members.iter().any(|m| m.2))
            .then_some(key)
    }

    /// The connection of `client_id` ended: the messages it holds from its shared
    /// subscriptions go on to another connected member of each.
    pub(super) fn hand_over(&mut self, client_id: &str, out: &mut Vec<Output>) {
        let Some(session) = self.sessions.get_mut(client_id) else {
            return;
        };
        if !session
            .subscriptions
            .iter()
            .any(|(f, _)| shared(f).is_some())
        {
            return;
        }
        let inflight = std::mem::take(&mut session.inflight);
        let queue = std::mem::take(&mut session.queue);
        let mut kept = (VecDeque::new(), VecDeque::new());
        let mut handed = Vec::new();
        for (was_inflight, messages) in [(true, inflight), (false, queue)] {
            for (publish, cost) in messages {
                match self.heir(client_id, &publish.topic) {
                    Some(group) => handed.push((group, publish, cost, was_inflight)),
                    None if was_inflight => kept.0.push_back((publish, cost)),
                    None => kept.1.push_back((publish, cost)),
                }
            }
        }
        let Some(session) = self.sessions.get_mut(client_id) else {
            return;
        };
        (session.inflight, session.queue) = kept;
        for (_, publish, cost, was_inflight) in &handed {
            session.bytes -= cost;
            self.held -= cost;
            if *was_inflight {
                session.inflight_bytes -= cost;
                session.inflight_ids.remove(&publish.pkid);
            }
        }
        if !handed.is_empty() {
            tracing::info!(
                client_id,
                messages = handed.len(),
                "shared subscription member gone: its messages go to the others"
            );
        }
        for (group, publish, _, _) in handed {
            let members = self
                .shared_members(&publish.topic, Some(client_id))
                .remove(&group)
                .unwrap_or_default();
            let fresh = Publish::from_bytes(publish.topic, publish.qos, publish.payload);
            self.deliver_to_one(&group, &members, &fresh, out);
        }
    }
}
