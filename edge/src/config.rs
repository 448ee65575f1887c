//! The edge's configuration: one TOML file per store, overridable by `OMO_` environment variables.
//!
//! Every field is documented in `edge/edge.example.toml`, which `omo edge generate-config` prints.
//! Unknown keys are errors, so a typo is reported with the key and the file instead of being
//! silently ignored.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use omo_devices::barcode::VariableMeasureFormats;
use omo_devices::scale::ScaleConfig;
use omo_devices::scanner::ScannerConfig;
use serde::{Deserialize, Serialize};

use crate::lane::WeightRules;

pub use exit::ExitConfig;

mod endpoints;
mod exit;
mod limits;
mod report;
#[cfg(test)]
mod tests;

/// The commented default configuration, printed by `omo edge generate-config`.
pub const EXAMPLE_TOML: &str = include_str!("../edge.example.toml");

/// A store's edge.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeConfig {
    /// The store this edge runs, e.g. `SH-001`. Used in MQTT topics and payment requests.
    pub store_id: String,
    /// A human name for the store, shown on the dashboard.
    #[serde(default)]
    pub store_name: String,
    /// The store's position on WGS 84, in degrees.
    pub lat: f64,
    /// The store's position on WGS 84, in degrees.
    pub lon: f64,
    /// Home delivery is offered within this distance of the store, in metres.
    #[serde(default = "default_delivery_radius_m")]
    pub delivery_radius_m: u32,
    /// The cloud's gRPC endpoint: `http://` or, with `[cloud_tls]`, `https://`.
    #[serde(default = "default_cloud_url")]
    pub cloud_url: String,
    /// The store's bearer token, when the cloud authenticates stores by token
    /// (`store_token_sha256`): sent as `authorization: Bearer <token>` on every call. Better kept
    /// out of this file: in `OMO_CLOUD_TOKEN`, or in a file named by `cloud_token_file`.
    #[serde(default)]
    pub cloud_token: Option<String>,
    /// A file holding the store's bearer token (surrounding whitespace ignored), read at start.
    /// At most one of `cloud_token` and `cloud_token_file`.
    #[serde(default)]
    pub cloud_token_file: Option<PathBuf>,
    /// TLS to the cloud (`[cloud_tls]`), with an `https://` cloud_url: the CA to trust and,
    /// when the cloud authenticates stores by certificate, the store's own certificate.
    #[serde(default)]
    pub cloud_tls: Option<CloudTlsConfig>,
    /// The cloud's GS1 Digital Link resolver, for the dashboard's trace look-up.
    #[serde(default = "default_resolver_url")]
    pub resolver_url: String,
    /// Where the edge keeps its SQLite database.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// The operator dashboard, JSON API, `/healthz` and `/metrics`.
    #[serde(default = "default_http_listen")]
    pub http_listen: String,
    /// The MQTT broker.
    #[serde(default)]
    pub mqtt: MqttConfig,
    /// Payment behaviour at the lanes.
    #[serde(default)]
    pub payment: PaymentConfig,
    /// In-store variable-measure barcode formats (fresh food labelled by the store's scales).
    #[serde(default)]
    pub variable_measure: VariableMeasureFormats,
    /// Home delivery dispatch (`[delivery]`).
    #[serde(default)]
    pub delivery: crate::delivery::config::DeliveryConfig,
    /// Weight security on the bagging scales.
    #[serde(default)]
    pub weight_security: WeightRules,
    /// The checkout lanes, each with its devices.
    #[serde(default, rename = "lane")]
    pub lanes: Vec<LaneConfig>,
    /// Store exits whose gates open for a paid basket's exit pass (`[[exit]]`).
    #[serde(default, rename = "exit")]
    pub exits: Vec<ExitConfig>,
    /// The keys exit passes are signed with, and their rotation (`[exit_pass]`).
    #[serde(default)]
    pub exit_pass: crate::exit_keys::ExitPassConfig,
    /// Who may log in to the operator dashboard (`[[operator]]` tables).
    #[serde(default, rename = "operator")]
    pub operators: Vec<OperatorConfig>,
}

/// `[cloud_tls]`: TLS to the cloud. Paths are PEM files, relative to the working directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudTlsConfig {
    /// The CA(s) that signed the cloud's certificate.
    pub ca: PathBuf,
    /// The store's client certificate, when the cloud authenticates stores by certificate
    /// (`[tls] client_ca`): its subject CN or a DNS subjectAltName is this store's `store_id`.
    #[serde(default)]
    pub cert: Option<PathBuf>,
    /// The private key of `cert`.
    #[serde(default)]
    pub key: Option<PathBuf>,
    /// The name the cloud's certificate must carry (also sent as SNI), when it is not
    /// cloud_url's host.
    #[serde(default)]
    pub domain: Option<String>,
}

