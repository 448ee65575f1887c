//! A whole store for a test, each part a separate `omo` process: a broker, `omo cloud`, a catalog
//! loaded with `omo catalog import`, simulated devices on pseudo-terminals owned by the test, and
//! `omo edge` configured to use them. The cloud is plain and open unless a [`CloudSetup`] says
//! otherwise (TLS, store authentication, an administrator).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use omo_app_client::{AppClient, AppWallet};
use omo_devices::scale::ScaleProtocol;
use omo_devices::scanner::Framing;
use omo_devices::sim::{ScaleSim, ScannerSim};
use omo_proto::shopper::Receipt;
use omo_proto::shopper::shopper_service_client::ShopperServiceClient;
use serde_json::Value;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

use super::{Broker, BrokerKind, Listener, Process, free_port, get_json, wait_for_port};

pub const STORE: &str = "SH-T";

/// The test catalog: two products with real EAN-13s, and salmon by weight (PLU 00042).
pub const CATALOG_CSV: &str =
    "gtin,name,price_fen,unit,weight_g,tolerance_g,min_age,origin,plu,priced_by_label
4006381333931,Stabilo pen,350,each,12,3,0,Germany,,
5901234123457,Milk 1L,1290,each,1030,20,0,Inner Mongolia,,
2000420000008,Salmon fillet,15800,kg,0,10,0,Norway,00042,true
";

/// One lane's simulated devices, driven by the test.
#[derive(Clone)]
pub struct TestLane {
    pub id: String,
    pub scanner: Arc<ScannerSim>,
    pub scale: Arc<ScaleSim>,
}

/// A wallet enrolled with the cloud.
pub struct TestWallet {
    pub wallet_id: String,
    pub secret: Vec<u8>,
}

impl TestWallet {
    /// The payment code the app shows now.
    pub fn code(&self) -> String {
        omo_app_client::wallet::code_now(&self.wallet_id, &self.secret).unwrap()
    }

    /// `message` as the app sends it, with the wallet's app token.
    pub fn request<T>(&self, message: T) -> tonic::Request<T> {
        omo_app_client::wallet::with_app_token(&self.secret, message)
    }

    /// The wallet as the app keeps it.
    pub fn app(&self) -> AppWallet {
        AppWallet {
            wallet_id: self.wallet_id.clone(),
            secret_base32: data_encoding::BASE32_NOPAD.encode(&self.secret),
            display_name: "Test shopper".into(),
        }
    }
}

/// `omo cloud` with the `cloud.toml` in `dir`, once its gRPC port answers.
async fn start_cloud(dir: &std::path::Path, grpc_port: u16) -> Process {
    let cloud_toml = dir.join("cloud.toml");
    let cloud = Process::omo(
        "cloud",
        &["cloud", "--config", cloud_toml.to_str().unwrap()],
        dir,
    );
    wait_for_port(grpc_port, "omo cloud", Some(&cloud)).await;
    cloud
}

/// The cloud of a test store, where it differs from the plain, open default.
#[derive(Debug, Clone, Default)]
pub struct CloudSetup {
    /// Extra TOML for `cloud.toml`: top-level keys first, then tables.
    pub toml: String,
    /// PEM of the CA that signed the cloud's certificate: the cloud serves TLS (its `[tls]` in
    /// `toml`), so the test's own clients and the edge's `cloud_url` use https.
    pub ca_pem: Option<String>,
    /// The administrator's token that `omo catalog import` sends.
    pub admin_token: Option<String>,
    /// The cloud's database (a file in the store's folder unless given).
    pub database_url: Option<String>,
}

