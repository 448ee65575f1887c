//! The cloud's configuration: a TOML file, overridden by `OMO_` environment variables.
//!
//! Unknown keys are errors that name the key and the file, so a typo never passes silently.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::{Deserialize, Serialize};

/// The largest amount (fen) one request may move or one config value may name: one billion
/// yuan, a sanity bound far above any basket.
pub const MAX_AMOUNT_FEN: i64 = 100_000_000_000;

/// The shortest `mqtt_share_group`: the name is a secret (see [`CloudConfig::mqtt_share_group`]).
pub const MIN_SHARE_GROUP_BYTES: usize = 16;

/// Everything the cloud can be told. All keys are optional; see [`CloudConfig::default_toml`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CloudConfig {
    /// Where the gRPC services listen (payments, catalog, shopper, health, reflection).
    pub grpc_listen: SocketAddr,
    /// Where HTTP listens: `/healthz`, `/metrics` and the GS1 Digital Link resolver.
    pub http_listen: SocketAddr,
    /// `sqlite://PATH` (created if missing, WAL) or `postgres://USER@HOST:PORT/DB`.
    pub database_url: String,
    /// Most connections the cloud opens to the database.
    pub database_max_connections: u32,
    /// A new wallet's limit: payments above it (fen) wait for the shopper's confirmation.
    pub no_confirm_limit_fen: i64,
    /// A payment pending the shopper's confirmation is declined after this many seconds.
    pub pending_timeout_secs: u64,
    /// A delivery order placed in the app that its store has not answered within this many
    /// seconds is refused and refunded (stores refuse requests older than 10 minutes
    /// themselves, so a late acceptance cannot follow).
    pub delivery_answer_timeout_secs: u64,
    /// A succeeded payment can be cancelled (refunded in full) within this many seconds.
    pub cancel_window_secs: u64,
    /// Wrong payment codes allowed per wallet within `wrong_code_window_secs`.
    pub wrong_code_limit: u32,
    /// The window of the wrong-code limit, in seconds.
    pub wrong_code_window_secs: u64,
    /// Most products one `GetChanges` answer carries.
    pub catalog_page_limit: u32,
    /// How often pending payments past their time-out are closed, in seconds.
    pub sweep_interval_secs: u64,
    /// On shutdown, how long in-flight requests may take, in seconds.
    pub shutdown_grace_secs: u64,
    /// Store authentication: store id → SHA-256 (lowercase hex) of that store's bearer token.
    /// Empty (the default): any caller may act for any store. Otherwise payment and catalog
    /// calls must carry `authorization: Bearer <token>` and may act only for the token's store.
    pub store_token_sha256: BTreeMap<String, String>,
    /// The administrator: SHA-256 (lowercase hex) of the bearer token that may change the
    /// catalog (products, promotions, coupon campaigns). None (the default): catalog changes are
    /// open while stores do not authenticate, and refused once they do (tokens or `client_ca`).
    pub admin_token_sha256: Option<String>,
    /// The funding authority: SHA-256 (lowercase hex) of the bearer token that may top up
    /// wallets (a bank or payment-partner callback; `omo up` makes one for its demo). None (the
    /// default): no top-up is accepted, so no money can enter a wallet. See [`crate::funding`].
    pub funding_token_sha256: Option<String>,
    /// The MQTT broker whose `omo/v1/stores/+/trace` topics feed the trace store and the
    /// resolver, and through which delivery orders placed in the app reach their store
    /// (`mqtt://host:port`). None (the default): neither runs.
    pub mqtt_url: Option<String>,
    /// The MQTT username and password of the cloud's clients, where the broker requires them.
    pub mqtt_username: Option<String>,
    /// See `mqtt_username`.
    pub mqtt_password: Option<String>,
    /// The prefix of the cloud's MQTT client ids (`{prefix}-trace`, `{prefix}-delivery`); the
    /// broker keeps each persistent session under its id. Give each cloud process its own when
    /// several serve one database. Default `omo-cloud`.
    pub mqtt_client_id: String,
    /// The shared-subscription group of the cloud's MQTT consumers (the trace store, the
    /// delivery relay): they subscribe as `$share/{group}/{filter}`, so each message goes to one
    /// cloud process of the group, not to each (MQTT 5 shared subscriptions, which mosquitto 2
    /// and the embedded broker grant to these MQTT 3.1.1 clients). Give every process of a chain
    /// the same group and its own `mqtt_client_id`. None (the default): plain subscriptions.
    /// The name is a secret: mosquitto's ACL does not check subscriptions, so a user who knows
    /// it can join the group, and the messages whose turn falls to it (which it may not read)
    /// are lost to the cloud. Hence at least [`MIN_SHARE_GROUP_BYTES`] bytes, random.
    pub mqtt_share_group: Option<String>,
    /// TLS for gRPC (rustls). Absent (the default): plain HTTP/2. See [`TlsConfig`].
    pub tls: Option<TlsConfig>,
}

