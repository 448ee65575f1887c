//! Fixtures for end-to-end tests: the real `omo` binary as separate processes, brokers (mosquitto
//! from apt, or the embedded one via `omo broker`), free loopback ports, and an MQTT listener.
#![allow(dead_code)]

pub mod store;
pub mod trace;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::Value;
use tokio::sync::mpsc;

/// The funding authority's token every test cloud trusts (`funding_toml` puts its SHA-256 in
/// the cloud's config). A wallet opens empty; money enters only through [`fund`].
pub const FUNDING_TOKEN: &str = "test-funding-authority-token";

/// The top-level `cloud.toml` line that makes [`FUNDING_TOKEN`] the funding authority.
pub fn funding_toml() -> String {
    format!(
        "funding_token_sha256 = \"{}\"\n",
        omo_cloud::identity::token_sha256(FUNDING_TOKEN)
    )
}

/// Tops up `wallet_id` with `amount_fen` as the funding authority (the only way money enters a
/// wallet), once per wallet and amount; returns the new balance.
pub async fn fund(
    shopper: &mut omo_proto::shopper::shopper_service_client::ShopperServiceClient<
        tonic::transport::Channel,
    >,
    wallet_id: &str,
    amount_fen: i64,
) -> i64 {
    omo_app_client::AppClient::from_service(shopper.clone())
        .top_up(
            FUNDING_TOKEN,
            wallet_id,
            amount_fen,
            &format!("test-{wallet_id}-{amount_fen}"),
        )
        .await
        .expect("the funding authority tops the wallet up")
        .balance_fen
}

/// A free TCP port on 127.0.0.1 (bound, then released for the process under test).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Waits until something accepts TCP connections on `port`.
pub async fn wait_for_port(port: u16, what: &str, process: Option<&Process>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        if let Some(p) = process {
            p.assert_running();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not listen on port {port} within 60 s");
}

/// `omo up` as a newcomer runs it, on free ports, its data in `{dir}/omo-data`.
pub struct OmoUp {
    pub process: Process,
    pub data: PathBuf,
    pub mqtt: u16,
    pub grpc: u16,
    pub cloud_http: u16,
    pub http: u16,
}

impl OmoUp {
    /// Starts `omo up` with `flags` (`--lanes 2`, ...) on four free ports and returns once its
    /// edge accepts connections.
    pub async fn start(dir: &Path, flags: &[&str]) -> OmoUp {
        let (mqtt, grpc, cloud_http, http) = (free_port(), free_port(), free_port(), free_port());
        let data = dir.join("omo-data");
        let ports = [mqtt, grpc, cloud_http, http].map(|p| p.to_string());
        let mut args = vec!["up", "--data", data.to_str().unwrap()];
        args.extend_from_slice(flags);
        for (flag, port) in [
            "--mqtt-port",
            "--grpc-port",
            "--cloud-http-port",
            "--http-port",
        ]
        .iter()
        .zip(&ports)
        {
            args.extend([*flag, port.as_str()]);
        }
        let process = Process::omo("up", &args, dir);
        wait_for_port(http, "the edge of omo up", Some(&process)).await;
        OmoUp {
            process,
            data,
            mqtt,
            grpc,
            cloud_http,
            http,
        }
    }
}

/// A child process, killed when dropped; its output goes to a log file shown on failure.
pub struct Process {
    pub name: String,
    child: Child,
    log: PathBuf,
}

impl Process {
    /// Starts the real `omo` binary.
    pub fn omo(name: &str, args: &[&str], dir: &Path) -> Process {
        Process::spawn(name, env!("CARGO_BIN_EXE_omo"), args, dir)
    }

    pub fn spawn(name: &str, program: &str, args: &[&str], dir: &Path) -> Process {
        let log = dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        let child = Command::new(program)
            .args(args)
            .current_dir(dir)
            .env("RUST_LOG", "info,omo_edge=debug")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program} ({name}): {e}"));
        Process {
            name: name.to_string(),
            child,
            log,
        }
    }

    /// The process's output so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Panics with the log if the process has exited.
    pub fn assert_running(&self) {
        // try_wait needs &mut; use /proc to stay &self.
        let status =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        let state = status
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim()
            .chars()
            .next();
        if status.is_empty() || state == Some('Z') {
            panic!("{} exited early:\n{}", self.name, self.log());
        }
    }

    /// Sends SIGTERM and waits up to 10 s for a clean exit; returns whether it exited cleanly.
    pub fn stop(&mut self) -> bool {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        false
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Some(success) once the process has exited, None while it runs.
    pub fn try_status(&mut self) -> Option<bool> {
        self.child.try_wait().ok().flatten().map(|s| s.success())
    }

    /// The exit code once the process has exited (None while it runs, or if a signal ended it).
    pub fn exit_code(&mut self) -> Option<i32> {
        self.child.try_wait().ok().flatten().and_then(|s| s.code())
    }

    /// Kills the process at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("----- {} log -----\n{}", self.name, self.log());
        }
    }
}

/// Which broker a test runs against.
#[derive(Debug, Clone, Copy)]
pub enum BrokerKind {
    /// mosquitto from apt.
    Mosquitto,
    /// The broker embedded in `omo` (its own MQTT 3.1.1 broker, `src/broker/`), as `omo up` runs it.
    Embedded,
}

