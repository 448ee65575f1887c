//! The broker's IO: accepts TCP connections (up to [`Limits::max_connections`]) and runs two
//! tasks per client, a reader (decode with rumqttc's MQTT 3.1.1 codec, packets up to
//! [`Limits::max_packet_bytes`], check credentials, keep-alive, hand packets to the router) and a
//! writer (encode what the router and reader put in the client's bounded outbox).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use rumqttc::mqttbytes::QoS;
use rumqttc::mqttbytes::v4::{
    ConnAck, Connect, ConnectReturnCode, Packet, PubAck, PubComp, PubRec,
};
use tokio::io::AsyncReadExt;
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use std::path::PathBuf;

use tokio_util::task::TaskTracker;

use crate::link::{Outbox, outbox};
use crate::passwd::Passwords;
use crate::persist;
use crate::router::{Limits, Output, Router};
use crate::topic::valid_topic;
use crate::writer::{finish, refuse, refuse_busy, write_loop};
use crate::{Access, State};

/// Connections answered "server unavailable" at once (see [`refuse_busy`]).
const REFUSALS: usize = 64;
/// Time a new connection has to send CONNECT.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

struct Shared {
    core: Mutex<Core>,
    passwords: Option<Passwords>,
    limits: Limits,
    next_link: AtomicU64,
}

/// The router and the outboxes of the live connections, under one lock, so that what one router
/// call asks to send is queued before the next call's.
struct Core {
    router: Router,
    links: HashMap<u64, Outbox>,
}

impl Core {
    /// Does what the router asked: queues each packet on its connection's outbox, closes
    /// the connections it names.
    fn apply(&self, outputs: Vec<Output>) {
        for output in outputs {
            match output {
                Output::Send { link, packet } => {
                    if let Some(outbox) = self.links.get(&link) {
                        outbox.send(packet);
                    }
                }
                Output::Close { link } => {
                    if let Some(outbox) = self.links.get(&link) {
                        outbox.close().cancel();
                    }
                }
            }
        }
    }
}

impl Shared {
    fn core(&self) -> std::sync::MutexGuard<'_, Core> {
        self.core
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Calls the router and does what it returns, under the lock.
    fn route(&self, call: impl FnOnce(&mut Router) -> Vec<Output>) {
        let mut core = self.core();
        let outputs = call(&mut core.router);
        core.apply(outputs);
    }
}

/// Serves MQTT on `listener`, starting from `state`, until `shutdown`: then it stops accepting,
/// closes every connection (a client's session is kept as after a lost connection, without
/// its will), waits for their tasks, and writes the state file one last time.
pub async fn serve(
    listener: TcpListener,
    access: Access,
    state: State,
    shutdown: CancellationToken,
) {
    let limits = state.limits;
    let mut router = Router::new(access.acl, limits);
    router.restore(state.snapshot);
    let shared = Arc::new(Shared {
        core: Mutex::new(Core {
            router,
            links: HashMap::new(),
        }),
        passwords: access.passwords,
        limits,
        next_link: AtomicU64::new(1),
    });
    let tasks = TaskTracker::new();
    let state_file = state.file;
    let saving = state_file
        .clone()
        .map(|path| tokio::spawn(autosave(shared.clone(), path, shutdown.clone())));
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    // Connections being refused for lack of room, each for 2 s at most; beyond these, closed.
    let refusals = Arc::new(Semaphore::new(REFUSALS));
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                let Ok(permit) = connections.clone().try_acquire_owned() else {
                    tracing::warn!(%peer, max_connections = limits.max_connections, "too many MQTT connections: refused");
                    if let Ok(permit) = refusals.clone().try_acquire_owned() {
                        tasks.spawn(async move {
                            refuse_busy(stream).await;
                            drop(permit);
                        });
                    }
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                let close = shutdown.child_token();
                tasks.spawn(async move {
                    connection(stream, peer, shared, close).await;
                    drop(permit);
                });
            }
            Err(error) => {
                tracing::warn!(%error, "MQTT broker cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    drop(listener);
    tasks.close();
    tasks.wait().await;
    if let (Some(saving), Some(path)) = (saving, state_file) {
        let _ = saving.await;
        // The last word: every connection has recorded its end.
        let snapshot = shared.core().router.snapshot();
        let target = path.clone();
        match tokio::task::spawn_blocking(move || persist::save(&target, &snapshot)).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(%error, "the broker's state is not saved at stop"),
            Err(error) => tracing::error!(%error, "the broker's state writer failed"),
        }
    }
    tracing::info!("embedded MQTT broker stopped");
}

/// Writes the state within [`persist::AUTOSAVE`] of every change, until `shutdown`.
async fn autosave(shared: Arc<Shared>, path: PathBuf, shutdown: CancellationToken) {
    let mut saved = shared.core().router.changes();
    let mut failing = false;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(persist::AUTOSAVE) => {}
        }
        let (changes, snapshot) = {
            let core = shared.core();
            let router = &core.router;
            if router.changes() == saved {
                continue;
            }
            (router.changes(), router.snapshot())
        };
        let target = path.clone();
        match tokio::task::spawn_blocking(move || persist::save(&target, &snapshot)).await {
            Ok(Ok(())) => {
                saved = changes;
                if std::mem::take(&mut failing) {
                    tracing::info!(path = %path.display(), "broker state saved again");
                }
            }
            Ok(Err(error)) if !failing => {
                failing = true;
                tracing::error!(%error, "the broker cannot save its state; retrying");
            }
            Ok(Err(_)) => {}
            Err(error) => tracing::error!(%error, "the broker's state writer failed"),
        }
    }
}

