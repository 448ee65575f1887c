//! The shopper app's client of the cloud, shared by the `omo shopper` commands and the
//! end-to-end tests: one place that knows how the app talks to the cloud.
//!
//! | module | holds |
//! | --- | --- |
//! | [`wallet`] | [`AppWallet`]: the wallet the app keeps, its payment code, its app token; the wallet file |
//! | [`client`] | [`AppClient`]: the app's ShopperService calls (enroll, balance, receipts, deliver, confirm, ...) |
//!
//! Errors are [`AppError`]; the CLI words them as it always has.

pub mod client;
pub mod wallet;

pub use client::AppClient;
pub use wallet::{AppWallet, load_wallets, save_wallet};

/// What can go wrong between the app and the cloud, or with the app's wallet file.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No connection to the cloud.
    #[error("cannot reach the cloud at {url}")]
    Unreachable {
        url: String,
        #[source]
        source: tonic::transport::Error,
    },
    /// The cloud answered the call with an error (its message is shown as is).
    #[error("{}", .0.message())]
    Refused(tonic::Status),
    /// The wallet's secret is not base32 of a secret.
    #[error("wallet {wallet_id}: bad secret: {reason}")]
    BadSecret { wallet_id: String, reason: String },
    /// The cloud's answer lacks the wallet it should carry.
    #[error("the cloud returned no wallet")]
    NoWallet,
    /// The system clock is before 1970.
    #[error("clock before 1970")]
    Clock(#[source] std::time::SystemTimeError),
    /// The wallet file is not JSON of wallets.
    #[error("{path} is not a wallet file")]
    NotAWalletFile {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    /// The wallet file cannot be read.
    #[error("cannot read {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The wallet file's directory cannot be created.
    #[error("cannot create {path}")]
    CreateDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The wallet file cannot be written.
    #[error("cannot write {path}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// Another input/output error (the wallet file's mode).
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The wallets cannot be written as JSON.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

impl AppError {
    /// The cloud's status when it refused the call.
    pub fn status(&self) -> Option<&tonic::Status> {
        match self {
            AppError::Refused(status) => Some(status),
            _ => None,
        }
    }
}