/// A running store.
pub struct TestStore {
    pub dir: tempfile::TempDir,
    pub broker: Broker,
    pub cloud: Process,
    pub edge: Option<Process>,
    pub grpc_port: u16,
    /// The cloud's HTTP port (the GS1 Digital Link resolver).
    pub cloud_http_port: u16,
    pub edge_port: u16,
    pub lanes: Vec<TestLane>,
    pub edge_config: PathBuf,
    /// The cloud's gRPC URL (https:// for a TLS cloud).
    pub cloud_url: String,
    /// The CA file the test trusts for a TLS cloud.
    pub cloud_ca: Option<PathBuf>,
    /// A session of the test operator at the edge, once logged in.
    operator: tokio::sync::Mutex<Option<String>>,
}

impl TestStore {
    /// Broker, cloud with the test catalog, and devices for `lanes` lanes; the edge not yet.
    pub async fn start(kind: BrokerKind, lanes: usize) -> TestStore {
        TestStore::start_with(kind, lanes, "").await
    }

    /// Like [`TestStore::start`], with extra TOML tables for the edge's config.
    pub async fn start_with(kind: BrokerKind, lanes: usize, extra_toml: &str) -> TestStore {
        TestStore::start_with_cloud(kind, lanes, extra_toml, CloudSetup::default()).await
    }

    /// Like [`TestStore::start_with`], with a cloud set up as `setup` says.
    pub async fn start_with_cloud(
        kind: BrokerKind,
        lanes: usize,
        extra_toml: &str,
        setup: CloudSetup,
    ) -> TestStore {
        let dir = tempfile::tempdir().unwrap();
        let broker = Broker::start(kind, dir.path()).await;
        let grpc_port = free_port();
        let cloud_http = free_port();
        let cloud_toml = dir.path().join("cloud.toml");
        std::fs::write(
            &cloud_toml,
            format!(
                "grpc_listen = \"127.0.0.1:{grpc_port}\"\nhttp_listen = \"127.0.0.1:{cloud_http}\"\ndatabase_url = \"{}\"\nmqtt_url = \"{}\"\n{}{}\n",
                setup.database_url.clone().unwrap_or_else(|| format!(
                    "sqlite://{}",
                    dir.path().join("cloud.db").display()
                )),
                broker.url(),
                super::funding_toml(),
                setup.toml,
            ),
        )
        .unwrap();
        let cloud = Process::omo(
            "cloud",
            &["cloud", "--config", cloud_toml.to_str().unwrap()],
            dir.path(),
        );
        wait_for_port(grpc_port, "omo cloud", Some(&cloud)).await;
        let cloud_ca = setup.ca_pem.as_ref().map(|pem| {
            let path = dir.path().join("cloud-ca.pem");
            std::fs::write(&path, pem).unwrap();
            path
        });
        let scheme = if cloud_ca.is_some() { "https" } else { "http" };
        let cloud_url = format!("{scheme}://127.0.0.1:{grpc_port}");

        let csv = dir.path().join("catalog.csv");
        std::fs::write(&csv, CATALOG_CSV).unwrap();
        let mut import = std::process::Command::new(env!("CARGO_BIN_EXE_omo"));
        import.args([
            "catalog",
            "import",
            csv.to_str().unwrap(),
            "--cloud",
            &cloud_url,
        ]);
        if let Some(ca) = &cloud_ca {
            import.arg("--ca").arg(ca);
        }
        if let Some(token) = &setup.admin_token {
            import.args(["--token", token]);
        }
        let import = import.output().unwrap();
        assert!(
            import.status.success(),
            "omo catalog import failed: {}",
            String::from_utf8_lossy(&import.stderr)
        );

        let lanes = (1..=lanes)
            .map(|n| TestLane {
                id: n.to_string(),
                scanner: Arc::new(ScannerSim::new(Framing::CrLf).unwrap()),
                scale: Arc::new(ScaleSim::new(ScaleProtocol::Toledo8217).unwrap()),
            })
            .collect::<Vec<_>>();

        let edge_port = free_port();
        let mut toml = format!(
            "store_id = \"{STORE}\"\nlat = 31.2304\nlon = 121.4737\ncloud_url = \"{cloud_url}\"\n\
             resolver_url = \"http://127.0.0.1:{cloud_http}\"\n\
             data_dir = \"{}\"\nhttp_listen = \"127.0.0.1:{edge_port}\"\n\n[mqtt]\nurl = \"{}\"\n\n\
             [payment]\nrpc_timeout_ms = 3000\npending_poll_ms = 200\npending_give_up_secs = 10\n",
            dir.path().join("edge").display(),
            broker.url(),
        );
        toml.push_str(&super::test_operator_toml());
        toml.push_str(extra_toml);
        for lane in &lanes {
            toml.push_str(&format!(
                "\n[[lane]]\nid = \"{}\"\n[lane.scanner]\nport = \"{}\"\n[lane.scale]\nport = \"{}\"\nprotocol = \"toledo8217\"\npoll_ms = 100\n[lane.gate]\ndriver = \"sim\"\nopen_ms = 800\n",
                lane.id,
                lane.scanner.port_path(),
                lane.scale.port_path()
            ));
        }
        let edge_config = dir.path().join("edge.toml");
        std::fs::write(&edge_config, toml).unwrap();

        TestStore {
            dir,
            cloud_http_port: cloud_http,
            broker,
            cloud,
            edge: None,
            grpc_port,
            edge_port,
            lanes,
            edge_config,
            cloud_url,
            cloud_ca,
            operator: tokio::sync::Mutex::default(),
        }
    }

