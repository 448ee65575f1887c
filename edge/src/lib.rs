//! Omo's store edge: the daemon that runs every checkout lane of one store.
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`config`] | the store's TOML config, `OMO_` overrides, validation with key and file in errors |
//! | [`lane`] | the lane state machine (pure), the basket, and the runner that wires a lane to IO |
//! | [`catalog`] / [`replica`] | the product catalog and its replication from the cloud |
//! | [`preflight`] | what a config needs from the world before a run: TLS files, certificates, password hashes |
//! | [`cloud`] | the one gRPC channel to the cloud, and how the store proves who it is (TLS, token) |
//! | [`payment`] | barcode pay from the lane's side: authorize, query, cancel, poll PENDING |
//! | [`pass_attach`] | each paid basket's exit pass handed to the cloud for the paying wallet's app |
//! | [`db`] | SQLite ([`db::Db`]): lane snapshots, transitions, sales, the outbox, the catalog cache |
//! | [`outbox`] | publishes committed messages to MQTT (QoS 1, in order, until acknowledged) |
//! | [`exit`] / [`exit_pass`] | store exits that let a signed, single-use exit pass through |
//! | [`epcis`] / [`topics`] | GS1 EPCIS 2.0 events, and the MQTT topic names |
//! | [`trace_import`] | a supplier's receiving file and transformations into EPCIS events in the outbox |
//! | [`device_health`] | each device's health on the board and, retained, on MQTT |
//! | [`board`] / [`api`] | the live view of lanes and devices, served over HTTP under `/api/` |
//! | [`context`] | what the parts of a running edge share |
//! | [`announce`] | telling the cloud where the store is and how far it delivers |
//! | [`delivery`] | delivery orders within the radius, rider dispatch over MQTT, the delivery board |
//! | [`demo_devices`] | the lane screen's devices panel in demo mode (`omo up --manual-lanes`) |
//! | [`web`] | operator login and sessions, the dashboard, the lane screens and their exit pass |
//!
//! The binary decides which devices each lane has (real or simulated) and hands them to [`run`].

pub mod announce;
pub mod api;
pub mod board;
pub mod catalog;
pub mod checkout;
pub mod cloud;
pub mod config;
pub mod context;
pub mod db;
pub mod delivery;
pub mod demo_devices;
pub mod device_health;
pub mod epcis;
pub mod exit;
pub mod exit_keys;
pub mod exit_pass;
pub mod lane;
pub mod outbox;
pub mod pass_attach;
pub mod payment;
pub mod preflight;
pub mod replica;
pub mod rider_app;
pub mod topics;
pub mod trace_import;
pub mod web;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn};

pub use checkout::runner::LaneDevices;
pub use cloud::CloudChannel;
pub use config::EdgeConfig;

use crate::context::EdgeContext;
use crate::outbox::OutboxSignal;
use crate::payment::PaymentClient;

