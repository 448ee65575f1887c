//! Omo cloud: wallets, barcode-pay payments, the catalog, and (soon) the GS1 Digital Link
//! resolver, served over gRPC (tonic) and HTTP (axum) from SQLite or PostgreSQL (sqlx).
//!
//! | module | holds |
//! | --- | --- |
//! | [`paycode`] | RFC 6238 TOTP and the 18-digit payment code (pure) |
//! | [`gtin`] | GTIN check digits and 14-digit normalisation (pure) |
//! | [`catalog_csv`] | the catalog CSV format `omo catalog import` reads (pure) |
//! | [`config`] | [`CloudConfig`]: TOML + `OMO_` environment, typos named with their file |
//! | [`clock`] | the [`Clock`] handed in, so tests set the time codes are checked at |
//! | [`db`] | the database: [`Database`], migrations, the double-entry [`db::ledger`] |
//! | [`wallets`] | enrolment (empty wallets), top-ups, freezing |
//! | [`funding`] | the funding authority: who may top up, and the funding account's audit |
//! | [`payments`] | Authorize / Query / Cancel / Refund / Confirm rules, one transaction each |
//! | [`catalog`] | products (member prices), promotions, coupon campaigns: one versioned stream |
//! | [`promotions_json`] | the promotions file `omo up` loads (pure) |
//! | [`coupons`] | claiming coupons online, redeeming them with a payment |
//! | [`delivery`] | the stores' positions, home-delivery orders from the app, forwarding them to stores |
//! | [`identity`] | which store a request may act for (store tokens or TLS client certificates) |
//! | [`grpc`] | the tonic services over the modules above |
//! | [`http`] | `/healthz`, `/metrics` |
//! | [`trace`] | the trace store (EPCIS events from every store over MQTT) and lots' journeys |
//! | [`resolver`] | the GS1 Digital Link resolver: a lot's journey as a page or EPCIS JSON |
//! | [`mqtt`] | the cloud's MQTT sessions: persistent, acknowledged after commit, TCP_NODELAY |
//! | [`metrics`] | counters and the log line of each telemetry event |
//! | [`error`] | [`CloudError`], [`ServiceError`] and its one mapping to `tonic::Status` |
//! | [`server`] | [`Cloud`] and [`serve`]: run everything until shutdown |
//!
//! Main decides, the library receives: the binary binds the listeners and owns the shutdown
//! token, then calls [`serve`] (or [`Cloud::open`] + [`Cloud::serve`]).

pub mod app;
pub mod catalog;
pub mod catalog_csv;
pub mod clock;
pub mod config;
pub mod context;
pub mod coupons;
pub mod db;
pub mod delivery;
pub mod error;
pub mod funding;
pub mod grpc;
pub mod gtin;
pub mod http;
pub mod identity;
pub mod metrics;
pub mod mqtt;
pub mod paycode;
pub mod payments;
pub mod promotions_json;
pub mod resolver;
pub mod server;
pub mod trace;
pub mod wallets;

pub use catalog_csv::{CatalogCsvError, parse_catalog_csv};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{CloudConfig, ConfigError};
pub use db::{Database, DbError, LedgerReport};
pub use error::{CloudError, ServiceError};
pub use promotions_json::{PromotionsJsonError, parse_promotions_json};
pub use server::{Cloud, serve};
