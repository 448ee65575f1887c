//! Test fixtures that read like the system: a cloud served on loopback ports with a manual
//! clock, real tonic clients, and a database of either kind (SQLite file or a real PostgreSQL
//! server this process starts).

#![allow(dead_code)]

pub mod postgres;
pub mod test_ca;

use std::net::SocketAddr;

use chrono::Duration;
use omo_cloud::{Cloud, CloudConfig, ManualClock, paycode};
use omo_proto::catalog::catalog_service_client::CatalogServiceClient;
use omo_proto::payment::payment_service_client::PaymentServiceClient;
use omo_proto::payment::{AuthorizeRequest, DeclineReason, Payment, PaymentStatus};
use omo_proto::shopper::shopper_service_client::ShopperServiceClient;
use omo_proto::shopper::{EnrollRequest, GetWalletRequest, TopUpRequest, Wallet};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

/// The milk of [`TestCloud::placed_delivery_orders`].
pub const MILK: &str = "05901234123457";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Run an async scenario as one test per backend: `<name>_on_sqlite` and `<name>_on_postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Db::Sqlite).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::support::postgres::available() {
                        super::$name($crate::support::Db::Postgres).await;
                    }
                }
            )*
        }
    };
}

/// A wallet the test enrolled, with its secret (what the phone app keeps).
#[derive(Debug, Clone)]
pub struct Shopper {
    pub wallet_id: String,
    pub secret: Vec<u8>,
}

impl Shopper {
    /// `message` as the app sends it, with the wallet's app token.
    pub fn request<T>(&self, message: T) -> tonic::Request<T> {
        omo_cloud::identity::with_bearer(message, &paycode::app_token(&self.secret))
    }
}

/// The funding authority's token every test cloud trusts (its SHA-256 is the default
/// `funding_token_sha256` of [`TestCloud`]). A wallet opens empty; money enters only by
/// [`TestCloud::fund`] (or [`funding_request`]).
pub const FUNDING_TOKEN: &str = "test-funding-authority-token";

/// `message` as the funding authority sends it.
pub fn funding_request<T>(message: T) -> tonic::Request<T> {
    omo_cloud::identity::with_bearer(message, FUNDING_TOKEN)
}

/// A cloud serving on loopback, with clients connected to it.
pub struct TestCloud {
    pub clock: ManualClock,
    pub cloud: Cloud,
    pub grpc_addr: SocketAddr,
    pub http_addr: SocketAddr,
    pub payment: PaymentServiceClient<Channel>,
    pub shopper: ShopperServiceClient<Channel>,
    pub catalog: CatalogServiceClient<Channel>,
    pub channel: Channel,
    pub database_url: String,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), omo_cloud::CloudError>>,
    _dir: Option<tempfile::TempDir>,
}

/// The time every test starts at (a step boundary plus a few seconds).
pub const START_UNIX: i64 = 1_767_225_605;

impl TestCloud {
    /// A cloud on `db` with default rules.
    pub async fn start(db: Db) -> TestCloud {
        Self::start_with(db, |_| {}).await
    }

    /// A cloud on `db` with rules adjusted by `tweak`.
    pub async fn start_with(db: Db, tweak: impl FnOnce(&mut CloudConfig)) -> TestCloud {
        let (database_url, dir) = match db {
            Db::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                (
                    format!("sqlite://{}", dir.path().join("cloud.db").display()),
                    Some(dir),
                )
            }
            Db::Postgres => (postgres::fresh_database().await, None),
        };
        Self::start_on(database_url, dir, tweak).await
    }

    /// A cloud on `db` serving gRPC over TLS as `tls` says (`channel` and the clients are
    /// then unusable: make TLS channels to `grpc_addr`).
    pub async fn start_tls(db: Db, tls: omo_cloud::config::TlsConfig) -> TestCloud {
        Self::start_with(db, |cfg| cfg.tls = Some(tls)).await
    }

    /// A cloud on an existing database (e.g. a second process on the same PostgreSQL).
    pub async fn start_on(
        database_url: String,
        dir: Option<tempfile::TempDir>,
        tweak: impl FnOnce(&mut CloudConfig),
    ) -> TestCloud {
        let mut config = CloudConfig {
            database_url: database_url.clone(),
            shutdown_grace_secs: 2,
            funding_token_sha256: Some(omo_cloud::identity::token_sha256(FUNDING_TOKEN)),
            ..CloudConfig::default()
        };
        tweak(&mut config);
        let tls = config.tls.is_some();
        let clock = ManualClock::at_unix(START_UNIX);
        let cloud = Cloud::open_with_clock(config, std::sync::Arc::new(clock.clone()))
            .await
            .expect("cloud opens");
        let grpc = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (grpc_addr, http_addr) = (grpc.local_addr().unwrap(), http.local_addr().unwrap());
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(cloud.clone().serve(grpc, http, shutdown.clone()));
        let endpoint = Channel::from_shared(format!("http://{grpc_addr}")).unwrap();
        let channel = if tls {
            // A TLS cloud: the test makes its own channels; this one is never used.
            endpoint.connect_lazy()
        } else {
            endpoint.connect().await.expect("connect")
        };
        TestCloud {
            clock,
            cloud,
            grpc_addr,
            http_addr,
            payment: PaymentServiceClient::new(channel.clone()),
            shopper: ShopperServiceClient::new(channel.clone()),
            catalog: CatalogServiceClient::new(channel.clone()),
            channel,
            database_url,
            shutdown,
            task,
            _dir: dir,
        }
    }

    /// Enroll an (empty) wallet, then fund it with `balance_fen` through the funding authority.
    pub async fn enroll(&mut self, balance_fen: i64) -> Shopper {
        let r = self
            .shopper
            .enroll(EnrollRequest {
                display_name: "Test shopper".into(),
                initial_balance_fen: 0,
            })
            .await
            .expect("enroll")
            .into_inner();
        let wallet = r.wallet.expect("wallet");
        let shopper = Shopper {
            wallet_id: wallet.wallet_id,
            secret: paycode::decode_secret(&r.secret_base32).expect("base32"),
        };
        if balance_fen > 0 {
            let id = format!("fixture-{}", shopper.wallet_id);
            self.fund(&shopper.wallet_id, balance_fen, &id)
                .await
                .expect("the funding authority tops the wallet up");
        }
        shopper
    }

    /// Top up a wallet as the funding authority, once per `top_up_id`.
    pub async fn fund(
        &mut self,
        wallet_id: &str,
        amount_fen: i64,
        top_up_id: &str,
    ) -> Result<Wallet, tonic::Status> {
        self.shopper
            .top_up(funding_request(TopUpRequest {
                wallet_id: wallet_id.into(),
                amount_fen,
                top_up_id: top_up_id.into(),
            }))
            .await
            .map(|r| r.into_inner().wallet.expect("wallet"))
    }

    /// The shopper's payment code now.
    pub fn code(&self, shopper: &Shopper) -> String {
        self.code_steps_ago(shopper, 0)
    }

    /// The shopper's payment code `steps` 30-second steps ago.
    pub fn code_steps_ago(&self, shopper: &Shopper, steps: i64) -> String {
        let t = self.clock_unix() - steps * 30;
        paycode::payment_code(
            &shopper.wallet_id,
            &shopper.secret,
            u64::try_from(t).unwrap(),
        )
    }

    /// The clock, as Unix seconds.
    pub fn clock_unix(&self) -> i64 {
        use omo_cloud::Clock;
        self.clock.now().timestamp()
    }

    /// Move to the next 30 s step, so the shopper's app shows a fresh code.
    pub fn next_step(&self) {
        self.clock.advance(Duration::seconds(30));
    }

    /// Authorize and return the payment (or the gRPC error).
    pub async fn authorize(
        &mut self,
        store: &str,
        order: &str,
        amount_fen: i64,
        code: &str,
    ) -> Result<Payment, tonic::Status> {
        self.payment
            .authorize(AuthorizeRequest {
                store_id: store.into(),
                order_id: order.into(),
                amount_fen,
                payment_code: code.into(),
                description: format!("Omo store {store}"),
                ..Default::default()
            })
            .await
            .map(|r| r.into_inner().payment.expect("payment"))
    }

    /// A wallet's balance.
    pub async fn balance(&mut self, shopper: &Shopper) -> i64 {
        self.shopper
            .get_wallet(shopper.request(GetWalletRequest {
                wallet_id: shopper.wallet_id.clone(),
            }))
            .await
            .expect("get wallet")
            .into_inner()
            .balance_fen
    }

    /// A store at `at` in the directory delivering within 3 km, milk (`MILK`, 12.90) in the
    /// catalog, and a shopper with `balance_fen` who places `orders` paid app orders of one milk
    /// each (`{prefix}-{n}`) for delivery 1.1 km away: every one PLACED.
    pub async fn placed_delivery_orders(
        &mut self,
        store_id: &str,
        at: (f64, f64),
        balance_fen: i64,
        prefix: &str,
        orders: usize,
    ) -> Shopper {
        use omo_proto::catalog::{Product, Unit, UpsertRequest};
        use omo_proto::shopper::{DeliveryLine, Dropoff, PlaceDeliveryOrderRequest};
        use omo_proto::store::StoreProfile;
        use omo_proto::store::store_directory_client::StoreDirectoryClient;
        StoreDirectoryClient::new(self.channel.clone())
            .announce(StoreProfile {
                store_id: store_id.into(),
                name: "Test store".into(),
                lat: at.0,
                lon: at.1,
                delivery_radius_m: 3000,
                announced_at: String::new(),
            })
            .await
            .unwrap();
        self.catalog
            .clone()
            .upsert(UpsertRequest {
                products: vec![Product {
                    gtin: MILK.into(),
                    name: "Milk 1L".into(),
                    price_fen: 12_90,
                    unit: Unit::Each as i32,
                    weight_g: 1030,
                    tolerance_g: 20,
                    ..Default::default()
                }],
                ..Default::default()
            })
            .await
            .unwrap();
        let who = self.enroll(balance_fen).await;
        for n in 0..orders {
            let placed = self
                .shopper
                .clone()
                .place_delivery_order(who.request(PlaceDeliveryOrderRequest {
                    wallet_id: who.wallet_id.clone(),
                    store_id: store_id.into(),
                    order_id: format!("{prefix}-{n}"),
                    lines: vec![DeliveryLine {
                        gtin: MILK.into(),
                        quantity: 1,
                        ..Default::default()
                    }],
                    purchase_order_id: String::new(),
                    dropoff: Some(Dropoff {
                        lat: at.0 + 0.01,
                        lon: at.1,
                        address: "1 Test Road".into(),
                    }),
                }))
                .await
                .unwrap()
                .into_inner();
            assert_eq!(placed.status, "PLACED");
        }
        who
    }

    /// Assert the ledger balances, then stop the cloud and wait for it to drain.
    pub async fn stop(self) {
        let report = self
            .cloud
            .db()
            .ledger_check()
            .await
            .expect("ledger balances");
        assert_eq!(
            report.wallet_total_fen + report.merchant_total_fen + funding(&self.cloud).await,
            0,
            "{report:?}"
        );
        self.shutdown.cancel();
        self.task
            .await
            .expect("cloud task")
            .expect("cloud stops cleanly");
    }
}

/// The funding account's balance (negative: what entered the system).
async fn funding(cloud: &Cloud) -> i64 {
    let (sum,): (i64,) = sqlx::query_as("SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM ledger_entries WHERE account = 'funding'")
        .fetch_one(cloud.db().pool())
        .await
        .unwrap();
    sum
}

/// Assert a payment's status (and decline reason).
pub fn assert_status(p: &Payment, status: PaymentStatus, reason: DeclineReason) {
    assert_eq!(
        (
            PaymentStatus::try_from(p.status),
            DeclineReason::try_from(p.decline_reason)
        ),
        (Ok(status), Ok(reason)),
        "payment {p:?}"
    );
}
