//! Benchmark: the durable outbox's sustained rate to mosquitto, beside a raw rumqttc QoS 1 publish
//! loop to the same broker in the same run (`cargo bench -p omo-edge --bench outbox`).
//!
//! The outbox publishes one message at a time and deletes its row only after the PUBACK (so a
//! crash never loses or reorders a message); the raw loop keeps up to 100 publishes in flight and
//! stores nothing. Needs `mosquitto` on the PATH or in /usr/sbin. Under `cargo test --all-targets`
//! it only checks that it starts (pass `--bench` to measure).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use omo_edge::config::{EXAMPLE_TOML, EdgeConfig};
use omo_edge::db::{Db, OutboxMessage};
use omo_edge::outbox::{OutboxSignal, mqtt_options, run_publisher};
use rumqttc::{AsyncClient, Event, MqttOptions, Outgoing, Packet, QoS};
use tokio_util::sync::CancellationToken;

const MESSAGES: usize = 20_000;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "outbox benchmark: pass --bench to run it (cargo bench -p omo-edge --bench outbox)"
        );
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

struct Broker(Child);

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn mosquitto(dir: &Path, port: u16) -> Broker {
    let conf = dir.join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 1000000\nset_tcp_nodelay true\n"),
    )
    .unwrap();
    let program = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("mosquitto is not installed (apt-get install mosquitto)");
    Broker(
        Command::new(program)
            .args(["-c", conf.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

fn payload(n: usize) -> Vec<u8> {
    format!(
        r#"{{"id":"bench-{n}","type":"ObjectEvent","eventTime":"2026-11-23T02:00:00.000Z","action":"OBSERVE","bizStep":"retail_selling","quantityList":[{{"epcClass":"https://id.gs1.org/01/04006381333931","quantity":1}}]}}"#
    )
    .into_bytes()
}

async fn run() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _broker = mosquitto(dir.path(), port);
    tokio::time::sleep(Duration::from_millis(500)).await;

    // 1. The outbox: fill it, then time the publisher draining it.
    let db = Db::open(&dir.path().join("edge")).await.unwrap();
    for chunk in (0..MESSAGES).collect::<Vec<_>>().chunks(1000) {
        let messages: Vec<OutboxMessage> = chunk
            .iter()
            .map(|n| OutboxMessage {
                id: format!("bench-{n}"),
                topic: "omo/v1/stores/SH-B/trace".into(),
                payload: payload(*n),
                retain: false,
            })
            .collect();
        db.enqueue(&messages).await.unwrap();
    }
    let text = EXAMPLE_TOML.replace("mqtt://127.0.0.1:1883", &format!("mqtt://127.0.0.1:{port}"));
    let config = EdgeConfig::from_toml_str(&text, Path::new("bench.toml")).unwrap();
    let options = mqtt_options(&config).unwrap();
    let cancel = CancellationToken::new();
    let signal = OutboxSignal::default();
    let started = Instant::now();
    let publisher = tokio::spawn(run_publisher(
        db.clone(),
        signal.clone(),
        options,
        "SH-B".into(),
        cancel.clone(),
    ));
    loop {
        if db.outbox_depth().await.unwrap() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let outbox = started.elapsed();
    cancel.cancel();
    let _ = publisher.await;

    // 2. A raw rumqttc QoS 1 loop to the same broker: publish all, count the PUBACKs.
    let mut options = MqttOptions::new("bench-raw", "127.0.0.1", port);
    options.set_inflight(100);
    options.set_max_packet_size(1 << 20, 1 << 20);
    let (client, mut eventloop) = AsyncClient::new(options, 1000);
    let started = Instant::now();
    let sender = tokio::spawn(async move {
        for n in 0..MESSAGES {
            client
                .publish(
                    "omo/v1/stores/SH-B/trace",
                    QoS::AtLeastOnce,
                    false,
                    payload(n),
                )
                .await
                .unwrap();
        }
        client
    });
    let mut acked = 0;
    let mut sent = 0;
    while acked < MESSAGES {
        match eventloop.poll().await.unwrap() {
            Event::Incoming(Packet::PubAck(_)) => acked += 1,
            Event::Outgoing(Outgoing::Publish(_)) => sent += 1,
            _ => {}
        }
    }
    let raw = started.elapsed();
    let _ = sender.await;
    assert!(sent >= MESSAGES);

    println!(
        "outbox (durable, in order, windows of 64): {MESSAGES} messages in {:.2} s = {:.0} msg/s",
        outbox.as_secs_f64(),
        MESSAGES as f64 / outbox.as_secs_f64()
    );
    println!(
        "raw rumqttc QoS 1 loop (100 in flight, nothing stored): {MESSAGES} messages in {:.2} s = {:.0} msg/s",
        raw.as_secs_f64(),
        MESSAGES as f64 / raw.as_secs_f64()
    );
}
