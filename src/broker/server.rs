//! The broker's IO: accepts TCP connections and runs two tasks per client, a reader (decode with
//! rumqttc's MQTT 3.1.1 codec, check credentials, keep-alive, hand packets to the router) and a
//! writer (encode what the router and reader queue for the client).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use rumqttc::mqttbytes::QoS;
use rumqttc::mqttbytes::v4::{
    ConnAck, Connect, ConnectReturnCode, Packet, PubAck, PubComp, PubRec,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio_util::sync::CancellationToken;

use std::path::PathBuf;

use super::Access;
use super::passwd::Passwords;
use super::persist::{self, Snapshot};
use super::router::{Limits, Link, Router};
use super::topic::valid_topic;

/// Largest packet accepted or sent (bytes).
const MAX_PACKET: usize = 8 << 20;
/// Time a new connection has to send CONNECT.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

struct Shared {
    router: Mutex<Router>,
    passwords: Option<Passwords>,
    next_link: AtomicU64,
}

impl Shared {
    fn router(&self) -> std::sync::MutexGuard<'_, Router> {
        self.router
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Serves MQTT on `listener` until the process ends, starting from `restored` and keeping the
/// state in `state_file` (see [`super::persist`]) when one is given.
pub async fn serve(
    listener: TcpListener,
    access: Access,
    restored: Snapshot,
    state_file: Option<PathBuf>,
) {
    let mut router = Router::new(access.acl, Limits::default());
    router.restore(restored);
    let shared = Arc::new(Shared {
        router: Mutex::new(router),
        passwords: access.passwords,
        next_link: AtomicU64::new(1),
    });
    if let Some(path) = state_file {
        tokio::spawn(autosave(shared.clone(), path));
    }
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(connection(stream, peer, shared.clone()));
            }
            Err(error) => {
                tracing::warn!(%error, "MQTT broker cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Writes the state within [`persist::AUTOSAVE`] of every change.
async fn autosave(shared: Arc<Shared>, path: PathBuf) {
    let mut saved = shared.router().changes();
    let mut failing = false;
    loop {
        tokio::time::sleep(persist::AUTOSAVE).await;
        let (changes, snapshot) = {
            let router = shared.router();
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

/// Reads one packet, or None at end of stream.
async fn read_packet(
    reader: &mut OwnedReadHalf,
    buffer: &mut BytesMut,
) -> anyhow::Result<Option<Packet>> {
    loop {
        match Packet::read(buffer, MAX_PACKET) {
            Ok(packet) => return Ok(Some(packet)),
            Err(rumqttc::mqttbytes::Error::InsufficientBytes(_)) => {}
            Err(error) => anyhow::bail!("malformed MQTT packet: {error}"),
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

async fn connection(stream: TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    let (mut reader, mut writer) = stream.into_split();
    let mut buffer = BytesMut::with_capacity(8 * 1024);
    let connect =
        match tokio::time::timeout(CONNECT_TIMEOUT, read_packet(&mut reader, &mut buffer)).await {
            Ok(Ok(Some(Packet::Connect(connect)))) => connect,
            Ok(Ok(None)) => return,
            other => {
                tracing::debug!(%peer, ?other, "MQTT connection closed before a valid CONNECT");
                return;
            }
        };
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

    let (tx, rx) = unbounded_channel();
    let close = CancellationToken::new();
    let writing = tokio::spawn(write_loop(writer, rx, close.clone()));
    shared.router().connect(
        &client_id,
        username.clone(),
        connect.clean_session,
        connect.last_will.clone(),
        Link {
            id: link_id,
            tx: tx.clone(),
            close: close.clone(),
        },
    );

    // MQTT 3.1.1 §3.1.2.10: silence for 1.5 times the keep-alive ends the connection.
    let keep_alive = (connect.keep_alive > 0)
        .then(|| Duration::from_millis(u64::from(connect.keep_alive) * 1500));
    let mut qos2_pending = std::collections::HashSet::new();
    let graceful = loop {
        let next = async {
            match keep_alive {
                Some(limit) => tokio::time::timeout(limit, read_packet(&mut reader, &mut buffer))
                    .await
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("keep-alive expired"))),
                None => read_packet(&mut reader, &mut buffer).await,
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
                tracing::debug!(%client_id, %error, "MQTT connection ends");
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
                    shared
                        .router()
                        .publish(&client_id, username.as_deref(), publish);
                }
                match qos {
                    QoS::AtMostOnce => {}
                    QoS::AtLeastOnce => {
                        let _ = tx.send(Packet::PubAck(PubAck::new(pkid)));
                    }
                    QoS::ExactlyOnce => {
                        let _ = tx.send(Packet::PubRec(PubRec::new(pkid)));
                    }
                }
            }
            Packet::PubRel(rel) => {
                qos2_pending.remove(&rel.pkid);
                let _ = tx.send(Packet::PubComp(PubComp::new(rel.pkid)));
            }
            Packet::PubAck(ack) => shared.router().puback(&client_id, ack.pkid),
            Packet::Subscribe(subscribe) => shared.router().subscribe(&client_id, subscribe),
            Packet::Unsubscribe(unsubscribe) => {
                shared.router().unsubscribe(&client_id, unsubscribe)
            }
            Packet::PingReq => {
                let _ = tx.send(Packet::PingResp);
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
    shared.router().disconnected(&client_id, link_id, graceful);
    tracing::debug!(%client_id, graceful, "MQTT client disconnected");
    // The router dropped its sender: the writer sends what is queued, then ends.
    drop(tx);
    if tokio::time::timeout(Duration::from_secs(5), writing)
        .await
        .is_err()
    {
        close.cancel();
    }
}

/// Answers a refused CONNECT with its CONNACK code, then closes.
async fn refuse(writer: &mut OwnedWriteHalf, code: ConnectReturnCode) {
    let mut out = BytesMut::new();
    if Packet::ConnAck(ConnAck::new(code, false))
        .write(&mut out, MAX_PACKET)
        .is_ok()
    {
        let _ = writer.write_all(&out).await;
        let _ = writer.shutdown().await;
    }
}

async fn write_loop(
    mut writer: OwnedWriteHalf,
    mut rx: UnboundedReceiver<Packet>,
    close: CancellationToken,
) {
    let mut out = BytesMut::with_capacity(8 * 1024);
    loop {
        let first = tokio::select! {
            _ = close.cancelled() => break,
            packet = rx.recv() => packet,
        };
        let Some(first) = first else { break };
        let mut next = Some(first);
        while let Some(packet) = next {
            if let Err(error) = packet.write(&mut out, MAX_PACKET) {
                tracing::warn!(%error, "MQTT packet not sent");
            }
            next = if out.len() < 64 * 1024 {
                rx.try_recv().ok()
            } else {
                None
            };
        }
        let written = tokio::select! {
            _ = close.cancelled() => break,
            written = writer.write_all(&out) => written,
        };
        out.clear();
        if written.is_err() {
            close.cancel();
            break;
        }
    }
    let _ = writer.shutdown().await;
}
