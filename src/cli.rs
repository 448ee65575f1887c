//! The `omo` command line, as CONTRACT.md fixes it (and a few documented extensions).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Omo: unmanned-checkout supermarkets, from scanner to gate.
#[derive(Debug, Parser)]
#[command(name = "omo", version, about)]
pub struct Cli {
    /// More logging (-v debug, -vv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a whole store on this machine: broker, cloud, edge, simulated devices and shoppers.
    Up(UpArgs),
    /// Run the cloud alone.
    Cloud(CloudArgs),
    /// Run one store's edge alone (or validate its config, or print a default one).
    Edge(EdgeArgs),
    /// Run the embedded MQTT broker alone.
    Broker(BrokerArgs),
    /// Manage the cloud's product catalog.
    Catalog(CatalogArgs),
    /// Parse one scan and print it as JSON.
    Barcode(BarcodeArgs),
    /// Read a serial barcode scanner and print each scan as one JSON line.
    Scan(ScanArgs),
    /// Read one stable weight from a serial scale and print it as JSON.
    Weigh(WeighArgs),
    /// What the shopper's phone app does: enroll a wallet, show its payment code.
    Shopper(ShopperArgs),
    /// Be the shopper at a manual lane of `omo up --manual-lanes N`: scan, weigh, bag, pass.
    Lane(crate::lane_cli::LaneArgs),
    /// A rider's client: receive dispatch orders, accept, report progress.
    Rider(crate::rider::RiderArgs),
    /// Look up a product's origin from its QR code (GS1 Digital Link), or record a lot's life at the edge.
    Trace(crate::trace_cli::TraceArgs),
    /// Make the QR code (PNG or SVG) of a lot's GS1 Digital Link.
    Label(crate::trace_cli::LabelArgs),
    /// Internal: the relay watchdog `omo edge` starts for each gate (docs/GATE-SAFETY.md).
    #[command(hide = true)]
    GateWatchdog(crate::gate_watchdog::GateWatchdogArgs),
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Checkout lanes to simulate.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub lanes: u16,
    /// The last N lanes are left to a person: no simulated shopper drives them; their devices
    /// take input from `omo lane scan|weigh|bag|pass` (and the lane screen's devices panel).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=64))]
    pub manual_lanes: u16,
    /// Where the store keeps its data (cloud and edge databases).
    #[arg(long, default_value = "./omo-data")]
    pub data: PathBuf,
    /// Use this MQTT broker instead of the embedded one (mqtt://host:port).
    #[arg(long)]
    pub mqtt: Option<String>,
    /// Use this database for the cloud instead of SQLite under --data (sqlite:// or postgres://).
    #[arg(long)]
    pub database_url: Option<String>,
    /// Simulated shoppers check out at every lane (on by default; --demo=false to turn off).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub demo: bool,
    /// Seconds between two simulated checkouts at a lane (about).
    #[arg(long, default_value_t = 4)]
    pub demo_every_secs: u64,
    /// Port of the embedded MQTT broker.
    #[arg(long, default_value_t = 1883)]
    pub mqtt_port: u16,
    /// mosquitto password file for the embedded broker (default: anonymous access).
    #[arg(long)]
    pub mqtt_passwords: Option<PathBuf>,
    /// mosquitto ACL file for the embedded broker (default: no ACL).
    #[arg(long)]
    pub mqtt_acl: Option<PathBuf>,
    /// Port of the cloud's gRPC server.
    #[arg(long, default_value_t = 50051)]
    pub grpc_port: u16,
    /// Port of the cloud's HTTP server (resolver, /healthz, /metrics).
    #[arg(long, default_value_t = 8081)]
    pub cloud_http_port: u16,
    /// Port of the edge's HTTP server (dashboard, API, /healthz, /metrics).
    #[arg(long, default_value_t = 8080)]
    pub http_port: u16,
}

#[derive(Debug, Args)]
pub struct CloudArgs {
    /// The cloud's TOML config (see `omo cloud --print-config`).
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Print a commented default config and exit.
    #[arg(long)]
    pub print_config: bool,
    /// Check the config as start would (keys, values, listen addresses) and exit: 0 if valid,
    /// 64 if not.
    #[arg(long)]
    pub check: bool,
    /// Allow a non-loopback grpc_listen without store authentication (development only: any
    /// caller that reaches the port may then act for any store). Without it that is refused
    /// with exit status 64.
    #[arg(long)]
    pub insecure_dev: bool,
}

#[derive(Debug, Args)]
pub struct EdgeArgs {
    #[command(subcommand)]
    pub action: Option<EdgeAction>,
    /// The store's TOML config.
    #[arg(long, short, global = true)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum EdgeAction {
    /// Check a config and exit (0 if valid, 64 with the key and file if not).
    Validate,
    /// Print a commented default config.
    GenerateConfig,
    /// Read an operator's password on standard input and print its Argon2 hash for the
    /// `password_hash` of an `[[operator]]` in the config.
    HashPassword,
}

#[derive(Debug, Args)]
pub struct BrokerArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:1883")]
    pub listen: String,
    /// mosquitto password file (`mosquitto_passwd`); clients must log in. Default: anonymous.
    #[arg(long)]
    pub passwords: Option<PathBuf>,
    /// mosquitto ACL file (e.g. deploy/mosquitto/acl). Default: everyone reads and writes all.
    #[arg(long)]
    pub acl: Option<PathBuf>,
    /// Keep persistent sessions and retained messages in this file, so they outlive a restart
    /// (written within half a second of each change). Default: in memory only.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Bounds on connections, sessions, packets, queues and retained messages.
    #[command(flatten)]
    pub limits: crate::broker::LimitArgs,
}

#[derive(Debug, Args)]
pub struct CatalogArgs {
    #[command(subcommand)]
    pub action: CatalogAction,
}