/// Why the edge could not run.
#[derive(Debug, thiserror::Error)]
pub enum EdgeError {
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error("the connection to the cloud: {0}")]
    Cloud(#[from] cloud::CloudLinkError),
    #[error(transparent)]
    Mqtt(#[from] outbox::MqttSettingsError),
    #[error("HTTP server: {0}")]
    Http(std::io::Error),
    #[error("{0}")]
    ExitKeys(String),
    /// The config failed its [`preflight`] (TLS files, certificates, password hashes).
    #[error("{0}")]
    Preflight(String),
}

/// Runs the edge until `cancel`: every lane in `lanes` (by id, with its devices), the outbox
/// publisher, catalog replication, and the HTTP API on `http`.
pub async fn run(
    config: EdgeConfig,
    lanes: Vec<(String, LaneDevices)>,
    exits: Vec<(String, exit::ExitDevices)>,
    http: TcpListener,
    cancel: CancellationToken,
) -> Result<(), EdgeError> {
    run_with(config, lanes, exits, http, None, cancel).await
}

/// [`run`], with the simulated devices a person may drive from the lane screens (demo mode:
/// see [`demo_devices`]).
pub async fn run_with(
    config: EdgeConfig,
    lanes: Vec<(String, LaneDevices)>,
    exits: Vec<(String, exit::ExitDevices)>,
    http: TcpListener,
    demo_devices: Option<Arc<dyn demo_devices::DemoDevices>>,
    cancel: CancellationToken,
) -> Result<(), EdgeError> {
    preflight::check(&config).map_err(EdgeError::Preflight)?;
    let db = db::Db::open(&config.data_dir).await?;
    let weights = db.load_weights().await?;
    let exit_keys = exit_keys::ExitKeys::load(&config.exit_pass, db.exit_key().await?)
        .map_err(EdgeError::ExitKeys)?;
    let screen_secret = db.secret("screen_secret").await?;
    let sessions = Arc::new(web::Sessions::new(config.operators.clone()));
    let channel = cloud::connect(&config)?;
    let mqtt = outbox::mqtt_options(&config)?;
    let payments = PaymentClient::new(
        channel.clone(),
        config.store_id.clone(),
        config.payment.clone(),
    );
    let ctx = Arc::new(EdgeContext {
        config,
        db,
        outbox: OutboxSignal::default(),
        catalog: RwLock::default(),
        payments,
        board: board::Board::default(),
        weights: RwLock::new(weights),
        lanes: Default::default(),
        exit_keys,
        screen_secret,
        sessions,
        exits: Default::default(),
        demo_devices,
        shutdown: cancel.clone(),
    });

    let cached = replica::load_cached(&ctx).await?;
    let mut catalog_client =
        omo_proto::catalog::catalog_service_client::CatalogServiceClient::new(channel.clone());
    match replica::sync_once(&ctx, &mut catalog_client).await {
        Ok(changed) => info!(cached, changed, "catalog ready"),
        Err(error) => {
            warn!(cached, %error, "no catalog from the cloud at start; lanes use the cached catalog")
        }
    }

    let tasks = TaskTracker::new();
    tasks.spawn(outbox::run_publisher(
        ctx.db.clone(),
        ctx.outbox.clone(),
        mqtt,
        ctx.config.store_id.clone(),
        cancel.clone(),
    ));
    tasks.spawn(announce::run(
        ctx.config.clone(),
        channel.clone(),
        cancel.clone(),
    ));
    tasks.spawn(replica::run(
        ctx.clone(),
        channel,
        Duration::from_secs(5),
        cancel.clone(),
    ));
    for (lane_id, devices) in lanes {
        let ctx = ctx.clone();
        let cancel = cancel.clone();
        tasks.spawn(async move {
            if let Err(error) =
                checkout::runner::run_lane(ctx, lane_id.clone(), devices, cancel).await
            {
                error!(lane = %lane_id, %error, "lane stopped");
            }
        });
    }
    tasks.spawn(delivery::run(ctx.clone(), cancel.clone()));
    tasks.spawn(pass_attach::run(ctx.clone(), cancel.clone()));
    for (exit_id, devices) in exits {
        tasks.spawn(exit::run_exit(
            ctx.clone(),
            exit_id,
            devices,
            cancel.clone(),
        ));
    }
    tasks.close();

    info!(
        store = %ctx.config.store_id,
        http = %http.local_addr().map(|a| a.to_string()).unwrap_or_default(),
        "edge running"
    );
    let shutdown = cancel.clone();
    let routes = exit::routes()
        .merge(delivery::routes())
        .merge(demo_devices::routes())
        .with_state(ctx.clone());
    // The client's address is kept for the login rate limit (see `web::limit`).
    let mut app = api::router(ctx.clone()).merge(routes);
    match rider_app::RiderApp::new(&ctx.config.mqtt.url, cancel.clone()) {
        Ok(riders) => app = app.merge(rider_app::routes(riders)),
        Err(error) => warn!(%error, "the rider app does not run"),
    }
    let served = axum::serve(
        http,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move { shutdown.cancelled().await })
    .await;
    cancel.cancel();
    tasks.wait().await;
    served.map_err(EdgeError::Http)
}
