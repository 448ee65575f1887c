//! The embedded broker's memory is bounded (`omo broker`, default limits unless a flag says):
//! - two subscribers to `#` that never read their sockets (one QoS 1, one QoS 0) while a
//!   publisher floods 256 MiB of 64 KiB messages: the broker's resident memory (VmRSS) stays
//!   under a bound, and it keeps serving others (a reader gets the last message, a new client
//!   connects). The broker used to queue everything for them, without limit;
//! - a packet over `--max-packet-bytes` ends its connection and is not routed;
//! - connections beyond `--max-connections` and new client ids beyond `--max-sessions` are
//!   answered CONNACK 3 "server unavailable"; retained messages beyond `--max-retained` are
//!   delivered but not kept.

mod support;

use std::time::Duration;

use bytes::BytesMut;
use rumqttc::{AsyncClient, ConnectReturnCode, Event, EventLoop, MqttOptions, Packet, QoS};
use support::{Process, free_port, wait_for_port};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn broker(dir: &std::path::Path, flags: &[&str]) -> (u16, Process) {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut args = vec!["broker", "--listen", &listen];
    args.extend_from_slice(flags);
    let process = Process::omo("broker", &args, dir);
    wait_for_port(port, "omo broker", Some(&process)).await;
    (port, process)
}

/// The resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status")
}

/// A raw client that sends CONNECT and SUBSCRIBE `filter` and then never reads its socket.
async fn deaf_subscriber(port: u16, id: &str, qos: QoS) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut bytes = BytesMut::new();
    let mut connect = rumqttc::Connect::new(id);
    connect.keep_alive = 0;
    connect.write(&mut bytes).unwrap();
    let mut subscribe = rumqttc::Subscribe::new("#", qos);
    subscribe.pkid = 1;
    subscribe.write(&mut bytes).unwrap();
    stream.write_all(&bytes).await.unwrap();
    stream
}

fn options(port: u16, id: &str) -> MqttOptions {
    let mut options = MqttOptions::new(id, "127.0.0.1", port);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_max_packet_size(1 << 20, 1 << 20);
    options
}

async fn connack(eventloop: &mut EventLoop) -> ConnectReturnCode {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(ack))) => return ack.code,
                Ok(_) => {}
                Err(rumqttc::ConnectionError::ConnectionRefused(code)) => return code,
                Err(error) => panic!("no CONNACK: {error}"),
            }
        }
    })
    .await
    .expect("a CONNACK within 10 s")
}

/// Polls until `pick` returns Some, within 20 s.
async fn poll_until<T>(
    eventloop: &mut EventLoop,
    what: &str,
    mut pick: impl FnMut(&Packet) -> Option<T>,
) -> T {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(packet)) => {
                    if let Some(found) = pick(&packet) {
                        return found;
                    }
                }
                Ok(_) => {}
                Err(error) => panic!("{what}: {error}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what} within 20 s"))
}

