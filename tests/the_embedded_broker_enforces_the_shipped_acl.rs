//! `omo broker --passwords FILE --acl deploy/mosquitto/acl` enforces what the shipped mosquitto
//! configuration does (the same checks as `a_rider_cannot_read_another_riders_dispatch_topic`,
//! which runs mosquitto): rider A receives none of rider B's assignments, even when subscribing to
//! B's topic or to `+`; an edge cannot write another store's topics, nor a rider another rider's
//! events; clients without the right password are refused at CONNECT.

#[path = "support/delivery.rs"]
mod delivery;
mod support;

use std::time::Duration;

use delivery::AclBroker;
use rumqttc::{AsyncClient, ConnectReturnCode, Event, MqttOptions, Packet};
use support::{BrokerKind, Process, free_port, wait_for_port};

/// The CONNACK code the broker answers for these credentials.
async fn connack(port: u16, login: Option<(&str, &str)>) -> ConnectReturnCode {
    let mut options = MqttOptions::new(format!("probe-{}", free_port()), "127.0.0.1", port);
    if let Some((user, pw)) = login {
        options.set_credentials(user, pw);
    }
    let (_client, mut eventloop) = AsyncClient::new(options, 10);
    tokio::time::timeout(Duration::from_secs(5), async {
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
    .expect("a CONNACK within 5 s")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_embedded_broker_enforces_the_shipped_acl() {
    let dir = tempfile::tempdir().unwrap();
    let broker = AclBroker::start_kind(BrokerKind::Embedded, dir.path()).await;
    let port = broker.port;

    assert_eq!(
        connack(port, Some(("rider-a", "pw-rider-a"))).await,
        ConnectReturnCode::Success
    );
    assert_eq!(
        connack(port, Some(("rider-a", "pw-rider-b"))).await,
        ConnectReturnCode::BadUserNamePassword
    );
    assert_eq!(
        connack(port, Some(("stranger", "pw-stranger"))).await,
        ConnectReturnCode::BadUserNamePassword
    );
    assert_eq!(connack(port, None).await, ConnectReturnCode::NotAuthorized);

    delivery::riders_and_edges_are_kept_apart(port).await;
}

/// A client of the test's own with its options, its events on a channel.
fn raw_client(
    port: u16,
    id: &str,
    clean: bool,
    will: Option<rumqttc::LastWill>,
) -> (AsyncClient, rumqttc::EventLoop) {
    let mut options = MqttOptions::new(id, "127.0.0.1", port);
    options.set_clean_session(clean);
    options.set_keep_alive(Duration::from_secs(5));
    if let Some(will) = will {
        options.set_last_will(will);
    }
    AsyncClient::new(options, 200)
}

/// Polls until `pick` returns Some, within 10 s.
async fn poll_until<T>(
    eventloop: &mut rumqttc::EventLoop,
    what: &str,
    mut pick: impl FnMut(&Packet) -> Option<T>,
) -> T {
    tokio::time::timeout(Duration::from_secs(10), async {
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
    .unwrap_or_else(|_| panic!("{what} within 10 s"))
}

/// A persistent subscriber `id` subscribes to `filter`, then leaves cleanly (its session stays).
async fn subscribe_and_leave(port: u16, id: &str, filter: &str) {
    let (sub, mut sub_loop) = raw_client(port, id, false, None);
    sub.subscribe(filter, rumqttc::QoS::AtLeastOnce)
        .await
        .unwrap();
    poll_until(&mut sub_loop, "SUBACK", |p| {
        matches!(p, Packet::SubAck(_)).then_some(())
    })
    .await;
    sub.disconnect().await.unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while sub_loop.poll().await.is_ok() {}
    })
    .await;
}

/// Publishes `count` QoS 1 messages `0`..`count` on `t/x` and the retained `online` on
/// `state/edge`, and waits for every PUBACK.
async fn publish_and_retain(port: u16, count: usize) {
    let (publisher, mut pub_loop) = raw_client(port, "publisher", true, None);
    for i in 0..count {
        publisher
            .publish("t/x", rumqttc::QoS::AtLeastOnce, false, i.to_string())
            .await
            .unwrap();
    }
    publisher
        .publish("state/edge", rumqttc::QoS::AtLeastOnce, true, "online")
        .await
        .unwrap();
    let mut acked = 0;
    poll_until(&mut pub_loop, "every PUBACK", |p| {
        acked += usize::from(matches!(p, Packet::PubAck(_)));
        (acked == count + 1).then_some(())
    })
    .await;
}

/// Without files, `omo broker` is the anonymous broker `omo up` runs, and keeps what the edge's
/// outbox relies on: a persistent session gets the QoS 1 messages it missed, in order; retained
/// state reaches new subscribers; a client that vanishes (or goes silent past 1.5 times its
/// keep-alive) has its last will published.
#[tokio::test(flavor = "multi_thread")]
async fn the_embedded_broker_keeps_sessions_retained_messages_and_wills() {
    use rumqttc::{LastWill, QoS};
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _broker = Process::omo(
        "broker",
        &["broker", "--listen", &format!("127.0.0.1:{port}")],
        dir.path(),
    );
    wait_for_port(port, "omo broker", None).await;

    // A persistent subscriber subscribes, then leaves cleanly.
    subscribe_and_leave(port, "persistent-sub", "t/#").await;

    // While it is away: 50 QoS 1 messages, and a client with a will that vanishes.
    publish_and_retain(port, 50).await;
    let will = LastWill::new("state/edge", "offline", QoS::AtLeastOnce, true);
    let (_edge, mut edge_loop) = raw_client(port, "edge", false, Some(will));
    poll_until(&mut edge_loop, "CONNACK", |p| {
        matches!(p, Packet::ConnAck(_)).then_some(())
    })
    .await;
    drop(edge_loop); // the socket closes without DISCONNECT

    // Back: the session is present and the messages arrive in order.
    let (_sub, mut sub_loop) = raw_client(port, "persistent-sub", false, None);
    let present = poll_until(&mut sub_loop, "CONNACK", |p| match p {
        Packet::ConnAck(ack) => Some(ack.session_present),
        _ => None,
    })
    .await;
    assert!(present, "the persistent session was not kept");
    let mut got = Vec::new();
    poll_until(&mut sub_loop, "the 50 missed messages", |p| {
        if let Packet::Publish(p) = p {
            got.push(String::from_utf8_lossy(&p.payload).to_string());
        }
        (got.len() == 50).then_some(())
    })
    .await;
    let expected: Vec<String> = (0..50).map(|i| i.to_string()).collect();
    assert_eq!(got, expected);

    // The will replaced the retained state; a new subscriber gets it, flagged retained.
    let (watcher, mut watch_loop) = raw_client(port, "watcher", true, None);
    watcher
        .subscribe("state/+", QoS::AtLeastOnce)
        .await
        .unwrap();
    let (payload, retain) = poll_until(&mut watch_loop, "the retained will", |p| match p {
        Packet::Publish(p) => Some((p.payload.clone(), p.retain)),
        _ => None,
    })
    .await;
    assert_eq!((&payload[..], retain), (&b"offline"[..], true));

    // A client silent past 1.5 x its 1 s keep-alive is dropped and its will published.
    let mut connect = rumqttc::Connect::new("silent");
    connect.keep_alive = 1;
    connect.last_will = Some(LastWill::new(
        "state/silent",
        "gone",
        QoS::AtMostOnce,
        false,
    ));
    let mut bytes = bytes::BytesMut::new();
    connect.write(&mut bytes).unwrap();
    let mut silent = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut silent, &bytes)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let payload = poll_until(&mut watch_loop, "the silent client's will", |p| match p {
        Packet::Publish(p) if p.topic == "state/silent" => Some(p.payload.clone()),
        _ => None,
    })
    .await;
    assert_eq!(&payload[..], b"gone");
    assert!(
        started.elapsed() >= Duration::from_millis(1400),
        "{:?}",
        started.elapsed()
    );
    drop(silent);
}

/// `omo broker --state FILE` keeps persistent sessions and retained messages across a restart,
/// even a SIGKILL: a subscriber away during the restart still gets every QoS 1 message it
/// missed, in order, and new subscribers the retained state.
#[tokio::test(flavor = "multi_thread")]
async fn the_embedded_broker_keeps_its_state_across_a_kill_and_restart() {
    use rumqttc::QoS;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("broker-state.json");
    let start = |name: &str, port: u16| {
        let listen = format!("127.0.0.1:{port}");
        let args = [
            "broker",
            "--listen",
            &listen,
            "--state",
            state.to_str().unwrap(),
        ];
        Process::omo(name, &args, dir.path())
    };
    let port = free_port();
    let mut broker = start("broker", port);
    wait_for_port(port, "omo broker", Some(&broker)).await;

    subscribe_and_leave(port, "the-cloud", "t/#").await;
    publish_and_retain(port, 20).await;
    // Saved within half a second of the last change; then the broker dies without warning. It
    // comes back on a port of its own (another test may have been handed the old one meanwhile).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    broker.kill();
    let port = free_port();
    let broker = start("broker-again", port);
    wait_for_port(port, "omo broker, restarted", Some(&broker)).await;

    let (_sub, mut sub_loop) = raw_client(port, "the-cloud", false, None);
    let mut got = Vec::new();
    poll_until(&mut sub_loop, "the 20 missed messages", |p| {
        if let Packet::Publish(p) = p {
            got.push(String::from_utf8_lossy(&p.payload).to_string());
        }
        (got.len() == 20).then_some(())
    })
    .await;
    let expected: Vec<String> = (0..20).map(|i| i.to_string()).collect();
    assert_eq!(got, expected);

    let (monitor, mut monitor_loop) = raw_client(port, "monitor", true, None);
    monitor
        .subscribe("state/#", QoS::AtLeastOnce)
        .await
        .unwrap();
    let retained = poll_until(&mut monitor_loop, "the retained state", |p| match p {
        Packet::Publish(p) => Some(p.payload.clone()),
        _ => None,
    })
    .await;
    assert_eq!(&retained[..], b"online");

    // A state file that is not one is refused by name, not overwritten.
    std::fs::write(dir.path().join("broken.json"), b"{ not json").unwrap();
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_omo"))
        .args([
            "broker",
            "--listen",
            &format!("127.0.0.1:{}", free_port()),
            "--state",
            dir.path().join("broken.json").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("broken.json"), "{stderr}");
    assert_eq!(
        std::fs::read(dir.path().join("broken.json")).unwrap(),
        b"{ not json"
    );
}
