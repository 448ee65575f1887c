//! Adopting a dead member of a share group. mosquitto 2.0 keeps routing a dead process's share of
//! a shared subscription to its persistent session, where it waits until a process with that
//! client id returns (the embedded `omo broker` hands it to the live members at once). So while a
//! session of a group is alive, [`watch`] beats its row (see [`super::members`]) and claims the
//! members that stopped beating; for each it claims, [`drain`] connects *as that member* (same
//! client id, `clean_session = false`), unsubscribes the shared filters at once, so the broker
//! stops giving the dead member turns, hands everything waiting there to this session's consumer
//! (acknowledged on that connection, after the consumer committed it), and disconnects once
//! nothing more arrives. When the member's own process returns it subscribes again, as at every connect.
//!
//! An adoption never reconnects: the broker closing it means the member came back (it took its
//! client id over) or the broker went away; either way nothing is lost, because only what was
//! committed was acknowledged, and a claim that was not completed is claimed again later.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, Event, MqttOptions, Outgoing, Packet};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::members::{BEAT, Members};
use super::{Message, Subscriptions};
use crate::context::Context;

/// A drain ends once nothing has arrived for this long and everything handed over is
/// acknowledged (the adopted connection pings every second, so the check runs that often).
const QUIET: Duration = Duration::from_millis(1500);

/// Where to connect, and what the adopted sessions subscribed to.
#[derive(Clone)]
pub(super) struct Adopter {
    pub ctx: Context,
    pub host: String,
    pub port: u16,
    pub role: &'static str,
    pub subscriptions: Subscriptions,
    pub tx: mpsc::UnboundedSender<Message>,
}

/// Beats this session's row every [`BEAT`] and drains each dead member it claims, until `stop`.
pub(super) async fn watch(adopter: Adopter, members: Members, stop: CancellationToken) {
    let mut beat = tokio::time::interval(BEAT);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut draining: HashMap<String, JoinHandle<()>> = HashMap::new();
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = beat.tick() => {}
        }
        if let Err(error) = members.beat(adopter.ctx.now()).await {
            tracing::warn!(role = adopter.role, %error, "cannot note this session alive in the database");
            continue;
        }
        draining.retain(|_, task| !task.is_finished());
        let dead = match members.claim_dead(adopter.ctx.now()).await {
            Ok(dead) => dead,
            Err(error) => {
                tracing::warn!(role = adopter.role, %error, "cannot look for dead members of the group");
                continue;
            }
        };
        for client_id in dead {
            if draining.contains_key(&client_id) {
                continue;
            }
            let (adopter, members, stop) = (adopter.clone(), members.clone(), stop.clone());
            let id = client_id.clone();
            let task = tokio::spawn(async move {
                tracing::warn!(role = adopter.role, member = %id, "a member of the share group stopped; adopting its session");
                match drain(&adopter, &id, &stop).await {
                    Ok(handed) => {
                        adopter
                            .ctx
                            .metrics
                            .session_adopted(adopter.role, &id, handed);
                        if let Err(error) = members.drained(&id, adopter.ctx.now()).await {
                            tracing::warn!(%error, member = %id, "cannot note a drained member; it is drained again later");
                        }
                    }
                    Err(error) => {
                        tracing::info!(role = adopter.role, member = %id, %error, "adoption ended early; claimed again later if still dead")
                    }
                }
            });
            draining.insert(client_id, task);
        }
    }
    for (_, task) in draining {
        task.abort();
    }
}

/// Why a drain ended before it was done.
#[derive(Debug, thiserror::Error)]
pub(super) enum DrainError {
    #[error("the connection ended: {0}")]
    Connection(#[from] rumqttc::ConnectionError),
    #[error("the cloud is stopping")]
    Stopped,
    #[error("the consumer is gone")]
    ConsumerGone,
}

/// Connects as `client_id`, hands what waits in its session to the consumer, takes it out of the
/// group and disconnects; returns how many messages it handed over.
pub(super) async fn drain(
    adopter: &Adopter,
    client_id: &str,
    stop: &CancellationToken,
) -> Result<u64, DrainError> {
    let config = &adopter.ctx.config;
    let mut options = MqttOptions::new(client_id, adopter.host.clone(), adopter.port);
    options.set_clean_session(false);
    options.set_manual_acks(true);
    options.set_keep_alive(Duration::from_secs(1));
    options.set_max_packet_size(1 << 20, 1 << 20);
    if let (Some(user), Some(password)) = (&config.mqtt_username, &config.mqtt_password) {
        options.set_credentials(user, password);
    }
    let (client, mut eventloop) = AsyncClient::new(options, 64);
    let mut network = rumqttc::NetworkOptions::new();
    network.set_tcp_nodelay(true);
    eventloop.set_network_options(network);
    let filters = &adopter.subscriptions.subscribe;
    let (mut handed, mut acked, mut unsubacks) = (0u64, 0u64, 0usize);
    let (mut unsubscribed, mut last_arrival) = (false, Instant::now());
    loop {
        let event = tokio::select! {
            _ = stop.cancelled() => return Err(DrainError::Stopped),
            event = eventloop.poll() => event?,
        };
        match event {
            Event::Incoming(Packet::ConnAck(ack)) if !ack.session_present => {
                // Nothing waits: the broker kept no session (or handed it over already).
                let _ = client.try_disconnect();
                return Ok(0);
            }
            Event::Incoming(Packet::ConnAck(_)) => {
                // Out of the group at once, so the broker stops giving the dead member turns
                // (under steady load it would never go quiet); what is queued still comes.
                for filter in filters {
                    if let Err(error) = client.try_unsubscribe(filter) {
                        tracing::warn!(%error, filter, "cannot unsubscribe an adopted session");
                    }
                }
                unsubscribed = true;
            }
            Event::Incoming(Packet::Publish(publish)) => {
                handed += 1;
                adopter.ctx.metrics.adopted_message();
                last_arrival = Instant::now();
                let message = Message {
                    publish,
                    acker: client.clone(),
                };
                adopter
                    .tx
                    .send(message)
                    .map_err(|_| DrainError::ConsumerGone)?;
            }
            Event::Outgoing(Outgoing::PubAck(_)) => acked += 1,
            Event::Incoming(Packet::UnsubAck(_)) => {
                unsubacks += 1;
                last_arrival = Instant::now();
            }
            Event::Outgoing(Outgoing::Disconnect) => return Ok(handed),
            _ => {}
        }
        if acked < handed || last_arrival.elapsed() < QUIET {
            continue;
        }
        if unsubscribed && unsubacks >= filters.len() {
            let _ = client.try_disconnect();
        }
    }
}
