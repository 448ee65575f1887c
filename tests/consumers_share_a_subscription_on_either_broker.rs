//! Two consumers of one shared subscription (`$share/omo-cloud/omo/v1/stores/+/trace`), as two
//! cloud processes hold it, on mosquitto 2 and on the embedded broker: every message goes to one
//! of them, each gets a share, and a plain subscriber still gets every message.
//!
//! Then one consumer dies holding messages it never acknowledged. On the embedded broker those
//! messages go to the survivor at once, so it finishes the work with nothing lost. mosquitto
//! 2.0 does not hand them on: a persistent member's share waits until a client with its id
//! connects (the member itself, restarted, or a cloud process adopting its session, see
//! cloud/src/mqtt/adopt.rs). The test proves the embedded broker's hand-over, and on mosquitto
//! that the share is there when the member's id returns.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use support::{Broker, BrokerKind};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

const SHARED: &str = "$share/omo-cloud/omo/v1/stores/+/trace";
const TOPIC: &str = "omo/v1/stores/SH-001/trace";

/// A consumer: connected, subscribed (SUBACK seen), its messages on a channel (those a broker
/// resends before the SUBACK too). With `ack`, it acknowledges each message as it arrives;
/// without, never.
async fn consumer(
    port: u16,
    id: &str,
    filter: &str,
    clean: bool,
    ack: bool,
) -> (AsyncClient, mpsc::UnboundedReceiver<String>, JoinHandle<()>) {
    let mut options = MqttOptions::new(id, "127.0.0.1", port);
    options.set_clean_session(clean);
    options.set_manual_acks(true);
    options.set_keep_alive(Duration::from_secs(5));
    let (client, mut eventloop) = AsyncClient::new(options, 1000);
    client.subscribe(filter, QoS::AtLeastOnce).await.unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    let (subscribed_tx, subscribed) = oneshot::channel();
    let mut subscribed_tx = Some(subscribed_tx);
    let acker = client.clone();
    let driver = tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::SubAck(_))) => {
                    if let Some(tx) = subscribed_tx.take() {
                        let _ = tx.send(());
                    }
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let _ = tx.send(String::from_utf8_lossy(&p.payload).into_owned());
                    if ack {
                        let _ = acker.ack(&p).await;
                    }
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    tokio::time::timeout(Duration::from_secs(10), subscribed)
        .await
        .expect("SUBACK within 10 s")
        .unwrap();
    (client, rx, driver)
}

async fn publish_all(port: u16, from: usize, to: usize) {
    let options = MqttOptions::new(format!("edge-{from}"), "127.0.0.1", port);
    let (client, mut eventloop) = AsyncClient::new(options, 2000);
    for n in from..to {
        client
            .publish(TOPIC, QoS::AtLeastOnce, false, n.to_string())
            .await
            .unwrap();
    }
    let mut acked = 0;
    tokio::time::timeout(Duration::from_secs(20), async {
        while acked < to - from {
            if let Event::Incoming(Packet::PubAck(_)) = eventloop.poll().await.unwrap() {
                acked += 1;
            }
        }
    })
    .await
    .expect("every PUBACK");
}

/// Every message the channel holds within `quiet` of the last one.
async fn collect(rx: &mut mpsc::UnboundedReceiver<String>, quiet: Duration) -> Vec<String> {
    let mut got = Vec::new();
    while let Ok(Some(m)) = tokio::time::timeout(quiet, rx.recv()).await {
        got.push(m);
    }
    got
}

async fn share(kind: BrokerKind) {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(kind, dir.path()).await;
    let port = broker.port;
    let quiet = Duration::from_millis(1500);

    // Two members and a plain subscriber.
    let (_a, mut a, _) = consumer(port, "omo-cloud-1-trace", SHARED, false, true).await;
    let (_b, mut b, _) = consumer(port, "omo-cloud-2-trace", SHARED, false, true).await;
    let (_w, mut w, _) = consumer(port, "watcher", "omo/v1/#", true, true).await;
    publish_all(port, 0, 200).await;
    let (got_a, got_b, got_w) = (
        collect(&mut a, quiet).await,
        collect(&mut b, quiet).await,
        collect(&mut w, quiet).await,
    );
    assert!(
        !got_a.is_empty() && !got_b.is_empty(),
        "{kind:?}: {} and {}",
        got_a.len(),
        got_b.len()
    );
    assert_eq!(
        got_a.len() + got_b.len(),
        200,
        "{kind:?}: a message went to both members or to none"
    );
    let union: BTreeSet<&String> = got_a.iter().chain(&got_b).collect();
    assert_eq!(union.len(), 200, "{kind:?}");
    assert_eq!(
        got_w.len(),
        200,
        "{kind:?}: the plain subscriber gets every message"
    );

    // A third member that never acknowledges, then dies.
    let (_c, mut c, c_driver) = consumer(port, "omo-cloud-3-trace", SHARED, false, false).await;
    publish_all(port, 200, 260).await;
    let held_by_c = collect(&mut c, quiet).await;
    let mut survivors = collect(&mut a, quiet).await;
    survivors.extend(collect(&mut b, quiet).await);
    assert!(
        !held_by_c.is_empty(),
        "{kind:?}: the third member got no share"
    );
    assert_eq!(held_by_c.len() + survivors.len(), 60, "{kind:?}");
    c_driver.abort();
    drop(c);
    match kind {
        BrokerKind::Embedded => {
            survivors.extend(collect(&mut a, Duration::from_secs(3)).await);
            survivors.extend(collect(&mut b, Duration::from_secs(1)).await);
            let seen: BTreeSet<&String> = survivors.iter().collect();
            assert_eq!(
                seen.len(),
                60,
                "the survivors finish the work: {survivors:?}"
            );
        }
        BrokerKind::Mosquitto => {
            // Its share waits for it: the member comes back and gets what it never acknowledged.
            // (Nothing is handed on to the others.)
            survivors.extend(collect(&mut a, Duration::from_secs(2)).await);
            survivors.extend(collect(&mut b, Duration::from_millis(500)).await);
            assert_eq!(survivors.len() + held_by_c.len(), 60, "{survivors:?}");
            let (_c, mut c, _) = consumer(port, "omo-cloud-3-trace", SHARED, false, true).await;
            let again = collect(&mut c, Duration::from_secs(3)).await;
            let seen: BTreeSet<&String> = again.iter().collect();
            let held: BTreeSet<&String> = held_by_c.iter().collect();
            assert!(
                held.is_subset(&seen),
                "mosquitto lost a share: held {held:?}, again {seen:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn consumers_share_a_subscription_on_mosquitto() {
    share(BrokerKind::Mosquitto).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn consumers_share_a_subscription_on_the_embedded_broker() {
    share(BrokerKind::Embedded).await;
}
