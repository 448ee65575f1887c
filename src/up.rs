//! `omo up`: a whole store on this machine. An MQTT broker (embedded unless `--mqtt`), the cloud
//! on SQLite under `--data`, the demo catalog, the edge with a simulated scanner, scale and gate
//! per lane (real bytes over pseudo-terminals), and simulated shoppers. Ctrl-C stops it cleanly.
//!
//! | module | holds |
//! | --- | --- |
//! | [`guard`] | the data folder's lock, every port checked up front, the bounded stop |
//! | [`ports`] | every listening port checked in one message |
//! | [`demo`] | the simulated shoppers that drive the demo lanes |
//! | [`manual_lanes`] | `--manual-lanes N`: the last N lanes left to a person |
//! | [`manual`] | the manual lanes' devices and what a person does at them |
//! | [`manual_socket`] | the manual lanes' 0600 Unix socket (`omo up` serves, `omo lane` calls) |

pub mod demo;
pub mod guard;
pub mod manual;
pub mod manual_lanes;
pub mod manual_socket;
mod ports;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use omo_cloud::config::CloudConfig;
use omo_devices::gate::{Gate, GateTiming, SimGate};
use omo_devices::scale::{ScaleConfig, ScaleProtocol};
use omo_devices::scanner::{Framing, ScannerConfig};
use omo_devices::sim::{ScaleSim, ScannerSim};
use omo_edge::LaneDevices;
use omo_edge::config::{EdgeConfig, GateConfig, LaneConfig, MqttConfig, PaymentConfig};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info};

use crate::cli::UpArgs;
use crate::services::{bind, shutdown_on_signal};
use demo::DemoLane;

/// The demo store's id.
const STORE_ID: &str = "SH-001";
/// The demo store's products.
const DEMO_CATALOG: &str = include_str!("../cloud/data/demo-catalog.csv");
/// The demo store's promotions and coupon campaigns.
const DEMO_PROMOTIONS: &str = include_str!("../cloud/data/demo-promotions.json");

