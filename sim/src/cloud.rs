//! The cloud, for real: `omo-cloud`'s payment service ([`PaymentApi`], the very adapter the gRPC
//! server runs) over its payment, wallet and ledger rules on an in-memory SQLite database, on a
//! [`ManualClock`] the simulation moves. Only the transport is missing: requests are handed to
//! the service directly, on a single-threaded runtime, one at a time.
//!
//! A crash drops the cloud's context (its service, metrics and pool handles); the restart builds
//! a new context on the same database, as a restarted process on the same file would. The
//! oracle reads (`status_of`, `wallet_books`, `unfinished`) look at the database directly and
//! never change it.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use omo_cloud::grpc::payment::PaymentApi;
use omo_cloud::identity::StoreAuth;
use omo_cloud::metrics::Metrics;
use omo_cloud::payments::Payments;
use omo_cloud::wallets::Wallets;
use omo_cloud::{CloudConfig, Database, ManualClock};
pub use omo_edge::payment::{Answer, Request as Rpc};
use omo_proto::payment::Payment;
use omo_proto::payment::payment_service_server::PaymentService;
use tokio::runtime::Runtime;
use tonic::{Code, Request};

use crate::report::Failure;

/// One enrolled wallet, as the shopper's app keeps it.
#[derive(Debug, Clone)]
pub struct AppWallet {
    pub wallet_id: String,
    pub secret: Vec<u8>,
}

/// The simulated cloud.
pub struct SimCloud {
    rt: Runtime,
    db: Database,
    clock: ManualClock,
    config: Arc<CloudConfig>,
    api: Option<PaymentApi>,
    payments: Option<Payments>,
    start: DateTime<Utc>,
    _file: ScratchDb,
}

/// The database file of one run, in the temporary folder (`synchronous = OFF`: it never waits for
/// the disk, as fast as `/dev/shm` measured, and safe where that is small), removed
/// with its WAL files on drop.
struct ScratchDb {
    path: std::path::PathBuf,
}

impl ScratchDb {
    fn new() -> Result<ScratchDb, Failure> {
        static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let dir = std::env::temp_dir();
        let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = dir.join(format!("omo-sim-{}-{run}.db", std::process::id()));
        let scratch = ScratchDb { path };
        scratch.remove();
        Ok(scratch)
    }

    fn url(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut name = self.path.clone().into_os_string();
            name.push(suffix);
            let _ = std::fs::remove_file(name);
        }
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        self.remove();
    }
}

