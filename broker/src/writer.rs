//! The writing side of a connection: the task that encodes what its outbox holds onto the
//! socket, the bounded end of a connection, and the answers to connections refused before
//! their session starts.

use std::time::Duration;

use bytes::BytesMut;
use rumqttc::mqttbytes::v4::{ConnAck, ConnectReturnCode, Packet};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio_util::sync::CancellationToken;

use crate::link::{Inbox, Outbox};

/// The connection left the links: the writer sends what is queued (for 5 s at most), then ends.
pub(crate) async fn finish(
    tx: Outbox,
    writing: tokio::task::JoinHandle<()>,
    close: CancellationToken,
) {
    drop(tx);
    if tokio::time::timeout(Duration::from_secs(5), writing)
        .await
        .is_err()
    {
        close.cancel();
    }
}

/// Answers a connection beyond `max_connections`: reads (and ignores) its CONNECT, answers
/// CONNACK 3 "server unavailable" and waits for the client to close, 2 s at most in all.
pub(crate) async fn refuse_busy(mut stream: TcpStream) {
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let mut ignored = [0u8; 512];
        let _connect_bytes = stream.read(&mut ignored).await?;
        stream.write_all(&[0x20, 0x02, 0x00, 0x03]).await?;
        stream.shutdown().await?;
        while stream.read(&mut ignored).await? > 0 {}
        std::io::Result::Ok(())
    })
    .await;
}

/// Answers a refused CONNECT with its CONNACK code, then closes.
pub(crate) async fn refuse(writer: &mut OwnedWriteHalf, code: ConnectReturnCode) {
    let mut out = BytesMut::new();
    if Packet::ConnAck(ConnAck::new(code, false))
        .write(&mut out, 16)
        .is_ok()
    {
        let _ = writer.write_all(&out).await;
        let _ = writer.shutdown().await;
    }
}

pub(crate) async fn write_loop(
    mut writer: OwnedWriteHalf,
    mut rx: Inbox,
    close: CancellationToken,
    max_packet: usize,
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
            if let Err(error) = packet.write(&mut out, max_packet) {
                tracing::warn!(%error, "MQTT packet not sent");
            }
            next = if out.len() < 64 * 1024 {
                rx.try_recv()
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