/// One operator who may log in to the dashboard.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorConfig {
    /// The login name, recorded with every action the operator takes.
    pub name: String,
    /// `attendant` (clear interventions, void items) or `manager` (also open gates, take lanes out
    /// of service, override prices).
    pub role: crate::lane::Role,
    /// The password as an Argon2 PHC string (`$argon2id$v=19$...`): `omo edge hash-password`
    /// makes one.
    pub password_hash: String,
}

/// The broker the edge publishes to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    /// `mqtt://host:port`.
    #[serde(default = "default_mqtt_url")]
    pub url: String,
    /// Broker credentials, if the broker requires them.
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// The MQTT client id; defaults to `omo-edge-{store_id}`. Keep it stable: the broker keeps the
    /// edge's persistent session under it.
    #[serde(default)]
    pub client_id: Option<String>,
}

/// How a lane takes payment.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentConfig {
    /// An Authorize or Query that takes longer is treated as "unknown" and resolved by Query.
    #[serde(default = "default_rpc_timeout_ms")]
    pub rpc_timeout_ms: u64,
    /// How often a PENDING payment is queried while the shopper confirms in the app.
    #[serde(default = "default_poll_ms")]
    pub pending_poll_ms: u64,
    /// After this long without the shopper's confirmation the lane cancels the payment.
    #[serde(default = "default_pending_give_up_secs")]
    pub pending_give_up_secs: u64,
}

/// One checkout lane and its devices.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaneConfig {
    /// The lane's id, unique in the store (`1`, `2`, ...). Used in topics and URLs.
    pub id: String,
    /// The lane's barcode scanner (also reads the shopper's payment code).
    pub scanner: ScannerConfig,
    /// The bagging scale, if the lane has one.
    #[serde(default)]
    pub scale: Option<ScaleConfig>,
    /// The exit gate.
    #[serde(default)]
    pub gate: GateConfig,
    /// A camera that reads QR codes (the shopper's payment code on a phone) like a scanner
    /// (needs the `camera` build feature; without it the camera reports a fault).
    #[serde(default)]
    pub camera: Option<omo_devices::camera::CameraConfig>,
}

/// Which gate driver a lane uses.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateConfig {
    /// `sim` (a simulated gate, for demos and tests) or `rppal` (GPIO on a Raspberry Pi).
    #[serde(default = "default_gate_driver")]
    pub driver: GateDriver,
    /// The GPIO wiring (`rppal` only): `[lane.gate.gpio]` with `relay_pin`, `beam_pin`,
    /// `fire_alarm_pin`, active levels, relay pulse and beam debounce (BCM pin numbers).
    #[serde(default)]
    pub gpio: Option<omo_devices::gate::RppalGateConfig>,
    /// How long the gate stays open for one passage, in milliseconds.
    #[serde(default = "default_open_ms")]
    pub open_ms: u64,
    /// `sim` only: how long the simulated relay is energised for one opening, in milliseconds
    /// (the `rppal` driver's pulse is `[lane.gate.gpio] pulse_ms`).
    #[serde(default = "default_pulse_ms")]
    pub pulse_ms: u64,
}

/// The gate drivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GateDriver {
    Sim,
    Rppal,
}

/// A configuration that could not be loaded: the message names the file and the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config in {path}: {message}")]
    Invalid { path: PathBuf, message: String },
    /// The bad value came from an environment variable, not from the file.
    #[error("invalid setting in the environment variable {var} (over {path}): {message}")]
    Env {
        var: String,
        path: PathBuf,
        message: String,
    },
}

impl ConfigError {
    /// A check's message about the config loaded from `path`: a value set by `OMO_*` is blamed
    /// on its variable, not on the file.
    pub fn refused(message: String, path: &Path) -> ConfigError {
        match report::key_of(&message).and_then(report::env_source) {
            Some(var) => ConfigError::Env {
                var,
                path: path.to_path_buf(),
                message,
            },
            None => ConfigError::Invalid {
                path: path.to_path_buf(),
                message,
            },
        }
    }
}