impl SimCloud {
    /// A cloud on a fresh in-memory database, its clock at `start`.
    pub fn open(start: DateTime<Utc>) -> Result<SimCloud, Failure> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Failure::Setup(format!("runtime: {e}")))?;
        // The cloud refuses `sqlite::memory:` (not shared between its connections): a file on a
        // memory file system instead, removed when the run ends.
        let file = ScratchDb::new()?;
        let db = rt
            .block_on(Database::open(&file.url(), 1))
            .map_err(|e| Failure::Setup(format!("cloud database: {e}")))?;
        // The run's database dies with the run: no need to make its commits durable.
        rt.block_on(sqlx::query("PRAGMA synchronous = OFF").execute(db.pool()))
            .map_err(|e| Failure::Setup(format!("cloud database: {e}")))?;
        let clock = ManualClock::new(start);
        let mut cloud = SimCloud {
            rt,
            db,
            clock,
            // The defaults, but the sweep of overdue PENDING payments every 30 s instead of 5 s
            // (a query or confirmation closes an overdue payment itself; the sweep only tidies).
            config: Arc::new(CloudConfig {
                sweep_interval_secs: 30,
                ..CloudConfig::default()
            }),
            api: None,
            payments: None,
            start,
            _file: file,
        };
        cloud.restart();
        Ok(cloud)
    }

    /// The cloud's rules (time-outs, windows).
    pub fn config(&self) -> &CloudConfig {
        &self.config
    }

    /// Runs one of the cloud's futures to its end, on the cloud's runtime.
    pub(crate) fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.rt.block_on(future)
    }

    /// The cloud's database, for the oracle's reads.
    pub(crate) fn db(&self) -> &Database {
        &self.db
    }

    pub(crate) fn context(&self) -> omo_cloud::context::Context {
        omo_cloud::context::Context {
            db: self.db.clone(),
            clock: Arc::new(self.clock.clone()),
            config: self.config.clone(),
            metrics: Arc::new(Metrics::default()),
        }
    }

    /// Moves the cloud's clock to `now_ms` after the start.
    pub fn set_time(&self, now_ms: u64) {
        let ms = i64::try_from(now_ms).unwrap_or(i64::MAX);
        self.clock.set(self.start + Duration::milliseconds(ms));
    }

    /// Whether the cloud is running.
    pub fn up(&self) -> bool {
        self.api.is_some()
    }

    /// The process dies: its context is gone (the database stays).
    pub fn crash(&mut self) {
        self.api = None;
        self.payments = None;
    }

    /// A new process: a new context on the same database.
    pub fn restart(&mut self) {
        let ctx = self.context();
        let payments = Payments::new(ctx);
        self.api = Some(PaymentApi::new(
            payments.clone(),
            StoreAuth::from_config(&self.config),
        ));
        self.payments = Some(payments);
    }

    /// Serves one request (`Unavailable` while the cloud is down).
    pub fn handle(&self, rpc: &Rpc) -> Answer {
        let Some(api) = self.api.as_ref() else {
            return Err((Code::Unavailable, "connection refused".into()));
        };
        let answer = self.rt.block_on(async {
            match rpc.clone() {
                Rpc::Authorize(r) => api
                    .authorize(Request::new(r))
                    .await
                    .map(|r| r.into_inner().payment),
                Rpc::Query(r) => api
                    .query(Request::new(r))
                    .await
                    .map(|r| r.into_inner().payment),
                Rpc::Cancel(r) => api
                    .cancel(Request::new(r))
                    .await
                    .map(|r| r.into_inner().payment),
            }
        });
        answer.map_err(|status| (status.code(), status.message().to_string()))
    }

    /// The shopper approves or rejects a pending payment in the app (the app reaches the cloud
    /// on its own network; `None` while the cloud is down or the payment is unknown).
    pub fn confirm(&self, wallet_id: &str, payment_id: &str, approve: bool) -> Option<Payment> {
        let payments = self.payments.as_ref()?;
        self.rt
            .block_on(payments.confirm(wallet_id, payment_id, approve))
            .ok()
            .map(|row| omo_cloud::grpc::payment_to_proto(&row))
    }

    /// The periodic sweep of PENDING payments past their time-out.
    pub fn sweep(&self) -> u64 {
        let Some(payments) = self.payments.as_ref() else {
            return 0;
        };
        self.rt.block_on(payments.sweep_expired()).unwrap_or(0)
    }

    /// Enrols a wallet and funds it through the funding authority's top-up.
    pub fn enroll(&self, name: &str, balance_fen: i64) -> Result<AppWallet, Failure> {
        let wallets = Wallets::new(self.context());
        self.rt.block_on(async {
            let enrolled = wallets
                .enroll(name, 0)
                .await
                .map_err(|e| Failure::Setup(format!("enrol: {e}")))?;
            let id = enrolled.wallet.wallet_id.clone();
            if balance_fen > 0 {
                wallets
                    .top_up(&id, balance_fen, &format!("top-up-{name}"))
                    .await
                    .map_err(|e| Failure::Setup(format!("top up: {e}")))?;
            }
            let secret = omo_cloud::paycode::decode_secret(&enrolled.secret_base32)
                .map_err(|e| Failure::Setup(format!("secret: {e}")))?;
            Ok(AppWallet {
                wallet_id: id,
                secret,
            })
        })
    }

    /// The status of an order's payment, read from the database (`None`: no row).
    pub fn status_of(&self, store_id: &str, order_id: &str) -> Option<String> {
        self.rt
            .block_on(
                sqlx::query_scalar::<_, String>(
                    "SELECT status FROM payments WHERE store_id = $1 AND order_id = $2",
                )
                .bind(store_id)
                .bind(order_id)
                .fetch_optional(self.db.pool()),
            )
            .ok()
            .flatten()
    }

    /// A wallet's balance and the sum of its ledger account (one indexed read).
    pub fn wallet_books(&self, wallet_id: &str) -> Result<(i64, i64), String> {
        self.rt
            .block_on(
                sqlx::query_as::<_, (i64, i64)>(
                    "SELECT balance_fen, CAST(COALESCE((SELECT SUM(amount_fen) FROM ledger_entries \
                     WHERE account = $2), 0) AS BIGINT) FROM wallets WHERE wallet_id = $1",
                )
                .bind(wallet_id)
                .bind(omo_cloud::db::ledger::wallet_account(wallet_id))
                .fetch_one(self.db.pool()),
            )
            .map_err(|e| e.to_string())
    }

    /// The cloud's own proof of the books.
    pub fn ledger_check(&self) -> Result<omo_cloud::LedgerReport, String> {
        self.rt
            .block_on(self.db.ledger_check())
            .map_err(|e| e.to_string())
    }

    /// How many payments end in each status (declines by reason).
    pub fn payment_counts(&self) -> Result<Vec<(String, i64, i64)>, String> {
        self.rt
            .block_on(
                sqlx::query_as::<_, (String, i64, i64)>(
                    "SELECT status, decline_reason, CAST(COUNT(*) AS BIGINT) FROM payments \
                     GROUP BY status, decline_reason ORDER BY status, decline_reason",
                )
                .fetch_all(self.db.pool()),
            )
            .map_err(|e| e.to_string())
    }

    /// Every payment's order and status.
    pub fn all_payments(&self) -> Result<Vec<(String, String)>, String> {
        self.rt
            .block_on(
                sqlx::query_as::<_, (String, String)>(
                    "SELECT order_id, status FROM payments ORDER BY order_id",
                )
                .fetch_all(self.db.pool()),
            )
            .map_err(|e| e.to_string())
    }
}
