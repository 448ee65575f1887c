//! Fixtures for delivery tests: a broker (mosquitto, or the embedded one) with the shipped ACL and
//! a password file made by `mosquitto_passwd`, an edge that takes delivery orders, and riders.
//!
//! Use from a test file as `mod support; #[path = "support/delivery.rs"] mod delivery;`.
//!
//! The edge is `omo edge` and the rider `omo rider` when the binary has them wired (the delivery
//! routes merged into the edge API, the `rider` subcommand); until then the same library code runs
//! inside the test process, and the test says so on stderr.
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use omo_edge::delivery::geo::Position;
use omo_edge::delivery::rider::{RiderOptions, run_rider};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::support::{BrokerKind, Process, free_port, wait_for_port};

pub const STORE: &str = "SH-001";
pub const STORE_AT: Position = Position {
    lat: 31.2304,
    lon: 121.4737,
};

/// The users the test broker knows; each one's password is `pw-{user}`.
pub const USERS: &[&str] = &[
    "edge-SH-001",
    "cloud",
    "monitor",
    "observer",
    "rider-a",
    "rider-b",
    "sleepy",
    "keen",
];

pub fn password(user: &str) -> String {
    format!("pw-{user}")
}

/// A broker with the shipped ACL and a password file for [`USERS`], plus an `observer` who may
/// read everything: mosquitto with `deploy/mosquitto/omo.conf` as shipped (only the listener,
/// the file paths and persistence changed), or `omo broker --passwords --acl` (the embedded
/// broker as `omo up` runs it), so a test runs the same clients against both.
pub struct AclBroker {
    pub port: u16,
    pub process: Process,
}

impl AclBroker {
    /// mosquitto with the shipped configuration.
    pub async fn start(dir: &Path) -> AclBroker {
        AclBroker::start_kind(BrokerKind::Mosquitto, dir).await
    }

    /// The broker of `kind` with the shipped ACL.
    pub async fn start_kind(kind: BrokerKind, dir: &Path) -> AclBroker {
        let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/mosquitto");
        let passwd = dir.join("passwd");
        std::fs::write(&passwd, "").unwrap();
        for user in USERS {
            let status = std::process::Command::new("mosquitto_passwd")
                .args(["-b", passwd.to_str().unwrap(), user, &password(user)])
                .status()
                .expect("mosquitto_passwd (apt mosquitto) is installed");
            assert!(status.success(), "mosquitto_passwd failed for {user}");
        }
        let mut acl = std::fs::read_to_string(deploy.join("acl")).unwrap();
        acl.push_str("\n# test only\nuser observer\ntopic read omo/v1/#\n");
        let acl_path = dir.join("acl");
        std::fs::write(&acl_path, acl).unwrap();
        let port = free_port();
        let process = match kind {
            BrokerKind::Mosquitto => {
                let conf = mosquitto_conf(&deploy, port, &passwd, &acl_path);
                let conf_path = dir.join("omo-mosquitto.conf");
                std::fs::write(&conf_path, conf).unwrap();
                Process::spawn(
                    "mosquitto",
                    "/usr/sbin/mosquitto",
                    &["-c", conf_path.to_str().unwrap()],
                    dir,
                )
            }
            BrokerKind::Embedded => Process::omo(
                "broker",
                &[
                    "broker",
                    "--listen",
                    &format!("127.0.0.1:{port}"),
                    "--passwords",
                    passwd.to_str().unwrap(),
                    "--acl",
                    acl_path.to_str().unwrap(),
                ],
                dir,
            ),
        };
        wait_for_port(
            port,
            &format!("{kind:?} with the shipped ACL"),
            Some(&process),
        )
        .await;
        AclBroker { port, process }
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

/// `deploy/mosquitto/omo.conf` on `port` with the test's password and ACL files, without
/// persistence.
fn mosquitto_conf(deploy: &Path, port: u16, passwd: &Path, acl: &Path) -> String {
    std::fs::read_to_string(deploy.join("omo.conf"))
        .unwrap()
        .lines()
        .map(|line| {
            if line.starts_with("listener ") {
                format!("listener {port} 127.0.0.1")
            } else if line.starts_with("password_file ") {
                format!("password_file {}", passwd.display())
            } else if line.starts_with("acl_file ") {
                format!("acl_file {}", acl.display())
            } else if line.starts_with("persistence ") {
                "persistence false".into()
            } else if line.starts_with("persistence_location ")
                || line.starts_with("autosave_interval ")
            {
                String::new()
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// An authenticated MQTT client of the test's own.
pub struct Client {
    pub client: AsyncClient,
    pub messages: mpsc::UnboundedReceiver<(String, Value)>,
}

impl Client {
    /// Connects as `user` and subscribes to each of `filters` (waiting for each SUBACK).
    pub async fn connect(port: u16, user: &str, filters: &[&str]) -> Client {
        let mut options =
            MqttOptions::new(format!("test-{user}-{}", free_port()), "127.0.0.1", port);
        options.set_credentials(user, password(user));
        options.set_keep_alive(Duration::from_secs(5));
        let (client, mut eventloop) = AsyncClient::new(options, 100);
        let (tx, messages) = mpsc::unbounded_channel();
        let (acks_tx, mut acks) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let value = serde_json::from_slice(&p.payload).unwrap_or(Value::Null);
                        if tx.send((p.topic.clone(), value)).is_err() {
                            return;
                        }
                    }
                    Ok(Event::Incoming(Packet::SubAck(ack))) => {
                        let _ = acks_tx.send(ack);
                    }
                    Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                        assert_eq!(ack.code, rumqttc::ConnectReturnCode::Success, "{ack:?}");
                    }
                    Ok(_) => {}
                    Err(error) => panic!("test client {error}"),
                }
            }
        });
        for filter in filters {
            client.subscribe(*filter, QoS::AtLeastOnce).await.unwrap();
            tokio::time::timeout(Duration::from_secs(10), acks.recv())
                .await
                .expect("SUBACK within 10 s");
        }
        Client { client, messages }
    }