impl EdgeConfig {
    /// Loads `path`, then applies `OMO_*` environment overrides (`OMO_MQTT__URL` for `mqtt.url`).
    pub fn load(path: &Path) -> Result<EdgeConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml_str(&text, path)
    }

    /// Parses a config from TOML text; `path` is only used in error messages.
    pub fn from_toml_str(text: &str, path: &Path) -> Result<EdgeConfig, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        // Parse with `toml` first: its errors carry line and column.
        let table = toml::from_str::<toml::Table>(text).map_err(|e| invalid(e.to_string()))?;
        let figment = Figment::new()
            .merge(Toml::string(text))
            .merge(Env::prefixed("OMO_").split("__").only(report::ENV_KEYS));
        let config: EdgeConfig = figment.extract().map_err(|e| {
            invalid(
                e.into_iter()
                    .map(|e| report::describe(&e, &table))
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        config
            .validate()
            .map_err(|message| ConfigError::refused(message, path))?;
        Ok(config)
    }

    /// Checks what serde cannot, on the data alone: unique lane ids, a usable store id, sane
    /// coordinates, every duration, size and count within its bounds (`limits`), exits naming
    /// configured lanes, unique operators. What needs files (TLS, certificates) or hashing
    /// (password hashes) is [`crate::preflight`]'s. Never panics.
    pub fn validate(&self) -> Result<(), String> {
        if self.store_id.is_empty()
            || !self
                .store_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "key `store_id`: {:?} must be non-empty letters, digits, '-' or '_' (it is part of MQTT topics)",
                self.store_id
            ));
        }
        if !(-90.0..=90.0).contains(&self.lat) || !(-180.0..=180.0).contains(&self.lon) {
            return Err(format!(
                "keys `lat`/`lon`: ({}, {}) is not a position on earth",
                self.lat, self.lon
            ));
        }
        limits::check(self)?;
        endpoints::check(self)?;
        let mut seen = std::collections::HashSet::new();
        for lane in &self.lanes {
            if lane.id.is_empty()
                || !lane
                    .id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(format!(
                    "key `lane.id`: {:?} must be non-empty letters, digits, '-' or '_'",
                    lane.id
                ));
            }
            if !seen.insert(&lane.id) {
                return Err(format!("key `lane.id`: lane {:?} appears twice", lane.id));
            }
            if lane.gate.driver == GateDriver::Rppal && lane.gate.gpio.is_none() {
                return Err(format!(
                    "key `lane.gate.gpio`: lane {:?} uses driver \"rppal\" but has no [lane.gate.gpio] wiring",
                    lane.id
                ));
            }
        }
        self.exit_pass.validate()?;
        exit::validate(&self.exits, &self.lanes)?;
        let mut names = std::collections::HashSet::new();
        for operator in &self.operators {
            if operator.name.trim().is_empty() {
                return Err("key `operator.name`: an operator needs a name".into());
            }
            if !names.insert(&operator.name) {
                return Err(format!(
                    "key `operator.name`: operator {:?} appears twice",
                    operator.name
                ));
            }
        }
        Ok(())
    }

    /// The MQTT client id, stable per store.
    pub fn mqtt_client_id(&self) -> String {
        self.mqtt
            .client_id
            .clone()
            .unwrap_or_else(|| format!("omo-edge-{}", self.store_id))
    }
}

fn default_delivery_radius_m() -> u32 {
    3000
}
fn default_cloud_url() -> String {
    "http://127.0.0.1:50051".into()
}
fn default_resolver_url() -> String {
    "http://127.0.0.1:8081".into()
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("./omo-data/edge")
}
fn default_http_listen() -> String {
    "127.0.0.1:8080".into()
}
fn default_mqtt_url() -> String {
    "mqtt://127.0.0.1:1883".into()
}
fn default_rpc_timeout_ms() -> u64 {
    5_000
}
fn default_poll_ms() -> u64 {
    1_000
}
fn default_pending_give_up_secs() -> u64 {
    120
}
fn default_gate_driver() -> GateDriver {
    GateDriver::Sim
}
fn default_open_ms() -> u64 {
    5_000
}
fn default_pulse_ms() -> u64 {
    500
}

impl Default for MqttConfig {
    fn default() -> Self {
        MqttConfig {
            url: default_mqtt_url(),
            username: None,
            password: None,
            client_id: None,
        }
    }
}

impl Default for PaymentConfig {
    fn default() -> Self {
        PaymentConfig {
            rpc_timeout_ms: default_rpc_timeout_ms(),
            pending_poll_ms: default_poll_ms(),
            pending_give_up_secs: default_pending_give_up_secs(),
        }
    }
}

impl Default for GateConfig {
    fn default() -> Self {
        GateConfig {
            driver: GateDriver::Sim,
            gpio: None,
            open_ms: default_open_ms(),
            pulse_ms: default_pulse_ms(),
        }
    }
}