pub async fn run(args: UpArgs) -> anyhow::Result<()> {
    manual_lanes::check(args.lanes, args.manual_lanes)?;
    let data = args.data.clone();
    // Private from the start: it will hold the store's secrets (see `data_lock`).
    crate::data_lock::private_folder(&data)?;
    let data = data.canonicalize().unwrap_or(data);
    let _locks = guard::lock_store(&data, args.database_url.as_deref())?;
    guard::check_ports(&args)?;
    let shutdown = shutdown_on_signal();
    let tasks = TaskTracker::new();

    // 1. The broker. When it checks passwords or an ACL, this process's own clients (cloud,
    // edge, riders) connect under the user names the shipped ACL grants, with fresh passwords
    // the broker learns in memory (the password file is not changed).
    let own = own_client_passwords();
    let mut named = false;
    // The broker stops last, once its clients here have ended.
    let broker_shutdown = CancellationToken::new();
    let mut broker = None;
    let mqtt_url = match &args.mqtt {
        Some(url) => url.clone(),
        None => {
            let listen = SocketAddr::from(([127, 0, 0, 1], args.mqtt_port));
            let mut access = omo_broker::Access::from_files(
                args.mqtt_passwords.as_deref(),
                args.mqtt_acl.as_deref(),
            )
            .map_err(crate::broker::usage)?;
            named = access.passwords.is_some() || access.acl.is_some();
            if let Some(passwords) = access.passwords.as_mut() {
                for (user, password) in &own {
                    passwords.insert(user, password);
                }
            }
            let state = omo_broker::State::from_file(
                &data.join("broker-state.json"),
                omo_broker::Limits::default(),
            )
            .map_err(crate::broker::usage)?;
            broker =
                Some(crate::broker::start(listen, access, state, broker_shutdown.clone()).await?);
            format!("mqtt://{listen}")
        }
    };
    let credentials = |user: &str| -> (Option<String>, Option<String>) {
        if named {
            (Some(user.to_string()), own.get(user).cloned())
        } else {
            (None, None)
        }
    };

    // 2. The cloud.
    // The demo's funding authority: a fresh token in {data}/funding.token (mode 0600); the cloud
    // knows only its SHA-256. Demo shoppers are funded through it, and so can a newcomer be.
    let funding_token_file = data.join(crate::funding::TOKEN_FILE);
    let funding_token = crate::funding::write_new_token(&funding_token_file)?;
    // The cloud's trace store and delivery relay use the same broker.
    let (mqtt_username, mqtt_password) = credentials("cloud");
    let cloud = CloudConfig {
        grpc_listen: SocketAddr::from(([127, 0, 0, 1], args.grpc_port)),
        http_listen: SocketAddr::from(([127, 0, 0, 1], args.cloud_http_port)),
        database_url: args
            .database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", data.join("cloud.db").display())),
        mqtt_url: Some(mqtt_url.clone()),
        mqtt_username,
        mqtt_password,
        funding_token_sha256: Some(omo_cloud::identity::token_sha256(&funding_token)),
        ..CloudConfig::default()
    };
    let grpc = bind(&cloud.grpc_listen.to_string()).await?;
    let http = bind(&cloud.http_listen.to_string()).await?;
    let cloud_url = format!("http://{}", cloud.grpc_listen);
    {
        let shutdown = shutdown.clone();
        tasks.spawn(async move {
            if let Err(error) = omo_cloud::serve(cloud, grpc, http, shutdown.clone()).await {
                error!(%error, "the cloud stopped");
                shutdown.cancel();
            }
        });
    }
    let products = omo_cloud::catalog_csv::parse_catalog_csv(DEMO_CATALOG.as_bytes())
        .context("the demo catalog")?;
    let (_, version) = retry(|| crate::tools::upsert_catalog(&cloud_url, products.clone())).await?;
    let (promotions, campaigns) =
        omo_cloud::parse_promotions_json(DEMO_PROMOTIONS).context("the demo promotions")?;
    crate::tools::upsert_offers(&cloud_url, promotions, campaigns).await?;
    info!(products = products.len(), version, "demo catalog loaded");

    // 3. Simulated devices, and the edge.
    let mut lanes = Vec::new();
    let mut lane_configs = Vec::new();
    let mut demo_lanes = Vec::new();
    // Each lane screen's setup link: the edge derives the same tokens from this secret.
    let screen_secret = omo_edge::db::Db::open(&data.join("edge"))
        .await
        .context("the edge's database")?
        .secret("screen_secret")
        .await
        .context("the lane screens' secret")?;
    let mut screen_links = String::new();
    for n in 1..=args.lanes {
        let id = n.to_string();
        let scanner = Arc::new(ScannerSim::new(Framing::CrLf).context("scanner simulator")?);
        let scale = Arc::new(ScaleSim::new(ScaleProtocol::Toledo8217).context("scale simulator")?);
        let gate = Arc::new(SimGate::new(
            format!("lane-{id}-gate"),
            GateTiming::default(),
        ));
        let mut scanner_config = ScannerConfig::new(scanner.port_path());
        scanner_config.name = Some(format!("lane-{id}-scanner"));
        let mut scale_config = ScaleConfig::new(scale.port_path(), ScaleProtocol::Toledo8217);
        scale_config.name = Some(format!("lane-{id}-scale"));
        lane_configs.push(LaneConfig {
            id: id.clone(),
            scanner: scanner_config.clone(),
            scale: Some(scale_config.clone()),
            gate: GateConfig::default(),
            camera: None,
        });
        let gate_dyn: Arc<dyn Gate> = gate.clone();
        lanes.push((
            id.clone(),
            LaneDevices {
                scanner: scanner_config,
                scale: Some(scale_config),
                camera: None,
                gate: gate_dyn,
            },
        ));
        let setup_path = omo_edge::web::screen::setup_path(&screen_secret, STORE_ID, &id);
        screen_links.push_str(&format!(
            "\n  lane {id} screen (set up once)  http://127.0.0.1:{}{setup_path}",
            args.http_port
        ));
        demo_lanes.push(DemoLane {
            screen_token: omo_edge::web::screen::setup_token(&screen_secret, STORE_ID, &id),
            id,
            scanner,
            scale,
            gate,
        });
    }
    let edge = EdgeConfig {
        store_id: STORE_ID.into(),
        store_name: "Omo Jing'an (demo)".into(),
        lat: 31.2304,
        lon: 121.4737,
        delivery_radius_m: 3000,
        cloud_url: cloud_url.clone(),
        cloud_token: None,
        cloud_token_file: None,
        cloud_tls: None,
        resolver_url: format!("http://127.0.0.1:{}", args.cloud_http_port),
        data_dir: data.join("edge"),
        http_listen: format!("127.0.0.1:{}", args.http_port),
        mqtt: {
            let (username, password) = credentials(&format!("edge-{STORE_ID}"));
            MqttConfig {
                url: mqtt_url.clone(),
                username,
                password,
                ..MqttConfig::default()
            }
        },
        payment: PaymentConfig::default(),
        variable_measure: Default::default(),
        weight_security: Default::default(),
        lanes: lane_configs,
        exits: Vec::new(),
        exit_pass: Default::default(),
        delivery: Default::default(),
        operators: omo_edge::web::demo_operators(),
    };
    edge.validate()
        .map_err(|e| anyhow::anyhow!("demo edge config: {e}"))?;
    let edge_http = bind(&edge.http_listen).await?;
    let manual = manual_lanes::take(&mut demo_lanes, args.manual_lanes, &products);
    let panel = manual_lanes::panel(&manual);
    {
        let shutdown = shutdown.clone();
        tasks.spawn(async move {
            if let Err(error) =
                omo_edge::run_with(edge, lanes, Vec::new(), edge_http, panel, shutdown.clone())
                    .await
            {
                error!(%error, "the edge stopped");
                shutdown.cancel();
            }
        });
    }

    // The last --manual-lanes lanes are left to a person (src/manual.rs).
    let manual_banner =
        manual_lanes::start(manual, &cloud_url, &funding_token, &data, &tasks, &shutdown).await;
    screen_links.push_str(&manual_banner);
    print_banner(&args, &mqtt_url, &data, &screen_links);

    // 4. Riders, and shoppers.
    tasks.spawn(crate::rider::run_simulated_riders(
        mqtt_url.clone(),
        31.2304,
        121.4737,
        RIDERS,
        if named { own.clone() } else { HashMap::new() },
        shutdown.clone(),
    ));
    if args.demo {
        for lane in demo_lanes {
            let cloud_url = cloud_url.clone();
            let store_id = STORE_ID.to_string();
            let edge_url = format!("http://127.0.0.1:{}", args.http_port);
            let shutdown = shutdown.clone();
            let products = products.clone();
            let every = Duration::from_secs(args.demo_every_secs.max(1));
            let funding_token = funding_token.clone();
            tasks.spawn(guard::or_stop(shutdown.clone(), async move {
                demo::run_shopper(
                    lane,
                    products,
                    demo::Cloud {
                        url: cloud_url,
                        funding_token,
                    },
                    edge_url,
                    store_id,
                    every,
                    shutdown,
                )
                .await;
            }));
        }
    } else {
        // Keep the simulators alive while the edge runs.
        tasks.spawn(hold(demo_lanes, shutdown.clone()));
    }

    tasks.close();
    shutdown.cancelled().await;
    guard::stop(&tasks).await;
    // The broker last, once its clients here have ended; its connections close at once.
    broker_shutdown.cancel();
    if let Some(broker) = broker
        && tokio::time::timeout(Duration::from_millis(400), broker.stopped())
            .await
            .is_err()
    {
        tracing::warn!("the embedded broker did not stop within 400 ms");
    }
    println!("Omo stopped.");
    Ok(())
}