    pub async fn publish(&self, topic: &str, payload: &Value) {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload.to_string())
            .await
            .unwrap();
    }

    /// Every message received within `wait`.
    pub async fn drain(&mut self, wait: Duration) -> Vec<(String, Value)> {
        let mut got = Vec::new();
        let deadline = tokio::time::Instant::now() + wait;
        while let Ok(Some(m)) = tokio::time::timeout_at(deadline, self.messages.recv()).await {
            got.push(m);
        }
        got
    }

    /// The first message matching `pick` within `wait`.
    pub async fn wait_for(
        &mut self,
        wait: Duration,
        what: &str,
        mut pick: impl FnMut(&str, &Value) -> bool,
    ) -> (String, Value) {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.messages.recv()).await {
                Ok(Some((t, v))) if pick(&t, &v) => return (t, v),
                Ok(Some(_)) => {}
                _ => panic!("no message for {what} within {wait:?}"),
            }
        }
    }
}

/// The edge's config for delivery tests: store SH-001 at STORE_AT, broker credentials, no lanes.
pub fn edge_toml(dir: &Path, broker: &AclBroker, http_port: u16) -> String {
    format!(
        "store_id = \"{STORE}\"\nlat = {}\nlon = {}\ndelivery_radius_m = 3000\ncloud_url = \"http://127.0.0.1:{}\"\n\
         data_dir = \"{}\"\nhttp_listen = \"127.0.0.1:{http_port}\"\n\n[mqtt]\nurl = \"{}\"\nusername = \"edge-{STORE}\"\npassword = \"{}\"\n",
        STORE_AT.lat,
        STORE_AT.lon,
        free_port(),
        dir.join("edge").display(),
        broker.url(),
        password(&format!("edge-{STORE}")),
    ) + &crate::support::test_operator_toml()
}

/// An edge that takes delivery orders on `http_port`.
pub enum Edge {
    Process(Process),
    InProcess(CancellationToken),
}

