//! `omo broker --passwords FILE`: a client id belongs to the user whose session holds it. The
//! attack: rider-a, with a valid password of its own, connects with the cloud's client id
//! (`omo-cloud-trace`), which used to take the cloud's session over and wipe it (its queued
//! messages, its subscriptions). Now the broker answers CONNACK 5 "not authorised" and leaves the
//! session alone, whether the cloud is connected, away, or the broker restarted in between; the
//! cloud itself reconnects and takes over as MQTT says.

mod support;

use std::path::Path;
use std::time::Duration;

use data_encoding::BASE64;
use rumqttc::{AsyncClient, ConnectReturnCode, Event, EventLoop, MqttOptions, Packet, QoS};
use sha2::{Digest, Sha512};
use support::{Process, free_port, wait_for_port};

const ID: &str = "omo-cloud-trace";

/// A mosquitto 1.x (`$6$`) password-file line for `user` with `password`.
fn password_line(user: &str, password: &str) -> String {
    let salt = format!("salt-{user}");
    let digest = Sha512::new()
        .chain_update(password.as_bytes())
        .chain_update(salt.as_bytes())
        .finalize();
    format!(
        "{user}:$6${}${}\n",
        BASE64.encode(salt.as_bytes()),
        BASE64.encode(&digest)
    )
}

fn start_broker(dir: &Path, name: &str) -> (u16, Process) {
    let passwd = dir.join("passwd");
    if !passwd.exists() {
        let text = password_line("cloud", "pw-cloud") + &password_line("rider-a", "pw-rider-a");
        std::fs::write(&passwd, text).unwrap();
    }
    let port = free_port();
    let process = Process::omo(
        name,
        &[
            "broker",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--passwords",
            passwd.to_str().unwrap(),
            "--state",
            dir.join("state.json").to_str().unwrap(),
        ],
        dir,
    );
    (port, process)
}

fn client(port: u16, id: &str, user: &str, clean: bool) -> (AsyncClient, EventLoop) {
    let mut options = MqttOptions::new(id, "127.0.0.1", port);
    options.set_credentials(user, format!("pw-{user}"));
    options.set_clean_session(clean);
    options.set_keep_alive(Duration::from_secs(5));
    AsyncClient::new(options, 100)
}

/// The CONNACK: Ok(session present) or the refusal's code.
async fn connack(eventloop: &mut EventLoop) -> Result<bool, ConnectReturnCode> {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                    return match ack.code {
                        ConnectReturnCode::Success => Ok(ack.session_present),
                        code => Err(code),
                    };
                }
                Ok(_) => {}
                Err(rumqttc::ConnectionError::ConnectionRefused(code)) => return Err(code),
                Err(error) => panic!("no CONNACK: {error}"),
            }
        }
    })
    .await
    .expect("a CONNACK within 10 s")
}

/// Polls until a PUBLISH arrives; its payload.
async fn next_message(eventloop: &mut EventLoop, what: &str) -> String {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    return String::from_utf8_lossy(&p.payload).to_string();
                }
                Ok(_) => {}
                Err(error) => panic!("{what}: {error}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what} within 10 s"))
}

/// rider-a, with its own valid password, tries the cloud's client id.
async fn hijack(port: u16) -> Result<bool, ConnectReturnCode> {
    let (_c, mut eventloop) = client(port, ID, "rider-a", true);
    connack(&mut eventloop).await
}

async fn publish(port: u16, payload: &str) {
    let (publisher, mut eventloop) = client(port, "rider-a-publisher", "rider-a", true);
    publisher
        .publish("t/trace", QoS::AtLeastOnce, false, payload)
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Event::Incoming(Packet::PubAck(_)) = eventloop.poll().await.unwrap() {
                return;
            }
        }
    })
    .await
    .expect("PUBACK within 10 s");
}

#[tokio::test(flavor = "multi_thread")]
async fn another_user_cannot_take_over_a_client_id_and_its_session() {
    let dir = tempfile::tempdir().unwrap();
    let (port, broker) = start_broker(dir.path(), "broker");
    wait_for_port(port, "omo broker", Some(&broker)).await;

    // The cloud's persistent session, subscribed.
    let (cloud, mut cloud_loop) = client(port, ID, "cloud", false);
    assert_eq!(connack(&mut cloud_loop).await, Ok(false));
    cloud.subscribe("t/#", QoS::AtLeastOnce).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), async {
        while !matches!(
            cloud_loop.poll().await.unwrap(),
            Event::Incoming(Packet::SubAck(_))
        ) {}
    })
    .await
    .expect("SUBACK");

    // While it is connected: refused, and the cloud's connection goes on.
    assert_eq!(
        hijack(port).await,
        Err(ConnectReturnCode::NotAuthorized),
        "another user took over the cloud's client id"
    );
    publish(port, "while attacked").await;
    assert_eq!(
        next_message(&mut cloud_loop, "the cloud, still connected").await,
        "while attacked"
    );

    // While it is away: refused, and the session keeps what it missed.
    cloud.disconnect().await.unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while cloud_loop.poll().await.is_ok() {}
    })
    .await;
    drop(cloud_loop);
    assert_eq!(hijack(port).await, Err(ConnectReturnCode::NotAuthorized));
    publish(port, "while away").await;

    // Across a restart (the binding is saved with the session): still refused.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    drop(broker);
    let (port, broker) = start_broker(dir.path(), "broker-again");
    wait_for_port(port, "omo broker, restarted", Some(&broker)).await;
    assert_eq!(hijack(port).await, Err(ConnectReturnCode::NotAuthorized));

    // The owner comes back to its session and what it missed.
    let (_cloud, mut cloud_loop) = client(port, ID, "cloud", false);
    assert_eq!(
        connack(&mut cloud_loop).await,
        Ok(true),
        "the session was lost"
    );
    assert_eq!(
        next_message(&mut cloud_loop, "the message queued while away").await,
        "while away"
    );

    // The same user connecting again takes over, closing the older connection.
    let (_again, mut again_loop) = client(port, ID, "cloud", false);
    assert_eq!(connack(&mut again_loop).await, Ok(true));
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if cloud_loop.poll().await.is_err() {
                return;
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the older connection was not closed");
}