    /// Rewrites the edge's config (e.g. to give it other credentials before a restart).
    pub fn edit_edge_config(&self, edit: impl FnOnce(String) -> String) {
        let text = std::fs::read_to_string(&self.edge_config).unwrap();
        std::fs::write(&self.edge_config, edit(text)).unwrap();
    }

    /// Kills the cloud at once (SIGKILL), as an outage would.
    pub fn kill_cloud(&mut self) {
        self.cloud.kill();
    }

    /// Starts the cloud again on the same database and port.
    pub async fn restart_cloud(&mut self) {
        self.cloud = start_cloud(self.dir.path(), self.grpc_port).await;
    }

    /// Starts another cloud process on the same database and broker (a chain's second process):
    /// `cloud.toml` with its own ports and with each `from` in it replaced by `to` (e.g. its
    /// `mqtt_client_id`). Returns the process and its gRPC and HTTP ports.
    pub async fn start_peer_cloud(&self, from: &str, to: &str) -> (Process, u16, u16) {
        let (grpc, http) = (free_port(), free_port());
        let text = std::fs::read_to_string(self.dir.path().join("cloud.toml")).unwrap();
        let text = text
            .replace(&format!(":{}\"", self.grpc_port), &format!(":{grpc}\""))
            .replace(
                &format!(":{}\"", self.cloud_http_port),
                &format!(":{http}\""),
            )
            .replace(from, to);
        let config = self.dir.path().join(format!("cloud-{to}.toml"));
        std::fs::write(&config, text).unwrap();
        let process = Process::omo(
            &format!("cloud-{to}"),
            &["cloud", "--config", config.to_str().unwrap()],
            self.dir.path(),
        );
        wait_for_port(grpc, "the peer cloud", Some(&process)).await;
        (process, grpc, http)
    }

    /// Starts `omo edge` without waiting for the catalog (the cloud may be down), once every
    /// lane's scanner is connected (a scan sent before the port is open would be lost, as on a
    /// real lane).
    pub async fn start_edge_offline(&mut self) {
        let edge = Process::omo(
            "edge",
            &["edge", "--config", self.edge_config.to_str().unwrap()],
            self.dir.path(),
        );
        wait_for_port(self.edge_port, "omo edge", Some(&edge)).await;
        self.edge = Some(edge);
        let url = self.edge_url("/api/devices");
        let scanners: Vec<String> = self
            .lanes
            .iter()
            .map(|l| format!("lane-{}-scanner", l.id))
            .collect();
        super::eventually(
            Duration::from_secs(20),
            "every lane's scanner online",
            || {
                let (url, scanners) = (url.clone(), scanners.clone());
                async move {
                    let devices = get_json(&url).await;
                    let online: Vec<&str> = devices["devices"]
                        .as_array()
                        .map(|d| {
                            d.iter()
                                .filter(|d| d["status"] == "online")
                                .filter_map(|d| d["device"].as_str())
                                .collect()
                        })
                        .unwrap_or_default();
                    scanners
                        .iter()
                        .all(|s| online.contains(&s.as_str()))
                        .then_some(())
                }
            },
        )
        .await;
    }