#[derive(Debug, Subcommand)]
pub enum CatalogAction {
    /// Load products from a CSV file (columns gtin,name,price_fen,unit,weight_g,tolerance_g[,min_age,origin,plu]).
    Import {
        file: PathBuf,
        /// The cloud's gRPC endpoint (https:// needs --ca).
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        cloud: String,
        /// The administrator's token (the cloud's `admin_token_sha256`), sent as
        /// `authorization: Bearer <token>`.
        #[arg(long, env = "OMO_ADMIN_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// PEM file: the CA that signed the cloud's certificate, for an https:// cloud.
        #[arg(long)]
        ca: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct BarcodeArgs {
    /// The scan, with or without an AIM symbology prefix (`<GS>` may stand for the GS character).
    pub data: String,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The scanner's serial port.
    #[arg(long)]
    pub port: String,
    #[arg(long, default_value_t = 9600)]
    pub baud: u32,
}

#[derive(Debug, Args)]
pub struct WeighArgs {
    /// The scale's serial port.
    #[arg(long)]
    pub port: String,
    /// `toledo8217` or `mt-sics`.
    #[arg(long)]
    pub protocol: String,
    #[arg(long, default_value_t = 9600)]
    pub baud: u32,
    /// Give up after this many seconds without a stable weight.
    #[arg(long, default_value_t = 10)]
    pub timeout_secs: u64,
}

#[derive(Debug, Args)]
pub struct ShopperArgs {
    #[command(subcommand)]
    pub action: ShopperAction,
    /// Where the app keeps its wallets and their secrets.
    #[arg(long, global = true, default_value = "./omo-data/shopper/wallets.json")]
    pub wallets: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum ShopperAction {
    /// Enroll a new, empty wallet with the cloud and keep its secret (fund it with `fund`).
    Enroll {
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        cloud: String,
        /// The name on the wallet.
        #[arg(long, default_value = "Shopper")]
        name: String,
        /// Must be 0: a wallet opens empty (the cloud refuses anything else). Kept so old
        /// scripts get a clear refusal; fund the wallet with `omo shopper fund`.
        #[arg(long, default_value_t = 0, hide = true)]
        balance_fen: i64,
    },
    /// As the funding authority, top up a wallet (money enters wallets only this way).
    Fund {
        /// The 8-digit wallet number.
        wallet: String,
        /// How much, in fen (1 yuan = 100 fen).
        #[arg(long)]
        amount_fen: i64,
        /// The top-up's idempotency key (run again with it and nothing is credited twice).
        /// Default: a new one.
        #[arg(long)]
        top_up_id: Option<String>,
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        cloud: String,
        /// The file holding the funding authority's token (`omo up` writes {data}/funding.token).
        #[arg(long, default_value = "./omo-data/funding.token")]
        token_file: PathBuf,
    },
    /// As the funding authority, list the funding account's movements (JSON), oldest first.
    Funding {
        /// Only movements after this sequence number.
        #[arg(long, default_value_t = 0)]
        after: i64,
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        cloud: String,
        #[arg(long, default_value = "./omo-data/funding.token")]
        token_file: PathBuf,
    },
    /// Print the wallet's current payment code (18 digits).
    Code {
        /// The 8-digit wallet number.
        wallet: String,
    },
    /// Show the wallet's balance.
    Balance {
        wallet: String,
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        cloud: String,
    },
    /// Keep the wallet's delivery address (where deliveries go unless they name one, e.g. a
    /// delivery asked for at a lane).
    Address {
        wallet: String,
        #[arg(long, allow_negative_numbers = true)]
        lat: f64,
        #[arg(long, allow_negative_numbers = true)]
        lon: f64,
        #[arg(long)]
        address: String,
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        cloud: String,
    },
    /// Confirm a PENDING payment in the app ("confirm the payment in your app" at the lane);
    /// without PAYMENT_ID, list the wallet's PENDING payments.
    Confirm {
        wallet: String,
        payment_id: Option<String>,
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        cloud: String,
    },
    /// Reject a PENDING payment in the app; without PAYMENT_ID, list the PENDING payments.
    Reject {
        wallet: String,
        payment_id: Option<String>,
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        cloud: String,
    },
    /// Show a delivery order as the cloud follows it: status (ACCEPTED, PICKED_UP, DELIVERED,
    /// ...), rider, ETA, picked-up and delivered times, as JSON.
    Delivery {
        wallet: String,
        order_id: String,
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        cloud: String,
    },
    /// List the wallet's receipts (payments at lanes and app orders), newest first, as JSON.
    Receipts {
        wallet: String,
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        cloud: String,
    },
    /// Order home delivery from a store: goods (`--item GTIN` or `GTINxQTY`, repeatable), or a
    /// basket paid at one of its lanes (`--purchase ORDER_ID`, from `receipts`). Prints the
    /// order as JSON; exits 3 when the drop-off is beyond the store's delivery radius.
    Deliver {
        wallet: String,
        #[arg(long, default_value = "SH-001")]
        store: String,
        /// Drop-off latitude, WGS 84 degrees (with --lon; without both: the wallet's address).
        #[arg(long, allow_negative_numbers = true, requires = "lon")]
        lat: Option<f64>,
        /// Drop-off longitude, WGS 84 degrees.
        #[arg(long, allow_negative_numbers = true, requires = "lat")]
        lon: Option<f64>,
        #[arg(long, default_value = "")]
        address: String,
        #[arg(long = "item")]
        items: Vec<String>,
        #[arg(long)]
        purchase: Option<String>,
        /// The order's id (the idempotency key: run again with it to see the order as it
        /// stands). Default: a new one.
        #[arg(long)]
        order_id: Option<String>,
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        cloud: String,
    },
}