impl Edge {
    pub async fn start(dir: &Path, broker: &AclBroker) -> (Edge, u16) {
        let http_port = free_port();
        let config_path = dir.join("edge.toml");
        std::fs::write(&config_path, edge_toml(dir, broker, http_port)).unwrap();
        let edge = Process::omo(
            "edge",
            &["edge", "--config", config_path.to_str().unwrap()],
            dir,
        );
        wait_for_port(http_port, "omo edge", Some(&edge)).await;
        let board = reqwest::get(format!("http://127.0.0.1:{http_port}/api/delivery/board"))
            .await
            .unwrap();
        // 401 without a session: the route is there.
        if board.status().as_u16() != 404 {
            return (Edge::Process(edge), http_port);
        }
        eprintln!(
            "note: `omo edge` does not serve /api/delivery yet (routes not merged): running the edge's delivery in-process"
        );
        drop(edge);
        let config = omo_edge::EdgeConfig::load(&config_path).unwrap();
        let http = tokio::net::TcpListener::bind(("127.0.0.1", http_port))
            .await
            .unwrap();
        let cancel = CancellationToken::new();
        tokio::spawn(omo_edge::delivery::run_standalone(
            config,
            http,
            cancel.clone(),
        ));
        (Edge::InProcess(cancel), http_port)
    }
}

impl Drop for Edge {
    fn drop(&mut self) {
        if let Edge::InProcess(cancel) = self {
            cancel.cancel();
        }
    }
}