/// `[tls]`: the cloud's certificate, and the CA that signs the edges' client certificates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM file: the cloud's certificate chain (leaf first).
    pub cert: PathBuf,
    /// PEM file: the cloud's private key.
    pub key: PathBuf,
    /// PEM file: the CA(s) that sign edge client certificates. When set, a store is whoever
    /// its certificate names (subject CN, or a DNS subjectAltName) and may act only for
    /// itself; payment and catalog calls without a certificate are UNAUTHENTICATED.
    #[serde(default)]
    pub client_ca: Option<PathBuf>,
    /// Refuse the TLS handshake itself without a client certificate. Default false, so the
    /// phone app's shopper calls (which carry none) share the port.
    #[serde(default)]
    pub require_client_cert: bool,
}

impl Default for CloudConfig {
    fn default() -> Self {
        Self {
            grpc_listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            http_listen: SocketAddr::from(([127, 0, 0, 1], 8081)),
            database_url: "sqlite://./omo-data/cloud.db".to_owned(),
            database_max_connections: 10,
            no_confirm_limit_fen: 100_00,
            pending_timeout_secs: 120,
            delivery_answer_timeout_secs: 900,
            cancel_window_secs: 600,
            wrong_code_limit: 5,
            wrong_code_window_secs: 300,
            catalog_page_limit: 1000,
            sweep_interval_secs: 5,
            shutdown_grace_secs: 10,
            store_token_sha256: BTreeMap::new(),
            admin_token_sha256: None,
            funding_token_sha256: None,
            mqtt_url: None,
            mqtt_username: None,
            mqtt_password: None,
            mqtt_client_id: "omo-cloud".to_owned(),
            mqtt_share_group: None,
            tls: None,
        }
    }
}

/// The keys environment variables may override (`OMO_GRPC_LISTEN`, ...). Other `OMO_` variables
/// belong to other components (the edge shares the prefix) and are left alone.
const KEYS: &[&str] = &[
    "grpc_listen",
    "http_listen",
    "database_url",
    "database_max_connections",
    "no_confirm_limit_fen",
    "pending_timeout_secs",
    "delivery_answer_timeout_secs",
    "cancel_window_secs",
    "wrong_code_limit",
    "wrong_code_window_secs",
    "catalog_page_limit",
    "sweep_interval_secs",
    "shutdown_grace_secs",
    "store_token_sha256",
    "admin_token_sha256",
    "funding_token_sha256",
    "mqtt_url",
    "mqtt_username",
    "mqtt_password",
    "mqtt_client_id",
    "mqtt_share_group",
    "tls",
];

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The named file does not exist or cannot be read.
    #[error("cannot read config file {}: {reason}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A key is unknown or has a value of the wrong kind.
    #[error("{origin}: key `{key}`: {message}")]
    Invalid {
        /// Where the bad value came from: a file path or the environment.
        origin: String,
        /// The offending key.
        key: String,
        /// What is wrong with it.
        message: String,
    },
}

