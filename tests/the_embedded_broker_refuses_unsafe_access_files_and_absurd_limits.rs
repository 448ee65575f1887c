//! `omo broker` refuses to start (exit 64, naming what is wrong) rather than run open:
//! - a password file with an entry whose hash is empty or malformed: `edge:$7$101$SALT$` (an
//!   empty hash) used to let `edge` in with any password at all;
//! - an ACL file without a password file: user names would be whatever clients claim, so anyone
//!   could claim `edge-SH-001` and write its topics;
//! - a bound out of its range (`--max-inflight 0`, a packet limit beyond what MQTT can encode).
//!
//! Should the broker start anyway (the attack), the test shows what it then lets in.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use data_encoding::BASE64;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet};
use support::free_port;

/// Runs `omo broker --listen 127.0.0.1:PORT ARGS...`: its exit code and stderr if it stops within
/// 10 s, else (it is serving) the CONNACK a client logging in as `user` with a wrong password
/// gets, as a panic message.
async fn start(dir: &Path, args: &[&str], user: &str) -> (i32, String) {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_omo"))
        .args(["broker", "--listen", &listen])
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            let output = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr).to_string();
            return (output.status.code().unwrap_or(-1), stderr);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut options = MqttOptions::new("probe", "127.0.0.1", port);
    options.set_credentials(user, "a guess");
    let (_client, mut eventloop) = AsyncClient::new(options, 10);
    let answer = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(ack))) => return format!("{:?}", ack.code),
                Ok(_) => {}
                Err(error) => return error.to_string(),
            }
        }
    })
    .await
    .unwrap_or_else(|_| "no answer".into());
    let _ = child.kill();
    let _ = child.wait();
    panic!(
        "omo broker {args:?} started instead of refusing; a client as {user:?} with a guessed password got: {answer}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_entry_with_an_empty_or_malformed_hash_lets_no_one_in() {
    let dir = tempfile::tempdir().unwrap();
    let salt = BASE64.encode(b"0123456789ab");
    let short = BASE64.encode(b"x");
    let valid = format!("$6${salt}${}", BASE64.encode(&[1u8; 64]));
    for (name, entry) in [
        ("empty-pbkdf2-hash", format!("$7$101${salt}$")),
        ("empty-hash", String::new()),
        ("empty-sha512-hash", "$6$$".to_string()),
        ("one-byte-hash", format!("$7$101${salt}${short}")),
        ("no-salt", format!("$6$${}", BASE64.encode(&[1u8; 64]))),
        (
            "zero-iterations",
            format!("$7$0${salt}${}", BASE64.encode(&[1u8; 64])),
        ),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, format!("cloud:{valid}\nedge:{entry}\n")).unwrap();
        let (code, stderr) =
            start(dir.path(), &["--passwords", file.to_str().unwrap()], "edge").await;
        assert_eq!(code, 64, "{name}: {stderr}");
        assert!(
            stderr.contains(name) && stderr.contains("line 2") && stderr.contains("edge"),
            "{name}: the refusal names the file, line and user: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_acl_without_a_password_file_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let acl = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/mosquitto/acl");
    let (code, stderr) = start(dir.path(), &["--acl", acl.to_str().unwrap()], "edge-SH-001").await;
    assert_eq!(code, 64, "{stderr}");
    assert!(
        stderr.contains("acl") && stderr.contains("without a password file"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn absurd_limits_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    for (args, named) in [
        (&["--max-inflight", "0"][..], "--max-inflight 0"),
        (
            &["--max-packet-bytes", "999999999999"],
            "--max-packet-bytes",
        ),
        (&["--max-connections", "0"], "--max-connections"),
        (
            &[
                "--max-packet-bytes",
                "4194304",
                "--max-outgoing-bytes",
                "4194304",
            ],
            "--max-outgoing-bytes",
        ),
    ] {
        let (code, stderr) = start(dir.path(), args, "anyone").await;
        assert_eq!(code, 64, "{args:?}: {stderr}");
        assert!(stderr.contains(named), "{args:?}: {stderr}");
    }
    // Not a number at all: clap refuses it, naming the flag.
    let (code, stderr) = start(dir.path(), &["--max-queued", "lots"], "anyone").await;
    assert_ne!(code, 0);
    assert!(stderr.contains("--max-queued"), "{stderr}");
}

/// The broker speaks MQTT 3.1.1 only: an MQTT 5 CONNECT (protocol level 5) is answered CONNACK 1
/// "unacceptable protocol version" (MQTT 3.1.1 §3.1.2.2), never let in.
#[tokio::test(flavor = "multi_thread")]
async fn an_mqtt_5_client_is_told_the_protocol_version_is_unacceptable() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _broker = support::Process::omo(
        "broker",
        &["broker", "--listen", &format!("127.0.0.1:{port}")],
        dir.path(),
    );
    support::wait_for_port(port, "omo broker", None).await;
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    // CONNECT, "MQTT", level 5, clean start, keep-alive 60, no properties, client id "v5".
    let connect = [
        0x10, 0x0f, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0x00, 0x3c, 0x00, 0x00, 0x02,
        b'v', b'5',
    ];
    stream.write_all(&connect).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .expect("the broker answers and closes within 5 s")
        .unwrap();
    assert_eq!(answer, [0x20, 0x02, 0x00, 0x01]);
}
