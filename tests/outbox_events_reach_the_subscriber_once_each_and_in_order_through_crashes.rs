//! The durable outbox under faults: thousands of EPCIS events are queued at the edge (`omo trace
//! import`) and published while the broker (mosquitto with persistence, and again the embedded
//! broker with its state file) is stopped and restarted several times and the edge is killed
//! with SIGKILL and restarted. A subscriber with a
//! persistent session receives every event, by id exactly once after dropping repeats (as
//! consumers do), and in the order they were queued.

mod support;

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use support::store::{STORE, TestStore};
use support::{BrokerKind, Process, wait_for_port};
use tokio::sync::mpsc;

const EVENTS: usize = 10_000;

/// mosquitto with persistence, so queued messages of persistent sessions survive its restarts.
fn mosquitto(dir: &Path, port: u16) -> Process {
    let conf = dir.join("persistent-mosquitto.conf");
    let data = dir.join("mosquitto-data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        &conf,
        format!(
            "user root\nlistener {port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {}/\n\
             autosave_interval 1\nmax_queued_messages 100000\nmax_inflight_messages 100\nset_tcp_nodelay true\n",
            data.display()
        ),
    )
    .unwrap();
    Process::spawn(
        "mosquitto-persistent",
        "/usr/sbin/mosquitto",
        &["-c", conf.to_str().unwrap()],
        dir,
    )
}

/// The embedded broker with its state file, so persistent sessions outlive its restarts.
fn embedded(dir: &Path, port: u16) -> Process {
    let state = dir.join("broker-state.json");
    Process::omo(
        "broker-persistent",
        &[
            "broker",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--state",
            state.to_str().unwrap(),
        ],
        dir,
    )
}

/// A persistent broker of `kind` on `port`.
fn persistent(kind: BrokerKind, dir: &Path, port: u16) -> Process {
    match kind {
        BrokerKind::Mosquitto => mosquitto(dir, port),
        BrokerKind::Embedded => embedded(dir, port),
    }
}

/// A subscriber with a persistent session: every (eventID, lot number) in arrival order.
async fn subscribe(port: u16) -> mpsc::UnboundedReceiver<(String, usize)> {
    let mut options = MqttOptions::new("outbox-fault-test-subscriber", "127.0.0.1", port);
    options.set_clean_session(false);
    options.set_keep_alive(Duration::from_secs(5));
    options.set_max_packet_size(1 << 20, 1 << 20);
    let (client, mut eventloop) = AsyncClient::new(options, 1000);
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                // A broker that lost the session (it should not, with persistence) gets the
                // subscription again, as any consumer would do.
                Ok(Event::Incoming(Packet::ConnAck(ack))) if !ack.session_present => {
                    let filter = format!("omo/v1/stores/{STORE}/trace");
                    let _ = client.try_subscribe(filter, QoS::AtLeastOnce);
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let v: serde_json::Value =
                        serde_json::from_slice(&p.payload).unwrap_or_default();
                    let text = String::from_utf8_lossy(&p.payload);
                    let lot = text
                        .find("LOT-")
                        .and_then(|at| text.get(at + 4..at + 9))
                        .and_then(|digits| digits.parse().ok())
                        .unwrap_or(usize::MAX);
                    if let Some(id) = v["eventID"].as_str()
                        && tx.send((id.to_string(), lot)).is_err()
                    {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    });
    rx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_survive_broker_restarts_and_edge_kills() {
    // One broker after the other: two chaos runs at once would share two cores.
    survive(BrokerKind::Mosquitto).await;
    survive(BrokerKind::Embedded).await;
}

async fn survive(kind: BrokerKind) {
    let mut store = TestStore::start(kind, 1).await;
    // Swap the fixture's broker for a persistent one on the same port.
    let port = store.broker.port;
    store.broker.process.stop();
    let mut broker = persistent(kind, store.dir.path(), port);
    wait_for_port(port, "the persistent broker", Some(&broker)).await;
    let mut received = subscribe(port).await;
    store.start_edge().await;

    // Queue the events (a supplier's receiving file with one lot per line).
    let csv = store.dir.path().join("receiving.csv");
    let mut text = String::from("gtin,lot,farm,harvest_date,certificates,temperatures\n");
    for n in 0..EVENTS {
        text.push_str(&format!(
            "2000420000008,LOT-{n:05},Lofoten farm {n},2026-11-20,ASC,1.5;2.0\n"
        ));
    }
    std::fs::write(&csv, text).unwrap();
    let import = std::process::Command::new(env!("CARGO_BIN_EXE_omo"))
        .args([
            "trace",
            "import",
            csv.to_str().unwrap(),
            "--config",
            store.edge_config.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        import.status.success(),
        "omo trace import: {}",
        String::from_utf8_lossy(&import.stderr)
    );

    // Chaos while the outbox drains.
    let faults: u32 = std::env::var("OMO_OUTBOX_FAULTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let mut order: Vec<usize> = Vec::new();
    let mut seen = HashSet::new();
    let mut duplicates = 0;
    let (mut broker_restarts, mut edge_kills) = (0, 0);
    let started = Instant::now();
    let mut next_fault = Instant::now() + Duration::from_millis(300);
    while seen.len() < EVENTS {
        if started.elapsed() > Duration::from_secs(60) {
            let edge = store.edge.as_ref().map(|e| e.log()).unwrap_or_default();
            let tail: String = edge
                .lines()
                .rev()
                .take(40)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            panic!(
                "only {} of {EVENTS} events arrived; edge log:\n{tail}\nbroker log:\n{}",
                seen.len(),
                broker.log()
            );
        }
        if let Ok(Some((id, lot))) =
            tokio::time::timeout(Duration::from_millis(50), received.recv()).await
        {
            if seen.insert(id) {
                order.push(lot);
            } else {
                duplicates += 1;
            }
        }
        if Instant::now() >= next_fault && (broker_restarts < faults || edge_kills < faults) {
            if broker_restarts <= edge_kills {
                broker.stop();
                tokio::time::sleep(Duration::from_millis(300)).await;
                broker = persistent(kind, store.dir.path(), port);
                wait_for_port(port, "the persistent broker", Some(&broker)).await;
                broker_restarts += 1;
            } else {
                store.edge.take().unwrap().kill();
                store.start_edge_offline().await;
                edge_kills += 1;
            }
            next_fault = Instant::now() + Duration::from_millis(250);
        }
    }
    assert!(
        faults == 0 || (broker_restarts >= 1 && edge_kills >= 1),
        "faults happened: {broker_restarts} broker restarts, {edge_kills} edge kills"
    );

    // In order: each event's first arrival follows the order of the file.
    assert_eq!(
        order,
        (0..EVENTS).collect::<Vec<_>>(),
        "events out of order or lost"
    );
    eprintln!(
        "{kind:?}: {EVENTS} events, {broker_restarts} broker restarts, {edge_kills} edge kills, {duplicates} repeats dropped, {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