/// A running broker.
pub struct Broker {
    pub port: u16,
    pub process: Process,
}

impl Broker {
    pub async fn start(kind: BrokerKind, dir: &Path) -> Broker {
        let port = free_port();
        let process = match kind {
            BrokerKind::Mosquitto => {
                let conf = dir.join("mosquitto.conf");
                std::fs::write(
                    &conf,
                    format!(
                        "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\nset_tcp_nodelay true\n"
                    ),
                )
                .unwrap();
                let program = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
                    .into_iter()
                    .find(|p| Path::new(p).exists())
                    .expect("mosquitto is not installed: apt-get install mosquitto (.ci/run does)");
                Process::spawn("mosquitto", program, &["-c", conf.to_str().unwrap()], dir)
            }
            BrokerKind::Embedded => Process::omo(
                "broker",
                &["broker", "--listen", &format!("127.0.0.1:{port}")],
                dir,
            ),
        };
        wait_for_port(port, "the MQTT broker", Some(&process)).await;
        Broker { port, process }
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

/// An MQTT subscriber of the test's own: every message on `filter`, as (topic, JSON).
pub struct Listener {
    pub messages: mpsc::UnboundedReceiver<(String, Value)>,
    _client: AsyncClient,
}

impl Listener {
    pub async fn subscribe(port: u16, filter: &str) -> Listener {
        let mut options =
            MqttOptions::new(format!("test-listener-{}", free_port()), "127.0.0.1", port);
        options.set_keep_alive(Duration::from_secs(5));
        options.set_max_packet_size(1 << 20, 1 << 20);
        let (client, mut eventloop) = AsyncClient::new(options, 100);
        client.subscribe(filter, QoS::AtLeastOnce).await.unwrap();
        let (tx, messages) = mpsc::unbounded_channel();
        let (subscribed_tx, subscribed) = tokio::sync::oneshot::channel();
        let mut subscribed_tx = Some(subscribed_tx);
        tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        if let Some(tx) = subscribed_tx.take() {
                            let _ = tx.send(());
                        }
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let value = serde_json::from_slice(&p.payload).unwrap_or(Value::Null);
                        if tx.send((p.topic.clone(), value)).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(10), subscribed)
            .await
            .expect("SUBACK within 10 s")
            .unwrap();
        Listener {
            messages,
            _client: client,
        }
    }

    /// The next message for which `pick` is true, within `timeout`.
    pub async fn wait_for(
        &mut self,
        timeout: Duration,
        what: &str,
        mut pick: impl FnMut(&str, &Value) -> bool,
    ) -> (String, Value) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.messages.recv()).await {
                Ok(Some((topic, value))) if pick(&topic, &value) => return (topic, value),
                Ok(Some(_)) => {}
                Ok(None) => panic!("the MQTT listener stopped while waiting for {what}"),
                Err(_) => panic!("no MQTT message for {what} within {timeout:?}"),
            }
        }
    }
}

/// A counter of the Prometheus text at `http://127.0.0.1:{port}/metrics` (None if the process
/// does not answer or has no such counter).
pub async fn metric(port: u16, name: &str) -> Option<u64> {
    let response = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .ok()?;
    let text = response.text().await.ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
}

/// GETs JSON from a local HTTP server.
pub async fn get_json(url: &str) -> Value {
    reqwest::get(url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: not JSON: {e}"))
}

/// GETs JSON with an operator's session token.
pub async fn get_json_with(url: &str, token: &str) -> Value {
    reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: not JSON: {e}"))
}

/// Polls `check` every 100 ms until it returns Some, or panics after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The operator every test store's edge has (a manager), for routes that need a session.
pub const TEST_OPERATOR: &str = "test-manager";
/// [`TEST_OPERATOR`]'s password.
pub const TEST_PASSWORD: &str = "test-manager-password";

/// `[[operator]]` TOML for [`TEST_OPERATOR`] (hashed once per test process).
pub fn test_operator_toml() -> String {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = HASH.get_or_init(|| omo_edge::web::hash_password(TEST_PASSWORD));
    format!(
        "\n[[operator]]\nname = \"{TEST_OPERATOR}\"\nrole = \"manager\"\npassword_hash = \"{hash}\"\n"
    )
}

/// Logs in at the edge `base` (`http://127.0.0.1:PORT`) and returns the session token.
pub async fn login(base: &str, name: &str, password: &str) -> String {
    let response = reqwest::Client::new()
        .post(format!("{base}/login"))
        .json(&serde_json::json!({ "name": name, "password": password }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {base}/login: {e}"));
    assert_eq!(response.status().as_u16(), 200, "login as {name} at {base}");
    let body: Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_string()
}

/// A session of [`TEST_OPERATOR`] at the edge `base`.
pub async fn operator_token(base: &str) -> String {
    login(base, TEST_OPERATOR, TEST_PASSWORD).await
}

/// The cookie that makes a client lane `lane`'s screen, fetched as a manager (`token`) from the
/// edge `base` the way an operator sets a screen up.
pub async fn screen_cookie(base: &str, token: &str, lane: &str) -> String {
    let setup = get_json_with(&format!("{base}/api/lanes/{lane}/screen-setup"), token).await;
    let path = setup["setup_path"].as_str().expect("a setup path");
    let secret = path.split_once("setup=").expect("a setup token").1;
    format!("omo_screen={secret}")
}