/// How many simulated riders `omo up` runs.
const RIDERS: usize = 4;

/// Fresh random passwords for `omo up`'s own MQTT clients: `cloud`, `edge-SH-001` and
/// `rider-1` ... `rider-4`.
fn own_client_passwords() -> HashMap<String, String> {
    use rand::distr::{Alphanumeric, SampleString};
    let users = ["cloud".to_string(), format!("edge-{STORE_ID}")]
        .into_iter()
        .chain((1..=RIDERS).map(|n| format!("rider-{n}")));
    users
        .map(|user| (user, Alphanumeric.sample_string(&mut rand::rng(), 24)))
        .collect()
}

async fn hold(lanes: Vec<DemoLane>, shutdown: CancellationToken) {
    shutdown.cancelled().await;
    drop(lanes);
}

/// Retries a start-up call while the service behind it comes up.
async fn retry<T, F, Fut>(mut call: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let mut last = None;
    for _ in 0..50 {
        match call().await {
            Ok(value) => return Ok(value),
            Err(error) => last = Some(error),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(last.unwrap_or_else(|| anyhow::anyhow!("gave up")))
}

fn print_banner(args: &UpArgs, mqtt_url: &str, data: &std::path::Path, screen_links: &str) {
    let broker = if args.mqtt.is_some() {
        "external"
    } else {
        "embedded"
    };
    println!(
        "\nOmo store SH-001 is up with {lanes} lane(s).\n\
         \n  operator dashboard + API   http://127.0.0.1:{http}/   (/api/lanes, /api/devices, /healthz, /metrics)\
         \n  cloud gRPC                 127.0.0.1:{grpc}           (reflection + grpc.health.v1)\
         \n  cloud HTTP                 http://127.0.0.1:{chttp}/  (/healthz, /metrics, /01/{{gtin}} resolver)\
         \n  shopper's app (phone)      http://127.0.0.1:{chttp}/app/  (sign up; fund the 8-digit wallet it shows as below)\
         \n  MQTT broker ({broker})      {mqtt_url}    (omo/v1/stores/SH-001/#)\
         \n  data                       {data}\
         \n\n  operator logins (demo)     manager / manager, attendant / attendant\
         \n  lane screens               open each link below on its screen once (it keeps a cookie){screen_links}\
         \n  a shopper on the command line  omo shopper enroll --cloud http://127.0.0.1:{grpc}, then code / deliver\
         \n  fund a wallet              omo shopper fund WALLET --amount-fen 10000 --cloud http://127.0.0.1:{grpc} --token-file {funding}\
         \n  rider's app (phone)        http://127.0.0.1:{http}/rider/  ({rider_login})\
         \n  a rider on the command line  omo rider --id rider-9 --mqtt {mqtt_url}\
         \n\n{demo}Ctrl-C stops the store.\n",
        lanes = args.lanes,
        http = args.http_port,
        grpc = args.grpc_port,
        chttp = args.cloud_http_port,
        data = data.display(),
        funding = data.join(crate::funding::TOKEN_FILE).display(),
        rider_login = if args.mqtt_passwords.is_some() {
            "sign in with a rider id and its password in the broker's password file"
        } else {
            "demo: sign in as rider-9, any password; this broker checks none"
        },
        demo = if args.demo {
            "Simulated shoppers check out every few seconds (each checkout is logged in one line) and\n\
             some order home delivery in the app; four simulated riders take the orders.\n"
        } else {
            ""
        },
    );
}