impl CloudConfig {
    /// Load the defaults, then `path` (if given), then `OMO_<KEY>` and `OMO_CLOUD_<KEY>`
    /// environment variables (the latter win).
    pub fn load(path: Option<&Path>) -> Result<CloudConfig, ConfigError> {
        let mut figment = Figment::new();
        if let Some(path) = path {
            std::fs::metadata(path).map_err(|e| ConfigError::Unreadable {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
            figment = figment.merge(Toml::file_exact(path));
        }
        // `OMO_CLOUD_<KEY>` beats `OMO_<KEY>`, for a machine that runs an edge beside the cloud.
        // Variable names are compared without case (figment hands them over as written).
        let known = |k: &figment::value::UncasedStr| {
            KEYS.iter().any(|key| k.as_str().eq_ignore_ascii_case(key))
        };
        figment = figment
            .merge(Env::prefixed("OMO_").filter(known))
            .merge(Env::prefixed("OMO_CLOUD_").filter(known));
        let config: CloudConfig = figment.extract().map_err(|e| invalid(e, path))?;
        config.validate(path)?;
        Ok(config)
    }

    /// Parse a TOML document (no environment), e.g. for `validate` commands and tests.
    pub fn from_toml_str(toml: &str) -> Result<CloudConfig, ConfigError> {
        let config: CloudConfig = Figment::new()
            .merge(Toml::string(toml))
            .extract()
            .map_err(|e| invalid(e, None))?;
        config.validate(None)?;
        Ok(config)
    }

    /// Checks what serde cannot: a token hash that no token could ever match, and durations
    /// and sizes outside what the cloud can honour (0, or absurdly large), each named by key.
    fn validate(&self, path: Option<&Path>) -> Result<(), ConfigError> {
        let fail = |key: &str, message: String| ConfigError::Invalid {
            origin: env_source(key).unwrap_or_else(|| {
                path.map_or_else(|| "configuration".to_owned(), |p| p.display().to_string())
            }),
            key: key.to_owned(),
            message,
        };
        let hashes = [
            (
                "admin_token_sha256".to_owned(),
                self.admin_token_sha256.as_deref(),
            ),
            (
                "funding_token_sha256".to_owned(),
                self.funding_token_sha256.as_deref(),
            ),
        ];
        let stores = self
            .store_token_sha256
            .iter()
            .map(|(store, hash)| (format!("store_token_sha256.{store}"), Some(hash.as_str())));
        for (key, hash) in hashes.into_iter().chain(stores) {
            if let Some(hash) = hash {
                let hash = hash.trim();
                if hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Err(fail(&key, "must be the SHA-256 of the token as 64 hex digits, e.g. from `printf %s \"$TOKEN\" | sha256sum`".into()));
                }
            }
        }
        for (key, value, min, max) in self.ranges() {
            if value < min || value > max {
                return Err(fail(
                    key,
                    format!("{value} is out of range: must be between {min} and {max}"),
                ));
            }
        }
        if !["sqlite:", "postgres://", "postgresql://"]
            .iter()
            .any(|scheme| self.database_url.starts_with(scheme))
        {
            return Err(fail(
                "database_url",
                format!(
                    "{:?} is neither sqlite://PATH nor postgres://USER@HOST:PORT/DB",
                    self.database_url
                ),
            ));
        }
        if self.mqtt_client_id.is_empty() || self.mqtt_client_id.len() > 64 {
            return Err(fail("mqtt_client_id", "must be 1 to 64 bytes".into()));
        }
        if let Some(group) = &self.mqtt_share_group
            && (group.len() < MIN_SHARE_GROUP_BYTES
                || group.len() > 64
                || group.contains(['/', '+', '#'])
                || group.chars().any(char::is_control))
        {
            return Err(fail(
                "mqtt_share_group",
                format!(
                    "must be {MIN_SHARE_GROUP_BYTES} to 64 bytes without '/', '+', '#' or control \
                     characters, and kept secret like a password: on mosquitto any user who knows \
                     the name can join the group and silently take messages from it (e.g. \
                     omo-cloud-$(openssl rand -hex 8))"
                ),
            ));
        }
        Ok(())
    }

    /// Each bounded key, its value, and the smallest and largest value allowed.
    fn ranges(&self) -> [(&'static str, i128, i128, i128); 10] {
        const DAY: i128 = 86_400;
        [
            (
                "database_max_connections",
                self.database_max_connections.into(),
                1,
                1_000,
            ),
            (
                "no_confirm_limit_fen",
                self.no_confirm_limit_fen.into(),
                0,
                MAX_AMOUNT_FEN.into(),
            ),
            (
                "pending_timeout_secs",
                self.pending_timeout_secs.into(),
                1,
                DAY,
            ),
            (
                "delivery_answer_timeout_secs",
                self.delivery_answer_timeout_secs.into(),
                1,
                7 * DAY,
            ),
            (
                "cancel_window_secs",
                self.cancel_window_secs.into(),
                1,
                30 * DAY,
            ),
            ("wrong_code_limit", self.wrong_code_limit.into(), 1, 1_000),
            (
                "wrong_code_window_secs",
                self.wrong_code_window_secs.into(),
                1,
                DAY,
            ),
            (
                "catalog_page_limit",
                self.catalog_page_limit.into(),
                1,
                100_000,
            ),
            (
                "sweep_interval_secs",
                self.sweep_interval_secs.into(),
                1,
                3_600,
            ),
            (
                "shutdown_grace_secs",
                self.shutdown_grace_secs.into(),
                0,
                3_600,
            ),
        ]
    }

    /// The commented default configuration (what `generate-config` prints).
    pub fn default_toml() -> &'static str {
        include_str!("../config/cloud.toml")
    }
}

/// The environment variable that set top-level `key` (`OMO_CLOUD_<KEY>` wins over
/// `OMO_<KEY>`, as in [`CloudConfig::load`]), named as the origin of a bad value.
fn env_source(key: &str) -> Option<String> {
    let top = key.split('.').next().unwrap_or(key).to_ascii_uppercase();
    ["OMO_CLOUD_", "OMO_"]
        .iter()
        .map(|prefix| format!("{prefix}{top}"))
        .find(|var| std::env::var_os(var).is_some())
        .map(|var| format!("the environment variable {var}"))
}

fn invalid(error: figment::Error, path: Option<&Path>) -> ConfigError {
    let origin = error
        .metadata
        .as_ref()
        .map(|m| match &m.source {
            Some(figment::Source::File(file)) => file.display().to_string(),
            Some(other) => format!("{} ({other})", m.name),
            None => m.name.to_string(),
        })
        .or_else(|| path.map(|p| p.display().to_string()))
        .unwrap_or_else(|| "configuration".to_owned());
    let key = match &error.kind {
        figment::error::Kind::UnknownField(field, _) => {
            // figment's path may already end with the unknown field: name it once.
            let mut parts = error.path.clone();
            if parts.last() != Some(field) {
                parts.push(field.clone());
            }
            parts.join(".")
        }
        _ => error.path.join("."),
    };
    let message = match &error.kind {
        figment::error::Kind::UnknownField(field, expected) => format!(
            "unknown field `{field}`, expected one of {}",
            expected
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        kind => kind.to_string(),
    };
    ConfigError::Invalid {
        origin,
        key,
        message,
    }
}

#[cfg(test)]
mod tests;
