//! `omo shopper fund` and `omo shopper funding`: the funding authority's side of the shopper
//! service. A wallet opens empty; money enters it only by a TopUp carrying the funding
//! authority's token (`omo up` keeps its demo authority's token in `{data}/funding.token`).

use std::path::Path;

use anyhow::Context as _;
use omo_app_client::AppClient;
use omo_proto::shopper::Wallet;
use serde_json::json;

use crate::app_wallets::refused;
use crate::usage::UsageError;

/// The file `omo up` keeps its funding authority's token in, under its data directory.
pub const TOKEN_FILE: &str = "funding.token";

/// Reads the funding authority's token from `path` (surrounding whitespace ignored).
pub fn read_token(path: &Path) -> anyhow::Result<String> {
    let token = std::fs::read_to_string(path).map_err(|e| {
        UsageError(format!(
            "cannot read the funding authority's token from {}: {e} (omo up writes it to \
             {{data}}/{TOKEN_FILE}; pass --token-file)",
            path.display()
        ))
    })?;
    let token = token.trim().to_string();
    if token.is_empty() {
        return Err(UsageError(format!("{} is empty", path.display())).into());
    }
    Ok(token)
}

/// Makes a fresh funding token, writes it to `path` with mode 0600 (atomically), and returns it.
pub fn write_new_token(path: &Path) -> anyhow::Result<String> {
    use rand::distr::{Alphanumeric, SampleString};
    let token = Alphanumeric.sample_string(&mut rand::rng(), 40);
    let tmp = path.with_extension("token.tmp");
    let _ = std::fs::remove_file(&tmp);
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options
            .open(&tmp)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        file.write_all(token.as_bytes())?;
        file.write_all(b"\n")?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(token)
}

/// Tops up `wallet_id` with `amount_fen` as the funding authority holding `token`, once per
/// `top_up_id`.
pub async fn fund(
    cloud: &str,
    token: &str,
    wallet_id: &str,
    amount_fen: i64,
    top_up_id: &str,
) -> anyhow::Result<Wallet> {
    let mut client = AppClient::connect(cloud).await?;
    client
        .top_up(token, wallet_id, amount_fen, top_up_id)
        .await
        .map_err(|e| refused("top-up refused: ", e))
}

/// `omo shopper fund WALLET --amount-fen N [--top-up-id ID] [--cloud URL] [--token-file F]`.
pub async fn fund_command(
    wallet: &str,
    amount_fen: i64,
    top_up_id: Option<String>,
    cloud: &str,
    token_file: &Path,
) -> anyhow::Result<()> {
    let token = read_token(token_file)?;
    let top_up_id = top_up_id.unwrap_or_else(|| format!("cli-{}", uuid::Uuid::now_v7()));
    let wallet = fund(cloud, &token, wallet, amount_fen, &top_up_id).await?;
    println!(
        "{}",
        json!({ "wallet_id": wallet.wallet_id, "top_up_id": top_up_id, "amount_fen": amount_fen, "balance_fen": wallet.balance_fen })
    );
    Ok(())
}

/// `omo shopper funding [--after SEQ] [--cloud URL] [--token-file F]`: the funding account's
/// movements as JSON.
pub async fn list_command(after_seq: i64, cloud: &str, token_file: &Path) -> anyhow::Result<()> {
    let token = read_token(token_file)?;
    let mut client = AppClient::connect(cloud).await?;
    let response = client
        .funding_movements(&token, after_seq, 1000)
        .await
        .map_err(|e| refused("the cloud refused: ", e))?;
    println!(
        "{}",
        json!({
            "total_fen": response.total_fen,
            "movements": response.movements.iter().map(|m| json!({
                "seq": m.seq, "kind": m.kind, "ref_id": m.ref_id, "to": m.counter_account,
                "amount_fen": m.amount_fen, "at": m.at,
            })).collect::<Vec<_>>(),
        })
    );
    Ok(())
}