/// Whether the `omo` binary has the `rider` subcommand.
pub fn omo_has_rider() -> bool {
    std::process::Command::new(env!("CARGO_BIN_EXE_omo"))
        .args(["rider", "--help"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// A rider: `omo rider` as a process, or the same client in-process.
pub enum RiderRun {
    Process(Process),
    InProcess(CancellationToken),
}

impl RiderRun {
    pub fn start(dir: &Path, broker: &AclBroker, id: &str, at: Position, accept: bool) -> RiderRun {
        if omo_has_rider() {
            let (lat, lon) = (at.lat.to_string(), at.lon.to_string());
            let pw = password(id);
            let url = broker.url();
            let mut args = vec![
                "rider",
                "--id",
                id,
                "--mqtt",
                &url,
                "--password",
                &pw,
                "--lat",
                &lat,
                "--lon",
                &lon,
                "--speed",
                "300",
            ];
            if !accept {
                args.push("--no-accept");
            }
            return RiderRun::Process(Process::omo(&format!("rider-{id}"), &args, dir));
        }
        eprintln!(
            "note: `omo rider` is not wired into the binary yet: running rider {id} in-process"
        );
        let mut options = RiderOptions::new(id, &broker.url(), at);
        options.password = Some(password(id));
        options.accept = accept;
        options.speed_mps = 300.0;
        options.step = Duration::from_millis(200);
        let cancel = CancellationToken::new();
        tokio::spawn(run_rider(options, None, cancel.clone()));
        RiderRun::InProcess(cancel)
    }
}

impl Drop for RiderRun {
    fn drop(&mut self) {
        if let RiderRun::InProcess(cancel) = self {
            cancel.cancel();
        }
    }
}

/// Riders and edges kept apart by the shipped ACL, on the broker at `port` (mosquitto or the
/// embedded one): rider A receives none of rider B's assignments, even subscribed to B's topic or
/// to `+`, and each rider gets its own; an edge writes its own store's topics but not another's;
/// rider A cannot speak as rider B.
pub async fn riders_and_edges_are_kept_apart(port: u16) {
    let mut a = Client::connect(
        port,
        "rider-a",
        &[
            "omo/v1/riders/rider-a/dispatch",
            "omo/v1/riders/rider-b/dispatch",
            "omo/v1/riders/+/dispatch",
        ],
    )
    .await;
    let mut b = Client::connect(port, "rider-b", &["omo/v1/riders/rider-b/dispatch"]).await;
    let mut observer = Client::connect(port, "observer", &["omo/v1/#"]).await;
    let mut edge = Client::connect(
        port,
        "edge-SH-001",
        &[
            "omo/v1/stores/SH-001/delivery/requests",
            "omo/v1/stores/SH-001/delivery/cancellations",
        ],
    )
    .await;
    let cloud = Client::connect(port, "cloud", &[]).await;

    // The cloud cancels a late acceptance at the store; a rider cannot cancel an order.
    cloud
        .publish(
            "omo/v1/stores/SH-001/delivery/cancellations",
            &json!({"id": "cancel-cloud", "order_id": "app-1"}),
        )
        .await;
    a.publish(
        "omo/v1/stores/SH-001/delivery/cancellations",
        &json!({"id": "cancel-rider", "order_id": "app-2"}),
    )
    .await;

    // The cloud forwards app orders to the store; a rider cannot inject one.
    cloud
        .publish(
            "omo/v1/stores/SH-001/delivery/requests",
            &json!({"id": "req-cloud", "order_id": "app-1"}),
        )
        .await;
    a.publish(
        "omo/v1/stores/SH-001/delivery/requests",
        &json!({"id": "req-rider", "order_id": "app-2"}),
    )
    .await;

    edge.publish(
        "omo/v1/riders/rider-b/dispatch",
        &json!({"id": "m-b", "order_id": "for-b"}),
    )
    .await;
    edge.publish(
        "omo/v1/riders/rider-a/dispatch",
        &json!({"id": "m-a", "order_id": "for-a"}),
    )
    .await;
    // Not allowed: another store's topic, and rider A speaking as rider B.
    edge.publish(
        "omo/v1/stores/SH-002/delivery/orders",
        &json!({"id": "m-x"}),
    )
    .await;
    edge.publish(
        "omo/v1/stores/SH-001/delivery/orders",
        &json!({"id": "m-own-store"}),
    )
    .await;
    a.publish(
        "omo/v1/riders/rider-b/events",
        &json!({"id": "m-spoof", "rider_id": "rider-b", "event": "accepted", "order_id": "for-b"}),
    )
    .await;
    a.publish(
        "omo/v1/riders/rider-a/events",
        &json!({"id": "m-own", "rider_id": "rider-a", "event": "location", "lat": 31.23, "lon": 121.47}),
    )
    .await;

    b.wait_for(Duration::from_secs(5), "B's own assignment", |_, v| {
        v["id"] == "m-b"
    })
    .await;
    let got_a = a.drain(Duration::from_secs(2)).await;
    let ids: Vec<_> = got_a.iter().map(|(_, v)| v["id"].clone()).collect();
    assert!(
        ids.contains(&json!("m-a")),
        "A must get its own assignment: {got_a:?}"
    );
    assert!(
        !ids.contains(&json!("m-b")),
        "A read B's assignment: {got_a:?}"
    );

    let requests: Vec<_> = edge
        .drain(Duration::from_secs(1))
        .await
        .into_iter()
        .map(|(_, v)| v["id"].clone())
        .collect();
    assert!(
        requests.contains(&json!("req-cloud")) && requests.contains(&json!("cancel-cloud")),
        "the edge must get the cloud's request and cancellation: {requests:?}"
    );
    assert_eq!(
        requests.len(),
        2,
        "the edge got a rider's request or cancellation: {requests:?}"
    );

    let seen: Vec<_> = observer
        .drain(Duration::from_secs(1))
        .await
        .into_iter()
        .map(|(_, v)| v["id"].clone())
        .collect();
    assert!(seen.contains(&json!("m-own")), "{seen:?}");
    assert!(seen.contains(&json!("m-own-store")), "{seen:?}");
    assert!(
        !seen.contains(&json!("m-x")),
        "the edge wrote another store's topic: {seen:?}"
    );
    assert!(
        !seen.contains(&json!("m-spoof")),
        "rider A wrote rider B's events: {seen:?}"
    );
}
