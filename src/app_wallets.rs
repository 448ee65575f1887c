//! The app's wallets as the CLI keeps them (`--wallets`, over [`omo_app_client`]), and the
//! cloud's refusals worded for a person. A leaf: `omo shopper`, the funding commands, the demo
//! shoppers and the manual lanes all build on it.

use std::path::Path;

pub use omo_app_client::AppWallet;
use omo_app_client::{AppClient, AppError};
use tonic::Code;

use crate::usage::UsageError;

/// The cloud's refusal worded as `{prefix}{message}`; any other error as it is.
pub(crate) fn refused(prefix: &str, error: AppError) -> anyhow::Error {
    match error {
        AppError::Refused(status) => anyhow::anyhow!("{prefix}{}", status.message()),
        other => other.into(),
    }
}

/// The wallet `wallet` as the app saved it in the wallet file `path`.
pub(crate) fn saved_wallet(path: &Path, wallet: &str) -> Result<AppWallet, anyhow::Error> {
    let mut wallets = omo_app_client::load_wallets(path)?;
    wallets.remove(wallet).ok_or_else(|| {
        UsageError(format!(
            "wallet {wallet} is not in {} (the app keeps its wallets there; enroll first)",
            path.display()
        ))
        .into()
    })
}

/// Enrolls a wallet with the cloud (`balance_fen` must be 0: the cloud refuses anything else).
pub async fn enroll(cloud: &str, name: &str, balance_fen: i64) -> anyhow::Result<AppWallet> {
    let mut client = AppClient::connect(cloud).await?;
    client
        .enroll(name, balance_fen)
        .await
        .map_err(|error| match error {
            AppError::Refused(s) if s.code() == Code::InvalidArgument => {
                UsageError(format!("enrolment refused: {}", s.message())).into()
            }
            other => refused("enrolment refused: ", other),
        })
}

/// The wallet's payment code right now.
pub fn current_code(wallet: &AppWallet) -> anyhow::Result<String> {
    Ok(wallet.current_code()?)
}

/// Adds a wallet to the app's file, written atomically (temp file, then rename), mode 0600.
pub fn save_wallet(path: &Path, wallet: &AppWallet) -> anyhow::Result<()> {
    Ok(omo_app_client::save_wallet(path, wallet)?)
}
