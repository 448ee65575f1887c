//! The library's seam: a broker served on a listener the caller bound (port 0 here), stopped by
//! the caller's token, keeps its retained messages and persistent sessions in its state file,
//! and a second broker started from that file serves them.

use std::time::Duration;

use omo_broker::{Access, Limits, State};
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Guards against a hang only; nothing here is timed.
const HANG: Duration = Duration::from_secs(20);

fn client(id: &str, port: u16, clean: bool) -> (AsyncClient, EventLoop) {
    let mut options = MqttOptions::new(id, "127.0.0.1", port);
    options.set_clean_session(clean);
    options.set_keep_alive(Duration::from_secs(5));
    AsyncClient::new(options, 16)
}

/// Polls until a packet `want` accepts arrives.
async fn until<T>(events: &mut EventLoop, mut want: impl FnMut(&Packet) -> Option<T>) -> T {
    tokio::time::timeout(HANG, async {
        loop {
            if let Event::Incoming(packet) = events.poll().await.expect("the broker answers")
                && let Some(found) = want(&packet)
            {
                return found;
            }
        }
    })
    .await
    .expect("the packet within the hang guard")
}

async fn start(state: State) -> (omo_broker::BrokerHandle, CancellationToken) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let shutdown = CancellationToken::new();
    let handle = omo_broker::serve(listener, Access::anonymous(), state, shutdown.clone()).unwrap();
    (handle, shutdown)
}

#[tokio::test]
async fn a_stopped_broker_saves_its_state_and_the_next_one_serves_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broker-state.json");
    let (broker, shutdown) = start(State::from_file(&file, Limits::default()).unwrap()).await;
    let port = broker.local_addr().port();
    assert_ne!(port, 0);

    // A persistent subscriber, then a retained message and a QoS 1 message while it is away.
    let (sub, mut sub_events) = client("keeper", port, false);
    sub.subscribe("omo/v1/test/#", QoS::AtLeastOnce)
        .await
        .unwrap();
    until(&mut sub_events, |p| {
        matches!(p, Packet::SubAck(_)).then_some(())
    })
    .await;
    drop(sub);
    drop(sub_events);
    let (publisher, mut pub_events) = client("publisher", port, true);
    publisher
        .publish("omo/v1/test/retained", QoS::AtLeastOnce, true, "kept")
        .await
        .unwrap();
    publisher
        .publish("omo/v1/test/queued", QoS::AtLeastOnce, false, "waiting")
        .await
        .unwrap();
    let mut acks = 0;
    until(&mut pub_events, |p| {
        acks += usize::from(matches!(p, Packet::PubAck(_)));
        (acks == 2).then_some(())
    })
    .await;

    // Stop: the connected publisher is closed and the broker's task ends.
    shutdown.cancel();
    tokio::time::timeout(HANG, broker.stopped())
        .await
        .expect("the broker stops when told");
    let closed = tokio::time::timeout(HANG, async {
        loop {
            if pub_events.poll().await.is_err() {
                return;
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the publisher's connection was closed");
    assert!(
        TcpListener::bind(("127.0.0.1", port)).await.is_ok(),
        "the port is free again"
    );

    // A new broker from the file: the retained message and the queued one are still there.
    let (broker, shutdown) = start(State::from_file(&file, Limits::default()).unwrap()).await;
    let port = broker.local_addr().port();
    let (_sub, mut sub_events) = client("keeper", port, false);
    let mut seen = Vec::new();
    until(&mut sub_events, |p| {
        if let Packet::Publish(p) = p {
            seen.push(String::from_utf8_lossy(&p.payload).into_owned());
        }
        (seen.len() == 2).then_some(())
    })
    .await;
    assert_eq!(
        seen,
        ["kept", "waiting"],
        "both messages queued for the away session survive the restart, in order"
    );
    let (late, mut late_events) = client("late", port, true);
    late.subscribe("omo/v1/test/retained", QoS::AtLeastOnce)
        .await
        .unwrap();
    let retained = until(&mut late_events, |p| match p {
        Packet::Publish(p) => Some(p.clone()),
        _ => None,
    })
    .await;
    assert_eq!(&retained.payload[..], b"kept");
    assert!(retained.retain);
    shutdown.cancel();
    tokio::time::timeout(HANG, broker.stopped())
        .await
        .expect("the broker stops when told");
}

#[test]
fn bounds_and_files_that_cannot_work_are_refused_before_serving() {
    let dir = tempfile::tempdir().unwrap();
    let absurd = Limits {
        max_inflight: 0,
        ..Limits::default()
    };
    let error = State::in_memory(absurd).unwrap_err().to_string();
    assert!(error.contains("--max-inflight 0"), "{error}");
    let acl = dir.path().join("acl");
    std::fs::write(&acl, "topic read #\n").unwrap();
    let error = Access::from_files(None, Some(&acl)).unwrap_err();
    assert!(
        matches!(error, omo_broker::BrokerError::AclWithoutPasswords(_)),
        "{error}"
    );
    let corrupt = dir.path().join("state.json");
    std::fs::write(&corrupt, "not json").unwrap();
    let error = State::from_file(&corrupt, Limits::default())
        .unwrap_err()
        .to_string();
    assert!(error.contains("is not a snapshot"), "{error}");
}
