//! The wallet as the phone app keeps it: its id, its secret (base32) and its name; the payment
//! code it shows, the app token it sends (`authorization: Bearer <token>`, asked of every
//! shopper call but Enroll), and the wallet file (a JSON object by wallet id, written atomically,
//! mode 0600).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::AppError;

/// A wallet as the phone app keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppWallet {
    pub wallet_id: String,
    pub secret_base32: String,
    pub display_name: String,
}

impl AppWallet {
    /// The wallet's secret, decoded.
    pub fn secret(&self) -> Result<Vec<u8>, AppError> {
        omo_cloud::paycode::decode_secret(&self.secret_base32).map_err(|e| AppError::BadSecret {
            wallet_id: self.wallet_id.clone(),
            reason: e.to_string(),
        })
    }

    /// `message` as the app sends it: with the wallet's app token.
    pub fn request<T>(&self, message: T) -> Result<tonic::Request<T>, AppError> {
        Ok(with_app_token(&self.secret()?, message))
    }

    /// The wallet's payment code right now.
    pub fn current_code(&self) -> Result<String, AppError> {
        code_now(&self.wallet_id, &self.secret()?)
    }
}

/// `message` with the app token of the wallet whose secret is `secret`.
pub fn with_app_token<T>(secret: &[u8], message: T) -> tonic::Request<T> {
    omo_cloud::identity::with_bearer(message, &omo_cloud::paycode::app_token(secret))
}

/// The payment code of wallet `wallet_id` (secret `secret`) right now.
pub fn code_now(wallet_id: &str, secret: &[u8]) -> Result<String, AppError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(AppError::Clock)?
        .as_secs();
    Ok(omo_cloud::paycode::payment_code(wallet_id, secret, now))
}

/// The wallets in the app's file `path` (none when there is no file yet).
pub fn load_wallets(path: &Path) -> Result<BTreeMap<String, AppWallet>, AppError> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).map_err(|source| AppError::NotAWalletFile {
            path: path.display().to_string(),
            source,
        }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(source) => Err(AppError::Read {
            path: path.display().to_string(),
            source,
        }),
    }
}

/// Adds a wallet to the app's file, written atomically (temp file, then rename), mode 0600.
pub fn save_wallet(path: &Path, wallet: &AppWallet) -> Result<(), AppError> {
    let mut wallets = load_wallets(path)?;
    wallets.insert(wallet.wallet_id.clone(), wallet.clone());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| AppError::CreateDir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&wallets)?).map_err(|source| {
        AppError::Write {
            path: tmp.display().to_string(),
            source,
        }
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
    }
    std::fs::rename(&tmp, path).map_err(|source| AppError::Write {
        path: path.display().to_string(),
        source,
    })?;
    Ok(())
}