async fn subscribed(port: u16, id: &str, filter: &str) -> (AsyncClient, EventLoop) {
    let (client, mut eventloop) = AsyncClient::new(options(port, id), 100);
    client.subscribe(filter, QoS::AtLeastOnce).await.unwrap();
    poll_until(&mut eventloop, "SUBACK", |p| {
        matches!(p, Packet::SubAck(_)).then_some(())
    })
    .await;
    (client, eventloop)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_subscriber_that_never_reads_cannot_grow_the_brokers_memory() {
    const MESSAGES: usize = 4096;
    const PAYLOAD: usize = 64 * 1024;
    let dir = tempfile::tempdir().unwrap();
    let (port, broker) = broker(dir.path(), &[]).await;
    let (_reader, mut reader_loop) = subscribed(port, "reader", "done").await;
    let _deaf_qos1 = deaf_subscriber(port, "deaf-qos1", QoS::AtLeastOnce).await;
    let _deaf_qos0 = deaf_subscriber(port, "deaf-qos0", QoS::AtMostOnce).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let baseline = rss_kib(broker.pid());

    let (publisher, mut pub_loop) = AsyncClient::new(options(port, "flood"), 100);
    let pump = tokio::spawn(async move { while pub_loop.poll().await.is_ok() {} });
    let mut peak = baseline;
    for i in 0..MESSAGES {
        let qos = if i % 2 == 0 {
            QoS::AtMostOnce
        } else {
            QoS::AtLeastOnce
        };
        let payload = vec![(i % 251) as u8; PAYLOAD];
        publisher
            .publish("flood/x", qos, false, payload)
            .await
            .unwrap();
        if i % 64 == 0 {
            broker.assert_running();
            peak = peak.max(rss_kib(broker.pid()));
        }
    }
    publisher
        .publish("done", QoS::AtLeastOnce, false, "done")
        .await
        .unwrap();

    // The broker still serves others: the reader gets the last message, a new client connects.
    let last = poll_until(
        &mut reader_loop,
        "the message after the flood",
        |p| match p {
            Packet::Publish(p) => Some(p.payload.clone()),
            _ => None,
        },
    )
    .await;
    assert_eq!(&last[..], b"done");
    for _ in 0..10 {
        peak = peak.max(rss_kib(broker.pid()));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_newcomer, mut newcomer_loop) = AsyncClient::new(options(port, "newcomer"), 10);
    assert_eq!(
        connack(&mut newcomer_loop).await,
        ConnectReturnCode::Success
    );
    pump.abort();

    let flooded_mib = (MESSAGES * PAYLOAD) >> 20;
    let grown_mib = (peak.saturating_sub(baseline)) >> 10;
    eprintln!(
        "broker RSS: baseline {baseline} KiB, peak {peak} KiB (+{grown_mib} MiB) after {flooded_mib} MiB flooded"
    );
    assert!(
        grown_mib < 96,
        "the broker grew by {grown_mib} MiB while {flooded_mib} MiB went to subscribers that never read"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn packets_connections_sessions_and_retained_messages_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let (port, broker) = broker(
        dir.path(),
        &[
            "--max-connections",
            "4",
            "--max-sessions",
            "3",
            "--max-retained",
            "2",
        ],
    )
    .await;
    let (_watcher, mut watcher_loop) = subscribed(port, "watcher", "big/#").await;

    // A 2 MiB PUBLISH (over the default 1 MiB) ends the publisher's connection, unrouted.
    let mut big = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut bytes = BytesMut::new();
    rumqttc::Connect::new("big").write(&mut bytes).unwrap();
    rumqttc::Publish::new("big/x", QoS::AtMostOnce, vec![0u8; 2 << 20])
        .write(&mut bytes)
        .unwrap();
    let _ = big.write_all(&bytes).await;
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        let mut sink = vec![0u8; 4096];
        loop {
            match big.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the oversized packet's connection stayed open"
    );
    drop(big);
    let (small, mut small_loop) = AsyncClient::new(options(port, "small"), 10);
    assert_eq!(connack(&mut small_loop).await, ConnectReturnCode::Success);
    small
        .publish("big/y", QoS::AtLeastOnce, false, "small")
        .await
        .unwrap();
    // Retained: three topics, two kept.
    for topic in ["r/1", "r/2", "r/3"] {
        small
            .publish(topic, QoS::AtLeastOnce, true, topic)
            .await
            .unwrap();
    }
    poll_until(&mut small_loop, "the PUBACKs", {
        let mut acked = 0;
        move |p| {
            acked += usize::from(matches!(p, Packet::PubAck(_)));
            (acked == 4).then_some(())
        }
    })
    .await;
    drop(small_loop); // "small" leaves: its clean session ends
    let first = poll_until(&mut watcher_loop, "a message on big/#", |p| match p {
        Packet::Publish(p) => Some(p.topic.clone()),
        _ => None,
    })
    .await;
    assert_eq!(first, "big/y", "the oversized message was routed");

    // Sessions: watcher + one more; a third new client id is refused.
    let (s2, mut s2_loop) = AsyncClient::new(options(port, "second"), 10);
    assert_eq!(connack(&mut s2_loop).await, ConnectReturnCode::Success);
    let mut retained = Vec::new();
    s2.subscribe("r/#", QoS::AtLeastOnce).await.unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            if let Ok(Event::Incoming(Packet::Publish(p))) = s2_loop.poll().await {
                retained.push(p.topic.clone());
            }
        }
    })
    .await;
    assert_eq!(retained, ["r/1", "r/2"], "retained beyond --max-retained 2");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_s3, mut s3_loop) = AsyncClient::new(options(port, "third"), 10);
    assert_eq!(connack(&mut s3_loop).await, ConnectReturnCode::Success);
    let (_s4, mut s4_loop) = AsyncClient::new(options(port, "fourth"), 10);
    assert_eq!(
        connack(&mut s4_loop).await,
        ConnectReturnCode::ServiceUnavailable,
        "a session beyond --max-sessions 3"
    );
    drop(s4_loop);

    // Connections: watcher, second, third + one silent socket = 4; a fifth is refused.
    let _silent = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_s5, mut s5_loop) = AsyncClient::new(options(port, "watcher"), 10);
    assert_eq!(
        connack(&mut s5_loop).await,
        ConnectReturnCode::ServiceUnavailable,
        "a connection beyond --max-connections 4"
    );
    broker.assert_running();
}