/// Why a connection's packets stop.
#[derive(Debug, thiserror::Error)]
enum ReadError {
    /// A CONNECT of another MQTT version than 3.1.1 (level 4), e.g. MQTT 5.
    #[error("MQTT protocol level {0} is not spoken here (only 3.1.1, level 4)")]
    UnsupportedLevel(u8),
    #[error("packet of {size} bytes exceeds --max-packet-bytes {max}")]
    TooLarge { size: usize, max: usize },
    #[error("malformed MQTT packet: {0}")]
    Malformed(rumqttc::mqttbytes::Error),
    #[error("keep-alive expired")]
    KeepAlive,
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Reads one packet, or None at end of stream.
async fn read_packet(
    reader: &mut OwnedReadHalf,
    buffer: &mut BytesMut,
    max_packet: usize,
) -> Result<Option<Packet>, ReadError> {
    loop {
        match Packet::read(buffer, max_packet) {
            Ok(packet) => return Ok(Some(packet)),
            Err(rumqttc::mqttbytes::Error::InsufficientBytes(_)) => {}
            Err(rumqttc::mqttbytes::Error::InvalidProtocolLevel(level)) => {
                return Err(ReadError::UnsupportedLevel(level));
            }
            Err(rumqttc::mqttbytes::Error::PayloadSizeLimitExceeded(size)) => {
                return Err(ReadError::TooLarge {
                    size,
                    max: max_packet,
                });
            }
            Err(error) => return Err(ReadError::Malformed(error)),
        }
        if reader.read_buf(buffer).await? == 0 {
            return Ok(None);
        }
    }
}

/// Checks CONNECT's credentials: the user name the ACL will see, or the CONNACK refusal.
fn authenticate(
    passwords: Option<&Passwords>,
    connect: &Connect,
) -> Result<Option<String>, ConnectReturnCode> {
    match (passwords, &connect.login) {
        // No password file: anyone, under the name they give (as mosquitto without one).
        (None, login) => Ok(login.as_ref().map(|l| l.username.clone())),
        (Some(_), None) => Err(ConnectReturnCode::NotAuthorized),
        (Some(passwords), Some(login)) => {
            if passwords.verify(&login.username, login.password.as_bytes()) {
                Ok(Some(login.username.clone()))
            } else {
                Err(ConnectReturnCode::BadUserNamePassword)
            }
        }
    }
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    close: CancellationToken,
) {
    let (mut reader, mut writer) = stream.into_split();
    let mut buffer = BytesMut::with_capacity(8 * 1024);
    let max_packet = shared.limits.max_packet_bytes;
    let first = read_packet(&mut reader, &mut buffer, max_packet);
    let first = tokio::select! {
        _ = close.cancelled() => return,
        first = tokio::time::timeout(CONNECT_TIMEOUT, first) => first,
    };
    let connect = match first {
        Ok(Ok(Some(Packet::Connect(connect)))) => connect,
        Ok(Ok(None)) => return,
        Ok(Err(error)) => {
            tracing::warn!(%peer, %error, "MQTT connection closed before a valid CONNECT");
            if matches!(error, ReadError::UnsupportedLevel(_)) {
                // MQTT 3.1.1 §3.1.2.2: CONNACK 1 "unacceptable protocol version".
                refuse(&mut writer, ConnectReturnCode::RefusedProtocolVersion).await;
            }
            return;
        }
        other => {
            tracing::debug!(%peer, ?other, "MQTT connection closed before a valid CONNECT");
            return;
        }
    };
    if connect.protocol != rumqttc::mqttbytes::Protocol::V4 {
        // rumqttc's 3.1.1 codec reads an MQTT 5 CONNECT without its properties (so with a
        // wrong client id): refuse it as MQTT 3.1.1 §3.1.2.2 says.
        tracing::warn!(%peer, protocol = ?connect.protocol, "MQTT connection refused: only 3.1.1 is spoken here");
        refuse(&mut writer, ConnectReturnCode::RefusedProtocolVersion).await;
        return;
    }
    let link_id = shared.next_link.fetch_add(1, Ordering::Relaxed);
    let username = match authenticate(shared.passwords.as_ref(), &connect) {
        Ok(username) => username,
        Err(code) => {
            let user = connect.login.as_ref().map(|l| l.username.as_str());
            tracing::warn!(%peer, user, client_id = %connect.client_id, ?code, "MQTT connection refused");
            refuse(&mut writer, code).await;
            return;
        }
    };
    let client_id = if connect.client_id.is_empty() {
        if !connect.clean_session {
            refuse(&mut writer, ConnectReturnCode::BadClientId).await;
            return;
        }
        format!("omo-auto-{link_id}")
    } else {
        connect.client_id.clone()
    };
    tracing::debug!(%peer, %client_id, user = username.as_deref(), "MQTT client connected");

    let (tx, inbox) = outbox(shared.limits.max_outgoing_bytes, close.clone());
    let writing = tokio::spawn(write_loop(writer, inbox, close.clone(), max_packet));
    let connected = {
        let mut core = shared.core();
        core.links.insert(link_id, tx.clone());
        let connected = core.router.connect(
            &client_id,
            username.clone(),
            connect.clean_session,
            connect.last_will.clone(),
            link_id,
        );
        match connected {
            Ok(outputs) => {
                core.apply(outputs);
                Ok(())
            }
            Err(code) => {
                core.links.remove(&link_id);
                Err(code)
            }
        }
    };
    if let Err(code) = connected {
        tracing::warn!(%peer, user = username.as_deref(), %client_id, ?code, "MQTT connection refused");
        tx.send(Packet::ConnAck(ConnAck::new(code, false)));
        finish(tx, writing, close).await;
        return;
    }

    // MQTT 3.1.1 §3.1.2.10: silence for 1.5 times the keep-alive ends the connection.
    let keep_alive = (connect.keep_alive > 0)
        .then(|| Duration::from_millis(u64::from(connect.keep_alive) * 1500));
    let mut qos2_pending = std::collections::HashSet::new();
    let graceful = loop {
        let next = async {
            match keep_alive {
                Some(limit) => {
                    tokio::time::timeout(limit, read_packet(&mut reader, &mut buffer, max_packet))
                        .await
                        .unwrap_or(Err(ReadError::KeepAlive))
                }
                None => read_packet(&mut reader, &mut buffer, max_packet).await,
            }
        };
        let packet = tokio::select! {
            _ = close.cancelled() => break false,
            packet = next => packet,
        };
        let packet = match packet {
            Ok(Some(packet)) => packet,
            Ok(None) => break false,
            Err(error) => {
                tracing::info!(%client_id, %error, "MQTT connection ends");
                break false;
            }
        };
        match packet {
            Packet::Publish(publish) => {
                if !valid_topic(&publish.topic) {
                    tracing::debug!(%client_id, topic = %publish.topic, "invalid topic name");
                    break false;
                }
                let (qos, pkid) = (publish.qos, publish.pkid);
                // A QoS 2 message is routed once, on its first PUBLISH (until PUBREL).
                let route = qos != QoS::ExactlyOnce || qos2_pending.insert(pkid);
                if route {
                    shared.route(|router| {
                        router
                            .publish(&client_id, username.as_deref(), publish)
                            .unwrap_or_default()
                    });
                }
                match qos {
                    QoS::AtMostOnce => {}
                    QoS::AtLeastOnce => {
                        tx.send(Packet::PubAck(PubAck::new(pkid)));
                    }
                    QoS::ExactlyOnce => {
                        tx.send(Packet::PubRec(PubRec::new(pkid)));
                    }
                }
            }
            Packet::PubRel(rel) => {
                qos2_pending.remove(&rel.pkid);
                tx.send(Packet::PubComp(PubComp::new(rel.pkid)));
            }
            Packet::PubAck(ack) => shared.route(|router| router.puback(&client_id, ack.pkid)),
            Packet::Subscribe(subscribe) => {
                shared.route(|router| router.subscribe(&client_id, subscribe))
            }
            Packet::Unsubscribe(unsubscribe) => {
                shared.route(|router| router.unsubscribe(&client_id, unsubscribe))
            }
            Packet::PingReq => {
                tx.send(Packet::PingResp);
            }
            Packet::Disconnect => break true,
            Packet::Connect(_) => {
                tracing::debug!(%client_id, "second CONNECT: protocol violation");
                break false;
            }
            // We never send QoS 2, so PUBREC/PUBCOMP are unexpected; ignore them.
            _ => {}
        }
    };
    {
        let mut core = shared.core();
        let outputs = core.router.disconnected(&client_id, link_id, graceful);
        core.apply(outputs);
        // The router forgets this connection; the writer ends once `tx` is dropped too.
        core.links.remove(&link_id);
    }
    tracing::debug!(%client_id, graceful, "MQTT client disconnected");
    finish(tx, writing, close).await;
}
