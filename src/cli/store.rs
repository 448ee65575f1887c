//! The arguments of the commands that run a store's parts: `omo up`, `omo cloud`, `omo edge`,
//! `omo broker` (and its bounds), and the hidden `omo gate-watchdog`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

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
    pub limits: LimitArgs,
}

/// The `omo broker` flags that override [`Limits::default`].
#[derive(Debug, Clone, Default, Args)]
pub struct LimitArgs {
    /// TCP connections at once [default: 256].
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// Sessions, connected or persistent and offline [default: 4096].
    #[arg(long, value_name = "N")]
    pub max_sessions: Option<usize>,
    /// Subscriptions per session [default: 1000].
    #[arg(long, value_name = "N")]
    pub max_subscriptions: Option<usize>,
    /// Largest packet read or sent, bytes [default: 1048576].
    #[arg(long, value_name = "BYTES")]
    pub max_packet_bytes: Option<usize>,
    /// Unacknowledged QoS 1 messages per client [default: 100].
    #[arg(long, value_name = "N")]
    pub max_inflight: Option<usize>,
    /// QoS 1 messages queued per session [default: 10000].
    #[arg(long, value_name = "N")]
    pub max_queued: Option<usize>,
    /// Bytes of QoS 1 messages held per session [default: 16 MiB].
    #[arg(long, value_name = "BYTES")]
    pub max_queued_bytes: Option<usize>,
    /// Bytes of QoS 1 messages held for all sessions [default: 256 MiB].
    #[arg(long, value_name = "BYTES")]
    pub max_queued_bytes_total: Option<usize>,
    /// Bytes waiting to be written to one client's socket [default: 4 MiB].
    #[arg(long, value_name = "BYTES")]
    pub max_outgoing_bytes: Option<usize>,
    /// Retained messages [default: 10000].
    #[arg(long, value_name = "N")]
    pub max_retained: Option<usize>,
    /// Bytes of all retained messages [default: 64 MiB].
    #[arg(long, value_name = "BYTES")]
    pub max_retained_bytes: Option<usize>,
}

#[derive(Debug, Args)]
pub struct GateWatchdogArgs {
    /// A simulated relay: the directory of its `value` and `pulses` files.
    #[arg(long, conflicts_with = "gpio")]
    pub pin_dir: Option<PathBuf>,
    /// A GPIO relay: its BCM pin number.
    #[arg(long)]
    pub gpio: Option<u8>,
    /// The GPIO relay is energised by a low level.
    #[arg(long, requires = "gpio")]
    pub active_low: bool,
}