    /// Starts (or restarts) `omo edge` and waits until it has the catalog.
    pub async fn start_edge(&mut self) {
        self.start_edge_offline().await;
        let url = self.edge_url("/api/store");
        super::eventually(Duration::from_secs(20), "the edge's catalog", || {
            let url = url.clone();
            async move { (get_json(&url).await["catalog_products"].as_u64() == Some(3)).then_some(()) }
        })
        .await;
    }

    pub fn edge_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.edge_port)
    }

    /// A session of the test operator (a manager) at the edge, logged in on first use.
    pub async fn operator_token(&self) -> String {
        let mut cached = self.operator.lock().await;
        if let Some(token) = cached.as_ref() {
            return token.clone();
        }
        let token = super::operator_token(&self.edge_url("")).await;
        *cached = Some(token.clone());
        token
    }

    /// GETs JSON from the edge as the test operator (logging in again after an edge restart).
    pub async fn operator_json(&self, path: &str) -> Value {
        let url = self.edge_url(path);
        let token = self.operator_token().await;
        let response = reqwest::Client::new()
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        if response.status().as_u16() == 401 {
            *self.operator.lock().await = None;
            let token = self.operator_token().await;
            return super::get_json_with(&url, &token).await;
        }
        response
            .json()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: not JSON: {e}"))
    }

    /// The cookie of lane `lane`'s set-up screen.
    pub async fn screen_cookie(&self, lane: &str) -> String {
        super::screen_cookie(&self.edge_url(""), &self.operator_token().await, lane).await
    }

    pub async fn lane_view(&self, lane: &str) -> Value {
        get_json(&self.edge_url(&format!("/api/lanes/{lane}"))).await
    }

    pub async fn listen(&self, filter: &str) -> Listener {
        Listener::subscribe(self.broker.port, filter).await
    }

    /// The phone app's client (over TLS, without a client certificate, for a TLS cloud).
    pub async fn shopper(&self) -> ShopperServiceClient<Channel> {
        let mut endpoint = Channel::from_shared(self.cloud_url.clone()).unwrap();
        if let Some(ca) = &self.cloud_ca {
            let pem = std::fs::read(ca).unwrap();
            endpoint = endpoint
                .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem)))
                .unwrap();
        }
        ShopperServiceClient::new(endpoint.connect().await.unwrap())
    }

    /// The phone app's client over [`Self::shopper`]'s channel.
    pub async fn app(&self) -> AppClient {
        AppClient::from_service(self.shopper().await)
    }

    /// Enroll an (empty) wallet, then fund it with `balance_fen` through the funding authority.
    pub async fn enroll(&self, balance_fen: i64) -> TestWallet {
        let mut app = self.app().await;
        let wallet = app.enroll("Test shopper", 0).await.unwrap();
        if balance_fen > 0 {
            super::fund(app.service(), &wallet.wallet_id, balance_fen).await;
        }
        TestWallet {
            secret: wallet.secret().unwrap(),
            wallet_id: wallet.wallet_id,
        }
    }

    pub async fn balance(&self, wallet: &TestWallet) -> i64 {
        self.app()
            .await
            .wallet(&wallet.app())
            .await
            .unwrap()
            .balance_fen
    }

    pub async fn receipts(&self, wallet: &TestWallet) -> Vec<Receipt> {
        self.app().await.receipts(&wallet.app()).await.unwrap()
    }
}
